"""Leave-one-out analyses, as metafor's ``leave1out``: the model refitted without each study.

All groups and all studies run through the same vectorised fit, in chunks whose size is
bounded (:meth:`~duiding.meta.grid.Grid.leave_one_out_chunks`), so memory grows linearly
with the number of studies. A fit without a study of a two-study analysis has k = 1 and
uses the z test (metafor does the same).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .grid import Array, Grid, PerGroup
from .inverse_variance import Fit

FIELDS = ("estimate", "se", "ci_low", "ci_high", "pval", "q", "q_pval", "tau2", "i2", "h2")


@dataclass(frozen=True)
class LeaveOneOut(PerGroup):
    """Per group and study: the fit without that study, as (G, K) arrays (NaN at padding)."""

    estimate: Array
    se: Array
    ci_low: Array
    ci_high: Array
    pval: Array
    q: Array
    q_pval: Array
    tau2: Array
    i2: Array
    h2: Array
    test_used: np.ndarray


def leave1out(grid: Grid, fit_grid: Callable[[Grid], Fit]) -> LeaveOneOut:
    """Refit every group once per study; ``fit_grid`` fits a grid with the original model."""
    shape = grid.y.shape
    out = {name: np.full(shape, np.nan) for name in FIELDS}
    test_used = np.full(shape, "", dtype=object)
    for groups, cells, loo_grid in grid.leave_one_out_chunks():
        fit = fit_grid(loo_grid)
        values = {
            "estimate": fit.estimate,
            "se": fit.se[:, 0],
            "ci_low": fit.ci_low[:, 0],
            "ci_high": fit.ci_high[:, 0],
            "pval": fit.pval[:, 0],
            "q": fit.q,
            "q_pval": fit.q_pval,
            "tau2": fit.tau2,
            "i2": fit.i2,
            "h2": fit.h2,
        }
        for name, value in values.items():
            out[name][groups, cells] = value
        test_used[groups, cells] = fit.test_used
    return LeaveOneOut(**out, test_used=test_used)
