"""Many meta-analyses at once: studies padded into a (groups × studies) grid.

Every model in the engine works on this grid, so one analysis and two thousand analyses
run through the same code; a single analysis is simply one row. Padding cells carry
``mask == False``, weight 0 and a harmless variance of 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class Grid:
    """Padded effect sizes: ``y``, ``v`` and ``mask`` are (G, K); ``order`` maps cells to rows."""

    y: Array
    v: Array
    mask: Mask
    order: NDArray[np.int64]  # (G, K) index into the long input, -1 for padding

    @property
    def k(self) -> NDArray[np.int64]:
        return self.mask.sum(axis=1)

    @property
    def n_groups(self) -> int:
        return self.y.shape[0]

    @classmethod
    def from_long(cls, yi: Array, vi: Array, codes: NDArray[np.int64], n_groups: int) -> Grid:
        """Scatter long vectors into the grid, keeping the input order within each group."""
        yi = np.asarray(yi, dtype=float)
        vi = np.asarray(vi, dtype=float)
        codes = np.asarray(codes, dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes, minlength=n_groups)
        width = max(int(counts.max(initial=0)), 1)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        pos = np.arange(len(codes)) - np.repeat(starts, counts)
        rows = codes[order]
        y = np.zeros((n_groups, width))
        v = np.ones((n_groups, width))
        mask = np.zeros((n_groups, width), dtype=bool)
        index = np.full((n_groups, width), -1, dtype=np.int64)
        y[rows, pos] = yi[order]
        v[rows, pos] = vi[order]
        mask[rows, pos] = True
        index[rows, pos] = order
        return cls(y, v, mask, index)

    @classmethod
    def single(cls, yi: Array, vi: Array) -> Grid:
        yi = np.asarray(yi, dtype=float)
        return cls.from_long(yi, vi, np.zeros(len(yi), dtype=np.int64), 1)

    def pad(self, values: Array, fill: float = np.nan) -> Array:
        """Lay a long per-study vector out on the grid (e.g. cell counts for MH)."""
        values = np.asarray(values, dtype=float)
        return np.where(self.mask, values[np.maximum(self.order, 0)], fill)

    def with_values(self, y: Array, v: Array, mask: Mask) -> Grid:
        y = np.where(mask, y, 0.0)
        v = np.where(mask, v, 1.0)
        return Grid(y, v, mask, np.where(mask, self.order, -1))

    def leave_one_out(self) -> Grid:
        """One row per (group, study): the group without that study (G·K rows)."""
        g, k = self.y.shape
        drop = np.eye(k, dtype=bool)[None, :, :]  # (1, K, K): row j drops study j
        mask = (self.mask[:, None, :] & ~drop).reshape(g * k, k)
        y = np.broadcast_to(self.y[:, None, :], (g, k, k)).reshape(g * k, k)
        v = np.broadcast_to(self.v[:, None, :], (g, k, k)).reshape(g * k, k)
        order = np.broadcast_to(self.order[:, None, :], (g, k, k)).reshape(g * k, k)
        return Grid(y, v, mask, order).with_values(y, v, mask)
