"""Loading the evidence base (``evidence/``), read-only, with every problem at once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import InputError, Problems
from .base import EvidenceBase
from .read import read_csv
from .schema import POPULATION_FILES, POPULATIONS, SCHEMAS
from .validate import check_all, run_schema


def load_evidence(root: str | Path) -> EvidenceBase:
    """Read and validate the whole evidence base; raise InputError listing every problem.

    Nothing is written: the folder is only read.
    """
    root = Path(root)
    problems = Problems()
    if not root.is_dir():
        what = "is a file, not the evidence folder" if root.exists() else "evidence folder not found"
        raise InputError([f"{root}: {what}"])
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name not in POPULATIONS:
            # a population typed wrong (or a new one) would otherwise be left out without a word
            problems.add(f"not a population of this assessment (expected: {', '.join(POPULATIONS)})", file=str(folder))
    tables: dict[str, list[pd.DataFrame]] = {name: [] for name in SCHEMAS}
    tables["instruments"].append(read_csv(root / "instruments.csv", SCHEMAS["instruments"], problems))
    for population in POPULATIONS:
        for name in POPULATION_FILES:
            frame = read_csv(root / population / f"{name}.csv", SCHEMAS[name], problems)
            frame["_population"] = population
            tables[name].append(frame)
    stacked = {name: pd.concat(frames, ignore_index=True) for name, frames in tables.items()}
    for name, frame in stacked.items():  # one schema run per table type, all populations at once
        run_schema(frame, SCHEMAS[name], problems)
    evidence = EvidenceBase(root=root, **stacked)
    check_all(evidence, problems)
    problems.raise_if_any()
    return evidence
