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


# ---------------------------------------------------------------- the descendants (issue 9)
# Each is written from its paper's algorithm (and, for Yogi's optax flavor, from optax's
# documented equations), per tensor, in float64, with the same calling convention as
# ``adam_family``: iterates x_2 .. x_{T+1} for raw gradients ``grads``.


def _signed(raw: np.ndarray, maximize: bool) -> np.ndarray:
    g = np.asarray(raw, np.float64)
    return -g if maximize else g


def yogi(
    x0: np.ndarray,
    grads: Sequence[np.ndarray],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    initial_accumulator_value: float,
    weight_decay: float = 0.0,
    flavor: str = "paper",
    maximize: bool = False,
) -> list[np.ndarray]:
    """Zaheer et al. 2018, Algorithm 2 ('paper') or optax.yogi's bias-corrected form ('optax')."""
    x = np.array(x0, dtype=np.float64)
    m = np.full_like(x, initial_accumulator_value if flavor == "optax" else 0.0)
    v = np.full_like(x, initial_accumulator_value)
    out = []
    for t, raw in enumerate(grads, start=1):
        g = _signed(raw, maximize) + weight_decay * x
        m = beta1 * m + (1 - beta1) * g
        v = v - (1 - beta2) * np.sign(v - g * g) * g * g
        if flavor == "paper":
            x = x - lr * m / (np.sqrt(v) + eps)
        elif flavor == "optax":
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
            x = x - lr * m_hat / (np.sqrt(v_hat) + eps)
        else:
            raise ValueError(flavor)
        out.append(x.copy())
    return out


def padam(
    x0: np.ndarray,
    grads: Sequence[np.ndarray],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    partial: float,
    eps: float,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> list[np.ndarray]:
    """Chen & Gu (Padam): AMSGrad's running max raised to ``partial``, no bias correction."""
    x = np.array(x0, dtype=np.float64)
    m, v, vhat = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    out = []
    for raw in grads:
        g = _signed(raw, maximize) + weight_decay * x
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        vhat = np.maximum(vhat, v)
        x = x - lr * m / (vhat**partial + eps)
        out.append(x.copy())
    return out


def adamx(
    x0: np.ndarray,
    grads: Sequence[np.ndarray],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    beta1_decay: float | str | None = None,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> list[np.ndarray]:
    """Tran & Phong 2019 (AdamX): vhat_t = max((1-b1_t)^2/(1-b1_{t-1})^2 vhat_{t-1}, v_t)."""
    x = np.array(x0, dtype=np.float64)
    m, v, vhat = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    out = []
    b1_prev = beta1
    for t, raw in enumerate(grads, start=1):
        g = _signed(raw, maximize) + weight_decay * x
        b1_t = beta1_schedule(beta1, beta1_decay, t)
        m = b1_t * m + (1 - b1_t) * g
        v = beta2 * v + (1 - beta2) * g * g
        vhat = np.maximum((1 - b1_t) ** 2 / (1 - b1_prev) ** 2 * vhat, v)
        x = x - lr * m / (np.sqrt(vhat) + eps)
        b1_prev = b1_t
        out.append(x.copy())
    return out


def nosadam(
    x0: np.ndarray,
    grads: Sequence[np.ndarray],
    *,
    lr: float,
    beta1: float,
    gamma: float,
    eps: float,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> list[np.ndarray]:
    """Huang, Wang & Dong 2019 (NosAdam-HH): v_t = (B_{t-1} v_{t-1} + b_t g_t^2) / B_t,
    b_k = k^-gamma, B_t = b_1 + ... + b_t; no bias correction."""
    x = np.array(x0, dtype=np.float64)
    m, v = np.zeros_like(x), np.zeros_like(x)
    big_b = 0.0
    out = []
    for t, raw in enumerate(grads, start=1):
        g = _signed(raw, maximize) + weight_decay * x
        b_t = float(t) ** -gamma
        big_b_prev, big_b = big_b, big_b + b_t
        m = beta1 * m + (1 - beta1) * g
        v = (big_b_prev / big_b) * v + (b_t / big_b) * g * g
        x = x - lr * m / (np.sqrt(v) + eps)
        out.append(x.copy())
    return out
