"""SIGTERM and SIGINT as one exception, raised where the work can stop cleanly.

Inside :func:`handle_signals` both signals raise :class:`Interrupted` (a ``KeyboardInterrupt``,
so ``except Exception`` blocks in libraries do not swallow it), which lets the executors stop
their worker processes and the store keep every finished run. Inside :func:`deferred` a signal is
only recorded: a loop calls :func:`pending` at its step boundaries, saves a consistent checkpoint
and raises :class:`Interrupted` itself (a signal in the middle of an optimizer step would leave
state that cannot be resumed bit-identically).

Signal handlers can only be set in the main thread; elsewhere both context managers do nothing
and signals keep Python's default behaviour.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["Interrupted", "deferred", "handle_signals", "pending"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_active = False
_defer_depth = 0
_pending: int | None = None


class Interrupted(KeyboardInterrupt):
    """The process received SIGTERM or SIGINT (``signum``) while working."""

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        super().__init__(signal.Signals(self.signum).name)

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by this signal: 128 + its number."""
        return 128 + self.signum


def _handler(signum: int, frame: FrameType | None) -> None:
    global _pending
    if _pending is not None:
        return  # a second signal while stopping: the first one is being handled
    _pending = signum
    if _defer_depth == 0:
        raise Interrupted(signum)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """SIGTERM and SIGINT raise :class:`Interrupted` inside this block (re-entrant)."""
    global _active, _pending
    if _active or not _main_thread():
        yield
        return
    old = {s: signal.signal(s, _handler) for s in _SIGNALS}
    _active, _pending = True, None
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        _active, _pending = False, None


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Record a signal instead of raising; the block polls :func:`pending` at safe points.

    A signal still pending when the block ends is raised then.
    """
    global _defer_depth
    _defer_depth += 1
    try:
        yield
    finally:
        _defer_depth -= 1
    if _defer_depth == 0 and _active and _pending is not None:
        raise Interrupted(_pending)


def pending() -> int | None:
    """The signal received inside :func:`handle_signals`, if any (``None``: none)."""
    return _pending if _active else None
