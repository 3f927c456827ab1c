"""The JSON contract of ``duiding pool``: its keys, and every number of 75 golden runs.

``tests/golden/pool_cli.json`` holds the output of every metafor reference case, a
``--by`` batch, a subgroup run and a GRADE run (written by ``tests/golden/pool_cases.py``).
Keys may be added to the contract; a key that disappears or a number that moves by more
than rounding fails here. Rewrite the golden file only for an intended change, and say
which numbers moved and why in the commit.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))
from pool_cases import GOLDEN, run_all

CONTRACT_KEYS = {
    *("k", "estimate", "se", "ci_low", "ci_high", "pval", "tau2", "tau2_ci_low", "tau2_ci_high"),
    *("i2", "i2_ci_low", "i2_ci_high", "h2", "q", "q_pval", "pi_low", "pi_high", "studies"),
    *("egger", "trimfill", "leave_one_out", "test_used"),
}


@pytest.fixture(scope="module")
def outputs() -> dict:
    return run_all()


def differences(old, new, path: str = "") -> list[str]:
    """Where ``new`` lost a key or moved a value of ``old`` (new keys are allowed)."""
    if isinstance(old, dict):
        if not isinstance(new, dict):
            return [f"{path}: no longer an object"]
        out = []
        for key in old:
            out += [f"{path}.{key}: missing"] if key not in new else differences(old[key], new[key], f"{path}.{key}")
        return out
    if isinstance(old, list):
        if not isinstance(new, list) or len(old) != len(new):
            return [f"{path}: length changed"]
        return [d for i, (a, b) in enumerate(zip(old, new, strict=True)) for d in differences(a, b, f"{path}[{i}]")]
    if isinstance(old, float) and isinstance(new, float):
        return [] if math.isclose(old, new, rel_tol=1e-12, abs_tol=1e-15) else [f"{path}: {old!r} → {new!r}"]
    return [] if old == new else [f"{path}: {old!r} → {new!r}"]


def test_every_golden_run_is_unchanged(outputs):
    golden = json.loads(GOLDEN.read_text())
    found = [d for name in golden for d in differences(golden[name], outputs[name], name)]
    assert not found, "\n".join(found[:40])


def test_contract_keys_and_batches(outputs):
    single = outputs["bcg_RR_REML"]
    assert single.keys() >= CONTRACT_KEYS
    assert sum(s["weight"] for s in single["studies"]) == pytest.approx(100)
    assert {"k0", "side", "estimate", "ci_low", "ci_high"} <= single["trimfill"].keys()
    assert len(single["leave_one_out"]) == single["k"]
    batch = outputs["batch_by"]
    assert [r["group"] for r in batch] == ["pain", "function"]
    assert all(r.keys() >= CONTRACT_KEYS | {"group"} for r in batch)
    grade = outputs["grade_mid"]["grade"]
    assert set(grade) >= {"risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias"}
    assert set(grade["reasons"]["imprecision"]) == {"en", "nl"}


def test_a_batch_group_equals_the_same_group_alone(tmp_path, run_cli):
    rows = ["study,outcome,yi,vi"]
    rows += [f"s{i},pain,{0.1 * i},{0.02 + 0.01 * i}" for i in range(5)]
    rows += [f"s{i},function,{-0.2 * i + 0.3},{0.05}" for i in range(4)]
    path = tmp_path / "in.csv"
    path.write_text("\n".join(rows) + "\n")
    code, out, _ = run_cli("pool", "--input", str(path), "--measure", "GEN", "--method", "REML", "--by", "outcome")
    assert code == 0
    for rec in json.loads(out):
        one = [r for r in rows[1:] if r.split(",")[1] == rec["group"]]
        single = tmp_path / "one.csv"
        single.write_text("study,outcome,yi,vi\n" + "\n".join(one) + "\n")
        _, out1, _ = run_cli("pool", "--input", str(single), "--measure", "GEN", "--method", "REML")
        alone = json.loads(out1)
        for key in ("estimate", "se", "tau2", "i2", "q", "pi_low", "tau2_ci_high"):
            assert rec[key] == pytest.approx(alone[key], rel=1e-12, abs=1e-15), key
