"""A printed summary of one fit in metafor's manner (``print.rma.uni``), for notebooks and logs."""

from __future__ import annotations

import math
from typing import Any, Protocol


class Fitted(Protocol):
    """What a summary reads of a fit (:class:`~duiding.meta.result.MetaResult` has it all)."""

    k: int
    estimate: float
    se: float
    stat: float
    pval: float
    ci_low: float
    ci_high: float
    df: float
    test_used: str
    tau2: float
    q: float
    q_df: float
    q_pval: float
    i2: float
    h2: float
    method: str
    measure: str
    model: Any

    def confint(self) -> Any: ...


MODEL_NAMES = {"FE": "Fixed-Effects Model", "MH": "Fixed-Effects Model", "PETO": "Fixed-Effects Model"}


def _num(x: float, digits: int = 4) -> str:
    return "NA" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _p(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "NA"
    return "<.0001" if x < 1e-4 else f"{x:.4f}"


def summary(res: Fitted) -> str:
    """The lines metafor prints for a fit: model, heterogeneity, Q test, model results."""
    name = MODEL_NAMES.get(res.method, "Random-Effects Model")
    head = f"{name} (k = {res.k}"
    if res.method in MODEL_NAMES:
        head += f"; method: {'Mantel-Haenszel' if res.method == 'MH' else 'Peto' if res.method == 'PETO' else 'FE'})"
    else:
        head += f"; tau^2 estimator: {res.method})"
    lines = [head, ""]
    if res.method not in MODEL_NAMES:
        ci = res.confint()
        lines += [
            f"tau^2 (estimated amount of total heterogeneity): {_num(res.tau2)}"
            f" [95% CI {_num(ci.tau2_low)}, {_num(ci.tau2_high)}]",
            f"tau (square root of estimated tau^2 value):      {_num(math.sqrt(res.tau2))}",
            f"I^2 (total heterogeneity / total variability):   {_num(res.i2, 2)}%",
            f"H^2 (total variability / sampling variability):  {_num(res.h2, 2)}",
            "",
        ]
    else:
        lines += [
            f"I^2 (total heterogeneity / total variability):   {_num(res.i2, 2)}%",
            f"H^2 (total variability / sampling variability):  {_num(res.h2, 2)}",
            "",
        ]
    lines += ["Test for Heterogeneity:", f"Q(df = {res.q_df:.0f}) = {_num(res.q)}, p-val = {_p(res.q_pval)}", ""]
    t = res.test_used != "z"
    stat = "tval" if t else "zval"
    header = (
        f"{'estimate':>9} {'se':>8} {stat:>8} "
        + (f"{'df':>4} " if t else "")
        + f"{'pval':>7} {'ci.lb':>9} {'ci.ub':>9}"
    )
    row = f"{_num(res.estimate):>9} {_num(res.se):>8} {_num(res.stat):>8} "
    row += f"{res.df:>4.0f} " if t else ""
    row += f"{_p(res.pval):>7} {_num(res.ci_low):>9} {_num(res.ci_high):>9}"
    lines += ["Model Results:", "", header, row]
    if res.model.test != res.test_used:
        lines += ["", f"Note: test '{res.model.test}' needs k > 1; the z test was used (as metafor does for k = 1)."]
    if res.measure in ("RR", "OR") or res.method == "PETO":
        lines += ["", "Estimates are on the log scale."]
    return "\n".join(lines)
