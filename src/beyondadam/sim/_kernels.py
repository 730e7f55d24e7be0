"""Compiled kernels of the simulator outside the Adam family (numba).

Each kernel advances one block of configurations over a segment of steps (the signature, the
row conventions and the shape of the time loop are in :mod:`beyondadam.sim._runner`) and is
declared beside its :class:`Kernel` layout, which names its parameter rows (after ``lr``,
``weight_decay``, ``sign``) and its state rows with their initial values; the kernel unpacks the
rows in that order.  The arithmetic
follows :mod:`beyondadam.optim` (i.e. ``torch.optim``) operation by operation in float64, without
fastmath.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from beyondadam.sim._moments import ema, ema_sq, power
from beyondadam.sim._runner import FLAGS, JIT, XSTAR, Kernel, clip, observe, tick, tock

NESTEROV = 1  # Momentum kernel: NAG
CENTERED, HEAVY_BALL = 1, 2  # RMSProp kernel: centered; momentum > 0


@njit(inline="always", **JIT)
def sgd(t0, t1, clock, x, r, p, s):
    """Plain SGD: x <- x - lr_t g."""
    ti, tf, ck, ox, orr = clock
    lr, wd, sg = p[0], p[1], p[2]
    xs = tf[XSTAR]
    for t in range(t0, t1):
        g, lrf = tick(ti, tf, t)
        for j in range(x.shape[0]):
            xj, ge = observe(j, g, xs, x, r, wd, sg)
            x[j] = clip(xj + (-(lr[j] * lrf)) * ge)
        tock(ti, ck, ox, orr, t, x, r)


SGD = Kernel("sgd", sgd)


@njit(inline="always", **JIT)
def momentum(t0, t1, clock, x, r, p, s):
    """Heavy ball (torch.optim.SGD with momentum) or, with ``NESTEROV``, Nesterov's variant."""
    ti, tf, ck, ox, orr = clock
    lr, wd, sg = p[0], p[1], p[2]
    mu, damp, buf = p[3], p[4], s[0]
    xs = tf[XSTAR]
    nesterov = (ti[FLAGS] & NESTEROV) != 0
    for t in range(t0, t1):
        g, lrf = tick(ti, tf, t)
        for j in range(x.shape[0]):
            xj, ge = observe(j, g, xs, x, r, wd, sg)
            if t == 1:
                b = ge
            else:
                b = buf[j] * mu[j] + (1.0 - damp[j]) * ge
            buf[j] = b
            if nesterov:
                d = ge + mu[j] * b
            else:
                d = b
            x[j] = clip(xj + (-(lr[j] * lrf)) * d)
        tock(ti, ck, ox, orr, t, x, r)


MOMENTUM = Kernel("momentum", momentum, ("momentum", "dampening"), {"momentum_buffer": 0.0})


@njit(inline="always", **JIT)
def adagrad(t0, t1, clock, x, r, p, s):
    """AdaGrad with torch's ``lr_decay``; the accumulator starts at its initial value."""
    ti, tf, ck, ox, orr = clock
    lr, wd, sg = p[0], p[1], p[2]
    lr_decay, eps, acc = p[3], p[4], s[0]
    xs = tf[XSTAR]
    for t in range(t0, t1):
        g, lrf = tick(ti, tf, t)
        for j in range(x.shape[0]):
            xj, ge = observe(j, g, xs, x, r, wd, sg)
            clr = (lr[j] * lrf) / (1.0 + (t - 1) * lr_decay[j])
            sq = acc[j] + ge * ge
            acc[j] = sq
            x[j] = clip(xj + (-clr) * ge / (np.sqrt(sq) + eps[j]))
        tock(ti, ck, ox, orr, t, x, r)


ADAGRAD = Kernel(
    "adagrad",
    adagrad,
    ("lr_decay", "eps", "initial_accumulator_value"),
    {"sum": "initial_accumulator_value"},
)


@njit(inline="always", **JIT)
def rmsprop(t0, t1, clock, x, r, p, s):
    """RMSProp, optionally ``CENTERED`` and with a ``HEAVY_BALL`` momentum buffer."""
    ti, tf, ck, ox, orr = clock
    lr, wd, sg = p[0], p[1], p[2]
    alpha, mom, eps = p[3], p[4], p[5]
    sq, gavg, buf = s[0], s[1], s[2]
    xs = tf[XSTAR]
    centered = (ti[FLAGS] & CENTERED) != 0
    heavy = (ti[FLAGS] & HEAVY_BALL) != 0
    for t in range(t0, t1):
        g, lrf = tick(ti, tf, t)
        for j in range(x.shape[0]):
            xj, ge = observe(j, g, xs, x, r, wd, sg)
            a = alpha[j]
            v = ema_sq(sq, j, a, ge)
            if centered:
                ga = gavg[j] + (1.0 - a) * (ge - gavg[j])
                gavg[j] = ga
                avg = np.sqrt(v + (-1.0) * ga * ga) + eps[j]
            else:
                avg = np.sqrt(v) + eps[j]
            if heavy:
                b = buf[j] * mom[j] + ge / avg
                buf[j] = b
                x[j] = clip(xj + (-(lr[j] * lrf)) * b)
            else:
                x[j] = clip(xj + (-(lr[j] * lrf)) * ge / avg)
        tock(ti, ck, ox, orr, t, x, r)


RMSPROP = Kernel(
    "rmsprop",
    rmsprop,
    ("alpha", "momentum", "eps"),
    {"square_avg": 0.0, "grad_avg": 0.0, "momentum_buffer": 0.0},
)


@njit(inline="always", **JIT)
def adadelta(t0, t1, clock, x, r, p, s):
    """AdaDelta: the step is rescaled by the running RMS of past steps."""
    ti, tf, ck, ox, orr = clock
    lr, wd, sg = p[0], p[1], p[2]
    rho, eps, sq, accd = p[3], p[4], s[0], s[1]
    xs = tf[XSTAR]
    for t in range(t0, t1):
        g, lrf = tick(ti, tf, t)
        for j in range(x.shape[0]):
            xj, ge = observe(j, g, xs, x, r, wd, sg)
            q = rho[j]
            v = ema_sq(sq, j, q, ge)
            std = np.sqrt(v + eps[j])
            delta = np.sqrt(accd[j] + eps[j]) / std * ge
            ema_sq(accd, j, q, delta)
            x[j] = clip(xj + (-(lr[j] * lrf)) * delta)
        tock(ti, ck, ox, orr, t, x, r)


ADADELTA = Kernel("adadelta", adadelta, ("rho", "eps"), {"square_avg": 0.0, "acc_delta": 0.0})


@njit(inline="always", **JIT)
def nadam(t0, t1, clock, x, r, p, s):
    """NAdam with torch's momentum schedule mu_t = beta1 (1 - 0.96^(t psi) / 2)."""
    ti, tf, ck, ox, orr = clock
    lr, wd, sg = p[0], p[1], p[2]
    b1, b2, eps, psi = p[3], p[4], p[5], p[6]
    m, v, mup, p2 = s[0], s[1], s[2], s[3]
    xs = tf[XSTAR]
    for t in range(t0, t1):
        g, lrf = tick(ti, tf, t)
        for j in range(x.shape[0]):
            xj, ge = observe(j, g, xs, x, r, wd, sg)
            lrt = lr[j] * lrf
            a = b1[j]
            b = b2[j]
            q2 = power(p2, j, b)
            mu = a * (1.0 - 0.5 * 0.96 ** (t * psi[j]))
            mu_next = a * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi[j]))
            # torch.optim.NAdam keeps mu_product as a float32 scalar tensor; so do we.
            mp = np.float64(np.float32(mup[j]) * np.float32(mu))
            mup[j] = mp
            mj = ema(m, j, a, ge)
            vj = ema_sq(v, j, b, ge)
            denom = np.sqrt(vj / (1.0 - q2)) + eps[j]
            xj = xj + (-lrt * (1.0 - mu) / (1.0 - mp)) * ge / denom
            xj = xj + ((-lrt) * mu_next / (1.0 - mp * mu_next)) * mj / denom
            x[j] = clip(xj)
        tock(ti, ck, ox, orr, t, x, r)


NADAM = Kernel(
    "nadam",
    nadam,
    ("beta1", "beta2", "eps", "momentum_decay"),
    {"m": 0.0, "v": 0.0, "mu_product": 1.0, "beta2_power": 1.0},
)
