"""Small-study effects: Egger's regression test and trim-and-fill, as metafor.

Egger: metafor's ``regtest`` default, a meta-regression on the standard error with the
model's own τ² estimator and test. Trim-and-fill: metafor's ``trimfill`` with the L0
estimator; the side is chosen from the sign of that same regression slope. Both run on
the study-level yi/vi; for MH and Peto fits that means a fixed-effect model, as metafor's
functions only take rma.uni fits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import Array, Grid, PerGroup
from .inverse_variance import Fit, fit_rma

MIN_K = 3


def iv_method(fit: Fit) -> str:
    return "FE" if fit.method in ("MH", "PETO") else fit.method


def sei_design(grid: Grid) -> Array:
    """Columns: intercept and √vi (padding zeroed)."""
    return np.stack([np.ones_like(grid.v), np.sqrt(grid.v)], axis=2) * grid.mask[..., None]


@dataclass(frozen=True)
class RegTest(PerGroup):
    """Regression test for funnel-plot asymmetry (NaN where k < 3)."""

    predictor: str
    stat: Array
    pval: Array


def regtest(fit: Fit) -> RegTest:
    """Egger's test: metafor's ``regtest`` default (predictor sei, the model's own test)."""
    grid = finite(fit.grid)
    test = "z" if fit.method in ("MH", "PETO") else fit.test
    reg = fit_rma(grid, iv_method(fit), test, sei_design(grid))
    enough = grid.k >= MIN_K
    return RegTest("sei", np.where(enough, reg.stat[:, 1], np.nan), np.where(enough, reg.pval[:, 1], np.nan))


def finite(grid: Grid) -> Grid:
    """The grid without studies whose yi/vi are missing (e.g. double-zero under MH)."""
    mask = grid.mask & np.isfinite(grid.y) & np.isfinite(grid.v)
    return grid.with_values(grid.y, grid.v, mask)


@dataclass(frozen=True)
class TrimFill(PerGroup):
    """Trim-and-fill per group: studies filled, side, and the model on the filled data."""

    available: np.ndarray  # k ≥ 3 and the algorithm converged (metafor stops with an error otherwise)
    k0: np.ndarray
    side: np.ndarray  # "left" / "right"
    estimate: Array
    se: Array
    ci_low: Array
    ci_high: Array
    pval: Array


def trimfill(fit: Fit, maxiter: int = 100) -> TrimFill:
    """L0 trim-and-fill per group; the refit uses a z test, as metafor's refit does."""
    grid = finite(fit.grid)
    method = iv_method(fit)
    g, width = grid.y.shape
    k = grid.k
    slope = fit_rma(grid, method, "z", sei_design(grid)).beta[:, 1]
    right = slope < 0
    sign = np.where(right, -1.0, 1.0)
    y = grid.y * sign[:, None]
    order = np.argsort(np.where(grid.mask, y, np.inf), axis=1, kind="stable")
    ys = np.take_along_axis(y, order, 1)
    vs = np.take_along_axis(grid.v, order, 1)
    ms = np.take_along_axis(grid.mask, order, 1)
    pos = np.arange(width)[None, :]
    k0 = np.zeros(g, dtype=np.int64)
    beta = np.zeros(g)
    active = np.flatnonzero(k >= MIN_K)
    for _ in range(maxiter):
        if active.size == 0:
            break
        a_ys, a_vs, a_ms = ys[active], vs[active], ms[active]
        trimmed = a_ms & (pos < (k[active] - k0[active])[:, None])
        fit_t = fit_rma(Grid(a_ys, a_vs, trimmed, np.where(trimmed, 0, -1)), method, "z")
        beta[active] = fit_t.estimate
        new_k0 = _l0(a_ys - beta[active][:, None], a_ms, k[active])
        changed = new_k0 != k0[active]
        k0[active] = new_k0
        active = active[changed]
    converged = np.ones(g, dtype=bool)
    converged[active] = False  # metafor stops with an error here; we report no result
    k0 = np.where(k >= MIN_K, k0, 0)
    filled = _filled(ys, vs, ms, k, k0, beta, sign)
    all_y = np.concatenate([grid.y, filled.y], axis=1)
    all_v = np.concatenate([grid.v, filled.v], axis=1)
    all_m = np.concatenate([grid.mask, filled.mask], axis=1)
    refit = fit_rma(Grid(all_y, all_v, all_m, np.where(all_m, 0, -1)), method, "z")
    base = fit if method == fit.method else fit_rma(grid, method, "z")
    final = _choose(k0 > 0, refit, base)
    return TrimFill(
        available=(k >= MIN_K) & converged,
        k0=k0,
        side=np.where(right, "right", "left"),
        estimate=final["beta"],
        se=final["se"],
        ci_low=final["ci_low"],
        ci_high=final["ci_high"],
        pval=final["pval"],
    )


def _l0(centred: Array, mask: np.ndarray, k: Array) -> np.ndarray:
    """L0 = (4 Sr - k(k+1)) / (2k - 1), Sr the sum of positive signed ranks of |yi - β|."""
    key = np.where(mask, np.abs(centred), np.inf)
    rank = np.empty_like(key)
    idx = np.argsort(key, axis=1, kind="stable")
    np.put_along_axis(rank, idx, np.arange(1, key.shape[1] + 1, dtype=float)[None, :], 1)
    sr = np.sum(np.where(mask & (centred > 0), rank, 0.0), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        l0 = (4 * sr - k * (k + 1)) / (2 * k - 1)
    return np.maximum(0, np.round(np.nan_to_num(l0))).astype(np.int64)


def _filled(ys: Array, vs: Array, ms: np.ndarray, k: Array, k0: Array, beta: Array, sign: Array) -> Grid:
    """Mirror the k0 most extreme studies around the trimmed estimate (original scale)."""
    pos = np.arange(ys.shape[1])[None, :]
    take = ms & (pos >= (k - k0)[:, None])
    y = np.where(take, (2 * beta[:, None] - ys) * sign[:, None], 0.0)
    v = np.where(take, vs, 1.0)
    return Grid(y, v, take, np.where(take, 0, -1))


def _choose(use_first: np.ndarray, first: Fit, second: Fit) -> dict[str, Array]:
    """Row-wise choice between two fits of the same groups: the summary of the model used."""
    keep = use_first[:, None]
    return {
        name: np.where(keep, getattr(first, name), getattr(second, name))[:, 0]
        for name in ("beta", "se", "ci_low", "ci_high", "pval")
    }
