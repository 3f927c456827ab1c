"""Between-study variance (τ²) estimators, vectorised over a grid of meta-analyses.

Each estimator solves the same equation as metafor's ``rma.uni`` (metafor 3.8.1 source):
DL, HE and SJ in closed form; PM/EB by bisection on the generalised Q statistic; ML and
REML by Fisher scoring from the HE start with metafor's step halving and its check for a
likelihood at τ² = 0 higher than at the solution. Iterations run to a 1e-12 change, far
tighter than metafor's default (1e-5), so that differences from a tightly converged
metafor are at rounding level.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .groups import Array, Mask

RE_METHODS = ("DL", "REML", "PM", "SJ", "ML", "HE", "EB")
THRESHOLD = 1e-12
MAXITER = 1000
LL0_TOL = np.finfo(float).eps ** 0.25  # metafor's con$tol, used by its ll0check
LL0_THRESHOLD = 1e-5  # metafor's default con$threshold, used by its ll0check


def intercept(mask: Mask) -> Array:
    """Design matrix of an intercept-only model, (G, K, 1)."""
    return np.ones((*mask.shape, 1))


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


def wls(y: Array, w: Array, X: Array) -> tuple[Array, Array, Array]:
    """Weighted least squares per group: (beta (G,p), (X'WX)^-1 (G,p,p), residuals (G,K))."""
    xtw = np.swapaxes(X, 1, 2) * w[:, None, :]
    a_inv, _ = safe_inv(xtw @ X)
    beta = (a_inv @ (xtw @ y[..., None]))[..., 0]
    resid = y - (X @ beta[..., None])[..., 0]
    return beta, a_inv, resid


def projection(w: Array, X: Array) -> Array:
    """P = W - W X (X'WX)^-1 X' W, (G, K, K); zero rows/columns at padding."""
    wx = X * w[..., None]
    a_inv, _ = safe_inv(np.swapaxes(X, 1, 2) @ wx)
    p = -(wx @ a_inv @ np.swapaxes(wx, 1, 2))
    idx = np.arange(w.shape[1])
    p[:, idx, idx] += w
    return p


def _rss(y: Array, v: Array, mask: Mask, X: Array, tau2: Array) -> Array:
    """Generalised Q: Σ w (y - Xβ̂)² with w = 1/(v + τ²)."""
    w = mask / (v + tau2[:, None])
    _, _, r = wls(y, w, X)
    return np.sum(w * r**2, axis=1)


def _trace(m: Array) -> Array:
    return np.trace(m, axis1=1, axis2=2)


def dl(y: Array, v: Array, mask: Mask, X: Array) -> Array:
    k, p = mask.sum(1), X.shape[2]
    P = projection(mask / v, X)
    rss = np.einsum("gi,gij,gj->g", y, P, y)
    return (rss - (k - p)) / _trace(P)


def he(y: Array, v: Array, mask: Mask, X: Array) -> Array:
    k, p = mask.sum(1), X.shape[2]
    P = projection(mask.astype(float), X)
    rss = np.einsum("gi,gij,gj->g", y, P, y)
    tr_pv = np.einsum("gii,gi->g", P, v)
    return (rss - tr_pv) / (k - p)


def sj(y: Array, v: Array, mask: Mask, X: Array) -> Array:
    k, p = mask.sum(1), X.shape[2]
    mean = np.sum(y * mask, axis=1) / k
    tau0 = np.sum(mask * (y - mean[:, None]) ** 2, axis=1) / k
    return tau0 * _rss(y, v, mask, X, tau0) / (k - p)


def pm(y: Array, v: Array, mask: Mask, X: Array) -> Array:
    """Paule-Mandel: τ² with generalised Q = k - p (metafor's EB solves the same equation)."""
    target = (mask.sum(1) - X.shape[2]).astype(float)
    return solve_q(y, v, mask, X, target)


def solve_q(y: Array, v: Array, mask: Mask, X: Array, target: Array) -> Array:
    """τ² ≥ 0 where the generalised Q equals ``target`` (0 where Q(0) is already below it).

    Q(τ²) decreases in τ², so bisection is safe; the upper end of the bracket is doubled
    until it holds the root, where metafor stops at tau2.max instead.
    """
    lo = np.zeros(y.shape[0])
    found = _rss(y, v, mask, X, lo) > target
    hi = np.where(found, 100.0, 0.0)
    for _ in range(200):
        need = found & (_rss(y, v, mask, X, hi) > target)
        if not need.any():
            break
        lo = np.where(need, hi, lo)
        hi = np.where(need, hi * 2, hi)
    return np.where(found, bisect_q(y, v, mask, X, target, lo, hi), 0.0)


def bisect_q(
    y: Array, v: Array, mask: Mask, X: Array, target: Array, lo: Array, hi: Array
) -> Array:
    """Root of Q(τ²) = target inside [lo, hi] (Q(lo) > target > Q(hi)), to full precision."""
    lo, hi = lo.copy(), hi.copy()
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        above = _rss(y, v, mask, X, mid) > target
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
        if np.all(hi - lo <= 4 * np.finfo(float).eps * np.maximum(hi, 1e-300)):
            break
    return 0.5 * (lo + hi)


def generalised_q(y: Array, v: Array, mask: Mask, X: Array, tau2: Array) -> Array:
    return _rss(y, v, mask, X, tau2)


def _log_likelihood(y: Array, v: Array, mask: Mask, X: Array, tau2: Array, reml: bool) -> Array:
    k, p = mask.sum(1), X.shape[2]
    w = mask / (v + tau2[:, None])
    _, a_inv, r = wls(y, w, X)
    rss = np.sum(w * r**2, axis=1)
    logv = np.sum(np.where(mask, np.log(v + tau2[:, None]), 0.0), axis=1)
    if not reml:
        return -0.5 * k * np.log(2 * np.pi) - 0.5 * logv - 0.5 * rss
    logdet = -np.linalg.slogdet(a_inv)[1]
    return -0.5 * (k - p) * np.log(2 * np.pi) - 0.5 * logv - 0.5 * logdet - 0.5 * rss


def fisher_scoring(y: Array, v: Array, mask: Mask, X: Array, method: str) -> Array:
    """ML or REML by metafor's Fisher scoring (start: HE truncated at 0)."""
    tau2 = np.maximum(he(y, v, mask, X), 0.0)
    active = np.ones(len(tau2), dtype=bool)
    for _ in range(MAXITER):
        w = mask / (v + tau2[:, None])
        P = projection(w, X)
        py = np.einsum("gij,gj->gi", P, y)
        if method == "REML":
            adj = (np.sum(py**2, axis=1) - _trace(P)) / np.sum(P * P, axis=(1, 2))
        else:
            adj = (np.sum(py**2, axis=1) - np.sum(w, axis=1)) / np.sum(w**2, axis=1)
        adj = np.where(np.isfinite(adj) & active, adj, 0.0)
        adj = _halve_into_range(tau2, adj)
        new = tau2 + adj
        active &= np.abs(new - tau2) > THRESHOLD * np.maximum(1.0, tau2)
        tau2 = new
        if not active.any():
            break
    reml = method == "REML"
    zero = np.zeros_like(tau2)
    ll0 = _log_likelihood(y, v, mask, X, zero, reml)
    ll = _log_likelihood(y, v, mask, X, tau2, reml)
    return np.where((ll0 - ll > LL0_TOL) & (tau2 > LL0_THRESHOLD), 0.0, tau2)


def _halve_into_range(tau2: Array, adj: Array) -> Array:
    """metafor: ``while (tau2 + adj < 0) adj <- adj/2`` (at τ² = 0 this ends at adj = 0)."""
    adj = np.where((tau2 <= 0) & (adj < 0), 0.0, adj)
    for _ in range(1100):
        bad = tau2 + adj < 0
        if not bad.any():
            break
        adj = np.where(bad, adj / 2, adj)
    return adj


def estimate(y: Array, v: Array, mask: Mask, X: Array, method: str) -> Array:
    """τ² per group, truncated at 0; 0 for FE and for groups with a single study."""
    k = mask.sum(1)
    if method == "FE":
        return np.zeros(len(k))
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = _estimate(y, v, mask, X, method)
    tau2 = np.where(k <= 1, 0.0, tau2)
    return np.maximum(np.nan_to_num(tau2, nan=0.0), 0.0)


def _estimate(y: Array, v: Array, mask: Mask, X: Array, method: str) -> Array:
    if method == "DL":
        tau2 = dl(y, v, mask, X)
    elif method == "HE":
        tau2 = he(y, v, mask, X)
    elif method == "SJ":
        tau2 = sj(y, v, mask, X)
    elif method in ("PM", "EB"):
        tau2 = pm(y, v, mask, X)
    elif method in ("ML", "REML"):
        tau2 = fisher_scoring(y, v, mask, X, method)
    else:
        raise ValueError(f"unknown tau² estimator {method!r}")
    return tau2
