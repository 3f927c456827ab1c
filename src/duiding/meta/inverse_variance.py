"""Inverse-variance models (fixed effect and random effects), as metafor's ``rma.uni``.

``fit_rma`` fits every group of a :class:`~duiding.meta.grid.Grid` at once. Tests are
Wald ``z``, Hartung-Knapp-Sidik-Jonkman ``knha`` (t with k - p df, variance scaled by
the weighted residual mean square, not floored at 1, as metafor) and ``adhoc``, the
modified Knapp-Hartung method that floors that scale at 1 (metafor's ``test="adhoc"``;
Röver et al. 2015). Where a group has no residual degrees of freedom (k = 1 for the
intercept-only model), metafor switches to z ("Setting argument test='z' since k=1");
so does this module, per group, and says so in ``Fit.test_used``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import distributions as dist
from . import tau2 as tau2_estimators
from .grid import Array, Grid

TESTS = ("z", "knha", "adhoc")
T_TESTS = ("knha", "adhoc")
IV_METHODS = ("FE", *tau2_estimators.RE_METHODS)
LEVEL = 0.95


@dataclass(frozen=True)
class Fit:
    """Results per group (arrays of length G; coefficient arrays are (G, p))."""

    method: str
    test: str  # the test asked for
    test_used: np.ndarray  # per group: the test applied ("z" where k - p < 1)
    grid: Grid
    X: Array | None  # None: intercept only
    beta: Array
    se: Array
    stat: Array
    pval: Array
    ci_low: Array
    ci_high: Array
    crit: Array
    df: Array
    tau2: Array
    q: Array
    q_pval: Array
    q_df: Array
    i2: Array
    h2: Array
    vt: Array
    weights: Array  # (G, K) percent, NaN at padding
    s2w: Array  # Knapp-Hartung scale applied to the variance (1 for the z test)

    @property
    def k(self) -> Array:
        return self.grid.k

    @property
    def estimate(self) -> Array:
        return self.beta[:, 0]

    def prediction_interval(self) -> tuple[Array, Array]:
        """metafor's predict(): estimate ± crit·√(SE² + τ²), crit as for the CI."""
        half = self.crit * np.sqrt(self.se[:, 0] ** 2 + self.tau2)
        return self.estimate - half, self.estimate + half


def critical_values(df: Array) -> Array:
    """t quantiles where ``df`` is a number of degrees of freedom, z where it is NaN."""
    with np.errstate(invalid="ignore"):
        t = dist.t_crit(LEVEL, np.maximum(np.nan_to_num(df, nan=1.0), 1))
    return np.where(np.isnan(df), dist.z_crit(LEVEL), t)


def p_values(stat: Array, df: Array) -> Array:
    dfb = np.broadcast_to(df[:, None], stat.shape)
    t = dist.t_pval(stat, np.maximum(np.nan_to_num(dfb, nan=1.0), 1))
    return np.where(np.isnan(dfb), dist.z_pval(stat), t)


def fit_rma(grid: Grid, method: str, test: str = "z", X: Array | None = None, start: Array | None = None) -> Fit:
    """Fit a fixed-effect (``FE``) or random-effects model to every group of ``grid``.

    ``start`` (per group) starts the ML/REML iterations there, e.g. at the full fit's τ²
    for its leave-one-out refits.
    """
    if method not in IV_METHODS:
        raise ValueError(f"unknown method {method!r}")
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}")
    y, v, mask = grid.y, grid.v, grid.mask
    if X is not None:
        X = X * mask[..., None]
    k = mask.sum(1)
    p = tau2_estimators.n_params(X)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # degenerate fits are refused later
        tau2 = tau2_estimators.estimate(y, v, mask, X, method, start)
        w = mask / (v + tau2[:, None])
        beta, vb, resid = tau2_estimators.wls(y, w, X)
        residual_df = (k - p).astype(float)
        t_test = np.full(len(k), test in T_TESTS) & (residual_df >= 1)
        rss = np.sum(w * resid**2, axis=1)
        s2w = np.where(rss <= np.finfo(float).eps, 0.0, rss / residual_df)
        if test == "adhoc":
            s2w = np.maximum(s2w, 1.0)
        scale = np.where(t_test, s2w, 1.0)
        vb = vb * scale[:, None, None]
        df = np.where(t_test, residual_df, np.nan)
        se = np.sqrt(np.einsum("gii->gi", vb))
        stat = beta / se
        crit = critical_values(df)
        pval = p_values(stat, df)
        ci_low = beta - crit[:, None] * se
        ci_high = beta + crit[:, None] * se
        q, q_pval, q_df, i2, h2, vt = _heterogeneity(y, v, mask, X, tau2, method)
        weights = np.where(mask, 100 * w / np.sum(w, axis=1, keepdims=True), np.nan)
    bad = k < p
    if X is not None:  # a design that is not of full rank (a predictor that does not vary) has no fit
        _, full_rank = tau2_estimators.safe_inv(tau2_estimators.gram(X, mask.astype(float)))
        bad |= ~full_rank
    return Fit(
        method=method,
        test=test,
        test_used=np.where(t_test, test, "z"),
        grid=grid,
        X=X,
        beta=_nan_rows(beta, bad),
        se=_nan_rows(se, bad),
        stat=_nan_rows(stat, bad),
        pval=_nan_rows(pval, bad),
        ci_low=_nan_rows(ci_low, bad),
        ci_high=_nan_rows(ci_high, bad),
        crit=crit,
        df=df,
        tau2=tau2,
        q=q,
        q_pval=q_pval,
        q_df=q_df,
        i2=i2,
        h2=h2,
        vt=vt,
        weights=weights,
        s2w=scale,
    )


def _nan_rows(a: Array, bad: np.ndarray) -> Array:
    return np.where(bad.reshape((-1,) + (1,) * (a.ndim - 1)), np.nan, a)


def _heterogeneity(
    y: Array, v: Array, mask: np.ndarray, X: Array | None, tau2: Array, method: str
) -> tuple[Array, Array, Array, Array, Array, Array]:
    """Cochran's Q (fixed-effect weights) and metafor's I² and H² definitions.

    FE models: I² = (Q - df)/Q, H² = Q/df. Random-effects models: I² = τ²/(τ² + ṽ) and
    H² = 1 + τ²/ṽ with the 'typical' within-study variance ṽ = df / tr(P).
    """
    k = mask.sum(1)
    q_df = (k - tau2_estimators.n_params(X)).astype(float)
    w = mask / v
    q = np.maximum(0.0, tau2_estimators.weighted_rss(y, w, X))
    vt = q_df / tau2_estimators.trace_p(w, X)
    q_pval = dist.chi2_sf(q, np.maximum(q_df, 1))
    if method == "FE":
        i2 = np.maximum(0.0, 100 * (q - q_df) / q)
        h2 = q / q_df
    else:
        i2 = 100 * tau2 / (vt + tau2)
        h2 = tau2 / vt + 1
    none = q_df <= 0
    return (
        np.where(none, 0.0, q),
        np.where(none, 1.0, q_pval),
        q_df,
        np.where(none, 0.0, np.nan_to_num(i2, nan=0.0)),
        np.where(none, 1.0, h2),
        np.where(none, 0.0, vt),
    )
