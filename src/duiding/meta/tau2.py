"""Between-study variance (τ²) estimators, vectorised over a grid of meta-analyses.

Each estimator solves the same equation as metafor's ``rma.uni`` (metafor 3.8.1 source):
DL, HE and SJ in closed form; PM/EB by bisection on the generalised Q statistic; ML and
REML by Fisher scoring from the HE start with metafor's step halving and its check for a
likelihood at τ² = 0 higher than at the solution. Iterations run to a 1e-12 change, far
tighter than metafor's default (1e-5), so that differences from a tightly converged
metafor are at rounding level.

``X`` is a (G, K, p) design matrix, or ``None`` for the intercept-only model. Nothing
here forms the K × K projection matrix P = W − W X (X'WX)⁻¹ X'W: every quantity the
estimators need (Py, tr P, tr P², the diagonal of P) is computed from p × p matrices, so
memory and time grow linearly with the number of studies, and the intercept-only model
uses closed forms that make thousands of analyses per second possible.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .grid import Array, Mask

RE_METHODS = ("DL", "REML", "PM", "SJ", "ML", "HE", "EB")
THRESHOLD = 1e-12
MAXITER = 100  # Fisher scoring rounds (metafor's default) before bisection takes over
LL0_TOL = np.finfo(float).eps ** 0.25  # metafor's con$tol, used by its ll0check
LL0_THRESHOLD = 1e-5  # metafor's default con$threshold, used by its ll0check


def n_params(X: Array | None) -> int:
    return 1 if X is None else int(X.shape[2])


def safe_inv(a: Array) -> tuple[Array, NDArray[np.bool_]]:
    """Batched inverse that flags singular matrices instead of failing the whole batch.

    A group whose design is not of full rank (no studies, or a moderator that does not
    vary) gets an identity stand-in and ``ok == False``; callers turn its results to NaN.
    """
    scale = np.einsum("gii->gi", a)
    scale = np.where(scale > 0, scale, 1.0)
    norm = a / np.sqrt(scale[:, :, None] * scale[:, None, :])
    ok = np.abs(np.linalg.det(norm)) > 1e-12
    eye = np.eye(a.shape[1])
    inv = np.linalg.inv(np.where(ok[:, None, None], a, eye))
    return inv, ok


def wls(y: Array, w: Array, X: Array | None) -> tuple[Array, Array, Array]:
    """Weighted least squares per group: (beta (G,p), (X'WX)⁻¹ (G,p,p), residuals (G,K))."""
    if X is None:
        total = w.sum(1)
        beta = (w * y).sum(1) / total
        return beta[:, None], (1 / total)[:, None, None], y - beta[:, None]
    xtw = np.swapaxes(X, 1, 2) * w[:, None, :]
    a_inv, _ = safe_inv(xtw @ X)
    beta = (a_inv @ (xtw @ y[..., None]))[..., 0]
    resid = y - (X @ beta[..., None])[..., 0]
    return beta, a_inv, resid


def gram(X: Array, w: Array) -> Array:
    """X' diag(w) X per group, (G, p, p)."""
    return np.einsum("gki,gk,gkj->gij", X, w, X)


def leverage(X: Array, w: Array, a_inv: Array) -> Array:
    """x_i' A⁻¹ x_i per study, (G, K): the building block of diag(P) without forming P."""
    return np.einsum("gki,gij,gkj->gk", X, a_inv, X)


def p_diagonal(w: Array, X: Array | None) -> Array:
    """diag(P) = w - w² x'(X'WX)⁻¹x, (G, K)."""
    if X is None:
        return w - w**2 / w.sum(1, keepdims=True)
    a_inv, _ = safe_inv(gram(X, w))
    return w - w**2 * leverage(X, w, a_inv)


def weighted_rss(y: Array, w: Array, X: Array | None) -> Array:
    """y'Py = Σ w (y - Xβ̂_w)²."""
    _, _, r = wls(y, w, X)
    return np.sum(w * r**2, axis=1)


def trace_p(w: Array, X: Array | None) -> Array:
    """tr(P) = Σw - tr((X'WX)⁻¹ X'W²X)."""
    if X is None:
        total = w.sum(1)
        return total - (w**2).sum(1) / total
    a_inv, _ = safe_inv(gram(X, w))
    return w.sum(1) - np.einsum("gij,gji->g", a_inv, gram(X, w**2))


def trace_p_squared(w: Array, X: Array) -> Array:
    """tr(P²) = Σw² - 2 tr(A⁻¹ X'W³X) + tr((A⁻¹ X'W²X)²), A = X'WX."""
    a_inv, _ = safe_inv(gram(X, w))
    b = a_inv @ gram(X, w**2)
    return (w**2).sum(1) - 2 * np.einsum("gij,gji->g", a_inv, gram(X, w**3)) + np.einsum("gij,gji->g", b, b)


def generalised_q(y: Array, v: Array, mask: Mask, X: Array | None, tau2: Array) -> Array:
    """Generalised Q: Σ w (y - Xβ̂)² with w = 1/(v + τ²)."""
    return weighted_rss(y, mask / (v + tau2[:, None]), X)


def dl(y: Array, v: Array, mask: Mask, X: Array | None) -> Array:
    k, p = mask.sum(1), n_params(X)
    w = mask / v
    return (weighted_rss(y, w, X) - (k - p)) / trace_p(w, X)


def he(y: Array, v: Array, mask: Mask, X: Array | None) -> Array:
    """Hedges' estimator: (OLS residual SS - tr(P_ols V)) / (k - p)."""
    k, p = mask.sum(1), n_params(X)
    m = mask.astype(float)
    rss = weighted_rss(y, m, X)
    tr_pv = (m * v).sum(1) * (1 - 1 / k) if X is None else (p_diagonal(m, X) * v).sum(1)
    return (rss - tr_pv) / (k - p)


def sj(y: Array, v: Array, mask: Mask, X: Array | None) -> Array:
    k, p = mask.sum(1), n_params(X)
    mean = np.sum(y * mask, axis=1) / k
    tau0 = np.sum(mask * (y - mean[:, None]) ** 2, axis=1) / k
    return tau0 * generalised_q(y, v, mask, X, tau0) / (k - p)


def pm(y: Array, v: Array, mask: Mask, X: Array | None) -> Array:
    """Paule-Mandel: τ² with generalised Q = k - p (metafor's EB solves the same equation)."""
    target = (mask.sum(1) - n_params(X)).astype(float)
    return solve_q(y, v, mask, X, target)


def solve_q(y: Array, v: Array, mask: Mask, X: Array | None, target: Array) -> Array:
    """τ² ≥ 0 where the generalised Q equals ``target`` (0 where Q(0) is already below it).

    Q(τ²) decreases in τ², so bisection is safe; the upper end of the bracket is doubled
    until it holds the root, where metafor stops at tau2.max instead.
    """
    lo = np.zeros(y.shape[0])
    found = generalised_q(y, v, mask, X, lo) > target
    hi = np.where(found, 100.0, 0.0)
    for _ in range(200):
        need = found & (generalised_q(y, v, mask, X, hi) > target)
        if not need.any():
            break
        lo = np.where(need, hi, lo)
        hi = np.where(need, hi * 2, hi)
    return np.where(found, bisect_q(y, v, mask, X, target, lo, hi), 0.0)


def bisect_q(y: Array, v: Array, mask: Mask, X: Array | None, target: Array, lo: Array, hi: Array) -> Array:
    """Root of Q(τ²) = target in [lo, hi], to full precision, for groups where Q(lo) > target.

    Groups without a root in the bracket get ``lo`` (Q already below target) or ``hi``.
    Only unfinished groups are evaluated in each round.
    """
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    q_lo = generalised_q(y, v, mask, X, lo)
    q_hi = generalised_q(y, v, mask, X, hi)
    out = np.where(q_lo <= target, lo, hi)
    active = np.flatnonzero((q_lo > target) & (q_hi < target))
    for _ in range(200):
        if active.size == 0:
            break
        a_lo, a_hi = lo[active], hi[active]
        mid = 0.5 * (a_lo + a_hi)
        xa = None if X is None else X[active]
        above = generalised_q(y[active], v[active], mask[active], xa, mid) > target[active]
        lo[active] = np.where(above, mid, a_lo)
        hi[active] = np.where(above, a_hi, mid)
        out[active] = 0.5 * (lo[active] + hi[active])
        width = hi[active] - lo[active]
        active = active[width > 2 * np.finfo(float).eps * hi[active]]
    return out


def log_likelihood(y: Array, v: Array, mask: Mask, X: Array | None, tau2: Array, reml: bool) -> Array:
    k, p = mask.sum(1), n_params(X)
    w = mask / (v + tau2[:, None])
    _, a_inv, r = wls(y, w, X)
    rss = np.sum(w * r**2, axis=1)
    logv = np.sum(np.where(mask, np.log(v + tau2[:, None]), 0.0), axis=1)
    if not reml:
        return -0.5 * k * np.log(2 * np.pi) - 0.5 * logv - 0.5 * rss
    logdet = -np.linalg.slogdet(a_inv)[1]
    return -0.5 * (k - p) * np.log(2 * np.pi) - 0.5 * logv - 0.5 * logdet - 0.5 * rss


def _score_parts(y: Array, v: Array, mask: Mask, X: Array | None, tau2: Array, reml: bool) -> tuple[Array, Array]:
    """(score, expected information) of the (RE)ML likelihood in τ², up to a factor 1/2."""
    if X is None:  # the hot loop of every ML/REML fit: in-place, few passes over (G, K)
        w = v + tau2[:, None]
        np.reciprocal(w, out=w)
        w *= mask
        total = w.sum(1)
        r = y - (np.einsum("gk,gk->g", w, y) / total)[:, None]
        r *= w  # Py = W (y - ȳ_w)
        py2 = np.einsum("gk,gk->g", r, r)
        w2 = np.einsum("gk,gk->g", w, w)
        if not reml:
            return py2 - total, w2
        np.multiply(w, w, out=r)  # r now holds w²
        w3 = np.einsum("gk,gk->g", r, w)
        return py2 - (total - w2 / total), w2 - 2 * w3 / total + w2**2 / total**2
    w = mask / (v + tau2[:, None])
    _, _, r = wls(y, w, X)
    py2 = np.sum((w * r) ** 2, axis=1)  # Py = W (y - Xβ̂)
    if not reml:
        return py2 - w.sum(1), (w**2).sum(1)
    return py2 - trace_p(w, X), trace_p_squared(w, X)


def fisher_scoring(y: Array, v: Array, mask: Mask, X: Array | None, method: str, start: Array | None = None) -> Array:
    """ML or REML: the root of the score, found as metafor does it by Fisher scoring from
    the HE estimate truncated at 0 (or from ``start``), with metafor's step halving into
    τ² ≥ 0 and its check for a likelihood at τ² = 0 higher than at the solution.

    Fisher scoring converges linearly, which for large or many analyses costs dozens of
    rounds; once two consecutive iterates are positive, a secant step on the score is
    taken instead where it lands inside the bracket the iterates define (the same root,
    reached superlinearly). Only groups that have not converged are updated in each
    round. Where scoring has not converged after MAXITER rounds (it can oscillate slowly
    around the solution; metafor then stops with an error or, at its default threshold,
    stops early), the root of the score between the last two iterates is found by
    bisection instead.
    """
    reml = method == "REML"
    tau2 = np.maximum(np.nan_to_num(he(y, v, mask, X)), 0.0)
    if start is not None:  # NaN: no start given for that group
        tau2 = np.where(np.isnan(start), tau2, start)
    previous = tau2.copy()
    last_score = np.full(len(tau2), np.nan)
    active = np.flatnonzero(mask.sum(1) > n_params(X))
    for _ in range(MAXITER):
        if active.size == 0:
            break
        xa = None if X is None else X[active]
        t = tau2[active]
        score, info = _score_parts(y[active], v[active], mask[active], xa, t, reml)
        step = _halve_into_range(t, np.where(np.isfinite(score / info), score / info, 0.0))
        adj = _secant(previous[active], last_score[active], t, score, step)
        previous[active], last_score[active] = t, score
        tau2[active] = t + adj
        active = active[np.abs(adj) > THRESHOLD * np.maximum(1.0, t)]
    if active.size:
        xa = None if X is None else X[active]
        lo = np.minimum(previous[active], tau2[active])
        hi = np.maximum(previous[active], tau2[active])
        tau2[active] = _score_root(y[active], v[active], mask[active], xa, reml, lo, hi)
    zero = np.zeros_like(tau2)
    ll0 = log_likelihood(y, v, mask, X, zero, reml)
    ll = log_likelihood(y, v, mask, X, tau2, reml)
    return np.where((ll0 - ll > LL0_TOL) & (tau2 > LL0_THRESHOLD), 0.0, tau2)


def _secant(t0: Array, s0: Array, t1: Array, s1: Array, fisher: Array) -> Array:
    """The secant step on the score where it is safe, else the Fisher step.

    Safe: both iterates positive, the scores differ, and the secant point stays positive
    and, when the scores have opposite signs, inside the bracket they define.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        step = -s1 * (t1 - t0) / (s1 - s0)
    target = t1 + step
    ok = np.isfinite(step) & (t0 > 0) & (t1 > 0) & (target > 0) & (s1 != s0) & np.isfinite(s0)
    bracketed = np.sign(s0) != np.sign(s1)
    inside = (target > np.minimum(t0, t1)) & (target < np.maximum(t0, t1))
    ok &= ~bracketed | inside
    return np.where(ok, step, fisher)


def _score_root(y: Array, v: Array, mask: Mask, X: Array | None, reml: bool, lo: Array, hi: Array) -> Array:
    """τ² ≥ 0 where the score changes from positive to negative, by bisection.

    The bracket [lo, hi] is widened until score(lo) > 0 > score(hi); if the score is not
    positive even near 0, the maximum lies on the boundary and τ² = 0. Bisection stops
    at an absolute width of 1e-15·max(1, τ²), far below the 1e-12 the iterations use;
    only unfinished groups are evaluated in each round.
    """

    def score(t: Array, rows: np.ndarray) -> Array:
        xr = None if X is None else X[rows]
        return _score_parts(y[rows], v[rows], mask[rows], xr, t, reml)[0]

    everyone = np.arange(len(lo))
    hi = np.maximum(hi, 1e-8)
    for _ in range(200):
        grow = score(hi, everyone) > 0
        if not grow.any():
            break
        hi = np.where(grow, hi * 2, hi)
    for _ in range(60):
        shrink = (score(lo, everyone) <= 0) & (lo > 1e-300)
        if not shrink.any():
            break
        lo = np.where(shrink, lo / 16, lo)
    boundary = score(lo, everyone) <= 0
    lo = np.where(boundary, 0.0, lo)
    active = np.flatnonzero(~boundary)
    for _ in range(400):
        active = active[hi[active] - lo[active] > 1e-15 * np.maximum(1.0, hi[active])]
        if active.size == 0:
            break
        mid = 0.5 * (lo[active] + hi[active])
        positive = score(mid, active) > 0
        lo[active] = np.where(positive, mid, lo[active])
        hi[active] = np.where(positive, hi[active], mid)
    return np.where(boundary, 0.0, 0.5 * (lo + hi))


def _halve_into_range(tau2: Array, adj: Array) -> Array:
    """metafor: ``while (tau2 + adj < 0) adj <- adj/2`` (at τ² = 0 this ends at adj = 0)."""
    adj = np.where((tau2 <= 0) & (adj < 0), 0.0, adj)
    for _ in range(1100):
        bad = tau2 + adj < 0
        if not bad.any():
            break
        adj = np.where(bad, adj / 2, adj)
    return adj


def estimate(y: Array, v: Array, mask: Mask, X: Array | None, method: str, start: Array | None = None) -> Array:
    """τ² per group, truncated at 0; 0 for FE and for groups with a single study.

    ``start`` (ML and REML only) is where the iterations begin instead of the HE
    estimate; the root they converge to is the same.
    """
    k = mask.sum(1)
    if method == "FE":
        return np.zeros(len(k))
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = _estimate(y, v, mask, X, method, start)
    tau2 = np.where(k <= 1, 0.0, tau2)
    return np.maximum(np.nan_to_num(tau2, nan=0.0), 0.0)


def _estimate(y: Array, v: Array, mask: Mask, X: Array | None, method: str, start: Array | None) -> Array:
    if method == "DL":
        return dl(y, v, mask, X)
    if method == "HE":
        return he(y, v, mask, X)
    if method == "SJ":
        return sj(y, v, mask, X)
    if method in ("PM", "EB"):
        return pm(y, v, mask, X)
    if method in ("ML", "REML"):
        return fisher_scoring(y, v, mask, X, method, start)
    raise ValueError(f"unknown tau² estimator {method!r}")
