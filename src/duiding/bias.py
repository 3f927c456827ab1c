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

from .groups import Array, Grid
from .rma import Fit, fit_rma

MIN_K = 3


def iv_method(fit: Fit) -> str:
    return "FE" if fit.method in ("MH", "PETO") else fit.method


def sei_design(grid: Grid) -> Array:
    """Columns: intercept and √vi (padding zeroed)."""
    return np.stack([np.ones_like(grid.v), np.sqrt(grid.v)], axis=2) * grid.mask[..., None]


@dataclass(frozen=True)
class EggerTest:
    stat: Array
    pval: Array


def egger_test(fit: Fit) -> EggerTest:
    grid = finite(fit.grid)
    test = "z" if fit.method in ("MH", "PETO") else fit.test
    reg = fit_rma(grid, iv_method(fit), test, sei_design(grid))
    enough = grid.k >= MIN_K
    return EggerTest(np.where(enough, reg.stat[:, 1], np.nan), np.where(enough, reg.pval[:, 1], np.nan))


def finite(grid: Grid) -> Grid:
    """The grid without studies whose yi/vi are missing (e.g. double-zero under MH)."""
    mask = grid.mask & np.isfinite(grid.y) & np.isfinite(grid.v)
    return grid.with_values(grid.y, grid.v, mask)


@dataclass(frozen=True)
class TrimFill:
    k0: Array  # -1 where the algorithm did not converge
    side: np.ndarray  # "left" / "right"
    fit: Fit  # the model on the filled data (the original fit where k0 == 0)
    filled: Grid  # filled studies only (mask marks them)


def trim_and_fill(fit: Fit, maxiter: int = 100) -> TrimFill:
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
    k0 = np.where(converged, k0, -1)
    return TrimFill(k0=k0, side=np.where(right, "right", "left"), fit=final, filled=filled)


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


def _choose(use_first: np.ndarray, first: Fit, second: Fit) -> Fit:
    """Row-wise choice between two fits of the same groups (only the summary fields)."""

    def pick(a, b):
        shape = (-1,) + (1,) * (np.ndim(a) - 1)
        return np.where(use_first.reshape(shape), a, b)

    return Fit(
        method=second.method,
        test=second.test,
        grid=second.grid,
        X=second.X,
        beta=pick(first.beta, second.beta),
        se=pick(first.se, second.se),
        stat=pick(first.stat, second.stat),
        pval=pick(first.pval, second.pval),
        ci_low=pick(first.ci_low, second.ci_low),
        ci_high=pick(first.ci_high, second.ci_high),
        crit=pick(first.crit, second.crit),
        df=pick(first.df, second.df),
        tau2=pick(first.tau2, second.tau2),
        q=pick(first.q, second.q),
        q_pval=pick(first.q_pval, second.q_pval),
        q_df=pick(first.q_df, second.q_df),
        i2=pick(first.i2, second.i2),
        h2=pick(first.h2, second.h2),
        vt=pick(first.vt, second.vt),
        weights=second.weights,
    )
