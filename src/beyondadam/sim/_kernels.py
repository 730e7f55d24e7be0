"""Compiled kernels of the simulator outside the Adam family (numba).

Each kernel advances one block of configurations by one step (the signature and the row
conventions are in :mod:`beyondadam.sim._runner`) and is declared beside its :class:`Kernel`
layout, which names its parameter rows (after ``lr``, ``weight_decay``, ``sign``) and its state
rows with their initial values; the kernel unpacks the rows in that order.  The arithmetic
follows :mod:`beyondadam.optim` (i.e. ``torch.optim``) operation by operation in float64, without
fastmath.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from beyondadam.sim._runner import JIT, Kernel, clip, observe

NESTEROV = 1  # Momentum kernel: NAG
CENTERED, HEAVY_BALL = 1, 2  # RMSProp kernel: centered; momentum > 0


@njit(inline="always", **JIT)
def sgd_step(t, g, lrf, xs, flags, x, r, p, s):
    """Plain SGD: x <- x - lr_t g."""
    for j in range(x.shape[0]):
        xj, ge = observe(j, g, xs, x, r, p)
        x[j] = clip(xj + (-(p[0, j] * lrf)) * ge)


SGD = Kernel("sgd", sgd_step)


@njit(inline="always", **JIT)
def momentum_step(t, g, lrf, xs, flags, x, r, p, s):
    """Heavy ball (torch.optim.SGD with momentum) or, with ``NESTEROV``, Nesterov's variant."""
    nesterov = (flags[0] & NESTEROV) != 0
    mu, damp, buf = p[3], p[4], s[0]
    for j in range(x.shape[0]):
        xj, ge = observe(j, g, xs, x, r, p)
        if t == 1:
            b = ge
        else:
            b = buf[j] * mu[j] + (1.0 - damp[j]) * ge
        buf[j] = b
        if nesterov:
            d = ge + mu[j] * b
        else:
            d = b
        x[j] = clip(xj + (-(p[0, j] * lrf)) * d)


MOMENTUM = Kernel("momentum", momentum_step, ("momentum", "dampening"), {"momentum_buffer": 0.0})


@njit(inline="always", **JIT)
def adagrad_step(t, g, lrf, xs, flags, x, r, p, s):
    """AdaGrad with torch's ``lr_decay``; the accumulator starts at its initial value."""
    lr_decay, eps, acc = p[3], p[4], s[0]
    for j in range(x.shape[0]):
        xj, ge = observe(j, g, xs, x, r, p)
        clr = (p[0, j] * lrf) / (1.0 + (t - 1) * lr_decay[j])
        sq = acc[j] + ge * ge
        acc[j] = sq
        x[j] = clip(xj + (-clr) * ge / (np.sqrt(sq) + eps[j]))


ADAGRAD = Kernel(
    "adagrad",
    adagrad_step,
    ("lr_decay", "eps", "initial_accumulator_value"),
    {"sum": "initial_accumulator_value"},
)


@njit(inline="always", **JIT)
def rmsprop_step(t, g, lrf, xs, flags, x, r, p, s):
    """RMSProp, optionally ``CENTERED`` and with a ``HEAVY_BALL`` momentum buffer."""
    centered = (flags[0] & CENTERED) != 0
    heavy = (flags[0] & HEAVY_BALL) != 0
    alpha, mom, eps = p[3], p[4], p[5]
    sq, gavg, buf = s[0], s[1], s[2]
    for j in range(x.shape[0]):
        xj, ge = observe(j, g, xs, x, r, p)
        a = alpha[j]
        v = sq[j] * a + (1.0 - a) * ge * ge
        sq[j] = v
        if centered:
            ga = gavg[j] + (1.0 - a) * (ge - gavg[j])
            gavg[j] = ga
            avg = np.sqrt(v + (-1.0) * ga * ga) + eps[j]
        else:
            avg = np.sqrt(v) + eps[j]
        if heavy:
            b = buf[j] * mom[j] + ge / avg
            buf[j] = b
            x[j] = clip(xj + (-(p[0, j] * lrf)) * b)
        else:
            x[j] = clip(xj + (-(p[0, j] * lrf)) * ge / avg)


RMSPROP = Kernel(
    "rmsprop",
    rmsprop_step,
    ("alpha", "momentum", "eps"),
    {"square_avg": 0.0, "grad_avg": 0.0, "momentum_buffer": 0.0},
)


@njit(inline="always", **JIT)
def adadelta_step(t, g, lrf, xs, flags, x, r, p, s):
    """AdaDelta: the step is rescaled by the running RMS of past steps."""
    rho, eps, sq, accd = p[3], p[4], s[0], s[1]
    for j in range(x.shape[0]):
        xj, ge = observe(j, g, xs, x, r, p)
        q = rho[j]
        v = sq[j] * q + (1.0 - q) * ge * ge
        sq[j] = v
        std = np.sqrt(v + eps[j])
        delta = np.sqrt(accd[j] + eps[j]) / std * ge
        accd[j] = accd[j] * q + (1.0 - q) * delta * delta
        x[j] = clip(xj + (-(p[0, j] * lrf)) * delta)


ADADELTA = Kernel("adadelta", adadelta_step, ("rho", "eps"), {"square_avg": 0.0, "acc_delta": 0.0})


@njit(inline="always", **JIT)
def nadam_step(t, g, lrf, xs, flags, x, r, p, s):
    """NAdam with torch's momentum schedule mu_t = beta1 (1 - 0.96^(t psi) / 2)."""
    b1, b2, eps, psi = p[3], p[4], p[5], p[6]
    m, v, mup, p2 = s[0], s[1], s[2], s[3]
    for j in range(x.shape[0]):
        xj, ge = observe(j, g, xs, x, r, p)
        lrt = p[0, j] * lrf
        a = b1[j]
        b = b2[j]
        q2 = p2[j] * b
        p2[j] = q2
        mu = a * (1.0 - 0.5 * 0.96 ** (t * psi[j]))
        mu_next = a * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi[j]))
        # torch.optim.NAdam keeps mu_product as a float32 scalar tensor; so do we.
        mp = np.float64(np.float32(mup[j]) * np.float32(mu))
        mup[j] = mp
        mj = m[j] * a + (1.0 - a) * ge
        vj = v[j] * b + (1.0 - b) * ge * ge
        m[j] = mj
        v[j] = vj
        denom = np.sqrt(vj / (1.0 - q2)) + eps[j]
        xj = xj + (-lrt * (1.0 - mu) / (1.0 - mp)) * ge / denom
        xj = xj + ((-lrt) * mu_next / (1.0 - mp * mu_next)) * mj / denom
        x[j] = clip(xj)


NADAM = Kernel(
    "nadam",
    nadam_step,
    ("beta1", "beta2", "eps", "momentum_decay"),
    {"m": 0.0, "v": 0.0, "mu_product": 1.0, "beta2_power": 1.0},
)
