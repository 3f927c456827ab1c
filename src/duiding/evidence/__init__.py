"""The evidence base: its schema, loading and validation, traceability, extraction to
effects, and the analysis plan's selection.

This room reads ``evidence/`` (never writes) and turns its rows into the effect sizes the
analyses take. It may import :mod:`duiding.meta` (for the effect-size formulas), the
configuration and the errors; nothing of ``grade`` or ``report``. No Dutch here: reasons
and derivations are codes, worded by the report.

Public names: ``load_evidence`` → :class:`EvidenceBase`; ``extract`` (effects per result);
``load_plan``, :class:`AnalysisPlan`, :class:`Spec`, ``all_specs`` (the plan);
``select`` → :class:`Selection`; ``summary`` (counts for ``duiding check``).
"""

from .base import EvidenceBase
from .cache import load_validated, save_validated
from .extraction import extract
from .load import load_evidence
from .plan import AnalysisPlan, Spec, Window, all_specs, load_plan
from .schema import POPULATIONS
from .selection import Selection, n_participants, select
from .summary import poolable, summary

__all__ = [
    "POPULATIONS",
    "AnalysisPlan",
    "EvidenceBase",
    "Selection",
    "Spec",
    "Window",
    "all_specs",
    "extract",
    "load_evidence",
    "load_plan",
    "load_validated",
    "n_participants",
    "poolable",
    "save_validated",
    "select",
    "summary",
]
