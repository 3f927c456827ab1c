"""One error hierarchy and one problem collector for everything a user can act on.

Every room raises a :class:`DuidingError` for bad input; the command line prints its
lines (one per problem, each naming file, row, column and what is wrong) and exits
non-zero, never with a traceback. Problems are collected before failing, so one run shows
them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class DuidingError(Exception):
    """A problem the user can act on; ``lines`` holds one message per problem."""

    exit_code = 1
    escape_breaks = True  # each problem stays on one line, whatever the input values hold

    def __init__(self, lines: list[str] | str) -> None:
        lines = [lines] if isinstance(lines, str) else list(lines)
        self.lines = [one_line(x) for x in lines] if self.escape_breaks else lines
        super().__init__("\n".join(self.lines))


class InputError(DuidingError):
    """An input file, parameter or folder is wrong."""


class ModelError(DuidingError):
    """A measure, method or test that is not defined, or data the model cannot take."""

    exit_code = 2


class RenderError(DuidingError):
    """A notebook failed while rendering; the message names it, its parameters and the error."""

    escape_breaks = False  # a notebook's own error keeps its lines


def locate(file: str | None, row: int | None = None, column: str | None = None, line: int | None = None) -> str:
    """Where a problem is, as every message says it: ``FILE, row N (line L), column 'C'``.

    ``row`` counts data rows from 0; ``line`` is the physical line in the file where the
    row starts (rows with quoted line breaks span several lines), defaulting to row + 2.
    """
    where = [file] if file else []
    if row is not None:
        where.append(f"row {row + 1} (line {row + 2 if line is None else line})")
    if column is not None:
        where.append(f"column '{column}'")
    return ", ".join(where)


def one_line(text: str) -> str:
    """A message on one line: line breaks and other control characters in quoted input
    values are shown escaped (a value '0<newline>0' reads as '0\\n0'), never as a break."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass
class Problems:
    """Collects located problems; :meth:`raise_if_any` turns them into one InputError."""

    file: str | None = None
    lines: list[str] = field(default_factory=list)

    def add(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        line: int | None = None,
    ) -> None:
        where = locate(file or self.file, row, column, line)
        message = one_line(message)
        self.lines.append(f"{where}: {message}" if where else message)

    def extend(self, other: Problems) -> None:
        self.lines.extend(other.lines)

    def __bool__(self) -> bool:
        return bool(self.lines)

    def raise_if_any(self) -> None:
        if self.lines:
            raise InputError(self.lines)
