"""A population's assessment: every analysis of the plan fitted and graded.

The graded outcomes (:class:`GradedOutcome`) are what the SoF table, the draft
conclusion, the figures and the report take; the assessor's judgements (thresholds,
indirectness, overrides) are applied here on top of the rules' suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..evidence import EvidenceBase, Spec, n_participants
from ..meta import MetaResult
from .analysis import AnalysisSet, OutcomeAnalysis, plan_analyses
from .domains import Grading, suggest
from .judgements import Judgements
from .rob import StudyRob
from .rules import load_rules


@dataclass
class GradedOutcome:
    """One analysis with its threshold, participants and (when it has studies) its grading."""

    analysis: OutcomeAnalysis
    mid: float
    grading: Grading | None = None
    participants: int = 0
    participants_complete: bool = True

    @property
    def spec(self) -> Spec:
        return self.analysis.spec

    @property
    def result(self) -> MetaResult | None:
        return self.analysis.result

    @property
    def k(self) -> int:
        return self.analysis.k

    @property
    def relevant(self) -> bool | None:
        """Point estimate at or beyond the threshold in favour of therapy, CI excluding 0."""
        r = self.result
        if r is None or not pd.notna(r.ci_high):
            return None
        return r.estimate <= -self.mid and r.ci_high < 0


@dataclass
class PopulationAssessment:
    population: str
    judgements: Judgements
    outcomes: list[GradedOutcome]  # primary measure (MD on 0-100)
    alternative: list[GradedOutcome]  # SMD analyses
    robs: dict[str, StudyRob]
    design_counts: dict[str, int]
    evidence: EvidenceBase


def grade_outcome(analysis: OutcomeAnalysis, judgements: Judgements) -> GradedOutcome:
    """Fit, suggest the five domains, apply the assessor's judgements."""
    spec = analysis.spec
    outcome = GradedOutcome(analysis, judgements.mid(spec.outcome, spec.measure))
    res = analysis.result
    if res is None:
        return outcome
    outcome.participants, outcome.participants_complete = n_participants(analysis.selection.rows)
    ois = load_rules().optimal_information_size
    # A lower bound still settles the optimal information size once it reaches it.
    known = outcome.participants_complete or outcome.participants >= ois
    grading = suggest(res, analysis.rob_of_studies(), outcome.mid, outcome.participants if known else None)
    outcome.grading = judgements.apply(grading, spec.outcome, spec.window)
    return outcome


def grade_analyses(analyses: AnalysisSet, judgements: Judgements) -> PopulationAssessment:
    """Grade every analysis of a population with the assessor's judgements."""
    ev, population = analyses.evidence, analyses.population
    results = ev.of("results", population)
    designs = results.drop_duplicates("study_id")["comparison_design"].value_counts().to_dict()
    return PopulationAssessment(
        population=population,
        judgements=judgements,
        outcomes=[grade_outcome(a, judgements) for a in analyses.primary],
        alternative=[grade_outcome(a, judgements) for a in analyses.alternative],
        robs=analyses.robs,
        design_counts=designs,
        evidence=ev,
    )


def assess(ev: EvidenceBase, judgements: Judgements, method: str = "REML", test: str = "knha") -> PopulationAssessment:
    """Every analysis of the plan for one population, graded (MD on 0-100, then SMD)."""
    analyses = plan_analyses(ev, judgements.population, method, test, judgements.rob_ratings)
    return grade_analyses(analyses, judgements)
