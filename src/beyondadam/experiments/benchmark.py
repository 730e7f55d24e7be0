"""The family benchmark: an equal random-search budget per optimizer, then seeds of the winner.

This module's types are the contract between the benchmark's runner (which fills them from the
result store) and :mod:`beyondadam.reporting` (which analyses them): one :class:`TrialRecord` per
finished run, gathered in a :class:`BenchmarkData`.

The protocol (:func:`run_benchmark`), for every task and catalog optimizer of a
:class:`BenchmarkSpec`:

1. **Search**: ``budget`` random-search trials, each trained with ``validation=True`` (on the
   training set minus its held-out validation split) and the one seed :data:`SEARCH_SEED`.
   The search space (:func:`trial_hparams`):

   - ``lr`` log-uniform over ``[d / R, d * R]`` around the optimizer's own default ``d`` (its
     constructor's default; :data:`FALLBACK_LR` for the SGD family, whose lr has none), with
     ``R =`` :data:`LR_RANGE` ``= 10**1.5``: three decades, the spread between the defaults and
     the tuned step sizes usually reported on such problems (a factor of ~30 either way), while
     a budget of 10 still puts about three trials in each decade;
   - every other hyperparameter at its default, unless ``tune`` includes ``"betas"``: then
     ``1 - beta1`` log-uniform in ``[0.01, 0.5]`` (beta1 in [0.5, 0.99]) and ``1 - beta2``
     log-uniform in ``[1e-4, 1e-1]``, for the optimizers with ``betas``; those with a lone
     ``beta1`` (AdamNC, NosAdam: their beta2 is a schedule) get the same beta1.

   Trial ``i`` of every optimizer and task draws from the same stream, seeded with
   ``(BENCHMARK_SEED, i)`` (common random numbers: the same uniform numbers, mapped to each
   optimizer's own range), so budgets are equal and comparable across optimizers.
2. **Selection**: the trial with the lowest final validation loss (a diverged trial counts as
   ``inf``; ties go to the lower trial index; if every trial diverged, trial 0 is "selected"
   and its seeds record the failure).
3. **Seeds**: the selected configuration rerun with seeds ``0 .. seeds-1`` (shared by every
   optimizer; ``validation=True``, so the same training set). :data:`SEARCH_SEED` is none of
   them, so the reported runs are fresh draws, free of the selection's luck.

Every run goes through :func:`~beyondadam.experiments.protocol.run_configs`: the resumable store,
the batched engine, any executor; a finished run is never trained again.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from beyondadam.experiments.data import load_dataset
from beyondadam.experiments.device import check_device
from beyondadam.experiments.executors import Executor, make_executor
from beyondadam.experiments.protocol import run_configs
from beyondadam.experiments.runs import RunConfig, RunResult
from beyondadam.experiments.store import DB_NAME, ResultStore, check_store
from beyondadam.experiments.tasks import get_task
from beyondadam.optim.catalog import get as catalog_entry

__all__ = [
    "BENCHMARK_SEED",
    "FALLBACK_LR",
    "LR_RANGE",
    "SEARCH_SEED",
    "TUNE_CHOICES",
    "BenchmarkData",
    "BenchmarkSpec",
    "TrialRecord",
    "load_benchmark",
    "lr_range",
    "run_benchmark",
    "search_configs",
    "seed_configs",
    "select_trial",
    "trial_hparams",
    "validate_spec",
]

#: seeds the search space's random streams (fixed: the same spec draws the same trials).
BENCHMARK_SEED = 20180215
#: the seed of every search trial (not one of the reported seeds ``0 .. seeds-1``).
SEARCH_SEED = 1_000_000
#: the lr range's half-width, as a factor: ``[default / LR_RANGE, default * LR_RANGE]``.
LR_RANGE = 10**1.5
#: the centre of the lr range of an optimizer whose lr has no default (SGD, Momentum, NAG).
FALLBACK_LR = 0.1
#: what ``tune`` may name.
TUNE_CHOICES = (("lr",), ("lr", "betas"))
_ONE_MINUS_BETA1 = (0.01, 0.5)
_ONE_MINUS_BETA2 = (1e-4, 1e-1)
#: a record's float fields and what a non-finite one is (JSON has neither inf nor NaN).
_FLOATS = {"val_loss": math.inf, "test_loss": math.nan, "test_acc": math.nan}


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
    """Every finished run of one benchmark and the settings it ran with.

    ``steps``: each task's iterations, ``((task, steps), ...)``; ``tune``: the hyperparameters
    searched. Records are ordered by task, optimizer, phase (search, then seed) and index.
    """

    tasks: tuple[str, ...]
    optimizers: tuple[str, ...]
    budget: int
    seeds: int
    records: list[TrialRecord] = field(default_factory=list)
    steps: tuple[tuple[str, int], ...] = ()
    tune: tuple[str, ...] = ("lr",)

    def to_json(self) -> str:
        """Strict JSON text (a non-finite loss or accuracy is ``null``); see :meth:`from_json`."""
        out = asdict(self)
        for rec in out["records"]:
            for name in _FLOATS:
                if not math.isfinite(rec[name]):
                    rec[name] = None
        return json.dumps(out, allow_nan=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BenchmarkData:
        """The data :meth:`to_json` wrote (``null`` is ``inf`` for ``val_loss``, else NaN)."""
        raw = json.loads(text)
        records = []
        for rec in raw["records"]:
            for name, missing in _FLOATS.items():
                rec[name] = missing if rec[name] is None else float(rec[name])
            records.append(TrialRecord(**rec))
        return cls(
            tasks=tuple(raw["tasks"]),
            optimizers=tuple(raw["optimizers"]),
            budget=raw["budget"],
            seeds=raw["seeds"],
            records=records,
            steps=tuple((t, n) for t, n in raw["steps"]),
            tune=tuple(raw["tune"]),
        )


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


# ----------------------------------------------------------------- checks and search space


def validate_spec(spec: BenchmarkSpec) -> None:
    """Raise a one-line ``ValueError`` naming the first bad option of ``spec`` (no work done)."""
    if not spec.tasks:
        raise ValueError("tasks must name at least one task")
    if not spec.optimizers:
        raise ValueError("optimizers must name at least one optimizer")
    for name, values in (("tasks", spec.tasks), ("optimizers", spec.optimizers)):
        if len(set(values)) != len(values):
            raise ValueError(f"{name} must not repeat a name, got {list(values)}")
    for task in spec.tasks:
        get_task(task)
    for opt in spec.optimizers:
        key = catalog_entry(opt).key
        if key != opt:
            raise ValueError(f"optimizers must use the catalog's names: {key!r}, not {opt!r}")
    for name in ("budget", "seeds"):
        value = getattr(spec, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    for item in spec.steps:
        task, n = item if isinstance(item, tuple) and len(item) == 2 else (None, None)
        if task not in spec.tasks:
            raise ValueError(f"steps must be (task, steps) pairs of the spec's tasks, got {item!r}")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"steps of {task} must be an integer >= 1, got {n!r}")
    if tuple(spec.tune) not in TUNE_CHOICES:
        raise ValueError(f"tune must be one of {list(TUNE_CHOICES)}, got {spec.tune!r}")


def lr_range(optimizer: str) -> tuple[float, float]:
    """The search's lr range for ``optimizer``: its default lr divided and multiplied by R."""
    default = catalog_entry(optimizer).defaults()["lr"]
    centre = default if isinstance(default, int | float) else FALLBACK_LR
    return centre / LR_RANGE, centre * LR_RANGE


def _log_uniform(u: float, low: float, high: float) -> float:
    """The point a fraction ``u`` of the way from ``low`` to ``high`` on a log scale."""
    return float(math.exp(math.log(low) + u * (math.log(high) - math.log(low))))


def trial_hparams(optimizer: str, index: int, tune: tuple[str, ...] = ("lr",)) -> dict[str, Any]:
    """Trial ``index``'s hyperparameters for ``optimizer`` (see the module docstring).

    Three uniform numbers are drawn from the stream ``(BENCHMARK_SEED, index)`` whatever the
    optimizer and ``tune``, so trial ``index`` of every optimizer shares them.
    """
    u_lr, u_b1, u_b2 = np.random.default_rng([BENCHMARK_SEED, index]).random(3).tolist()
    hp: dict[str, Any] = {"lr": _log_uniform(u_lr, *lr_range(optimizer))}
    if "betas" in tune:
        names = catalog_entry(optimizer).hyperparameters()
        beta1 = 1.0 - _log_uniform(u_b1, *_ONE_MINUS_BETA1)
        if "betas" in names:
            hp["betas"] = [beta1, 1.0 - _log_uniform(u_b2, *_ONE_MINUS_BETA2)]
        elif "beta1" in names:
            hp["beta1"] = beta1
    return hp


def _steps(spec: BenchmarkSpec) -> dict[str, int]:
    given = dict(spec.steps)
    return {t: given.get(t, get_task(t).steps) for t in spec.tasks}


def _config(task: str, optimizer: str, hp: dict[str, Any], seed: int, steps: int) -> RunConfig:
    eval_every = min(get_task(task).eval_every, steps)
    return RunConfig.make(
        task, optimizer, hp, seed=seed, steps=steps, eval_every=eval_every, validation=True
    )


def search_configs(spec: BenchmarkSpec) -> dict[tuple[str, str], list[RunConfig]]:
    """Each (task, optimizer)'s ``budget`` search trials, in trial order."""
    steps = _steps(spec)
    return {
        (task, opt): [
            _config(task, opt, trial_hparams(opt, i, spec.tune), SEARCH_SEED, steps[task])
            for i in range(spec.budget)
        ]
        for task in spec.tasks
        for opt in spec.optimizers
    }


def select_trial(results: list[RunResult]) -> int:
    """The index of the lowest final validation loss (diverged: ``inf``; ties: lowest index)."""
    losses = [r.final_val_loss() for r in results]
    losses = [v if math.isfinite(v) else math.inf for v in losses]  # NaN counts as diverged
    return min(range(len(losses)), key=lambda i: (losses[i], i))


def seed_configs(spec: BenchmarkSpec, selected: RunConfig) -> list[RunConfig]:
    """The selected search configuration rerun with seeds ``0 .. spec.seeds - 1``."""
    return [
        _config(selected.task, selected.optimizer, selected.hp, s, selected.steps)
        for s in range(spec.seeds)
    ]


# ----------------------------------------------------------------- running and reading


def _record(r: RunResult, phase: str, index: int) -> TrialRecord:
    task = get_task(r.config.task)
    ok = r.status == "done"
    reached = None
    if task.target is not None and len(r.test_steps):
        curve = r.test_acc if task.target.metric == "test_acc" else r.test_loss
        reached = task.target.first_reached(r.test_steps.tolist(), curve.tolist())
    return TrialRecord(
        task=r.config.task,
        optimizer=r.config.optimizer,
        phase=phase,
        index=index,
        hparams=r.config.hp,
        seed=r.config.seed,
        status=r.status,
        val_loss=r.final_val_loss(),
        test_loss=float(r.test_loss[-1]) if ok and len(r.test_loss) else math.nan,
        test_acc=(
            float(r.test_acc[-1]) if ok and task.has_accuracy and len(r.test_acc) else math.nan
        ),
        steps_to_target=reached,
        steps=r.config.steps,
        wall_time=float(r.wall_time),
    )


def _collect(spec: BenchmarkSpec, store: ResultStore) -> BenchmarkData:
    """The records of every finished run of ``spec`` in ``store`` (a partial run: those done)."""
    records: list[TrialRecord] = []
    for cfgs in search_configs(spec).values():
        found = [store.get(c.key) for c in cfgs]
        records += [_record(r, "search", i) for i, r in enumerate(found) if r is not None]
        if any(r is None for r in found):
            continue  # no selection before the whole search is in
        chosen = cfgs[select_trial([r for r in found if r is not None])]
        for s, c in enumerate(seed_configs(spec, chosen)):
            r = store.get(c.key)
            if r is not None:
                records.append(_record(r, "seed", s))
    return BenchmarkData(
        tasks=tuple(spec.tasks),
        optimizers=tuple(spec.optimizers),
        budget=spec.budget,
        seeds=spec.seeds,
        records=records,
        steps=tuple(_steps(spec).items()),
        tune=tuple(spec.tune),
    )


def run_benchmark(
    spec: BenchmarkSpec,
    out_dir: str | Path,
    *,
    data_dir: str | None = None,
    executor: Executor | None = None,
    quiet: bool = False,
    device: str | None = None,
) -> BenchmarkData:
    """Run ``spec`` (see the module docstring) into ``out_dir``'s store; resumable.

    The spec, the store and the data files are checked before any training. Phase 1 trains
    every search trial of every task and optimizer, phase 2 the seeds of each selection, each
    with a progress bar and ETA (none when ``quiet``); runs already stored are not trained
    again, so a rerun after a crash or kill continues where it stopped. ``executor``: default
    a local process pool (closed at the end; one passed in is left open). ``device``: where the
    runs train ("cpu", "cuda", "cuda:N"; ``None``: the CPU), not part of their keys.
    """
    validate_spec(spec)
    if device is not None:
        check_device(device)
    search = search_configs(spec)
    check_store(out_dir)
    for dataset in dict.fromkeys(get_task(t).dataset for t in spec.tasks):
        load_dataset(dataset, data_dir)  # missing or corrupt files fail here, before training
    ex = executor if executor is not None else make_executor("local")
    try:
        flat = [c for cfgs in search.values() for c in cfgs]
        found = run_configs(
            flat, out_dir, data_dir=data_dir, executor=ex, quiet=quiet, desc="benchmark search",
            device=device,
        )  # fmt: skip
        seeds = [
            c
            for cfgs in search.values()
            for c in seed_configs(spec, cfgs[select_trial([found[c.key] for c in cfgs])])
        ]
        run_configs(
            seeds, out_dir, data_dir=data_dir, executor=ex, quiet=quiet, desc="benchmark seeds",
            device=device,
        )  # fmt: skip
    finally:
        if executor is None:
            ex.close()
    return load_benchmark(spec, out_dir)


def load_benchmark(spec: BenchmarkSpec, out_dir: str | Path) -> BenchmarkData:
    """The finished runs of ``spec`` in ``out_dir``'s store, read without training anything."""
    validate_spec(spec)
    if not (Path(out_dir) / DB_NAME).is_file():
        raise FileNotFoundError(f"no result store in {out_dir} (expected {DB_NAME} there)")
    with ResultStore(out_dir) as store:
        return _collect(spec, store)
