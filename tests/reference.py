"""Independent float64 NumPy implementations of the paper's equations.

Written from the paper (Algorithms 2 and 3, Theorem 4) and from optax's and PyTorch's documented
AMSGrad variants, with none of beyondadam's code: plain loops, raw moments, explicit bias
corrections. The PyTorch optimizers and the simulator are both checked against these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def beta1_schedule(beta1: float, decay: float | str | None, t: int) -> float:
    if decay is None:
        return beta1
    if decay == "inverse":
        return beta1 / t
    return beta1 * decay ** (t - 1)


def adam_family(
    x0: np.ndarray,
    grads: Sequence[np.ndarray],
    *,
    algorithm: str,
    lr: float | Callable[[int], float],
    beta1: float,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    beta1_decay: float | str | None = None,
    maximize: bool = False,
    project: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> list[np.ndarray]:
    """Iterates x_2 .. x_{T+1} of 'paper', 'pytorch', 'optax' (AMSGrad) or 'adamnc'.

    ``grads[t-1]`` is the raw gradient at step t. ``project(y, a)`` returns the projection of
    y in the norm weighted by a (the denominator of the step).
    """
    x = np.array(x0, dtype=np.float64)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    vhat = np.zeros_like(x)
    prod_b1 = 1.0
    out = []
    for t, raw in enumerate(grads, start=1):
        g = -np.asarray(raw, np.float64) if maximize else np.asarray(raw, np.float64)
        g = g + weight_decay * x
        lr_t = lr(t) if callable(lr) else lr
        b1_t = beta1_schedule(beta1, beta1_decay, t)
        prod_b1 *= b1_t
        m = b1_t * m + (1 - b1_t) * g
        if algorithm == "adamnc":
            v = (1 - 1 / t) * v + (1 / t) * g * g
            denom = np.sqrt(v) + eps
            step = lr_t * m / denom
        elif algorithm == "paper":
            v = beta2 * v + (1 - beta2) * g * g
            vhat = np.maximum(vhat, v)
            denom = np.sqrt(vhat) + eps
            step = lr_t * m / denom
        elif algorithm == "pytorch":
            v = beta2 * v + (1 - beta2) * g * g
            vhat = np.maximum(vhat, v)
            denom = np.sqrt(vhat / (1 - beta2**t)) + eps
            step = lr_t / (1 - prod_b1) * m / denom
        elif algorithm == "optax":
            v = beta2 * v + (1 - beta2) * g * g
            vhat = np.maximum(vhat, v / (1 - beta2**t))
            denom = np.sqrt(vhat) + eps
            step = lr_t * (m / (1 - prod_b1)) / denom
        else:
            raise ValueError(algorithm)
        x = x - step
        if project is not None:
            x = project(x, denom)
        out.append(x.copy())
    return out


def weighted_l2_projection(
    y: np.ndarray, a: np.ndarray, radius: float, center: float = 0.0
) -> np.ndarray:
    """argmin_{||x-c|| <= r} sum a (x - y)^2 by bisection on the multiplier (float64)."""
    z = y - center
    if np.linalg.norm(z) <= radius:
        return y.copy()
    lo, hi = 0.0, float(a.max()) * (np.linalg.norm(z) / radius)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.linalg.norm(a * z / (a + mid)) > radius:
            lo = mid
        else:
            hi = mid
    return center + a * z / (a + hi)
