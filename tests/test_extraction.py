"""Direction, 0-100 rescaling and derived SDs, checked by hand-computable cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from duiding.evidence import extract
from duiding.evidence.schema import SCHEMAS
from duiding.meta import standardised_mean_difference

INSTRUMENTS = pd.DataFrame(
    [
        {
            "instrument": "NRS_0_10",
            "scale_min": 0.0,
            "scale_max": 10.0,
            "higher_is_better": "no",
            "rescale_to_100": "yes",
        },
        {
            "instrument": "PSFS_0_10",
            "scale_min": 0.0,
            "scale_max": 10.0,
            "higher_is_better": "yes",
            "rescale_to_100": "yes",
        },
        {
            "instrument": "RMDQ_0_24",
            "scale_min": 0.0,
            "scale_max": 24.0,
            "higher_is_better": "no",
            "rescale_to_100": "yes",
        },
        {
            "instrument": "VAS_UNSPEC",
            "scale_min": np.nan,
            "scale_max": np.nan,
            "higher_is_better": "no",
            "rescale_to_100": "no",
        },
    ]
)


def result(**values) -> dict:
    row = dict.fromkeys(SCHEMAS["results"])
    row.update(
        {"result_id": "R", "study_id": "S", "outcome": "pain", "value_type": "final", "_population": "nonspecific"}
    )
    row.update(values)
    return row


def run(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    for col, spec in SCHEMAS["results"].items():
        if spec.kind in ("number", "integer"):
            frame[col] = pd.to_numeric(frame[col]).astype(float)
    return extract(frame, INSTRUMENTS)


def test_arm_means_lower_is_better_rescaled_to_100():
    x = run(
        result(
            data_form="arms_sd",
            instrument="NRS_0_10",
            n_int=40,
            mean_int=3.0,
            sd_int=2.0,
            n_ctl=50,
            mean_ctl=4.5,
            sd_ctl=2.5,
        )
    )
    assert x.at[0, "md100"] == pytest.approx(-15.0)
    assert x.at[0, "vi_md100"] == pytest.approx((4 / 40 + 6.25 / 50) * 100)
    assert x.at[0, "md_reason"] == ""


def test_higher_is_better_is_flipped_so_negative_favours_therapy():
    arms = {"n_int": 30, "mean_int": 7.0, "sd_int": 1.0, "n_ctl": 30, "mean_ctl": 5.0, "sd_ctl": 1.0}
    x = run(result(data_form="arms_sd", instrument="PSFS_0_10", outcome="function", **arms))
    assert x.at[0, "md100"] == pytest.approx(-20.0)
    ref = standardised_mean_difference(7.0, 1.0, 30, 5.0, 1.0, 30)
    assert x.at[0, "smd"] == pytest.approx(-ref.yi)
    assert x.at[0, "vi_smd"] == pytest.approx(ref.vi)


def test_between_group_difference_printed_as_control_minus_intervention():
    effect = {"effect": 2.17, "effect_ci_low": 1.03, "effect_ci_high": 3.31, "effect_definition": "ctl_minus_int"}
    x = run(result(data_form="effect_ci", instrument="RMDQ_0_24", outcome="function", effect_measure="MD", **effect))
    assert x.at[0, "md100"] == pytest.approx(-2.17 * 100 / 24)
    se = (3.31 - 1.03) / 3.92
    assert x.at[0, "vi_md100"] == pytest.approx((se * 100 / 24) ** 2)
    assert math.isnan(x.at[0, "smd"]) and x.at[0, "smd_reason"] == "no_arm_sds"


def test_sd_from_se_and_from_ci_small_and_large_samples():
    se = {"n_int": 70, "mean_int": 3.5, "se_int": 0.3, "n_ctl": 69, "mean_ctl": 3.7, "se_ctl": 0.3}
    ci_int = {"n_int": 20, "mean_int": 3.0, "ci_low_int": 2.0, "ci_high_int": 4.0}
    ci_ctl = {"n_ctl": 80, "mean_ctl": 4.0, "ci_low_ctl": 3.5, "ci_high_ctl": 4.5}
    x = run(
        result(result_id="A", data_form="arms_se", instrument="NRS_0_10", **se),
        result(result_id="B", data_form="arms_ci", instrument="NRS_0_10", **ci_int, **ci_ctl),
    )
    assert x.at[0, "sd_int_used"] == pytest.approx(0.3 * math.sqrt(70))
    assert x.at[0, "sd_int_how"] == "from_se" and x.at[0, "effect_basis"] == "arms"
    t = stats.t.ppf(0.975, 19)
    assert x.at[1, "sd_int_used"] == pytest.approx(math.sqrt(20) * 2.0 / (2 * t))
    assert x.at[1, "sd_int_how"] == "from_ci_t"
    assert x.at[1, "sd_ctl_used"] == pytest.approx(math.sqrt(80) * 1.0 / 3.92)
    assert x.at[1, "sd_ctl_how"] == "from_ci_z"


def test_reasons_for_unusable_results():
    no_sizes = {"mean_int": 3.0, "sd_int": 1.0, "mean_ctl": 4.0, "sd_ctl": 1.0}
    effect = {"effect": -1.0, "effect_ci_low": -2.0, "effect_ci_high": 0.0, "effect_definition": "int_minus_ctl"}
    x = run(
        result(result_id="A", data_form="arms_sd", instrument="NRS_0_10", **no_sizes),
        result(result_id="B", data_form="effect_ci", instrument="VAS_UNSPEC", effect_measure="MD", **effect),
        result(result_id="C", data_form="arms_mean_only", instrument="NRS_0_10", mean_int=3.0, mean_ctl=4.0),
        result(result_id="D", data_form="narrative", instrument="NRS_0_10"),
    )
    assert list(x["md_reason"]) == ["no_arm_sizes", "no_range", "no_spread", "narrative"]
