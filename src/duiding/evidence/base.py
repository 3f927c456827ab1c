"""The evidence base in memory: every table, all populations stacked.

Each row keeps where it came from (``_population``, ``_file``, ``_row`` and the physical
``_line``), so that any later message can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

import pandas as pd

from .extraction import extract
from .schema import POPULATION_FILES, POPULATIONS


@dataclass(frozen=True)
class EvidenceBase:
    """All tables of ``evidence/``; population tables carry a ``_population`` column."""

    root: Path
    instruments: pd.DataFrame
    studies: pd.DataFrame
    results: pd.DataFrame
    sources: pd.DataFrame
    risk_of_bias: pd.DataFrame
    review_results: pd.DataFrame
    harms: pd.DataFrame
    reported_outcomes: pd.DataFrame
    screening: pd.DataFrame

    def files(self) -> list[Path]:
        """Every input file, for hashing in the report's reproducibility appendix."""
        out = [self.root / "instruments.csv"]
        out += [self.root / p / f"{f}.csv" for p in POPULATIONS for f in POPULATION_FILES]
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "root"}

    @cached_property
    def extracted(self) -> pd.DataFrame:
        """Every result with its effect sizes on the analysis scales (computed once: the
        selection of every analysis, variant and tipping point reads it)."""
        return extract(self.results, self.instruments)

    def of(self, table: str, population: str) -> pd.DataFrame:
        """One table's rows for one population."""
        frame = getattr(self, table)
        return frame[frame["_population"] == population]

    def where(self, table: str, index: object) -> tuple[str, int, int]:
        """(file, data row, physical line) of a row, for messages."""
        frame = getattr(self, table)
        return str(frame.at[index, "_file"]), int(frame.at[index, "_row"]), int(frame.at[index, "_line"])
