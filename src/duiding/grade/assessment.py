"""A population's assessment: every analysis of the plan fitted and graded.

The graded outcomes (:class:`GradedOutcome`) are what the SoF table, the evidence
profile, the draft conclusion, the figures and the report take; the assessor's
judgements (thresholds, indirectness, overrides) are applied here on top of the rules'
suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..evidence import AnalysisPlan, EvidenceBase, Spec
from ..meta import MetaResult
from .analysis import AnalysisSet, OutcomeAnalysis, plan_analyses, stand_ins
from .domains import Grading, suggest
from .judgements import Judgements
from .rob import StudyRob
from .rules import GradeRules, load_rules


@dataclass
class GradedOutcome:
    """One analysis with its threshold, participants and (when it has studies) its grading."""

    analysis: OutcomeAnalysis
    mid: float
    grading: Grading | None = None
    participants: int = 0
    participants_complete: bool = True
    n_int: int = 0
    n_ctl: int = 0

    @property
    def spec(self) -> Spec:
        return self.analysis.spec

    @property
    def result(self) -> MetaResult | None:
        """The headline fit (see :class:`~duiding.grade.analysis.OutcomeAnalysis`)."""
        return self.analysis.result

    @property
    def k(self) -> int:
        return self.analysis.k

    @property
    def relevant(self) -> bool:
        """A clinically relevant benefit: the estimate beyond the threshold (strictly) and
        the CI excluding no effect. An estimate exactly at the threshold is not beyond it."""
        r = self.result
        return bool(r is not None and np.isfinite(r.ci_high) and r.estimate < -self.mid and r.ci_high < 0)

    @property
    def non_inferior(self) -> bool:
        """Equal value (ZIN, replacement): not worse by more than the threshold, i.e. the
        upper bound of the CI below +threshold (a non-inferiority reading of the CI)."""
        r = self.result
        return bool(r is not None and np.isfinite(r.ci_high) and r.ci_high < self.mid)

    @property
    def relevance(self) -> str:
        """relevant | possibly_relevant | below_threshold | no_difference | not_pooled | no_studies.

        ``relevant``: the whole CI beyond the threshold; ``possibly_relevant``: the estimate
        beyond it but the CI crossing it; ``below_threshold``: a benefit (CI excluding 0)
        smaller than the threshold, or at it."""
        r = self.result
        if self.k == 0:
            return "no_studies"
        if r is None:
            return "not_pooled"
        if not (np.isfinite(r.ci_high) and r.ci_high < 0):
            return "no_difference"
        if r.ci_high < -self.mid:
            return "relevant"
        return "possibly_relevant" if r.estimate < -self.mid else "below_threshold"


@dataclass
class PopulationAssessment:
    population: str
    judgements: Judgements
    outcomes: list[GradedOutcome]  # primary measure (MD on 0-100)
    alternative: list[GradedOutcome]  # SMD analyses
    robs: dict[str, StudyRob]
    design_counts: dict[str, int]
    evidence: EvidenceBase
    analyses: AnalysisSet
    rules: GradeRules

    @property
    def plan(self) -> AnalysisPlan:
        return self.analyses.plan

    def alternative_of(self, o: GradedOutcome) -> GradedOutcome:
        """The SMD analysis of the same outcome and window."""
        key = (o.spec.outcome, o.spec.window)
        return next(a for a in self.alternative if (a.spec.outcome, a.spec.window) == key)

    @property
    def headline(self) -> list[GradedOutcome]:
        """Per outcome and window the analysis the SoF table and the conclusion use: the MD
        on 0-100, or the SMD where no study's instrument range is known (then no study can
        be put on 0-100, but the SMD analysis still has them)."""
        smd = {(a.spec.outcome, a.spec.window): a for a in self.alternative}
        out = []
        for o in self.outcomes:
            alt = smd.get((o.spec.outcome, o.spec.window))
            out.append(alt if o.k == 0 and alt is not None and alt.k > 0 else o)
        return out


def grade_outcome(analysis: OutcomeAnalysis, judgements: Judgements, rules: GradeRules | None = None) -> GradedOutcome:
    """Fit, suggest the five domains, apply the assessor's judgements.

    Two heterogeneous studies that the plan does not pool are graded on the plain
    random-effects fit (its interval is what the evidence supports).
    """
    rules = rules or load_rules()
    spec = analysis.spec
    outcome = GradedOutcome(analysis, judgements.mid(spec.outcome, spec.measure))
    fit = analysis.result or analysis.plain
    if fit is None:
        return outcome
    outcome.participants, outcome.participants_complete, outcome.n_int, outcome.n_ctl = analysis.participants
    # A lower bound still settles the optimal information size once it reaches it.
    settled = outcome.participants_complete or outcome.participants >= rules.optimal_information_size
    n_total = outcome.participants if settled else None
    unpooled = analysis.unpooled_summary
    grading = suggest(fit, analysis.rob_of_studies(), outcome.mid, n_total, analysis.indirect, rules, unpooled)
    outcome.grading = judgements.apply(grading, spec.outcome, spec.window)
    return outcome


def grade_analyses(
    analyses: AnalysisSet, judgements: Judgements, rules: GradeRules | None = None, alternative: bool = True
) -> PopulationAssessment:
    """Grade every analysis of a population with the assessor's judgements (``alternative``
    False: the MD analyses and only those SMD analyses the conclusion reads, where the MD
    analysis has no study; see :attr:`PopulationAssessment.headline`)."""
    rules = rules or load_rules()
    ev, population = analyses.evidence, analyses.population
    smd = analyses.alternative if alternative else stand_ins(analyses.primary, analyses.alternative)
    return PopulationAssessment(
        population=population,
        judgements=judgements,
        outcomes=[grade_outcome(a, judgements, rules) for a in analyses.primary],
        alternative=[grade_outcome(a, judgements, rules) for a in smd],
        robs=analyses.robs,
        design_counts=analyses.design_counts,
        evidence=ev,
        analyses=analyses,
        rules=rules,
    )


def analyses_for(
    ev: EvidenceBase,
    judgements: Judgements,
    method: str = "REML",
    test: str = "knha",
    plan: AnalysisPlan | None = None,
    alternative: bool = True,
) -> AnalysisSet:
    """The plan's analyses for a population as the assessor's file sets them up."""
    return plan_analyses(
        ev,
        judgements.population,
        method,
        test,
        judgements.rob_ratings,
        judgements.mids("MD100"),
        judgements.indirect_studies == "include",
        plan,
        alternative,
    )


def assess(
    ev: EvidenceBase,
    judgements: Judgements,
    method: str = "REML",
    test: str = "knha",
    plan: AnalysisPlan | None = None,
    rules: GradeRules | None = None,
) -> PopulationAssessment:
    """Every analysis of the plan for one population, graded (MD on 0-100, then SMD)."""
    return grade_analyses(analyses_for(ev, judgements, method, test, plan), judgements, rules)
