"""Online and stochastic linear losses on the feasible set F = [-1, 1].

Every problem has losses f_t(x) = g_t * x, so the gradient g_t does not depend on x and the
whole sequence is fixed by the problem (and, for stochastic problems, by a seed).  The regret of a
run is R_T = sum_t g_t (x_t - x*), with x* the minimiser over F of the expected loss, computed from
the mean gradient (see :attr:`Problem.expected_gradient`), never assumed.

Two families cover every construction of the paper:

- :func:`periodic`: a large gradient ``big`` every ``period``-th step (the steps t with
  ``t mod period == phase mod period``) and ``-small`` otherwise (Theorems 1 and 2, Section 5's
  online problem).
- :func:`bernoulli`: ``big`` with probability ``p`` and ``-small`` otherwise, i.i.d. (Theorem 3,
  Section 5's stochastic problem).

Stochastic draws come from a counter-based generator: the draw at step t depends only on
(seed, t), so it is identical in the compiled engine, in :meth:`Problem.gradients` and across
batches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

PERIODIC = 0
BERNOULLI = 1

# splitmix64 constants (Steele, Lea, Flood 2014).
_SM_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_SM_M1 = np.uint64(0xBF58476D1CE4E5B9)
_SM_M2 = np.uint64(0x94D049BB133111EB)


def _check_finite(name: str, value: float, *, positive: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


@dataclass(frozen=True)
class Problem:
    """A linear loss sequence f_t(x) = g_t x on [-1, 1].

    Attributes:
        name: a label used in tables and plots.
        kind: ``"periodic"`` or ``"bernoulli"``.
        big: the large (positive) gradient.
        small: the magnitude of the other gradient, which is ``-small``.
        period: for periodic problems, ``big`` comes at the steps t with
            ``t mod period == phase mod period`` (t starts at 1).
        phase: see ``period``.
        p: for Bernoulli problems, the probability of ``big``.

    """

    name: str
    kind: str
    big: float
    small: float
    period: int = 1
    phase: int = 1
    p: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("periodic", "bernoulli"):
            raise ValueError(f"kind must be 'periodic' or 'bernoulli', got {self.kind!r}")
        _check_finite("big", self.big)
        _check_finite("small", self.small)
        if self.kind == "periodic":
            if not isinstance(self.period, int | np.integer) or self.period < 1:
                raise ValueError(f"period must be an integer >= 1, got {self.period!r}")
        else:
            p = _check_finite("p", self.p)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"p must be in [0, 1], got {self.p!r}")

    @property
    def stochastic(self) -> bool:
        """Whether the gradients are random (Bernoulli)."""
        return self.kind == "bernoulli"

    @property
    def expected_gradient(self) -> float:
        """Mean gradient: per period for periodic problems, the expectation for Bernoulli ones."""
        if self.kind == "periodic":
            return (self.big - (self.period - 1) * self.small) / self.period
        return self.p * self.big - (1.0 - self.p) * self.small

    @property
    def optimum(self) -> float:
        """The minimiser x* in [-1, 1] of the expected (or per-period average) loss.

        It is -1 when the mean gradient is positive, +1 when it is negative, and -1 by
        convention when it is zero (every point is then optimal).
        """
        return 1.0 if self.expected_gradient < 0 else -1.0

    def gradients(self, horizon: int, seed: int = 0, start: int = 1) -> np.ndarray:
        """Return g_t for t = start, ..., start + horizon - 1 as a float64 array."""
        t = np.arange(start, start + horizon, dtype=np.int64)
        if self.kind == "periodic":
            hit = (t - self.phase) % self.period == 0
        else:
            hit = uniforms(seed, t) < self.p
        return np.where(hit, float(self.big), -float(self.small))

    @property
    def code(self) -> int:
        """Integer code of the family used by the compiled engine."""
        return PERIODIC if self.kind == "periodic" else BERNOULLI


def _splitmix64(z: np.ndarray) -> np.ndarray:
    z = z ^ (z >> np.uint64(30))
    z = z * _SM_M1
    z = z ^ (z >> np.uint64(27))
    z = z * _SM_M2
    return z ^ (z >> np.uint64(31))


def seed_key(seed: int) -> np.uint64:
    """Mix a user seed into the 64-bit key of the counter-based generator."""
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    with np.errstate(over="ignore"):
        return _splitmix64(np.array([seed], dtype=np.uint64) * _SM_GAMMA + _SM_M2)[0]


def uniforms(seed: int, t: np.ndarray) -> np.ndarray:
    """The uniform draws in [0, 1) used at steps ``t`` for ``seed`` (53-bit resolution)."""
    key = seed_key(seed)
    with np.errstate(over="ignore"):
        z = _splitmix64(key + np.asarray(t, dtype=np.uint64) * _SM_GAMMA)
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def periodic(
    big: float,
    small: float = 1.0,
    period: int = 3,
    *,
    phase: int = 1,
    scale: float = 1.0,
    name: str | None = None,
) -> Problem:
    """``scale * big`` at the steps t with t mod period == phase, ``-scale * small`` otherwise.

    With ``big = C`` and ``period = C`` (C an integer) this is the construction of Theorem 2.
    """
    big = _check_finite("big", big) * _check_finite("scale", scale, positive=True)
    small = _check_finite("small", small) * scale
    if name is None:
        name = f"periodic(big={big:g}, small={small:g}, period={period})"
    return Problem(name=name, kind="periodic", big=big, small=small, period=period, phase=phase)


def bernoulli(
    big: float, small: float = 1.0, p: float = 0.01, *, scale: float = 1.0, name: str | None = None
) -> Problem:
    """``scale * big`` with probability ``p``, ``-scale * small`` otherwise, i.i.d.

    With ``p = (1 + delta) / (C + 1)`` this is the construction of Theorem 3.
    """
    big = _check_finite("big", big) * _check_finite("scale", scale, positive=True)
    small = _check_finite("small", small) * scale
    if name is None:
        name = f"bernoulli(big={big:g}, small={small:g}, p={p:g})"
    return Problem(name=name, kind="bernoulli", big=big, small=small, p=p)


def theorem1(C: float = 3.0) -> Problem:
    """Theorem 1: g_t = C when t mod 3 = 1, else -1 (requires C > 2)."""
    C = _check_finite("C", C)
    if C <= 2:
        raise ValueError(f"C must be > 2 for Theorem 1's problem, got {C!r}")
    return periodic(C, 1.0, 3, name=f"theorem1(C={C:g})")


def paper_online() -> Problem:
    """Section 5, online setting: g_t = 1010 when t mod 101 = 1, else -10."""
    return periodic(1010.0, 10.0, 101, name="paper_online")


def paper_stochastic() -> Problem:
    """Section 5, stochastic setting: g_t = 1010 with probability 0.01, else -10."""
    return bernoulli(1010.0, 10.0, 0.01, name="paper_stochastic")


PROBLEMS = ("theorem1", "paper_online", "paper_stochastic")


def get_problem(name: str | Problem, C: float = 3.0) -> Problem:
    """Return a problem by name (``theorem1`` uses ``C``); a :class:`Problem` passes through."""
    if isinstance(name, Problem):
        return name
    if name == "theorem1":
        return theorem1(C)
    if name == "paper_online":
        return paper_online()
    if name == "paper_stochastic":
        return paper_stochastic()
    raise ValueError(f"unknown problem {name!r}; expected one of {', '.join(PROBLEMS)}")
