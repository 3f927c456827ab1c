"""One analysis of the plan: the selected studies, its fits, and the analyses beside it.

The *plain* fit is the plan's model (random effects, REML with Knapp-Hartung). The
*headline* fit is what the plan's policy for very few studies makes of it (Bender et al.
2018; ``config/analysis.yaml`` ``small_k``): the fixed-effect model for 2-4 homogeneous
studies, the modified Knapp-Hartung method for 3-4 heterogeneous ones, no pooled estimate
for two heterogeneous studies, and the plain fit otherwise. GRADE, the SoF table and the
conclusion take the headline; the report always shows the plain fit beside it.

A sensitivity analysis is the same fit with one argument changed (meta's ``update.meta``,
metafor's ``update``): fixed effect, the z test, direct studies only, low risk of bias
only, and the comparator subgroups with the test for subgroup differences; or the same
analysis with another selection (including indirect studies, including final values
across a baseline imbalance, one type of comparison). Each is computed when it is first
asked for, and only what it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from ..evidence import AnalysisPlan, EvidenceBase, Selection, Spec, all_specs, load_plan, n_participants, select
from ..meta import EffectSizes, MetaResult, Model, StudyData, SubgroupResult
from ..meta import fit as fit_batch
from .domains import Unpooled
from .rob import StudyRob, all_robs, overall_of

VARIANTS = ("with_indirect", "with_imbalanced", "add_on", "replacement")


def fit_rows(rows: pd.DataFrame, method: str, test: str) -> MetaResult:
    """The inverse-variance fit of selected rows (``yi``/``vi`` per study, in row order)."""
    data = StudyData(
        rows["study_id"].to_numpy().astype(str),
        EffectSizes(rows["yi"].to_numpy(float), rows["vi"].to_numpy(float), "GEN"),
    )
    return fit_batch(data, Model("GEN", method, test))[0]


@dataclass
class OutcomeAnalysis:
    """The selection of one :class:`~duiding.evidence.Spec` and the fits of its studies."""

    selection: Selection
    robs: dict[str, StudyRob] = field(default_factory=dict)
    plan: AnalysisPlan | None = None
    make: Callable[[Spec], OutcomeAnalysis] | None = None  # builds a variant's analysis

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
    def plain(self) -> MetaResult | None:
        """The plan's model without the policy for very few studies (None: no studies)."""
        if self.k == 0:
            return None
        return fit_rows(self.selection.rows, self.spec.method, self.spec.test)

    @cached_property
    def policy(self) -> str:
        """none | single_study | standard | fixed_effect | modified_knapp_hartung | qualitative."""
        plain = self.plain
        if plain is None:
            return "none"
        if plain.k == 1:
            return "single_study"
        small = (self.plan or load_plan()).small_k
        return "standard" if small is None else small.choose(plain.k, plain.i2, plain.q_pval)

    @cached_property
    def result(self) -> MetaResult | None:
        """The headline fit (None: no studies, or two heterogeneous studies not pooled)."""
        plain = self.plain
        if plain is None or self.policy == "qualitative":
            return None
        if self.policy == "fixed_effect":
            return plain.update(method="FE", test="z")
        if self.policy == "modified_knapp_hartung":
            return plain.update(test="adhoc")
        return plain

    @property
    def pooled(self) -> bool:
        return self.result is not None

    @property
    def unpooled(self) -> pd.DataFrame:
        """One result per study in scope that could not be pooled, with its direction."""
        return self.selection.unpooled

    @cached_property
    def unpooled_summary(self) -> Unpooled:
        """The unpooled studies for GRADE: how many, and those against a pooled benefit."""
        u = self.unpooled
        if u.empty:
            return Unpooled()
        against = u[u["direction_read"].isin(("no_clear_difference", "favours_control"))]
        n = (against["n_int"] + against["n_ctl"]).dropna()
        return Unpooled(total=len(u), conflicting=len(against), conflicting_n=int(n.sum()))

    def rob_of_studies(self) -> list[str]:
        """Overall risk of bias per study, in the fit's study order."""
        fit = self.result or self.plain
        assert fit is not None
        return [overall_of(s, self.robs) for s in fit.studies]

    @cached_property
    def indirect(self) -> list[bool]:
        """Per study (fit order): an indirect study, or a substitute outcome."""
        fit = self.result or self.plain
        assert fit is not None
        rows = self.selection.rows.set_index("study_id")
        return [bool(rows.at[s, "eligibility"] == "indirect" or rows.at[s, "substitute"]) for s in fit.studies]

    @cached_property
    def designs(self) -> dict[str, int]:
        """Studies per type of comparison as ZIN's rule reads it (add_on, replacement,
        unclear; :meth:`~duiding.evidence.AnalysisPlan.rule_designs`) in this analysis."""
        return self.selection.rows["rule_design"].value_counts().to_dict()

    @cached_property
    def participants(self) -> tuple[int, bool, int, int]:
        """Participants over the chosen results, whether all are known, and per arm."""
        rows = self.selection.rows
        total, complete = n_participants(rows)
        known = rows["n_int"].notna() & rows["n_ctl"].notna()
        return total, complete, int(rows.loc[known, "n_int"].sum()), int(rows.loc[known, "n_ctl"].sum())

    def _subset(self, keep: pd.Series) -> MetaResult | None:
        assert self.result is not None
        return self.result.update(subset=keep.to_numpy(bool)) if keep.any() else None

    @cached_property
    def fixed_effect(self) -> MetaResult | None:
        return None if self.plain is None else self.plain.update(method="FE", test="z")

    @cached_property
    def z_test(self) -> MetaResult | None:
        return None if self.plain is None else self.plain.update(test="z")

    @cached_property
    def low_rob_only(self) -> MetaResult | None:
        return None if self.result is None else self._subset(self.rows["rob"] == "low")

    @cached_property
    def comparator_subgroups(self) -> SubgroupResult | None:
        """Separate fits per comparator type, with the z test within subgroups: a one-study
        subgroup keeps its own interval and enters the test for subgroup differences (as in
        RevMan). None when all studies share one comparator type."""
        if self.plain is None or self.selection.rows["comparator_type"].nunique() < 2:
            return None
        return self.plain.update(test="z").subgroups(self.selection.rows["comparator_type"].to_numpy())

    @cached_property
    def _variants(self) -> dict[str, OutcomeAnalysis]:
        return {}

    def variant(self, name: str) -> OutcomeAnalysis | None:
        """The same analysis with another selection (see :data:`VARIANTS`); None where it is
        the same as this one (e.g. indirect studies are already in)."""
        spec = self.spec
        if name == "with_indirect":
            if spec.include_indirect:
                return None
            spec = replace(spec, eligibility=(*spec.eligibility, "indirect"))
        elif name == "with_imbalanced":
            if spec.imbalance_limit is None:
                return None
            spec = replace(spec, imbalance_limit=None)
        elif name in ("add_on", "replacement"):
            spec = replace(spec, design=name)
        else:
            raise ValueError(f"unknown variant {name!r}")
        if self.make is None:
            return None
        if name not in self._variants:
            self._variants[name] = self.make(spec)
        return self._variants[name]


@dataclass
class AnalysisSet:
    """Every analysis of the plan for one population: MD on 0-100, and the SMD alternative."""

    population: str
    evidence: EvidenceBase
    primary: list[OutcomeAnalysis]
    alternative: list[OutcomeAnalysis]
    robs: dict[str, StudyRob]
    plan: AnalysisPlan

    @cached_property
    def design_counts(self) -> dict[str, int]:
        """Studies of the population per type of comparison as ZIN's rule reads it (first
        result of each study)."""
        first = self.evidence.of("results", self.population).drop_duplicates("study_id")
        designs = self.plan.rule_designs(first["comparison_design"], first["comparator_type"])
        return pd.Series(designs).value_counts().to_dict()


def plan_analyses(
    ev: EvidenceBase,
    population: str,
    method: str = "REML",
    test: str = "knha",
    assessor_robs: dict[str, StudyRob] | None = None,
    mids: dict[str, float] | None = None,
    include_indirect: bool = False,
    plan: AnalysisPlan | None = None,
    alternative: bool = True,
) -> AnalysisSet:
    """Select the studies of every analysis of the plan (fits follow when asked for).

    Risk of bias per study: the assessor's rating where given, else the evidence base's.
    ``mids`` (MD on 0-100 per outcome) set the baseline imbalance from which final values
    are left out; ``include_indirect`` puts indirect studies into the primary analyses;
    ``alternative`` False keeps only the SMD analyses the conclusion reads (those whose MD
    analysis has no study: :attr:`PopulationAssessment.headline`).
    """
    plan = plan or load_plan()
    extracted = ev.extracted
    robs = all_robs(ev.of("risk_of_bias", population), assessor_robs or {})
    studies = ev.of("studies", population)
    eligibility = (*plan.primary_eligibility, "indirect") if include_indirect else plan.primary_eligibility

    def make(spec: Spec) -> OutcomeAnalysis:
        return OutcomeAnalysis(select(extracted, studies, spec, plan), robs, plan, make)

    def specs(measure: str) -> list[OutcomeAnalysis]:
        out = []
        for spec in all_specs(population, measure, method, test, eligibility, plan):
            mid = (mids or {}).get(spec.outcome)
            limit = None if mid is None else plan.imbalance_share * mid
            out.append(make(replace(spec, imbalance_limit=limit)))
        return out

    primary = specs("MD100")
    smd = specs("SMD")
    return AnalysisSet(population, ev, primary, smd if alternative else stand_ins(primary, smd), robs, plan)


def stand_ins(primary: list[OutcomeAnalysis], smd: list[OutcomeAnalysis]) -> list[OutcomeAnalysis]:
    """The SMD analyses that stand in for an MD analysis without studies (no instrument
    range known): the only SMD analyses the conclusion reads."""
    empty = {(a.spec.outcome, a.spec.window) for a in primary if a.k == 0}
    return [a for a in smd if (a.spec.outcome, a.spec.window) in empty]


def unrated_studies(analyses: AnalysisSet) -> list[str]:
    """Studies that enter any analysis of the plan (with indirect studies) without a rating."""
    used: set[str] = set()
    for a in [*analyses.primary, *analyses.alternative]:
        used |= set(a.selection.rows["study_id"])
        wider = a.variant("with_indirect")
        if wider is not None:
            used |= set(wider.selection.rows["study_id"])
    return sorted(used - set(analyses.robs))


def leave_one_out_range(res: MetaResult) -> tuple[float, float] | None:
    """Lowest and highest estimate without one study (None below two studies)."""
    loo = res.leave1out()
    if loo is None:
        return None
    ests = loo.estimate[np.isfinite(loo.estimate)]
    return (float(ests.min()), float(ests.max())) if ests.size else None
