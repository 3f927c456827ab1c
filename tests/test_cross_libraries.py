"""Where PyMARE and statsmodels agree with metafor, they agree with us; where they do not
(see ../shared/methods-notes.md), these tests pin the difference so nobody swaps them in."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import reference_cases
from pymare import Dataset
from pymare.estimators import DerSimonianLaird, VarianceBasedLikelihoodEstimator
from statsmodels.stats.meta_analysis import combine_effects

from duiding.meta import hedges_correction, rma

CASES = {c["name"]: c for c in reference_cases()}


def bcg() -> tuple[np.ndarray, np.ndarray]:
    es = CASES["bcg_RR_REML"]["escalc"]
    return np.array(es["yi"]), np.array(es["vi"])


def test_pymare_dersimonian_laird_matches_our_dl_with_knha():
    y, v = bcg()
    ours = rma(y, v, method="DL", test="knha")
    summary = DerSimonianLaird().fit_dataset(Dataset(y=y, v=v)).summary()
    stats = summary.get_fe_stats()
    assert summary.tau2[0] == pytest.approx(ours.tau2, rel=1e-10)
    assert stats["est"][0, 0] == pytest.approx(ours.estimate, rel=1e-10)
    # PyMARE's default inference is Knapp-Hartung, not a z test (methods notes)
    assert stats["se"][0, 0] == pytest.approx(ours.se, rel=1e-8)


def test_pymare_reml_agrees_only_to_its_optimiser_tolerance():
    y, v = bcg()
    ours = rma(y, v, method="REML")
    theirs = VarianceBasedLikelihoodEstimator(method="REML").fit_dataset(Dataset(y=y, v=v)).summary()
    assert float(np.ravel(theirs.tau2)[0]) == pytest.approx(ours.tau2, rel=1e-3)
    assert ours.tau2 == pytest.approx(CASES["bcg_RR_REML"]["fit"]["tau2"], rel=1e-9)


def test_statsmodels_dl_matches_when_tau2_is_positive():
    y, v = bcg()
    ours = rma(y, v, method="DL")
    theirs = combine_effects(y, v, method_re="dl")
    assert theirs.tau2 == pytest.approx(ours.tau2, rel=1e-10)
    assert theirs.mean_effect_re == pytest.approx(ours.estimate, rel=1e-10)
    assert theirs.sd_eff_w_re == pytest.approx(ours.se, rel=1e-10)


def test_statsmodels_does_not_truncate_dl_at_zero():
    case = CASES["synthetic_homogeneous_tau2zero_GEN_DL"]
    y, v = np.array(case["data"]["yi"]), np.array(case["data"]["vi"])
    theirs = combine_effects(y, v, method_re="dl")
    ours = rma(y, v, method="DL")
    assert ours.tau2 == 0 == case["fit"]["tau2"]
    assert ours.i2 == 0
    assert theirs.i2 < 0 or theirs.tau2 <= 0  # the trap: negative I² (or τ²) leaks through


def test_exact_hedges_correction_differs_from_the_approximation():
    m = np.array([8.0, 18.0, 38.0])
    exact = hedges_correction(m)
    approx = 1 - 3 / (4 * m - 1)
    assert np.all(np.abs(exact - approx) > 1e-6)
    assert np.all(np.abs(exact - approx) < 1e-3)
