"""Hyperparameter checks shared by every optimizer.

Each check raises ``ValueError`` naming the optimizer, the parameter, the allowed range and the
value received, so that a bad configuration fails at construction, before any step is taken.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Interval:
    """A real interval such as ``[0, 1)``; ``contains`` also rejects NaN and non-numbers."""

    low: float
    high: float
    low_closed: bool = True
    high_closed: bool = True

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a real number inside the interval."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if math.isnan(value):
            return False
        above = value >= self.low if self.low_closed else value > self.low
        below = value <= self.high if self.high_closed else value < self.high
        return above and below

    def __str__(self) -> str:
        def fmt(x: float) -> str:
            return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:g}"

        left = "[" if self.low_closed else "("
        right = "]" if self.high_closed else ")"
        return f"{left}{fmt(self.low)}, {fmt(self.high)}{right}"


NON_NEGATIVE = Interval(0.0, math.inf, high_closed=False)
UNIT = Interval(0.0, 1.0, high_closed=True)
UNIT_HALF_OPEN = Interval(0.0, 1.0, high_closed=False)
OPEN_UNIT = Interval(0.0, 1.0, low_closed=False, high_closed=False)


def check_in(owner: str, name: str, value: Any, interval: Interval) -> None:
    """Raise ``ValueError`` unless ``value`` is a real number in ``interval``."""
    if not interval.contains(value):
        raise ValueError(f"{owner}: {name} must be a real number in {interval}, got {value!r}")


def check_betas(owner: str, betas: Any, name: str = "betas") -> None:
    """Check a ``(beta1, beta2)`` pair, each in ``[0, 1)``."""
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise ValueError(f"{owner}: {name} must be a pair (beta1, beta2), got {betas!r}")
    check_in(owner, f"{name}[0] (beta1)", betas[0], UNIT_HALF_OPEN)
    check_in(owner, f"{name}[1] (beta2)", betas[1], UNIT_HALF_OPEN)


def check_choice(owner: str, name: str, value: Any, choices: tuple[Any, ...]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{owner}: {name} must be one of {allowed}; got {value!r}")


def check_optional_bool(owner: str, name: str, value: Any) -> None:
    """``foreach``/``fused`` style switches: ``None``, ``True`` or ``False``."""
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{owner}: {name} must be None, True or False, got {value!r}")


Check = Callable[[str, str, Any], None]


def interval(spec: Interval) -> Check:
    """A check for ``check_in`` with a fixed interval, for use in per-class tables."""

    def check(owner: str, name: str, value: Any) -> None:
        check_in(owner, name, value, spec)

    check.interval = spec  # type: ignore[attr-defined]  # read by the generic validation tests
    return check


def boolean(owner: str, name: str, value: Any) -> None:
    """Raise ``ValueError`` unless ``value`` is a bool."""
    if not isinstance(value, bool):
        raise ValueError(f"{owner}: {name} must be True or False, got {value!r}")
