"""The result objects: one analysis (:class:`MetaResult`) or many at once (:class:`MetaBatch`).

metafor's split: a fit is one object, and the methods on it (``confint``, ``predict``,
``regtest``, ``trimfill``, ``leave1out``, subgroups, ``update``) are verbs that compute
what they are asked for, when they are asked. Here a batch fits every group of a grid in
one vectorised pass; each method of the batch is computed once, for all groups, and cached.
A :class:`MetaResult` is one group of a batch: its methods take their row of the batch's
cached result, so a report that asks two hundred single results for their confidence
intervals triggers one vectorised computation, and a sensitivity re-fit computes only the
numbers it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import ModelError
from .cumulative import Cumulative, cumul
from .escalc import EffectSizes
from .grid import Grid, PerGroup
from .heterogeneity import HeterogeneityCI, heterogeneity_ci
from .influence import Influence, influence
from .inverse_variance import Fit, fit_rma
from .leave1out import LeaveOneOut, leave1out
from .model import Model, StudyData
from .small_study import MIN_K, RankTest, RegTest, TrimFill, ranktest, regtest, trimfill
from .summary import summary


@dataclass(frozen=True)
class Prediction(PerGroup):
    """metafor's ``predict()``: the pooled estimate with its CI and the prediction interval."""

    estimate: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray


class MetaBatch:
    """Many meta-analyses fitted at once: one group per label, studies laid out on a grid."""

    def __init__(self, data: StudyData, model: Model, codes: np.ndarray | None = None, labels: list[Any] | None = None):
        n = len(data)
        self.data = data
        self.model = model
        self.codes = np.zeros(n, dtype=np.int64) if codes is None else np.asarray(codes, dtype=np.int64)
        if labels is None:
            labels = [None] if codes is None else list(range(int(self.codes.max(initial=-1)) + 1))
        self.labels = list(labels)
        check_range(data, model)
        self.grid = Grid.from_long(data.effects.yi, data.effects.vi, self.codes, len(self.labels))
        self.fit: Fit = model.fit_grid(data, self.grid)
        check_overflow(self)
        self._cache: dict[object, object] = {}

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, g: int) -> MetaResult:
        return MetaResult(self, g)

    def __iter__(self):
        return (self[g] for g in range(len(self)))

    def cells(self, g: int) -> np.ndarray:
        """Grid columns of group ``g``'s studies, in input order."""
        return np.flatnonzero(self.grid.mask[g])

    def study_rows(self, g: int) -> np.ndarray:
        """Rows of ``data`` that belong to group ``g``, in input order."""
        return self.grid.order[g, self.cells(g)]

    def _fit_grid(self, grid: Grid, start: np.ndarray | None = None) -> Fit:
        return self.model.fit_grid(self.data, grid, start)

    @cached_property
    def _confint(self) -> HeterogeneityCI:
        return heterogeneity_ci(self.fit)

    def confint(self) -> HeterogeneityCI:
        """Q-profile 95% CIs for τ², I² and H² (metafor's ``confint``)."""
        return self._confint

    @cached_property
    def _prediction(self) -> Prediction:
        f = self.fit
        half = f.crit * np.sqrt(f.se[:, 0] ** 2 + f.tau2)
        return Prediction(f.estimate, f.ci_low[:, 0], f.ci_high[:, 0], f.estimate - half, f.estimate + half)

    def predict(self) -> Prediction:
        """Prediction interval: estimate ± crit · √(SE² + τ²), crit as for the CI (metafor)."""
        return self._prediction

    def regtest(self, predictor: str = "sei") -> RegTest:
        """metafor's ``regtest``: Egger's test by default; predictors sei, vi, ni, ninv."""
        key = ("regtest", predictor)
        if key not in self._cache:
            ni = None
            if predictor in ("ni", "ninv"):
                if self.data.ni is None:
                    raise ModelError(f"regtest with predictor {predictor} needs the sample size per study")
                ni = self.grid.pad(self.data.ni)
            self._cache[key] = regtest(self.fit, predictor, ni)
        return self._cache[key]  # type: ignore[return-value]

    @cached_property
    def _ranktest(self) -> RankTest:
        return ranktest(self.fit)

    def ranktest(self) -> RankTest:
        """Begg's rank correlation test (metafor's ``ranktest``)."""
        return self._ranktest

    def cumul(self, order: np.ndarray | None = None) -> Cumulative:
        """Cumulative meta-analysis in the order of ``order`` (one value per study; input order if None)."""
        key = ("cumul", None if order is None else tuple(np.asarray(order, dtype=float).tolist()))
        if key not in self._cache:
            cell_order = None if order is None else self.grid.pad(np.asarray(order, dtype=float), np.inf)
            self._cache[key] = cumul(self.grid, self._fit_grid, cell_order)
        return self._cache[key]  # type: ignore[return-value]

    @cached_property
    def _influence(self) -> Influence:
        return influence(self.fit, self.leave1out())

    def influence(self) -> Influence:
        """Influence diagnostics (metafor's ``influence``) and the Baujat coordinates."""
        return self._influence

    @cached_property
    def _trimfill(self) -> TrimFill:
        return trimfill(self.fit)

    def trimfill(self) -> TrimFill:
        """Trim-and-fill (L0 estimator) per group."""
        return self._trimfill

    @cached_property
    def _leave1out(self) -> LeaveOneOut:
        return leave1out(self.grid, self._fit_grid, self.fit.tau2)

    def leave1out(self) -> LeaveOneOut:
        """The fit without each study, for every group and study."""
        return self._leave1out

    def update(self, *, method: str | None = None, test: str | None = None) -> MetaBatch:
        """The same groups refitted with another τ² estimator or test (meta's ``update.meta``)."""
        model = Model(self.model.measure, method or self.model.method, test or self.model.test)
        return MetaBatch(self.data, model, self.codes, self.labels)

    def subgroups(self, values: np.ndarray) -> SubgroupBatch:
        """Separate fits per subgroup within each group, and the test for subgroup differences."""
        return SubgroupBatch(self, np.asarray(values))


class MetaResult:
    """One meta-analysis, as metafor's ``rma`` object: the fit, and verbs on it."""

    def __init__(self, batch: MetaBatch, index: int) -> None:
        self.batch = batch
        self.index = index
        self._cells = batch.cells(index)
        f, g = batch.fit, index
        self.model = batch.model
        self.label = batch.labels[index]
        self.k = int(batch.grid.k[g])
        self.estimate = float(f.estimate[g])
        self.se = float(f.se[g, 0])
        self.stat = float(f.stat[g, 0])
        self.pval = float(f.pval[g, 0])
        self.ci_low = float(f.ci_low[g, 0])
        self.ci_high = float(f.ci_high[g, 0])
        self.df = float(f.df[g])
        self.test_used = str(f.test_used[g])
        self.tau2 = float(f.tau2[g])
        self.q = float(f.q[g])
        self.q_df = float(f.q_df[g])
        self.q_pval = float(f.q_pval[g])
        self.i2 = float(f.i2[g])
        self.h2 = float(f.h2[g])

    @property
    def method(self) -> str:
        return self.model.method

    @property
    def measure(self) -> str:
        return self.model.measure

    @property
    def studies(self) -> list[str]:
        """Study labels in input order."""
        return [str(s) for s in self.batch.data.study[self.batch.study_rows(self.index)]]

    @property
    def yi(self) -> np.ndarray:
        return self.batch.grid.y[self.index, self._cells]

    @property
    def vi(self) -> np.ndarray:
        return self.batch.grid.v[self.index, self._cells]

    @property
    def weights(self) -> np.ndarray:
        """Weights in percent, in study order."""
        return self.batch.fit.weights[self.index, self._cells]

    def _at(self, value: PerGroup):
        return value.at(self.index, self._cells)

    def confint(self) -> HeterogeneityCI:
        return self._at(self.batch.confint())

    def predict(self) -> Prediction:
        return self._at(self.batch.predict())

    def regtest(self, predictor: str = "sei") -> RegTest | None:
        """The regression test (Egger's by default), or None with fewer than three studies."""
        return self._at(self.batch.regtest(predictor)) if self.k >= MIN_K else None

    def ranktest(self) -> RankTest | None:
        """Begg's rank correlation test, or None with fewer than two studies."""
        return self._at(self.batch.ranktest()) if self.k >= 2 else None

    def cumul(self, order: np.ndarray | list[float] | None = None) -> Cumulative:
        """Cumulative meta-analysis; ``order`` has one value per study (in study order)."""
        full = None
        if order is not None:
            full = np.full(len(self.batch.data), np.inf)
            full[self.batch.study_rows(self.index)] = np.asarray(order, dtype=float)
        return self._at(self.batch.cumul(full))

    def influence(self) -> Influence | None:
        """Influence diagnostics per study (None for one study, or for MH and Peto fits)."""
        if self.k < 2 or not self.model.inverse_variance:
            return None
        return self._at(self.batch.influence())

    def trimfill(self) -> TrimFill | None:
        """Trim-and-fill, or None where it is not available (k < 3, no convergence)."""
        tf = self._at(self.batch.trimfill())
        return tf if tf.available else None

    def leave1out(self) -> LeaveOneOut | None:
        """The fit without each study (None for a single study)."""
        return self._at(self.batch.leave1out()) if self.k >= 2 else None

    def update(
        self, *, method: str | None = None, test: str | None = None, subset: np.ndarray | list[str] | None = None
    ) -> MetaResult | None:
        """This analysis refitted with one argument changed; ``subset`` keeps some studies.

        ``subset`` is a boolean mask over :attr:`studies` or a list of study labels.
        Returns None when the subset is empty.
        """
        data = self.batch.data.subset(self.batch.codes == self.index)
        if subset is not None:
            keep = np.asarray(subset)
            if keep.dtype != bool:
                keep = np.isin(data.study.astype(str), keep.astype(str))
            if not keep.any():
                return None
            data = data.subset(keep)
        model = Model(self.model.measure, method or self.model.method, test or self.model.test)
        return MetaBatch(data, model)[0]

    def subgroups(self, values: np.ndarray | list[Any]) -> SubgroupResult:
        """Separate fits per subgroup value (one per study, in study order) and Q-between."""
        full = np.empty(len(self.batch.data), dtype=object)
        full[self.batch.study_rows(self.index)] = list(values)
        rows = self.batch.codes == self.index
        sub = MetaBatch(self.batch.data.subset(rows), self.model).subgroups(full[rows])
        return sub.result(0)

    def summary(self) -> str:
        return summary(self)

    def __repr__(self) -> str:
        return self.summary()


class SubgroupBatch:
    """Subgroup fits within every group of a batch, with the test for subgroup differences.

    Q-between is the fixed-effect Q across the subgroup estimates (as RevMan and metafor's
    ``rma(..., mods = ~ factor(subgroup))`` with separate τ² per subgroup report it).
    """

    def __init__(self, parent: MetaBatch, values: np.ndarray) -> None:
        self.parent = parent
        sub_codes, self.values = _factorize(values)
        width = len(self.values)
        pairs = parent.codes * width + sub_codes
        uniq, pair_codes = np.unique(pairs, return_inverse=True)
        self.parents = uniq // width
        self.value_of = [self.values[int(u) % width] for u in uniq]
        self.within = MetaBatch(parent.data, parent.model, pair_codes, [int(u) for u in uniq])
        est, se = self.within.fit.estimate, self.within.fit.se[:, 0]
        ok = np.isfinite(est) & np.isfinite(se) & (se > 0)
        grid = Grid.from_long(est[ok], se[ok] ** 2, self.parents[ok], len(parent))
        between = fit_rma(grid, "FE")
        self.q_between, self.df_between, self.p_between = between.q, between.q_df, between.q_pval

    def result(self, g: int) -> SubgroupResult:
        rows = np.flatnonzero(self.parents == g)
        return SubgroupResult(
            groups=[(self.value_of[r], self.within[int(r)]) for r in rows],
            q_between=float(self.q_between[g]),
            df_between=float(self.df_between[g]),
            p_between=float(self.p_between[g]),
        )


@dataclass(frozen=True)
class SubgroupResult:
    groups: list[tuple[Any, MetaResult]]
    q_between: float
    df_between: float
    p_between: float


def _factorize(values: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Codes 0..S-1 in order of first appearance, and the distinct values."""
    seen: dict[Any, int] = {}
    codes = np.array([seen.setdefault(v, len(seen)) for v in values.tolist()], dtype=np.int64)
    return codes, list(seen)


def fit(data: StudyData, model: Model, codes: np.ndarray | None = None, labels: list[Any] | None = None) -> MetaBatch:
    """Fit ``model`` to every group (``codes`` 0..G-1 per study; one group if omitted)."""
    return MetaBatch(data, model, codes, labels)


def rma(
    yi: Any,
    vi: Any,
    *,
    method: str = "REML",
    test: str = "z",
    study: Any = None,
    measure: str = "GEN",
) -> MetaResult:
    """One inverse-variance meta-analysis of effect sizes ``yi`` with variances ``vi``.

    metafor's ``rma(yi, vi, method=, test=)``; ``study`` labels the rows (default 1..k).
    """
    yi = np.asarray(yi, dtype=float)
    labels = np.arange(1, len(yi) + 1).astype(str) if study is None else np.asarray(study).astype(str)
    data = StudyData(labels, EffectSizes(yi, np.asarray(vi, dtype=float), measure))
    return MetaBatch(data, Model(measure, method, test))[0]


def check_range(data: StudyData, model: Model) -> None:
    """Refuse variances whose inverse overflows (metafor: "Division by zero when computing
    the inverse variance weights") and effects or variances that are not finite."""
    es = data.effects
    if not model.inverse_variance:
        return
    with np.errstate(divide="ignore", over="ignore"):
        bad = ~np.isfinite(es.yi) | ~np.isfinite(es.vi) | (es.vi <= 0) | ~np.isfinite(1 / es.vi)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ModelError(
            f"study '{data.study[i]}': yi = {es.yi[i]:g}, vi = {es.vi[i]:g} cannot be weighted "
            "(the variance must be finite and its inverse must not overflow)"
        )


def check_overflow(batch: MetaBatch) -> None:
    """Refuse fits whose statistics overflowed double precision (e.g. |yi| near 1e308)."""
    f = batch.fit
    with np.errstate(invalid="ignore"):
        core = np.stack([f.estimate, f.se[:, 0], f.tau2, f.q, f.h2], axis=1)
        huge = np.isinf(core).any(axis=1) | (np.abs(core) > np.finfo(float).max / 1e8).any(axis=1)
    if huge.any():
        g = int(np.flatnonzero(huge)[0])
        name = "" if batch.labels[g] is None else f"group '{batch.labels[g]}': "
        biggest = float(np.nanmax(np.abs(batch.grid.y[g][batch.grid.mask[g]])))
        raise ModelError(
            f"{name}the statistics overflow double precision (largest |yi| = {biggest:g}); "
            "rescale the effect sizes (e.g. other units) and run again"
        )
