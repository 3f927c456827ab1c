"""GRADE: risk of bias per study, the rules and the assessor's judgements, the graded
outcomes of a population, its draft conclusion and the Summary of Findings table.

This room imports :mod:`duiding.evidence` (selection, participants) and
:mod:`duiding.meta` (fits); nothing of ``report``. Reasons, steps and table cells are
codes and numbers, worded by the report.

Public names: ``load_judgements`` → :class:`Judgements`; ``assess`` →
:class:`PopulationAssessment` of :class:`GradedOutcome`; ``suggest`` → :class:`Grading`
of :class:`Rating`; ``conclude`` → :class:`Conclusion`; ``sof_table`` → :class:`SofTable`;
``study_robs`` → :class:`StudyRob`; ``load_rules`` → :class:`GradeRules`.
"""

from .analysis import (
    VARIANTS,
    AnalysisSet,
    OutcomeAnalysis,
    fit_rows,
    leave_one_out_range,
    plan_analyses,
    unrated_studies,
)
from .assessment import GradedOutcome, PopulationAssessment, analyses_for, assess, grade_analyses, grade_outcome
from .conclusion import Conclusion, Step, conclude
from .domains import DOMAINS, Grading, Phrase, Rating, Reason, suggest
from .harms import HarmsSummary, harms_summary
from .judgements import CERTAINTY, Judgements, load_judgements
from .profile import ProfileRow, evidence_profile
from .rob import NOT_ASSESSED, StudyRob, all_robs, load_assessor_ratings, study_robs
from .rules import GradeRules, load_rules
from .sof import Footnote, SofRow, SofTable, sof_table
from .tipping import TippingPoint, tipping_points

__all__ = [
    "CERTAINTY",
    "DOMAINS",
    "NOT_ASSESSED",
    "VARIANTS",
    "AnalysisSet",
    "Conclusion",
    "Footnote",
    "GradeRules",
    "GradedOutcome",
    "Grading",
    "HarmsSummary",
    "Judgements",
    "OutcomeAnalysis",
    "Phrase",
    "PopulationAssessment",
    "ProfileRow",
    "Rating",
    "Reason",
    "SofRow",
    "SofTable",
    "Step",
    "StudyRob",
    "TippingPoint",
    "all_robs",
    "analyses_for",
    "assess",
    "conclude",
    "evidence_profile",
    "fit_rows",
    "grade_analyses",
    "grade_outcome",
    "harms_summary",
    "leave_one_out_range",
    "load_assessor_ratings",
    "load_judgements",
    "load_rules",
    "plan_analyses",
    "sof_table",
    "study_robs",
    "suggest",
    "tipping_points",
    "unrated_studies",
]
