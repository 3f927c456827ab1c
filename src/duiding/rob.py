"""Risk of bias per study: an overall judgement and per-domain marks for the forest plot.

Sources rate with different tools (RoB 2, the 2011 Cochrane tool, PEDro totals). The
mapping to one overall judgement is a documented rule in ``config/grade_rules.yaml``
(``risk_of_bias``), applied here and shown in the report.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .config import load_config

LEVELS = ("low", "some", "high")


@dataclass(frozen=True)
class StudyRob:
    study_id: str
    overall: str  # low | some | high | not assessed
    tool: str
    basis: str  # how the overall judgement was reached
    domains: dict[str, str]


def study_rob(rob: pd.DataFrame) -> dict[str, StudyRob]:
    """Overall risk of bias per study (ratings for all outcomes)."""
    rules = load_config("grade_rules")["risk_of_bias"]
    out: dict[str, StudyRob] = {}
    general = rob[rob["outcome"].isna()]
    for study, rows in general.groupby("study_id", sort=True):
        tools = set(rows["tool"])
        tool = next(t for t in ("RoB2", "RoB1", "PEDro") if t in tools)
        sub = rows[rows["tool"] == tool]
        domains = dict(zip(sub["domain"], sub["judgement"], strict=True))
        overall, basis = _overall(tool, domains, rules)
        out[str(study)] = StudyRob(str(study), overall, tool, basis, domains)
    return out


def _overall(tool: str, domains: dict[str, str], rules: dict) -> tuple[str, str]:
    if tool == "RoB2":
        if "overall" in domains:
            return domains["overall"], "RoB 2 overall judgement as reported"
        worst = max((LEVELS.index(v) for v in domains.values() if v in LEVELS), default=1)
        return LEVELS[worst], "worst RoB 2 domain (no overall judgement reported)"
    if tool == "RoB1":
        key = rules["rob1_key_domains"]
        rated = {d: v for d, v in domains.items() if d in key}
        if any(v == "high" for v in rated.values()):
            return "high", "high risk in a key RoB 1 domain"
        if len(rated) < len(key) or any(v == "unclear" for v in rated.values()):
            return "some", "key RoB 1 domain unclear or not reported"
        return "low", "all key RoB 1 domains low"
    score = int(domains["total"])
    if score >= rules["pedro_low_from"]:
        return "low", f"PEDro {score}/10 (≥ {rules['pedro_low_from']})"
    if score >= rules["pedro_some_from"]:
        return (
            "some",
            f"PEDro {score}/10 ({rules['pedro_some_from']}-{rules['pedro_low_from'] - 1})",
        )
    return "high", f"PEDro {score}/10 (< {rules['pedro_some_from']})"


def overall_of(study_id: str, robs: dict[str, StudyRob]) -> str:
    return robs[study_id].overall if study_id in robs else "not assessed"
