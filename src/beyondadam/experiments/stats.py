"""The statistics shared by experiments and reporting: Student's t quantiles, 95% bands, p-values.

Only numpy and the standard library are used (scipy is not a core dependency): Student's t
quantiles come from a numerical integration of the t density, accurate to about 1e-6; two-sided
p-values from the regularized incomplete beta function (a continued fraction, near machine
precision), which Welch's test (:func:`welch_test`) uses.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["mean_ci95", "t_quantile", "t_two_sided_p", "welch_test"]


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


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) by modified Lentz; converges for x < (a+1)/(a+b+2)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        # the even step d_{2m}, then the odd step d_{2m+1} of the fraction
        for num in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _reg_inc_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # the fraction converges fast only on one side of the mean; use the symmetry I_x(a,b) =
    # 1 - I_{1-x}(b,a) on the other
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """Two-sided p-value P(|T| >= |t|) of Student's t with ``df`` > 0 degrees of freedom."""
    if not df > 0:
        raise ValueError(f"df must be positive, got {df}")
    if math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 0.0
    return _reg_inc_beta(df / 2.0, 0.5, df / (df + t * t))


def welch_test(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Welch's unequal-variance t-test of mean(a) = mean(b): ``(t, df, two-sided p)``.

    Needs at least two values on each side (else ``ValueError``). When both samples have zero
    variance the test degenerates: p is 1 for equal means and 0 otherwise (t is +-inf or 0).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size < 2 or b.size < 2:
        raise ValueError(f"Welch's test needs >= 2 values per sample, got {a.size} and {b.size}")
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    diff = float(a.mean() - b.mean())
    se2 = va + vb
    if se2 == 0.0:
        if diff == 0.0:
            return 0.0, math.nan, 1.0
        return math.copysign(math.inf, diff), math.nan, 0.0
    t = diff / math.sqrt(se2)
    # Welch-Satterthwaite degrees of freedom
    df = se2 * se2 / (va * va / (a.size - 1) + vb * vb / (b.size - 1))
    return t, df, t_two_sided_p(t, df)
