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

from beyondadam.sim._runner import JIT, Kernel, clip, observe

# Flag bits (set by the rules' pack functions, see beyondadam.sim.rules).
DECAY_GEOMETRIC, DECAY_INVERSE = 1, 2  # bits 0-1: the beta1 schedule (0: constant)
BIAS_TORCH, BIAS_DEBIASED = 4, 8  # bits 2-3: the bias mode (0: none)
MAX = 16  # AMSGrad: keep the running maximum of v
DECOUPLED = 32  # AdamW: decay the iterate, not the gradient
NC = 64  # AdamNC: b2_t = 1 - 1/t
_UNBIASED = 1 << 32  # runtime: both products round away for the whole block
_SPECIAL = 3 | DECOUPLED | NC  # with none of these and no bias mode, the fast paths apply


@njit(inline="always", **JIT)
def _unbiased(p1, p2):
    # True when 1 - P1 and 1 - P2 round to exactly 1.0 for every configuration.
    for j in range(p1.shape[0]):
        if 1.0 - p1[j] != 1.0 or 1.0 - p2[j] != 1.0:
            return False
    return True


@njit(inline="always", **JIT)
def _pass(t, g, lrf, xs, x, r, p, s, decay, bias, amax, decoupled, nc):
    # Rows: p = lr, weight_decay, sign, beta1, beta2, eps, beta1_decay;
    #       s = m, v, vhat, beta1_power, beta2_power, decay_power.
    b2_nc = 1.0 - 1.0 / t
    for j in range(x.shape[0]):
        xj, ge = observe(j, g, xs, x, r, p)
        lrt = p[0, j] * lrf
        if decoupled:
            xj = xj * (1.0 - lrt * p[1, j])
            ge = p[2, j] * g
        a = p[3, j]
        if decay == DECAY_GEOMETRIC:
            lp = s[5, j]
            a = a * lp
            s[5, j] = lp * p[6, j]
        elif decay == DECAY_INVERSE:
            a = a / t
        b = b2_nc if nc else p[4, j]
        q1 = 1.0
        q2 = 1.0
        if bias != 0:
            p1 = s[3, j]
            p2 = s[4, j]
            q1 = p1 * a
            q2 = p2 * b
            s[3, j] = q1
            s[4, j] = q2
            if bias == BIAS_DEBIASED:
                a = a * (1.0 - p1) / (1.0 - q1)
                b = b * (1.0 - p2) / (1.0 - q2)
        mj = s[0, j] * a + (1.0 - a) * ge
        vj = s[1, j] * b + (1.0 - b) * ge * ge
        s[0, j] = mj
        s[1, j] = vj
        h = vj
        if amax:
            h = max(s[2, j], vj)
            s[2, j] = h
        if bias == BIAS_TORCH:
            step = lrt / (1.0 - q1)
            x[j] = clip(xj + (-step) * mj / (np.sqrt(h) / np.sqrt(1.0 - q2) + p[5, j]))
        else:
            x[j] = clip(xj + (-lrt) * mj / (np.sqrt(h) + p[5, j]))


@njit(inline="always", **JIT)
def adam_family_step(t, g, lrf, xs, flags, x, r, p, s):
    """One step of a block of the Adam family (see the module docstring)."""
    f = flags[0]
    if (f & (BIAS_TORCH | BIAS_DEBIASED)) != 0 and (f & _UNBIASED) == 0 and (t & 127) == 0:
        if _unbiased(s[3], s[4]):
            f |= _UNBIASED
            flags[0] = f
    bias = 0 if (f & _UNBIASED) != 0 else f & (BIAS_TORCH | BIAS_DEBIASED)
    if bias == 0 and (f & _SPECIAL) == 0:
        # Fast paths, with every mode a constant so that LLVM drops the branches and vectorizes.
        if (f & MAX) != 0:
            _pass(t, g, lrf, xs, x, r, p, s, 0, 0, True, False, False)
        else:
            _pass(t, g, lrf, xs, x, r, p, s, 0, 0, False, False, False)
    else:
        decay = f & 3
        decoupled = (f & DECOUPLED) != 0
        _pass(t, g, lrf, xs, x, r, p, s, decay, bias, (f & MAX) != 0, decoupled, (f & NC) != 0)


def _order(p) -> tuple:
    # Blocks leave the bias-corrected phase when their slowest product rounds away, which is
    # when max(beta1, beta2)^t does: sort by it so that blocks switch to the cheap step together.
    return (max(p["beta1"], p["beta2"]), p["beta2"], p["beta1"])


ADAM_FAMILY = Kernel(
    "adam_family",
    adam_family_step,
    params=("beta1", "beta2", "eps", "beta1_decay"),
    state={"m": 0.0, "v": 0.0, "vhat": 0.0, "beta1_power": 1.0, "beta2_power": 1.0,
           "decay_power": 1.0},
    order=_order,
)  # fmt: skip
