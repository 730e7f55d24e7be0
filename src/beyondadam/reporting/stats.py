"""Small, dependency-free statistics for comparing optimizers across seeds.

Only numpy and the standard library are used (scipy is not a core dependency): Student's t
quantiles are :func:`beyondadam.experiments.stats.t_quantile`, the one implementation shared
with the experiments' bands.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from beyondadam.experiments.stats import t_quantile

__all__ = ["Band", "Comparison", "compare_lower", "mean_band", "t_quantile", "welch_interval"]


@dataclass(frozen=True)
class Band:
    """Mean of per-seed values with its two-sided 95% t-interval (clipped to the possible range)."""

    mean: float
    lo: float
    hi: float
    n: int
    std: float
    clipped: str = ""
    """Which end of the t-interval was clipped to the possible range, e.g. ``"at 0"`` (else "")."""

    def text(self, digits: int = 4) -> str:
        """Format as ``mean [lo, hi] (n seeds)``, saying when an end was clipped."""
        if self.n < 2:
            return f"{self.mean:.{digits}g} (1 seed, no band)"
        clip = f"; t-interval clipped {self.clipped}" if self.clipped else ""
        return (
            f"{self.mean:.{digits}g} [{self.lo:.{digits}g}, {self.hi:.{digits}g}] "
            f"({self.n} seeds{clip})"
        )


def mean_band(
    values: Sequence[float],
    level: float = 0.95,
    bounds: tuple[float | None, float | None] = (None, None),
) -> Band:
    """Return the mean of ``values`` and its t-interval at ``level`` (a 1-seed band is a point).

    ``bounds`` is the range the quantity can take, e.g. ``(0.0, None)`` for a loss and
    ``(0.0, 1.0)`` for an accuracy; the ends of the interval are clipped to it and the band says
    so. Why clip rather than, say, build the interval on log(values) and exponentiate: the
    symmetric interval mean +/- t*s/sqrt(n) can reach below 0 with few seeds (t = 12.7 for two),
    but the true mean of a positive quantity is positive, so intersecting the interval with the
    possible range never drops the true mean: the coverage stays exactly that of the t-interval,
    and only impossible values go. An interval on the log scale would estimate the geometric mean
    (another quantity than the arithmetic mean that the Welch comparisons test) and rest on
    log-normal seeds.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("mean_band needs at least one value")
    mean = float(x.mean())
    if x.size < 2:
        return Band(mean, mean, mean, 1, 0.0)
    std = float(x.std(ddof=1))
    half = t_quantile(0.5 + level / 2, x.size - 1) * std / math.sqrt(x.size)
    lo, hi = mean - half, mean + half
    floor, ceiling = bounds
    clipped = []
    if floor is not None and lo < floor:
        lo = floor
        clipped.append(f"at {floor:g}")
    if ceiling is not None and hi > ceiling:
        hi = ceiling
        clipped.append(f"at {ceiling:g}")
    return Band(mean, lo, hi, int(x.size), std, " and ".join(clipped))


def welch_interval(
    a: Sequence[float], b: Sequence[float], level: float = 0.95
) -> tuple[float, float, float, float]:
    """Welch's t-interval for ``mean(a) - mean(b)``.

    Returns:
        ``(difference, lo, hi, df)``; ``df`` is ``inf`` when both samples have zero spread.

    """
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if xa.size < 2 or xb.size < 2:
        raise ValueError("Welch's interval needs at least two values per sample")
    va, vb = xa.var(ddof=1) / xa.size, xb.var(ddof=1) / xb.size
    diff = float(xa.mean() - xb.mean())
    se2 = va + vb
    if se2 == 0.0:
        return diff, diff, diff, math.inf
    df = se2**2 / (va**2 / (xa.size - 1) + vb**2 / (xb.size - 1))
    half = t_quantile(0.5 + level / 2, float(df)) * math.sqrt(se2)
    return diff, diff - half, diff + half, float(df)


@dataclass(frozen=True)
class Comparison:
    """Outcome of asking whether ``lower`` is below ``higher`` beyond the seed spread."""

    outcome: str
    """One of ``"below"``, ``"inside spread"``, ``"above"``, ``"one seed"``."""
    difference: float
    """``mean(higher) - mean(lower)``: positive when ``lower`` is lower on average."""
    lo: float
    hi: float

    def text(self, digits: int = 3) -> str:
        """Format the difference and its interval."""
        if self.outcome == "one seed":
            return f"difference {self.difference:.{digits}g} (one seed: no interval)"
        return (
            f"difference {self.difference:.{digits}g}, "
            f"95% Welch interval [{self.lo:.{digits}g}, {self.hi:.{digits}g}]"
        )


def compare_lower(
    lower: Sequence[float], higher: Sequence[float], level: float = 0.95
) -> Comparison:
    """Decide whether ``lower``'s mean is below ``higher``'s beyond the seed spread.

    The 95% Welch interval of ``mean(higher) - mean(lower)`` is computed: entirely above 0 gives
    ``"below"``, entirely below 0 gives ``"above"``, containing 0 gives ``"inside spread"``.
    With a single seed on either side no spread can be estimated: ``"one seed"``.
    """
    if len(lower) < 2 or len(higher) < 2:
        diff = float(np.mean(higher) - np.mean(lower))
        return Comparison("one seed", diff, diff, diff)
    diff, lo, hi, _ = welch_interval(higher, lower, level)
    if lo > 0:
        outcome = "below"
    elif hi < 0:
        outcome = "above"
    else:
        outcome = "inside spread"
    return Comparison(outcome, diff, lo, hi)
