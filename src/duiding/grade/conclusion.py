"""The draft conclusion of one population, with every step of ZIN's rule written down.

ZIN's rule (framework "Beoordeling stand van de wetenschap en praktijk", 2015; methods
notes): the comparison must come out at least equal, and the difference clinically
relevant. Where the therapy is added to usual care (add-on) ZIN asks for added value: a
clinically relevant benefit. Where it replaces usual care (replacement) ZIN asks for equal
value: not worse by more than the relevance threshold, read from the CI (its upper bound
below +threshold, as in a non-inferiority comparison). Each at the certainty the
assessor's file asks for, on a crucial outcome, and without important harm. The rule is
applied per type of comparison, to the trials of that type. Steps are kept as codes and
numbers; the report words them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .assessment import GradedOutcome, PopulationAssessment, grade_outcome
from .harms import HarmsSummary, harms_summary

CRITERIA = {"add_on": "benefit", "replacement": "equal"}


@dataclass(frozen=True)
class Step:
    """One step of the rule: a key into the wording table and the values it shows."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conclusion:
    meets: bool
    steps: list[Step]
    designs_met: list[str]  # comparison types for which the rule is met
    harms: HarmsSummary


def effect_values(o: GradedOutcome) -> dict[str, Any]:
    r = o.result
    spec = o.spec
    values: dict[str, Any] = {"population": spec.population, "outcome": spec.outcome, "window": spec.window}
    values.update(k=o.k, mid=o.mid, measure=spec.measure)
    values["policy"] = o.analysis.policy
    if r is not None:
        values.update(estimate=r.estimate, lo=r.ci_low, hi=r.ci_high)
    values["certainty"] = None if o.grading is None else o.grading.certainty
    values["relevance"] = o.relevance
    return values


def _where(o: GradedOutcome) -> dict[str, str]:
    return {"outcome": o.spec.outcome, "window": o.spec.window}


def design_step(o: GradedOutcome, design: str, needed: int) -> tuple[Step, bool]:
    """The rule for one comparison type: benefit (add-on) or equal value (replacement)."""
    criterion = CRITERIA[design]
    met = o.relevant if criterion == "benefit" else o.non_inferior
    certain = o.grading is not None and o.grading.certainty >= needed
    values = {**effect_values(o), "design": design, "criterion": criterion, "met": met, "meets": met and certain}
    return Step("design", values), met and certain


def conclude(pa: PopulationAssessment, harms: HarmsSummary | None = None) -> Conclusion:
    """Apply ZIN's rule to the crucial outcomes, per type of comparison (``harms``: the
    population's harms summary where the caller already has it)."""
    j = pa.judgements
    needed = j.certainty_needed_level
    crucial = {"population": pa.population, "outcomes": list(j.crucial_outcomes), "needed": needed}
    steps = [Step("crucial", {**crucial, "path": j.display_path})]
    qualifying: list[dict[str, str]] = []
    for o in pa.headline:
        if o.spec.outcome not in j.crucial_outcomes:
            continue
        if o.k == 0:
            steps.append(Step("outcome_empty", {"population": pa.population, **_where(o)}))
            continue
        steps.append(Step("outcome", effect_values(o)))
        designs = o.analysis.designs
        for design in CRITERIA:
            if not designs.get(design):
                continue
            variant = o.analysis.variant(design)
            assert variant is not None
            step, ok = design_step(grade_outcome(variant, j, pa.rules), design, needed)
            steps.append(step)
            if ok:
                qualifying.append({**_where(o), "design": design})
        unclear = designs.get("unclear", 0)
        if unclear:
            steps.append(Step("design_unclear", {**_where(o), "n": unclear}))
    harms = harms or harms_summary(pa.evidence, pa.population)
    steps.append(Step("harms", {"level": harms.level, "n": len(harms.studies_reporting)}))
    benefit = bool(qualifying)
    meets = benefit and harms.level != "important_harm"
    designs_met = sorted({q["design"] for q in qualifying}) if meets else []
    rule = {"population": pa.population, "needed": needed, "met": meets, "qualifying": qualifying}
    steps.append(Step("rule", {**rule, "harm": harms.level}))
    return Conclusion(meets, steps, designs_met, harms)
