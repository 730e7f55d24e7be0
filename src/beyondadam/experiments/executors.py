"""Where runs execute: in-process, a local process pool, or a Dask distributed cluster.

Work is split into *units* (lists of configurations trained together, see
:func:`~beyondadam.experiments.runner.train_many`); workers return results and only the driver
writes the result store.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context

import torch

from beyondadam.experiments.batched import group_key, supports
from beyondadam.experiments.runner import train_many
from beyondadam.experiments.runs import RunConfig, RunResult

__all__ = ["EXECUTORS", "Executor", "ExecutorError", "make_executor", "run_unit", "split_units"]

EXECUTORS = ("local", "dask")


class ExecutorError(RuntimeError):
    """The executor cannot be used (e.g. an unreachable Dask scheduler)."""


def run_unit(cfgs: list[RunConfig], data_dir: str | None, threads: int) -> list[RunResult]:
    """Train one unit in the current process with ``threads`` torch threads (the worker task)."""
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return train_many(cfgs, data_dir)


def split_units(cfgs: list[RunConfig], workers: int, max_batch: int = 10) -> list[list[RunConfig]]:
    """Split configs into units of work.

    Batchable configs are grouped (at most ``max_batch`` per unit, spread over ``workers``); the
    others get one unit each.
    """
    groups: dict[tuple[str, int, int, int], list[RunConfig]] = {}
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
        self, units: list[list[RunConfig]], data_dir: str | None
    ) -> Iterator[list[RunResult]]:
        """Yield each unit's results (in completion order)."""
        for unit in units:
            yield run_unit(unit, data_dir, 0)

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

    def map_units(
        self, units: list[list[RunConfig]], data_dir: str | None
    ) -> Iterator[list[RunResult]]:
        """Yield each unit's results as workers finish them."""
        if self.workers == 1 or len(units) <= 1:
            for unit in units:
                yield run_unit(unit, data_dir, self.threads)
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"))
        pending = {self._pool.submit(run_unit, u, data_dir, self.threads) for u in units}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()

    def close(self) -> None:
        """Shut the pool down."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class DaskExecutor(Executor):
    """Units as tasks on a Dask distributed cluster; connects (or fails clearly) at construction."""

    def __init__(
        self, scheduler: str, threads: int = 1, timeout: float = 10.0, max_batch: int = 10
    ) -> None:
        self.max_batch = max_batch
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ExecutorError(
                "the dask executor needs dask and distributed: pip install 'beyondadam[dask]'"
            ) from exc
        try:
            self.client = Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from exc
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        self.threads = threads

    def map_units(
        self, units: list[list[RunConfig]], data_dir: str | None
    ) -> Iterator[list[RunResult]]:
        """Submit every unit and yield results as they complete."""
        from distributed import as_completed

        futures = [
            self.client.submit(run_unit, u, data_dir, self.threads, pure=False) for u in units
        ]
        with self.client.as_current():
            for fut in as_completed(futures):
                yield fut.result()

    def close(self) -> None:
        """Close the client (the cluster keeps running)."""
        self.client.close()


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
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be an integer >= 1, got {threads}")
    if max_batch < 1:
        raise ValueError(f"max_batch must be an integer >= 1, got {max_batch}")
    if kind not in EXECUTORS:
        raise ValueError(f"executor must be one of {list(EXECUTORS)}, got {kind!r}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers}")
    if kind == "local":
        return LocalExecutor(workers, max_batch, threads)
    if not scheduler:
        raise ValueError("executor 'dask' needs a scheduler address (--scheduler tcp://HOST:PORT)")
    return DaskExecutor(scheduler, threads=threads or 1, max_batch=max_batch)
