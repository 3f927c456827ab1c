"""Study-level effect sizes, computed exactly as metafor's ``escalc``.

Every function is vectorised over studies and returns ``(yi, vi)``. Ratio measures are on
the log scale, as metafor reports them. Arm 1 is the intervention, arm 2 the control.
The standard deviations that sources do not print are derived here too, from an SE or a
95% CI (Cochrane Handbook v6.4, 6.5.2.2), so that one module holds every formula that
turns printed numbers into effect sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from .grid import Array

CONTINUOUS_MEASURES = ("MD", "SMD")
BINARY_MEASURES = ("RR", "OR", "RD")
MEASURES = (*CONTINUOUS_MEASURES, *BINARY_MEASURES, "GEN")
# Cochrane Handbook 6.3.1: SE = (upper - lower) / 3.92 for a 95% CI (RevMan does the same).
CI95_Z = 1.96
# Handbook 6.5.2.2: below this arm size a CI of a mean uses the t distribution, not 1.96.
SMALL_SAMPLE = 60


@dataclass(frozen=True)
class EffectSizes:
    """Effect sizes with their sampling variances, one entry per study."""

    yi: Array
    vi: Array
    measure: str


def _f(x: ArrayLike) -> Array:
    return np.asarray(x, dtype=float)


def hedges_correction(df: ArrayLike) -> Array:
    """Exact small-sample correction J(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2)), as metafor.

    statsmodels and PyMARE use the approximation 1 - 3/(4m - 1); the two differ in the
    fourth decimal for small trials, which is why this is computed here.
    """
    m = _f(df)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.exp(special.gammaln(m / 2) - np.log(np.sqrt(m / 2)) - special.gammaln((m - 1) / 2))
    return np.where(m <= 1, np.nan, out)


def sd_from_se(se: ArrayLike, n: ArrayLike) -> Array:
    """SD of a mean from its standard error: √n · SE (Handbook 6.5.2.2)."""
    return np.sqrt(_f(n)) * _f(se)


def sd_from_ci(ci_low: ArrayLike, ci_high: ArrayLike, n: ArrayLike) -> Array:
    """SD of a mean from its 95% CI: √n · (upper − lower) / (2 t₀.₉₇₅,ₙ₋₁), with 3.92 for n ≥ 60."""
    n = _f(n)
    t = special.stdtrit(np.maximum(n - 1, 1), 0.975)
    divisor = np.where(n < SMALL_SAMPLE, 2 * t, 2 * CI95_Z)
    return np.sqrt(n) * (_f(ci_high) - _f(ci_low)) / divisor


def se_from_ci(ci_low: ArrayLike, ci_high: ArrayLike) -> Array:
    """SE of a difference from its 95% CI: (upper − lower) / 3.92 (Handbook 6.3.1)."""
    return (_f(ci_high) - _f(ci_low)) / (2 * CI95_Z)


def mean_difference(m1, sd1, n1, m2, sd2, n2) -> EffectSizes:
    """Raw mean difference with the unpooled (heteroscedastic) variance (vtype 'LS')."""
    m1, sd1, n1, m2, sd2, n2 = map(_f, (m1, sd1, n1, m2, sd2, n2))
    return EffectSizes(m1 - m2, sd1**2 / n1 + sd2**2 / n2, "MD")


def standardised_mean_difference(m1, sd1, n1, m2, sd2, n2) -> EffectSizes:
    """Hedges' g with metafor's large-sample variance (vtype 'LS')."""
    m1, sd1, n1, m2, sd2, n2 = map(_f, (m1, sd1, n1, m2, sd2, n2))
    df = n1 + n2 - 2
    sd_pooled = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / df)
    yi = hedges_correction(df) * (m1 - m2) / sd_pooled
    vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
    return EffectSizes(yi, vi, "SMD")


@dataclass(frozen=True)
class Table2x2:
    """Cell counts per study: a/b events/non-events in arm 1, c/d in arm 2."""

    a: Array
    b: Array
    c: Array
    d: Array

    @classmethod
    def from_events(cls, e1, n1, e2, n2) -> Table2x2:
        e1, n1, e2, n2 = map(_f, (e1, n1, e2, n2))
        return cls(e1, n1 - e1, e2, n2 - e2)

    def has_zero_cell(self) -> NDArray[np.bool_]:
        return (self.a == 0) | (self.b == 0) | (self.c == 0) | (self.d == 0)

    def is_double_zero(self) -> NDArray[np.bool_]:
        """No events in either arm, or only events in both arms."""
        return ((self.a == 0) & (self.c == 0)) | ((self.b == 0) & (self.d == 0))

    def corrected(self, add: float = 0.5) -> Table2x2:
        """metafor's default continuity rule (add=1/2, to='only0')."""
        z = self.has_zero_cell() * add
        return Table2x2(self.a + z, self.b + z, self.c + z, self.d + z)


def binary_effects(table: Table2x2, measure: str, drop00: bool = False) -> EffectSizes:
    """Log RR, log OR, RD or Peto log OR per study (escalc defaults: add 1/2 to 'only0').

    Double-zero studies are kept (``drop00=False``, escalc's default); rma.mh and rma.peto
    drop them from the heterogeneity statistics, which callers request with ``drop00``.
    """
    t = table.corrected()
    n1, n2 = t.a + t.b, t.c + t.d
    p1, p2 = t.a / n1, t.c / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / t.a - 1 / n1 + 1 / t.c - 1 / n2
        elif measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            vi = 1 / t.a + 1 / t.b + 1 / t.c + 1 / t.d
        elif measure == "RD":
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        elif measure == "PETO":
            n = n1 + n2
            events, non_events = t.a + t.c, t.b + t.d
            expected = events * n1 / n
            var_oe = events * non_events * (n1 / n) * (n2 / n) / (n - 1)
            yi = (t.a - expected) / var_oe
            vi = 1 / var_oe
        else:
            raise ValueError(f"unknown binary measure {measure!r}")
    if drop00:
        dz = table.is_double_zero()
        yi = np.where(dz, np.nan, yi)
        vi = np.where(dz, np.nan, vi)
    return EffectSizes(yi, vi, measure)


def from_confidence_interval(
    estimate: ArrayLike, ci_low: ArrayLike, ci_high: ArrayLike, ratio: bool = False
) -> EffectSizes:
    """Generic inverse variance from an effect and its 95% CI (log scale for ratios)."""
    est, lo, hi = map(_f, (estimate, ci_low, ci_high))
    if ratio:
        est, lo, hi = np.log(est), np.log(lo), np.log(hi)
    return EffectSizes(est, se_from_ci(lo, hi) ** 2, "GEN")
