"""The paper's training experiments (Section 5, Figure 2), a resumable result store, sweeps.

Tasks (:data:`~beyondadam.experiments.tasks.TASKS`): ``mnist-logreg`` (softmax regression,
lr_t = lr/sqrt(t)), ``mnist-mlp`` (784-100-10 ReLU) and ``cifarnet`` (CIFAR-10), minibatch 128;
for the family benchmark also ``quadratic-deep``, ``mnist-cnn``, ``mnist-ae`` and ``cifar-vgg``,
each with a validation split (``RunConfig(validation=True)``) and a target.

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

Lower level: :func:`compute_protocol` (the protocol as data, writing nothing but the store) and
:func:`write_protocol_files` (its tables and figures), :func:`train` (one :class:`RunConfig`, the
reference loop with the real optimizer class), :func:`train_many` (batched engine for the
tasks whose model stacks: the MNIST ones), :func:`run_configs` (any list of configs through an
executor into the store), :class:`ResultStore` (SQLite, CSV/Parquet export), :func:`load_mnist` /
:func:`load_cifar10` (verified loaders; :class:`DataError` on bad files), :func:`mean_ci95` and
:func:`t_quantile` (the statistics shared with :mod:`beyondadam.reporting`).

Layers, each importing only those before it: ``stats``, ``dataset`` (the type), ``device``
(:func:`check_device`: CPU or CUDA), ``quadratic``,
``data``, ``splits``, ``models``, ``losses``, ``optimizers``, ``tasks``; ``runs`` (the run
types); ``interrupt`` (SIGTERM/SIGINT), ``checkpoint``; ``stacked`` and ``batched`` (the batched
engine), ``runner`` (the plain loop and :func:`train_many`); ``executors``, ``store``;
``protocol`` (data); ``benchmark`` (the family benchmark: random search per optimizer, selection
on validation loss, seeds; :func:`run_benchmark`); ``plots``; ``outputs`` (files).
"""

from __future__ import annotations

from beyondadam.experiments.benchmark import (
    BenchmarkData,
    BenchmarkSpec,
    TrialRecord,
    load_benchmark,
    run_benchmark,
)
from beyondadam.experiments.data import DataError, Dataset, load_cifar10, load_dataset, load_mnist
from beyondadam.experiments.device import check_device
from beyondadam.experiments.executors import ExecutorError, make_executor
from beyondadam.experiments.outputs import run_protocol, write_protocol_files
from beyondadam.experiments.plots import plot_training_loss
from beyondadam.experiments.protocol import (
    DEFAULT_OPTIMIZERS,
    ProtocolResult,
    compute_protocol,
    run_configs,
)
from beyondadam.experiments.runner import train, train_many
from beyondadam.experiments.runs import RunConfig, RunResult
from beyondadam.experiments.stats import mean_ci95, t_quantile
from beyondadam.experiments.store import ResultStore, load_curves, load_results
from beyondadam.experiments.tasks import TASKS, Task, get_task

__all__ = [
    "DEFAULT_OPTIMIZERS",
    "TASKS",
    "BenchmarkData",
    "BenchmarkSpec",
    "DataError",
    "Dataset",
    "ExecutorError",
    "ProtocolResult",
    "ResultStore",
    "RunConfig",
    "RunResult",
    "Task",
    "TrialRecord",
    "check_device",
    "compute_protocol",
    "get_task",
    "load_benchmark",
    "load_cifar10",
    "load_curves",
    "load_dataset",
    "load_mnist",
    "load_results",
    "make_executor",
    "mean_ci95",
    "plot_training_loss",
    "run_benchmark",
    "run_configs",
    "run_protocol",
    "t_quantile",
    "train",
    "train_many",
    "write_protocol_files",
]
