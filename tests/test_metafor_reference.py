"""The engine against R's metafor 3.8.1: every number to 1e-6 (relative), through the API.

Fixtures come from tests/reference/make_reference.R (committed with its JSON output);
R is not needed to run these tests. Each case is fitted with ``duiding.meta.fit`` and
every reported quantity is read from the result object and its methods.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import reference_cases

from duiding.meta import (
    EffectSizes,
    MetaResult,
    Model,
    StudyData,
    Table2x2,
    binary_effects,
    fit,
    mean_difference,
    standardised_mean_difference,
)

CASES = reference_cases()
RTOL, ATOL = 1e-6, 1e-9


def close(ours, theirs, where: str) -> None:
    if ours is not None and isinstance(ours, float) and math.isnan(ours):
        ours = None
    if theirs is None:
        assert ours is None, f"{where}: metafor gives no value, we give {ours}"
        return
    assert ours is not None, f"{where}: metafor gives {theirs}, we give none"
    assert np.isclose(ours, theirs, rtol=RTOL, atol=ATOL), f"{where}: {ours!r} != {theirs!r}"


def escalc(case: dict) -> tuple[EffectSizes, Table2x2 | None]:
    d, m = case["data"], case["measure"]
    if m == "MD":
        return mean_difference(d["m1"], d["sd1"], d["n1"], d["m2"], d["sd2"], d["n2"]), None
    if m == "SMD":
        return standardised_mean_difference(d["m1"], d["sd1"], d["n1"], d["m2"], d["sd2"], d["n2"]), None
    if m == "GEN":
        return EffectSizes(np.array(d["yi"], float), np.array(d["vi"], float), "GEN"), None
    table = Table2x2.from_events(d["e1"], d["n1"], d["e2"], d["n2"])
    with np.errstate(divide="ignore", invalid="ignore"):
        return binary_effects(table, "PETO" if case["method"] == "PETO" else m), table


def result(case: dict) -> MetaResult:
    effects, table = escalc(case)
    d = case["data"]
    study = np.array(d["study"]).astype(str)
    ni = np.array(d["n1"], float) + np.array(d["n2"], float) if "n1" in d else None
    model = Model(case["measure"], case["method"], case["test"])
    return fit(StudyData(study, effects, table, ni), model)[0]


@pytest.fixture(scope="module")
def results() -> dict[str, MetaResult]:
    return {case["name"]: result(case) for case in CASES}


def fit_values(r: MetaResult) -> dict[str, float]:
    ci, pred = r.confint(), r.predict()
    return {
        "k": r.k,
        "estimate": r.estimate,
        "se": r.se,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "pval": r.pval,
        "tau2": r.tau2,
        "tau2_ci_low": ci.tau2_low,
        "tau2_ci_high": ci.tau2_high,
        "i2": r.i2,
        "i2_ci_low": ci.i2_low,
        "i2_ci_high": ci.i2_high,
        "h2": r.h2,
        "h2_ci_low": ci.h2_low,
        "h2_ci_high": ci.h2_high,
        "q": r.q,
        "q_pval": r.q_pval,
        "pi_low": pred.pi_low,
        "pi_high": pred.pi_high,
    }


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fit(case, results):
    ours = fit_values(results[case["name"]])
    for key, value in ours.items():
        close(value, case["fit"][key], f"{case['name']}.{key}")
    weights = results[case["name"]].weights
    for i, (w, ref) in enumerate(zip(weights, case["fit"]["weights"], strict=True)):
        close(float(w), ref, f"{case['name']}.weight[{i}]")


@pytest.mark.parametrize("case", [c for c in CASES if c["measure"] != "GEN"], ids=lambda c: c["name"])
def test_escalc(case):
    es, _ = escalc(case)
    np.testing.assert_allclose(es.yi, case["escalc"]["yi"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(es.vi, case["escalc"]["vi"], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_small_study_methods(case, results):
    r, name = results[case["name"]], case["name"]
    egger = r.regtest()
    if case["egger"] is None:
        assert egger is None or math.isnan(egger.stat), name
    else:
        close(egger.stat, case["egger"]["stat"], f"{name}.egger.stat")
        close(egger.pval, case["egger"]["pval"], f"{name}.egger.pval")
    tf = r.trimfill()
    if case["trimfill"] is None:
        assert tf is None, name
    else:
        ref = case["trimfill"]
        assert tf.k0 == ref["k0"] and tf.side == ref["side"], name
        for key in ("estimate", "se", "ci_low", "ci_high"):
            close(getattr(tf, key), ref[key], f"{name}.trimfill.{key}")


@pytest.mark.parametrize("case", [c for c in CASES if c["leave_one_out"]], ids=lambda c: c["name"])
def test_leave_one_out(case, results):
    r = results[case["name"]]
    loo = r.leave1out()
    ours = {study: i for i, study in enumerate(r.studies)}
    assert len(ours) == len(case["leave_one_out"])
    for ref in case["leave_one_out"]:
        i = ours[ref["study"]]
        for key, value in ref.items():
            if key != "study":
                close(float(getattr(loo, key)[i]), value, f"{case['name']}.loo[{ref['study']}].{key}")


@pytest.mark.parametrize("case", [c for c in CASES if c["subgroups"]], ids=lambda c: c["name"])
def test_subgroups(case, results):
    sub = results[case["name"]].subgroups(case["subgroup"]["values"])
    ref = case["subgroups"]
    for key in ("q_between", "df_between", "p_between"):
        close(getattr(sub, key), ref[key], f"{case['name']}.{key}")
    mine = {value: fit_values(r) for value, r in sub.groups}
    assert set(mine) == {g["value"] for g in ref["groups"]}
    for g in ref["groups"]:
        for key, value in g.items():
            if key != "value":
                close(mine[g["value"]][key], value, f"{case['name']}[{g['value']}].{key}")


def test_documented_bcg_values(results):
    """metafor's documentation of dat.bcg (REML): -0.7145, SE 0.1798, tau² 0.3132, I² 92.22%."""
    r = results["bcg_RR_REML"]
    assert round(r.estimate, 4) == -0.7145
    assert round(r.se, 4) == 0.1798
    assert round(r.tau2, 4) == 0.3132
    assert round(r.i2, 2) == 92.22


def test_k1_with_knapp_hartung_uses_z_as_metafor(results):
    r = results["synthetic_k1_GEN_REML_knha"]
    assert r.test_used == "z" and r.se > 0 and math.isfinite(r.ci_low)


@pytest.mark.parametrize("case", [c for c in CASES if c["influence"]], ids=lambda c: c["name"])
def test_influence(case, results):
    inf = results[case["name"]].influence()
    ref = case["influence"]
    for key in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "q_del", "hat", "weight", "dfbetas"):
        for i, value in enumerate(ref[key]):
            close(float(getattr(inf, key)[i]), value, f"{case['name']}.influence.{key}[{i}]")
    assert list(inf.influential) == ref["influential"], case["name"]


@pytest.mark.parametrize("case", [c for c in CASES if c["cumul"]], ids=lambda c: c["name"])
def test_cumulative(case, results):
    ref = case["cumul"]
    cu = results[case["name"]].cumul(ref["order"])
    order = np.argsort(np.array(ref["order"], float), kind="stable")  # metafor lists the steps in order
    for key in ("estimate", "se", "ci_low", "ci_high", "pval", "q", "q_pval", "tau2", "i2", "h2"):
        ours = np.asarray(getattr(cu, key), float)[order]
        for step, value in enumerate(ref[key]):
            close(float(ours[step]), value, f"{case['name']}.cumul.{key}[{step}]")


@pytest.mark.parametrize("case", [c for c in CASES if c["ranktest"]], ids=lambda c: c["name"])
def test_ranktest(case, results):
    rt = results[case["name"]].ranktest()
    close(rt.tau, case["ranktest"]["tau"], f"{case['name']}.ranktest.tau")
    close(rt.pval, case["ranktest"]["pval"], f"{case['name']}.ranktest.pval")


@pytest.mark.parametrize("case", [c for c in CASES if c["regtest_ni"]], ids=lambda c: c["name"])
def test_regtest_on_sample_size(case, results):
    r = results[case["name"]]
    for predictor, ref in case["regtest_ni"].items():
        test = r.regtest(predictor)
        close(test.stat, ref["stat"], f"{case['name']}.regtest.{predictor}.stat")
        close(test.pval, ref["pval"], f"{case['name']}.regtest.{predictor}.pval")
