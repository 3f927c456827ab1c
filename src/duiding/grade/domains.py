"""Suggested GRADE levels per domain for one pooled outcome, each with its reason.

The rules and their thresholds live in ``config/grade_rules.yaml`` (read through
:mod:`.rules`); this module applies them to a fit. A reason is kept as codes and numbers
(:class:`Reason`), worded in Dutch (and English, for the JSON of ``duiding pool``) by the
report's text module, so no language lives here. Suggestions are only suggestions:
:mod:`.judgements` applies the assessor's indirectness ratings and overrides on top.

Sources: Cochrane Handbook ch. 14; GRADE guidance 4 (risk of bias), 5 (publication
bias), 6 (imprecision), 7 (inconsistency), Guyatt et al., J Clin Epidemiol 2011.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..meta import MetaResult
from .rules import GradeRules, Level, load_rules

DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")


@dataclass(frozen=True)
class Phrase:
    """One clause of a reason: a key into the wording table and the values it shows."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reason:
    """Why a domain has its level: a severity (or none) and the clauses that explain it."""

    severity: str | None
    phrases: tuple[Phrase, ...]


def reason(severity: str | None, *phrases: Phrase | None) -> Reason:
    return Reason(severity, tuple(p for p in phrases if p is not None))


@dataclass(frozen=True)
class Rating:
    level: int  # 0, -1, -2 (imprecision may reach -3)
    reason: Reason
    suggested: int | None = None  # the rule's level where an assessor set another
    override_reason: str = ""  # the assessor's reason, in the assessor's words

    @property
    def overridden(self) -> bool:
        return self.suggested is not None and self.suggested != self.level


@dataclass(frozen=True)
class Grading:
    ratings: dict[str, Rating]
    rules: GradeRules | None = None

    @property
    def certainty(self) -> int:
        rules = self.rules or load_rules()
        return max(rules.floor, min(rules.start, rules.start + sum(r.level for r in self.ratings.values())))

    @property
    def level(self) -> Level:
        return (self.rules or load_rules()).level(self.certainty)

    def with_rating(self, domain: str, rating: Rating) -> Grading:
        return replace(self, ratings={**self.ratings, domain: rating})

    def levels(self) -> dict[str, int]:
        return {d: self.ratings[d].level for d in DOMAINS}


@dataclass(frozen=True)
class Unpooled:
    """Studies in an analysis' scope whose results could not be pooled, by stated direction.

    ``conflicting``: studies reporting no clear difference or a result favouring control;
    ``conflicting_n``: their participants where known; ``total``: all unpooled studies.
    """

    total: int = 0
    conflicting: int = 0
    conflicting_n: int = 0


def suggest(
    res: MetaResult,
    rob: list[str] | None,
    mid: float,
    n_total: float | None = None,
    indirect: list[bool] | None = None,
    rules: GradeRules | None = None,
    unpooled: Unpooled | None = None,
) -> Grading:
    """Rule-based levels for a fit. ``mid`` > 0 on the analysis scale (benefit is negative);
    ``rob`` and ``indirect`` per study in the fit's study order; ``n_total`` participants
    (None: unknown); ``rules`` replace the configured rules (tipping points); ``unpooled``
    the studies beside the pool (synthesis without meta-analysis)."""
    rules = rules or load_rules()
    return Grading(
        {
            "risk_of_bias": risk_of_bias(res, rob, rules),
            "inconsistency": inconsistency(res, mid, rules, unpooled, n_total),
            "indirectness": indirectness(res, indirect, rules),
            "imprecision": imprecision(res, mid, n_total, rules),
            "publication_bias": publication_bias(res, rules),
        },
        rules,
    )


def indirectness(res: MetaResult, indirect: list[bool] | None, rules: GradeRules) -> Rating:
    """The share of the weight from indirect studies or substitute outcomes (GRADE 8)."""
    if indirect is None:
        return Rating(0, reason(None, Phrase("indirectness_none")))
    share = float(np.nansum(np.nan_to_num(res.weights)[np.asarray(indirect, dtype=bool)]) / 100)
    phrase = Phrase("indirect_share", {"share": share, "n": int(sum(indirect)), "k": res.k})
    if share > rules.indirect_down_two_above:
        return Rating(-2, reason("very_serious", phrase))
    if share > rules.indirect_down_one_above:
        return Rating(-1, reason("serious", phrase))
    return Rating(0, reason("not_serious", phrase))


def risk_of_bias(res: MetaResult, rob: list[str] | None, rules: GradeRules) -> Rating:
    """Share of the weight from studies at high risk, or at high risk or with some concerns."""
    r = rules.risk_of_bias
    if rob is None:
        return Rating(0, reason(None, Phrase("rob_none")))
    weights = np.nan_to_num(res.weights) / 100
    unrated = [x in (None, "", "not assessed") for x in rob]
    judged = [r.not_assessed_as if u else x for x, u in zip(rob, unrated, strict=True)]
    high = float(sum(w for w, j in zip(weights, judged, strict=True) if j == "high"))
    some = float(sum(w for w, j in zip(weights, judged, strict=True) if j == "some"))
    n_unrated = sum(unrated)
    shares = Phrase("rob_shares", {"high": high, "some": some})
    tail = Phrase("rob_unrated", {"n": n_unrated}) if n_unrated else None
    if high > r.down_two_if_high_share_above:
        return Rating(-2, reason("very_serious", shares, tail))
    if high + some > r.down_one_if_high_or_some_share_above:
        return Rating(-1, reason("serious", shares, tail))
    return Rating(0, reason("not_serious", shares, tail))


def inconsistency(
    res: MetaResult,
    mid: float,
    rules: GradeRules,
    unpooled: Unpooled | None = None,
    n_pooled: float | None = None,
) -> Rating:
    """Heterogeneity of the pooled studies, then the studies beside the pool.

    A pooled benefit beside unpooled studies that report no clear difference or favour
    control, holding at least ``unpooled_conflict_share`` of the participants, is rated
    down one level (GRADE 7: inconsistency across all studies of the outcome; SWiM,
    Campbell et al. 2020: the unpooled results are weighed, by direction only)."""
    rating = heterogeneity(res, mid, rules)
    conflict = unpooled_conflict(res, unpooled, n_pooled, rules)
    if conflict is None:
        return rating
    level = min(rating.level, -1)
    severity = rating.reason.severity if rating.level < 0 else "serious"
    kept = [p for p in rating.reason.phrases if p.key != "single_study"]  # "not to judge" would contradict
    return Rating(level, reason(severity, *kept, conflict))


def unpooled_conflict(
    res: MetaResult, unpooled: Unpooled | None, n_pooled: float | None, rules: GradeRules
) -> Phrase | None:
    """The clause for unpooled studies that contradict a pooled benefit, or None."""
    if unpooled is None or unpooled.conflicting == 0 or not res.ci_high < 0:
        return None
    known = unpooled.conflicting_n
    share = known / (known + n_pooled) if n_pooled and known else None
    if share is None or share < rules.unpooled_conflict_share:
        return None
    values = {"k": unpooled.conflicting, "n": known, "share": share}
    return Phrase("unpooled_conflict", values)


def heterogeneity(res: MetaResult, mid: float, rules: GradeRules) -> Rating:
    """I² together with whether heterogeneity matters for the decision (estimates or the
    prediction interval on both sides of the threshold; Handbook 14.2.2, GRADE 7)."""
    if res.k < 2:
        return Rating(0, reason(None, Phrase("single_study")))
    both_sides = bool(np.min(res.yi) < -mid < np.max(res.yi))
    pred = res.predict()
    pi_spans = bool(np.isfinite(pred.pi_low) and pred.pi_low < -mid and pred.pi_high > 0)
    phrases = (
        Phrase("i2", {"i2": res.i2}),
        Phrase("both_sides", {"mid": mid}) if both_sides else None,
        Phrase("pi_spans") if pi_spans else None,
    )
    if res.i2 >= rules.down_two_if_i2_at_least and both_sides and pi_spans:
        return Rating(-2, reason("very_serious", *phrases))
    if res.i2 >= rules.down_one_if_i2_at_least and (both_sides or pi_spans):
        return Rating(-1, reason("serious", *phrases))
    return Rating(0, reason("not_serious", *phrases))


def imprecision(res: MetaResult, mid: float, n_total: float | None, rules: GradeRules) -> Rating:
    """The 95% CI against the threshold and the null, and the optimal information size
    (minimally contextualised rating; GRADE 6). ``n_total`` None means the participants
    are not all known and the known ones stay below the OIS: then the OIS is not met."""
    lo, hi = res.ci_low, res.ci_high
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return Rating(-2, reason("very_serious", Phrase("no_ci")))
    ci = {"lo": lo, "hi": hi, "mid": mid}
    ois = rules.optimal_information_size
    # An unknown number of participants cannot show that the OIS is met: rated as not met.
    small = n_total is None or n_total < ois
    if n_total is None:
        size = Phrase("ois_unknown", {"ois": ois})
    elif small:
        size = Phrase("ois_small", {"n": n_total, "ois": ois})
    else:
        size = None
    benefit, harm = lo < -mid, hi > mid
    crosses_mid = lo < -mid < hi
    crosses_null = lo < 0 < hi
    if benefit and harm:
        return Rating(-2, reason("very_serious", Phrase("ci_benefit_and_harm", ci), size))
    if (crosses_mid or (benefit and crosses_null)) and small:
        return Rating(-2, reason("very_serious", Phrase("ci_crosses", ci), size))
    if crosses_mid or (benefit and crosses_null):
        return Rating(-1, reason("serious", Phrase("ci_crosses", ci), size))
    if small:
        return Rating(-1, reason("serious", Phrase("ois_not_met"), size))
    where = "ci_beyond" if hi < -mid else "ci_within"
    return Rating(0, reason("not_serious", Phrase(where, ci), size))


def publication_bias(res: MetaResult, rules: GradeRules) -> Rating:
    """Egger's test, only from the number of studies the Handbook asks (13.3.5.4)."""
    test = res.regtest() if res.k >= rules.publication_min_studies else None
    if test is None or not np.isfinite(test.pval):
        return Rating(
            0, reason("not_assessable", Phrase("few_studies", {"k": res.k, "min": rules.publication_min_studies}))
        )
    if test.pval < rules.egger_p_below:
        return Rating(-1, reason("suspected", Phrase("egger", {"p": test.pval})))
    return Rating(0, reason("not_suspected", Phrase("egger", {"p": test.pval})))
