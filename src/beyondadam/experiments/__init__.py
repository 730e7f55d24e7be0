"""The paper's training experiments (Section 5, Figure 2), a resumable result store, sweeps.

Tasks (:data:`~beyondadam.experiments.tasks.TASKS`): ``mnist-logreg`` (softmax regression,
lr_t = lr/sqrt(t)), ``mnist-mlp`` (784-100-10 ReLU) and ``cifarnet`` (CIFAR-10), minibatch 128.

The API a report (or ``beyondadam reproduce``) calls::

    from beyondadam.experiments import run_protocol, plot_training_loss, load_results

    res = run_protocol("mnist-logreg", ["adam", "amsgrad"], seeds=5,
                       out_dir="out", data_dir="../shared/datasets", quiet=True)
    res.summary        # per optimizer: selected lr/beta2, final train loss mean + 95% band,
                       # test loss/accuracy mean + band, diverged count, test_note
    res.selected       # {"adam": RunConfig, ...}: the grid winners
    res.grid           # every grid configuration with its criterion
    res.train_curves("amsgrad")   # (seeds, steps) training-loss curves
    plot_training_loss(res, "out/logreg.png")   # or .svg
    load_results("out"), load_curves("out")     # pandas DataFrames of the result store

Lower level: :func:`train` (one :class:`RunConfig`, the reference loop with the real optimizer
class), :func:`train_many` (batched engine for MNIST tasks), :func:`run_configs` (any list of
configs through an executor into the store), :class:`ResultStore` (SQLite, CSV/Parquet export),
:func:`load_mnist` / :func:`load_cifar10` (verified loaders; :class:`DataError` on bad files).
"""

from __future__ import annotations

from beyondadam.experiments.data import DataError, Dataset, load_cifar10, load_dataset, load_mnist
from beyondadam.experiments.executors import ExecutorError, make_executor
from beyondadam.experiments.plots import plot_training_loss
from beyondadam.experiments.protocol import (
    DEFAULT_OPTIMIZERS,
    ProtocolResult,
    mean_ci95,
    run_configs,
    run_protocol,
)
from beyondadam.experiments.runner import RunConfig, RunResult, train, train_many
from beyondadam.experiments.store import ResultStore, load_curves, load_results
from beyondadam.experiments.tasks import TASKS, Task, get_task

__all__ = [
    "DEFAULT_OPTIMIZERS",
    "TASKS",
    "DataError",
    "Dataset",
    "ExecutorError",
    "ProtocolResult",
    "ResultStore",
    "RunConfig",
    "RunResult",
    "Task",
    "get_task",
    "load_cifar10",
    "load_curves",
    "load_dataset",
    "load_mnist",
    "load_results",
    "make_executor",
    "mean_ci95",
    "plot_training_loss",
    "run_configs",
    "run_protocol",
    "train",
    "train_many",
]
