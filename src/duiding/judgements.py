"""The assessor's judgements (``grade/<population>.yaml``): thresholds, crucial outcomes,
indirectness and overrides of suggested GRADE levels, each override with its reason.

Files are validated before anything is computed; every problem names the file and the
entry. Nothing here writes to ``grade/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .config import load_config
from .evidence_schema import POPULATIONS
from .grade import DOMAINS, Grading, Rating
from .inputs import InputError

LEVELS_ALLOWED = {d: (0, -1, -2) for d in DOMAINS} | {"imprecision": (0, -1, -2, -3)}
CERTAINTY = {"very low": 1, "low": 2, "moderate": 3, "high": 4}


@dataclass(frozen=True)
class Judgements:
    population: str
    path: Path
    assessor: str | None
    crucial_outcomes: list[str]
    certainty_needed: str
    thresholds: dict[str, dict[str, Any]]
    indirectness: list[dict[str, Any]]
    overrides: list[dict[str, Any]]

    @property
    def display_path(self) -> str:
        """Path as the report shows it (grade/<population>.yaml), the same on every machine."""
        return f"{self.path.parent.name}/{self.path.name}"

    def mid(self, outcome: str, measure: str) -> float:
        return float(self.thresholds[outcome][measure])

    def apply(self, grading: Grading, outcome: str, window: str) -> Grading:
        """Indirectness from the assessor, then overrides; the suggestion stays visible."""
        for item in self.indirectness:
            if item["outcome"] in (outcome, "all"):
                level = int(item["level"])
                grading = grading.with_rating(
                    "indirectness",
                    Rating(level, f"assessor: {item['reason']}", f"beoordelaar: {item['reason']}", suggested=0,
                           override_reason=item["reason"]),
                )  # fmt: skip
        for item in self.overrides:
            if item["outcome"] in (outcome, "all") and item.get("window", "all") in (window, "all"):
                domain = item["domain"]
                old = grading.ratings[domain]
                grading = grading.with_rating(
                    domain,
                    Rating(int(item["level"]), old.reason_en, old.reason_nl, suggested=old.level,
                           override_reason=item["reason"]),
                )  # fmt: skip
        return grading


def load_judgements(folder: str | Path, population: str) -> Judgements:
    path = Path(folder) / f"{population}.yaml"
    problems: list[str] = []

    def bad(where: str, message: str) -> None:
        problems.append(f"{path}, {where}: {message}")

    if not path.is_file():
        raise InputError([f"{path}: file not found (one judgements file per population)"])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        raise InputError([f"{path}, {where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    if not isinstance(data, dict):
        raise InputError([f"{path}: expected a mapping of keys (population, thresholds, …)"])
    outcomes = list(load_config("analysis")["outcomes"])
    windows = [*load_config("analysis")["windows"], "all"]
    known = {
        "population",
        "assessor",
        "crucial_outcomes",
        "certainty_needed",
        "thresholds",
        "indirectness",
        "overrides",
    }
    for key in data:
        if key not in known:
            bad(f"key '{key}'", f"unknown key (expected: {', '.join(sorted(known))})")
    if data.get("population") != population:
        bad(
            "key 'population'",
            f"must be '{population}' (the file name), got {data.get('population')!r}",
        )
    if population not in POPULATIONS:
        bad("file name", f"unknown population (expected one of {', '.join(POPULATIONS)})")
    crucial = data.get("crucial_outcomes") or []
    for o in crucial:
        if o not in outcomes:
            bad("crucial_outcomes", f"unknown outcome '{o}' (expected {', '.join(outcomes)})")
    needed = data.get("certainty_needed", "moderate")
    if needed not in CERTAINTY:
        bad("certainty_needed", f"must be one of {', '.join(CERTAINTY)}, got {needed!r}")
    thresholds = data.get("thresholds") or {}
    for o in outcomes:
        t = thresholds.get(o)
        if not isinstance(t, dict):
            bad(f"thresholds.{o}", "missing (MD100 and SMD thresholds are required)")
            continue
        for m in ("MD100", "SMD"):
            if not isinstance(t.get(m), int | float) or t.get(m) <= 0:
                bad(f"thresholds.{o}.{m}", f"must be a number > 0, got {t.get(m)!r}")
    for i, item in enumerate(data.get("indirectness") or []):
        _check_entry(item, f"indirectness[{i}]", outcomes, ["all"], bad, domain="indirectness")
    for i, item in enumerate(data.get("overrides") or []):
        _check_entry(item, f"overrides[{i}]", outcomes, windows, bad, domain=None)
    if problems:
        raise InputError(problems)
    return Judgements(
        population=population,
        path=path,
        assessor=data.get("assessor"),
        crucial_outcomes=list(crucial),
        certainty_needed=needed,
        thresholds=thresholds,
        indirectness=list(data.get("indirectness") or []),
        overrides=list(data.get("overrides") or []),
    )


def _check_entry(item: Any, where: str, outcomes: list[str], windows: list[str], bad, domain: str | None) -> None:
    if not isinstance(item, dict):
        bad(where, "expected a mapping with outcome, level and reason")
        return
    if item.get("outcome") not in [*outcomes, "all"]:
        bad(
            f"{where}.outcome",
            f"must be one of {', '.join([*outcomes, 'all'])}, got {item.get('outcome')!r}",
        )
    name = domain or item.get("domain")
    if domain is None:
        if name not in DOMAINS or name == "indirectness":
            allowed = [d for d in DOMAINS if d != "indirectness"]
            bad(
                f"{where}.domain",
                f"must be one of {', '.join(allowed)} (indirectness has its own list)",
            )
            name = None
        if item.get("window", "all") not in windows:
            bad(
                f"{where}.window",
                f"must be one of {', '.join(windows)}, got {item.get('window')!r}",
            )
    if name is not None and item.get("level") not in LEVELS_ALLOWED[name]:
        bad(f"{where}.level", f"must be one of {LEVELS_ALLOWED[name]}, got {item.get('level')!r}")
    if not str(item.get("reason") or "").strip():
        bad(f"{where}.reason", "a reason is required for every judgement that changes a level")
