"""Compiled kernels of the simulator (numba).

Layout: configurations are sorted into *blocks* that share the update rule, its flag bits, the
learning-rate schedule and the gradient sequence (problem and seed).  ``prange`` runs over blocks;
inside a block the loop is time-outer, configuration-inner, so the gradient g_t and the schedule
factor are computed once per step and the inner loop is a branch-free pass over contiguous
per-configuration arrays (which LLVM vectorizes).  State lives in ``S[k, config]`` arrays so a run
can be split into segments (progress bar, bounded memory) and resumed bit-for-bit.

The arithmetic follows :mod:`beyondadam.optim` (i.e. ``torch.optim``) operation by operation in
float64, without fastmath; the bias-correction powers beta^t are running products.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from beyondadam.sim import optimizers as oc

N_STATE = 6
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0

_JIT = {"cache": True, "error_model": "numpy", "fastmath": False, "nogil": True}


@njit(inline="always", **_JIT)
def _uniform(key, t):
    z = key + np.uint64(t) * _GAMMA
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    z = z ^ (z >> _S31)
    return np.float64(z >> _S11) * _INV53


@njit(inline="always", **_JIT)
def _clip(v):
    return min(max(v, -1.0), 1.0)


@njit(inline="always", **_JIT)
def _sgd(g, lrf, xs, x, r, lr, wd, sg):
    for j in range(x.shape[0]):
        xj = x[j]
        r[j] += g * (xj - xs)
        ge = sg[j] * g + wd[j] * xj
        x[j] = _clip(xj + (-(lr[j] * lrf)) * ge)


@njit(inline="always", **_JIT)
def _momentum(t, g, lrf, xs, nesterov, x, r, lr, mu, damp, wd, sg, buf):
    for j in range(x.shape[0]):
        xj = x[j]
        r[j] += g * (xj - xs)
        ge = sg[j] * g + wd[j] * xj
        if t == 1:
            b = ge
        else:
            b = buf[j] * mu[j] + (1.0 - damp[j]) * ge
        buf[j] = b
        if nesterov:
            d = ge + mu[j] * b
        else:
            d = b
        x[j] = _clip(xj + (-(lr[j] * lrf)) * d)


@njit(inline="always", **_JIT)
def _adagrad(t, g, lrf, xs, x, r, lr, lr_decay, eps, wd, sg, acc):
    for j in range(x.shape[0]):
        xj = x[j]
        r[j] += g * (xj - xs)
        ge = sg[j] * g + wd[j] * xj
        clr = (lr[j] * lrf) / (1.0 + (t - 1) * lr_decay[j])
        s = acc[j] + ge * ge
        acc[j] = s
        x[j] = _clip(xj + (-clr) * ge / (np.sqrt(s) + eps[j]))


@njit(inline="always", **_JIT)
def _rmsprop(g, lrf, xs, centered, use_mom, x, r, lr, alpha, mom, eps, wd, sg, sq, gavg, buf):
    # One branch-free loop per variant, so that each one vectorizes.
    if centered:
        for j in range(x.shape[0]):
            xj = x[j]
            r[j] += g * (xj - xs)
            ge = sg[j] * g + wd[j] * xj
            a = alpha[j]
            s = sq[j] * a + (1.0 - a) * ge * ge
            sq[j] = s
            ga = gavg[j] + (1.0 - a) * (ge - gavg[j])
            gavg[j] = ga
            avg = np.sqrt(s + (-1.0) * ga * ga) + eps[j]
            if use_mom:
                b = buf[j] * mom[j] + ge / avg
                buf[j] = b
                x[j] = _clip(xj + (-(lr[j] * lrf)) * b)
            else:
                x[j] = _clip(xj + (-(lr[j] * lrf)) * ge / avg)
    elif use_mom:
        for j in range(x.shape[0]):
            xj = x[j]
            r[j] += g * (xj - xs)
            ge = sg[j] * g + wd[j] * xj
            a = alpha[j]
            s = sq[j] * a + (1.0 - a) * ge * ge
            sq[j] = s
            b = buf[j] * mom[j] + ge / (np.sqrt(s) + eps[j])
            buf[j] = b
            x[j] = _clip(xj + (-(lr[j] * lrf)) * b)
    else:
        for j in range(x.shape[0]):
            xj = x[j]
            r[j] += g * (xj - xs)
            ge = sg[j] * g + wd[j] * xj
            a = alpha[j]
            s = sq[j] * a + (1.0 - a) * ge * ge
            sq[j] = s
            x[j] = _clip(xj + (-(lr[j] * lrf)) * ge / (np.sqrt(s) + eps[j]))


@njit(inline="always", **_JIT)
def _adadelta(g, lrf, xs, x, r, lr, rho, eps, wd, sg, sq, accd):
    for j in range(x.shape[0]):
        xj = x[j]
        r[j] += g * (xj - xs)
        ge = sg[j] * g + wd[j] * xj
        p = rho[j]
        s = sq[j] * p + (1.0 - p) * ge * ge
        sq[j] = s
        std = np.sqrt(s + eps[j])
        delta = np.sqrt(accd[j] + eps[j]) / std * ge
        accd[j] = accd[j] * p + (1.0 - p) * delta * delta
        x[j] = _clip(xj + (-(lr[j] * lrf)) * delta)


@njit(inline="always", **_JIT)
def _adam(g, lrf, xs, x, r, lr, b1, b2, eps, wd, sg, m, v, p1, p2):
    for j in range(x.shape[0]):
        xj = x[j]
        r[j] += g * (xj - xs)
        ge = sg[j] * g + wd[j] * xj
        a = b1[j]
        b = b2[j]
        mj = m[j] * a + (1.0 - a) * ge
        vj = v[j] * b + (1.0 - b) * ge * ge
        m[j] = mj
        v[j] = vj
        q1 = p1[j] * a
        q2 = p2[j] * b
        p1[j] = q1
        p2[j] = q2
        step = (lr[j] * lrf) / (1.0 - q1)
        denom = np.sqrt(vj) / np.sqrt(1.0 - q2) + eps[j]
        x[j] = _clip(xj + (-step) * mj / denom)


@njit(inline="always", **_JIT)
def _unbiased(p1, p2):
    # True when 1 - beta1^t and 1 - beta2^t round to exactly 1.0 for every configuration: from
    # then on dividing by them (or by their square roots) is the identity, bit for bit.
    for j in range(p1.shape[0]):
        if 1.0 - p1[j] != 1.0 or 1.0 - p2[j] != 1.0:
            return False
    return True


@njit(inline="always", **_JIT)
def _adam_unbiased(g, lrf, xs, x, r, lr, b1, b2, eps, wd, sg, m, v):
    # _adam once both bias corrections are exactly 1.0 (same results, 1 sqrt and 1 div fewer).
    for j in range(x.shape[0]):
        xj = x[j]
        r[j] += g * (xj - xs)
        ge = sg[j] * g + wd[j] * xj
        a = b1[j]
        b = b2[j]
        mj = m[j] * a + (1.0 - a) * ge
        vj = v[j] * b + (1.0 - b) * ge * ge
        m[j] = mj
        v[j] = vj
        x[j] = _clip(xj + (-(lr[j] * lrf)) * mj / (np.sqrt(vj) + eps[j]))


@njit(inline="always", **_JIT)
def _adamw(g, lrf, xs, x, r, lr, b1, b2, eps, wd, sg, m, v, p1, p2):
    # Adam with decoupled weight decay: x <- x (1 - lr_t wd) before the Adam step.
    for j in range(x.shape[0]):
        xj = x[j]
        r[j] += g * (xj - xs)
        lrt = lr[j] * lrf
        xj = xj * (1.0 - lrt * wd[j])
        ge = sg[j] * g
        a = b1[j]
        b = b2[j]
        mj = m[j] * a + (1.0 - a) * ge
        vj = v[j] * b + (1.0 - b) * ge * ge
        m[j] = mj
        v[j] = vj
        q1 = p1[j] * a
        q2 = p2[j] * b
        p1[j] = q1
        p2[j] = q2
        step = lrt / (1.0 - q1)
        denom = np.sqrt(vj) / np.sqrt(1.0 - q2) + eps[j]
        x[j] = _clip(xj + (-step) * mj / denom)


@njit(inline="always", **_JIT)
def _nadam(t, g, lrf, xs, x, r, lr, b1, b2, eps, wd, sg, psi, m, v, mup, p2):
    for j in range(x.shape[0]):
        xj = x[j]
        r[j] += g * (xj - xs)
        lrt = lr[j] * lrf
        ge = sg[j] * g + wd[j] * xj
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
        x[j] = _clip(xj)


@njit(inline="always", **_JIT)
def _beta1_fill(mode, t, b1, lam, lamp, out):
    # out = b1_t: b1 * lam^(t-1) (running product lamp) for mode 1, b1 / t for mode 2.
    if mode == 1:
        for j in range(out.shape[0]):
            lp = lamp[j]
            out[j] = b1[j] * lp
            lamp[j] = lp * lam[j]
    else:
        for j in range(out.shape[0]):
            out[j] = b1[j] / t


@njit(inline="always", **_JIT)
def _amsgrad_paper(g, lrf, xs, x, r, lr, b1t, b2, eps, wd, sg, m, v, vh):
    # No bias correction, max over the raw v.
    for j in range(x.shape[0]):
        xj = x[j]
        r[j] += g * (xj - xs)
        ge = sg[j] * g + wd[j] * xj
        a = b1t[j]
        b = b2[j]
        mj = m[j] * a + (1.0 - a) * ge
        vj = v[j] * b + (1.0 - b) * ge * ge
        m[j] = mj
        v[j] = vj
        h = max(vh[j], vj)
        vh[j] = h
        x[j] = _clip(xj + (-(lr[j] * lrf)) * mj / (np.sqrt(h) + eps[j]))


@njit(inline="always", **_JIT)
def _amsgrad_pytorch(g, lrf, xs, x, r, lr, b1t, b2, eps, wd, sg, m, v, vh, p1, p2):
    # torch.optim.Adam(amsgrad=True): max over the raw v, then both bias corrections.
    for j in range(x.shape[0]):
        xj = x[j]
        r[j] += g * (xj - xs)
        ge = sg[j] * g + wd[j] * xj
        a = b1t[j]
        b = b2[j]
        mj = m[j] * a + (1.0 - a) * ge
        vj = v[j] * b + (1.0 - b) * ge * ge
        m[j] = mj
        v[j] = vj
        q1 = p1[j] * a
        q2 = p2[j] * b
        p1[j] = q1
        p2[j] = q2
        h = max(vh[j], vj)
        vh[j] = h
        step = (lr[j] * lrf) / (1.0 - q1)
        denom = np.sqrt(h) / np.sqrt(1.0 - q2) + eps[j]
        x[j] = _clip(xj + (-step) * mj / denom)


@njit(inline="always", **_JIT)
def _amsgrad_optax(g, lrf, xs, x, r, lr, b1t, b2, eps, wd, sg, m, v, vh, p1, p2):
    # optax.amsgrad: max over the bias-corrected v.
    for j in range(x.shape[0]):
        xj = x[j]
        r[j] += g * (xj - xs)
        ge = sg[j] * g + wd[j] * xj
        a = b1t[j]
        b = b2[j]
        mj = m[j] * a + (1.0 - a) * ge
        vj = v[j] * b + (1.0 - b) * ge * ge
        m[j] = mj
        v[j] = vj
        q1 = p1[j] * a
        q2 = p2[j] * b
        p1[j] = q1
        p2[j] = q2
        h = max(vh[j], vj / (1.0 - q2))
        vh[j] = h
        mh = mj / (1.0 - q1)
        x[j] = _clip(xj + (-(lr[j] * lrf)) * mh / (np.sqrt(h) + eps[j]))


@njit(inline="always", **_JIT)
def _adamnc(t, g, lrf, xs, x, r, lr, b1t, eps, wd, sg, m, v):
    # beta2_t = 1 - 1/t: v_t is the mean of g_1^2 .. g_t^2.
    b2 = 1.0 - 1.0 / t
    for j in range(x.shape[0]):
        xj = x[j]
        r[j] += g * (xj - xs)
        ge = sg[j] * g + wd[j] * xj
        a = b1t[j]
        mj = m[j] * a + (1.0 - a) * ge
        vj = v[j] * b2 + (1.0 - b2) * ge * ge
        m[j] = mj
        v[j] = vj
        x[j] = _clip(xj + (-(lr[j] * lrf)) * mj / (np.sqrt(vj) + eps[j]))


@njit(parallel=True, **_JIT)
def run_segment(
    t0, t1, bstart, bstop, bkind, bflags, bsched, bpcode, bbig, bsmall, bperiod, bphase, bprob,
    bkey, bxstar, P, S, X, R, ck, ci0, outX, outR,
):  # fmt: skip
    """Advance every block from step t0 to step t1 - 1 (inclusive), recording checkpoints."""
    nck = ck.shape[0]
    for bi in prange(bstart.shape[0]):
        s = bstart[bi]
        e = bstop[bi]
        kind = bkind[bi]
        flags = bflags[bi]
        mode = flags & 3
        xs = bxstar[bi]
        big = bbig[bi]
        small = bsmall[bi]
        period = bperiod[bi]
        ph = (t0 - bphase[bi]) % period
        # Block-local C-contiguous copies (slices have unknown layout and would not vectorize).
        x = X[s:e].copy()
        r = R[s:e].copy()
        lr = P[oc.R_LR, s:e].copy()
        pa = P[oc.R_A, s:e].copy()
        pb = P[oc.R_B, s:e].copy()
        eps = P[oc.R_EPS, s:e].copy()
        wd = P[oc.R_WD, s:e].copy()
        lam = P[oc.R_LAM, s:e].copy()
        sg = P[oc.R_SIGN, s:e].copy()
        pi = P[oc.R_INIT, s:e].copy()
        s0 = S[0, s:e].copy()
        s1 = S[1, s:e].copy()
        s2 = S[2, s:e].copy()
        s3 = S[3, s:e].copy()
        s4 = S[4, s:e].copy()
        s5 = S[5, s:e].copy()
        b1t = np.empty(e - s) if mode != 0 else pa
        unbiased = False
        ci = ci0
        while ci < nck and ck[ci] < t0:
            ci += 1
        for t in range(t0, t1):
            if bpcode[bi] == 0:
                g = big if ph == 0 else -small
                ph += 1
                if ph == period:
                    ph = 0
            else:
                g = big if _uniform(bkey[bi], t) < bprob[bi] else -small
            lrf = 1.0 / np.sqrt(t) if bsched[bi] == 1 else 1.0
            if kind == oc.SGD:
                _sgd(g, lrf, xs, x, r, lr, wd, sg)
            elif kind == oc.MOMENTUM or kind == oc.NAG:
                _momentum(t, g, lrf, xs, kind == oc.NAG, x, r, lr, pa, pb, wd, sg, s0)
            elif kind == oc.ADAGRAD:
                _adagrad(t, g, lrf, xs, x, r, lr, pb, eps, wd, sg, s0)
            elif kind == oc.RMSPROP:
                centered = (flags & oc.F_CENTERED) != 0
                use_mom = (flags & oc.F_MOMENTUM) != 0
                _rmsprop(g, lrf, xs, centered, use_mom, x, r, lr, pa, pb, eps, wd, sg, s0, s1, s2)
            elif kind == oc.ADADELTA:
                _adadelta(g, lrf, xs, x, r, lr, pa, eps, wd, sg, s0, s1)
            elif kind == oc.ADAM:
                if not unbiased and (t & 127) == 0:
                    unbiased = _unbiased(s2, s3)
                if unbiased and (flags & oc.F_DECOUPLED) == 0:
                    _adam_unbiased(g, lrf, xs, x, r, lr, pa, pb, eps, wd, sg, s0, s1)
                elif (flags & oc.F_DECOUPLED) != 0:
                    _adamw(g, lrf, xs, x, r, lr, pa, pb, eps, wd, sg, s0, s1, s2, s3)
                else:
                    _adam(g, lrf, xs, x, r, lr, pa, pb, eps, wd, sg, s0, s1, s2, s3)
            elif kind == oc.NADAM:
                _nadam(t, g, lrf, xs, x, r, lr, pa, pb, eps, wd, sg, pi, s0, s1, s2, s3)
            else:
                if mode != 0:
                    _beta1_fill(mode, t, pa, lam, s3, b1t)
                if kind == oc.ADAMNC:
                    _adamnc(t, g, lrf, xs, x, r, lr, b1t, eps, wd, sg, s0, s1)
                elif kind == oc.AMSGRAD_PAPER:
                    _amsgrad_paper(g, lrf, xs, x, r, lr, b1t, pb, eps, wd, sg, s0, s1, s2)
                else:
                    if not unbiased and (t & 127) == 0:
                        unbiased = _unbiased(s4, s5)
                    if unbiased:  # every flavor reduces to the paper's update, bit for bit
                        _amsgrad_paper(g, lrf, xs, x, r, lr, b1t, pb, eps, wd, sg, s0, s1, s2)
                    elif kind == oc.AMSGRAD_PYTORCH:
                        _amsgrad_pytorch(
                            g, lrf, xs, x, r, lr, b1t, pb, eps, wd, sg, s0, s1, s2, s4, s5
                        )
                    else:
                        _amsgrad_optax(
                            g, lrf, xs, x, r, lr, b1t, pb, eps, wd, sg, s0, s1, s2, s4, s5
                        )
            if ci < nck and ck[ci] == t:
                for j in range(e - s):
                    outX[s + j, ci] = x[j]
                    outR[s + j, ci] = r[j] / t
                ci += 1
        X[s:e] = x
        R[s:e] = r
        S[0, s:e] = s0
        S[1, s:e] = s1
        S[2, s:e] = s2
        S[3, s:e] = s3
        S[4, s:e] = s4
        S[5, s:e] = s5
