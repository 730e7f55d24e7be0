"""One compiled kernel for the Adam family: Adam (and AdamW), AMSGrad in every flavor, AdamNC.

As in :mod:`beyondadam.optim._adam_family`, every member takes the same step, driven by
per-step scalars (here per configuration, since a block mixes hyperparameters)::

    m <- b1_t m + (1 - b1_t) g,   v <- b2_t v + (1 - b2_t) g^2,   h = max(vhat, v) or v,
    x <- clip(x - step_t m / (sqrt(h) / c_t + eps))

with b1_t constant, geometric (b1 lambda^(t-1)) or inverse (b1 / t); b2_t constant or 1 - 1/t
(AdamNC); and one of three bias modes: none (step_t = lr_t, c_t = 1: AMSGrad's paper flavor,
AdamNC), torch's (step_t = lr_t / (1 - prod b1), c_t = sqrt(1 - b2^t): Adam, AMSGrad's pytorch
flavor) or debiased moving averages (the optax flavor: b1_t and b2_t replaced by
b_t (1 - P_{t-1}) / (1 - P_t), so m and v hold the bias-corrected moments, as the optim class
does).  Bias-correction powers are running products.  Once 1 - P_t rounds to exactly 1.0 for a
whole block (checked every 128 steps) the bias mode is switched off: from then on it is the
identity, bit for bit, and the step costs one sqrt and one division instead of two and three.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from beyondadam.sim._runner import FLAGS, JIT, XSTAR, Kernel, clip, observe, tick, tock

# Flag bits (set by the rules' pack functions, see beyondadam.sim.rules).  The kernel clears the
# bias bits of a block once its products round away.
DECAY_GEOMETRIC, DECAY_INVERSE = 1, 2  # bits 0-1: the beta1 schedule (0: constant)
BIAS_TORCH, BIAS_DEBIASED = 4, 8  # bits 2-3: the bias mode (0: none)
MAX = 16  # AMSGrad: keep the running maximum of v
DECOUPLED = 32  # AdamW: decay the iterate, not the gradient
NC = 64  # AdamNC: b2_t = 1 - 1/t
_BIAS = BIAS_TORCH | BIAS_DEBIASED
_SPECIAL = 3 | DECOUPLED | NC  # with none of these, a block takes one of the vectorized paths


@njit(inline="always", **JIT)
def _unbiased(p1, p2):
    # True when 1 - P1 and 1 - P2 round to exactly 1.0 for every configuration.
    for j in range(p1.shape[0]):
        if 1.0 - p1[j] != 1.0 or 1.0 - p2[j] != 1.0:
            return False
    return True


@njit(inline="always", **JIT)
def _pass(t, g, lrf, xs, x, r, p, s, decay, bias, amax, decoupled, nc):
    # One step of every configuration of the block (see the module docstring).
    lr, wd, sg, b1, b2, eps, lam = p[0], p[1], p[2], p[3], p[4], p[5], p[6]
    m, v, vh, pw1, pw2, lamp = s[0], s[1], s[2], s[3], s[4], s[5]
    b2_nc = 1.0 - 1.0 / t
    for j in range(x.shape[0]):
        xj, ge = observe(j, g, xs, x, r, wd, sg)
        lrt = lr[j] * lrf
        if decoupled:
            xj = xj * (1.0 - lrt * wd[j])
            ge = sg[j] * g
        a = b1[j]
        if decay == DECAY_GEOMETRIC:
            lp = lamp[j]
            a = a * lp
            lamp[j] = lp * lam[j]
        elif decay == DECAY_INVERSE:
            a = a / t
        b = b2_nc if nc else b2[j]
        q1 = 1.0
        q2 = 1.0
        if bias != 0:
            p1 = pw1[j]
            p2 = pw2[j]
            q1 = p1 * a
            q2 = p2 * b
            pw1[j] = q1
            pw2[j] = q2
            if bias == BIAS_DEBIASED:
                a = a * (1.0 - p1) / (1.0 - q1)
                b = b * (1.0 - p2) / (1.0 - q2)
        mj = m[j] * a + (1.0 - a) * ge
        vj = v[j] * b + (1.0 - b) * ge * ge
        m[j] = mj
        v[j] = vj
        h = vj
        if amax:
            h = max(vh[j], vj)
            vh[j] = h
        if bias == BIAS_TORCH:
            step = lrt / (1.0 - q1)
            x[j] = clip(xj + (-step) * mj / (np.sqrt(h) / np.sqrt(1.0 - q2) + eps[j]))
        else:
            x[j] = clip(xj + (-lrt) * mj / (np.sqrt(h) + eps[j]))


@njit(inline="always", **JIT)
def _run(t0, t1, clock, x, r, p, s, decay, bias, amax, decoupled, nc):
    # Steps t0 .. t1 - 1 in fixed modes; called with constant modes, LLVM drops their branches and
    # vectorizes.  Each hot combination gets a time loop of its own: one loop choosing among the
    # combinations every step measured 15-25% slower on the atlas batch.
    ti, tf, ck, ox, orr = clock
    xs = tf[XSTAR]
    for t in range(t0, t1):
        g, lrf = tick(ti, tf, t)
        _pass(t, g, lrf, xs, x, r, p, s, decay, bias, amax, decoupled, nc)
        tock(ti, ck, ox, orr, t, x, r)


@njit(inline="always", **JIT)
def adam_family(t0, t1, clock, x, r, p, s):
    """Advance a block of the Adam family from step t0 to t1 - 1 (see the module docstring)."""
    f = clock[0][FLAGS]
    t = t0
    while t < t1:
        if (f & _BIAS) != 0 and (t & 127) == 0 and _unbiased(s[3], s[4]):
            f &= ~_BIAS  # from now on the identity, bit for bit
        # Up to the next multiple of 128, where the products are checked again.
        stop = t1 if (f & _BIAS) == 0 else min(t1, (t // 128 + 1) * 128)
        if (f & _SPECIAL) != 0 or (f & BIAS_DEBIASED) != 0:
            decoupled, nc = (f & DECOUPLED) != 0, (f & NC) != 0
            _run(t, stop, clock, x, r, p, s, f & 3, f & _BIAS, (f & MAX) != 0, decoupled, nc)
        elif f == MAX:
            _run(t, stop, clock, x, r, p, s, 0, 0, True, False, False)
        elif f == 0:
            _run(t, stop, clock, x, r, p, s, 0, 0, False, False, False)
        elif f == BIAS_TORCH | MAX:
            _run(t, stop, clock, x, r, p, s, 0, BIAS_TORCH, True, False, False)
        else:  # BIAS_TORCH: Adam
            _run(t, stop, clock, x, r, p, s, 0, BIAS_TORCH, False, False, False)
        t = stop


def _order(p) -> tuple:
    # Blocks leave the bias-corrected phase when their slowest product rounds away, which is
    # when max(beta1, beta2)^t does: sort by it so that blocks switch to the cheap step together.
    return (max(p["beta1"], p["beta2"]), p["beta2"], p["beta1"])


ADAM_FAMILY = Kernel(
    "adam_family",
    adam_family,
    params=("beta1", "beta2", "eps", "beta1_decay"),
    state={"m": 0.0, "v": 0.0, "vhat": 0.0, "beta1_power": 1.0, "beta2_power": 1.0,
           "decay_power": 1.0},
    order=_order,
)  # fmt: skip
