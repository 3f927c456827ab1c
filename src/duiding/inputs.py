"""Reading study-level CSV input for ``duiding pool``, with errors a person can act on.

Every problem is reported as ``FILE, row N (line L), column 'C': what is wrong``; all
problems are collected before failing, so one run shows them all.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .analysis import StudyData
from .effects import (
    EffectSizes,
    Table2x2,
    binary_effects,
    mean_difference,
    standardised_mean_difference,
)

MEASURES = ("MD", "SMD", "RR", "OR", "RD", "GEN")
CONTINUOUS = ("n1", "m1", "sd1", "n2", "m2", "sd2")
BINARY = ("e1", "n1", "e2", "n2")


class InputError(ValueError):
    """Bad input; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def locate(source: str, row: int | None = None, column: str | None = None) -> str:
    """'FILE, row N (line L), column 'C'': where a problem is, as every error message says it."""
    where = [source]
    if row is not None:
        where.append(f"row {row + 1} (line {row + 2})")
    if column is not None:
        where.append(f"column '{column}'")
    return ", ".join(where)


@dataclass
class Problems:
    source: str
    lines: list[str] = field(default_factory=list)

    def add(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.lines.append(f"{locate(self.source, row, column)}: {message}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise InputError(self.lines)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV as strings (no type guessing), with a clear error if it cannot be read."""
    path = Path(path)
    problems = Problems(str(path))
    if not path.is_file():
        problems.add("file not found")
        problems.raise_if_any()
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, csv.Error) as exc:
        problems.add(f"not a readable CSV file ({str(exc).strip().splitlines()[0]})")
        problems.raise_if_any()
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def numeric_columns(frame: pd.DataFrame, columns: tuple[str, ...], problems: Problems) -> dict[str, np.ndarray]:
    """Parse required numeric columns; record missing columns, blanks and non-numbers."""
    out: dict[str, np.ndarray] = {}
    for col in columns:
        if col not in frame.columns:
            problems.add(f"required column is missing (found: {', '.join(frame.columns)})", column=col)
            continue
        raw = frame[col].astype(str).str.strip()
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        for row in np.flatnonzero(~np.isfinite(values)):
            text = raw.iloc[row]
            what = "value is empty" if text == "" else f"'{text}' is not a finite number"
            problems.add(what, row=int(row), column=col)
        out[col] = values
    return out


def check(problems: Problems, bad: np.ndarray, column: str, message: str) -> None:
    for row in np.flatnonzero(bad):
        problems.add(message, row=int(row), column=column)


def study_input(frame: pd.DataFrame, measure: str, source: str, study_measure: str | None = None) -> StudyData:
    """Validate the columns ``measure`` needs and compute per-study effect sizes."""
    problems = Problems(source)
    if measure not in MEASURES:
        problems.add(f"unknown measure '{measure}' (choose from {', '.join(MEASURES)})")
        problems.raise_if_any()
    if "study" not in frame.columns:
        problems.add("required column is missing", column="study")
    elif (frame["study"].str.strip() == "").any():
        check(problems, (frame["study"].str.strip() == "").to_numpy(), "study", "study label is empty")
    if len(frame) == 0:
        problems.add("no studies: the file has a header but no data rows")
        problems.raise_if_any()
    table = None
    if measure in ("MD", "SMD"):
        cols = numeric_columns(frame, CONTINUOUS, problems)
        _check_continuous(cols, problems, measure)
        problems.raise_if_any()
        fn = mean_difference if measure == "MD" else standardised_mean_difference
        effects = fn(cols["m1"], cols["sd1"], cols["n1"], cols["m2"], cols["sd2"], cols["n2"])
    elif measure in ("RR", "OR", "RD"):
        cols = numeric_columns(frame, BINARY, problems)
        _check_binary(cols, problems)
        problems.raise_if_any()
        table = Table2x2.from_events(cols["e1"], cols["n1"], cols["e2"], cols["n2"])
        effects = binary_effects(table, study_measure or measure)
    else:
        effects = _generic(frame, problems)
    problems.raise_if_any()
    return StudyData(frame["study"].str.strip().to_numpy(), effects, table)


def _check_continuous(cols: dict[str, np.ndarray], problems: Problems, measure: str) -> None:
    for c in ("n1", "n2"):
        if c in cols:
            check(problems, cols[c] <= 0, c, "sample size must be > 0")
    for c in ("sd1", "sd2"):
        if c in cols:
            check(problems, cols[c] <= 0, c, "standard deviation must be > 0")
    if measure == "SMD" and "n1" in cols and "n2" in cols:
        check(
            problems,
            (cols["n1"] + cols["n2"] <= 2) & (cols["n1"] > 0) & (cols["n2"] > 0),
            "n2",
            "SMD needs n1 + n2 > 2",
        )


def _check_binary(cols: dict[str, np.ndarray], problems: Problems) -> None:
    for c in BINARY:
        if c in cols:
            check(
                problems,
                (cols[c] < 0) | (cols[c] != np.round(cols[c])),
                c,
                "counts must be whole numbers ≥ 0",
            )
    for c in ("n1", "n2"):
        if c in cols:
            check(problems, cols[c] <= 0, c, "sample size must be > 0")
    for e, n in (("e1", "n1"), ("e2", "n2")):
        if e in cols and n in cols:
            check(problems, cols[e] > cols[n], e, f"events exceed the arm size {n}")


def _generic(frame: pd.DataFrame, problems: Problems) -> EffectSizes:
    has_vi, has_sei = "vi" in frame.columns, "sei" in frame.columns
    if not (has_vi or has_sei):
        problems.add("measure GEN needs a 'yi' column and a 'vi' or 'sei' column", column="vi")
        problems.raise_if_any()
    spread = "vi" if has_vi else "sei"
    cols = numeric_columns(frame, ("yi", spread), problems)
    if spread in cols:
        check(problems, cols[spread] <= 0, spread, f"{spread} must be > 0")
    problems.raise_if_any()
    vi = cols["vi"] if has_vi else cols["sei"] ** 2
    return EffectSizes(cols["yi"], vi, "GEN")


def group_codes(frame: pd.DataFrame, column: str, source: str) -> tuple[np.ndarray, list[str]]:
    """Codes 0..G-1 in order of first appearance, and the group labels."""
    problems = Problems(source)
    if column not in frame.columns:
        problems.add(f"grouping column is missing (found: {', '.join(frame.columns)})", column=column)
        problems.raise_if_any()
    values = frame[column].str.strip()
    check(problems, (values == "").to_numpy(), column, "group label is empty")
    problems.raise_if_any()
    codes, labels = pd.factorize(values, sort=False)
    return codes.astype(np.int64), [str(x) for x in labels]
