"""The meta-analysis engine: effect sizes, models and the methods on a fit, exact to metafor.

This room holds numbers only: no pandas, no Dutch, no files. It may import nothing of the
other rooms (only :mod:`duiding.errors`). The pipeline follows metafor (``escalc`` →
``rma`` → methods on the fit) and PyMARE (dataset → estimator → results):

- :mod:`.escalc`: effect sizes per study and the SDs that sources leave out;
- :mod:`.grid`: many analyses padded into one (groups × studies) array;
- :mod:`.tau2`, :mod:`.inverse_variance`, :mod:`.mantel_haenszel`: the estimators and fits;
- :mod:`.heterogeneity`, :mod:`.small_study`, :mod:`.leave1out`: the methods on a fit;
- :mod:`.model`, :mod:`.result`: the dataset, the model and the one result object.

Public names: ``rma`` and ``fit`` create results; :class:`MetaResult` (one analysis) and
:class:`MetaBatch` (many) carry the verbs ``confint``, ``predict``, ``regtest``,
``trimfill``, ``leave1out``, ``subgroups`` and ``update``.
"""

from .escalc import (
    BINARY_MEASURES,
    CONTINUOUS_MEASURES,
    MEASURES,
    SMALL_SAMPLE,
    EffectSizes,
    Table2x2,
    binary_effects,
    from_confidence_interval,
    hedges_correction,
    mean_difference,
    sd_from_ci,
    sd_from_se,
    se_from_ci,
    standardised_mean_difference,
)
from .heterogeneity import HeterogeneityCI
from .inverse_variance import IV_METHODS, TESTS
from .leave1out import LeaveOneOut
from .model import METHODS, Model, StudyData
from .result import MetaBatch, MetaResult, Prediction, SubgroupBatch, SubgroupResult, fit, rma
from .small_study import RegTest, TrimFill
from .tau2 import RE_METHODS

__all__ = [
    "BINARY_MEASURES",
    "CONTINUOUS_MEASURES",
    "IV_METHODS",
    "MEASURES",
    "METHODS",
    "RE_METHODS",
    "SMALL_SAMPLE",
    "TESTS",
    "EffectSizes",
    "HeterogeneityCI",
    "LeaveOneOut",
    "MetaBatch",
    "MetaResult",
    "Model",
    "Prediction",
    "RegTest",
    "StudyData",
    "SubgroupBatch",
    "SubgroupResult",
    "Table2x2",
    "TrimFill",
    "binary_effects",
    "fit",
    "from_confidence_interval",
    "hedges_correction",
    "mean_difference",
    "rma",
    "sd_from_ci",
    "sd_from_se",
    "se_from_ci",
    "standardised_mean_difference",
]
