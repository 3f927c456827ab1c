"""The synthesis without meta-analysis (SWiM, Campbell et al. BMJ 2020): unpooled results
counted by direction, never by p-value, and weighed by GRADE's inconsistency rule at the
edges of its share (config/grade_rules.yaml ``unpooled_conflict_share``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from duiding.evidence.extraction import direction_read
from duiding.evidence.selection import not_pooled
from duiding.grade import load_rules, suggest
from duiding.grade.domains import Unpooled, inconsistency
from duiding.meta import rma

RULES = load_rules()
MID = 10.0


def fit(yi, vi):
    return rma(np.asarray(yi, float), np.asarray(vi, float), method="REML", test="knha")


BENEFIT = fit([-12.0, -11.0, -13.0], [4.0, 4.0, 4.0])  # homogeneous, CI well below 0
NULL = fit([-2.0, 1.0, 3.0], [9.0, 9.0, 9.0])  # CI spans 0


def test_the_pooled_fixtures_are_what_the_tests_assume():
    assert BENEFIT.ci_high < 0 and BENEFIT.i2 == 0
    assert NULL.ci_low < 0 < NULL.ci_high


@pytest.mark.parametrize(
    ("conflicting_n", "n_pooled", "level"),
    [
        (100, 300, -1),  # exactly a quarter of all participants: rated down
        (99, 300, 0),  # just below a quarter: not rated down
        (10_000, 300, -1),
        (0, 300, 0),  # arm sizes unknown: the share cannot be shown, no downgrade
    ],
)
def test_unpooled_conflict_at_the_share_boundary(conflicting_n, n_pooled, level):
    unpooled = Unpooled(total=2, conflicting=2, conflicting_n=conflicting_n)
    rating = inconsistency(BENEFIT, MID, RULES, unpooled, n_pooled)
    assert rating.level == level
    keys = [p.key for p in rating.reason.phrases]
    assert ("unpooled_conflict" in keys) == (level == -1)


def test_no_conflict_without_a_pooled_benefit_or_conflicting_studies():
    many = Unpooled(total=5, conflicting=5, conflicting_n=10_000)
    assert inconsistency(NULL, MID, RULES, many, 300).level == 0  # a null beside a null agrees
    none = Unpooled(total=5, conflicting=0, conflicting_n=0)
    assert inconsistency(BENEFIT, MID, RULES, none, 300).level == 0
    assert inconsistency(BENEFIT, MID, RULES, many, None).level == 0  # pooled participants unknown


def test_the_share_is_configuration():
    unpooled = Unpooled(total=1, conflicting=1, conflicting_n=1)
    strict = replace(RULES, unpooled_conflict_share=0.0)
    assert suggest(BENEFIT, None, MID, 300, rules=strict, unpooled=unpooled).ratings["inconsistency"].level == -1
    lenient = replace(RULES, unpooled_conflict_share=1.0)
    big = Unpooled(total=1, conflicting=1, conflicting_n=10**6)
    assert suggest(BENEFIT, None, MID, 300, rules=lenient, unpooled=big).ratings["inconsistency"].level == 0


def test_a_conflict_never_adds_a_second_level_to_heterogeneity():
    hetero = rma(np.array([-30.0, -8.0, -28.0, -9.0]), np.array([2.0] * 4), method="REML", test="z")
    assert hetero.ci_high < 0
    base = inconsistency(hetero, MID, RULES)
    assert base.level == -2
    unpooled = Unpooled(total=3, conflicting=3, conflicting_n=900)
    with_conflict = inconsistency(hetero, MID, RULES, unpooled, 300)
    assert with_conflict.level == base.level
    assert "unpooled_conflict" in [p.key for p in with_conflict.reason.phrases]


def _rows(**columns):
    n = len(next(iter(columns.values())))
    base = {
        "result_id": [f"r{i}" for i in range(n)],
        "study_id": [f"s{i}" for i in range(n)],
        "outcome": ["pain"] * n,
        "timepoint_weeks": [12.0] * n,
        "data_form": ["narrative"] * n,
        "direction_read": ["unclear"] * n,
        "n_int": [np.nan] * n,
        "n_ctl": [np.nan] * n,
    }
    return pd.DataFrame({**base, **columns})


def test_one_row_per_unpooled_study_with_the_most_informative_direction():
    rows = _rows(
        study_id=["a", "a", "b", "c"],
        direction_read=["not_reported", "no_clear_difference", "favours_intervention", "unclear"],
    )
    out = not_pooled(rows, pooled={"c"}, codes=("pain",), target=12.0)
    assert list(out["study_id"]) == ["a", "b"]  # c is in the meta-analysis: its pooled result speaks
    assert list(out["direction_read"]) == ["no_clear_difference", "favours_intervention"]


def test_direction_from_numbers_follows_the_instrument_orientation():
    df = pd.DataFrame(
        {
            "data_form": ["arms_mean_only", "arms_mean_only", "arms_mean_only", "narrative", "narrative"],
            "md_raw": [np.nan] * 5,
            "mean_int": [20.0, 60.0, 5.0, np.nan, np.nan],
            "mean_ctl": [30.0, 50.0, 5.0, np.nan, np.nan],
            "direction": [None, None, None, "favours_control", None],
        }
    )
    # the second instrument is higher-is-better (orient -1): 60 vs 50 favours therapy
    orient = np.array([1.0, -1.0, 1.0, 1.0, 1.0])
    out = list(direction_read(df, orient))
    assert out == ["favours_intervention", "favours_intervention", "no_clear_difference", "favours_control", "unclear"]


# --- the SMD analysis stands in where no instrument range is known (evidence issue, item 7)


def _analysis(outcome: str, measure: str, k: int):
    from types import SimpleNamespace

    return SimpleNamespace(spec=SimpleNamespace(outcome=outcome, window="short", measure=measure), k=k)


@pytest.mark.parametrize(
    ("md_k", "smd_k", "measure"),
    [(0, 2, "SMD"), (1, 2, "MD100"), (0, 0, "MD100"), (3, 0, "MD100")],
)
def test_the_smd_analysis_stands_in_only_for_an_empty_md_analysis(md_k, smd_k, measure):
    from duiding.grade import PopulationAssessment
    from duiding.grade.analysis import stand_ins

    md, smd = _analysis("pain", "MD100", md_k), _analysis("pain", "SMD", smd_k)
    pa = PopulationAssessment.__new__(PopulationAssessment)
    object.__setattr__(pa, "outcomes", [md])
    object.__setattr__(pa, "alternative", [smd])
    assert pa.headline[0].spec.measure == measure
    assert stand_ins([md], [smd]) == ([smd] if md_k == 0 else [])


def test_postsurgery_pain_is_read_from_the_smd_analysis_in_sof_and_conclusion():
    from pathlib import Path

    from duiding.evidence import load_evidence
    from duiding.grade import assess, conclude, load_judgements, sof_table

    root = Path(__file__).resolve().parents[1]
    pa = assess(load_evidence(root / "evidence"), load_judgements(root / "grade", "postsurgery"))
    rows = {(r.outcome, r.window): r for r in sof_table(pa).rows}
    assert rows[("pain", "short")].measure == "SMD" and rows[("pain", "short")].k >= 1
    assert rows[("function", "short")].measure == "MD100"
    steps = [s for s in conclude(pa).steps if s.key == "outcome" and s.values["outcome"] == "pain"]
    assert steps and all(s.values["measure"] == "SMD" for s in steps)


@pytest.mark.parametrize(
    ("relevance", "ci_low", "key"),
    [
        ("below_threshold", -13.8, "below_threshold_uncertain"),  # the CI reaches past −10
        ("below_threshold", -10.0, "below_threshold"),  # at the threshold, not past it
        ("below_threshold", -9.9, "below_threshold"),
        ("possibly_relevant", -20.0, "possibly_relevant"),
        ("no_difference", -20.0, "no_difference"),
    ],
)
def test_a_benefit_below_the_threshold_is_worded_by_what_its_ci_excludes(relevance, ci_low, key):
    from duiding.report.text import relevance_wording

    assert relevance_wording(relevance, ci_low, 10.0) == key


def test_every_outcome_and_window_has_its_sof_row():
    from pathlib import Path

    from duiding.evidence import load_evidence
    from duiding.grade import assess, load_judgements, sof_table

    root = Path(__file__).resolve().parents[1]
    pa = assess(load_evidence(root / "evidence"), load_judgements(root / "grade", "radicular"))
    rows = {(r.outcome, r.window) for r in sof_table(pa).rows}
    assert rows == {(o.spec.outcome, o.spec.window) for o in pa.outcomes}
    assert ("function", "long") in rows  # a crucial row the cap of seven used to cut
