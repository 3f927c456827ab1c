"""GRADE suggestions at clear extremes for every domain, assessor overrides, and a golden
Summary of Findings table for one real population."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import numpy as np
import pytest

from duiding.errors import InputError
from duiding.evidence import load_evidence
from duiding.grade import assess, load_judgements, sof_table, suggest
from duiding.meta import rma
from duiding.report.grading import footnote
from duiding.report.text import reason_text

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"


def grade_of(yi, vi, mid: float, rob=None, method: str = "REML", n_total=None):
    return suggest(rma(yi, vi, method=method), rob, mid, n_total)


def reason(grading, domain: str, lang: str = "en") -> str:
    return reason_text(grading.ratings[domain].reason, lang)


@pytest.mark.parametrize(
    ("rob", "expected"), [(["low"] * 4, 0), (["high"] * 4, -2), (["some", "some", "some", "low"], -1)]
)
def test_risk_of_bias_extremes(rob, expected):
    assert grade_of([-20, -22, -19, -21], [2, 2, 2, 2], 5, rob).levels()["risk_of_bias"] == expected


def test_risk_of_bias_at_the_rule_boundary():
    """Exactly half the weight at risk is not 'more than half': not rated down."""
    g = grade_of([-20, -20], [2, 2], 5, ["some", "low"])
    assert g.levels()["risk_of_bias"] == 0
    assert "50% met enige zorgen" in reason(g, "risk_of_bias", "nl")


def test_inconsistency_extremes():
    g = grade_of([-20.0, -20.5, -19.5, -20.2, -19.8], [4.0] * 5, 10)
    assert g.levels()["inconsistency"] == 0 and "I² = 0%" in reason(g, "inconsistency")
    g = grade_of([-40.0, 5.0, -35.0, 8.0, -30.0, 2.0], [2.0] * 6, 10)
    assert g.levels()["inconsistency"] == -2
    assert "both sides" in reason(g, "inconsistency")


def test_imprecision_extremes():
    def imprecision(lo: float, hi: float, n_total: float) -> tuple[int, str]:
        # a fit whose 95% CI is [lo, hi]: two equal studies centred on the interval
        centre, half = (lo + hi) / 2, (hi - lo) / 2
        res = rma([centre, centre], [2 * (half / 1.959963984540054) ** 2] * 2, method="FE")
        g = suggest(res, None, 10, n_total)
        return g.ratings["imprecision"].level, reason(g, "imprecision")

    assert imprecision(-30.0, -20.0, 2000)[0] == 0
    assert imprecision(-15.0, 2.0, 2000)[0] == -1
    assert imprecision(-25.0, 15.0, 2000)[0] == -2
    level, text = imprecision(-30.0, -20.0, 120)
    assert level == -1 and "optimal information size" in text
    # not significant alone is no reason: a precise null result is not rated down
    assert imprecision(-3.0, 2.0, 2000)[0] == 0


def test_publication_bias_needs_ten_studies():
    g = grade_of([-1.0, -0.5, -0.8, -1.2], [0.1, 0.2, 0.05, 0.3], 0.5)
    assert g.levels()["publication_bias"] == 0 and "not assessable" in reason(g, "publication_bias")
    se = np.linspace(0.05, 0.6, 12)
    g = grade_of(-0.2 - 3.0 * se, se**2, 0.5, method="FE")
    assert g.levels()["publication_bias"] == -1
    assert "Egger" in reason(g, "publication_bias")


def test_certainty_is_the_sum_floored_at_very_low():
    g = grade_of([-40.0, 5.0, -35.0, 8.0], [30.0] * 4, 10, ["high"] * 4)
    levels = g.levels()
    assert levels["risk_of_bias"] + levels["inconsistency"] + levels["imprecision"] <= -3
    assert g.level.en == "very low"


def test_bad_rob_value_and_bad_mid(tmp_path, run_cli):
    path = str(tmp_path / "g.csv")
    Path(path).write_text("study,yi,vi,rob\nS0,-1.0,1.0,low\nS1,-2.0,1.0,awful\n")
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
    notes = [footnote(f) for f in sof_table(pa).footnotes]
    assert any("oordeel beoordelaar, suggestie was -1" in n and "same estimate" in n for n in notes)


def test_override_without_reason_is_an_error_naming_file_and_entry(grade_copy):
    _append(
        grade_copy / "radicular.yaml", "  - outcome: pain\n    window: short\n    domain: imprecision\n    level: 0\n"
    )
    with pytest.raises(InputError) as exc:
        load_judgements(grade_copy, "radicular")
    assert any("radicular.yaml, overrides[0].reason: a reason is required" in p for p in exc.value.lines)


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
    found = "\n".join(exc.value.lines)
    assert "certainty_needed: must be one of" in found
    assert "thresholds.pain.MD100: must be a finite number > 0" in found
    assert "key 'extra_key': unknown key" in found


def test_invalid_yaml_names_the_line(grade_copy):
    (grade_copy / "nonspecific.yaml").write_text("population: nonspecific\nthresholds: [unclosed\n")
    with pytest.raises(InputError) as exc:
        load_judgements(grade_copy, "nonspecific")
    assert "nonspecific.yaml, line" in exc.value.lines[0]


def test_golden_sof_table_nonspecific():
    """Regenerate with DUIDING_UPDATE_GOLDEN=1 after an intended change; review the diff."""
    import os

    from duiding.report.population import sof_blocks

    ev = load_evidence(ROOT / "evidence")
    pa = assess(ev, load_judgements(ROOT / "grade", "nonspecific"))
    table = sof_blocks(pa, sof_table(pa))[1]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([table.columns, *table.rows])
    text = buffer.getvalue() + "\n".join(table.footnotes) + "\n"
    golden = GOLDEN / "sof_nonspecific.txt"
    if os.environ.get("DUIDING_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


@pytest.mark.parametrize(
    "i2, shown",
    [(49.79, "49,8"), (49.4, "49"), (50.0, "50"), (50.4, "50"), (74.6, "74,6"), (75.2, "75"), (0.0, "0"), (96.3, "96")],
)
def test_i2_is_never_rounded_up_onto_a_band_bound_it_is_below(i2, shown):
    from duiding.report.text import i2_text

    assert i2_text(i2) == shown
