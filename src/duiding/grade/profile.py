"""The GRADE evidence profile of a population, in GRADEpro's layout: per outcome the
studies and design, the five domains with their judgements, the participants per arm,
the effect, the certainty and the importance (crucial or important).

GRADE Handbook 5.2 / GRADEpro: the evidence profile shows the judgement per domain that
the SoF table summarises in one certainty. Data only; the report words it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .assessment import PopulationAssessment
from .domains import DOMAINS

SERIOUSNESS = {0: "not_serious", -1: "serious", -2: "very_serious", -3: "extremely_serious"}


@dataclass(frozen=True)
class ProfileRow:
    outcome: str
    window: str
    k: int
    design: str  # randomised trials
    domains: dict[str, str]  # domain → not_serious | serious | very_serious (publication bias: suspected or not)
    overridden: tuple[str, ...]  # domains the assessor set
    n_int: int
    n_ctl: int
    complete: bool  # all arm sizes known
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    policy: str
    certainty: int | None
    importance: str  # crucial | important
    measure: str = "MD100"  # SMD where no instrument range is known (see PopulationAssessment.headline)


def evidence_profile(pa: PopulationAssessment) -> list[ProfileRow]:
    rows = []
    crucial = set(pa.judgements.crucial_outcomes)
    for o in pa.headline:
        g, r = o.grading, o.result
        domains, overridden = {}, []
        if g is not None:
            for d in DOMAINS:
                level = g.ratings[d].level
                if d == "publication_bias":
                    domains[d] = "suspected" if level < 0 else "not_suspected"
                else:
                    domains[d] = SERIOUSNESS[level]
                if g.ratings[d].overridden:
                    overridden.append(d)
        rows.append(
            ProfileRow(
                outcome=o.spec.outcome,
                window=o.spec.window,
                k=o.k,
                design="randomised_trials",
                domains=domains,
                overridden=tuple(overridden),
                n_int=o.n_int,
                n_ctl=o.n_ctl,
                complete=o.participants_complete,
                estimate=None if r is None else r.estimate,
                ci_low=None if r is None else r.ci_low,
                ci_high=None if r is None else r.ci_high,
                policy=o.analysis.policy,
                certainty=None if g is None else g.certainty,
                importance="crucial" if o.spec.outcome in crucial else "important",
                measure=o.spec.measure,
            )
        )
    return rows
