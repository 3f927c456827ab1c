"""Which results enter which meta-analysis: the analysis plan's selection, with reasons.

Selection follows the plan (``config/analysis.yaml``): one result per study, preferring
the outcome code, then the comparator, then the time closest to the window's target, then
the data form, in that order. Every result that is left out is kept with its reason (a
code, worded by the report), for the report's appendix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .plan import AnalysisPlan, Spec, load_plan

VALUE_COLUMNS = {"MD100": ("md100", "vi_md100", "md_reason"), "SMD": ("smd", "vi_smd", "smd_reason")}
OUT_OF_WINDOW = "outside_window"


@dataclass(frozen=True)
class Selection:
    """The chosen result per study (``rows``, with ``yi`` and ``vi``) and what was left out.

    ``excluded`` has result_id, study_id, outcome, instrument, timepoint_weeks, ``reason``
    (a code) and ``other_result`` (the result used instead, for reason ``other_result``).
    """

    spec: Spec
    rows: pd.DataFrame
    excluded: pd.DataFrame

    @property
    def k(self) -> int:
        return len(self.rows)


def select(extracted: pd.DataFrame, studies: pd.DataFrame, spec: Spec, plan: AnalysisPlan | None = None) -> Selection:
    """The studies and results of one analysis, and the left-out results with reasons."""
    plan = plan or load_plan()
    codes = plan.outcomes[spec.outcome].codes[spec.population]
    value, variance, why = VALUE_COLUMNS[spec.measure]
    window = plan.windows[spec.window]
    eligibility = studies.set_index("study_id")["eligibility"]
    df = extracted[(extracted["_population"] == spec.population) & extracted["outcome"].isin(codes)].copy()
    df["eligibility"] = df["study_id"].map(eligibility)
    reasons = pd.Series("", index=df.index, dtype=object)

    def exclude(mask: pd.Series, code: pd.Series | str) -> None:
        take = mask & (reasons == "")
        reasons[take] = code[take] if isinstance(code, pd.Series) else code

    exclude(df["eligibility"] == "exclude", "study_excluded")
    if not spec.include_indirect:
        exclude(df["eligibility"] == "indirect", "indirect_left_out")
    exclude(~df["comparator_type"].isin(plan.comparators), "comparator_active")
    exclude(df["timepoint_weeks"].isna(), "no_timepoint")
    exclude(~window.contains(df["timepoint_weeks"]), OUT_OF_WINDOW)
    exclude(df[why] != "", df[why])
    candidates = df[reasons == ""].copy()
    forms = {f: i for i, f in enumerate(plan.data_forms)}
    candidates["_rank"] = list(
        zip(
            candidates["outcome"].map(codes.index),
            candidates["comparator_type"].map(plan.comparators.index),
            (candidates["timepoint_weeks"] - window.target).abs(),
            candidates["data_form"].map(lambda f: forms.get(f, 99)),
            candidates["result_id"],
            strict=True,
        )
    )
    candidates = candidates.sort_values("_rank")
    chosen = candidates.drop_duplicates("study_id", keep="first")
    used = dict(zip(chosen["study_id"], chosen["result_id"], strict=True))
    other = pd.Series("", index=df.index, dtype=object)
    for idx in candidates.index.difference(chosen.index):
        reasons[idx] = "other_result"
        other[idx] = used[candidates.at[idx, "study_id"]]
    chosen = chosen.drop(columns="_rank").sort_values(["study_id"]).copy()
    chosen["yi"] = chosen[value]
    chosen["vi"] = chosen[variance]
    left = df.loc[reasons != "", ["result_id", "study_id", "outcome", "instrument", "timepoint_weeks"]].copy()
    left["reason"] = reasons[reasons != ""]
    left["other_result"] = other[reasons != ""]
    # results from other windows are not "left out" of this analysis, only out of its scope
    left = left[left["reason"] != OUT_OF_WINDOW]
    return Selection(spec, chosen, left.reset_index(drop=True))


def n_participants(rows: pd.DataFrame) -> tuple[int, bool]:
    """Participants in the compared arms over the chosen results, and whether all are known.

    A trial's total randomised is not used in place of missing arm sizes: in multi-arm and
    factorial trials it would overstate the number in this comparison. Unknown arm sizes
    make the total a lower bound.
    """
    known = rows["n_int"].notna() & rows["n_ctl"].notna()
    return int(np.sum(rows.loc[known, "n_int"] + rows.loc[known, "n_ctl"])), bool(known.all())
