"""The engine against R's metafor 3.8.1: every number to 1e-6 (relative).

Fixtures come from tests/reference/make_reference.R (committed with its JSON output);
R is not needed to run these tests.
"""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from conftest import case_frame, reference_cases

from duiding.effects import (
    Table2x2,
    binary_effects,
    mean_difference,
    standardised_mean_difference,
)

CASES = reference_cases()
RTOL, ATOL = 1e-6, 1e-9
FIT_KEYS = [
    *("k", "estimate", "se", "ci_low", "ci_high", "pval"),
    *("tau2", "tau2_ci_low", "tau2_ci_high", "i2", "i2_ci_low", "i2_ci_high"),
    *("h2", "h2_ci_low", "h2_ci_high", "q", "q_pval", "pi_low", "pi_high"),
]


def close(ours, theirs, where: str) -> None:
    if theirs is None:
        assert ours is None, f"{where}: metafor gives no value, we give {ours}"
        return
    assert ours is not None, f"{where}: metafor gives {theirs}, we give none"
    assert np.isclose(ours, theirs, rtol=RTOL, atol=ATOL), f"{where}: {ours!r} != {theirs!r}"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Run every case through the CLI once (JSON contract included)."""
    from duiding.cli import main

    out = {}
    folder = tmp_path_factory.mktemp("cases")
    for case in CASES:
        path = folder / f"{case['name']}.csv"
        case_frame(case).to_csv(path, index=False)
        args = ["pool", "--input", str(path), "--measure", case["measure"]]
        args += ["--method", case["method"], "--test", case["test"]]
        if case.get("subgroup"):
            args += ["--subgroup", case["subgroup"]["column"]]
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(args)
        assert code == 0, case["name"]
        out[case["name"]] = json.loads(buf.getvalue())
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fit(case, results):
    ours = results[case["name"]]
    for key in FIT_KEYS:
        close(ours[key], case["fit"][key], f"{case['name']}.{key}")
    weights = [s["weight"] for s in ours["studies"]]
    for i, (w, ref) in enumerate(zip(weights, case["fit"]["weights"], strict=True)):
        close(w, ref, f"{case['name']}.weight[{i}]")


@pytest.mark.parametrize("case", [c for c in CASES if c["measure"] != "GEN"], ids=lambda c: c["name"])
def test_escalc(case):
    d = case["data"]
    m = case["measure"]
    if m == "MD":
        es = mean_difference(d["m1"], d["sd1"], d["n1"], d["m2"], d["sd2"], d["n2"])
    elif m == "SMD":
        es = standardised_mean_difference(d["m1"], d["sd1"], d["n1"], d["m2"], d["sd2"], d["n2"])
    else:
        measure = "PETO" if case["method"] == "PETO" else m
        es = binary_effects(Table2x2.from_events(d["e1"], d["n1"], d["e2"], d["n2"]), measure)
    np.testing.assert_allclose(es.yi, case["escalc"]["yi"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(es.vi, case["escalc"]["vi"], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_small_study_methods(case, results):
    ours = results[case["name"]]
    name = case["name"]
    if case["egger"] is None:
        assert ours["egger"] is None, name
    else:
        close(ours["egger"]["stat"], case["egger"]["stat"], f"{name}.egger.stat")
        close(ours["egger"]["pval"], case["egger"]["pval"], f"{name}.egger.pval")
    if case["trimfill"] is None:
        assert ours["trimfill"] is None, name
    else:
        tf, ref = ours["trimfill"], case["trimfill"]
        assert tf["k0"] == ref["k0"], name
        assert tf["side"] == ref["side"], name
        for key in ("estimate", "se", "ci_low", "ci_high"):
            close(tf[key], ref[key], f"{name}.trimfill.{key}")


@pytest.mark.parametrize("case", [c for c in CASES if c["leave_one_out"]], ids=lambda c: c["name"])
def test_leave_one_out(case, results):
    ours = {r["study"]: r for r in results[case["name"]]["leave_one_out"]}
    assert len(ours) == len(case["leave_one_out"])
    for ref in case["leave_one_out"]:
        mine = ours[ref["study"]]
        for key, value in ref.items():
            if key != "study":
                close(mine[key], value, f"{case['name']}.loo[{ref['study']}].{key}")


@pytest.mark.parametrize("case", [c for c in CASES if c["subgroups"]], ids=lambda c: c["name"])
def test_subgroups(case, results):
    ours = results[case["name"]]["subgroups"]
    ref = case["subgroups"]
    for key in ("q_between", "df_between", "p_between"):
        close(ours[key], ref[key], f"{case['name']}.{key}")
    mine = {g["value"]: g for g in ours["groups"]}
    assert set(mine) == {g["value"] for g in ref["groups"]}
    for g in ref["groups"]:
        for key, value in g.items():
            if key != "value":
                close(mine[g["value"]][key], value, f"{case['name']}[{g['value']}].{key}")


def test_documented_bcg_values(results):
    """metafor's documentation of dat.bcg (REML): -0.7145, SE 0.1798, tau² 0.3132, I² 92.22%."""
    r = results["bcg_RR_REML"]
    assert round(r["estimate"], 4) == -0.7145
    assert round(r["se"], 4) == 0.1798
    assert round(r["tau2"], 4) == 0.3132
    assert round(r["i2"], 2) == 92.22
