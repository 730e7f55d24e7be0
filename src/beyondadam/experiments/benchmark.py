"""The family benchmark: an equal random-search budget per optimizer, then seeds of the winner.

This module's types are the contract between the benchmark's runner (which fills them from the
result store) and :mod:`beyondadam.reporting` (which analyses them): one :class:`TrialRecord` per
finished run, gathered in a :class:`BenchmarkData`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["BenchmarkData", "BenchmarkSpec", "TrialRecord"]


@dataclass(frozen=True)
class TrialRecord:
    """One finished run of the benchmark.

    Attributes:
        task: task id (:data:`beyondadam.experiments.tasks.TASKS`).
        optimizer: catalog name of the optimizer.
        phase: ``"search"`` (a random-search trial) or ``"seed"`` (a rerun of the selected
            configuration with another seed).
        index: search: the trial's index ``0 .. budget-1`` (trial ``i`` of every optimizer uses
            the same random stream); seed: the seed's index ``0 .. seeds-1``.
        hparams: the optimizer's keyword arguments of this run.
        seed: the run's seed (initialisation and data order).
        status: ``"done"`` or ``"diverged"``.
        val_loss: final validation loss (``inf`` when diverged).
        test_loss: final test loss (``nan`` when diverged).
        test_acc: final test accuracy (``nan`` when diverged or the task has no accuracy).
        steps_to_target: first evaluation step at which the task's target was reached, ``None``
            if never (or the task has no target).
        steps: the run's iterations.
        wall_time: seconds the run took.

    """

    task: str
    optimizer: str
    phase: str
    index: int
    hparams: dict[str, Any]
    seed: int
    status: str
    val_loss: float
    test_loss: float
    test_acc: float
    steps_to_target: int | None
    steps: int
    wall_time: float


@dataclass
class BenchmarkData:
    """Every finished run of one benchmark and the settings it ran with."""

    tasks: tuple[str, ...]
    optimizers: tuple[str, ...]
    budget: int
    seeds: int
    records: list[TrialRecord] = field(default_factory=list)


@dataclass(frozen=True)
class BenchmarkSpec:
    """What a benchmark runs (filled in by the benchmark's runner; see the issue's contract).

    Attributes:
        tasks: task ids.
        optimizers: catalog names.
        budget: random-search trials per (task, optimizer).
        seeds: seeds of the selected configuration per (task, optimizer).
        steps: per-task iterations, as ``((task, steps), ...)``; a task not named runs its
            default :attr:`~beyondadam.experiments.tasks.Task.steps`.
        tune: the hyperparameters searched: ``("lr",)`` or ``("lr", "betas")``.

    """

    tasks: tuple[str, ...]
    optimizers: tuple[str, ...]
    budget: int = 10
    seeds: int = 5
    steps: tuple[tuple[str, int], ...] = ()
    tune: tuple[str, ...] = ("lr",)
