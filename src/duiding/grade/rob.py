"""Risk of bias per study: an overall judgement and the per-domain ratings behind it.

Sources rate with different tools (RoB 2, the 2011 Cochrane tool, PEDro totals). The
mapping to one overall judgement is a documented rule in ``config/grade_rules.yaml``
(``risk_of_bias``), applied here; ``basis`` records which rule gave the judgement, as a
code the report words.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

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
