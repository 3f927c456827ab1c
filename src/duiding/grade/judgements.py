"""The assessor's judgements (``grade/<population>.yaml``): thresholds, crucial outcomes,
indirectness and overrides of suggested GRADE levels, each override with its reason.

Files are validated before anything is computed; every problem names the file and the
entry. A threshold must be a finite number above zero: YAML's ``true`` is not a number
(it would count as 1), and ``.nan`` or ``.inf`` would make every comparison meaningless.
Nothing here writes to ``grade/``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import read_yaml
from ..errors import InputError
from ..evidence import POPULATIONS, load_plan
from .domains import DOMAINS, Grading, Phrase, Rating, reason
from .rob import StudyRob, load_assessor_ratings

LEVELS_ALLOWED = {d: (0, -1, -2) for d in DOMAINS} | {"imprecision": (0, -1, -2, -3)}
CERTAINTY = {"very low": 1, "low": 2, "moderate": 3, "high": 4}
MEASURE_KEYS = ("MD100", "SMD")
KNOWN_KEYS = (
    "population",
    "assessor",
    "crucial_outcomes",
    "certainty_needed",
    "thresholds",
    "indirect_studies",
    "indirectness",
    "overrides",
)
INDIRECT_STUDIES = ("exclude", "include")
# The keys each kind of entry may have: a misspelt key (windw) would otherwise be ignored
# and the entry applied more widely than meant.
THRESHOLD_KEYS = (*MEASURE_KEYS, "source")
ENTRY_KEYS = {
    "indirectness": ("outcome", "level", "reason"),
    "overrides": ("outcome", "window", "domain", "level", "reason"),
}


def is_number(value: Any) -> bool:
    """A real, finite number (booleans are not numbers; an integer too large for a float is
    not finite)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def is_word(value: Any, allowed: Any) -> bool:
    """A string among the allowed codes (a list or mapping typed there is not)."""
    return isinstance(value, str) and value in allowed


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
    rob_ratings: dict[str, StudyRob] = field(default_factory=dict)  # grade/risk_of_bias/<population>.yaml
    indirect_studies: str = "exclude"  # include: indirect studies enter the primary analyses

    @property
    def display_path(self) -> str:
        """Path as the report shows it (grade/<population>.yaml), the same on every machine."""
        return f"{self.path.parent.name}/{self.path.name}"

    @property
    def certainty_needed_level(self) -> int:
        return CERTAINTY[self.certainty_needed]

    def mid(self, outcome: str, measure: str) -> float:
        return float(self.thresholds[outcome][measure])

    def mids(self, measure: str = "MD100") -> dict[str, float]:
        return {o: float(t[measure]) for o, t in self.thresholds.items()}

    def apply(self, grading: Grading, outcome: str, window: str) -> Grading:
        """Indirectness from the assessor, then overrides; the suggestion stays visible."""
        for item in self.indirectness:
            if item["outcome"] in (outcome, "all"):
                text = str(item["reason"])
                suggested = grading.ratings["indirectness"].level
                rating = Rating(int(item["level"]), reason(None, Phrase("assessor", {"text": text})), suggested, text)
                grading = grading.with_rating("indirectness", rating)
        for item in self.overrides:
            if item["outcome"] in (outcome, "all") and item.get("window", "all") in (window, "all"):
                domain = item["domain"]
                old = grading.ratings[domain]
                rating = Rating(int(item["level"]), old.reason, old.level, str(item["reason"]))
                grading = grading.with_rating(domain, rating)
        return grading


def load_judgements(folder: str | Path, population: str, studies: set[str] | None = None) -> Judgements:
    """Read and validate one population's judgements file (and its risk-of-bias ratings,
    ``grade/risk_of_bias/<population>.yaml``, where present); every problem at once.
    ``studies`` are the population's study ids, to check the ratings against."""
    path = Path(folder) / f"{population}.yaml"
    if population not in POPULATIONS:
        raise InputError([f"{path}: unknown population (expected one of {', '.join(POPULATIONS)})"])
    if not path.exists():
        raise InputError([f"{path}: file not found (one judgements file per population)"])
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError([f"{path}: expected a mapping of keys (population, thresholds, …)"])
    problems: list[str] = []

    def bad(where: str, message: str) -> None:
        problems.append(f"{path}, {where}: {message}")

    plan = load_plan()
    outcomes = plan.outcomes_for(population)
    windows = [*plan.windows, "all"]
    for key in data:
        if key not in KNOWN_KEYS:
            bad(f"key '{key}'", f"unknown key (expected: {', '.join(sorted(KNOWN_KEYS))})")
    assessor = data.get("assessor")
    if assessor is not None and not isinstance(assessor, str):
        bad("key 'assessor'", f"must be a name (text), got {assessor!r}")
    if data.get("population") != population:
        bad("key 'population'", f"must be '{population}' (the file name), got {data.get('population')!r}")
    crucial = data.get("crucial_outcomes") or []
    if not isinstance(crucial, list):
        bad("crucial_outcomes", f"must be a list of outcomes, got {crucial!r}")
        crucial = []
    for o in crucial:
        if not is_word(o, outcomes):
            bad("crucial_outcomes", f"unknown outcome '{o}' (expected {', '.join(outcomes)})")
    indirect = data.get("indirect_studies", "exclude")
    if not is_word(indirect, INDIRECT_STUDIES):
        bad("indirect_studies", f"must be one of {', '.join(INDIRECT_STUDIES)}, got {indirect!r}")
    needed = data.get("certainty_needed", "moderate")
    if not is_word(needed, CERTAINTY):
        bad("certainty_needed", f"must be one of {', '.join(CERTAINTY)}, got {needed!r}")
    thresholds = data.get("thresholds") or {}
    if not isinstance(thresholds, dict):
        bad("thresholds", "must be a mapping per outcome")
        thresholds = {}
    for o in thresholds:
        if not is_word(o, outcomes):
            bad(f"thresholds.{o}", f"not an outcome of this population's plan (expected {', '.join(outcomes)})")
    for o in outcomes:
        t = thresholds.get(o)
        if not isinstance(t, dict):
            bad(f"thresholds.{o}", "missing (MD100 and SMD thresholds are required)")
            continue
        for key in t:
            if key not in THRESHOLD_KEYS:
                bad(f"thresholds.{o}.{key}", f"unknown key (expected: {', '.join(THRESHOLD_KEYS)})")
        for m in MEASURE_KEYS:
            if not is_number(t.get(m)) or t.get(m) <= 0:
                bad(f"thresholds.{o}.{m}", f"must be a finite number > 0, got {t.get(m)!r}")
    for name, check_windows in (("indirectness", ["all"]), ("overrides", windows)):
        entries = data.get(name) or []
        if not isinstance(entries, list):
            bad(name, "must be a list of entries")
            continue
        seen: dict[tuple[Any, ...], int] = {}
        for i, item in enumerate(entries):
            domain = "indirectness" if name == "indirectness" else None
            _check_entry(item, f"{name}[{i}]", outcomes, check_windows, bad, domain)
            if not isinstance(item, dict):
                continue
            for key in item:
                if key not in ENTRY_KEYS[name]:
                    bad(f"{name}[{i}].{key}", f"unknown key (expected: {', '.join(ENTRY_KEYS[name])})")
            target = tuple(str(item.get(k)) for k in ("outcome", "window", "domain"))
            if target in seen:
                bad(f"{name}[{i}]", f"judges the same outcome, window and domain as {name}[{seen[target]}]")
            seen.setdefault(target, i)
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
        rob_ratings=load_assessor_ratings(folder, population, studies),
        indirect_studies=indirect,
    )


def _check_entry(item: Any, where: str, outcomes: list[str], windows: list[str], bad, domain: str | None) -> None:
    if not isinstance(item, dict):
        bad(where, "expected a mapping with outcome, level and reason")
        return
    if not is_word(item.get("outcome"), [*outcomes, "all"]):
        bad(f"{where}.outcome", f"must be one of {', '.join([*outcomes, 'all'])}, got {item.get('outcome')!r}")
    name = domain or item.get("domain")
    if domain is None:
        if not is_word(name, DOMAINS) or name == "indirectness":
            allowed = [d for d in DOMAINS if d != "indirectness"]
            bad(f"{where}.domain", f"must be one of {', '.join(allowed)} (indirectness has its own list)")
            name = None
        if not is_word(item.get("window", "all"), windows):
            bad(f"{where}.window", f"must be one of {', '.join(windows)}, got {item.get('window')!r}")
    level = item.get("level")
    if name is not None and (isinstance(level, bool) or level not in LEVELS_ALLOWED[name]):
        bad(f"{where}.level", f"must be one of {LEVELS_ALLOWED[name]}, got {level!r}")
    if not str(item.get("reason") or "").strip():
        bad(f"{where}.reason", "a reason is required for every judgement that changes a level")
