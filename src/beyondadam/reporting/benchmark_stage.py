"""The ``benchmark`` stage: the family benchmark (does anything beat Adam?) inside a reproduction.

The stage runs :func:`beyondadam.experiments.benchmark.run_benchmark` on the profile's benchmark
tasks into ``OUT/benchmark/`` (its result store: rerunning resumes without repeating a run),
analyses the runs (:func:`~beyondadam.reporting.benchmark_stats.analyse`), draws the figures and
returns typed :class:`~beyondadam.reporting.benchmark_stats.BenchmarkNumbers`. A profile without
benchmark tasks (``quick``, ``paper``) records the stage as *not run*, with the command that runs
it, so the claim judged from it says *not run* too. :func:`resolve_tasks` and
:func:`write_outputs` are shared with ``beyondadam benchmark``.
"""

from __future__ import annotations

import csv
import json
import shlex
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from beyondadam.reporting import datasets
from beyondadam.reporting.benchmark_figures import plot_all
from beyondadam.reporting.benchmark_stats import BenchmarkNumbers, analyse
from beyondadam.reporting.benchmark_tables import markdown_tables, tables
from beyondadam.reporting.results import FigureRecord, StageRecord, jsonable, write_atomic
from beyondadam.reporting.stage import StageContext, display_names, figure_records

__all__ = [
    "CPU_FALLBACK",
    "FIGURES",
    "data_missing",
    "not_run_tasks",
    "resolve_tasks",
    "run_benchmark_stage",
    "write_outputs",
]

CPU_FALLBACK = ("mnist-logreg", "mnist-mlp")
"""The CPU tasks when the task list does not say which tasks are CPU-sized (``Task.cpu``)."""


def resolve_tasks(names: Sequence[str]) -> tuple[str, ...]:
    """Task ids from names, where ``cpu`` means every CPU-sized task and ``all`` every task.

    Raises:
        ValueError: An unknown name (the message lists the known ones).

    """
    from beyondadam.experiments import TASKS

    cpu = [t for t, spec in TASKS.items() if getattr(spec, "cpu", False)]
    groups = {"all": list(TASKS), "cpu": cpu or [t for t in CPU_FALLBACK if t in TASKS]}
    out: list[str] = []
    for name in names:
        key = name.lower()
        if key in groups:
            out += groups[key]
        elif key in TASKS:
            out.append(key)
        else:
            raise ValueError(f"unknown task {name!r}; choose from cpu, all, {', '.join(TASKS)}")
    return tuple(dict.fromkeys(out))


def data_missing(tasks: Sequence[str], data_dir: str | Path | None) -> str:
    """Why the data of ``tasks`` cannot be loaded (the loader's reason), or ``""``."""
    from beyondadam.experiments import get_task

    for dataset in dict.fromkeys(get_task(t).dataset for t in tasks):
        if dataset not in ("mnist", "cifar10"):  # generated data (the noisy quadratic)
            continue
        status = datasets.dataset_status(dataset, data_dir)
        if not status.ready:
            return status.reason
    return ""


def not_run_tasks(tasks: Sequence[str]) -> tuple[str, ...]:
    """The tasks of the whole benchmark that ``tasks`` leaves out."""
    from beyondadam.experiments import TASKS

    return tuple(t for t in TASKS if t not in tasks)


def write_outputs(
    data: Any, numbers: BenchmarkNumbers, out_dir: str | Path
) -> tuple[list[Path], list[Path]]:
    """Write ``benchmark.json``, ``records.csv``, the analysis tables and the figures.

    ``data`` is the :class:`~beyondadam.experiments.benchmark.BenchmarkData`. Returns (the
    figure paths, every other file).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [
        write_atomic(
            out / "benchmark.json",
            json.dumps(jsonable(numbers.to_json()), indent=1, ensure_ascii=False) + "\n",
        )
    ]
    with (out / "records.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        names = [f for f in asdict(data.records[0])] if data.records else []
        writer.writerow(names)
        for r in data.records:
            row = asdict(r)
            row["hparams"] = json.dumps(jsonable(row["hparams"]), sort_keys=True)
            writer.writerow([row[k] for k in names])
    files.append(out / "records.csv")
    for stem, table in tables(numbers).items():
        with (out / f"{stem}.csv").open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([table.header, *table.rows])
        files.append(out / f"{stem}.csv")
    files.append(write_atomic(out / "analysis.md", markdown_tables(numbers)))
    return plot_all(numbers, out), files


_PAPER = "Not in the paper (Reddi et al. compare Adam and AMSGrad on three tasks, one seed)."
FIGURES: dict[str, tuple[str, str]] = {
    "benchmark_test_loss": (
        "Benchmark: final test loss per task",
        "Each optimizer's mean final test loss over the seeds of its selected configuration, with "
        "its 95% t-interval; Adam in black (its interval shaded); green: significantly lower "
        "than Adam's, red: significantly higher (Welch t-test, Holm-corrected, α = 0.05).",
    ),
    "benchmark_profile": (
        "Benchmark: performance profile across tasks",
        "Fraction of tasks on which an optimizer's mean final test loss m is within τ of the best "
        "optimizer's m* (ratio 1 + (m − m*)/|m*|, = m/m* for positive losses).",
    ),
    "benchmark_budget": (
        "Benchmark: best-so-far against the tuning budget",
        "Expected best validation loss of b random-search trials drawn without replacement from "
        "the N run (exact order statistics), normalised per task: 0 = the best trial of any "
        "optimizer, 1 = the median trial (or worse, or diverged).",
    ),
}
"""Figure stem -> (title, caption)."""


def _not_run(why: str, command: str) -> StageRecord:
    return StageRecord(status="not run", reason=why, command=command)


def run_benchmark_stage(ctx: StageContext) -> StageRecord:
    """Run the profile's benchmark, analyse it and draw its figures."""
    from beyondadam.experiments import benchmark, make_executor

    p = ctx.profile
    if not p.benchmark_tasks:
        # into a folder of its own: this one holds a run of another profile, which is refused
        family_out = ctx.out_dir.parent / "family"
        cmd = ctx.command.replace(f"--profile {p.name}", "--profile family")
        out, new = shlex.quote(str(ctx.out_dir)), shlex.quote(str(family_out))
        cmd = cmd.replace(f"--out {out}", f"--out {new}")
        return _not_run(f"the {p.name} profile runs no benchmark", cmd)
    tasks = resolve_tasks(p.benchmark_tasks)
    missing = data_missing(tasks, ctx.data_dir)
    if missing:
        return _not_run(missing, ctx.command)
    names = display_names(p.benchmark_optimizers or _catalog_keys())
    spec = benchmark.BenchmarkSpec(
        tasks=tasks,
        optimizers=tuple(names),
        budget=p.benchmark_budget,
        seeds=p.benchmark_seeds,
        steps=tuple((t, s) for t, s in p.benchmark_steps if t in tasks),
    )
    executor = make_executor(ctx.executor, scheduler=ctx.scheduler, workers=ctx.workers)
    try:
        data = benchmark.run_benchmark(
            spec,
            ctx.stage_dir,
            data_dir=str(ctx.data_dir) if ctx.data_dir is not None else None,
            executor=executor,
            quiet=ctx.quiet,
            device=ctx.device,
        )
    finally:
        executor.close()
    numbers = analyse(data, names, not_run=not_run_tasks(tasks))
    paths, _ = write_outputs(data, numbers, ctx.stage_dir)
    config = {
        "tasks": list(tasks),
        "optimizers": len(names),
        "budget": spec.budget,
        "seeds": spec.seeds,
        "steps": dict(spec.steps) or "each task's default",
        "tune": list(spec.tune),
        "selection": "lowest validation loss of the random search",
    }
    figures: tuple[FigureRecord, ...] = ()
    for path in paths:
        title, caption = FIGURES[path.stem]
        figures += figure_records(ctx, [path], title, caption, _PAPER, config)
    notes = [f"not run here: {', '.join(numbers.not_run)}"] if numbers.not_run else []
    return StageRecord(
        status="done", config=config, numbers=numbers, figures=figures, notes=tuple(notes)
    )


def _catalog_keys() -> tuple[str, ...]:
    from beyondadam.optim import catalog

    return tuple(e.key for e in catalog.ENTRIES)
