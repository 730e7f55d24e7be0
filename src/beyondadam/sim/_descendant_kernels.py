"""Compiled kernels of the descendants whose step is not the Adam family's shape (numba).

ADOPT (the gradient normalised by the previous second moment, then clipped, enters the
momentum), Yogi (an additive, sign-driven second moment) and AdaBound / AMSBound (each step size
clipped into closing bounds).  Layouts and conventions are those of :mod:`beyondadam.sim._kernels`;
the arithmetic follows the :mod:`beyondadam.optim` classes' single-tensor paths operation by
operation in float64, with bias-correction powers kept as running products (the classes take
``beta**t``; the two differ by a few ulps).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from beyondadam.sim._moments import ema, ema_sq, power
from beyondadam.sim._runner import FLAGS, JIT, XSTAR, Kernel, clip, observe, tick, tock

DECOUPLED, NO_CLIP = 1, 2  # ADOPT: decoupled weight decay; clip_exponent=None
OPTAX = 1  # Yogi: optax's flavor (bias-corrected moments)
AMSBOUND = 1  # AdaBound kernel: keep the running maximum of v


@njit(inline="always", **JIT)
def adopt(t0, t1, clock, x, r, p, s):
    """ADOPT: step 1 only initialises v = g^2; then m takes clip(g / max(sqrt(v), eps), (t-1)^p)."""
    ti, tf, ck, ox, orr = clock
    lr, wd, sg = p[0], p[1], p[2]
    b1, b2, eps, pc = p[3], p[4], p[5], p[6]
    m, v = s[0], s[1]
    xs = tf[XSTAR]
    decoupled = (ti[FLAGS] & DECOUPLED) != 0
    clipped = (ti[FLAGS] & NO_CLIP) == 0
    for t in range(t0, t1):
        g, lrf = tick(ti, tf, t)
        if t == 1:
            for j in range(x.shape[0]):
                xj, ge = observe(j, g, xs, x, r, wd, sg)
                v[j] = v[j] + ge * ge
                x[j] = clip(xj)
        else:
            for j in range(x.shape[0]):
                xj, ge = observe(j, g, xs, x, r, wd, sg)
                lrt = lr[j] * lrf
                if decoupled:
                    xj = xj * (1.0 - lrt * wd[j])
                    ge = sg[j] * g
                vj = v[j]
                u = ge / max(np.sqrt(vj), eps[j])
                if clipped:
                    c = np.float64(t - 1) ** pc[j]
                    u = min(max(u, -c), c)
                mj = ema(m, j, b1[j], u)
                x[j] = clip(xj + (-lrt) * mj)
                ema_sq(v, j, b2[j], ge)
        tock(ti, ck, ox, orr, t, x, r)


ADOPT = Kernel("adopt", adopt, ("beta1", "beta2", "eps", "clip_exponent"), {"m": 0.0, "v": 0.0})


@njit(inline="always", **JIT)
def yogi(t0, t1, clock, x, r, p, s):
    """Yogi: v <- v - (1 - b2) sign(v - g^2) g^2; ``OPTAX`` bias-corrects both moments."""
    ti, tf, ck, ox, orr = clock
    lr, wd, sg = p[0], p[1], p[2]
    b1, b2, eps = p[3], p[4], p[5]
    m, v, pw1, pw2 = s[0], s[1], s[2], s[3]
    xs = tf[XSTAR]
    optax = (ti[FLAGS] & OPTAX) != 0
    for t in range(t0, t1):
        g, lrf = tick(ti, tf, t)
        for j in range(x.shape[0]):
            xj, ge = observe(j, g, xs, x, r, wd, sg)
            lrt = lr[j] * lrf
            a = b1[j]
            b = b2[j]
            mj = ema(m, j, a, ge)
            g2 = ge * ge
            dv = v[j] - g2
            sgn = 1.0 if dv > 0.0 else (-1.0 if dv < 0.0 else 0.0)
            vj = v[j] + (-(1.0 - b)) * sgn * g2
            v[j] = vj
            if optax:
                q1 = power(pw1, j, a)
                q2 = power(pw2, j, b)
                d = np.sqrt(vj) / np.sqrt(1.0 - q2) + eps[j]
                x[j] = clip(xj + (-(lrt / (1.0 - q1))) * mj / d)
            else:
                x[j] = clip(xj + (-lrt) * mj / (np.sqrt(vj) + eps[j]))
        tock(ti, ck, ox, orr, t, x, r)


YOGI = Kernel(
    "yogi",
    yogi,
    ("beta1", "beta2", "eps", "initial_accumulator_value", "initial_m"),
    {"m": "initial_m", "v": "initial_accumulator_value", "beta1_power": 1.0, "beta2_power": 1.0},
)


@njit(inline="always", **JIT)
def adabound(t0, t1, clock, x, r, p, s):
    """AdaBound (``AMSBOUND``: AMSBound) with clipped per-configuration step sizes.

    eta_t = clip(lr_t sqrt(1 - b2^t) / (1 - b1^t) / (sqrt(h) + eps), final (1 - 1/(gamma t + 1)),
    final (1 + 1/(gamma t))) with final = final_lr lr_t / lr (a schedule decays the bounds with
    lr, as the class does) and h = v, or max(vhat, v) in AMSBound; x <- x - eta_t m.
    """
    ti, tf, ck, ox, orr = clock
    lr, wd, sg = p[0], p[1], p[2]
    b1, b2, eps, flr, gam = p[3], p[4], p[5], p[6], p[7]
    m, v, vh, pw1, pw2 = s[0], s[1], s[2], s[3], s[4]
    xs = tf[XSTAR]
    amax = (ti[FLAGS] & AMSBOUND) != 0
    for t in range(t0, t1):
        g, lrf = tick(ti, tf, t)
        for j in range(x.shape[0]):
            xj, ge = observe(j, g, xs, x, r, wd, sg)
            lrt = lr[j] * lrf
            a = b1[j]
            b = b2[j]
            mj = ema(m, j, a, ge)
            vj = ema_sq(v, j, b, ge)
            h = vj
            if amax:
                h = max(vh[j], vj)
                vh[j] = h
            q1 = power(pw1, j, a)
            q2 = power(pw2, j, b)
            step = lrt * np.sqrt(1.0 - q2) / (1.0 - q1)
            base = lr[j]
            final = flr[j] * lrt / base if base > 0.0 else flr[j]
            low = final * (1.0 - 1.0 / (gam[j] * t + 1.0))
            high = final * (1.0 + 1.0 / (gam[j] * t))
            eta = min(max((1.0 / (np.sqrt(h) + eps[j])) * step, low), high)
            x[j] = clip(xj + (-eta) * mj)
        tock(ti, ck, ox, orr, t, x, r)


ADABOUND = Kernel(
    "adabound",
    adabound,
    ("beta1", "beta2", "eps", "final_lr", "gamma"),
    {"m": 0.0, "v": 0.0, "vhat": 0.0, "beta1_power": 1.0, "beta2_power": 1.0},
)
