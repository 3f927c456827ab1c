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

    def __init__(self, lines: list[str] | str) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


class InputError(DuidingError):
    """An input file, parameter or folder is wrong."""


class ModelError(DuidingError):
    """A measure, method or test that is not defined, or data the model cannot take."""

    exit_code = 2


class RenderError(DuidingError):
    """A notebook failed while rendering; the message names it, its parameters and the error."""


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
        self.lines.append(f"{where}: {message}" if where else message)

    def extend(self, other: Problems) -> None:
        self.lines.extend(other.lines)

    def __bool__(self) -> bool:
        return bool(self.lines)

    def raise_if_any(self) -> None:
        if self.lines:
            raise InputError(self.lines)
