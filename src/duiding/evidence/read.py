"""Reading one evidence CSV file as typed columns, with the physical line of every row.

Rows whose quoted fields hold line breaks span several lines; every message names the
line where the row starts, so that an editor's "go to line" lands on it. Typed columns
(numbers, integers) are converted here; codes, bounds and required values are checked by
the schema run in :mod:`duiding.evidence.validate` over all populations at once.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import regular_file
from ..errors import InputError, Problems
from .schema import Col

# C0 control characters other than tab, line feed and carriage return, and DEL: they are
# invisible in an editor, break the DOCX (XML forbids them) and are never meant.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def empty_frame(schema: dict[str, Col]) -> pd.DataFrame:
    """A frame with the schema's columns and no rows (for a file that could not be read)."""
    frame = pd.DataFrame(
        {c: pd.Series(dtype=float if s.kind in ("number", "integer") else object) for c, s in schema.items()}
    )
    frame["_file"], frame["_row"], frame["_line"] = (
        pd.Series(dtype=object),
        pd.Series(dtype=int),
        pd.Series(dtype=int),
    )
    return frame


MAX_BYTES = 200_000_000  # far above any real evidence file; /dev/zero behind a link is not read


def read_text(path: Path, problems: Problems) -> str | None:
    """The file as UTF-8 text, or None with a problem that says why it cannot be read."""
    try:
        regular_file(path, MAX_BYTES)
    except InputError as exc:
        problems.add(exc.lines[0].removeprefix(f"{path}: "), file=str(path))
        return None
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        problems.add("file not found", file=str(path))
        return None
    except IsADirectoryError:
        problems.add("is a folder, not a CSV file", file=str(path))
        return None
    except PermissionError:
        problems.add("cannot be read (permission denied)", file=str(path))
        return None
    except OSError as exc:
        problems.add(f"cannot be read ({exc.strerror or exc})", file=str(path))
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        problems.add("starts with a byte-order mark (BOM); save as UTF-8 without BOM", file=str(path))
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        problems.add(f"line {line}: not valid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8", file=str(path))
        return None


def parse_rows(text: str, path: Path, problems: Problems) -> tuple[list[str], list[list[str]], list[int]] | None:
    """(header, records, physical start line per record), or None if the CSV is malformed."""
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader, None)
        if header is None:
            problems.add("file is empty (expected a header row)", file=str(path))
            return None
        records, lines = [], []
        start = reader.line_num + 1
        for record in reader:
            if record:
                records.append(record)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        problems.add(f"line {reader.line_num}: not a readable CSV file ({exc})", file=str(path))
        return None
    header = [h.strip() for h in header]
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        sep = "semicolons" if ";" in header[0] else "tabs"
        problems.add(f"the header is separated by {sep}; evidence files are comma-separated", file=str(path))
        return None
    doubles = repeated_columns(header)
    if doubles:
        problems.add(f"column(s) {', '.join(doubles)} appear more than once in the header", file=str(path))
        return None
    return header, records, lines


def repeated_columns(header: list[str]) -> list[str]:
    """Columns named more than once in a header (a reader would silently keep one of them)."""
    return sorted({h for h in header if header.count(h) > 1})


def read_csv(path: Path, schema: dict[str, Col], problems: Problems) -> pd.DataFrame:
    """Read one file as text, check its columns, and convert its typed columns."""
    text = read_text(path, problems)
    parsed = None if text is None else parse_rows(text, path, problems)
    if parsed is None:
        return empty_frame(schema)
    header, records, lines = parsed
    file = str(path)
    missing = [c for c in schema if c not in header]
    for col in missing:
        problems.add("required column is missing", file=file, column=col)
    for col in header:
        if col not in schema:
            problems.add("unknown column (see evidence/README.md)", file=file, column=col)
    ragged = False
    for i, (record, line) in enumerate(zip(records, lines, strict=True)):
        if len(record) != len(header):
            message = f"{len(record)} cells but the header has {len(header)} columns"
            problems.add(message, file=file, row=i, line=line)
            ragged = True
    if missing or ragged:
        return empty_frame(schema)
    raw = pd.DataFrame(records, columns=header, dtype=object)
    frame = raw[list(schema)].copy()
    line_of = np.array(lines, dtype=np.int64)
    for col, spec in schema.items():
        frame[col] = convert(frame[col], spec, file, col, line_of, problems)
    frame["_file"] = file
    frame["_row"] = np.arange(len(frame))
    frame["_line"] = line_of
    return frame


def convert(values: pd.Series, spec: Col, file: str, col: str, lines: np.ndarray, problems: Problems) -> pd.Series:
    """Strip text, reject control characters, and turn number columns into floats."""
    text = values.astype(str).str.strip()
    for row in np.flatnonzero(text.str.contains(CONTROL).to_numpy()):
        char = CONTROL.search(text.iloc[row]).group()  # type: ignore[union-attr]
        message = f"control character U+{ord(char):04X} in the text (invisible; remove it)"
        problems.add(message, file=file, row=int(row), column=col, line=int(lines[row]))
    if spec.kind in ("text", "code"):
        return text.where(text != "", None)
    numbers = pd.to_numeric(text.where(text != "", None), errors="coerce").astype(float)
    bad = (text != "") & ~np.isfinite(numbers)
    for row in np.flatnonzero(bad.to_numpy()):
        message = f"'{text.iloc[row]}' is not a finite number"
        problems.add(message, file=file, row=int(row), column=col, line=int(lines[row]))
    if spec.kind == "integer":
        frac = numbers.notna() & (numbers != numbers.round())
        for row in np.flatnonzero(frac.to_numpy()):
            message = f"{numbers.iloc[row]:g} is not a whole number"
            problems.add(message, file=file, row=int(row), column=col, line=int(lines[row]))
    return numbers.where(np.isfinite(numbers))
