"""Reading study-level CSV input for ``duiding pool``, with errors a person can act on.

Every problem names the file, the row with its physical line, and the column. The file is
read with the standard library's csv module rather than pandas: a ``pool`` run is often a
single small file, and pandas' import alone would double the time of the whole process.

Dutch spreadsheet exports use semicolons and decimal commas; they are detected from the
header line (or given with ``--sep`` / ``--decimal``), and the command says what it read.
A value is never guessed: with decimal commas, a point in a number is an error, not a
thousands separator.
"""

from __future__ import annotations

import csv
import math
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, ModelError, Problems
from ..evidence.read import repeated_columns
from ..meta import MEASURES, EffectSizes, StudyData, Table2x2, binary_effects, mean_difference
from ..meta import standardised_mean_difference as smd

CONTINUOUS = ("n1", "m1", "sd1", "n2", "m2", "sd2")
BINARY = ("e1", "n1", "e2", "n2")
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass(frozen=True)
class CsvTable:
    """A CSV file as text cells (stripped), with the physical line where each row starts."""

    source: str
    columns: list[str]
    rows: list[list[str]]
    lines: list[int]
    sep: str
    decimal: str

    def __len__(self) -> int:
        return len(self.rows)

    def has(self, column: str) -> bool:
        return column in self.columns

    def column(self, name: str) -> list[str]:
        i = self.columns.index(name)
        return [r[i] if i < len(r) else "" for r in self.rows]

    def add(self, problems: Problems, message: str, row: int | None = None, column: str | None = None) -> None:
        problems.add(message, row=row, column=column, line=None if row is None else self.lines[row])

    @property
    def described(self) -> str:
        """What was read, for the user: separator and decimal mark."""
        dec = "decimal commas" if self.decimal == "," else "decimal points"
        return f"{SEPARATORS.get(self.sep, repr(self.sep))}-separated with {dec}"


def read_bytes(path: Path, problems: Problems) -> bytes | None:
    """The file's bytes, or None with a problem that says why it cannot be read."""
    try:
        info = path.stat()
    except FileNotFoundError:
        problems.add("file not found")
        return None
    except OSError as exc:
        problems.add(f"cannot be read ({exc.strerror})")
        return None
    if stat.S_ISDIR(info.st_mode):
        problems.add("is a folder, not a CSV file")
        return None
    if not stat.S_ISREG(info.st_mode):
        problems.add("is not a regular file (a device or pipe?), so not a CSV file")
        return None
    try:
        return path.read_bytes()
    except PermissionError:
        problems.add("cannot be read (permission denied)")
    except OSError as exc:
        problems.add(f"cannot be read ({exc.strerror or exc})")
    return None


def decode(data: bytes, problems: Problems) -> str | None:
    """UTF-8 text (a byte-order mark is allowed); an invalid byte is reported with its line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start : exc.start + 1].hex()
        problems.add(f"line {line}, character {column}: not valid UTF-8 (byte 0x{byte}); save the file as UTF-8")
        return None


def detect_separator(header: str) -> str:
    """The separator of the header line: the most frequent of ',', ';' and tab (',' on ties)."""
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda s: (counts[s], s == ","))
    return best if counts[best] else ","


def read_table(path: str | Path, sep: str | None = None, decimal: str | None = None) -> CsvTable:
    """Read a CSV as text cells (no type guessing), or raise InputError saying why not."""
    source = str(path)
    problems = Problems(source)
    data = read_bytes(Path(path), problems)
    text = None if data is None else decode(data, problems)
    problems.raise_if_any()
    assert text is not None
    if not text.strip():
        problems.add("file is empty (expected a header row and one row per study)")
        problems.raise_if_any()
    sep = sep or detect_separator(text.splitlines()[0])
    decimal = decimal or ("," if sep == ";" else ".")
    if decimal == sep:
        raise InputError([f"{source}: the decimal mark and the separator are both '{sep}'"])
    reader = csv.reader(text.splitlines(keepends=True), delimiter=sep)
    try:
        header = [c.strip() for c in next(reader)]
        rows, lines = [], []
        start = reader.line_num + 1
        for record in reader:
            if any(c.strip() for c in record):
                rows.append([c.strip() for c in record])
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError([f"{source}, line {reader.line_num}: not a readable CSV file ({exc})"]) from None
    doubles = repeated_columns(header)
    if doubles:
        raise InputError([f"{source}, line 1: column(s) {', '.join(doubles)} appear more than once in the header"])
    for i, (record, line) in enumerate(zip(rows, lines, strict=True)):
        if len(record) > len(header):
            problems.add(f"{len(record)} cells but the header has {len(header)} columns", row=i, line=line)
    problems.raise_if_any()
    return CsvTable(source, header, rows, lines, sep, decimal)


# A number as a spreadsheet writes it: ASCII digits, one decimal mark, an exponent. Python's
# float() also takes 1_000, Arabic-Indic and full-width digits; `check` refuses those, and
# so does pool.
NUMBER = re.compile(r"^[-+]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][-+]?[0-9]+)?$|^[-+]?(inf|infinity|nan)$", re.I)


def parse_number(text: str, decimal: str) -> float | None:
    """The number in a cell, or None if it is not a finite number in this file's style."""
    if not NUMBER.match(text):
        return None
    if decimal == ",":
        if "." in text:
            return None
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def numeric_columns(table: CsvTable, columns: tuple[str, ...], problems: Problems) -> dict[str, np.ndarray]:
    """Parse required numeric columns; record missing columns, blanks and non-numbers."""
    out: dict[str, np.ndarray] = {}
    for col in columns:
        if not table.has(col):
            found = ", ".join(table.columns)
            table.add(problems, f"required column is missing (found: {found})", column=col)
            continue
        values = []
        for row, text in enumerate(table.column(col)):
            value = parse_number(text, table.decimal)
            if value is None:
                what = "value is empty" if text == "" else f"'{text}' is not a finite number"
                if value is None and text and table.decimal == "," and "." in text:
                    what += " (this file uses decimal commas)"
                table.add(problems, what, row=row, column=col)
            values.append(np.nan if value is None else value)
        out[col] = np.array(values, dtype=float)
    return out


def check(table: CsvTable, problems: Problems, bad: np.ndarray, column: str, message: str) -> None:
    for row in np.flatnonzero(bad):
        table.add(problems, message, row=int(row), column=column)


def study_labels(table: CsvTable, problems: Problems, groups: np.ndarray | None = None) -> np.ndarray:
    """The 'study' column; empty labels and labels repeated within a group are errors.

    A repeated label would attach one study's risk of bias, weight and leave-one-out row
    to another, so the message names both rows.
    """
    if not table.has("study"):
        table.add(problems, "required column is missing", column="study")
        return np.array([""] * len(table), dtype=object)
    labels = table.column("study")
    first: dict[tuple[int, str], int] = {}
    for row, label in enumerate(labels):
        if label == "":
            table.add(problems, "study label is empty", row=row, column="study")
            continue
        key = (0 if groups is None else int(groups[row]), label)
        if key in first:
            other = first[key]
            where = f"row {other + 1} (line {table.lines[other]})"
            scope = "" if groups is None else " in the same group"
            table.add(problems, f"study label '{label}' is also used in {where}{scope}", row=row, column="study")
        else:
            first[key] = row
    return np.array(labels, dtype=object)


def study_input(
    table: CsvTable, measure: str, study_measure: str | None = None, groups: np.ndarray | None = None
) -> StudyData:
    """Validate the columns ``measure`` needs and compute per-study effect sizes."""
    if measure not in MEASURES:
        raise ModelError(f"unknown measure '{measure}' (choose from {', '.join(MEASURES)})")
    problems = Problems(table.source)
    study = study_labels(table, problems, groups)
    if len(table) == 0:
        table.add(problems, "no studies: the file has a header but no data rows")
        problems.raise_if_any()
    tables = None
    if measure in ("MD", "SMD"):
        cols = numeric_columns(table, CONTINUOUS, problems)
        _check_continuous(table, cols, problems, measure)
        problems.raise_if_any()
        fn = mean_difference if measure == "MD" else smd
        effects = fn(cols["m1"], cols["sd1"], cols["n1"], cols["m2"], cols["sd2"], cols["n2"])
        ni = cols["n1"] + cols["n2"]
    elif measure in ("RR", "OR", "RD"):
        cols = numeric_columns(table, BINARY, problems)
        _check_binary(table, cols, problems)
        problems.raise_if_any()
        tables = Table2x2.from_events(cols["e1"], cols["n1"], cols["e2"], cols["n2"])
        with np.errstate(divide="ignore", invalid="ignore"):
            effects = binary_effects(tables, study_measure or measure)
        ni = cols["n1"] + cols["n2"]
    else:
        effects = _generic(table, problems)
        ni = None
    problems.raise_if_any()
    return StudyData(study.astype(str), effects, tables, ni)


def _check_continuous(table: CsvTable, cols: dict[str, np.ndarray], problems: Problems, measure: str) -> None:
    for c in ("n1", "n2"):
        if c in cols:
            check(table, problems, cols[c] <= 0, c, "sample size must be > 0")
    for c in ("sd1", "sd2"):
        if c in cols:
            check(table, problems, cols[c] <= 0, c, "standard deviation must be > 0")
    if measure == "SMD" and "n1" in cols and "n2" in cols:
        small = (cols["n1"] + cols["n2"] <= 2) & (cols["n1"] > 0) & (cols["n2"] > 0)
        check(table, problems, small, "n2", "SMD needs n1 + n2 > 2")


def _check_binary(table: CsvTable, cols: dict[str, np.ndarray], problems: Problems) -> None:
    for c in BINARY:
        if c in cols:
            bad = (cols[c] < 0) | (cols[c] != np.round(cols[c]))
            check(table, problems, bad, c, "counts must be whole numbers ≥ 0")
    for c in ("n1", "n2"):
        if c in cols:
            check(table, problems, cols[c] <= 0, c, "sample size must be > 0")
    for e, n in (("e1", "n1"), ("e2", "n2")):
        if e in cols and n in cols:
            check(table, problems, cols[e] > cols[n], e, f"events exceed the arm size {n}")


def _generic(table: CsvTable, problems: Problems) -> EffectSizes:
    has_vi, has_sei = table.has("vi"), table.has("sei")
    if has_vi and has_sei:
        table.add(problems, "give either 'vi' or 'sei', not both (they can contradict each other)", column="sei")
        problems.raise_if_any()
    if not (has_vi or has_sei):
        table.add(problems, "measure GEN needs a 'yi' column and a 'vi' or 'sei' column", column="vi")
        problems.raise_if_any()
    spread = "vi" if has_vi else "sei"
    cols = numeric_columns(table, ("yi", spread), problems)
    if spread in cols:
        check(table, problems, cols[spread] <= 0, spread, f"{spread} must be > 0")
    problems.raise_if_any()
    vi = cols["vi"] if has_vi else cols["sei"] ** 2
    return EffectSizes(cols["yi"], vi, "GEN")


def group_codes(table: CsvTable, column: str) -> tuple[np.ndarray, list[str]]:
    """Codes 0..G-1 in order of first appearance, and the group labels."""
    problems = Problems(table.source)
    if not table.has(column):
        table.add(problems, f"grouping column is missing (found: {', '.join(table.columns)})", column=column)
        problems.raise_if_any()
    values = table.column(column)
    check(table, problems, np.array([v == "" for v in values], dtype=bool), column, "group label is empty")
    problems.raise_if_any()
    seen: dict[str, int] = {}
    codes = np.array([seen.setdefault(v, len(seen)) for v in values], dtype=np.int64)
    return codes, list(seen)


def optional_numbers(table: CsvTable, column: str, problems: Problems) -> np.ndarray | None:
    """An optional numeric column (e.g. n1/n2 for the optimal information size), or None."""
    if not table.has(column):
        return None
    return numeric_columns(table, (column,), problems)[column]
