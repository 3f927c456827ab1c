"""Mantel-Haenszel (OR, RR, RD) and Peto odds-ratio models, as metafor's rma.mh / rma.peto.

The pooled estimate uses the raw cell counts (no continuity correction). Cochran's Q,
I² and H² use the per-study effect sizes with metafor's defaults: 1/2 added to studies
with a zero cell and double-zero studies left out (so Q has k - 1 - #double-zero df).
Double-zero studies stay in k and in the pooled estimate, where they carry no weight
(except for the MH risk difference, to which they contribute as a zero difference).
"""

from __future__ import annotations

import numpy as np

from . import distributions as dist
from .escalc import Table2x2, binary_effects
from .grid import Array, Grid, Mask
from .inverse_variance import LEVEL, Fit

Z_CRIT = dist.z_crit(LEVEL)


def padded_tables(grid: Grid, table: Table2x2) -> Table2x2:
    return Table2x2(*(grid.pad(x, 0.0) for x in (table.a, table.b, table.c, table.d)))


def _with_study_effects(grid: Grid, cells: Table2x2, mask: Mask, measure: str) -> Grid:
    """The grid with the per-study yi/vi MH and Peto use for Q (double-zero studies NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        es = binary_effects(cells, measure, drop00=True)
    return grid.with_values(es.yi, es.vi, mask)


def fit_mh(grid: Grid, cells: Table2x2, measure: str, mask: Mask | None = None) -> Fit:
    """Mantel-Haenszel model per group; ``cells`` are padded (G, K) counts."""
    mask = grid.mask if mask is None else mask
    a, b, c, d = (np.where(mask, x, 0.0) for x in (cells.a, cells.b, cells.c, cells.d))
    n1, n2 = a + b, c + d
    n = np.where(mask, n1 + n2, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            pi, qi = (a + d) / n, (b + c) / n
            ri, si = a * d / n, b * c / n
            r, s = ri.sum(1), si.sum(1)
            beta = np.log(r / s)
            se = np.sqrt(
                0.5 * ((pi * ri).sum(1) / r**2 + (pi * si + qi * ri).sum(1) / (r * s) + (qi * si).sum(1) / s**2)
            )
            invalid = (r == 0) | (s == 0)
            w = b * c / n
        elif measure == "RR":
            r, s = (a * n2 / n).sum(1), (c * n1 / n).sum(1)
            beta = np.log(r / s)
            se = np.sqrt(((n1 / n) * (n2 / n) * (a + c) - (a / n) * c).sum(1) / (r * s))
            invalid = (a.sum(1) == 0) | (c.sum(1) == 0)
            w = (c / n) * n1
        elif measure == "RD":
            sw = (n1 * n2 / n).sum(1)
            beta = (a * (n2 / n) - c * (n1 / n)).sum(1) / sw
            p_term = (c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2).sum(1)
            q_term = (a * (n2 - c) / n + c * (n1 - a) / n).sum(1)
            se = np.sqrt((beta * p_term + q_term / 2) / sw**2)
            invalid = np.zeros(len(beta), dtype=bool)
            w = (n1 / n) * (c + d)
        else:
            raise ValueError(f"Mantel-Haenszel is defined for OR, RR and RD, not {measure!r}")
    beta = np.where(invalid, np.nan, beta)
    se = np.where(invalid, np.nan, se)
    with np.errstate(invalid="ignore"):  # a group without events has no weights: NaN
        weights = np.where(mask, 100 * w / w.sum(1, keepdims=True), np.nan)
    grid = _with_study_effects(grid, cells, mask, measure)
    return _fixed_fit(grid, mask, "MH", beta, se, weights)


def fit_peto(grid: Grid, cells: Table2x2, mask: Mask | None = None) -> Fit:
    """Peto's one-step odds ratio per group (log scale)."""
    mask = grid.mask if mask is None else mask
    a, b, c, d = (np.where(mask, x, 0.0) for x in (cells.a, cells.b, cells.c, cells.d))
    n1, n2 = a + b, c + d
    n = np.where(mask, n1 + n2, 2.0)
    events, non_events = a + c, b + d
    expected = events * n1 / n
    var_oe = np.where(mask, events * non_events * (n1 / n) * (n2 / n) / (n - 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        total_v = var_oe.sum(1)
        o_minus_e = np.where(mask, a - expected, 0.0)
        beta = o_minus_e.sum(1) / total_v
        se = np.sqrt(1 / total_v)
        weights = np.where(mask, 100 * var_oe / total_v[:, None], np.nan)
        terms = np.where(var_oe > 0, o_minus_e**2 / np.where(var_oe > 0, var_oe, 1.0), 0.0)
        q = terms.sum(1) - o_minus_e.sum(1) ** 2 / total_v
    grid = _with_study_effects(grid, cells, mask, "PETO")
    return _fixed_fit(grid, mask, "PETO", beta, se, weights, q)


def _fixed_fit(
    grid: Grid,
    mask: Mask,
    method: str,
    beta: Array,
    se: Array,
    weights: Array,
    q: Array | None = None,
) -> Fit:
    """Wrap an MH/Peto estimate as a Fit; Q (unless given), I², H² from ``grid``'s yi/vi."""
    ok = mask & np.isfinite(grid.y) & np.isfinite(grid.v)
    k_yi = ok.sum(1)
    df = (k_yi - 1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if q is None:
            q = np.where(ok, (grid.y - beta[:, None]) ** 2 / grid.v, 0.0).sum(1)
        q = np.maximum(0.0, q)
        q_pval = dist.chi2_sf(q, np.maximum(df, 1))
        i2 = np.maximum(0.0, 100 * (q - df) / q)
        h2 = q / df
    none = df <= 0
    stat = beta / se
    return Fit(
        method=method,
        test="z",
        test_used=np.full(len(beta), "z"),
        grid=grid,
        X=None,
        beta=beta[:, None],
        se=se[:, None],
        stat=stat[:, None],
        pval=dist.z_pval(stat)[:, None],
        ci_low=(beta - Z_CRIT * se)[:, None],
        ci_high=(beta + Z_CRIT * se)[:, None],
        crit=np.full(len(beta), Z_CRIT),
        df=np.full(len(beta), np.nan),
        tau2=np.zeros(len(beta)),
        q=np.where(none, 0.0, q),
        q_pval=np.where(none, 1.0, q_pval),
        q_df=df,
        i2=np.where(none, 0.0, np.nan_to_num(i2, nan=0.0)),
        h2=np.where(none, 1.0, h2),
        vt=np.full(len(beta), np.nan),
        weights=weights,
        s2w=np.ones(len(beta)),
    )
