"""The engine at its edges: one study with Knapp-Hartung, input metafor refuses, and memory
that grows linearly with the number of studies."""

from __future__ import annotations

import json
import math
import tracemalloc

import numpy as np
import pytest

from duiding.errors import ModelError
from duiding.meta import rma


def test_k1_with_knapp_hartung_or_adhoc_switches_to_z():
    for test in ("knha", "adhoc"):
        r = rma([0.42], [0.05], test=test)
        assert r.test_used == "z" and math.isfinite(r.ci_low) and r.se == pytest.approx(math.sqrt(0.05))


def test_k2_leave_one_out_and_cumulative_use_z_for_the_one_study_fits():
    r = rma([-2.0, -20.0], [2.08, 40.5], test="knha")
    assert r.test_used == "knha" and r.df == 1
    assert list(r.leave1out().test_used) == ["z", "z"]
    assert list(r.cumul().test_used) == ["z", "knha"]


def test_overflowing_effects_are_refused_with_one_line():
    with pytest.raises(ModelError, match="overflow double precision"):
        rma([1e308, -1e308, 5e307], [1.0, 1.0, 1.0])


def test_a_variance_whose_inverse_overflows_is_refused_naming_the_study():
    with pytest.raises(ModelError, match=r"study .B..*inverse must not overflow"):
        rma([1.0, 2.0, 3.0], [1.0, 1e-320, 1.0], study=["A", "B", "C"])


def test_egger_is_not_defined_when_the_standard_errors_do_not_vary():
    test = rma([0.1, 0.5, 0.3, 0.2], [0.04] * 4).regtest()
    assert not test.defined and math.isnan(test.stat) and math.isnan(test.pval)


def test_cli_says_why_egger_is_null_and_which_test_was_used(tmp_path, run_cli):
    path = tmp_path / "same.csv"
    path.write_text("study,yi,vi\nA,0.1,0.04\nB,0.5,0.04\nC,0.3,0.04\n")
    code, out, _ = run_cli("pool", "--input", str(path), "--measure", "GEN", "--method", "REML", "--test", "knha")
    rec = json.loads(out)
    assert (
        code == 0
        and rec["egger"] is None
        and rec["notes"] == ["Egger test not defined: the standard errors do not vary"]
    )
    one = tmp_path / "one.csv"
    one.write_text("study,yi,vi\nA,0.1,0.04\n")
    code, out, _ = run_cli("pool", "--input", str(one), "--measure", "GEN", "--method", "REML", "--test", "knha")
    rec = json.loads(out)
    assert code == 0 and rec["test_used"] == "z" and rec["ci_low"] is not None and rec["se"] > 0


def test_cli_refuses_overflow_with_one_line(tmp_path, run_cli):
    path = tmp_path / "huge.csv"
    path.write_text("study,yi,vi\nA,1e308,1\nB,-1e308,1\nC,5e307,1\n")
    code, out, err = run_cli("pool", "--input", str(path), "--measure", "GEN", "--method", "DL")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "overflow" in err


def _peak(k: int) -> int:
    rng = np.random.default_rng(k)
    yi, vi = rng.normal(0.2, 0.3, k), rng.uniform(0.01, 0.2, k)
    tracemalloc.start()
    r = rma(yi, vi, method="REML", test="knha")
    r.confint(), r.regtest(), r.trimfill(), r.ranktest(), r.influence(), r.cumul()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_memory_grows_linearly_with_the_number_of_studies():
    """Twice the studies: at most about twice the memory (a k × k array would be 4×).

    Both sizes lie above the refits' chunk size (2·10⁶ cells), where the peak is the
    chunk plus arrays linear in k.
    """
    small, large = _peak(1500), _peak(3000)
    assert large < 2.6 * small, (small / 1e6, large / 1e6)
