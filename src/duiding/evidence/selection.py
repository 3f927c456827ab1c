"""Which results enter which meta-analysis: the analysis plan's selection, with reasons.

Selection follows the plan (``config/analysis.yaml``): one result per study, preferring
the outcome code, then the comparator, then the time closest to the window's target, then
the data form, in that order. Every result that is left out is kept with its reason (a
code, worded by the report), for the report's appendix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

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
    # results in scope without poolable numbers, and how to choose one per study
    unpoolable: pd.DataFrame = field(default_factory=pd.DataFrame)
    codes: tuple[str, ...] = ()
    target: float = 0.0

    @cached_property
    def unpooled(self) -> pd.DataFrame:
        """One row per study in scope whose result could not be pooled (:func:`not_pooled`);
        computed on first use, since most refits (tipping points) never show it."""
        return not_pooled(self.unpoolable, set(self.rows["study_id"]), self.codes, self.target)

    @cached_property
    def directions(self) -> tuple[tuple[str, int], ...]:
        """The unpooled studies counted by direction, in a fixed order (SWiM)."""
        counts = self.unpooled["direction_read"].value_counts() if len(self.unpooled) else {}
        return tuple((d, int(counts[d])) for d in DIRECTION_ORDER if d in counts)

    @property
    def k(self) -> int:
        return len(self.rows)


VALUE_TYPES = {0: "adjusted", 1: "change", 2: "final"}


def select(extracted: pd.DataFrame, studies: pd.DataFrame, spec: Spec, plan: AnalysisPlan | None = None) -> Selection:
    """The studies and results of one analysis, and the left-out results with reasons.

    Rules, in order: the study's eligibility, the comparison design (where the spec asks
    for one), the comparator, a time point in the window, usable numbers, the baseline
    imbalance of final values, and (SMD only) one value type per analysis. Then one result
    per study: the direct outcome before a substitute, the preferred comparator, the time
    closest to the window's target, adjusted before change before final values, the data
    form. Chosen rows carry ``substitute`` (an outcome code used in place of the direct
    one) and ``baseline_flag`` (final values across a baseline imbalance).
    """
    plan = plan or load_plan()
    outcome = plan.outcomes[spec.outcome]
    direct = outcome.codes[spec.population]
    codes = outcome.accepts(spec.population)
    value, variance, why = VALUE_COLUMNS[spec.measure]
    window = plan.windows[spec.window]
    eligibility = studies.set_index("study_id")["eligibility"]
    df = extracted[(extracted["_population"] == spec.population) & extracted["outcome"].isin(codes)].copy()
    df["eligibility"] = df["study_id"].map(eligibility)
    reasons = np.full(len(df), "", dtype=object)

    def exclude(mask: pd.Series | np.ndarray, code: pd.Series | str) -> None:
        take = np.asarray(mask, dtype=bool) & (reasons == "")
        reasons[take] = code.to_numpy()[take] if isinstance(code, pd.Series) else code

    exclude(df["eligibility"].to_numpy() == "exclude", "study_excluded")
    exclude(~df["eligibility"].isin(spec.eligibility), "indirect_left_out")
    df["rule_design"] = plan.rule_designs(df["comparison_design"], df["comparator_type"])
    if spec.design is not None:
        exclude(df["rule_design"].to_numpy() != spec.design, "other_design")
    exclude(~df["comparator_type"].isin(plan.comparators), "comparator_active")
    exclude(df["timepoint_weeks"].isna(), "no_timepoint")
    exclude(~window.contains(df["timepoint_weeks"]), OUT_OF_WINDOW)
    exclude(df[why].to_numpy() != "", df[why])
    if spec.imbalance_limit is not None and plan.imbalance_action == "exclude":
        exclude(df["baseline_gap_100"].ge(spec.imbalance_limit), "baseline_imbalance")
    if spec.measure == "SMD":
        _one_value_type(df, reasons)
    candidates = df[reasons == ""].copy()
    forms = {f: i for i, f in enumerate(plan.data_forms)}
    candidates["_rank"] = list(
        zip(
            candidates["outcome"].map(codes.index),
            candidates["comparator_type"].map(plan.comparators.index),
            (candidates["timepoint_weeks"] - window.target).abs(),
            candidates["value_rank"],
            candidates["data_form"].map(lambda f: forms.get(f, 99)),
            candidates["result_id"],
            strict=True,
        )
    )
    candidates = candidates.sort_values("_rank")
    chosen = candidates.drop_duplicates("study_id", keep="first")
    used = dict(zip(chosen["study_id"], chosen["result_id"], strict=True))
    other = np.full(len(df), "", dtype=object)
    position = {idx: i for i, idx in enumerate(df.index)}
    for idx in candidates.index.difference(chosen.index):
        reasons[position[idx]] = "other_result"
        other[position[idx]] = used[candidates.at[idx, "study_id"]]
    chosen = chosen.drop(columns="_rank").sort_values(["study_id"]).copy()
    chosen["yi"] = chosen[value]
    chosen["vi"] = chosen[variance]
    chosen["substitute"] = ~chosen["outcome"].isin(direct)
    chosen["baseline_flag"] = (
        chosen["baseline_gap_100"].ge(spec.imbalance_limit) if spec.imbalance_limit is not None else False
    )
    left = df.loc[reasons != "", ["result_id", "study_id", "outcome", "instrument", "timepoint_weeks"]].copy()
    left["reason"] = reasons[reasons != ""]
    left["other_result"] = other[reasons != ""]
    # results from other windows are not "left out" of this analysis, only out of its scope
    left = left[left["reason"] != OUT_OF_WINDOW]
    unpoolable = df[np.isin(reasons, UNPOOLABLE)]
    return Selection(spec, chosen, left.reset_index(drop=True), unpoolable, tuple(codes), window.target)


# Reasons that leave a result in the analysis' scope (population, comparator, window) but
# without numbers that can be pooled: such results enter the synthesis without meta-analysis.
UNPOOLABLE = ("narrative", "no_spread", "no_arm_sizes", "no_range", "no_arm_sds", "not_continuous", "ratio")
DIRECTION_ORDER = ("favours_intervention", "favours_control", "no_clear_difference", "unclear", "not_reported")


def not_pooled(rows: pd.DataFrame, pooled: set[str], codes: tuple[str, ...], target: float) -> pd.DataFrame:
    """One result per study that is in scope but not pooled, with its direction (SWiM).

    Studies already in the meta-analysis are left out (their pooled result speaks for
    them). Per study the result with the most informative direction is kept (a stated
    direction before "no clear difference" before unclear before not reported), then the
    direct outcome, then the time closest to the window's target. Campbell et al., BMJ
    2020 (SWiM); Cochrane Handbook 12.2.2.5.
    """
    columns = ["result_id", "study_id", "outcome", "timepoint_weeks", "data_form", "direction_read", "n_int", "n_ctl"]
    rows = rows[~rows["study_id"].isin(pooled)]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rank = list(
        zip(
            rows["direction_read"].map(DIRECTION_ORDER.index),
            rows["outcome"].map(codes.index),
            (rows["timepoint_weeks"] - target).abs(),
            rows["result_id"],
            strict=True,
        )
    )
    ordered = rows.assign(_rank=rank).sort_values("_rank")
    return ordered.drop_duplicates("study_id")[columns].sort_values("study_id").reset_index(drop=True)


def _one_value_type(df: pd.DataFrame, reasons: np.ndarray) -> None:
    """SMD: keep the value type (change or final) most studies report; ties go to final.

    Adjusted differences count with the type they adjust (a change or a final value).
    Handbook 10.5.2: SMDs of change scores and of final values are not combined.
    """
    open_rows = reasons == ""
    kind = df["value_type"].to_numpy()
    counts = {t: df.loc[open_rows & (kind == t), "study_id"].nunique() for t in ("final", "change")}
    keep = "change" if counts["change"] > counts["final"] else "final"
    take = open_rows & (kind != keep)
    reasons[take] = "smd_other_value_type"


def n_participants(rows: pd.DataFrame) -> tuple[int, bool]:
    """Participants in the compared arms over the chosen results, and whether all are known.

    A trial's total randomised is not used in place of missing arm sizes: in multi-arm and
    factorial trials it would overstate the number in this comparison. Unknown arm sizes
    make the total a lower bound.
    """
    known = rows["n_int"].notna() & rows["n_ctl"].notna()
    return int(np.sum(rows.loc[known, "n_int"] + rows.loc[known, "n_ctl"])), bool(known.all())
