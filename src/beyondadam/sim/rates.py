r"""Regret rates: a verdict on convergence from how the regret grows, not from one snapshot.

The paper calls an online method convergent when its average regret :math:`R_T / T \to 0`.  A
finite run cannot show a limit, but it shows a rate: with :math:`R_t \approx c\, t^p` over the
last decades of the run, :math:`p \approx 1/2` is the sublinear regret AMSGrad's analysis gives
(:math:`R_T/T = O(1/\sqrt T)`), and :math:`p \approx 1` is linear regret (Adam on the paper's
counterexamples: the average regret tends to a positive constant).

The rule, stated before any run (``classify``):

1. fit :math:`p` by least squares of :math:`\log R_t` on :math:`\log t` over the checkpoints
   of the last ``decades`` decades of the horizon (``t >= T / 10**decades``) where
   :math:`R_t > 0`;
2. **converges** if :math:`R_T \le 0` (the regret is not growing at all) or
   :math:`p \le 0.75`;
3. **fails** if :math:`p \ge 0.9` (at least :math:`t^{0.9}`: :math:`t` and :math:`t\log t`
   both land here);
4. **undecided** otherwise, or when fewer than three checkpoints of the window have
   :math:`R_t > 0` while :math:`R_T > 0`: the run is too short to tell, and a longer horizon is
   the remedy, not a guess.

The thresholds leave a margin on both sides of the two rates the theory predicts (1/2 and 1),
so a run that settles late (a slow start) is reported undecided rather than failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

#: exponents at or below this are sublinear regret: the run converges.
CONVERGES_AT_MOST = 0.75
#: exponents at or above this are (near-)linear regret: the run fails to converge.
FAILS_AT_LEAST = 0.9


class Verdict(StrEnum):
    """The outcome of :func:`classify` for one run."""

    CONVERGES = "converges"
    FAILS = "fails"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class Rate:
    """The regret exponent of one run and its verdict.

    ``exponent`` is NaN where it could not be fitted (regret not positive, or too few points).
    ``final_avg_regret`` is :math:`R_T / T` at the last checkpoint.
    """

    exponent: float
    final_avg_regret: float
    verdict: Verdict


def _window(t: np.ndarray, decades: float) -> np.ndarray:
    if t.ndim != 1 or t.size < 3 or np.any(np.diff(t) <= 0) or t[0] < 1:
        raise ValueError("checkpoints must be at least 3 increasing step counts >= 1")
    if not decades > 0:
        raise ValueError(f"decades must be > 0, got {decades!r}")
    window = t >= t[-1] / 10.0**decades
    if window.sum() < 3:
        raise ValueError(
            f"only {int(window.sum())} checkpoints lie in the last {decades:g} decade(s) of the "
            "horizon; record more (log-spaced) checkpoints to fit a rate"
        )
    return window


def regret_exponents(t: np.ndarray, avg_regret: np.ndarray, decades: float = 1.0) -> np.ndarray:
    r"""The fitted exponent :math:`p` of :math:`R_t \approx c t^p`, one per row of ``avg_regret``.

    ``t``: the checkpoints (steps); ``avg_regret``: :math:`R_t / t` at them, shape
    ``(checkpoints,)`` or ``(runs, checkpoints)``. NaN where fewer than three checkpoints of the
    window have a positive regret.
    """
    t = np.asarray(t, dtype=np.float64)
    avg = np.atleast_2d(np.asarray(avg_regret, dtype=np.float64))
    if avg.shape[-1] != t.size:
        raise ValueError(f"avg_regret has {avg.shape[-1]} checkpoints, t has {t.size}")
    window = _window(t, decades)
    logt = np.log(t[window])
    regret = avg[:, window] * t[window]
    positive = regret > 0
    logr = np.log(np.where(positive, regret, 1.0))
    n = positive.sum(axis=1)
    # Least squares slope over the positive points of each row, vectorized.
    w = positive.astype(np.float64)
    mean_x = (w * logt).sum(axis=1) / np.maximum(n, 1)
    mean_y = (w * logr).sum(axis=1) / np.maximum(n, 1)
    dx = (logt - mean_x[:, None]) * w
    slope = (dx * (logr - mean_y[:, None])).sum(axis=1) / np.maximum((dx * dx).sum(axis=1), 1e-300)
    slope[n < 3] = np.nan
    return slope if np.ndim(avg_regret) > 1 else slope[:1]


def classify(t: np.ndarray, avg_regret: np.ndarray, decades: float = 1.0) -> list[Rate]:
    """:class:`Rate` (exponent and verdict, by the rule of the module docstring) for each run."""
    avg = np.atleast_2d(np.asarray(avg_regret, dtype=np.float64))
    exponents, verdicts = classify_arrays(t, avg, decades)
    return [
        Rate(float(p), float(final), Verdict(v))
        for p, final, v in zip(exponents, avg[:, -1], verdicts, strict=True)
    ]


def classify_arrays(
    t: np.ndarray, avg_regret: np.ndarray, decades: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`classify` as arrays, for many runs: (exponents, verdict strings), one per row."""
    avg = np.atleast_2d(np.asarray(avg_regret, dtype=np.float64))
    p = regret_exponents(t, avg, decades)
    final = avg[:, -1]
    verdicts = np.where(
        (final <= 0) | (p <= CONVERGES_AT_MOST),
        str(Verdict.CONVERGES),
        # between the thresholds, or NaN (too few positive points): undecided
        np.where(p >= FAILS_AT_LEAST, str(Verdict.FAILS), str(Verdict.UNDECIDED)),
    )
    return p, verdicts
