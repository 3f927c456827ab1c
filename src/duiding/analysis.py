"""One call from study data to complete meta-analysis results, for one group or thousands.

Data flow: :class:`StudyData` (long, one row per study) → :class:`~duiding.groups.Grid`
(padded by group) → :class:`Model` fits → :func:`pool` assembles plain dictionaries
(the JSON contract of ``duiding pool``). Every statistic is computed for all groups in one
vectorised pass; only the final assembly of dictionaries loops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .bias import EggerTest, TrimFill, egger_test, trim_and_fill
from .confint import HeterogeneityInterval, heterogeneity_interval
from .effects import EffectSizes, Table2x2
from .groups import Grid
from .mantel_haenszel import fit_mh, fit_peto, padded_tables
from .rma import IV_METHODS, TESTS, Fit, fit_rma

METHODS = (*IV_METHODS, "MH", "PETO")


class ModelError(ValueError):
    """A measure/method/test combination that is not defined."""


@dataclass(frozen=True)
class StudyData:
    """Per-study effect sizes (and 2×2 tables for binary measures), in input order."""

    study: np.ndarray
    effects: EffectSizes
    table: Table2x2 | None = None


@dataclass(frozen=True)
class Model:
    measure: str
    method: str
    test: str = "z"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ModelError(f"unknown method {self.method!r} (choose from {', '.join(METHODS)})")
        if self.test not in TESTS:
            raise ModelError(f"unknown test {self.test!r} (choose from {', '.join(TESTS)})")
        if self.method == "MH" and self.measure not in ("OR", "RR", "RD"):
            raise ModelError(f"method MH needs a binary measure (OR, RR or RD), not {self.measure}")
        if self.method == "PETO" and self.measure != "OR":
            raise ModelError(
                f"method PETO estimates an odds ratio: use --measure OR, not {self.measure}"
            )
        if self.method in ("MH", "PETO") and self.test != "z":
            raise ModelError(
                f"method {self.method} uses a z test; --test knha is not defined for it"
            )

    @property
    def study_measure(self) -> str:
        """The per-study effect size: Peto's log OR for the Peto model."""
        return "PETO" if self.method == "PETO" else self.measure

    def fit(self, data: StudyData, grid: Grid) -> Fit:
        if self.method == "MH":
            return fit_mh(grid, padded_tables(grid, _table(data)), self.measure)
        if self.method == "PETO":
            return fit_peto(grid, padded_tables(grid, _table(data)))
        return fit_rma(grid, self.method, self.test)


def _table(data: StudyData) -> Table2x2:
    if data.table is None:
        raise ModelError("MH and Peto models need event counts (e1, n1, e2, n2)")
    return data.table


@dataclass(frozen=True)
class PooledResults:
    """All statistics for every group, as arrays; ``records()`` turns them into dicts."""

    model: Model
    data: StudyData
    grid: Grid
    fit: Fit
    interval: HeterogeneityInterval
    egger: EggerTest
    trimfill: TrimFill
    loo: Fit
    labels: list[Any]

    def records(self) -> list[dict[str, Any]]:
        return [self._record(g) for g in range(self.grid.n_groups)]

    def _record(self, g: int) -> dict[str, Any]:
        f, grid = self.fit, self.grid
        pi_low, pi_high = f.prediction_interval()
        cells = np.flatnonzero(grid.order[g] >= 0)
        k = int(f.k[g])
        rec: dict[str, Any] = {
            "group": self.labels[g],
            "measure": self.model.measure,
            "method": self.model.method,
            "test": self.model.test,
            "k": k,
            "estimate": f.estimate[g],
            "se": f.se[g, 0],
            "ci_low": f.ci_low[g, 0],
            "ci_high": f.ci_high[g, 0],
            "pval": f.pval[g, 0],
            "df": f.df[g],
            "tau2": f.tau2[g],
            "tau2_ci_low": self.interval.tau2[0][g],
            "tau2_ci_high": self.interval.tau2[1][g],
            "i2": f.i2[g],
            "i2_ci_low": self.interval.i2[0][g],
            "i2_ci_high": self.interval.i2[1][g],
            "h2": f.h2[g],
            "h2_ci_low": self.interval.h2[0][g],
            "h2_ci_high": self.interval.h2[1][g],
            "q": f.q[g],
            "q_df": f.q_df[g],
            "q_pval": f.q_pval[g],
            "pi_low": pi_low[g],
            "pi_high": pi_high[g],
            "studies": [
                {
                    "study": str(self.data.study[grid.order[g, j]]),
                    "yi": grid.y[g, j],
                    "vi": grid.v[g, j],
                    "weight": f.weights[g, j],
                }
                for j in cells
            ],
            "egger": None,
            "trimfill": None,
            "leave_one_out": self._leave_one_out(g, cells),
        }
        if np.isfinite(self.egger.stat[g]):
            rec["egger"] = {"stat": self.egger.stat[g], "pval": self.egger.pval[g]}
        if k >= 3:
            tf = self.trimfill
            rec["trimfill"] = {
                "k0": int(tf.k0[g]),
                "side": str(tf.side[g]),
                "estimate": tf.fit.estimate[g],
                "se": tf.fit.se[g, 0],
                "ci_low": tf.fit.ci_low[g, 0],
                "ci_high": tf.fit.ci_high[g, 0],
            }
        return clean(rec)

    def _leave_one_out(self, g: int, cells: np.ndarray) -> list[dict[str, Any]]:
        if len(cells) < 2:
            return []
        lo, width = self.loo, self.grid.y.shape[1]
        out = []
        for j in cells:
            r = g * width + j
            out.append(
                {
                    "study": str(self.data.study[self.grid.order[g, j]]),
                    "estimate": lo.estimate[r],
                    "se": lo.se[r, 0],
                    "ci_low": lo.ci_low[r, 0],
                    "ci_high": lo.ci_high[r, 0],
                    "pval": lo.pval[r, 0],
                    "q": lo.q[r],
                    "q_pval": lo.q_pval[r],
                    "tau2": lo.tau2[r],
                    "i2": lo.i2[r],
                    "h2": lo.h2[r],
                }
            )
        return out


def pool(
    data: StudyData,
    model: Model,
    codes: np.ndarray | None = None,
    labels: list[Any] | None = None,
) -> PooledResults:
    """Fit ``model`` to every group (``codes`` 0..G-1 per study; one group if omitted)."""
    n = len(data.study)
    if codes is None:
        codes = np.zeros(n, dtype=np.int64)
        labels = [None]
    labels = list(labels if labels is not None else range(int(codes.max()) + 1))
    grid = Grid.from_long(data.effects.yi, data.effects.vi, codes, len(labels))
    fit = model.fit(data, grid)
    loo = model.fit(data, grid.leave_one_out())
    return PooledResults(
        model=model,
        data=data,
        grid=grid,
        fit=fit,
        interval=heterogeneity_interval(fit),
        egger=egger_test(fit),
        trimfill=trim_and_fill(fit),
        loo=loo,
        labels=labels,
    )


@dataclass(frozen=True)
class SubgroupResults:
    """Separate fits per subgroup, and the test for subgroup differences per group."""

    within: PooledResults  # one row per (group, subgroup)
    parents: np.ndarray  # group index of each (group, subgroup) row
    q_between: np.ndarray
    df_between: np.ndarray
    p_between: np.ndarray


def pool_subgroups(
    data: StudyData,
    model: Model,
    codes: np.ndarray,
    sub_values: np.ndarray,
    n_groups: int,
) -> SubgroupResults:
    """Fit each subgroup separately; Q-between is the FE Q across subgroup estimates."""
    pairs = codes.astype(np.int64) * (int(sub_values.max()) + 1) + sub_values
    uniq, pair_codes = np.unique(pairs, return_inverse=True)
    parents = uniq // (int(sub_values.max()) + 1)
    within = pool(data, model, pair_codes, labels=[int(u) for u in uniq])
    est, se = within.fit.estimate, within.fit.se[:, 0]
    ok = np.isfinite(est) & np.isfinite(se) & (se > 0)
    between = fit_rma(Grid.from_long(est[ok], se[ok] ** 2, parents[ok], n_groups), "FE")
    return SubgroupResults(within, parents, between.q, between.q_df, between.q_pval)


def clean(value: Any) -> Any:
    """Plain JSON values: numpy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
