"""One analysis of the plan: the selected studies, the fit, and its sensitivity re-fits.

A sensitivity analysis is the same fit with one argument changed (meta's ``update.meta``,
metafor's ``update``): fixed effect, the z test, direct studies only, low risk of bias
only, and the comparator subgroups with the test for subgroup differences. Each is
computed when it is first asked for, and only what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ..evidence import EvidenceBase, Selection, Spec, all_specs, extract, select
from ..meta import EffectSizes, MetaResult, Model, StudyData, SubgroupResult
from ..meta import fit as fit_batch
from .rob import StudyRob, all_robs, overall_of


def fit_rows(rows: pd.DataFrame, method: str, test: str) -> MetaResult:
    """The inverse-variance fit of selected rows (``yi``/``vi`` per study, in row order)."""
    data = StudyData(
        rows["study_id"].to_numpy().astype(str),
        EffectSizes(rows["yi"].to_numpy(float), rows["vi"].to_numpy(float), "GEN"),
    )
    return fit_batch(data, Model("GEN", method, test))[0]


@dataclass
class OutcomeAnalysis:
    """The selection of one :class:`~duiding.evidence.Spec` and the fit of its studies."""

    selection: Selection
    robs: dict[str, StudyRob] = field(default_factory=dict)

    @property
    def spec(self) -> Spec:
        return self.selection.spec

    @property
    def rows(self) -> pd.DataFrame:
        """The chosen result per study, with ``yi``, ``vi`` and the study's ``rob``."""
        rows = self.selection.rows
        return rows.assign(rob=[overall_of(s, self.robs) for s in rows["study_id"]])

    @property
    def k(self) -> int:
        return self.selection.k

    @cached_property
    def result(self) -> MetaResult | None:
        """The main fit (None when no study is left)."""
        if self.k == 0:
            return None
        return fit_rows(self.selection.rows, self.spec.method, self.spec.test)

    def rob_of_studies(self) -> list[str]:
        """Overall risk of bias per study, in the fit's study order."""
        assert self.result is not None
        return [overall_of(s, self.robs) for s in self.result.studies]

    def _subset(self, keep: pd.Series) -> MetaResult | None:
        assert self.result is not None
        return self.result.update(subset=keep.to_numpy(bool)) if keep.any() else None

    @cached_property
    def fixed_effect(self) -> MetaResult | None:
        return None if self.result is None else self.result.update(method="FE", test="z")

    @cached_property
    def z_test(self) -> MetaResult | None:
        return None if self.result is None else self.result.update(test="z")

    @cached_property
    def direct_only(self) -> MetaResult | None:
        return None if self.result is None else self._subset(self.selection.rows["eligibility"] == "include")

    @cached_property
    def low_rob_only(self) -> MetaResult | None:
        return None if self.result is None else self._subset(self.rows["rob"] == "low")

    @cached_property
    def comparator_subgroups(self) -> SubgroupResult | None:
        """Separate fits per comparator type, with the z test within subgroups: a one-study
        subgroup keeps its own interval and enters the test for subgroup differences (as in
        RevMan). None when all studies share one comparator type."""
        if self.result is None or self.selection.rows["comparator_type"].nunique() < 2:
            return None
        return self.result.update(test="z").subgroups(self.selection.rows["comparator_type"].to_numpy())


def analyse(spec: Spec, ev: EvidenceBase, extracted: pd.DataFrame, robs: dict[str, StudyRob]) -> OutcomeAnalysis:
    """Select the studies of ``spec`` and wrap them for fitting (nothing is fitted yet)."""
    studies = ev.of("studies", spec.population)
    return OutcomeAnalysis(select(extracted, studies, spec), robs)


@dataclass
class AnalysisSet:
    """Every analysis of the plan for one population: MD on 0-100, and the SMD alternative."""

    population: str
    evidence: EvidenceBase
    primary: list[OutcomeAnalysis]
    alternative: list[OutcomeAnalysis]
    robs: dict[str, StudyRob]


def plan_analyses(
    ev: EvidenceBase,
    population: str,
    method: str = "REML",
    test: str = "knha",
    assessor_robs: dict[str, StudyRob] | None = None,
) -> AnalysisSet:
    """Select the studies of every analysis of the plan (fits follow when asked for).

    Risk of bias per study: the assessor's rating where given, else the evidence base's.
    """
    extracted = extract(ev.results, ev.instruments)
    robs = all_robs(ev.of("risk_of_bias", population), assessor_robs or {})

    def specs(measure: str) -> list[OutcomeAnalysis]:
        return [analyse(s, ev, extracted, robs) for s in all_specs(population, measure, method, test)]

    return AnalysisSet(population, ev, specs("MD100"), specs("SMD"), robs)


def leave_one_out_range(res: MetaResult) -> tuple[float, float] | None:
    """Lowest and highest estimate without one study (None below two studies)."""
    loo = res.leave1out()
    if loo is None:
        return None
    ests = loo.estimate[np.isfinite(loo.estimate)]
    return (float(ests.min()), float(ests.max())) if ests.size else None


def unrated_studies(analyses: AnalysisSet) -> list[str]:
    """Studies that enter any analysis of the plan without a risk-of-bias rating."""
    used = {s for a in [*analyses.primary, *analyses.alternative] for s in a.selection.rows["study_id"]}
    return sorted(used - set(analyses.robs))
