"""Horizons and bounds for Theorem 1's problem, derived from the update rules (not tuned).

Setting: ``theorem1(C)`` (g_t = C when t mod 3 = 1, else -1, C > 2), beta1 = 0,
beta2 = 1/(1 + C^2), lr_t = lr / sqrt(t), eps >= 0, any start x_1 in [-1, 1].  Write period k
(k = 0, 1, ...) for the steps 3k+1 (gradient C), 3k+2, 3k+3 (gradient -1), and x_k for the
iterate at the start of period k.  Because v_t is a convex combination of past g^2 with v_0 = 0:
v_t <= C^2 always, and right after a big step v >= (1 - beta2) C^2 = C^4 / (1 + C^2); right after
a small step v <= beta2 C^2 + (1 - beta2) = 2 C^2 / (1 + C^2).

**AMSGrad (paper flavor).**  vhat_t is non-decreasing with C^4/(1+C^2) <= vhat_t <= C^2, so with
s_t = sqrt(vhat_t) + eps the big step moves x down by a = lr C / (sqrt(t) s_t) and the two small
steps move it up by at most 2 lr / (sqrt(t) s_t) < a.  Hence (the projection at -1 only helps)

    x_{k+1} <= max(x_k - d_k, -1 + e_k),
    d_k = lr (C - 2) / ((C + eps) sqrt(3k+1)),   e_k = 2 lr sqrt(1 + C^2) / (C^2 sqrt(3k+1)).

Once e_k <= tol (k >= K1), x_k falls by d_k per period until it is within tol of -1 and stays
there; the worst start (x = +1) needs sum_{k=K1}^{K-1} d_k >= 2 - tol.  The regret of a period
is C (x_k + 1) - (x' + 1) - (x'' + 1) <= C (x_k + 1), so R_T / T -> 0 at rate O(1/sqrt(T)).

**Adam (torch semantics, with bias correction).**  The bias correction 1 - beta2^t lies in
[1 - beta2, 1], so the big step moves x down by at most a_k = lr sqrt(1 + C^2) / (C sqrt(3k+1))
and each small step moves it up by at least b_k = lr / ((sqrt(2) + eps) sqrt(3k+3)) (as
v / (1 - beta2^t) <= (2 C^2 / (1 + C^2)) / (1 - beta2) = 2).  The projection at +1 only
stops the rise, so x_{k+1} >= min(x_k + D_k, 1) with D_k = 2 b_k - a_k > 0 for C > 2 (and t
large enough); from the worst start (x = -1) x_k = 1 exactly once sum_{k<K} D_k >= 2, and then
at every later period start.  From then on each period has regret
C (1 + 1) - (x' + 1) - (x'' + 1) >= 2C - 4, and every earlier step has regret >= -2, so
R_T / T >= ((K' - K)(2C - 4) - 4K) / (3K') for T = 3K'.
"""

from __future__ import annotations

import math


def _check(C: float, lr: float, tol: float) -> None:
    if not (math.isfinite(C) and C > 2):
        raise ValueError(f"C must be a finite number > 2, got {C!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if not (0 < tol < 2):
        raise ValueError(f"tol must be in (0, 2), got {tol!r}")


def amsgrad_periods(C: float, lr: float, tol: float = 0.05, eps: float = 1e-8) -> int:
    """Periods K after which AMSGrad's period-start iterate is within ``tol`` of -1."""
    _check(C, lr, tol)
    k = 0
    while 2 * lr * math.sqrt(1 + C * C) / (C * C * math.sqrt(3 * k + 1)) > tol:
        k += 1
    need = 2.0 - tol
    while need > 0:
        need -= lr * (C - 2) / ((C + eps) * math.sqrt(3 * k + 1))
        k += 1
    return k


def adam_periods(C: float, lr: float, eps: float = 1e-8) -> int:
    """Periods K after which Adam's period-start iterate is exactly +1 (from any start)."""
    _check(C, lr, 0.05)
    k = 0
    low = -1.0  # a lower bound on x_k: low_{k+1} = max(-1, min(low_k + D_k, 1))
    while low < 1.0:
        a = lr * math.sqrt(1 + C * C) / (C * math.sqrt(3 * k + 1))
        b = lr / ((math.sqrt(2.0) + eps) * math.sqrt(3 * k + 3))
        low = max(-1.0, low + 2 * b - a)
        k += 1
        if k > 10**9:  # pragma: no cover - D_k > 0 eventually for C > 2
            raise RuntimeError("bound does not converge")
    return k


def adam_regret_lower_bound(C: float, lr: float, horizon: int, eps: float = 1e-8) -> float:
    """A lower bound on Adam's R_T / T for T = ``horizon`` (a multiple of 3)."""
    k = adam_periods(C, lr, eps)
    kp = horizon // 3
    return ((kp - k) * (2 * C - 4) - 4 * k) / (3 * kp)


def amsgrad_regret_upper_bound(
    C: float, lr: float, horizon: int, regret_at: float, start: int, eps: float = 1e-8
) -> float:
    """An upper bound on AMSGrad's R_T / T given its regret ``regret_at`` after ``start`` steps.

    ``start`` must be a multiple of 3 at or after the AMSGrad horizon for some tolerance; each
    later period k adds at most C e_{k-1} (the band the period-start iterate is in).
    """
    total = regret_at
    for k in range(start // 3, horizon // 3):
        total += C * 2 * lr * math.sqrt(1 + C * C) / (C * C * math.sqrt(max(3 * (k - 1) + 1, 1)))
    return total / horizon


def theorem1_horizon(C: float, lr: float = 0.5, tol: float = 0.05, eps: float = 1e-8) -> int:
    """Return a horizon T (a multiple of 3) at which the bounds above hold.

    At T, Adam is at +1, AMSGrad within ``tol`` of -1, and Adam's regret lower bound is at least
    half its limit (2C - 4) / 3.
    """
    k = max(adam_periods(C, lr, eps), amsgrad_periods(C, lr, tol, eps))
    # R_T/T >= ((K'-K)(2C-4) - 4K)/(3K') >= (2C-4)/6  <=>  K' >= 2K (2C-4+4)/(2C-4) = 2KC/(C-2)
    kp = max(k, math.ceil(2 * k * C / (C - 2)))
    return 3 * kp
