"""The compiled block runner shared by every update rule of the simulator (numba).

A *kernel* is one njit'd function that advances a block of configurations over a segment of
steps::

    kernel(t0, t1, clock, x, r, p, s)

for t = t0 .. t1 - 1, with ``x`` and ``r`` the iterates and regrets, ``p`` and ``s`` tuples of
:data:`MAX_ROWS` 1-D arrays, the rows of parameters and state named by the kernel's
:class:`Kernel` layout (empty past the last), and ``clock = (ti, tf, ck, ox, orr)`` the block's
problem, schedule and checkpoints.  Rows 0-2 of ``p`` are always ``lr``, ``weight_decay`` and
``sign`` (-1 when maximizing).  Its body is the same few lines around the update::

    ti, tf, ck, ox, orr = clock
    for t in range(t0, t1):
        g, lrf = tick(ti, tf, t)          # g_t and lr_t / lr
        for j in range(x.shape[0]):
            xj, ge = observe(j, g, tf[XSTAR], x, r, wd, sign)   # regret, effective gradient
            x[j] = clip(...)                                      # the update, projected
        tock(ti, ck, ox, orr, t, x, r)    # record a checkpoint

The time loop is the kernel's own (not the runner's) so that it unpacks its rows once per segment:
a per-step kernel called from the runner's loop measured 20-30% slower on the atlas batch (numba
reference-counts every unpacked row, every step).  ``ti[FLAGS]`` holds the block's flag bits
(from the rule's ``pack``).

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
globals and a fingerprint of the kernel's source file and of ``_moments.py`` in its closure:
numba's on-disk cache keys on the closure, so every runner is cached separately and editing a
kernel's file recompiles its runner (numba alone only notices edits to the runner's own file).
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
def observe(j, g, xs, x, r, wd, sign):
    """Book-keeping of configuration ``j`` before its update: returns (x_t, effective gradient).

    Adds g_t (x_t - x*) to the regret and returns ``sign * g + weight_decay * x_t`` (coupled
    weight decay; ``maximize`` flips the sign as torch does).  ``wd`` and ``sign`` are the rows
    ``p[1]`` and ``p[2]``.
    """
    xj = x[j]
    r[j] += g * (xj - xs)
    return xj, sign[j] * g + wd[j] * xj


#: most parameter rows (common ones included) and state rows a kernel may have.
MAX_ROWS = 10


@njit(inline="always", **JIT)
def _row(a, k, s, e):
    if k < a.shape[0]:
        return a[k, s:e].copy()
    return np.empty(0, dtype=np.float64)


@njit(inline="always", **JIT)
def _rows(a, s, e):
    # Each row of a[:, s:e] as its own allocation (empty past the last row): LLVM then knows that
    # a kernel's rows do not overlap and vectorizes its loop without per-step overlap checks,
    # which cost ~20% when the rows were views of one block.
    return (
        _row(a, 0, s, e), _row(a, 1, s, e), _row(a, 2, s, e), _row(a, 3, s, e), _row(a, 4, s, e),
        _row(a, 5, s, e), _row(a, 6, s, e), _row(a, 7, s, e), _row(a, 8, s, e), _row(a, 9, s, e),
    )  # fmt: skip


@dataclass(frozen=True)
class Kernel:
    """An update rule's compiled kernel (``advance``) and the names of its parameter and state rows.

    ``params`` are the rows after :data:`COMMON_PARAMS`; ``state`` maps each state row's name to
    its initial value, a float or the name of a parameter row to copy (AdaGrad's accumulator
    starts at ``initial_accumulator_value``).  The kernel unpacks rows in exactly this order.
    ``order`` maps the parameter rows (arrays, one entry per configuration) to sort keys, most
    significant first (configurations that take the same branches should share a block); the
    default, no keys, keeps the given order.
    """

    name: str
    advance: Callable
    params: tuple[str, ...] = ()
    state: Mapping[str, float | str] = field(default_factory=dict)
    order: Callable[[Mapping[str, np.ndarray]], tuple] = lambda p: ()

    def __post_init__(self) -> None:
        if len(self.param_rows) > MAX_ROWS or len(self.state) > MAX_ROWS:
            raise ValueError(f"kernel {self.name}: at most {MAX_ROWS} parameter and state rows")

    @property
    def param_rows(self) -> tuple[str, ...]:
        """All parameter rows: the common ones, then the kernel's own."""
        return (*COMMON_PARAMS, *self.params)

    @cached_property
    def run_segment(self) -> Callable:
        """The compiled segment runner of this kernel (see the module docstring)."""
        return runner(self.advance, self.name)


#: columns of the runner's integer and float block tables (``ci``: the next checkpoint, set here).
BLOCK_INT = ("start", "stop", "flags", "phase", "period", "pcode", "sched", "key", "ci")
BLOCK_FLOAT = ("big", "small", "prob", "xstar")
FLAGS, PHASE, PERIOD, PCODE, SCHED, KEY, CI = 2, 3, 4, 5, 6, 7, 8
BIG, SMALL, PROB, XSTAR = 0, 1, 2, 3


@njit(inline="always", **JIT)
def tick(ti, tf, t):
    """(g_t, schedule factor) of step ``t``; advances a periodic problem's phase in ``ti``."""
    if ti[PCODE] == 0:
        ph = ti[PHASE]
        g = tf[BIG] if ph == 0 else -tf[SMALL]
        ph += 1
        if ph == ti[PERIOD]:
            ph = 0
        ti[PHASE] = ph
    else:
        g = tf[BIG] if uniform(np.uint64(ti[KEY]), t) < tf[PROB] else -tf[SMALL]
    lrf = 1.0 / np.sqrt(t) if ti[SCHED] == 1 else 1.0
    return g, lrf


@njit(inline="always", **JIT)
def tock(ti, ck, ox, orr, t, x, r):
    """Record x and R_t / t if step ``t`` is the next checkpoint."""
    ci = ti[CI]
    if ci < ck.shape[0] and ck[ci] == t:
        for j in range(x.shape[0]):
            ox[j, ci] = x[j]
            orr[j, ci] = r[j] / t
        ti[CI] = ci + 1


def _template():
    fingerprint = None

    def run_segment(t0, t1, bint, bflt, P, S, X, R, ck, ci0, outX, outR):
        fingerprint  # noqa: B018 -- in the closure, hence in numba's cache key
        for bi in prange(bint.shape[0]):
            s, e = bint[bi, 0], bint[bi, 1]
            ti = bint[bi].copy()
            ti[PHASE] = (t0 - bint[bi, PHASE]) % bint[bi, PERIOD]
            ci = ci0
            while ci < ck.shape[0] and ck[ci] < t0:
                ci += 1
            ti[CI] = ci
            # Block-local C-contiguous copies (slices have unknown layout and would not vectorize).
            x = X[s:e].copy()
            r = R[s:e].copy()
            p = _rows(P, s, e)
            st = _rows(S, s, e)
            clock = (ti, bflt[bi].copy(), ck, outX[s:e], outR[s:e])
            _kernel(t0, t1, clock, x, r, p, st)  # noqa: F821 -- bound by runner()
            X[s:e] = x
            R[s:e] = r
            for k in range(S.shape[0]):
                S[k, s:e] = st[k]

    return run_segment


_TEMPLATE = _template()
_MOMENTS = Path(__file__).with_name("_moments.py")


def runner(kernel: Callable, name: str) -> Callable:
    """The template runner with ``kernel`` inlined, cached on disk under its own name."""
    # The kernels inline the moment helpers of _moments.py: an edit there must recompile too.
    source = Path(inspect.getfile(kernel.py_func)).read_bytes() + _MOMENTS.read_bytes()
    fingerprint = f"{name}:{hashlib.sha256(source).hexdigest()}"
    fn = types.FunctionType(
        _TEMPLATE.__code__,
        {**_TEMPLATE.__globals__, "_kernel": kernel},
        f"run_segment_{name}",
        None,
        (types.CellType(fingerprint),),
    )
    fn.__qualname__ = f"run_segment_{name}"
    return njit(parallel=True, **JIT)(fn)
