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
        }
    sourced = set(zip(ev.sources["_population"], ev.sources["result_id"], strict=True))
    pairs = zip(ev.results["_population"], ev.results["result_id"], strict=True)
    out["results_without_source"] = sum(1 for pair in pairs if pair not in sourced)
    out["instruments"] = len(ev.instruments)
    return out
