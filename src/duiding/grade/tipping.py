"""Tipping points ("kantelpunten"): which single assessor choice would flip the draft
conclusion of a population, and at what value.

Each choice is changed on its own, everything else kept as the assessor's file and the
plan set it, and the whole assessment is recomputed:

- the clinical relevance threshold of each crucial outcome (MD on 0-100), over a grid;
- the certainty needed (each GRADE level);
- indirect studies in or out of the primary analyses;
- the policy for very few studies (on, or plain random effects with Knapp-Hartung);
- the rule for studies without a risk-of-bias rating (counted as low, some or high);
- which comparators count as the care a therapy replaces (the plan's
  ``equal_value_comparators``, or every comparator type: each trial coded as a
  replacement then read as a non-inferiority comparison).

A WAR member then sees at once how robust the conclusion is. Nothing here is written by
hand: every value is the conclusion of a recomputed assessment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..evidence import AnalysisPlan, EvidenceBase
from .analysis import AnalysisSet
from .assessment import analyses_for, grade_analyses
from .conclusion import conclude
from .harms import harms_summary
from .judgements import CERTAINTY, Judgements
from .rules import GradeRules, load_rules

THRESHOLD_GRID = tuple(float(x) for x in np.arange(1.0, 30.5, 0.5))


@dataclass(frozen=True)
class TippingPoint:
    choice: str  # threshold | certainty_needed | indirect_studies | small_k | unrated_rob | equal_value
    outcome: str | None
    current: Any
    flips_at: list[Any]  # the values of the choice for which the conclusion flips
    meets_now: bool

    @property
    def robust(self) -> bool:
        return not self.flips_at

    def ranges(self) -> list[tuple[Any, Any]]:
        """Threshold flips as runs of the grid: [(1.0, 3.5), (11.5, 30.0)]."""
        if self.choice != "threshold":
            return [(v, v) for v in self.flips_at]
        step = THRESHOLD_GRID[1] - THRESHOLD_GRID[0]
        runs: list[tuple[Any, Any]] = []
        for v in self.flips_at:
            if runs and abs(v - runs[-1][1] - step) < 1e-9:
                runs[-1] = (runs[-1][0], v)
            else:
                runs.append((v, v))
        return runs


class _Recompute:
    """Recomputes the draft conclusion with one choice changed (MD analyses only; the
    harms summary does not depend on any choice and is read once)."""

    def __init__(self, ev: EvidenceBase, judgements: Judgements, method: str, test: str) -> None:
        self.ev, self.judgements, self.method, self.test = ev, judgements, method, test
        self.rules = load_rules()
        self.harms = harms_summary(ev, judgements.population)
        self.analyses = self.setup(judgements)
        self.now = self.meets()

    def setup(self, j: Judgements, plan: AnalysisPlan | None = None) -> AnalysisSet:
        return analyses_for(self.ev, j, self.method, self.test, plan, alternative=False)

    def meets(self, j: Judgements | None = None, a: AnalysisSet | None = None, r: GradeRules | None = None) -> bool:
        graded = grade_analyses(a or self.analyses, j or self.judgements, r or self.rules, alternative=False)
        return conclude(graded, self.harms).meets

    def flips(self, j: Judgements | None = None, a: AnalysisSet | None = None, r: GradeRules | None = None) -> bool:
        return self.meets(j, a, r) != self.now


def tipping_points(
    ev: EvidenceBase, judgements: Judgements, method: str = "REML", test: str = "knha"
) -> list[TippingPoint]:
    """Every single-choice tipping point of one population's draft conclusion."""
    run = _Recompute(ev, judgements, method, test)
    now, j = run.now, judgements
    points = [_threshold_point(run, outcome) for outcome in j.crucial_outcomes]
    flips = [level for level in CERTAINTY if run.flips(replace(j, certainty_needed=level))]
    points.append(TippingPoint("certainty_needed", None, j.certainty_needed, flips, now))
    other = "exclude" if j.indirect_studies == "include" else "include"
    changed = replace(j, indirect_studies=other)
    flips = [other] if run.flips(changed, run.setup(changed)) else []
    points.append(TippingPoint("indirect_studies", None, j.indirect_studies, flips, now))
    plan = run.analyses.plan
    flips = ["plain"] if plan.small_k is not None and run.flips(a=run.setup(j, plan.without_small_k())) else []
    points.append(TippingPoint("small_k", None, "policy" if plan.small_k else "plain", flips, now))
    current = run.rules.risk_of_bias.not_assessed_as
    flips = []
    for level in ("low", "some", "high"):
        rules = replace(run.rules, risk_of_bias=replace(run.rules.risk_of_bias, not_assessed_as=level))
        if level != current and run.flips(r=rules):
            flips.append(level)
    points.append(TippingPoint("unrated_rob", None, current, flips, now))
    if plan.benefit_controls:
        wider = run.setup(j, plan.with_equal_value_for_every_comparator())
        points.append(
            TippingPoint("equal_value", None, "existing_care", ["every_comparator"] if run.flips(a=wider) else [], now)
        )
    return points


def _threshold_point(run: _Recompute, outcome: str) -> TippingPoint:
    """The relevance threshold of one crucial outcome over the grid. The threshold also
    sets which final values are left out for baseline imbalance, so the studies are
    selected anew wherever that changes."""
    j = run.judgements
    gaps = _final_value_gaps(run.analyses, outcome)
    share = run.analyses.plan.imbalance_share
    regimes = {int((gaps >= share * j.mid(outcome, "MD100")).sum()): run.analyses}
    flips = []
    for mid in THRESHOLD_GRID:
        changed = replace(j, thresholds={**j.thresholds, outcome: {**j.thresholds[outcome], "MD100": mid}})
        key = int((gaps >= share * mid).sum())
        if key not in regimes:
            regimes[key] = run.setup(changed)
        if run.flips(changed, regimes[key]):
            flips.append(mid)
    return TippingPoint("threshold", outcome, j.mid(outcome, "MD100"), flips, run.now)


def _final_value_gaps(analyses: AnalysisSet, outcome: str) -> np.ndarray:
    """Baseline gaps (0-100) of every final-value result the outcome could take."""
    plan, extracted = analyses.plan, analyses.evidence.extracted
    codes = plan.outcomes[outcome].accepts(analyses.population)
    mine = extracted[(extracted["_population"] == analyses.population) & extracted["outcome"].isin(codes)]
    return mine["baseline_gap_100"].dropna().to_numpy(float)
