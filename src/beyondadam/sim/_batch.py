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


def _block_key(c: Any, flags: int) -> tuple:
    pr = c.problem
    seed = c.seed if pr.stochastic else 0
    return (flags, SCHEDULES.index(c.schedule), pr.code, pr.big, pr.small, pr.period, pr.phase,
            pr.p, seed, pr.optimum)  # fmt: skip


def _group(kernel: Kernel, lo: int, members, configs, packed, block: int) -> tuple[Group, list]:
    by_key: dict[tuple, list[int]] = {}
    for i in members:
        by_key.setdefault(_block_key(configs[i], packed[i][1]), []).append(i)
    order: list[int] = []
    ints, flts = [], []
    for key, idx in by_key.items():
        # Configurations that take the same branches at the same time share a block.
        idx = sorted(idx, key=lambda i: kernel.order(packed[i][0]))
        flags, sched, pcode, big, small, period, phase, p, seed, xstar = key
        skey = int(np.array(seed_key(seed), dtype=np.uint64).view(np.int64))
        for b in range(0, len(idx), block):
            chunk = idx[b : b + block]
            start = len(order)
            order.extend(chunk)
            row = dict(start=start, stop=len(order), flags=flags, phase=phase, period=period,
                       pcode=pcode, sched=int(sched == 0), key=skey, ci=0)  # fmt: skip
            ints.append([row[name] for name in BLOCK_INT])
            flts.append([big, small, p, xstar])
    n = len(order)
    rows = kernel.param_rows
    P = np.empty((len(rows), n), dtype=np.float64)
    S = np.empty((len(kernel.state), n), dtype=np.float64)
    for pos, i in enumerate(order):
        params = packed[i][0]
        P[:, pos] = [params[name] for name in rows]
        S[:, pos] = [v if not isinstance(v, str) else params[v] for v in kernel.state.values()]
    X = np.asarray([float(configs[i].x0) for i in order], dtype=np.float64)
    group = Group(
        kernel,
        lo,
        lo + n,
        np.asarray(ints, dtype=np.int64).reshape(-1, len(BLOCK_INT)),
        np.asarray(flts, dtype=np.float64).reshape(-1, len(BLOCK_FLOAT)),
        P,
        S,
        X,
        np.zeros(n, dtype=np.float64),
    )
    return group, order


def pack(configs: Sequence[Any], block: int) -> Packed:
    """Group ``configs`` (:class:`~beyondadam.sim.engine.Config`) by kernel and into blocks."""
    packed = [c.optimizer.pack() for c in configs]
    by_kernel: dict[str, tuple[Kernel, list[int]]] = {}
    for i, c in enumerate(configs):
        kernel = c.optimizer.rule.kernel
        by_kernel.setdefault(kernel.name, (kernel, []))[1].append(i)
    order: list[int] = []
    groups = []
    for kernel, members in by_kernel.values():
        group, gorder = _group(kernel, len(order), members, configs, packed, block)
        groups.append(group)
        order.extend(gorder)
    return Packed(np.asarray(order, dtype=np.int64), groups)


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
