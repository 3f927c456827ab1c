"""The draft conclusion of one population, with every step of ZIN's rule written down.

ZIN's rule (framework "Beoordeling stand van de wetenschap en praktijk", 2015; methods
notes): the therapy meets "de stand van de wetenschap en praktijk" when at least one
crucial outcome shows a clinically relevant benefit at adequate certainty and there is no
important harm. Crucial outcomes, the certainty needed and the thresholds come from the
assessor's file. Steps are kept as codes and numbers; the report words them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .assessment import GradedOutcome, PopulationAssessment


@dataclass(frozen=True)
class Step:
    """One step of the rule: a key into the wording table and the values it shows."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conclusion:
    meets: bool
    steps: list[Step]


def outcome_step(o: GradedOutcome, needed: int) -> tuple[Step, bool]:
    """The step for one crucial outcome and window, and whether it meets the criterion."""
    base = {"outcome": o.spec.outcome, "window": o.spec.window}
    r = o.result
    if r is None or o.grading is None:
        return Step("outcome_empty", base), False
    ok = bool(o.relevant) and o.grading.certainty >= needed
    values = {
        **base,
        "k": o.k,
        "estimate": r.estimate,
        "lo": r.ci_low,
        "hi": r.ci_high,
        "mid": o.mid,
        "relevant": bool(o.relevant),
        "certainty": o.grading.certainty,
        "meets": ok,
    }
    return Step("outcome", values), ok


def conclude(pa: PopulationAssessment) -> Conclusion:
    """Apply ZIN's rule to the crucial outcomes of the primary analyses."""
    j = pa.judgements
    needed = j.certainty_needed_level
    steps = [Step("crucial", {"outcomes": list(j.crucial_outcomes), "needed": needed, "path": j.display_path})]
    qualifying = []
    for o in pa.outcomes:
        if o.spec.outcome not in j.crucial_outcomes:
            continue
        step, ok = outcome_step(o, needed)
        steps.append(step)
        if ok:
            qualifying.append({"outcome": o.spec.outcome, "window": o.spec.window})
    steps.append(Step("harms_not_assessed"))
    meets = bool(qualifying)
    steps.append(Step("rule", {"needed": needed, "met": meets, "qualifying": qualifying}))
    return Conclusion(meets, steps)
