"""The few distribution functions the engine needs, from scipy.special.

scipy.stats would do the same, but importing it costs about a second per process, which
dominates a command-line run.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .grid import Array


def z_crit(level: float) -> float:
    """Two-sided normal critical value, e.g. 1.959964 for 0.95."""
    return float(-special.ndtri((1 - level) / 2))


def t_crit(level: float, df: Array) -> Array:
    return special.stdtrit(df, 1 - (1 - level) / 2)


def z_pval(stat: Array) -> Array:
    return 2 * special.ndtr(-np.abs(stat))


def t_pval(stat: Array, df: Array) -> Array:
    return 2 * special.stdtr(df, -np.abs(stat))


def chi2_sf(x: Array, df: Array) -> Array:
    return special.chdtrc(df, x)


def chi2_isf(p: float, df: Array) -> Array:
    """Upper quantile: x with P(X > x) = p."""
    return special.chdtri(df, p)


def chi2_ppf(p: float, df: Array) -> Array:
    """Lower quantile: x with P(X ≤ x) = p."""
    return special.chdtri(df, 1 - p)
