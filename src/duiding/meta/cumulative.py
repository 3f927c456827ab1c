"""Cumulative meta-analysis, as metafor's ``cumul``: the model refitted after each study
is added, in a given order (for example by publication year; ties keep the input order,
as R's ``order``). How the evidence accumulated is the first question of a re-assessment.

All steps of all groups run through the same vectorised fit, in chunks of bounded size
(the first step has k = 1 and uses the z test, as metafor does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .grid import CHUNK_CELLS, Array, Grid, PerGroup
from .inverse_variance import Fit

FIELDS = ("estimate", "se", "ci_low", "ci_high", "pval", "q", "q_pval", "tau2", "i2", "h2")


@dataclass(frozen=True)
class Cumulative(PerGroup):
    """Per group and study (G, K): the fit of the studies up to and including this one.

    ``step`` is the position of the study in the order (1 = first added); results are
    laid out on the study's own grid cell, so :meth:`at` gives them in input order.
    """

    step: Array
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


def ranks(grid: Grid, order_key: Array) -> np.ndarray:
    """Position (0-based) of every cell in its group's order; stable for ties, padding last."""
    key = np.where(grid.mask, order_key, np.inf)
    idx = np.argsort(key, axis=1, kind="stable")
    out = np.empty_like(idx)
    np.put_along_axis(out, idx, np.arange(grid.width)[None, :].repeat(grid.n_groups, 0), 1)
    return out


def cumul(grid: Grid, fit_grid: Callable[[Grid], Fit], order_key: Array | None = None) -> Cumulative:
    """Refit every group after each study is added (``order_key`` per cell; input order if None)."""
    key = np.broadcast_to(np.arange(grid.width, dtype=float), grid.y.shape) if order_key is None else order_key
    rank = ranks(grid, key)
    shape = grid.y.shape
    out = {name: np.full(shape, np.nan) for name in FIELDS}
    test_used = np.full(shape, "", dtype=object)
    groups, cells = np.nonzero(grid.mask)
    per_chunk = max(1, CHUNK_CELLS // max(grid.width, 1))
    for start in range(0, len(groups), per_chunk):
        g, c = groups[start : start + per_chunk], cells[start : start + per_chunk]
        mask = grid.mask[g] & (rank[g] <= rank[g, c][:, None])
        fit = fit_grid(grid.rows(g).with_values(grid.y[g], grid.v[g], mask))
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
            out[name][g, c] = value
        test_used[g, c] = fit.test_used
    step = np.where(grid.mask, rank + 1, np.nan).astype(float)
    return Cumulative(step=step, **out, test_used=test_used)
