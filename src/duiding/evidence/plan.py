"""The analysis plan (``config/analysis.yaml``) as typed objects: windows, outcomes, order of preference.

Every rule that decides which result enters which analysis is read from the plan here,
and nowhere else: the selection, the review cross-check and the report all ask the plan
(e.g. :meth:`AnalysisPlan.window_of`) instead of repeating its bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from ..config import load_config


@dataclass(frozen=True)
class Window:
    """A follow-up window in weeks since randomisation, and the time point it prefers."""

    key: str
    lower: float
    upper: float | None
    lower_inclusive: bool
    upper_inclusive: bool
    target: float

    def contains(self, weeks: Any) -> Any:
        """Whether ``weeks`` (a number or a Series) lies in the window; missing is outside."""
        weeks = pd.Series(weeks, dtype=float) if not isinstance(weeks, pd.Series) else weeks
        ok = weeks >= self.lower if self.lower_inclusive else weeks > self.lower
        if self.upper is not None:
            ok &= weeks <= self.upper if self.upper_inclusive else weeks < self.upper
        return ok & weeks.notna()


@dataclass(frozen=True)
class OutcomePlan:
    """An outcome of the plan: per population, the result outcome codes that answer it
    directly (in order of preference) and the substitutes used only where those are missing."""

    key: str
    codes: dict[str, tuple[str, ...]]
    substitutes: dict[str, tuple[str, ...]]

    def accepts(self, population: str) -> tuple[str, ...]:
        """Every code this outcome takes for the population: direct ones first."""
        return (*self.codes.get(population, ()), *self.substitutes.get(population, ()))


@dataclass(frozen=True)
class SmallK:
    """The policy for 2 to 4 studies (Bender et al. 2018; see analysis.yaml)."""

    max_k: int
    i2_below: float
    q_p_at_least: float
    homogeneous: str
    heterogeneous: str
    two_heterogeneous: str

    def choose(self, k: int, i2: float, q_pval: float) -> str:
        """fixed_effect | modified_knapp_hartung | qualitative | standard (k = 1 or > max_k)."""
        if k < 2 or k > self.max_k:
            return "standard"
        if i2 < self.i2_below and q_pval >= self.q_p_at_least:
            return self.homogeneous
        return self.two_heterogeneous if k == 2 else self.heterogeneous


@dataclass(frozen=True)
class AnalysisPlan:
    windows: dict[str, Window]
    outcomes: dict[str, OutcomePlan]
    primary_eligibility: tuple[str, ...]
    comparators: tuple[str, ...]
    equal_value_comparators: tuple[str, ...]
    value_types: tuple[str, ...]
    imbalance_share: float
    imbalance_action: str
    data_forms: tuple[str, ...]
    measures: tuple[str, ...]
    small_k: SmallK | None
    model: dict[str, str]

    def window_of(self, weeks: float | None) -> str | None:
        """The window a time point belongs to, or None (no time point, or in no window)."""
        if weeks is None or not np.isfinite(weeks):
            return None
        return next((k for k, w in self.windows.items() if bool(w.contains(pd.Series([weeks])).iloc[0])), None)

    def outcomes_for(self, population: str) -> list[str]:
        """The plan's outcomes that apply to a population, in plan order."""
        return [k for k, o in self.outcomes.items() if population in o.codes]

    @property
    def replaced_care(self) -> tuple[str, ...]:
        """The pooled comparators a therapy can replace with equal value (usual care)."""
        return tuple(c for c in self.comparators if c in self.equal_value_comparators)

    @property
    def benefit_controls(self) -> tuple[str, ...]:
        """The pooled comparators held to the add-on criterion even where a trial codes the
        therapy as replacing them (sham, no treatment, waiting list, minimal intervention)."""
        return tuple(c for c in self.comparators if c not in self.equal_value_comparators)

    def with_equal_value_for_every_comparator(self) -> AnalysisPlan:
        """The same plan reading every trial coded as a replacement as non-inferiority."""
        return replace(self, equal_value_comparators=(*self.equal_value_comparators, *self.benefit_controls))

    def rule_designs(self, design: pd.Series, comparator: pd.Series) -> np.ndarray:
        """The comparison type ZIN's rule applies per result (see analysis.yaml): 'add_on'
        (added value asked), 'replacement' (equal value asked) or 'unclear'. A replacement
        against a comparator that is not existing care (sham, no treatment, waiting list,
        minimal intervention) is held to the add-on criterion: there, no difference means no
        effect, not equal value."""
        design = design.to_numpy(dtype=object)
        standard = comparator.isin(self.equal_value_comparators).to_numpy()
        return np.where((design == "replacement") & ~standard, "add_on", design)

    def without_small_k(self) -> AnalysisPlan:
        """The same plan with plain random effects for any number of studies."""
        return replace(self, small_k=None)


@cache
def load_plan() -> AnalysisPlan:
    cfg = load_config("analysis")
    windows = {k: Window(key=k, **v) for k, v in cfg["windows"].items()}
    outcomes = {
        k: OutcomePlan(
            k,
            {p: tuple(c["codes"]) for p, c in v.items()},
            {p: tuple(c.get("substitutes") or ()) for p, c in v.items()},
        )
        for k, v in cfg["outcomes"].items()
    }
    small = cfg.get("small_k")
    return AnalysisPlan(
        windows=windows,
        outcomes=outcomes,
        primary_eligibility=tuple(cfg["primary_eligibility"]),
        comparators=tuple(cfg["comparators"]),
        equal_value_comparators=tuple(cfg["equal_value_comparators"]),
        value_types=tuple(cfg["value_types"]),
        imbalance_share=float(cfg["baseline_imbalance"]["share_of_threshold"]),
        imbalance_action=str(cfg["baseline_imbalance"]["action"]),
        data_forms=tuple(cfg["data_forms"]),
        measures=tuple(cfg["measures"]),
        small_k=None if small is None else SmallK(**small),
        model=dict(cfg["model"]),
    )


@dataclass(frozen=True)
class Spec:
    """One analysis: population × outcome × follow-up window × effect measure, and the model.

    ``eligibility`` are the study eligibility codes it takes (the plan's primary ones, or
    also 'indirect' for the sensitivity analysis); ``design`` restricts it to one type of
    comparison (add_on, replacement) for ZIN's rule; ``imbalance_limit`` is the baseline
    imbalance (0-100 scale) from which final values are left out (None: none are).
    """

    population: str
    outcome: str  # key in the plan's outcomes (pain, back_pain, function)
    window: str  # short | intermediate | long
    measure: str = "MD100"
    method: str = "REML"
    test: str = "knha"
    eligibility: tuple[str, ...] = ("include",)
    design: str | None = None
    imbalance_limit: float | None = None

    @property
    def key(self) -> str:
        return f"{self.population}/{self.outcome}/{self.window}/{self.measure}"

    @property
    def include_indirect(self) -> bool:
        return "indirect" in self.eligibility


def all_specs(
    population: str,
    measure: str = "MD100",
    method: str = "REML",
    test: str = "knha",
    eligibility: tuple[str, ...] | None = None,
    plan: AnalysisPlan | None = None,
) -> list[Spec]:
    """Every analysis of the plan for one population and measure, outcome by outcome."""
    plan = plan or load_plan()
    allowed = plan.primary_eligibility if eligibility is None else eligibility
    return [
        Spec(population, o, w, measure, method, test, allowed)
        for o in plan.outcomes_for(population)
        for w in plan.windows
    ]
