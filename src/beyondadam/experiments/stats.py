"""The statistics shared by experiments and reporting: Student's t quantiles and 95% bands.

Only numpy and the standard library are used (scipy is not a core dependency): Student's t
quantiles come from a numerical integration of the t density, accurate to about 1e-6.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["mean_ci95", "t_quantile"]


def _t_cdf_upper_half(x: float, df: float, n_points: int = 20001) -> float:
    """Return P(0 <= T <= x) for Student's t with ``df`` degrees of freedom (x >= 0)."""
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    # Substitute t = tan(u) so the heavy tail of small df is integrated over a finite range.
    u_max = math.atan(x)
    u = np.linspace(0.0, u_max, n_points)
    t = np.tan(u)
    dens = np.exp(log_norm - (df + 1) / 2 * np.log1p(t * t / df)) / np.cos(u) ** 2
    return float(np.trapezoid(dens, u))


@lru_cache(maxsize=256)
def t_quantile(p: float, df: float) -> float:
    """Return the ``p`` quantile (0.5 < p < 1) of Student's t distribution with ``df`` > 0.

    Args:
        p: Probability, e.g. 0.975 for a two-sided 95% interval.
        df: Degrees of freedom; need not be an integer (Welch's test produces fractional ones).

    """
    if not 0.5 < p < 1.0:
        raise ValueError(f"p must lie in (0.5, 1), got {p}")
    if not df > 0:
        raise ValueError(f"df must be positive, got {df}")
    target = p - 0.5
    lo, hi = 0.0, 1.0
    while _t_cdf_upper_half(hi, df) < target:
        hi *= 2.0
        if hi > 1e12:  # pragma: no cover - only for absurd inputs
            break
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if _t_cdf_upper_half(mid, df) < target:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-9 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def mean_ci95(
    values: np.ndarray, axis: int = 0, bounds: tuple[float, float] = (-math.inf, math.inf)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and Student-t 95% confidence band (low, high) of ``values`` along ``axis``.

    With a single value the band collapses to the mean. ``bounds`` is the range the quantity
    can take (``(0, inf)`` for a loss, ``(0, 1)`` for an accuracy): the band is clipped to it,
    which keeps its coverage (the true mean lies in the range) while a band of a positive loss
    never reaches below zero with few seeds.
    """
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[axis]
    mean = v.mean(axis=axis)
    if n < 2:
        return mean, mean, mean
    half = t_quantile(0.975, n - 1) * v.std(axis=axis, ddof=1) / math.sqrt(n)
    low, high = bounds
    return mean, np.clip(mean - half, low, high), np.clip(mean + half, low, high)
