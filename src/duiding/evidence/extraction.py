"""From evidence rows to analysable effects: direction, scale and missing spread.

Every continuous result becomes, where its numbers allow, (1) a mean difference on a
0-100 scale and (2) a standardised mean difference, both oriented so that **negative
favours the therapy**. The formulas are the engine's (:mod:`duiding.meta.escalc`); this
module decides which numbers of a row they take. How each number was obtained is recorded
per row as codes (``effect_basis``, ``sd_int_how``, ``sd_ctl_how``, ``se_how``) so the
report can say where an SD was derived from a CI or SE, and every row that cannot be used
says why (``md_reason`` / ``smd_reason``, codes worded by the report).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..meta import SMALL_SAMPLE, mean_difference, sd_from_ci, sd_from_se, se_from_ci, standardised_mean_difference

CONTINUOUS_OUTCOMES = ("pain", "back_pain", "leg_pain", "function", "symptom_severity", "quality_of_life", "walking")
ARM_FORMS = ("arms_sd", "arms_se", "arms_ci")
EFFECT_FORMS = ("effect_ci", "effect_se")


def arm_sds(results: pd.DataFrame) -> pd.DataFrame:
    """SD per arm as given or derived (SE or CI, Handbook 6.5.2.2), with how it was obtained."""
    out = pd.DataFrame(index=results.index)
    for arm in ("int", "ctl"):
        n = results[f"n_{arm}"]
        sd = results[f"sd_{arm}"].copy()
        how = pd.Series(np.where(sd.notna(), "reported", ""), index=results.index, dtype=object)
        from_se = sd.isna() & results[f"se_{arm}"].notna() & n.notna()
        sd[from_se] = sd_from_se(results.loc[from_se, f"se_{arm}"], n[from_se])
        how[from_se] = "from_se"
        ci = results[f"ci_low_{arm}"].notna() & results[f"ci_high_{arm}"].notna()
        from_ci = sd.isna() & ci & n.notna()
        sd[from_ci] = sd_from_ci(
            results.loc[from_ci, f"ci_low_{arm}"], results.loc[from_ci, f"ci_high_{arm}"], n[from_ci]
        )
        how[from_ci] = np.where(n[from_ci] < SMALL_SAMPLE, "from_ci_t", "from_ci_z")
        out[f"sd_{arm}_used"] = sd
        out[f"sd_{arm}_how"] = how
    return out


def direction_read(df: pd.DataFrame, orient: np.ndarray) -> pd.Series:
    """The direction of each result: as stated for narrative rows, else from the numbers.

    The sign of the mean difference (or, without spread, of the difference in means) in
    the oriented scale where lower is better; other results have no continuous direction.
    For the synthesis without meta-analysis (SWiM): direction, never significance.
    """
    diff = df["md_raw"].where(df["md_raw"].notna(), (df["mean_int"] - df["mean_ctl"]) * orient)
    derived = np.select(
        [diff < 0, diff > 0, diff == 0],
        ["favours_intervention", "favours_control", "no_clear_difference"],
        default="unclear",
    )
    stated = df["direction"].fillna("unclear") if "direction" in df else pd.Series("unclear", index=df.index)
    return pd.Series(np.where(df["data_form"] == "narrative", stated, derived), index=df.index)


def extract(results: pd.DataFrame, instruments: pd.DataFrame) -> pd.DataFrame:
    """One row per result with normalised MD (0-100) and SMD, their variances and reasons."""
    inst = instruments.set_index("instrument")
    df = results.join(arm_sds(results))
    higher_better = df["instrument"].map(inst["higher_is_better"]).eq("yes")
    span = df["instrument"].map(inst["scale_max"] - inst["scale_min"])
    rescale = df["instrument"].map(inst["rescale_to_100"]).eq("yes")
    orient = np.where(higher_better, -1.0, 1.0)  # after this, lower = better for every instrument
    factor = np.where(rescale, 100 / span, np.nan)

    sd1, sd2, n1, n2 = df["sd_int_used"], df["sd_ctl_used"], df["n_int"], df["n_ctl"]
    use_arms = df["data_form"].isin(ARM_FORMS) & sd1.notna() & sd2.notna() & n1.notna() & n2.notna()
    md = mean_difference(df["mean_int"], sd1, n1, df["mean_ctl"], sd2, n2)
    md_raw = pd.Series(np.where(use_arms, md.yi, np.nan), index=df.index)
    var_raw = pd.Series(np.where(use_arms, md.vi, np.nan), index=df.index)

    effect_md = df["data_form"].isin(EFFECT_FORMS) & df["effect_measure"].eq("MD")
    sign = np.where(df["effect_definition"].eq("ctl_minus_int"), -1.0, 1.0)
    se = df["effect_se"].where(df["effect_se"].notna(), se_from_ci(df["effect_ci_low"], df["effect_ci_high"]))
    md_raw[effect_md] = (df["effect"] * sign)[effect_md]
    var_raw[effect_md] = (se**2)[effect_md]

    df["md_raw"] = md_raw * orient  # instrument units, negative favours therapy
    df["direction_read"] = direction_read(df, orient)
    df["vi_raw"] = var_raw
    smin = df["instrument"].map(inst["scale_min"])
    ctl = (df["mean_ctl"] - smin) * factor
    df["ctl_0_100"] = ctl.where(~higher_better, 100 - ctl).where(df["value_type"] == "final")  # 0 = best
    df["md100"] = df["md_raw"] * factor
    df["vi_md100"] = var_raw * factor**2
    df["effect_basis"] = np.select(
        [use_arms, effect_md & df["adjusted"].eq("yes"), effect_md], ["arms", "adjusted_difference", "difference"], ""
    )
    df["se_how"] = np.where(effect_md, np.where(df["effect_se"].notna(), "reported", "from_ci"), "")

    with np.errstate(invalid="ignore", divide="ignore"):
        g = standardised_mean_difference(df["mean_int"], sd1, n1, df["mean_ctl"], sd2, n2)
    df["smd"] = np.where(use_arms, g.yi * orient, np.nan)
    # the variance term in g² is the same whichever way the scale points
    df["vi_smd"] = np.where(use_arms, g.vi, np.nan)
    smd_given = df["data_form"].isin(EFFECT_FORMS) & df["effect_measure"].eq("SMD")
    df.loc[smd_given, "smd"] = (df["effect"] * sign * orient)[smd_given]
    df.loc[smd_given, "vi_smd"] = (se**2)[smd_given]

    # baseline imbalance of final values, on 0-100 (unsigned): flagged or left out by the plan
    gap = (df["baseline_mean_int"] - df["baseline_mean_ctl"]).abs() * factor
    df["baseline_gap_100"] = gap.where(df["value_type"] == "final")
    df["value_rank"] = np.select([df["adjusted"].eq("yes"), df["value_type"].eq("change")], [0, 1], 2)
    df["md_reason"] = reasons(df, df["md100"], df["vi_md100"], rescale, "md")
    df["smd_reason"] = reasons(df, df["smd"], df["vi_smd"], rescale, "smd")
    df["n_total"] = n1 + n2
    return df


def reasons(df: pd.DataFrame, value: pd.Series, var: pd.Series, rescale: pd.Series, kind: str) -> pd.Series:
    """Why a result cannot enter an MD (0-100) or SMD analysis, as a code; empty when it can."""
    usable = np.isfinite(value) & np.isfinite(var) & (var > 0)
    form = df["data_form"]
    arms_missing = form.str.startswith("arms") & (df["n_int"].isna() | df["n_ctl"].isna())
    conditions = [
        usable,
        ~df["outcome"].isin(CONTINUOUS_OUTCOMES) | (form == "events"),
        form == "narrative",
        form == "arms_mean_only",
        arms_missing,
        (kind == "md") & ~rescale,
        (kind == "smd") & form.str.startswith("effect"),
        df["effect_measure"].isin(("RR", "OR", "HR")),
    ]
    codes = ["", "not_continuous", "narrative", "no_spread", "no_arm_sizes", "no_range", "no_arm_sds", "ratio"]
    return pd.Series(np.select(conditions, codes, "insufficient"), index=df.index, dtype=object)
