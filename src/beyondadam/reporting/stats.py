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
    """Mean of per-seed values with its two-sided 95% t-interval."""

    mean: float
    lo: float
    hi: float
    n: int
    std: float

    def text(self, digits: int = 4) -> str:
        """Format as ``mean [lo, hi] (n seeds)``."""
        if self.n < 2:
            return f"{self.mean:.{digits}g} (1 seed, no band)"
        return (
            f"{self.mean:.{digits}g} [{self.lo:.{digits}g}, {self.hi:.{digits}g}] ({self.n} seeds)"
        )


def mean_band(values: Sequence[float], level: float = 0.95) -> Band:
    """Return the mean of ``values`` and its t-interval at ``level`` (a 1-seed band is a point)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("mean_band needs at least one value")
    mean = float(x.mean())
    if x.size < 2:
        return Band(mean, mean, mean, 1, 0.0)
    std = float(x.std(ddof=1))
    half = t_quantile(0.5 + level / 2, x.size - 1) * std / math.sqrt(x.size)
    return Band(mean, mean - half, mean + half, int(x.size), std)


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
