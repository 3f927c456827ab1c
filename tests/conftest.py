"""Shared fixtures: the metafor reference cases, a CLI runner and one rendered report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from duiding.cli import main

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(__file__).parent / "reference" / "metafor_reference.json"


def reference_cases() -> list[dict]:
    return json.loads(REFERENCE.read_text())["cases"]


def edit_cell(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell of an evidence CSV (read as text, so nothing else changes)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row, column] = value
    frame.to_csv(path, index=False)


def case_frame(case: dict) -> pd.DataFrame:
    frame = pd.DataFrame(case["data"])
    if case.get("subgroup"):
        frame[case["subgroup"]["column"]] = case["subgroup"]["values"]
    return frame


@pytest.fixture
def run_cli(capsys):
    """Run ``duiding`` in-process; return (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> Path:
    """The report rendered once from the repository's evidence and judgements, for every
    test module that reads the HTML or the DOCX (a render takes tens of seconds)."""
    from duiding.report import render

    out = tmp_path_factory.mktemp("reports")
    render(ROOT / "evidence", ROOT / "grade", out, progress=False)
    return out
