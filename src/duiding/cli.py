"""Command-line interface: ``duiding pool | check | render | diff``.

Only the argument parser lives here; each command is a module of :mod:`duiding.commands`,
imported when it runs, so that ``duiding --help`` and ``duiding pool`` start quickly.
Errors are one line per problem on stderr (at most :data:`MAX_LINES`, then a count) and a
non-zero exit; never a traceback (``DUIDING_DEBUG=1`` shows one).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from collections.abc import Sequence
from importlib import import_module
from typing import NoReturn

MAX_LINES = 50


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _number(text: str) -> float:
    """A finite number (``nan`` and ``inf`` are refused, not silently taken; ``1_0`` and
    non-ASCII digits are not numbers here, as in the input files)."""
    if not re.fullmatch(r"\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*", text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a number")
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number")
    return value


def _separator(text: str) -> str:
    named = {"comma": ",", "semicolon": ";", "tab": "\t", ",": ",", ";": ";", "\\t": "\t"}
    if text not in named:
        raise argparse.ArgumentTypeError("choose comma, semicolon or tab")
    return named[text]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="duiding", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("pool", help="meta-analyse study-level data from a CSV file")
    p.add_argument("--input", required=True, help="CSV with a 'study' column and the measure's columns")
    p.add_argument(
        "--measure",
        required=True,
        type=str.upper,
        help="effect measure: MD, SMD, RR, OR, RD or GEN (yi with vi or sei)",
    )
    p.add_argument(
        "--method",
        required=True,
        type=str.upper,
        help="FE, MH, PETO or a tau² estimator (DL, REML, PM, SJ, ML, HE, EB)",
    )
    p.add_argument("--test", default="z", help="z, knha (Knapp-Hartung) or adhoc (modified Knapp-Hartung)")
    p.add_argument("--by", help="pool every group of rows with the same value in this column")
    p.add_argument("--subgroup", help="subgroup analysis on this column, with the test for differences")
    p.add_argument("--order", help="numeric column (e.g. year) that orders the cumulative meta-analysis")
    p.add_argument("--format", default="json", choices=("json", "table"))
    p.add_argument("--mid", type=_number, help="clinical relevance threshold (> 0, analysis scale): adds GRADE")
    p.add_argument("--sep", type=_separator, help="comma, semicolon or tab (default: detected from the header)")
    p.add_argument("--decimal", choices=(".", ","), help="decimal mark (default: ',' for semicolon files, else '.')")
    p.set_defaults(module="pool")
    c = sub.add_parser("check", help="validate the evidence base (read-only)")
    c.add_argument("--evidence", default="evidence", help="evidence folder (default: evidence)")
    c.add_argument(
        "--grade",
        default="grade",
        help="judgements folder: its files and the assessor's risk-of-bias ratings are validated too",
    )
    c.add_argument("--format", default="text", choices=("text", "json"))
    c.set_defaults(module="check")
    r = sub.add_parser("render", help="execute the notebooks and write the draft standpunt (HTML + DOCX)")
    r.add_argument("--evidence", default="evidence")
    r.add_argument("--grade", default="grade")
    r.add_argument("--out", default="reports")
    r.add_argument("--method", type=str.upper, help="tau² estimator for the main analyses (default: config)")
    r.add_argument("--test", help="test for the main analyses (default: config)")
    r.add_argument("--jobs", type=int, default=3, help="notebooks executed in parallel (default 3, one per population)")
    r.add_argument("--quiet", action="store_true", help="no progress display")
    r.add_argument("--previous", help="manifest.json (or report folder) of an earlier render: adds 'what changed'")
    r.set_defaults(module="render")
    d = sub.add_parser("diff", help="what changed between two renders (manifest files or report folders)")
    d.add_argument("old")
    d.add_argument("new")
    d.add_argument("--format", default="text", choices=("text", "json"))
    d.set_defaults(module="diff")
    return parser


def print_lines(command: str, lines: list[str]) -> None:
    """The problems, one per line, capped at MAX_LINES with a count of the rest."""
    for line in lines[:MAX_LINES]:
        print(f"duiding {command}: {line}", file=sys.stderr)
    if len(lines) > MAX_LINES:
        print(f"duiding {command}: … and {len(lines) - MAX_LINES} more problems", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .errors import DuidingError

    if not os.environ.get("DUIDING_DEBUG"):
        # numpy's overflow warnings on degenerate input name source lines, not the input;
        # such results are refused or reported with their reason by the commands themselves
        warnings.filterwarnings("ignore", category=RuntimeWarning)
    try:
        return import_module(f"duiding.commands.{args.module}").command(args)
    except DuidingError as exc:
        print_lines(args.command, exc.lines)
        return exc.exit_code
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        print(f"duiding {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a bare traceback; DUIDING_DEBUG=1 shows it
        if os.environ.get("DUIDING_DEBUG"):
            raise
        print(
            f"duiding {args.command}: internal error ({type(exc).__name__}: {exc}); "
            "rerun with DUIDING_DEBUG=1 and report it",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
