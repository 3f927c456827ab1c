"""GRADE suggestions at clear extremes for every domain, assessor overrides, and a golden
Summary of Findings table for one real population."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from duiding.assessment import assess, sof_table
from duiding.evidence import load_evidence
from duiding.grade import suggest
from duiding.inputs import InputError
from duiding.judgements import load_judgements

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"


def write_csv(tmp_path: Path, yi, vi, rob=None, n=None) -> str:
    frame = pd.DataFrame({"study": [f"S{i}" for i in range(len(yi))], "yi": yi, "vi": vi})
    if rob is not None:
        frame["rob"] = rob
    path = tmp_path / "g.csv"
    frame.to_csv(path, index=False)
    return str(path)


def grade_of(run_cli, path: str, mid: float, method: str = "REML") -> dict:
    code, out, err = run_cli("pool", "--input", path, "--measure", "GEN", "--method", method, "--mid", str(mid))
    assert code == 0, err
    return json.loads(out)["grade"]


@pytest.mark.parametrize(
    ("rob", "expected"), [(["low"] * 4, 0), (["high"] * 4, -2), (["some", "some", "some", "low"], -1)]
)
def test_risk_of_bias_extremes(tmp_path, run_cli, rob, expected):
    path = write_csv(tmp_path, [-20, -22, -19, -21], [2, 2, 2, 2], rob)
    assert grade_of(run_cli, path, 5)["risk_of_bias"] == expected


def test_inconsistency_extremes(tmp_path, run_cli):
    homogeneous = write_csv(tmp_path, [-20.0, -20.5, -19.5, -20.2, -19.8], [4.0] * 5)
    g = grade_of(run_cli, homogeneous, 10)
    assert g["inconsistency"] == 0 and "I² = 0%" in g["reasons"]["inconsistency"]["en"]
    spread = write_csv(tmp_path, [-40.0, 5.0, -35.0, 8.0, -30.0, 2.0], [2.0] * 6)
    g = grade_of(run_cli, spread, 10)
    assert g["inconsistency"] == -2
    assert "both sides" in g["reasons"]["inconsistency"]["en"]


def test_imprecision_extremes():
    studies = [{"study": "A", "yi": -25.0, "weight": 50.0}, {"study": "B", "yi": -24.0, "weight": 50.0}]
    base = {"k": 2, "i2": 0.0, "studies": studies, "egger": None, "pi_low": None, "pi_high": None}
    far = suggest({**base, "ci_low": -30.0, "ci_high": -20.0}, None, 10, n_total=2000)
    assert far.ratings["imprecision"].level == 0
    crossing = suggest({**base, "ci_low": -15.0, "ci_high": 2.0}, None, 10, n_total=2000)
    assert crossing.ratings["imprecision"].level == -1
    both = suggest({**base, "ci_low": -25.0, "ci_high": 15.0}, None, 10, n_total=2000)
    assert both.ratings["imprecision"].level == -2
    small = suggest({**base, "ci_low": -30.0, "ci_high": -20.0}, None, 10, n_total=120)
    assert small.ratings["imprecision"].level == -1
    assert "optimal information size" in small.ratings["imprecision"].reason_en
    # not significant alone is no reason: a precise null result is not rated down
    null = suggest({**base, "ci_low": -3.0, "ci_high": 2.0}, None, 10, n_total=2000)
    assert null.ratings["imprecision"].level == 0


def test_publication_bias_needs_ten_studies(tmp_path, run_cli):
    few = write_csv(tmp_path, [-1.0, -0.5, -0.8, -1.2], [0.1, 0.2, 0.05, 0.3])
    g = grade_of(run_cli, few, 0.5)
    assert g["publication_bias"] == 0 and "not assessable" in g["reasons"]["publication_bias"]["en"]
    se = np.linspace(0.05, 0.6, 12)
    asym = write_csv(tmp_path, list(-0.2 - 3.0 * se), list(se**2))
    g = grade_of(run_cli, asym, 0.5, method="FE")
    assert g["publication_bias"] == -1
    assert "Egger" in g["reasons"]["publication_bias"]["en"]


def test_certainty_is_the_sum_floored_at_very_low(tmp_path, run_cli):
    path = write_csv(tmp_path, [-40.0, 5.0, -35.0, 8.0], [30.0] * 4, ["high"] * 4)
    g = grade_of(run_cli, path, 10)
    assert g["risk_of_bias"] + g["inconsistency"] + g["imprecision"] <= -3
    assert g["certainty"] == "very low"


def test_bad_rob_value_and_bad_mid(tmp_path, run_cli):
    path = write_csv(tmp_path, [-1.0, -2.0], [1.0, 1.0], ["low", "awful"])
    code, _, err = run_cli("pool", "--input", path, "--measure", "GEN", "--method", "DL", "--mid", "1")
    assert code == 1 and "row 2 (line 3), column 'rob': must be low, some, high or empty" in err
    code, _, err = run_cli(
        "pool", "--input", path.replace("g.csv", "g.csv"), "--measure", "GEN", "--method", "DL", "--mid", "-1"
    )
    assert code != 0


@pytest.fixture
def grade_copy(tmp_path) -> Path:
    target = tmp_path / "grade"
    shutil.copytree(ROOT / "grade", target)
    return target


def _append(path: Path, text: str) -> None:
    content = path.read_text().replace("overrides: []", "overrides:")
    path.write_text(content + text)


def test_override_with_reason_is_applied_and_shown(grade_copy):
    _append(
        grade_copy / "nonspecific.yaml",
        "  - outcome: function\n    window: short\n    domain: risk_of_bias\n    level: 0\n"
        "    reason: 'Sensitivity analysis of low-risk trials gives the same estimate'\n",
    )
    ev = load_evidence(ROOT / "evidence")
    pa = assess(ev, load_judgements(grade_copy, "nonspecific"))
    short_function = next(o for o in pa.outcomes if o.spec.outcome == "function" and o.spec.window == "short")
    rating = short_function.grading.ratings["risk_of_bias"]
    assert rating.level == 0 and rating.suggested == -1 and rating.overridden
    notes = sof_table(pa).attrs["footnotes"]
    assert any("oordeel beoordelaar, suggestie was -1" in n and "same estimate" in n for n in notes)


def test_override_without_reason_is_an_error_naming_file_and_entry(grade_copy):
    _append(
        grade_copy / "radicular.yaml", "  - outcome: pain\n    window: short\n    domain: imprecision\n    level: 0\n"
    )
    with pytest.raises(InputError) as exc:
        load_judgements(grade_copy, "radicular")
    assert any("radicular.yaml, overrides[0].reason: a reason is required" in p for p in exc.value.problems)


def test_bad_judgement_values_are_all_reported(grade_copy):
    path = grade_copy / "postsurgery.yaml"
    text = (
        path.read_text()
        .replace("certainty_needed: moderate", "certainty_needed: decent")
        .replace("MD100: 10", "MD100: -3", 1)
    )
    path.write_text(text + "extra_key: 1\n")
    with pytest.raises(InputError) as exc:
        load_judgements(grade_copy, "postsurgery")
    found = "\n".join(exc.value.problems)
    assert "certainty_needed: must be one of" in found
    assert "thresholds.pain.MD100: must be a number > 0" in found
    assert "key 'extra_key': unknown key" in found


def test_invalid_yaml_names_the_line(grade_copy):
    (grade_copy / "nonspecific.yaml").write_text("population: nonspecific\nthresholds: [unclosed\n")
    with pytest.raises(InputError) as exc:
        load_judgements(grade_copy, "nonspecific")
    assert "nonspecific.yaml, line" in exc.value.problems[0]


def test_golden_sof_table_nonspecific():
    """Regenerate with DUIDING_UPDATE_GOLDEN=1 after an intended change; review the diff."""
    import os

    ev = load_evidence(ROOT / "evidence")
    table = sof_table(assess(ev, load_judgements(ROOT / "grade", "nonspecific")))
    text = table.to_csv(index=False) + "\n".join(table.attrs["footnotes"]) + "\n"
    golden = GOLDEN / "sof_nonspecific.txt"
    if os.environ.get("DUIDING_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
