"""The rules behind a conclusion a methodologist can sign, each at its extremes: PICO
fidelity, the outcome hierarchy, change vs final values and the baseline rule, the policy
for very few studies (Bender et al. 2018), relevance at the threshold, non-inferiority,
the optimal information size, indirectness from weights, ZIN's rule per comparison type,
the review cross-check and the tipping points."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from duiding.evidence import load_evidence, load_plan
from duiding.evidence.plan import SmallK
from duiding.grade import (
    DOMAINS,
    GradedOutcome,
    analyses_for,
    assess,
    conclude,
    fit_rows,
    load_judgements,
    load_rules,
    suggest,
    tipping_points,
)
from duiding.grade.conclusion import design_step
from duiding.report.crosscheck import in_our_direction, link
from duiding.report.manifest import population_summary

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ev():
    return load_evidence(ROOT / "evidence")


def judgements(population: str, **changes):
    j = load_judgements(ROOT / "grade", population)
    return replace(j, **changes) if changes else j


def with_mid(j, outcome: str, mid: float):
    return replace(j, thresholds={**j.thresholds, outcome: {**j.thresholds[outcome], "MD100": mid}})


# --- the policy for very few studies -------------------------------------------------

POLICY = SmallK(4, 50, 0.10, "fixed_effect", "modified_knapp_hartung", "qualitative")


@pytest.mark.parametrize(
    "k, i2, p, expected",
    [
        (1, 0, 1.0, "standard"),  # one study: nothing to pool
        (2, 0, 1.0, "fixed_effect"),
        (2, 49.999, 0.10, "fixed_effect"),  # both bounds met exactly at p = 0.10
        (2, 50, 0.5, "qualitative"),  # I² at the bound is heterogeneous
        (2, 0, 0.0999, "qualitative"),  # p just below the bound is heterogeneous
        (3, 50, 0.5, "modified_knapp_hartung"),
        (4, 80, 0.01, "modified_knapp_hartung"),
        (4, 0, 1.0, "fixed_effect"),
        (5, 0, 1.0, "standard"),  # beyond max_k: the plan's model
        (5, 90, 0.0, "standard"),
    ],
)
def test_small_k_policy_at_its_bounds(k, i2, p, expected):
    assert POLICY.choose(k, i2, p) == expected


def test_two_homogeneous_studies_headline_the_fixed_effect_fit_beside_the_plain_one(ev):
    pa = assess(ev, judgements("radicular"))
    o = next(x for x in pa.outcomes if (x.spec.outcome, x.spec.window) == ("back_pain", "short"))
    a = o.analysis
    assert a.k == 2 and a.policy == "fixed_effect"
    assert o.result.method == "FE" and a.plain.method == "REML" and a.plain.test_used == "knha"
    # the headline is exactly the fixed-effect fit of the same studies
    assert o.result.estimate == pytest.approx(a.fixed_effect.estimate, abs=1e-12)
    assert o.result.ci_low == pytest.approx(a.fixed_effect.ci_low, abs=1e-12)


def test_two_heterogeneous_studies_are_not_pooled_but_still_graded(ev):
    pa = assess(ev, judgements("nonspecific"))
    o = next(x for x in pa.outcomes if (x.spec.outcome, x.spec.window) == ("function", "intermediate"))
    assert o.analysis.policy == "qualitative"
    assert o.result is None and o.analysis.plain is not None and o.analysis.plain.k == 2
    assert o.relevance == "not_pooled" and not o.relevant and not o.non_inferior
    assert o.grading is not None  # graded on the plain random-effects fit


def test_no_t1_interval_headlines_anywhere(ev):
    """Every headline with two studies is fixed effect or not pooled: never a t(1) interval."""
    for population in ("nonspecific", "radicular", "postsurgery"):
        pa = assess(ev, judgements(population))
        for o in [*pa.outcomes, *pa.alternative]:
            if o.k == 2 and o.result is not None:
                assert o.result.method == "FE", o.spec.key


def test_without_the_policy_the_plain_fit_headlines(ev):
    plan = load_plan().without_small_k()
    a = analyses_for(ev, judgements("radicular"), plan=plan)
    o = next(x for x in a.primary if (x.spec.outcome, x.spec.window) == ("back_pain", "short"))
    assert o.policy == "standard" and o.result is o.plain


# --- relevance, non-inferiority and the decision rule -------------------------------


def outcome_with(estimate: float, lo: float, hi: float, mid: float = 10.0, certainty: int = 3) -> GradedOutcome:
    """A graded outcome around a given result (the rule reads only these numbers)."""
    result = SimpleNamespace(estimate=estimate, ci_low=lo, ci_high=hi)
    analysis = SimpleNamespace(result=result, k=3, policy="standard", spec=None)
    grading = SimpleNamespace(certainty=certainty)
    o = GradedOutcome(analysis, mid, grading)
    return o


@pytest.mark.parametrize(
    "estimate, lo, hi, relevance, relevant",
    [
        (-10.0, -15.0, -5.0, "below_threshold", False),  # exactly at the threshold: not beyond it
        (-10.0001, -15.0, -5.0, "possibly_relevant", True),
        (-12.0, -14.0, -10.0, "possibly_relevant", True),  # CI upper bound at −MID: crosses
        (-12.0, -14.0, -10.0001, "relevant", True),
        (-12.0, -24.0, 0.0, "no_difference", False),  # CI touching 0 does not exclude it
        (-12.0, -24.0, -0.0001, "possibly_relevant", True),
        (-3.0, -5.0, -1.0, "below_threshold", False),
        (5.0, 1.0, 9.0, "no_difference", False),  # harm direction
    ],
)
def test_relevance_labels_agree_with_the_rule_at_the_boundary(estimate, lo, hi, relevance, relevant):
    o = outcome_with(estimate, lo, hi)
    assert o.relevance == relevance
    assert o.relevant is relevant


@pytest.mark.parametrize("hi, expected", [(9.9999, True), (10.0, False), (-20.0, True), (25.0, False)])
def test_equal_value_is_a_non_inferiority_reading_of_the_upper_bound(hi, expected):
    assert outcome_with(min(hi - 1, 0), hi - 30, hi).non_inferior is expected


@pytest.mark.parametrize(
    "design, estimate, lo, hi, certainty, meets",
    [
        ("add_on", -12, -20, -2, 3, True),
        ("add_on", -12, -20, -2, 2, False),  # certainty below 'moderate'
        ("add_on", -5, -8, -2, 4, False),  # benefit below the threshold
        ("replacement", -5, -8, -2, 3, True),  # not worse than +10: equal value
        ("replacement", 2, -3, 10, 4, False),  # upper bound at +MID
        ("replacement", 2, -3, 9.5, 3, True),
    ],
)
def test_zin_rule_per_comparison_type(design, estimate, lo, hi, certainty, meets, monkeypatch):
    o = outcome_with(estimate, lo, hi, certainty=certainty)
    monkeypatch.setattr("duiding.grade.conclusion.effect_values", lambda o: {})
    step, ok = design_step(o, design, needed=3)
    assert ok is meets
    assert step.values["criterion"] == ("benefit" if design == "add_on" else "equal")


def test_replacement_of_a_non_standard_comparator_is_held_to_the_add_on_criterion():
    plan = load_plan()
    design = pd.Series(["replacement", "replacement", "replacement", "add_on", "unclear"])
    comparator = pd.Series(["usual_care", "placebo_sham", "waiting_list", "placebo_sham", "usual_care"])
    assert list(plan.rule_designs(design, comparator)) == ["replacement", "add_on", "add_on", "add_on", "unclear"]
    # at its extremes: every comparator counts as existing care (each coded replacement is
    # read as non-inferiority), or none does (every comparison must show a benefit)
    every = replace(plan, equal_value_comparators=(*plan.comparators, "other_active"))
    assert list(every.rule_designs(design, comparator)) == list(design)
    none = replace(plan, equal_value_comparators=())
    assert list(none.rule_designs(design, comparator)) == ["add_on", "add_on", "add_on", "add_on", "unclear"]


def rule_variant(ev, plan, design: str, outcome: str = "pain", window: str = "short"):
    analyses = analyses_for(ev, judgements("nonspecific"), plan=plan, alternative=False)
    analysis = next(a for a in analyses.primary if (a.spec.outcome, a.spec.window) == (outcome, window))
    variant = analysis.variant(design)
    return set() if variant is None else set(variant.selection.rows["study_id"])


def test_a_null_result_against_sham_never_counts_as_equal_value(ev):
    plan = load_plan()
    rows = ev.extracted[(ev.extracted["_population"] == "nonspecific") & (ev.extracted["outcome"] == "pain")]
    coded = rows[(rows["comparison_design"] == "replacement") & (rows["comparator_type"] != "usual_care")]
    non_standard = set(coded["study_id"])
    assert non_standard, "the real base has replacement trials against sham, minimal or no treatment"
    replacement, add_on = rule_variant(ev, plan, "replacement"), rule_variant(ev, plan, "add_on")
    assert not replacement & non_standard
    every = replace(plan, equal_value_comparators=(*plan.comparators, "other_active"))
    old_reading = rule_variant(ev, every, "replacement")
    moved = old_reading - replacement
    assert moved and moved <= non_standard and moved <= add_on
    assert not rule_variant(ev, replace(plan, equal_value_comparators=()), "replacement")


def test_the_rule_text_names_which_comparators_ask_for_benefit():
    from duiding.report.text import rule_by_design

    text = rule_by_design()
    assert "vervanging van gebruikelijke zorg" in text and "schijnbehandeling" in text
    assert "geen effect, geen gelijke waarde" in text


def test_the_real_conclusions_and_every_design_step_is_written_out(ev):
    for population in ("nonspecific", "radicular", "postsurgery"):
        pa = assess(ev, judgements(population))
        c = conclude(pa)
        assert c.meets is False and c.designs_met == []
        keys = [s.key for s in c.steps]
        assert keys[0] == "crucial" and keys[-1] == "rule" and "harms" in keys
        for o in pa.outcomes:
            if o.spec.outcome in pa.judgements.crucial_outcomes and o.k:
                designs = set(o.analysis.selection.rows["rule_design"]) & {"add_on", "replacement"}
                written = {
                    s.values["design"]
                    for s in c.steps
                    if s.key == "design"
                    and (s.values["outcome"], s.values["window"]) == (o.spec.outcome, o.spec.window)
                }
                assert written == designs


def test_lowering_the_certainty_needed_flips_nonspecific_to_meets(ev):
    pa = assess(ev, judgements("nonspecific", certainty_needed="very low"))
    c = conclude(pa)
    assert c.meets and c.designs_met
    assert all(q["design"] in c.designs_met for q in c.steps[-1].values["qualifying"])


# --- GRADE: optimal information size and indirectness -------------------------------


def single_study(estimate: float, se: float):
    rows = pd.DataFrame({"study_id": ["s1"], "yi": [estimate], "vi": [se**2]})
    return fit_rows(rows, "REML", "knha")


@pytest.mark.parametrize(
    "estimate, n, level",
    [
        (-12.0, 399, -2),  # CI crosses −MID and fewer participants than the OIS: at most low
        (-12.0, 400, -1),  # OIS met: one level for the CI alone
        (-12.0, None, -2),  # participants unknown: the OIS is not shown to be met
        (-30.0, 399, -1),  # CI beyond the threshold, OIS not met
        (-30.0, None, -1),
        (-30.0, 400, 0),
    ],
)
def test_imprecision_uses_the_optimal_information_size_for_single_studies(estimate, n, level):
    fit = single_study(estimate, 2.0)  # CI about ±3.9
    assert suggest(fit, ["low"], 10.0, n).ratings["imprecision"].level == level


def equal_weights(k: int):
    rows = pd.DataFrame({"study_id": [f"s{i}" for i in range(k)], "yi": np.linspace(-8, -6, k), "vi": np.ones(k)})
    return fit_rows(rows, "REML", "knha")


@pytest.mark.parametrize(
    "k, n_indirect, level",
    [
        (2, 1, 0),  # exactly half the weight: not more than half
        (3, 2, -1),  # two thirds
        (10, 9, -1),  # exactly 90%: not more than 90%
        (20, 19, -2),  # 95%
        (4, 0, 0),
        (4, 4, -2),
    ],
)
def test_indirectness_is_suggested_from_the_share_of_the_weight(k, n_indirect, level):
    fit = equal_weights(k)
    assert np.allclose(fit.weights, 100 / k)
    indirect = [True] * n_indirect + [False] * (k - n_indirect)
    rating = suggest(fit, ["low"] * k, 10.0, 1000, indirect).ratings["indirectness"]
    assert rating.level == level
    assert rating.reason.phrases[0].key == "indirect_share"


def test_indirect_studies_enter_only_where_the_assessor_includes_them(ev):
    out = analyses_for(ev, judgements("radicular"))
    into = analyses_for(ev, judgements("radicular", indirect_studies="include"))
    key = ("function", "short")
    a = next(x for x in out.primary if (x.spec.outcome, x.spec.window) == key)
    b = next(x for x in into.primary if (x.spec.outcome, x.spec.window) == key)
    eligibility = ev.studies.set_index("study_id")["eligibility"]
    assert set(eligibility[list(a.selection.rows["study_id"])]) == {"include"}
    assert "indirect" in set(eligibility[list(b.selection.rows["study_id"])])
    assert set(a.variant("with_indirect").selection.rows["study_id"]) == set(b.selection.rows["study_id"])
    pa = assess(ev, judgements("radicular", indirect_studies="include"))
    o = next(x for x in pa.outcomes if (x.spec.outcome, x.spec.window) == key)
    assert o.grading.ratings["indirectness"].reason.phrases[0].key == "indirect_share"


def test_an_assessor_rating_replaces_the_suggestion_and_keeps_it(ev):
    j = judgements("radicular", indirect_studies="include")
    j = replace(j, indirectness=[{"outcome": "function", "level": 0, "reason": "checked: providers are physios"}])
    pa = assess(ev, j)
    o = next(x for x in pa.outcomes if (x.spec.outcome, x.spec.window) == ("function", "short"))
    rating = o.grading.ratings["indirectness"]
    assert rating.level == 0 and rating.suggested is not None and rating.override_reason


# --- outcomes, change vs final values, the baseline rule, SMD value types ----------


def test_radicular_pain_is_leg_pain_and_back_pain_is_its_own_outcome(ev):
    a = analyses_for(ev, judgements("radicular"))
    for x in a.primary:
        codes = set(x.selection.rows["outcome"])
        if x.spec.outcome == "pain":
            assert codes <= {"leg_pain", "pain"}
            substitutes = x.selection.rows.loc[x.selection.rows["substitute"], "outcome"]
            assert set(substitutes) <= {"pain"}
        if x.spec.outcome == "back_pain":
            assert codes <= {"back_pain"}
    long_pain = next(x for x in a.primary if (x.spec.outcome, x.spec.window) == ("pain", "long"))
    assert "Fritz2021" not in set(long_pain.selection.rows["study_id"])  # its back pain is not leg pain


@pytest.mark.parametrize("mid, excluded", [(10.0, True), (12.0, True), (12.5, False)])
def test_final_values_across_a_baseline_imbalance_of_half_the_threshold_are_left_out(ev, mid, excluded):
    """Ilves 2017: ODI 24 vs 18 at baseline (gap 6.0 on 0-100); left out from a gap of half the MID."""
    j = with_mid(judgements("postsurgery"), "function", mid)
    a = analyses_for(ev, j)
    o = next(x for x in a.primary if (x.spec.outcome, x.spec.window) == ("function", "long"))
    left = o.selection.excluded
    assert ("Ilves2017" in set(left.loc[left["reason"] == "baseline_imbalance", "study_id"])) is excluded
    assert ("Ilves2017" in set(o.selection.rows["study_id"])) is not excluded
    wider = o.variant("with_imbalanced")
    assert "Ilves2017" in set(wider.selection.rows["study_id"])


def test_smd_analyses_take_one_value_type_md_may_mix(ev):
    for population in ("nonspecific", "radicular", "postsurgery"):
        a = analyses_for(ev, judgements(population))
        for x in a.alternative:
            assert x.selection.rows["value_type"].nunique() <= 1, x.spec.key


def test_change_before_final_values_within_a_study(ev):
    """Where a study reports both for the same analysis, the change (or adjusted) value is used."""
    a = analyses_for(ev, judgements("nonspecific"))
    x = ev.extracted
    for o in a.primary:
        for row in o.selection.rows.itertuples():
            same = x[
                (x["study_id"] == row.study_id)
                & (x["outcome"] == row.outcome)
                & (x["timepoint_weeks"] == row.timepoint_weeks)
                & (x["comparator_type"] == row.comparator_type)
                & (x["md_reason"] == "")
            ]
            assert row.value_rank == same["value_rank"].min()


# --- review cross-check, manifest, tipping points ----------------------------------


def test_review_effects_are_shown_in_our_sign_convention():
    row = pd.Series({"effect": 15.0, "ci_low": 12.0, "ci_high": 18.0, "effect_definition": "ctl_minus_int"})
    assert in_our_direction(row) == (-15.0, -18.0, -12.0)
    row = pd.Series({"effect": -0.33, "ci_low": -0.58, "ci_high": -0.08, "effect_definition": "int_minus_ctl"})
    assert in_our_direction(row) == (-0.33, -0.58, -0.08)


def test_every_review_row_is_linked_or_has_a_reason(ev):
    linked = {}
    for population in ("nonspecific", "radicular", "postsurgery"):
        pa = assess(ev, judgements(population))
        for _, r in ev.of("review_results", population).iterrows():
            found = link(pa, r)
            assert (found.ours is None) is (found.reason is not None), r["review_id"]
            if found.ours is not None:
                linked[(r["review_id"], r["outcome"], r["window"])] = found.ours
    hayden = linked[("Hayden2021_CD009790", "pain", "short")]
    assert hayden.spec.population == "nonspecific" and hayden.spec.measure == "MD100"


def test_manifest_records_the_five_domains_per_analysis(ev):
    pa = assess(ev, judgements("nonspecific"))
    summary = population_summary(ev, pa)
    graded = [a for a in summary["analyses"].values() if a is not None]
    assert graded
    for a in graded:
        assert list(a["grade"]) == list(DOMAINS)
        assert a["model"] in ("standard", "single_study", "fixed_effect", "modified_knapp_hartung", "qualitative")


def test_tipping_points_agree_with_a_direct_recomputation(ev):
    j = judgements("radicular")
    points = {(p.choice, p.outcome): p for p in tipping_points(ev, j)}
    assert set(points) >= {("threshold", "pain"), ("threshold", "function"), ("certainty_needed", None)}
    now = conclude(assess(ev, j)).meets
    threshold = points[("threshold", "function")]
    for mid in (1.0, 2.0, 2.5, 10.0, 30.0):
        flipped = conclude(assess(ev, with_mid(j, "function", mid))).meets != now
        assert (mid in threshold.flips_at) is flipped, mid
    for level in ("very low", "low", "moderate", "high"):
        flipped = conclude(assess(ev, replace(j, certainty_needed=level))).meets != now
        assert (level in points[("certainty_needed", None)].flips_at) is flipped, level


def test_the_equal_value_tipping_point_agrees_with_a_direct_recomputation(ev):
    plan = load_plan()
    every = replace(plan, equal_value_comparators=(*plan.comparators, "other_active"))
    for population in ("nonspecific", "radicular"):
        j = judgements(population, certainty_needed="very low")
        point = next(p for p in tipping_points(ev, j) if p.choice == "equal_value")
        flipped = conclude(assess(ev, j, plan=every)).meets != conclude(assess(ev, j)).meets
        assert point.flips_at == (["every_comparator"] if flipped else [])
    # radicular at 'very low' meets only when a null result against sham or advice is read
    # as equal value, which the plan does not do
    radicular = next(
        p for p in tipping_points(ev, judgements("radicular", certainty_needed="very low")) if p.choice == "equal_value"
    )
    assert radicular.flips_at == ["every_comparator"] and not radicular.meets_now


def test_tipping_point_ranges_group_the_grid():
    from duiding.grade.tipping import TippingPoint

    p = TippingPoint("threshold", "pain", 10.0, [1.0, 1.5, 2.0, 11.5, 12.0, 30.0], False)
    assert p.ranges() == [(1.0, 2.0), (11.5, 12.0), (30.0, 30.0)]
    assert TippingPoint("threshold", "pain", 10.0, [], False).robust


def test_rules_file_carries_the_indirectness_bounds():
    rules = load_rules()
    assert 0 < rules.indirect_down_one_above < rules.indirect_down_two_above < 1
