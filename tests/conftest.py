"""Shared fixtures: the metafor reference cases and a CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from duiding.cli import main

REFERENCE = Path(__file__).parent / "reference" / "metafor_reference.json"


def reference_cases() -> list[dict]:
    return json.loads(REFERENCE.read_text())["cases"]


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
