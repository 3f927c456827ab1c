"""Risk of bias per study: an overall judgement and the per-domain ratings behind it.

Ratings come from two places: the evidence base (``evidence/*/risk_of_bias.csv``: RoB 2,
the 2011 Cochrane tool or PEDro totals, each as its source printed it) and the
assessor's own RoB 2 ratings (``grade/risk_of_bias/<population>.yaml``, every domain with
a reason), which take precedence where both exist. The mapping of a tool's ratings to one
overall judgement is a documented rule in ``config/grade_rules.yaml`` (``risk_of_bias``);
``basis`` records which rule gave it, as a code the report words, and ``source`` where
the rating came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import read_yaml
from ..errors import InputError
from ..evidence.schema import ROB2_DOMAINS
from .rules import RobRules, load_rules

LEVELS = ("low", "some", "high")
TOOLS = ("RoB2", "RoB1", "PEDro")
NOT_ASSESSED = "not assessed"


@dataclass(frozen=True)
class StudyRob:
    study_id: str
    overall: str  # low | some | high
    tool: str
    basis: str  # rob2_reported | rob2_worst | rob1_high | rob1_unclear | rob1_low | pedro
    domains: dict[str, str]
    source: str = "evidence"  # evidence | assessor
    reasons: dict[str, str] = field(default_factory=dict)  # per domain, for the assessor's ratings
    rater: str = ""
    source_url: str = ""

    def domain_level(self, domain: str) -> str | None:
        """low / some / high of one domain's rating (a PEDro total by the PEDro cut-offs)."""
        value = self.domains.get(domain)
        if value is None:
            return None
        if self.tool == "PEDro":
            return load_rules().risk_of_bias.pedro_level(int(value))
        return "some" if value == "unclear" else value


def study_robs(ratings: pd.DataFrame) -> dict[str, StudyRob]:
    """Overall risk of bias per study, from the ratings that apply to all outcomes."""
    rules = load_rules().risk_of_bias
    out: dict[str, StudyRob] = {}
    general = ratings[ratings["outcome"].isna()]
    for study, rows in general.groupby("study_id", sort=True):
        tools = set(rows["tool"])
        tool = next(t for t in TOOLS if t in tools)
        sub = rows[rows["tool"] == tool]
        domains = dict(zip(sub["domain"], sub["judgement"], strict=True))
        overall, basis = overall_judgement(tool, domains, rules)
        out[str(study)] = StudyRob(str(study), overall, tool, basis, domains)
    return out


def overall_judgement(tool: str, domains: dict[str, str], rules: RobRules) -> tuple[str, str]:
    """(overall judgement, basis code) for one study's ratings with one tool."""
    if tool == "RoB2":
        if "overall" in domains:
            return domains["overall"], "rob2_reported"
        worst = max((LEVELS.index(v) for v in domains.values() if v in LEVELS), default=1)
        return LEVELS[worst], "rob2_worst"
    if tool == "RoB1":
        key = rules.rob1_key_domains
        rated = {d: v for d, v in domains.items() if d in key}
        if any(v == "high" for v in rated.values()):
            return "high", "rob1_high"
        if len(rated) < len(key) or any(v == "unclear" for v in rated.values()):
            return "some", "rob1_unclear"
        return "low", "rob1_low"
    return rules.pedro_level(int(domains["total"])), "pedro"


def overall_of(study_id: str, robs: dict[str, StudyRob]) -> str:
    return robs[study_id].overall if study_id in robs else NOT_ASSESSED


def ratings_path(folder: str | Path, population: str) -> Path:
    return Path(folder) / "risk_of_bias" / f"{population}.yaml"


def load_assessor_ratings(folder: str | Path, population: str, studies: set[str] | None = None) -> dict[str, StudyRob]:
    """The assessor's RoB 2 ratings for one population (none if the file does not exist).

    Every study rated names the address its rating is based on, and every RoB 2 domain
    (including the overall judgement) a judgement (low / some / high) with its reason.
    ``studies``, when given, are the population's studies: a rating of another study is
    an error.
    """
    path = ratings_path(folder, population)
    if not path.exists():
        return {}
    data = read_yaml(path)
    problems: list[str] = []

    def bad(where: str, message: str) -> None:
        problems.append(f"{path}, {where}: {message}")

    if not isinstance(data, dict):
        raise InputError([f"{path}: expected a mapping with population, rater and ratings"])
    for key in data:
        if key not in ("population", "rater", "ratings"):
            bad(f"key '{key}'", "unknown key (expected: population, rater, ratings)")
    if data.get("population") != population:
        bad("key 'population'", f"must be '{population}' (the file name), got {data.get('population')!r}")
    rater = data.get("rater")
    rater = rater.strip() if isinstance(rater, str) else ""
    if not rater:
        bad("key 'rater'", "say who rated, as text (the assessor, or who drafted the ratings)")
    ratings = data.get("ratings") or {}
    if not isinstance(ratings, dict):
        bad("ratings", "expected a mapping of study → rating")
        ratings = {}
    out: dict[str, StudyRob] = {}
    for study, entry in ratings.items():
        where = f"ratings.{study}"
        if studies is not None and study not in studies:
            bad(where, f"study '{study}' is not in this population's studies.csv")
        rob = _assessor_rating(str(study), entry, where, bad, rater)
        if rob is not None:
            out[str(study)] = rob
    if problems:
        raise InputError(problems)
    return out


def _assessor_rating(study: str, entry: Any, where: str, bad, rater: str) -> StudyRob | None:
    if not isinstance(entry, dict):
        bad(where, "expected a mapping with source_url and domains")
        return None
    url = str(entry.get("source_url") or "").strip()
    if not url:
        bad(f"{where}.source_url", "the address of the text the rating is based on is required")
    for key in entry:
        if key not in ("source_url", "domains", "notes"):
            bad(f"{where}.{key}", "unknown key (expected: source_url, domains, notes)")
    domains = entry.get("domains") or {}
    if not isinstance(domains, dict):
        bad(f"{where}.domains", "expected a mapping of RoB 2 domain → judgement and reason")
        return None
    judged: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for domain in ROB2_DOMAINS:
        item = domains.get(domain)
        if not isinstance(item, dict):
            bad(f"{where}.domains.{domain}", "missing (every RoB 2 domain and the overall judgement)")
            continue
        if item.get("judgement") not in LEVELS:
            bad(
                f"{where}.domains.{domain}.judgement",
                f"must be one of {', '.join(LEVELS)}, got {item.get('judgement')!r}",
            )
        if not str(item.get("reason") or "").strip():
            bad(f"{where}.domains.{domain}.reason", "a reason is required for every domain")
        judged[domain] = str(item.get("judgement"))
        reasons[domain] = str(item.get("reason") or "").strip()
    for domain in domains:
        if domain not in ROB2_DOMAINS:
            bad(f"{where}.domains.{domain}", f"unknown RoB 2 domain (expected: {', '.join(ROB2_DOMAINS)})")
    if len(judged) < len(ROB2_DOMAINS):
        return None
    # RoB 2 (Sterne et al. 2019): the overall judgement is at least the worst domain
    worst = max(
        (judged[d] for d in ROB2_DOMAINS if d != "overall" and judged[d] in LEVELS), key=LEVELS.index, default="low"
    )
    if judged["overall"] in LEVELS and LEVELS.index(judged["overall"]) < LEVELS.index(worst):
        bad(
            f"{where}.domains.overall.judgement",
            f"'{judged['overall']}' is below the worst domain ('{worst}'): RoB 2's overall judgement is at "
            "least the worst domain",
        )
    return StudyRob(study, judged["overall"], "RoB2", "rob2_reported", judged, "assessor", reasons, rater, url)


def all_robs(evidence_ratings: pd.DataFrame, assessor: dict[str, StudyRob]) -> dict[str, StudyRob]:
    """Per study the rating used: the assessor's where given, else the evidence base's."""
    return {**study_robs(evidence_ratings), **assessor}
