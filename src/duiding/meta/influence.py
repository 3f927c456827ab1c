"""Influence diagnostics and the Baujat plot's coordinates, as metafor's ``influence`` and
``baujat`` for intercept-only inverse-variance models.

Every statistic comes from the fit without study i (the leave-one-out fits of
:mod:`.leave1out`) and the full fit (Viechtbauer and Cheung 2010; metafor 3.8.1
``influence.rma.uni``):

- externally standardised residual: (yi − β̂₋ᵢ) / √(vi·s²₋ᵢ + Var(β̂₋ᵢ) + τ²₋ᵢ·s²₋ᵢ);
- DFFITS: (β̂ − β̂₋ᵢ) / √(s²₋ᵢ · hᵢ · (τ²₋ᵢ + vi)), hᵢ the hat value of the full fit;
- Cook's distance: (β̂ − β̂₋ᵢ)² / Var(β̂); covariance ratio: Var(β̂₋ᵢ) / Var(β̂);
- DFBETAS: (β̂ − β̂₋ᵢ) / √(s²₋ᵢ / Σⱼ 1/(vj + τ²₋ᵢ));
- flagged as influential (metafor's rule) when |DFFITS| > 3√(p/(k−p)), or the χ²₁ cdf of
  Cook's distance > 0.5, or hᵢ > 3p/k, or |DFBETAS| > 1;
- Baujat: x = (yi − β̂)²/(τ² + vi) (contribution to Q), y = (β̂₋ᵢ − β̂)²/Var(β̂₋ᵢ).

s² is the Knapp-Hartung scale (1 for the z test). MH and Peto fits have no influence
diagnostics (metafor's ``influence`` takes rma.uni fits only); those groups get NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .grid import Array, PerGroup
from .inverse_variance import Fit
from .leave1out import LeaveOneOut

P = 1  # intercept-only models


@dataclass(frozen=True)
class Influence(PerGroup):
    """Per group and study (G, K); NaN at padding and for MH/Peto fits."""

    rstudent: Array
    dffits: Array
    cook_d: Array
    cov_r: Array
    tau2_del: Array
    q_del: Array
    hat: Array
    weight: Array
    dfbetas: Array
    influential: np.ndarray
    baujat_x: Array
    baujat_y: Array


def variance_with(v: Array, mask: np.ndarray, tau2_del: Array) -> Array:
    """1 / Σⱼ 1/(vj + τ²₋ᵢ) over all studies j of the group, for every i (metafor's vb.del).

    Computed in blocks of i, so memory stays linear in the number of studies.
    """
    g, width = v.shape
    out = np.full((g, width), np.nan)
    step = max(1, 2_000_000 // max(g * width, 1))
    for start in range(0, width, step):
        block = tau2_del[:, start : start + step]  # (G, B)
        total = np.where(mask[:, None, :], 1 / (v[:, None, :] + block[:, :, None]), 0.0).sum(2)
        out[:, start : start + step] = 1 / total
    return out


def influence(fit: Fit, loo: LeaveOneOut) -> Influence:
    """metafor's influence diagnostics from the full fit and its leave-one-out fits."""
    grid = fit.grid
    mask = grid.mask
    y, v = grid.y, grid.v
    k = grid.k[:, None].astype(float)
    beta = fit.estimate[:, None]
    vb = (fit.se[:, 0] ** 2)[:, None]
    tau2 = fit.tau2[:, None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = np.where(mask, 1 / (v + tau2), 0.0)
        hat = w / w.sum(1, keepdims=True)
        beta_del, vb_del = loo.estimate, loo.se**2
        tau2_del = loo.tau2
        s2w_del = loo.s2w
        diff = beta - beta_del
        rstudent = (y - beta_del) / np.sqrt(v * s2w_del + vb_del + tau2_del * s2w_del)
        dffits = diff / np.sqrt(s2w_del * hat * (tau2_del + v))
        cook_d = diff**2 / vb
        cov_r = vb_del / vb
        vb_all = variance_with(v, mask, tau2_del)
        dfbetas = diff / np.sqrt(s2w_del * vb_all)
        baujat_x = (y - beta) ** 2 / (tau2 + v)
        baujat_y = diff**2 / vb_del
        influential = (
            (np.abs(dffits) > 3 * np.sqrt(P / (k - P)))
            | (special.chdtr(1, np.nan_to_num(cook_d, nan=0.0)) > 0.5)
            | (hat > 3 * P / k)
            | (np.abs(dfbetas) > 1)
        )
    usable = mask & (fit.method not in ("MH", "PETO")) & (grid.k[:, None] >= 2)

    def keep(a: Array) -> Array:
        return np.where(usable, a, np.nan)

    return Influence(
        rstudent=keep(rstudent),
        dffits=keep(dffits),
        cook_d=keep(cook_d),
        cov_r=keep(cov_r),
        tau2_del=keep(tau2_del),
        q_del=keep(loo.q),
        hat=keep(hat),
        weight=keep(fit.weights),
        dfbetas=keep(dfbetas),
        influential=usable & influential,
        baujat_x=keep(baujat_x),
        baujat_y=keep(baujat_y),
    )
