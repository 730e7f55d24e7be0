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

The descendants whose step has the same shape set further bits, all on the general path (the
Adam and AMSGrad fast paths never see them):

- NosAdam (``NOS``): b2_t = B_{t-1} / B_t = 1 - b_t / B_t with b_k = k^-gamma, B_t a state row;
- AdamX (``RESCALE``): h = max(c_t vhat, v) with c_t = ((1 - b1_t) / (1 - b1_{t-1}))^2, the
  previous b1_t a state row;
- Padam (``POWER``, only when partial != 1/2; partial = 1/2 is AMSGrad's paper path exactly):
  h^partial in place of sqrt(h);
- RAdam (``RECTIFY``): with rho_t from the running product of beta2, momentum SGD
  x <- x - lr_t / (1 - b1^t) m while rho_t <= 5, else the step lr_t r_t sqrt(1 - b2^t) / (1 - b1^t)
  on m / (sqrt(v) + eps); once r_t and both corrections round to 1.0 for a whole block (checked
  every 128 steps, as for the bias modes) the bit is cleared and the step is the plain one;
- AdaBelief (``BELIEF``): v is s_t = b2 s + (1 - b2) (g - m_t)^2 + eps; with ``RECTIFY`` its own
  threshold (rho_t < 5 is SGD) and step lr_t sqrt((1 - b2^t) r_t^2) / (1 - b1^t), with ``MAX``
  and torch's bias mode otherwise (the optim class's equations).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from beyondadam.sim._moments import ema, ema_sq
from beyondadam.sim._runner import FLAGS, JIT, XSTAR, Kernel, clip, observe, tick, tock

# Flag bits (set by the rules' pack functions, see beyondadam.sim.rules).  The kernel clears the
# bias bits of a block once its products round away.
DECAY_GEOMETRIC, DECAY_INVERSE = 1, 2  # bits 0-1: the beta1 schedule (0: constant)
BIAS_TORCH, BIAS_DEBIASED = 4, 8  # bits 2-3: the bias mode (0: none)
MAX = 16  # AMSGrad: keep the running maximum of v
DECOUPLED = 32  # AdamW: decay the iterate, not the gradient
NC = 64  # AdamNC: b2_t = 1 - 1/t
NOS = 128  # NosAdam: b2_t = 1 - b_t / B_t
RESCALE = 256  # AdamX: rescale vhat by ((1 - b1_t) / (1 - b1_{t-1}))^2 before the max
POWER = 512  # Padam: h^partial in place of sqrt(h)
RECTIFY = 1024  # RAdam (and AdaBelief's rectify): momentum SGD, then rectified steps
BELIEF = 2048  # AdaBelief: the second moment of g - m_t, plus eps
_BIAS = BIAS_TORCH | BIAS_DEBIASED
_DESCENDANTS = NOS | RESCALE | POWER | RECTIFY | BELIEF
# With none of these, a block takes one of the vectorized paths.
_SPECIAL = 3 | DECOUPLED | NC | _DESCENDANTS
#: RAdam's rho_t above which the step is rectified (AdaBelief: at or above).
RHO_THRESHOLD = 5.0


@njit(inline="always", **JIT)
def _unbiased(p1, p2):
    # True when 1 - P1 and 1 - P2 round to exactly 1.0 for every configuration.
    for j in range(p1.shape[0]):
        if 1.0 - p1[j] != 1.0 or 1.0 - p2[j] != 1.0:
            return False
    return True


@njit(inline="always", **JIT)
def _settled(t, b2, p1, p2):
    # True when, for every configuration, the rectified step has become lr_t exactly for good:
    # 1 - P1 and 1 - P2 round to 1.0, rho_inf > 5 and rho_t (at step t, the last one taken)
    # rounds to rho_inf, so r_t = 1 bit for bit; 2 t b2^t only decreases from then on (b2^t <
    # 1e-16 puts t past its maximum).  The products are then zeroed: a resumed segment, whose
    # flags start over, computes the same identity (rho_t = rho_inf) until its first check.
    for j in range(p1.shape[0]):
        q2 = p2[j]
        rho_inf = 2.0 / (1.0 - b2[j]) - 1.0
        if 1.0 - p1[j] != 1.0 or 1.0 - q2 != 1.0 or not rho_inf > RHO_THRESHOLD:
            return False
        if rho_inf - 2.0 * t * q2 / (1.0 - q2) != rho_inf:
            return False
    p1[:] = 0.0
    p2[:] = 0.0
    return True


@njit(inline="always", **JIT)
def _rectified(t, lrt, b2, q1, q2, belief):
    # The step size of a rectified step, or -1.0 while rho_t is under the threshold (momentum
    # SGD); each class's own order of operations (RAdam: r_t sqrt(1 - b2^t); AdaBelief: one sqrt).
    rho_inf = 2.0 / (1.0 - b2) - 1.0
    rho = rho_inf - 2.0 * t * q2 / (1.0 - q2)
    if rho < RHO_THRESHOLD or (rho == RHO_THRESHOLD and not belief):
        return -1.0
    ratio = (rho - 4.0) * (rho - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho)
    if belief:
        return lrt * np.sqrt((1.0 - q2) * ratio) / (1.0 - q1)
    return lrt * np.sqrt(ratio) * np.sqrt(1.0 - q2) / (1.0 - q1)


@njit(inline="always", **JIT)
def _pass(t, g, lrf, xs, x, r, p, s, decay, bias, amax, decoupled, nc, desc):
    # One step of every configuration of the block (see the module docstring); ``desc`` holds
    # the descendants' bits (0 on every path of Adam, AMSGrad and AdamNC).
    lr, wd, sg, b1, b2, eps, lam = p[0], p[1], p[2], p[3], p[4], p[5], p[6]
    gam, pw = p[7], p[8]
    m, v, vh, pw1, pw2, lamp = s[0], s[1], s[2], s[3], s[4], s[5]
    wsum, b1p = s[6], s[7]
    nos = (desc & NOS) != 0
    rescale = (desc & RESCALE) != 0
    power = (desc & POWER) != 0
    rect = (desc & RECTIFY) != 0
    belief = (desc & BELIEF) != 0
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
        if nos:
            bt = np.float64(t) ** -gam[j]
            bsum = wsum[j] + bt
            wsum[j] = bsum
            b = 1.0 - bt / bsum
        q1 = 1.0
        q2 = 1.0
        if bias != 0 or rect:
            p1 = pw1[j]
            p2 = pw2[j]
            q1 = p1 * a
            q2 = p2 * b
            pw1[j] = q1
            pw2[j] = q2
            if bias == BIAS_DEBIASED:
                a = a * (1.0 - p1) / (1.0 - q1)
                b = b * (1.0 - p2) / (1.0 - q2)
        mj = ema(m, j, a, ge)
        if belief:
            dv = ge - mj
            vj = v[j] * b + (1.0 - b) * dv * dv + eps[j]
            v[j] = vj
        else:
            vj = ema_sq(v, j, b, ge)
        h = vj
        if amax:
            hp = vh[j]
            if rescale:
                c = (1.0 - a) / (1.0 - b1p[j])
                b1p[j] = a
                hp = hp * (c * c)
            h = max(hp, vj)
            vh[j] = h
        if rect:
            step = _rectified(t, lrt, b2[j], q1, q2, belief)
            if step < 0.0:
                x[j] = clip(xj + (-(lrt / (1.0 - q1))) * mj)
            else:
                x[j] = clip(xj + (-step) * mj / (np.sqrt(h) + eps[j]))
        elif bias == BIAS_TORCH:
            step = lrt / (1.0 - q1)
            x[j] = clip(xj + (-step) * mj / (np.sqrt(h) / np.sqrt(1.0 - q2) + eps[j]))
        elif power:
            x[j] = clip(xj + (-lrt) * mj / (h ** pw[j] + eps[j]))
        else:
            x[j] = clip(xj + (-lrt) * mj / (np.sqrt(h) + eps[j]))


@njit(inline="always", **JIT)
def _run(t0, t1, clock, x, r, p, s, decay, bias, amax, decoupled, nc, desc):
    # Steps t0 .. t1 - 1 in fixed modes; called with constant modes, LLVM drops their branches and
    # vectorizes.  Each hot combination gets a time loop of its own: one loop choosing among the
    # combinations every step measured 15-25% slower on the atlas batch.
    ti, tf, ck, ox, orr = clock
    xs = tf[XSTAR]
    for t in range(t0, t1):
        g, lrf = tick(ti, tf, t)
        _pass(t, g, lrf, xs, x, r, p, s, decay, bias, amax, decoupled, nc, desc)
        tock(ti, ck, ox, orr, t, x, r)


@njit(inline="always", **JIT)
def adam_family(t0, t1, clock, x, r, p, s):
    """Advance a block of the Adam family from step t0 to t1 - 1 (see the module docstring)."""
    f = clock[0][FLAGS]
    t = t0
    while t < t1:
        if (f & _BIAS) != 0 and (t & 127) == 0 and _unbiased(s[3], s[4]):
            f &= ~_BIAS  # from now on the identity, bit for bit
        if (f & RECTIFY) != 0 and (t & 127) == 0 and _settled(t - 1, p[4], s[3], s[4]):
            f &= ~RECTIFY  # from now on the plain step, bit for bit
        # Up to the next multiple of 128, where the products are checked again.  The hot
        # combinations each get a _run of their own (see _run); RAdam and AdaBelief measured
        # 4-7x faster on their own paths than on the general one.
        stop = t1 if (f & (_BIAS | RECTIFY)) == 0 else min(t1, (t // 128 + 1) * 128)
        if f == RECTIFY:  # RAdam
            _run(t, stop, clock, x, r, p, s, 0, 0, False, False, False, RECTIFY)
        elif f == RECTIFY | BELIEF:  # AdaBelief
            _run(t, stop, clock, x, r, p, s, 0, 0, False, False, False, RECTIFY | BELIEF)
        elif f == BELIEF:  # AdaBelief, rectified for good
            _run(t, stop, clock, x, r, p, s, 0, 0, False, False, False, BELIEF)
        elif (f & _SPECIAL) != 0 or (f & BIAS_DEBIASED) != 0:
            decoupled, nc = (f & DECOUPLED) != 0, (f & NC) != 0
            amax, desc = (f & MAX) != 0, f & _DESCENDANTS
            _run(t, stop, clock, x, r, p, s, f & 3, f & _BIAS, amax, decoupled, nc, desc)
        elif f == MAX:
            _run(t, stop, clock, x, r, p, s, 0, 0, True, False, False, 0)
        elif f == 0:
            _run(t, stop, clock, x, r, p, s, 0, 0, False, False, False, 0)
        elif f == BIAS_TORCH | MAX:
            _run(t, stop, clock, x, r, p, s, 0, BIAS_TORCH, True, False, False, 0)
        else:  # BIAS_TORCH: Adam
            _run(t, stop, clock, x, r, p, s, 0, BIAS_TORCH, False, False, False, 0)
        t = stop


def _order(p) -> tuple:
    # Blocks leave the bias-corrected phase when their slowest product rounds away, which is
    # when max(beta1, beta2)^t does: sort by it so that blocks switch to the cheap step together.
    return (np.maximum(p["beta1"], p["beta2"]), p["beta2"], p["beta1"])


ADAM_FAMILY = Kernel(
    "adam_family",
    adam_family,
    params=("beta1", "beta2", "eps", "beta1_decay", "gamma", "partial"),
    state={"m": 0.0, "v": 0.0, "vhat": 0.0, "beta1_power": 1.0, "beta2_power": 1.0,
           "decay_power": 1.0, "weight_sum": 0.0, "beta1_previous": "beta1"},
    order=_order,
)  # fmt: skip
