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
            raise ModelError(f"method PETO estimates an odds ratio: use --measure OR, not {self.measure}")
        if self.method in ("MH", "PETO") and self.test != "z":
            raise ModelError(f"method {self.method} uses a z test; --test knha is not defined for it")

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
        """One JSON-ready dictionary per group (arrays converted to Python lists once)."""
        f, grid = self.fit, self.grid
        pi_low, pi_high = f.prediction_interval()
        cols = {
            "k": f.k,
            "estimate": f.estimate,
            "se": f.se[:, 0],
            "ci_low": f.ci_low[:, 0],
            "ci_high": f.ci_high[:, 0],
            "pval": f.pval[:, 0],
            "df": f.df,
            "tau2": f.tau2,
            "tau2_ci_low": self.interval.tau2[0],
            "tau2_ci_high": self.interval.tau2[1],
            "i2": f.i2,
            "i2_ci_low": self.interval.i2[0],
            "i2_ci_high": self.interval.i2[1],
            "h2": f.h2,
            "h2_ci_low": self.interval.h2[0],
            "h2_ci_high": self.interval.h2[1],
            "q": f.q,
            "q_df": f.q_df,
            "q_pval": f.q_pval,
            "pi_low": pi_low,
            "pi_high": pi_high,
        }
        lists = {name: _floats(values) for name, values in cols.items()}
        lists["k"] = [int(x) for x in f.k]
        y, v, w = _floats(grid.y), _floats(grid.v), _floats(f.weights)
        order = grid.order.tolist()
        study = [str(s) for s in self.data.study]
        eg_stat, eg_p = _floats(self.egger.stat), _floats(self.egger.pval)
        tf = self.trimfill
        tf_cols = [_floats(x) for x in (tf.fit.estimate, tf.fit.se[:, 0], tf.fit.ci_low[:, 0], tf.fit.ci_high[:, 0])]
        loo = _LeaveOneOut(self.loo, grid.y.shape[1])
        out = []
        for g in range(grid.n_groups):
            rec: dict[str, Any] = {
                "group": self.labels[g],
                "measure": self.model.measure,
                "method": self.model.method,
                "test": self.model.test,
            }
            rec.update({name: values[g] for name, values in lists.items()})
            cells = [j for j, i in enumerate(order[g]) if i >= 0]
            rec["studies"] = [
                {"study": study[order[g][j]], "yi": y[g][j], "vi": v[g][j], "weight": w[g][j]} for j in cells
            ]
            rec["egger"] = None if eg_stat[g] is None else {"stat": eg_stat[g], "pval": eg_p[g]}
            rec["trimfill"] = None
            if rec["k"] >= 3 and tf.k0[g] >= 0:
                est, se, lo, hi = (c[g] for c in tf_cols)
                rec["trimfill"] = {
                    "k0": int(tf.k0[g]),
                    "side": str(tf.side[g]),
                    "estimate": est,
                    "se": se,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            rec["leave_one_out"] = loo.records(g, cells, [study[order[g][j]] for j in cells])
            out.append(rec)
        return out


class _LeaveOneOut:
    """Leave-one-out fits laid out as (group × dropped study) rows."""

    FIELDS = ("estimate", "se", "ci_low", "ci_high", "pval", "q", "q_pval", "tau2", "i2", "h2")

    def __init__(self, fit: Fit, width: int) -> None:
        self.width = width
        self.cols = [
            _floats(x)
            for x in (
                fit.estimate,
                fit.se[:, 0],
                fit.ci_low[:, 0],
                fit.ci_high[:, 0],
                fit.pval[:, 0],
                fit.q,
                fit.q_pval,
                fit.tau2,
                fit.i2,
                fit.h2,
            )
        ]

    def records(self, g: int, cells: list[int], names: list[str]) -> list[dict[str, Any]]:
        if len(cells) < 2:
            return []
        out = []
        for j, name in zip(cells, names, strict=True):
            r = g * self.width + j
            rec: dict[str, Any] = {"study": name}
            rec.update({f: c[r] for f, c in zip(self.FIELDS, self.cols, strict=True)})
            out.append(rec)
        return out


def _floats(values: np.ndarray) -> list[Any]:
    """Array to (nested) Python lists with NaN and ±inf as None."""
    arr = np.asarray(values, dtype=float)
    obj = arr.astype(object)
    obj[~np.isfinite(arr)] = None
    return obj.tolist()


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
