"""The GRADE rules (``config/grade_rules.yaml``) as one typed object.

Every threshold a rule uses is read from the YAML file here and passed on; no module
repeats a number the file declares (the forest plot's risk-of-bias colours take the PEDro
cut-offs from here too).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ..config import load_config


@dataclass(frozen=True)
class Level:
    value: int
    en: str
    symbol: str
    code: str  # high | moderate | low | very_low


@dataclass(frozen=True)
class RobRules:
    rob1_key_domains: tuple[str, ...]
    pedro_low_from: int
    pedro_some_from: int
    not_assessed_as: str
    down_two_if_high_share_above: float
    down_one_if_high_or_some_share_above: float

    def pedro_level(self, score: int) -> str:
        """low / some / high for a PEDro total."""
        if score >= self.pedro_low_from:
            return "low"
        return "some" if score >= self.pedro_some_from else "high"


@dataclass(frozen=True)
class GradeRules:
    start: int
    floor: int
    levels: dict[int, Level]
    risk_of_bias: RobRules
    down_one_if_i2_at_least: float
    down_two_if_i2_at_least: float
    unpooled_conflict_share: float
    indirect_down_one_above: float
    indirect_down_two_above: float
    optimal_information_size: int
    publication_min_studies: int
    egger_p_below: float

    def level(self, value: int) -> Level:
        return self.levels[max(self.floor, min(self.start, value))]


@cache
def load_rules() -> GradeRules:
    cfg = load_config("grade_rules")
    levels = {int(k): Level(int(k), v["en"], v["symbol"], v["en"].replace(" ", "_")) for k, v in cfg["levels"].items()}
    rob = cfg["risk_of_bias"]
    return GradeRules(
        start=int(cfg["start"]),
        floor=int(cfg["floor"]),
        levels=levels,
        risk_of_bias=RobRules(
            rob1_key_domains=tuple(rob["rob1_key_domains"]),
            pedro_low_from=int(rob["pedro_low_from"]),
            pedro_some_from=int(rob["pedro_some_from"]),
            not_assessed_as=str(rob["not_assessed_as"]),
            down_two_if_high_share_above=float(rob["down_two_if_high_share_above"]),
            down_one_if_high_or_some_share_above=float(rob["down_one_if_high_or_some_share_above"]),
        ),
        down_one_if_i2_at_least=float(cfg["inconsistency"]["down_one_if_i2_at_least"]),
        down_two_if_i2_at_least=float(cfg["inconsistency"]["down_two_if_i2_at_least"]),
        unpooled_conflict_share=float(cfg["inconsistency"]["unpooled_conflict_share"]),
        indirect_down_one_above=float(cfg["indirectness"]["down_one_if_share_above"]),
        indirect_down_two_above=float(cfg["indirectness"]["down_two_if_share_above"]),
        optimal_information_size=int(cfg["imprecision"]["optimal_information_size"]),
        publication_min_studies=int(cfg["publication_bias"]["min_studies"]),
        egger_p_below=float(cfg["publication_bias"]["egger_p_below"]),
    )
