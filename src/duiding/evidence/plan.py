"""The analysis plan (``config/analysis.yaml``) as typed objects: windows, outcomes, order of preference.

Every rule that decides which result enters which analysis is read from the plan here,
and nowhere else: the selection, the review cross-check and the report all ask the plan
(e.g. :meth:`AnalysisPlan.window_of`) instead of repeating its bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """An outcome of the plan and the result outcome codes it takes, per population."""

    key: str
    codes: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class AnalysisPlan:
    windows: dict[str, Window]
    outcomes: dict[str, OutcomePlan]
    comparators: tuple[str, ...]
    data_forms: tuple[str, ...]
    measures: tuple[str, ...]
    model: dict[str, str]

    def window_of(self, weeks: float | None) -> str | None:
        """The window a time point belongs to, or None (no time point, or in no window)."""
        if weeks is None or not np.isfinite(weeks):
            return None
        return next((k for k, w in self.windows.items() if bool(w.contains(pd.Series([weeks])).iloc[0])), None)


@cache
def load_plan() -> AnalysisPlan:
    cfg = load_config("analysis")
    windows = {k: Window(key=k, **v) for k, v in cfg["windows"].items()}
    outcomes = {k: OutcomePlan(k, {p: tuple(c) for p, c in v["codes"].items()}) for k, v in cfg["outcomes"].items()}
    return AnalysisPlan(
        windows=windows,
        outcomes=outcomes,
        comparators=tuple(cfg["comparators"]),
        data_forms=tuple(cfg["data_forms"]),
        measures=tuple(cfg["measures"]),
        model=dict(cfg["model"]),
    )


@dataclass(frozen=True)
class Spec:
    """One analysis: population × outcome × follow-up window × effect measure, and the model."""

    population: str
    outcome: str  # key in the plan's outcomes (pain, function)
    window: str  # short | intermediate | long
    measure: str = "MD100"
    method: str = "REML"
    test: str = "knha"
    include_indirect: bool = True

    @property
    def key(self) -> str:
        return f"{self.population}/{self.outcome}/{self.window}/{self.measure}"


def all_specs(population: str, measure: str = "MD100", method: str = "REML", test: str = "knha") -> list[Spec]:
    """Every analysis of the plan for one population and measure, outcome by outcome."""
    plan = load_plan()
    return [Spec(population, o, w, measure, method, test) for o in plan.outcomes for w in plan.windows]
