"""Which results enter which meta-analysis, and the analyses themselves.

An analysis is one population × outcome × follow-up window × effect measure. Selection
follows ``config/analysis.yaml``: one result per study (outcome code, comparator, time
closest to the window's target, data form, in that order of preference); every result
that is left out is kept with its reason, for the report's appendix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .analysis import Model, StudyData, pool, pool_subgroups
from .config import load_config
from .effects import EffectSizes
from .evidence import EvidenceBase
from .extraction import extract
from .rob import StudyRob, overall_of, study_rob

MEASURES = {"MD100": ("md100", "vi_md100", "md_reason"), "SMD": ("smd", "vi_smd", "smd_reason")}


def plan() -> dict[str, Any]:
    return load_config("analysis")


@dataclass(frozen=True)
class Spec:
    population: str
    outcome: str  # key in analysis.yaml outcomes (pain, function)
    window: str  # short | intermediate | long
    measure: str = "MD100"
    method: str = "REML"
    test: str = "knha"
    include_indirect: bool = True

    @property
    def key(self) -> str:
        return f"{self.population}/{self.outcome}/{self.window}/{self.measure}"


@dataclass
class Analysis:
    """The chosen studies, the left-out results and the pooled results of one Spec."""

    spec: Spec
    rows: pd.DataFrame  # one row per study, with yi, vi, rob
    excluded: pd.DataFrame  # result_id, study_id, reason
    result: dict[str, Any] | None = None  # the pool() record (None if no study)
    sensitivity: dict[str, Any] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return len(self.rows)


def in_window(weeks: pd.Series, window: dict[str, Any]) -> pd.Series:
    lo, hi = window["lower"], window["upper"]
    ok = weeks >= lo if window["lower_inclusive"] else weeks > lo
    if hi is not None:
        ok &= weeks <= hi if window["upper_inclusive"] else weeks < hi
    return ok & weeks.notna()


def select(extracted: pd.DataFrame, studies: pd.DataFrame, spec: Spec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(chosen rows, excluded rows with reasons) for one analysis."""
    cfg = plan()
    codes = cfg["outcomes"][spec.outcome]["codes"][spec.population]
    value, variance, why = MEASURES[spec.measure]
    window = cfg["windows"][spec.window]
    eligibility = studies.set_index("study_id")["eligibility"]
    df = extracted[(extracted["_population"] == spec.population) & extracted["outcome"].isin(codes)].copy()
    df["eligibility"] = df["study_id"].map(eligibility)
    reasons = pd.Series("", index=df.index, dtype=object)

    def exclude(mask: pd.Series, text: str) -> None:
        reasons[mask & (reasons == "")] = text

    exclude(df["eligibility"] == "exclude", "study excluded (PICO)")
    if not spec.include_indirect:
        exclude(df["eligibility"] == "indirect", "indirect study (left out in this analysis)")
    exclude(~df["comparator_type"].isin(cfg["comparators"]), "comparator is another active therapy")
    exclude(df["timepoint_weeks"].isna(), "time point not reported in weeks")
    exclude(~in_window(df["timepoint_weeks"], window), "outside this follow-up window")
    exclude(df[why] != "", "")
    reasons[(df[why] != "") & (reasons == "")] = df[why]
    candidates = df[reasons == ""].copy()
    candidates["_rank"] = list(
        zip(
            candidates["outcome"].map(codes.index),
            candidates["comparator_type"].map(cfg["comparators"].index),
            (candidates["timepoint_weeks"] - window["target"]).abs(),
            candidates["data_form"].map(lambda f: cfg["data_forms"].index(f) if f in cfg["data_forms"] else 99),
            candidates["result_id"],
            strict=True,
        )
    )
    candidates = candidates.sort_values("_rank")
    chosen = candidates.drop_duplicates("study_id", keep="first")
    for idx in candidates.index.difference(chosen.index):
        other = chosen.loc[chosen["study_id"] == candidates.at[idx, "study_id"], "result_id"].iloc[0]
        reasons[idx] = f"another result of this study is used ({other})"
    chosen = chosen.drop(columns="_rank").sort_values(["study_id"]).copy()
    chosen["yi"] = chosen[value]
    chosen["vi"] = chosen[variance]
    left = df.loc[reasons != "", ["result_id", "study_id", "outcome", "instrument", "timepoint_weeks"]].copy()
    left["reason"] = reasons[reasons != ""]
    # results from other windows are not "left out" of this analysis, only out of scope
    left = left[left["reason"] != "outside this follow-up window"]
    return chosen, left


def run(spec: Spec, ev: EvidenceBase, extracted: pd.DataFrame | None = None) -> Analysis:
    """Select, pool (with Q-profile CIs, Egger, trim-and-fill, leave-one-out) and add
    sensitivity analyses: fixed effect, z test, direct studies only, low risk of bias only,
    and the comparator subgroups with the test for subgroup differences."""
    extracted = extract(ev.results, ev.instruments) if extracted is None else extracted
    robs = study_robs(ev, spec.population)
    rows, excluded = select(extracted, ev.studies[ev.studies["_population"] == spec.population], spec)
    rows["rob"] = [overall_of(s, robs) for s in rows["study_id"]]
    analysis = Analysis(spec, rows, excluded)
    if rows.empty:
        return analysis
    analysis.result = _pool(rows, spec.method, spec.test)
    analysis.sensitivity = _sensitivity(rows, spec)
    return analysis


def _pool(rows: pd.DataFrame, method: str, test: str) -> dict[str, Any]:
    data = StudyData(
        rows["study_id"].to_numpy(),
        EffectSizes(rows["yi"].to_numpy(float), rows["vi"].to_numpy(float), "GEN"),
    )
    # One study: Knapp-Hartung has no degrees of freedom; the study's own (z) interval is used.
    test = "z" if len(rows) == 1 else test
    record = pool(data, Model("GEN", method, test)).records()[0]
    record["test_used"] = test
    return record


def _sensitivity(rows: pd.DataFrame, spec: Spec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "fixed_effect": _pool(rows, "FE", "z"),
        "z_test": _pool(rows, spec.method, "z"),
    }
    direct = rows[rows["eligibility"] == "include"]
    out["direct_only"] = _pool(direct, spec.method, spec.test) if len(direct) else None
    low = rows[rows["rob"] == "low"]
    out["low_rob_only"] = _pool(low, spec.method, spec.test) if len(low) else None
    out["comparator_subgroups"] = _subgroups(rows, spec)
    return out


def _subgroups(rows: pd.DataFrame, spec: Spec) -> dict[str, Any] | None:
    """Comparator subgroups (separate fits) with the Q-between test; None for one comparator."""
    codes, labels = pd.factorize(rows["comparator_type"])
    if len(labels) < 2:
        return None
    data = StudyData(
        rows["study_id"].to_numpy(),
        EffectSizes(rows["yi"].to_numpy(float), rows["vi"].to_numpy(float), "GEN"),
    )
    # z test within subgroups: a one-study subgroup keeps its own interval and its estimate
    # enters the test for subgroup differences (as in RevMan).
    sg = pool_subgroups(
        data,
        Model("GEN", spec.method, "z"),
        np.zeros(len(rows), dtype=np.int64),
        codes.astype(np.int64),
        1,
    )
    groups = []
    for row, rec in enumerate(sg.within.records()):
        groups.append({"comparator_type": str(labels[int(sg.within.labels[row]) % len(labels)]), **rec})
    return {
        "groups": groups,
        "q_between": float(sg.q_between[0]),
        "df_between": float(sg.df_between[0]),
        "p_between": float(sg.p_between[0]),
    }


def all_specs(population: str, measure: str = "MD100", method: str = "REML", test: str = "knha") -> list[Spec]:
    cfg = plan()
    return [Spec(population, o, w, measure, method, test) for o in cfg["outcomes"] for w in cfg["windows"]]


def study_robs(ev: EvidenceBase, population: str) -> dict[str, StudyRob]:
    return study_rob(ev.risk_of_bias[ev.risk_of_bias["_population"] == population])
