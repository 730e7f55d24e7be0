"""Where runs execute: in-process, a local process pool, or a Dask distributed cluster.

Work is split into *units* (lists of configurations trained together, see
:func:`~beyondadam.experiments.runner.train_many`); workers return results and only the driver
writes the result store. Progress is counted in run-iterations: workers report them as they train
(local pool: through a queue, a few times a second), so a bar advances within runs too.

Stopping: when the consumer of :meth:`Executor.map_units` stops early (an exception, SIGTERM or
SIGINT turned into :class:`~beyondadam.experiments.interrupt.Interrupted`), the local pool's
worker processes are terminated, not left computing. Pool workers ignore SIGINT (a Ctrl-C reaches
the whole process group): the driver stops them. The Dask executor fails with
:class:`ExecutorError` when the cluster has had no worker for ``lost_timeout`` seconds or a
unit's task was lost with its workers, instead of waiting forever.
"""

from __future__ import annotations

import math
import os
import queue
import signal
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any

import torch

from beyondadam.experiments.batched import Progress, group_key, supports
from beyondadam.experiments.runner import train_many
from beyondadam.experiments.runs import RunConfig, RunResult

__all__ = ["EXECUTORS", "Executor", "ExecutorError", "make_executor", "run_unit", "split_units"]

EXECUTORS = ("local", "dask")


class ExecutorError(RuntimeError):
    """The executor cannot be used (e.g. an unreachable Dask scheduler)."""


#: ``progress(n)``: ``n`` more run-iterations done (the driver's side of :data:`Progress`).
Advance = Callable[[int], None]


def run_unit(
    cfgs: list[RunConfig],
    data_dir: str | None,
    threads: int,
    progress: Progress | None = None,
    checkpoint_dir: str | None = None,
    device: str | None = None,
) -> list[RunResult]:
    """Train one unit in the current process with ``threads`` torch threads (the worker task).

    ``device``: the driver's (``None``: the CPU), checked again here, where the unit runs.
    """
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return train_many(
        cfgs, data_dir, progress=progress, checkpoint_dir=checkpoint_dir, device=device
    )


def unit_iterations(unit: list[RunConfig]) -> int:
    """The run-iterations of a unit (what its progress reports add up to)."""
    return sum(c.steps for c in unit)


class _Tally:
    """Per-unit progress: a finished unit always adds up to its full iterations.

    (A diverged run stops early; a worker's last report may not have arrived.)
    """

    def __init__(self, progress: Advance | None) -> None:
        self.progress = progress
        self.reported: dict[int, int] = {}

    def add(self, unit: int, n: int) -> None:
        self.reported[unit] = self.reported.get(unit, 0) + n
        if self.progress is not None:
            self.progress(n)

    def finish(self, unit: int, cfgs: list[RunConfig]) -> None:
        self.add(unit, max(0, unit_iterations(cfgs) - self.reported.get(unit, 0)))


# ---------------------------------------------------------------- pool worker side

_QUEUE: Any = None
_REPORT_EVERY = 0.25  # seconds between a pool worker's progress reports


def _pool_worker_init(progress_queue: Any) -> None:
    global _QUEUE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _QUEUE = progress_queue


def _pool_run_unit(
    unit_id: int, cfgs: list[RunConfig], data_dir: str | None, threads: int,
    checkpoint_dir: str | None, device: str | None = None,
) -> list[RunResult]:  # fmt: skip
    """:func:`run_unit` in a pool worker, reporting progress to the driver's queue."""
    state = {"n": 0, "last": time.monotonic()}

    def report(n: int, loss: torch.Tensor | None) -> None:
        state["n"] += n
        now = time.monotonic()
        if now - state["last"] >= _REPORT_EVERY:
            _QUEUE.put((unit_id, state["n"]))
            state["n"], state["last"] = 0, now

    return run_unit(cfgs, data_dir, threads, report, checkpoint_dir, device)


def _in_process(
    units: list[list[RunConfig]], data_dir: str | None, threads: int,
    progress: Progress | None, checkpoint_dir: str | None, device: str | None = None,
) -> Iterator[list[RunResult]]:  # fmt: skip
    """Train the units one after another in this process (progress straight to the caller)."""
    for unit in units:
        yield run_unit(unit, data_dir, threads, progress, checkpoint_dir, device)


def split_units(cfgs: list[RunConfig], workers: int, max_batch: int = 10) -> list[list[RunConfig]]:
    """Split configs into units of work.

    Batchable configs are grouped (at most ``max_batch`` per unit, spread over ``workers``); the
    others get one unit each.
    """
    groups: dict[tuple[str, int, int, int, bool], list[RunConfig]] = {}
    units: list[list[RunConfig]] = []
    for c in cfgs:
        if supports(c):
            groups.setdefault(group_key(c), []).append(c)
        else:
            units.append([c])
    for group in groups.values():
        size = max(1, min(max_batch, math.ceil(len(group) / max(1, workers))))
        units = [group[i : i + size] for i in range(0, len(group), size)] + units
    return units


class Executor:
    """Base: runs units and yields their results as they complete.

    ``max_batch`` caps how many configurations one unit trains at once (smaller: finer progress
    and resume granularity; larger: faster batched training).
    """

    workers: int = 1
    max_batch: int = 10

    def map_units(
        self, units: list[list[RunConfig]], data_dir: str | None, *,
        progress: Progress | None = None, checkpoint_dir: str | None = None,
        device: str | None = None,
    ) -> Iterator[list[RunResult]]:  # fmt: skip
        """Yield each unit's results (in completion order).

        ``progress(n, loss)`` is told of finished run-iterations (``loss`` only for a single run
        trained in this process); ``checkpoint_dir``: the output folder where plain-loop runs
        checkpoint (where the workers can write it); ``device``: where every unit trains
        (``None``: the CPU).
        """
        yield from _in_process(units, data_dir, 0, progress, checkpoint_dir, device)

    def close(self) -> None:
        """Release resources."""


class LocalExecutor(Executor):
    """A local process pool.

    ``workers`` processes (default: all cores) with ``threads`` torch threads each (default:
    cores // workers, so the machine is not oversubscribed).

    With one worker (or one unit) the work runs in this process.
    """

    def __init__(
        self, workers: int | None = None, max_batch: int = 10, threads: int | None = None
    ) -> None:
        self.max_batch = max_batch
        cores = os.cpu_count() or 1
        self.workers = max(1, workers or cores)
        self.threads = threads or max(1, cores // self.workers)
        self._pool: ProcessPoolExecutor | None = None
        self._queue: Any = None

    def map_units(
        self, units: list[list[RunConfig]], data_dir: str | None, *,
        progress: Progress | None = None, checkpoint_dir: str | None = None,
        device: str | None = None,
    ) -> Iterator[list[RunResult]]:  # fmt: skip
        """Yield each unit's results as workers finish them (see :meth:`Executor.map_units`)."""
        if self.workers == 1 or len(units) <= 1:
            yield from _in_process(units, data_dir, self.threads, progress, checkpoint_dir, device)
            return
        if self._pool is None:
            ctx = get_context("spawn")
            self._queue = ctx.Queue()
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=_pool_worker_init,
                initargs=(self._queue,),
            )  # fmt: skip
        tally = _Tally(None if progress is None else (lambda n: progress(n, None)))
        ids: dict[Future, int] = {
            self._pool.submit(
                _pool_run_unit, i, u, data_dir, self.threads, checkpoint_dir, device
            ): i
            for i, u in enumerate(units)
        }
        pending, finished = set(ids), False
        try:
            while pending:
                done, pending = wait(pending, timeout=_REPORT_EVERY, return_when=FIRST_COMPLETED)
                self._drain(tally)
                for fut in done:
                    results = fut.result()
                    tally.finish(ids[fut], units[ids[fut]])
                    yield results
            finished = True
        finally:
            if not finished:  # stopped early: no worker may go on computing for nobody
                self.terminate()

    def _drain(self, tally: _Tally) -> None:
        while True:
            try:
                unit, n = self._queue.get_nowait()
            except queue.Empty:
                return
            tally.add(unit, n)

    def terminate(self) -> None:
        """Stop the pool's worker processes now (their units' results are lost)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        for proc in procs:
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)

    def close(self) -> None:
        """Shut the pool down."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _probe(scheduler: str, timeout: float) -> None:
    """Fail at once on a TCP address that refuses connections (Dask retries until its timeout)."""
    from distributed.comm import parse_address, parse_host_port

    try:
        protocol, location = parse_address(scheduler)
        if protocol != "tcp":
            return
        host, port = parse_host_port(location)
        socket.create_connection((host, port), timeout=timeout).close()
    except (OSError, ValueError, TypeError) as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None


class DaskExecutor(Executor):
    """Units as tasks on a Dask distributed cluster; connects (or fails clearly) at construction.

    ``timeout``: seconds to connect (an unreachable address fails after it); ``lost_timeout``:
    seconds the cluster may have no worker while units are unfinished before the run fails (Dask
    would wait for a worker forever). A unit whose task died with its workers
    (``KilledWorker``) fails the run too; rerunning resumes from the store.
    """

    def __init__(
        self, scheduler: str, threads: int = 1, timeout: float = 5.0, max_batch: int = 10,
        lost_timeout: float = 60.0,
    ) -> None:  # fmt: skip
        self.max_batch = max_batch
        self.scheduler = scheduler
        self.lost_timeout = lost_timeout
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ExecutorError(
                "the dask executor needs dask and distributed: pip install 'beyondadam[dask]'"
            ) from exc
        _probe(scheduler, timeout)
        try:
            self.client = Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExecutorError(
                f"cannot reach the Dask scheduler at {scheduler!r} within {timeout:g} s: {exc}"
            ) from exc
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        self.threads = threads

    def _worker_count(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def map_units(
        self, units: list[list[RunConfig]], data_dir: str | None, *,
        progress: Progress | None = None, checkpoint_dir: str | None = None,
        device: str | None = None,
    ) -> Iterator[list[RunResult]]:  # fmt: skip
        """Submit every unit and yield results as they complete (progress per finished unit).

        Checkpoints are not written: the workers need not share the driver's file system.
        """
        tally = _Tally(None if progress is None else (lambda n: progress(n, None)))
        ids = {
            self.client.submit(
                run_unit, u, data_dir, self.threads, None, None, device, pure=False
            ): i
            for i, u in enumerate(units)
        }
        pending, alone_since, finished = set(ids), None, False
        try:
            while pending:
                done = {f for f in pending if f.done()}
                pending -= done
                if not done:
                    time.sleep(_REPORT_EVERY)
                for fut in done:
                    i = ids[fut]
                    if fut.status != "finished":
                        raise ExecutorError(self._lost_message(fut, len(pending) + 1))
                    results = fut.result()
                    tally.finish(i, units[i])
                    yield results
                if not pending or self._worker_count():
                    alone_since = None
                elif alone_since is None:
                    alone_since = time.monotonic()
                elif time.monotonic() - alone_since > self.lost_timeout:
                    raise ExecutorError(
                        f"the Dask cluster at {self.scheduler} has had no worker for "
                        f"{self.lost_timeout:g} s with {len(pending)} units of work unfinished; "
                        "start workers and run the same command again (finished runs are kept)"
                    )
            finished = True
        finally:
            if not finished:
                self.client.cancel(list(pending))

    def _lost_message(self, fut: Any, unfinished: int) -> str:
        try:
            exc = fut.exception()
        except Exception as err:  # report whatever the future says
            exc = err
        return (
            f"a unit of work failed on the Dask cluster at {self.scheduler} "
            f"({type(exc).__name__}: {exc}); {unfinished} units unfinished; the finished runs "
            "are kept: fix the cause (a worker that died: its log) and run the same command again"
        )

    def close(self) -> None:
        """Close the client (the cluster keeps running)."""
        self.client.close()


def check_executor(
    kind: str,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    max_batch: int = 10,
    threads: int | None = None,
) -> None:
    """Raise ``ValueError`` naming the first bad executor argument; nothing is started."""
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be an integer >= 1, got {threads}")
    if max_batch < 1:
        raise ValueError(f"max_batch must be an integer >= 1, got {max_batch}")
    if kind not in EXECUTORS:
        raise ValueError(f"executor must be one of {list(EXECUTORS)}, got {kind!r}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers}")
    if kind == "dask" and not scheduler:
        raise ValueError("executor 'dask' needs a scheduler address (--scheduler tcp://HOST:PORT)")


def make_executor(
    kind: str = "local",
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    max_batch: int = 10,
    threads: int | None = None,
) -> Executor:
    """Build an executor; errors (unknown kind, missing or unreachable scheduler) come here.

    ``local``: a process pool of ``workers`` processes (default: all cores); ``dask``: the Dask
    cluster whose scheduler listens at ``scheduler`` (e.g. ``tcp://10.0.0.5:8786``). ``threads``:
    torch threads per worker (local default: cores // workers; dask default: 1).
    """
    check_executor(kind, scheduler=scheduler, workers=workers, max_batch=max_batch, threads=threads)
    if kind == "local":
        return LocalExecutor(workers, max_batch, threads)
    return DaskExecutor(scheduler, threads=threads or 1, max_batch=max_batch)
