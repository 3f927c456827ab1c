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
ARRAYS = (*FIELDS, "s2w")
WARM_START_MIN_K = 1000


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
    s2w: Array  # Knapp-Hartung scale of each refit (1 for z)
    test_used: np.ndarray


def leave1out(grid: Grid, fit_grid: Callable[..., Fit], tau2: Array | None = None) -> LeaveOneOut:
    """Refit every group once per study; ``fit_grid(grid, start)`` fits with the original model.

    ``tau2`` (the full fits' estimates) starts the ML/REML iterations of the refits of
    groups with at least :data:`WARM_START_MIN_K` studies: one study less moves the root
    little, so they converge in a few rounds. The root is the same as from metafor's HE
    start to the iteration tolerance (1e-12); smaller groups start at HE, as metafor does,
    so that a root at the boundary τ² ≈ 0 is approached from the same side.
    """
    shape = grid.y.shape
    out = {name: np.full(shape, np.nan) for name in ARRAYS}
    test_used = np.full(shape, "", dtype=object)
    warm = None if tau2 is None else np.where(grid.k >= WARM_START_MIN_K, tau2, np.nan)
    for groups, cells, loo_grid in grid.leave_one_out_chunks():
        start = None if warm is None or np.isnan(warm[groups]).all() else warm[groups]
        fit = fit_grid(loo_grid, start)
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
            "s2w": fit.s2w,
        }
        for name, value in values.items():
            out[name][groups, cells] = value
        test_used[groups, cells] = fit.test_used
    return LeaveOneOut(**out, test_used=test_used)
