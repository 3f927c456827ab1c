"""Counts per population, for ``duiding check --format json`` and the report's Methode."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .base import EvidenceBase
from .schema import POPULATIONS

POOLABLE_FORMS = ("arms_sd", "arms_se", "arms_ci", "effect_ci", "effect_se", "events")
PAIN_FUNCTION = ("pain", "back_pain", "leg_pain", "function")


def poolable(results: pd.DataFrame, studies: pd.DataFrame) -> pd.Series:
    """Rows with numbers an analysis can use (arm forms need both arm sizes), not excluded."""
    excluded = set(studies.loc[studies["eligibility"] == "exclude", "study_id"])
    arms = results["data_form"].isin(("arms_sd", "arms_se", "arms_ci"))
    sizes = results["n_int"].notna() & results["n_ctl"].notna()
    usable = results["data_form"].isin(POOLABLE_FORMS) & (~arms | sizes)
    return usable & ~results["study_id"].isin(excluded)


def summary(ev: EvidenceBase) -> dict[str, Any]:
    """Counts per population and for the whole base."""
    out: dict[str, Any] = {"populations": {}}
    ok = poolable(ev.results, ev.studies)
    for p in POPULATIONS:
        st = ev.of("studies", p)
        rs = ev.of("results", p)
        pool_rows = rs[ok[rs.index]]
        core = pool_rows[pool_rows["outcome"].isin(PAIN_FUNCTION)]
        out["populations"][p] = {
            "studies": len(st),
            "studies_included": int((st["eligibility"] == "include").sum()),
            "studies_indirect": int((st["eligibility"] == "indirect").sum()),
            "studies_with_results": int(rs["study_id"].nunique()),
            "results": len(rs),
            "poolable_results": len(pool_rows),
            "studies_with_poolable_pain_or_function": int(core["study_id"].nunique()),
            "review_results": len(ev.of("review_results", p)),
            "risk_of_bias_studies": int(ev.of("risk_of_bias", p)["study_id"].nunique()),
            "studies_with_harms": int(ev.of("harms", p)["study_id"].nunique()),
            "reported_not_entered": len(reported_not_entered(ev, p)),
            "studies_without_doi_or_pmid": sorted(st.loc[st["doi"].isna() & st["pmid"].isna(), "study_id"]),
            "screening": screening_counts(ev.of("screening", p)),
        }
    sourced = set(zip(ev.sources["_population"], ev.sources["result_id"], strict=True))
    pairs = zip(ev.results["_population"], ev.results["result_id"], strict=True)
    out["results_without_source"] = sum(1 for pair in pairs if pair not in sourced)
    out["instruments"] = len(ev.instruments)
    return out


def reported_not_entered(ev: EvidenceBase, population: str) -> pd.DataFrame:
    """Register rows (outcome × time point a source reports) without a result in results.csv.

    A register row is entered when a result has the same study, outcome and time point
    (both time points missing counts as the same).
    """
    register = ev.of("reported_outcomes", population)
    results = ev.of("results", population)
    entered = set(zip(results["study_id"], results["outcome"], results["timepoint_weeks"].fillna(-1), strict=True))
    keys = zip(register["study_id"], register["outcome"], register["timepoint_weeks"].fillna(-1), strict=True)
    missing = [k not in entered for k in keys]
    return register.loc[missing, ["study_id", "outcome", "timepoint_weeks", "timepoint_note", "source_url"]]


def screening_counts(log: pd.DataFrame) -> dict[str, Any]:
    """The PRISMA 2020 flow from the screening log: records through to included studies."""
    decision = log["decision"]
    identified = {str(k): int(v) for k, v in log["identified_via"].value_counts().sort_index().items()}
    full_text = log[decision == "exclude_full_text"]
    included = log[decision == "include"]
    return {
        "identified": identified,
        "duplicates": int((decision == "duplicate").sum()),
        "screened": int((decision != "duplicate").sum()),
        "excluded_screening": int((decision == "exclude_screening").sum()),
        "sought": int(decision.isin(("not_retrieved", "exclude_full_text", "include")).sum()),
        "not_retrieved": int((decision == "not_retrieved").sum()),
        "assessed": int(decision.isin(("exclude_full_text", "include")).sum()),
        "excluded_full_text": {str(k): int(v) for k, v in full_text["reason"].value_counts().sort_index().items()},
        "included_reports": len(included),
        "included_studies": int(included["study_id"].nunique()),
    }
