"""The inputs behind tests/golden/pool_cli.json: every metafor reference case through
``duiding pool``, plus batch, subgroup and GRADE runs. Rewrite the golden file with
``python tests/golden/pool_cases.py`` (only when a change of numbers is intended)."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "pool_cli.json"
REFERENCE = HERE.parent / "reference" / "metafor_reference.json"

BATCH = "study,outcome,yi,vi\n" + "".join(
    f"s{i},{'pain' if i < 5 else 'function'},{0.1 * i - 0.3},{0.02 + 0.01 * i}\n" for i in range(9)
)
GRADE = "study,yi,vi,rob\nA,-20,2,low\nB,-22,2,high\nC,-19,2,some\nD,-21,2,\nE,-5,3,low\n"


def _frame(case: dict) -> pd.DataFrame:
    frame = pd.DataFrame(case["data"])
    if case.get("subgroup"):
        frame[case["subgroup"]["column"]] = case["subgroup"]["values"]
    return frame


def runs() -> list[tuple[str, str, list[str]]]:
    """(name, CSV text, extra arguments) for every golden run."""
    out = []
    for case in json.loads(REFERENCE.read_text())["cases"]:
        args = ["--measure", case["measure"], "--method", case["method"], "--test", case["test"]]
        if case.get("subgroup"):
            args += ["--subgroup", case["subgroup"]["column"]]
        out.append((case["name"], _frame(case).to_csv(index=False), args))
    out.append(("batch_by", BATCH, ["--measure", "GEN", "--method", "REML", "--test", "knha", "--by", "outcome"]))
    out.append(
        ("batch_by_subgroup", BATCH, ["--measure", "GEN", "--method", "DL", "--by", "outcome", "--subgroup", "outcome"])
    )
    out.append(("grade_mid", GRADE, ["--measure", "GEN", "--method", "REML", "--test", "knha", "--mid", "10"]))
    return out


def run_all() -> dict[str, object]:
    from duiding.cli import main

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, text, args in runs():
            path = Path(tmp) / f"{name}.csv"
            path.write_text(text)
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                code = main(["pool", "--input", str(path), *args])
            assert code == 0, name
            results[name] = json.loads(buf.getvalue())
    return results


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(run_all(), indent=1, ensure_ascii=False) + "\n")
    sys.stdout.write(f"wrote {GOLDEN}\n")
