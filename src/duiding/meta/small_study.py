"""Small-study effects: regression tests, Begg's rank test and trim-and-fill, as metafor.

Regression test: metafor's ``regtest``, a meta-regression of the effects on a predictor
with the model's own τ² estimator and test: the standard error (Egger's test, the
default), the variance, the sample size or its inverse. Rank test: metafor's ``ranktest``
(Begg and Mazumdar 1994), Kendall's τ between the standardised effects and their
variances, with R's exact p-value where there are no ties. Trim-and-fill: metafor's
``trimfill`` with the L0 estimator; the side is chosen from the sign of the Egger slope.
All run on the study-level yi/vi; for MH and Peto fits that means a fixed-effect model,
as metafor's functions only take rma.uni fits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import Array, Grid, PerGroup
from .inverse_variance import Fit, fit_rma

MIN_K = 3


def iv_method(fit: Fit) -> str:
    return "FE" if fit.method in ("MH", "PETO") else fit.method


PREDICTORS = ("sei", "vi", "ni", "ninv")


def design(grid: Grid, column: Array) -> Array:
    """Columns: intercept and the predictor (padding zeroed)."""
    return np.stack([np.ones_like(grid.v), column], axis=2) * grid.mask[..., None]


def sei_design(grid: Grid) -> Array:
    return design(grid, np.sqrt(grid.v))


@dataclass(frozen=True)
class RegTest(PerGroup):
    """Regression test for funnel-plot asymmetry; NaN where k < 3 or the predictor is constant."""

    predictor: str
    stat: Array
    pval: Array
    defined: np.ndarray  # False where the design is not of full rank (e.g. all SEs equal)


def regtest(fit: Fit, predictor: str = "sei", ni: Array | None = None) -> RegTest:
    """metafor's ``regtest`` with predictor sei (Egger), vi, ni or ninv and the model's test.

    ``ni`` is the total sample size per study laid out on the fit's grid (needed for the
    ni and ninv predictors).
    """
    grid = finite(fit.grid)
    if predictor in ("sei", "vi"):
        column = np.sqrt(grid.v) if predictor == "sei" else grid.v
    elif predictor in ("ni", "ninv"):
        if ni is None:
            raise ValueError(f"predictor {predictor!r} needs the sample sizes")
        with np.errstate(divide="ignore"):
            column = np.where(grid.mask, ni if predictor == "ni" else 1 / ni, 0.0)
    else:
        raise ValueError(f"unknown predictor {predictor!r} (choose from {', '.join(PREDICTORS)})")
    test = "z" if fit.method in ("MH", "PETO") else fit.test
    reg = fit_rma(grid, iv_method(fit), test, design(grid, column))
    defined = np.isfinite(reg.stat[:, 1])
    enough = (grid.k >= MIN_K) & defined
    return RegTest(
        predictor, np.where(enough, reg.stat[:, 1], np.nan), np.where(enough, reg.pval[:, 1], np.nan), defined
    )


@dataclass(frozen=True)
class RankTest(PerGroup):
    """Begg's rank correlation test: Kendall's τ and its two-sided p-value (NaN where k < 2)."""

    tau: Array
    pval: Array
    exact: np.ndarray  # the exact permutation p-value was used (no ties, k ≤ EXACT_MAX)


EXACT_MAX = 1000  # beyond this the normal approximation is used (R's exact count overflows at 171)


def ranktest(fit: Fit) -> RankTest:
    """metafor's ``ranktest``: Kendall's τ-b between (yi - θ_FE)/√(vi - v_θ) and vi."""
    grid = finite(fit.grid)
    w = grid.mask / grid.v
    theta = (w * grid.y).sum(1) / w.sum(1)
    vb = 1 / w.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ystar = (grid.y - theta[:, None]) / np.sqrt(grid.v - vb[:, None])
    if grid.width <= SMALL_WIDTH:
        return RankTest(*kendall_grid(ystar, grid.v, grid.mask))
    g = grid.n_groups
    tau, pval, exact = np.full(g, np.nan), np.full(g, np.nan), np.zeros(g, dtype=bool)
    for row in range(g):
        m = grid.mask[row]
        if m.sum() >= 2:
            tau[row], pval[row], exact[row] = kendall_test(ystar[row, m], grid.v[row, m])
    return RankTest(tau, pval, exact)


SMALL_WIDTH = 64  # up to this many studies per group, all groups are tested at once


def kendall_grid(x: Array, y: Array, mask: np.ndarray) -> tuple[Array, Array, np.ndarray]:
    """:func:`kendall_test` for every group of a grid at once (pairs as (G, K, K) arrays)."""
    n = mask.sum(1).astype(float)
    pair = mask[:, :, None] & mask[:, None, :]
    pair &= np.triu(np.ones(pair.shape[1:], dtype=bool), 1)[None]
    with np.errstate(invalid="ignore"):  # non-finite entries are masked out below
        dx, dy = x[:, :, None] - x[:, None, :], y[:, :, None] - y[:, None, :]
        concordance = np.where(pair, np.sign(dx) * np.sign(dy), 0.0).sum((1, 2))
        tx, ty = (pair & (dx == 0)).sum((1, 2)), (pair & (dy == 0)).sum((1, 2))
        t0 = n * (n - 1) / 2
        denominator = np.sqrt((t0 - tx) * (t0 - ty))
        tau = concordance / denominator
    finite = np.isfinite(np.where(mask, x, 0)).all(1) & np.isfinite(np.where(mask, y, 0)).all(1)
    valid = (n >= 2) & finite & (denominator > 0)
    tau = np.where(valid, tau, np.nan)
    exact = valid & (tx == 0) & (ty == 0)
    pval = np.full(len(n), np.nan)
    for row in np.flatnonzero(valid):  # ties: R's normal approximation, group by group
        if not exact[row]:
            m = mask[row]
            pval[row] = kendall_test(x[row, m], y[row, m])[1]
    for size in np.unique(n[exact]).astype(int):
        rows = np.flatnonzero(exact & (n == size))
        cdf = _kendall_cdf(size)
        q = np.round((tau[rows] + 1) * size * (size - 1) / 4).astype(int)
        upper = q > size * (size - 1) / 4
        p = np.where(upper, 1 - cdf[np.maximum(q - 1, 0)], cdf[np.minimum(q, len(cdf) - 1)])
        pval[rows] = np.minimum(2 * p, 1.0)
    return tau, pval, exact


def kendall_test(x: Array, y: Array) -> tuple[float, float, bool]:
    """R's ``cor.test(x, y, method = "kendall", exact = TRUE)``: τ-b, p-value, exact or not."""
    n = len(x)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return np.nan, np.nan, False
    concordance = _pair_counts(x, y)
    t0 = n * (n - 1) / 2
    t1, t2 = _tie_pairs(x), _tie_pairs(y)
    denominator = np.sqrt((t0 - t1) * (t0 - t2))
    if denominator == 0:
        return np.nan, np.nan, False
    tau = concordance / denominator
    if t1 == 0 and t2 == 0 and n <= EXACT_MAX:
        q = round((tau + 1) * n * (n - 1) / 4)
        cdf = _kendall_cdf(n)
        p = 1 - cdf[q - 1] if q > n * (n - 1) / 4 else cdf[q]
        return float(tau), float(min(2 * p, 1.0)), True
    s = tau * denominator
    xt, yt = _tie_sizes(x), _tie_sizes(y)
    v0 = n * (n - 1) * (2 * n + 5)
    vt = np.sum(xt * (xt - 1) * (2 * xt + 5))
    vu = np.sum(yt * (yt - 1) * (2 * yt + 5))
    v1 = np.sum(xt * (xt - 1)) * np.sum(yt * (yt - 1))
    v2 = np.sum(xt * (xt - 1) * (xt - 2)) * np.sum(yt * (yt - 1) * (yt - 2))
    var_s = (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1)) + v2 / (9 * n * (n - 1) * (n - 2))
    z = s / np.sqrt(var_s)
    from scipy.special import ndtr

    return float(tau), float(2 * min(ndtr(z), ndtr(-z))), False


def _pair_counts(x: Array, y: Array) -> float:
    """Σ sign(xi - xj)·sign(yi - yj) over pairs (concordant minus discordant), in chunks."""
    total = 0.0
    step = max(1, 4_000_000 // max(len(x), 1))
    for start in range(0, len(x), step):
        sx = np.sign(x[start : start + step, None] - x[None, :])
        sy = np.sign(y[start : start + step, None] - y[None, :])
        total += float((sx * sy).sum())
    return total / 2


def _tie_sizes(values: Array) -> Array:
    _, counts = np.unique(values, return_counts=True)
    return counts[counts > 1].astype(float)


def _tie_pairs(values: Array) -> float:
    sizes = _tie_sizes(values)
    return float(np.sum(sizes * (sizes - 1)) / 2)


_CDF: dict[int, Array] = {}


def _kendall_cdf(n: int) -> Array:
    """P(T ≤ q) for the number of concordant pairs T of n untied pairs (Mahonian numbers).

    The same distribution as R's ``ckendall``, built as probabilities (each step divides
    by the number of positions), so it stays finite where R's counts overflow.
    """
    if n not in _CDF:
        dist = np.array([1.0])
        for m in range(2, n + 1):
            cum = np.concatenate(([0.0], np.cumsum(dist)))
            size = len(dist) + m - 1
            hi = np.minimum(np.arange(size) + 1, len(dist))
            lo = np.maximum(np.arange(size) - m + 1, 0)
            dist = (cum[hi] - cum[lo]) / m
        _CDF[n] = np.cumsum(dist)
    return _CDF[n]


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
