"""Packing a batch of configurations for the compiled runners, and running one segment.

Configurations are grouped by kernel (one compiled runner each, see
:mod:`beyondadam.sim._runner`), then into *blocks* of at most ``block`` configurations that share
the flag bits, the schedule and the gradient sequence (problem and seed).  Each kernel group has
its own parameter and state matrices, whose rows are the ones its :class:`Kernel` names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from beyondadam.sim._runner import BLOCK_FLOAT, BLOCK_INT, Kernel
from beyondadam.sim.problems import seed_key

SCHEDULES = ("inverse_sqrt", "constant")


@dataclass
class Group:
    """The configurations of one kernel: positions ``lo:hi`` of the packed order."""

    kernel: Kernel
    lo: int
    hi: int
    bint: np.ndarray  # (blocks, len(BLOCK_INT)) int64
    bflt: np.ndarray  # (blocks, len(BLOCK_FLOAT)) float64
    P: np.ndarray  # (parameter rows, configs)
    S: np.ndarray  # (state rows, configs)
    X: np.ndarray
    R: np.ndarray


@dataclass
class Packed:
    """A packed batch: ``order[pos]`` is the index (in the given configs) of packed position pos."""

    order: np.ndarray
    groups: list[Group]


def block_key(problem: Any, schedule: str, seed: int, flags: int) -> tuple:
    """What the configurations of one block must share: flags, schedule and gradient sequence."""
    pr = problem
    seed = seed if pr.stochastic else 0
    return (flags, SCHEDULES.index(schedule), pr.code, pr.big, pr.small, pr.period, pr.phase,
            pr.p, seed, pr.optimum)  # fmt: skip


@dataclass
class Columns:
    """Configurations of one kernel and one :func:`block_key`, as arrays.

    ``rows`` holds every parameter row of the kernel (shape (n,) each), ``x0`` the start points
    and ``index`` the configurations' positions in the caller's order.
    """

    kernel: Kernel
    key: tuple
    rows: dict[str, np.ndarray]
    x0: np.ndarray
    index: np.ndarray


def _group(kernel: Kernel, lo: int, parts: list[Columns], block: int) -> tuple[Group, np.ndarray]:
    by_key: dict[tuple, list[Columns]] = {}
    for part in parts:
        by_key.setdefault(part.key, []).append(part)
    order, rows, x0, ints, flts = [], [], [], [], []
    n = 0
    for key, same in by_key.items():
        cols = {name: np.concatenate([c.rows[name] for c in same]) for name in kernel.param_rows}
        # Configurations that take the same branches at the same time share a block (a stable
        # sort, as sorted() on the kernel's key tuples).
        keys = kernel.order(cols)
        perm = np.lexsort(tuple(reversed(keys))) if keys else np.arange(len(cols["lr"]))
        order.append(np.concatenate([c.index for c in same])[perm])
        rows.append({name: col[perm] for name, col in cols.items()})
        x0.append(np.concatenate([c.x0 for c in same])[perm])
        flags, sched, pcode, big, small, period, phase, p, seed, xstar = key
        skey = int(np.array(seed_key(seed), dtype=np.uint64).view(np.int64))
        for start in range(n, n + perm.size, block):
            row = dict(start=start, stop=min(start + block, n + perm.size), flags=flags,
                       phase=phase, period=period, pcode=pcode, sched=int(sched == 0), key=skey,
                       ci=0)  # fmt: skip
            ints.append([row[name] for name in BLOCK_INT])
            flts.append([big, small, p, xstar])
        n += perm.size
    P = np.array([np.concatenate([r[name] for r in rows]) for name in kernel.param_rows])
    S = np.empty((len(kernel.state), n), dtype=np.float64)
    for k, v in enumerate(kernel.state.values()):
        S[k] = P[kernel.param_rows.index(v)] if isinstance(v, str) else v
    group = Group(
        kernel,
        lo,
        lo + n,
        np.asarray(ints, dtype=np.int64).reshape(-1, len(BLOCK_INT)),
        np.asarray(flts, dtype=np.float64).reshape(-1, len(BLOCK_FLOAT)),
        P.astype(np.float64, copy=False).reshape(len(kernel.param_rows), n),
        S,
        np.concatenate(x0).astype(np.float64),
        np.zeros(n, dtype=np.float64),
    )
    return group, np.concatenate(order)


def pack_columns(parts: Sequence[Columns], block: int) -> Packed:
    """Group column sets by kernel (in order of first appearance), then into blocks.

    Within a kernel, sets with the same block key are merged (in the given order) and sorted by
    the kernel's ``order``, as :func:`pack` does one configuration at a time.
    """
    by_kernel: dict[str, list[Columns]] = {}
    for part in parts:
        by_kernel.setdefault(part.kernel.name, []).append(part)
    order: list[np.ndarray] = []
    groups = []
    lo = 0
    for same in by_kernel.values():
        group, gorder = _group(same[0].kernel, lo, same, block)
        groups.append(group)
        order.append(gorder)
        lo = group.hi
    return Packed(np.concatenate(order).astype(np.int64), groups)


def pack(configs: Sequence[Any], block: int) -> Packed:
    """Group ``configs`` (:class:`~beyondadam.sim.engine.Config`) by kernel and into blocks."""
    members: dict[tuple, list[int]] = {}
    kernels: dict[str, Kernel] = {}
    packed = []
    for i, c in enumerate(configs):
        params, flags = c.optimizer.pack()
        packed.append(params)
        kernel = c.optimizer.rule.kernel
        kernels[kernel.name] = kernel
        key = block_key(c.problem, c.schedule, c.seed, flags)
        members.setdefault((kernel.name, key), []).append(i)
    parts = []
    for (name, key), idx in members.items():
        kernel = kernels[name]
        rows = {name: np.array([packed[i][name] for i in idx]) for name in kernel.param_rows}
        x0 = np.array([float(configs[i].x0) for i in idx], dtype=np.float64)
        parts.append(Columns(kernel, key, rows, x0, np.asarray(idx, dtype=np.int64)))
    return pack_columns(parts, block)


def advance(pk: Packed, t0: int, t1: int, ck: np.ndarray, ci0: int, outX, outR) -> None:
    """Run steps ``t0 .. t1 - 1`` of every group, recording the checkpoints ``ck[ci0:]``."""
    for g in pk.groups:
        g.kernel.run_segment(
            t0, t1, g.bint, g.bflt, g.P, g.S, g.X, g.R, ck, ci0, outX[g.lo : g.hi],
            outR[g.lo : g.hi],
        )  # fmt: skip


_COMPILED: set[str] = set()


def compile_kernel(kernel: Kernel) -> None:
    """Compile (or load from numba's cache) a kernel's runner, by running it on no blocks."""
    if kernel.name in _COMPILED:
        return
    rows, states = len(kernel.param_rows), len(kernel.state)
    out = np.zeros((1, 1))
    kernel.run_segment(
        1, 2, np.zeros((0, len(BLOCK_INT)), dtype=np.int64),
        np.zeros((0, len(BLOCK_FLOAT))), np.zeros((rows, 1)), np.zeros((states, 1)),
        np.zeros(1), np.zeros(1), np.array([1], dtype=np.int64), 0, out, out.copy(),
    )  # fmt: skip
    _COMPILED.add(kernel.name)
