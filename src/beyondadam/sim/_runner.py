"""The compiled block runner shared by every update rule of the simulator (numba).

A *kernel* is one njit'd function that advances a block of configurations by one step::

    step(t, g, lrf, xs, flags, x, r, p, s)

with ``t`` the step (1-based), ``g`` the gradient g_t, ``lrf`` the schedule factor (lr_t = lr *
lrf), ``xs`` the optimum x*, ``flags`` a 1-element int64 array holding the block's flag bits (the
kernel may set bits of its own there, e.g. "bias corrections are exactly 1"), ``x`` and ``r`` the
iterates and regrets, and ``p`` and ``s`` C-contiguous (rows, configs) arrays of parameters and
state whose rows are named by the kernel's :class:`Kernel` layout.  Rows 0-2 of ``p`` are always
``lr``, ``weight_decay`` and ``sign`` (-1 when maximizing), read by :func:`observe`.

:func:`runner` turns a kernel into its own ``parallel=True`` segment runner: ``prange`` over
blocks; inside a block the loop is time-outer, configuration-inner, so g_t and the schedule factor
are computed once per step and the kernel's inner loop is a branch-free pass over contiguous
per-configuration arrays (which LLVM vectorizes).  State lives in ``S[row, config]`` so a run can
be split into segments and resumed bit for bit.

Why one runner per kernel, chosen in Python per group of blocks, rather than one runner with a
``kind`` ladder: numba cannot call a dict (or tuple) of functions at runtime without its
experimental first-class functions, which defeat ``prange``; a runner per kernel needs no ladder
at all, compiles only the kernels a batch uses, and keeps each kernel's state rows its own.  Each
runner is the template :func:`_template` re-bound (``types.FunctionType``) with ``_kernel`` in its
globals and a fingerprint of the kernel's source file in its closure: numba's on-disk cache keys on
the closure, so every runner is cached separately and editing a kernel's file recompiles its
runner (numba alone only notices edits to the runner's own file).
"""

from __future__ import annotations

import hashlib
import inspect
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from numba import njit, prange

JIT = {"cache": True, "error_model": "numpy", "fastmath": False, "nogil": True}
#: parameter rows every kernel has, in this order (see :func:`observe`).
COMMON_PARAMS = ("lr", "weight_decay", "sign")

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0


@njit(inline="always", **JIT)
def uniform(key, t):
    """The stochastic problems' uniform draw for step ``t`` (splitmix64 of key + t * gamma)."""
    z = key + np.uint64(t) * _GAMMA
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    z = z ^ (z >> _S31)
    return np.float64(z >> _S11) * _INV53


@njit(inline="always", **JIT)
def clip(v):
    """The projection onto F = [-1, 1]."""
    return min(max(v, -1.0), 1.0)


@njit(inline="always", **JIT)
def observe(j, g, xs, x, r, p):
    """Book-keeping of configuration ``j`` before its update: returns (x_t, effective gradient).

    Adds g_t (x_t - x*) to the regret and returns ``sign * g + weight_decay * x_t`` (coupled
    weight decay; ``maximize`` flips the sign as torch does).
    """
    xj = x[j]
    r[j] += g * (xj - xs)
    return xj, p[2, j] * g + p[1, j] * xj


@dataclass(frozen=True)
class Kernel:
    """An update rule's compiled step and the names of its parameter and state rows.

    ``params`` are the rows after :data:`COMMON_PARAMS`; ``state`` maps each state row's name to
    its initial value, a float or the name of a parameter row to copy (AdaGrad's accumulator
    starts at ``initial_accumulator_value``).  The kernel unpacks rows in exactly this order.
    ``order`` sorts a configuration's parameters into blocks (configurations that take the same
    branches should share a block); the default keeps the given order.
    """

    name: str
    step: Callable
    params: tuple[str, ...] = ()
    state: Mapping[str, float | str] = field(default_factory=dict)
    order: Callable[[Mapping[str, float]], tuple] = lambda p: ()

    @property
    def param_rows(self) -> tuple[str, ...]:
        """All parameter rows: the common ones, then the kernel's own."""
        return (*COMMON_PARAMS, *self.params)

    @cached_property
    def run_segment(self) -> Callable:
        """The compiled segment runner of this kernel (see the module docstring)."""
        return runner(self.step, self.name)


def _template():
    fingerprint = None

    def run_segment(t0, t1, bint, bflt, P, S, X, R, ck, ci0, outX, outR):
        fingerprint  # noqa: B018 -- in the closure, hence in numba's cache key
        nck = ck.shape[0]
        for bi in prange(bint.shape[0]):
            s, e = bint[bi, 0], bint[bi, 1]
            big, small, prob, xs = bflt[bi, 0], bflt[bi, 1], bflt[bi, 2], bflt[bi, 3]
            period, pcode, sched = bint[bi, 4], bint[bi, 5], bint[bi, 6]
            key = np.uint64(bint[bi, 7])
            ph = (t0 - bint[bi, 3]) % period
            flags = np.empty(1, dtype=np.int64)
            flags[0] = bint[bi, 2]
            # Block-local C-contiguous copies (slices have unknown layout and would not vectorize).
            x = X[s:e].copy()
            r = R[s:e].copy()
            p = P[:, s:e].copy()
            st = S[:, s:e].copy()
            ci = ci0
            while ci < nck and ck[ci] < t0:
                ci += 1
            for t in range(t0, t1):
                if pcode == 0:
                    g = big if ph == 0 else -small
                    ph += 1
                    if ph == period:
                        ph = 0
                else:
                    g = big if uniform(key, t) < prob else -small
                lrf = 1.0 / np.sqrt(t) if sched == 1 else 1.0
                _kernel(t, g, lrf, xs, flags, x, r, p, st)  # noqa: F821 -- bound by runner()
                if ci < nck and ck[ci] == t:
                    for j in range(e - s):
                        outX[s + j, ci] = x[j]
                        outR[s + j, ci] = r[j] / t
                    ci += 1
            X[s:e] = x
            R[s:e] = r
            S[:, s:e] = st

    return run_segment


_TEMPLATE = _template()
#: columns of the runner's integer and float block tables.
BLOCK_INT = ("start", "stop", "flags", "phase", "period", "pcode", "sched", "key")
BLOCK_FLOAT = ("big", "small", "prob", "xstar")


def runner(step: Callable, name: str) -> Callable:
    """The template runner with ``step`` as its kernel, cached on disk under its own name."""
    source = Path(inspect.getfile(step.py_func)).read_bytes()
    fingerprint = f"{name}:{hashlib.sha256(source).hexdigest()}"
    fn = types.FunctionType(
        _TEMPLATE.__code__,
        {**_TEMPLATE.__globals__, "_kernel": step},
        f"run_segment_{name}",
        None,
        (types.CellType(fingerprint),),
    )
    fn.__qualname__ = f"run_segment_{name}"
    return njit(parallel=True, **JIT)(fn)
