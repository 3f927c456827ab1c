"""The Summary of Findings table: one row per outcome and window, footnotes naming each downgrade.

GRADE's SoF layout (Cochrane Handbook 14.1): outcome, the mean in the control group, the
effect with its CI, participants (studies), certainty and comments, with a footnote for
every domain rated down or set by the assessor (MECIR C74/C75). The table is data; the
report words it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .assessment import GradedOutcome, PopulationAssessment
from .domains import DOMAINS, Rating


@dataclass(frozen=True)
class Footnote:
    domain: str
    rating: Rating


@dataclass(frozen=True)
class SofRow:
    outcome: str
    window: str
    measure: str
    control_median: float | None  # 0-100, 0 = best, over studies reporting final arm means
    control_studies: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    participants: int
    participants_complete: bool
    k: int
    certainty: int | None
    notes: tuple[int, ...]  # 1-based footnote numbers
    comment: str  # GradedOutcome.relevance
    policy: str  # the analysis' policy for very few studies
    substitutes: tuple[str, ...]  # studies whose result uses a substitute outcome
    baseline_flags: tuple[str, ...]  # studies compared on final values across a baseline imbalance
    unpooled: tuple[tuple[str, int], ...] = ()  # studies beside the pool: (direction, count)


@dataclass(frozen=True)
class SofTable:
    rows: list[SofRow]
    footnotes: list[Footnote]


def control_median(o: GradedOutcome) -> tuple[float | None, int]:
    """Median control-group value on 0-100 (0 = best) over studies reporting final arm means."""
    rows = o.analysis.selection.rows
    arms = rows[rows["data_form"].str.startswith("arms") & (rows["value_type"] == "final")]
    values = arms["ctl_0_100"].dropna() if "ctl_0_100" in arms else arms.iloc[:0]
    return (float(values.median()), len(values)) if len(values) else (None, 0)


def sof_table(pa: PopulationAssessment) -> SofTable:
    rows, notes = [], []
    for o in pa.headline:  # every row: a cap of seven cut crucial outcomes off
        r, g = o.result, o.grading
        marks = []
        if g is not None:
            for d in DOMAINS:
                rating = g.ratings[d]
                if rating.level < 0 or rating.overridden:
                    notes.append(Footnote(d, rating))
                    marks.append(len(notes))
        median, n_ctl = control_median(o) if o.k else (None, 0)
        rows_ = o.analysis.selection.rows
        rows.append(
            SofRow(
                outcome=o.spec.outcome,
                window=o.spec.window,
                measure=o.spec.measure,
                control_median=median,
                control_studies=n_ctl,
                estimate=None if r is None else r.estimate,
                ci_low=None if r is None else r.ci_low,
                ci_high=None if r is None else r.ci_high,
                participants=o.participants,
                participants_complete=o.participants_complete,
                k=o.k,
                certainty=None if g is None else g.certainty,
                notes=tuple(marks),
                comment=o.relevance,
                policy=o.analysis.policy,
                substitutes=tuple(rows_.loc[rows_["substitute"].astype(bool), "study_id"]) if o.k else (),
                baseline_flags=tuple(rows_.loc[rows_["baseline_flag"].astype(bool), "study_id"]) if o.k else (),
                unpooled=o.analysis.selection.directions,
            )
        )
    return SofTable(rows, notes)
