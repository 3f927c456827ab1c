"""From evidence rows to analysable effects: direction, scale and missing spread.

Every continuous result becomes, where its numbers allow, (1) a mean difference on a
0-100 scale and (2) a standardised mean difference, both oriented so that **negative
favours the therapy**. How each number was obtained is recorded per row (``derivation``)
so the report can say where an SD was derived from a CI or SE, and every row that cannot
be used says why (``md_reason`` / ``smd_reason``).

Cochrane Handbook (v6.4) 6.5.2.2: SD = √n · SE; from a 95% CI of a mean, SD = √n ·
(upper - lower) / (2 · t₀.₉₇₅,ₙ₋₁) for n < 60 and / 3.92 otherwise. 6.3.1: SE of a
difference = (upper - lower) / 3.92.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from .effects import CI95_Z, from_confidence_interval, hedges_correction

CONTINUOUS_OUTCOMES = (
    "pain",
    "back_pain",
    "leg_pain",
    "function",
    "symptom_severity",
    "quality_of_life",
    "walking",
)
SMALL_SAMPLE = 60  # Handbook 6.5.2.2: use t rather than 1.96 below this arm size


def _sd_from_ci(n: pd.Series, lo: pd.Series, hi: pd.Series) -> pd.Series:
    t = pd.Series(special.stdtrit(np.maximum(n.to_numpy(float) - 1, 1), 0.975), index=n.index)
    divisor = np.where(n < SMALL_SAMPLE, 2 * t, 2 * CI95_Z)
    return np.sqrt(n) * (hi - lo) / divisor


def arm_sds(results: pd.DataFrame) -> pd.DataFrame:
    """SD per arm as given or derived (SE or CI), with the way it was obtained."""
    out = pd.DataFrame(index=results.index)
    for arm in ("int", "ctl"):
        n = results[f"n_{arm}"]
        sd = results[f"sd_{arm}"].copy()
        how = pd.Series(np.where(sd.notna(), "SD as reported", ""), index=results.index, dtype=object)
        from_se = sd.isna() & results[f"se_{arm}"].notna() & n.notna()
        sd[from_se] = results.loc[from_se, f"se_{arm}"] * np.sqrt(n[from_se])
        how[from_se] = "SD from SE (√n·SE)"
        ci = results[f"ci_low_{arm}"].notna() & results[f"ci_high_{arm}"].notna()
        from_ci = sd.isna() & ci & n.notna()
        sd[from_ci] = _sd_from_ci(
            n[from_ci],
            results.loc[from_ci, f"ci_low_{arm}"],
            results.loc[from_ci, f"ci_high_{arm}"],
        )
        how[from_ci] = np.where(n[from_ci] < SMALL_SAMPLE, "SD from 95% CI (t-distribution)", "SD from 95% CI (÷3.92)")
        out[f"sd_{arm}_used"] = sd
        out[f"sd_{arm}_how"] = how
    return out


def extract(results: pd.DataFrame, instruments: pd.DataFrame) -> pd.DataFrame:
    """One row per result with normalised MD (0-100) and SMD, their variances and reasons."""
    inst = instruments.set_index("instrument")
    df = results.copy()
    df = df.join(arm_sds(df))
    higher_better = df["instrument"].map(inst["higher_is_better"]).eq("yes")
    span = df["instrument"].map(inst["scale_max"] - inst["scale_min"])
    rescale = df["instrument"].map(inst["rescale_to_100"]).eq("yes")
    orient = np.where(higher_better, -1.0, 1.0)  # after this, lower = better for every instrument
    factor = np.where(rescale, 100 / span, np.nan)

    arms = df["data_form"].isin(("arms_sd", "arms_se", "arms_ci"))
    sd1, sd2 = df["sd_int_used"], df["sd_ctl_used"]
    has_sd = sd1.notna() & sd2.notna() & df["n_int"].notna() & df["n_ctl"].notna()
    md_raw = pd.Series(np.nan, index=df.index)
    var_raw = pd.Series(np.nan, index=df.index)
    use_arms = arms & has_sd
    md_raw[use_arms] = df["mean_int"] - df["mean_ctl"]
    var_raw[use_arms] = sd1**2 / df["n_int"] + sd2**2 / df["n_ctl"]

    effect_md = df["data_form"].isin(("effect_ci", "effect_se")) & df["effect_measure"].eq("MD")
    sign = np.where(df["effect_definition"].eq("ctl_minus_int"), -1.0, 1.0)
    md_raw[effect_md] = (df["effect"] * sign)[effect_md]
    se_ci = np.sqrt(from_confidence_interval(df["effect"], df["effect_ci_low"], df["effect_ci_high"]).vi)
    se = df["effect_se"].where(df["effect_se"].notna(), se_ci)
    var_raw[effect_md] = (se**2)[effect_md]

    df["md_raw"] = md_raw * orient  # instrument units, negative favours therapy
    df["vi_raw"] = var_raw
    smin = df["instrument"].map(inst["scale_min"])
    ctl = (df["mean_ctl"] - smin) * factor
    df["ctl_0_100"] = ctl.where(~higher_better, 100 - ctl).where(df["value_type"] == "final")  # 0 = best
    df["md100"] = df["md_raw"] * factor
    df["vi_md100"] = var_raw * factor**2
    df["derivation"] = _derivation(df, use_arms, effect_md)

    m = df["n_int"] + df["n_ctl"] - 2
    sd_pooled = np.sqrt(((df["n_int"] - 1) * sd1**2 + (df["n_ctl"] - 1) * sd2**2) / m)
    g = hedges_correction(m.to_numpy(float)) * (df["mean_int"] - df["mean_ctl"]) / sd_pooled * orient
    df["smd"] = g.where(use_arms)
    df["vi_smd"] = (1 / df["n_int"] + 1 / df["n_ctl"] + df["smd"] ** 2 / (2 * (df["n_int"] + df["n_ctl"]))).where(
        use_arms
    )
    smd_given = df["data_form"].isin(("effect_ci", "effect_se")) & df["effect_measure"].eq("SMD")
    df.loc[smd_given, "smd"] = (df["effect"] * sign * orient)[smd_given]
    df.loc[smd_given, "vi_smd"] = (se**2)[smd_given]

    df["md_reason"] = _reasons(df, df["md100"], df["vi_md100"], rescale, "md")
    df["smd_reason"] = _reasons(df, df["smd"], df["vi_smd"], rescale, "smd")
    df["n_total"] = df["n_int"] + df["n_ctl"]
    return df


def _derivation(df: pd.DataFrame, use_arms: pd.Series, effect_md: pd.Series) -> pd.Series:
    out = pd.Series("", index=df.index, dtype=object)
    for idx in df.index[use_arms]:
        hows = {df.at[idx, "sd_int_how"], df.at[idx, "sd_ctl_how"]}
        out[idx] = "arm means; " + "; ".join(sorted(h for h in hows if h))
    for idx in df.index[effect_md]:
        kind = "adjusted " if df.at[idx, "adjusted"] == "yes" else ""
        spread = "SE as reported" if pd.notna(df.at[idx, "effect_se"]) else "SE from 95% CI (÷3.92)"
        out[idx] = f"{kind}between-group difference; {spread}"
    return out


def _reasons(df: pd.DataFrame, value: pd.Series, var: pd.Series, rescale: pd.Series, kind: str) -> pd.Series:
    """Why a result cannot enter an MD (0-100) or SMD analysis; empty when it can."""
    out = pd.Series("", index=df.index, dtype=object)
    for idx in df.index:
        if np.isfinite(value[idx]) and np.isfinite(var[idx]) and var[idx] > 0:
            continue
        form = df.at[idx, "data_form"]
        if df.at[idx, "outcome"] not in CONTINUOUS_OUTCOMES or form in ("events",):
            out[idx] = "binary or non-continuous outcome"
        elif form == "narrative":
            out[idx] = "no numbers reported (narrative)"
        elif form == "arms_mean_only":
            out[idx] = "means without SD, SE or CI"
        elif form.startswith("arms") and (pd.isna(df.at[idx, "n_int"]) or pd.isna(df.at[idx, "n_ctl"])):
            out[idx] = "arm sizes not reported"
        elif kind == "md" and not rescale[idx]:
            out[idx] = "instrument range unknown: no 0-100 rescaling (SMD only)"
        elif kind == "smd" and form.startswith("effect"):
            out[idx] = "between-group difference without arm SDs: no SMD"
        elif df.at[idx, "effect_measure"] in ("RR", "OR", "HR"):
            out[idx] = "ratio measure"
        else:
            out[idx] = "insufficient numbers"
    return out
