"""Suggested GRADE levels per domain for one pooled outcome, each with a reason.

The rules and their thresholds live in ``config/grade_rules.yaml``; this module applies
them. Suggestions are only suggestions: :mod:`duiding.judgements` applies the assessor's
indirectness ratings and overrides (with their reasons) on top.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .config import load_config
from .formatting import en, g_nl, nl

DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
DOMAIN_NL = {
    "risk_of_bias": "risico op bias",
    "inconsistency": "inconsistentie",
    "indirectness": "indirectheid",
    "imprecision": "onnauwkeurigheid",
    "publication_bias": "publicatiebias",
}


@dataclass(frozen=True)
class Rating:
    level: int  # 0, -1, -2 (imprecision may reach -3)
    reason_en: str
    reason_nl: str
    suggested: int | None = None  # the rule's level where an assessor overrode it
    override_reason: str = ""

    @property
    def overridden(self) -> bool:
        return self.suggested is not None and self.suggested != self.level


@dataclass(frozen=True)
class Grading:
    ratings: dict[str, Rating]

    @property
    def certainty(self) -> int:
        rules = load_config("grade_rules")
        total = rules["start"] + sum(r.level for r in self.ratings.values())
        return max(rules["floor"], min(rules["start"], total))

    def label(self, lang: str = "nl") -> str:
        return load_config("grade_rules")["levels"][self.certainty][lang]

    def symbol(self) -> str:
        return load_config("grade_rules")["levels"][self.certainty]["symbol"]

    def with_rating(self, domain: str, rating: Rating) -> Grading:
        return replace(self, ratings={**self.ratings, domain: rating})

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {d: self.ratings[d].level for d in DOMAINS}
        out["certainty"] = self.label("en")
        out["reasons"] = {d: {"en": r.reason_en, "nl": r.reason_nl} for d, r in self.ratings.items()}
        return out


def suggest(
    record: dict[str, Any],
    rob: list[str] | None,
    mid: float,
    n_total: float | None = None,
) -> Grading:
    """Rule-based levels for a pooled result (``pool`` record). ``mid`` > 0 on the
    analysis scale; benefit is negative. ``rob`` per study in record order."""
    rules = load_config("grade_rules")
    return Grading(
        {
            "risk_of_bias": _risk_of_bias(record, rob, rules["risk_of_bias"]),
            "inconsistency": _inconsistency(record, mid, rules["inconsistency"]),
            "indirectness": Rating(0, "not rated down (assessor's judgement; none recorded)",
                                   "niet afgewaardeerd (oordeel beoordelaar; geen vastgelegd)"),
            "imprecision": _imprecision(record, mid, n_total, rules["imprecision"]),
            "publication_bias": _publication_bias(record, rules["publication_bias"]),
        }
    )  # fmt: skip


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _risk_of_bias(record: dict[str, Any], rob: list[str] | None, rules: dict) -> Rating:
    if rob is None:
        return Rating(0, "no risk-of-bias ratings given", "geen risico-op-bias-oordelen gegeven")
    weights = np.array([s["weight"] or 0.0 for s in record["studies"]]) / 100
    judged = [rules["not_assessed_as"] if r in (None, "", "not assessed") else r for r in rob]
    high = float(sum(w for w, r in zip(weights, judged, strict=True) if r == "high"))
    some = float(sum(w for w, r in zip(weights, judged, strict=True) if r == "some"))
    unrated = sum(1 for r in rob if r in (None, "", "not assessed"))
    tail_en = f" ({unrated} without a rating, counted as some concerns)" if unrated else ""
    tail_nl = f" ({unrated} zonder oordeel, geteld als 'enige zorgen')" if unrated else ""
    shares_en = f"{_pct(high)} of the weight from high risk, {_pct(some)} from some concerns{tail_en}"
    shares_nl = f"{_pct(high)} van het gewicht uit studies met hoog risico, {_pct(some)} met enige zorgen{tail_nl}"
    if high > rules["down_two_if_high_share_above"]:
        return Rating(-2, f"very serious: {shares_en}", f"zeer ernstig: {shares_nl}")
    if high + some > rules["down_one_if_high_or_some_share_above"]:
        return Rating(-1, f"serious: {shares_en}", f"ernstig: {shares_nl}")
    return Rating(0, f"not serious: {shares_en}", f"niet ernstig: {shares_nl}")


def _inconsistency(record: dict[str, Any], mid: float, rules: dict) -> Rating:
    k, i2 = record["k"], record["i2"]
    if k < 2:
        return Rating(0, "single study: not assessable", "één studie: niet te beoordelen")
    yi = [s["yi"] for s in record["studies"]]
    both_sides = min(yi) < -mid < max(yi)
    pi_low, pi_high = record.get("pi_low"), record.get("pi_high")
    pi_spans = pi_low is not None and pi_high is not None and pi_low < -mid and pi_high > 0
    text_en = f"I² = {i2:.0f}%"
    text_nl = f"I² = {i2:.0f}%"
    if both_sides:
        text_en += f"; study estimates on both sides of the threshold (−{mid:g})"
        text_nl += f"; studie-schattingen aan beide kanten van de relevantiegrens (−{g_nl(mid)})"
    if pi_spans:
        text_en += "; prediction interval includes important benefit and no effect"
        text_nl += "; predictie-interval omvat zowel relevant voordeel als geen effect"
    important = both_sides or pi_spans
    if i2 >= rules["down_two_if_i2_at_least"] and both_sides and pi_spans:
        return Rating(-2, f"very serious: {text_en}", f"zeer ernstig: {text_nl}")
    if i2 >= rules["down_one_if_i2_at_least"] and important:
        return Rating(-1, f"serious: {text_en}", f"ernstig: {text_nl}")
    return Rating(0, f"not serious: {text_en}", f"niet ernstig: {text_nl}")


def _imprecision(record: dict[str, Any], mid: float, n_total: float | None, rules: dict) -> Rating:
    lo, hi = record["ci_low"], record["ci_high"]
    if lo is None or hi is None:
        return Rating(-2, "very serious: no confidence interval could be computed",
                      "zeer ernstig: geen betrouwbaarheidsinterval te berekenen")  # fmt: skip
    ci = f"95% CI {en(lo)} to {en(hi)}"
    ci_nl = f"95%-BI {nl(lo)} tot {nl(hi)}"
    benefit, harm = lo < -mid, hi > mid
    crosses_mid = lo < -mid < hi
    crosses_null = lo < 0 < hi
    ois = rules["optimal_information_size"]
    small = n_total is not None and n_total < ois
    if small:
        n_en, n_nl = f"; {n_total:.0f} participants (< {ois})", f"; {n_total:.0f} deelnemers (< {ois})"
    elif n_total is None:
        n_en = "; arm sizes not all reported: optimal information size not assessed"
        n_nl = "; groepsgroottes niet alle gerapporteerd: optimale informatiegrootte niet beoordeeld"
    else:
        n_en = n_nl = ""
    if benefit and harm:
        return Rating(-2, f"very serious: {ci} includes important benefit and important harm{n_en}",
                      f"zeer ernstig: {ci_nl} omvat relevant voordeel én relevant nadeel{n_nl}")  # fmt: skip
    if crosses_mid or (benefit and crosses_null):
        return Rating(-1, f"serious: {ci} crosses the clinical relevance threshold (−{mid:g}){n_en}",
                      f"ernstig: {ci_nl} overschrijdt de klinische relevantiegrens (−{g_nl(mid)}){n_nl}")  # fmt: skip
    if small:
        return Rating(-1, f"serious: optimal information size not met{n_en}",
                      f"ernstig: optimale informatiegrootte niet gehaald{n_nl}")  # fmt: skip
    where = "beyond" if hi < -mid else "within"
    where_nl = "voorbij" if hi < -mid else "binnen"
    return Rating(0, f"not serious: {ci} lies {where} the threshold (−{mid:g}){n_en}",
                  f"niet ernstig: {ci_nl} ligt {where_nl} de relevantiegrens (−{g_nl(mid)}){n_nl}")  # fmt: skip


def _publication_bias(record: dict[str, Any], rules: dict) -> Rating:
    k = record["k"]
    if k < rules["min_studies"] or record.get("egger") is None:
        return Rating(0, f"not assessable: {k} studies (< {rules['min_studies']}); not rated down",
                      f"niet te beoordelen: {k} studies (< {rules['min_studies']}); niet afgewaardeerd")  # fmt: skip
    p = record["egger"]["pval"]
    if p < rules["egger_p_below"]:
        return Rating(-1, f"suspected: Egger's test p = {p:.3f}", f"vermoed: Egger-test p = {p:.3f}")
    return Rating(0, f"not suspected: Egger's test p = {p:.3f}", f"niet vermoed: Egger-test p = {p:.3f}")
