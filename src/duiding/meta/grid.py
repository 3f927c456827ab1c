"""Many meta-analyses at once: studies padded into a (groups × studies) grid.

Every model in the engine works on this grid, so one analysis and two thousand analyses
run through the same code; a single analysis is simply one row. Padding cells carry
``mask == False``, weight 0 and a harmless variance of 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]

# Leave-one-out grids are built in chunks of at most this many cells, so that memory
# grows with the number of studies, not with its square.
CHUNK_CELLS = 2_000_000


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

    @property
    def width(self) -> int:
        return self.y.shape[1]

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

    def rows(self, index: NDArray[np.int64]) -> Grid:
        """The grid of the given groups only."""
        return Grid(self.y[index], self.v[index], self.mask[index], self.order[index])

    def leave_one_out(self, groups: NDArray[np.int64], drop: NDArray[np.int64]) -> Grid:
        """One row per (group, dropped cell) pair: the group without that study."""
        mask = self.mask[groups].copy()
        mask[np.arange(len(groups)), drop] = False
        return self.rows(groups).with_values(self.y[groups], self.v[groups], mask)

    def leave_one_out_chunks(self) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64], Grid]]:
        """(groups, dropped cells, grid) in chunks covering every study of every group.

        Rows come group by group, study by study; each chunk holds at most
        :data:`CHUNK_CELLS` cells, so a single group of 50,000 studies needs memory for a
        few dozen rows at a time instead of a 50,000 × 50,000 array.
        """
        groups, cells = np.nonzero(self.mask)
        per_chunk = max(1, CHUNK_CELLS // max(self.width, 1))
        for start in range(0, len(groups), per_chunk):
            g, c = groups[start : start + per_chunk], cells[start : start + per_chunk]
            yield g, c, self.leave_one_out(g, c)


class PerGroup:
    """Results for many groups at once that narrow to one group with :meth:`at`.

    Array fields of shape (G,) become plain numbers (or strings) of group ``g``; fields of
    shape (G, K) become that group's per-study vectors (the cells ``cells``, in study
    order). Other fields are kept as they are. One dataclass thus serves a batch of two
    thousand analyses and the single analysis a report shows.
    """

    def at(self, g: int, cells: NDArray[np.int64]):  # -> same class
        changes = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and value.ndim == 1:
                changes[f.name] = value[g].item()
            elif isinstance(value, np.ndarray) and value.ndim == 2:
                changes[f.name] = value[g, cells]
        return replace(self, **changes)  # type: ignore[type-var]
