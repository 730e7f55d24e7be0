"""The moment updates the simulator's kernels share (numba, inlined).

Each updates one state row in place, in the operation order of the :mod:`beyondadam.optim`
classes (that is, of ``torch.optim``), so the kernels stay equal to them bit for bit.
"""

from __future__ import annotations

from numba import njit

from beyondadam.sim._runner import JIT


@njit(inline="always", **JIT)
def ema(a, j, beta, value):
    """``a[j] <- a[j] beta + (1 - beta) value`` (torch's operation order); returns it."""
    v = a[j] * beta + (1.0 - beta) * value
    a[j] = v
    return v


@njit(inline="always", **JIT)
def ema_sq(a, j, beta, value):
    """``a[j] <- a[j] beta + (1 - beta) value value`` (left to right, as torch); returns it."""
    v = a[j] * beta + (1.0 - beta) * value * value
    a[j] = v
    return v


@njit(inline="always", **JIT)
def power(a, j, beta):
    """``a[j] <- a[j] beta`` (a running product, beta^t kept bit for bit); returns it."""
    q = a[j] * beta
    a[j] = q
    return q
