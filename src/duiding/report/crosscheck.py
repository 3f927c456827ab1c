"""The review cross-check: every pooled result of a published review beside ours, in our
sign convention, with k and certainty on both sides, or with the reason it is not linked.

Reviews print effects in their own direction (``effect_definition``); we show them as we
show ours, negative favouring the therapy, so that a reader never compares a benefit with a
harm. A row is linked when its outcome, window and measure meet one of our analyses;
otherwise it names the concrete reason (``review_results.link_reason``, or one of ours:
an outcome we do not pool, a ratio measure, an MD not on 0-100, no estimate of ours).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..evidence import AnalysisPlan
from ..grade import GradedOutcome, PopulationAssessment
from . import blocks as b
from .text import certainty_label, label, num, phrase

REVIEW_CERTAINTY = {"high": 4, "moderate": 3, "low": 2, "very_low": 1}


@dataclass(frozen=True)
class Link:
    """Our analysis for a review row (``ours``), or the reason (a code) why there is none."""

    ours: GradedOutcome | None
    reason: str | None
    our_outcome: str | None = None  # the plan outcome the row was linked to


def in_our_direction(row: pd.Series) -> tuple[float, float | None, float | None]:
    """The review's effect and CI with negative favouring the therapy (ratios unchanged)."""
    effect, lo, hi = float(row["effect"]), row["ci_low"], row["ci_high"]
    lo = None if pd.isna(lo) else float(lo)
    hi = None if pd.isna(hi) else float(hi)
    if row["effect_definition"] == "ctl_minus_int":
        return -effect, None if hi is None else -hi, None if lo is None else -lo
    return effect, lo, hi


def plan_outcome(plan: AnalysisPlan, population: str, code: str) -> str | None:
    """The plan outcome a review's outcome code answers: a direct code first, then a substitute."""
    outcomes = plan.outcomes_for(population)
    direct = [o for o in outcomes if code in plan.outcomes[o].codes[population]]
    substitute = [o for o in outcomes if code in plan.outcomes[o].substitutes.get(population, ())]
    return (direct or substitute or [None])[0]


def link(pa: PopulationAssessment, row: pd.Series) -> Link:
    """Which of our analyses a review row is set beside, or why none."""
    if pd.notna(row.get("link_reason")) and row["link_reason"]:
        return Link(None, str(row["link_reason"]))
    if row["effect_measure"] not in ("MD", "SMD") or row["effect_definition"] == "int_over_ctl":
        return Link(None, "ratio_measure")
    outcome = plan_outcome(pa.plan, pa.population, row["outcome"])
    if outcome is None:
        return Link(None, "outcome_not_in_plan")
    window = row["window"] if pd.notna(row["window"]) else pa.plan.window_of(row["timepoint_weeks"])
    if window is None:
        return Link(None, "no_window")
    if row["effect_measure"] == "MD" and "0-100" not in str(row["scale_note"]).replace("‐", "-"):
        return Link(None, "md_other_scale")
    pool = pa.alternative if row["effect_measure"] == "SMD" else pa.outcomes
    match = next((o for o in pool if (o.spec.outcome, o.spec.window) == (outcome, window)), None)
    if match is None or match.result is None:
        return Link(None, "no_own_estimate", outcome)
    return Link(match, None, outcome)


def interval(estimate: float, lo: float | None, hi: float | None, digits: int) -> str:
    if lo is None or hi is None:
        return num(estimate, digits)
    return f"{num(estimate, digits)} (95%-BI {num(lo, digits)} tot {num(hi, digits)})"


def review_crosscheck(pa: PopulationAssessment) -> list[b.Block]:
    rr = pa.evidence.of("review_results", pa.population)
    if rr.empty:
        return []
    rows, linked = [], 0
    for _, r in rr.iterrows():
        digits = 2 if r["effect_measure"] == "SMD" else 1
        effect, lo, hi = in_our_direction(r)
        k = "–" if pd.isna(r["n_studies"]) else f"{int(r['n_studies'])}"
        certainty = REVIEW_CERTAINTY.get(r["certainty"])
        theirs = f"{k}; {certainty_label(certainty).lower() if certainty else 'niet vermeld'}"
        found = link(pa, r)
        ours, ours_k, note = "–", "–", label("link_reasons", found.reason) if found.reason else "gekoppeld"
        if found.ours is not None:
            linked += 1
            res, g = found.ours.result, found.ours.grading
            assert res is not None
            ours = interval(res.estimate, res.ci_low, res.ci_high, digits)
            ours_k = f"{res.k}; {certainty_label(g.certainty).lower() if g else '–'}"
            if found.our_outcome and r["outcome"] not in pa.plan.outcomes[found.our_outcome].codes[pa.population]:
                note = phrase(
                    label("link_reasons", "substitute_outcome"),
                    {
                        "ours": label("outcomes", found.our_outcome).lower(),
                        "theirs": label("outcomes", r["outcome"]).lower(),
                    },
                )
        window = label("windows", r["window"]) if pd.notna(r["window"]) else "–"
        measure = r["effect_measure"]
        if measure == "MD":
            measure = "MD, 0-100" if "0-100" in str(r["scale_note"]).replace("‐", "-") else "MD, andere schaal"
        rows.append(
            [
                r["review_id"],
                r["comparison"],
                label("outcomes", r["outcome"]),
                window,
                measure,
                interval(effect, lo, hi, digits),
                theirs,
                ours,
                ours_k,
                note,
            ]
        )
    intro = (
        f"Gepoolde resultaten uit gepubliceerde reviews naast onze schatting voor dezelfde uitkomstmaat, termijn en "
        f"maat. Alle effecten op pijn en functioneren staan in onze richting: negatief is in het voordeel van fysio- "
        f"en oefentherapie (waar "
        f"een review het andersom drukt, is het teken omgekeerd). {linked} van de {len(rr)} rijen zijn gekoppeld; "
        "bij de andere staat waarom niet. Verschillen komen door andere studiesets, vergelijkingen en maten."
    )
    columns = [
        "Review",
        "Vergelijking (zoals gepubliceerd)",
        "Uitkomst",
        "Termijn",
        "Maat",
        "Review: effect",
        "Review: studies; zekerheid",
        "Onze schatting",
        "Wij: studies; zekerheid",
        "Koppeling",
    ]
    return [
        b.Heading("Vergelijking met gepoolde resultaten uit reviews", 3, f"reviews-{pa.population}"),
        b.Paragraph(intro),
        b.Table(
            columns,
            rows,
            caption=f"Reviews naast onze analyses ({len(rr)} rijen)",
            langs=[None, "en"],  # the review's comparison in its own (English) words
        ),
    ]
