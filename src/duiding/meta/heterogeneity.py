"""Confidence intervals for τ², I² and H² by the Q-profile method (metafor's confint).

The bounds solve Q(τ²) = χ²-quantiles with k - p df; I² and H² bounds follow from the τ²
bounds through metafor's definitions. metafor searches up to ``tau2.max`` (by default
max(100, 10·τ̂²)) and reports that limit as the bound when the root lies beyond it; on a
0-100 scale real upper bounds of several hundred are common, so here the bracket is
widened until the generalised Q falls below the quantile (it always does: Q → 0 as
τ² → ∞). The result equals metafor's with ``control=list(tau2.max=1e7)`` wherever the
bound lies below 1e7.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import distributions as dist
from .grid import Array, PerGroup
from .inverse_variance import LEVEL, Fit
from .tau2 import RE_METHODS, bisect_q, generalised_q, n_params


@dataclass(frozen=True)
class HeterogeneityCI(PerGroup):
    """95% Q-profile confidence intervals for τ², I² (%) and H², per group."""

    tau2_low: Array
    tau2_high: Array
    i2_low: Array
    i2_high: Array
    h2_low: Array
    h2_high: Array


def widened(y: Array, v: Array, mask: np.ndarray, X: Array | None, target: Array, start: Array) -> Array:
    """The upper end of the search: ``start`` times 10 until Q(τ²) is at or below ``target``."""
    hi = start.copy()
    for _ in range(400):
        grow = np.isfinite(hi) & (generalised_q(y, v, mask, X, hi) > target)
        if not grow.any():
            break
        hi = np.where(grow, hi * 10, hi)
    return hi


def heterogeneity_ci(fit: Fit) -> HeterogeneityCI:
    """95% Q-profile intervals; NaN for models without τ² (FE, MH, Peto) or k = 1."""
    g = fit.grid
    X = fit.X
    df = (g.k - n_params(X)).astype(float)
    n = len(df)
    if fit.method not in RE_METHODS:
        nan = np.full(n, np.nan)
        return HeterogeneityCI(nan, nan, nan, nan, nan, nan)
    alpha = 1 - LEVEL
    dfp = np.maximum(df, 1)
    crit_u = dist.chi2_isf(alpha / 2, dfp)
    crit_l = dist.chi2_ppf(alpha / 2, dfp)
    zero = np.zeros(n)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t_max = widened(g.y, g.v, g.mask, X, crit_l, np.maximum(100.0, 10 * fit.tau2))
        q0 = generalised_q(g.y, g.v, g.mask, X, zero)
        qmax = generalised_q(g.y, g.v, g.mask, X, t_max)
        root_l = bisect_q(g.y, g.v, g.mask, X, crit_l, zero, t_max)
        root_u = bisect_q(g.y, g.v, g.mask, X, crit_u, zero, t_max)
    ub = np.where(q0 < crit_l, 0.0, np.where(qmax > crit_l, t_max, root_l))
    lb = np.where(q0 < crit_l, 0.0, np.where(q0 < crit_u, 0.0, root_u))
    beyond = qmax > crit_u
    lb = np.where(beyond, t_max, lb)
    ub = np.where(beyond, t_max, ub)
    invalid = df < 1
    lb = np.where(invalid, np.nan, lb)
    ub = np.where(invalid, np.nan, ub)
    vt = fit.vt
    return HeterogeneityCI(
        tau2_low=lb,
        tau2_high=ub,
        i2_low=100 * lb / (vt + lb),
        i2_high=100 * ub / (vt + ub),
        h2_low=lb / vt + 1,
        h2_high=ub / vt + 1,
    )
