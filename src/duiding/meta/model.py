"""What a fit needs: the studies' data and the model (measure, method, test), validated.

Following PyMARE's split, :class:`StudyData` is the dataset and :class:`Model` the
estimator; :func:`duiding.meta.result.fit` combines them into a result object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from .escalc import BINARY_MEASURES, EffectSizes, Table2x2
from .grid import Grid
from .inverse_variance import IV_METHODS, TESTS, Fit, fit_rma
from .mantel_haenszel import fit_mh, fit_peto, padded_tables

METHODS = (*IV_METHODS, "MH", "PETO")


@dataclass(frozen=True)
class StudyData:
    """Per-study effect sizes (and 2×2 tables for binary measures), in input order.

    ``ni`` (total sample size per study) is optional; regression tests on sample size
    (``regtest(predictor="ni")``) need it.
    """

    study: np.ndarray
    effects: EffectSizes
    table: Table2x2 | None = None
    ni: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.study)

    def subset(self, keep: np.ndarray) -> StudyData:
        """The studies where ``keep`` is true, in the same order."""
        keep = np.asarray(keep, dtype=bool)
        es = self.effects
        table = None
        if self.table is not None:
            t = self.table
            table = Table2x2(t.a[keep], t.b[keep], t.c[keep], t.d[keep])
        ni = None if self.ni is None else self.ni[keep]
        return StudyData(self.study[keep], EffectSizes(es.yi[keep], es.vi[keep], es.measure), table, ni)


@dataclass(frozen=True)
class Model:
    """A measure/method/test combination; undefined combinations fail on construction."""

    measure: str = "GEN"
    method: str = "REML"
    test: str = "z"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ModelError(f"unknown method {self.method!r} (choose from {', '.join(METHODS)})")
        if self.test not in TESTS:
            raise ModelError(f"unknown test {self.test!r} (choose from {', '.join(TESTS)})")
        if self.method == "MH" and self.measure not in BINARY_MEASURES:
            raise ModelError(f"method MH needs a binary measure (OR, RR or RD), not {self.measure}")
        if self.method == "PETO" and self.measure != "OR":
            raise ModelError(f"method PETO estimates an odds ratio: use --measure OR, not {self.measure}")
        if self.method in ("MH", "PETO") and self.test != "z":
            raise ModelError(f"method {self.method} uses a z test; --test {self.test} is not defined for it")

    @property
    def study_measure(self) -> str:
        """The per-study effect size: Peto's log OR for the Peto model."""
        return "PETO" if self.method == "PETO" else self.measure

    @property
    def inverse_variance(self) -> bool:
        return self.method in IV_METHODS

    def fit_grid(self, data: StudyData, grid: Grid, start: np.ndarray | None = None) -> Fit:
        """Fit every group of ``grid`` (whose cells index into ``data``); ``start``: see fit_rma."""
        if self.inverse_variance:
            return fit_rma(grid, self.method, self.test, start=start)
        if data.table is None:
            raise ModelError("MH and Peto models need event counts (e1, n1, e2, n2)")
        cells = padded_tables(grid, data.table)
        if self.method == "MH":
            return fit_mh(grid, cells, self.measure)
        return fit_peto(grid, cells)
