"""``beyondadam benchmark``: does anything beat Adam? The family under an equal tuning budget.

Every option is checked before any run (one error line naming the option); the runs go through
:func:`beyondadam.experiments.benchmark.run_benchmark` (resumable: rerunning the same command
into the same --out repeats nothing) and the analysis through
:mod:`beyondadam.reporting.benchmark_stats`. The experiments and the report import torch, so they
are imported inside the command, never for ``--help``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from beyondadam.cli._options import (
    OPTIMIZER_HELP,
    check_device_option,
    check_out_dir,
    check_scheduler,
    data_dir_option,
    device_option,
    executor_options,
    fail,
    library_errors,
    optimizer_entry,
    out_option,
    parse_names,
    quiet_option,
    resumable,
)

__all__ = ["COMMANDS", "benchmark", "parse_steps"]

SPEC_FILE = "spec.json"
"""What the command ran, written before the first run: a rerun with the same spec resumes."""
_OPTIONS = ("--budget", "--seeds", "--steps", "--tune", "--optimizer", "--task")


def parse_steps(text: str | None, tasks: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """``N`` (every task) or ``task=N,task=N`` -> ``((task, N), ...)``; ``None``: task defaults."""
    if text is None:
        return ()
    pairs: list[tuple[str, int]] = []
    for part in parse_names(text):
        task, sep, value = part.rpartition("=")
        try:
            n = int(value)
        except ValueError:
            fail("--steps", f"expected N or TASK=N,TASK=N with integers N >= 1, got {text!r}")
        if n < 1:
            fail("--steps", f"steps must be >= 1, got {n}")
        if not sep:
            pairs += [(t, n) for t in tasks]
        elif task.lower() not in tasks:
            fail("--steps", f"task {task!r} is not benchmarked; tasks: {', '.join(tasks)}")
        else:
            pairs.append((task.lower(), n))
    if not pairs:
        fail("--steps", f"expected N or TASK=N,TASK=N, got {text!r}")
    return tuple(dict(pairs).items())


def _optimizers(names: tuple[str, ...]) -> dict[str, str]:
    """Catalog key -> display name; ``all`` is the whole catalog; Adam must be there."""
    from beyondadam.optim import catalog

    keys: list[str] = []
    for raw in names:
        for name in parse_names(raw):
            if name.lower() == "all":
                keys += [e.key for e in catalog.ENTRIES]
            else:
                keys.append(optimizer_entry(name, "--optimizer").key)
    keys = list(dict.fromkeys(keys))
    if "adam" not in keys:
        fail("--optimizer", "every comparison is made against Adam: include adam (or all)")
    if len(keys) < 2:
        fail("--optimizer", "name at least one optimizer besides adam (or all)")
    return {k: catalog.get(k).name for k in keys}


def _check_out(out: Path, spec: dict[str, Any], force: bool) -> None:
    """Refuse an --out holding other outputs, unless it is this benchmark's (resume) or --force."""
    if force or not out.is_dir() or not any(out.iterdir()):
        return
    stored = out / SPEC_FILE
    try:
        same = json.loads(stored.read_text(encoding="utf-8")) == spec
    except (OSError, ValueError):
        same = False
    if not same:
        fail(
            "--out",
            f"{out} holds other outputs (not this benchmark's {SPEC_FILE}); pass --force to use "
            "it anyway or choose another folder",
        )


def _option_of(message: str) -> str:
    """The option a library ``ValueError`` is about (its message names the setting)."""
    low = message.lower()
    return next((o for o in _OPTIONS if o.lstrip("-") in low), "--task")


@click.command("benchmark")
@click.option(
    "--task", "tasks", multiple=True, default=("cpu",), show_default=True, metavar="TASK",
    help="Task id (repeatable or comma-separated); cpu: every CPU-sized task; all: every task.",
)  # fmt: skip
@click.option(
    "--optimizer", "optimizers", multiple=True, default=("all",), show_default=True,
    metavar="NAME", help=f"Optimizer (repeatable or comma-separated; all: the catalog; adam "
    f"must be included). {OPTIMIZER_HELP}",
)  # fmt: skip
@click.option(
    "--budget", type=click.IntRange(min=1), default=10, show_default=True,
    help="Random-search trials per (task, optimizer), the same for every optimizer.",
)  # fmt: skip
@click.option(
    "--seeds", type=click.IntRange(min=1), default=5, show_default=True,
    help="Seeds of each selected configuration (the test needs >= 2).",
)  # fmt: skip
@click.option(
    "--steps", default=None, metavar="N|TASK=N,...",
    help="Iterations of every run: N for all tasks or TASK=N per task (default: each task's).",
)  # fmt: skip
@click.option(
    "--tune", type=click.Choice(("lr", "betas"), case_sensitive=False), default="lr",
    show_default=True, help="lr: log-uniform lr around the optimizer's default; betas: also "
    "beta1 and beta2.",
)  # fmt: skip
@executor_options
@out_option("benchmark", "Output folder (rerunning the same command resumes).", force=True)
@data_dir_option
@device_option
@quiet_option
def benchmark(
    tasks: tuple[str, ...], optimizers: tuple[str, ...], budget: int, seeds: int,
    steps: str | None, tune: str, executor: str, scheduler: str | None, workers: int | None,
    out_dir: Path, force: bool, data_dir: Path | None, device: str, quiet: bool,
) -> None:  # fmt: skip
    """Does anything beat Adam? Tune every optimizer equally, rerun the best, compare.

    For each task and optimizer: BUDGET random-search trials, the one with the lowest
    validation loss rerun with SEEDS seeds (the same seeds for every optimizer). Writes
    benchmark.json, records.csv, the win/tie/loss and interval tables (Markdown, CSV) and the
    figures into --out, and prints who beats Adam where (Welch t-test, Holm-corrected).
    """
    out = check_out_dir(out_dir)
    check_scheduler(scheduler)
    if executor == "dask" and not scheduler:
        fail("--scheduler", "--executor dask needs --scheduler tcp://HOST:PORT")
    dev = check_device_option(device)
    from beyondadam.reporting.benchmark_stage import resolve_tasks

    try:
        task_ids = resolve_tasks([n for raw in tasks for n in parse_names(raw)])
    except ValueError as exc:
        fail("--task", str(exc))
    names = _optimizers(optimizers)
    from beyondadam.experiments import benchmark as bench

    spec = bench.BenchmarkSpec(
        tasks=task_ids,
        optimizers=tuple(names),
        budget=budget,
        seeds=seeds,
        steps=parse_steps(steps, task_ids),
        tune=("lr",) if tune.lower() == "lr" else ("lr", "betas"),
    )
    validate = getattr(bench, "validate_spec", None)
    if validate is not None:
        try:
            validate(spec)
        except ValueError as exc:
            fail(_option_of(str(exc)), str(exc))
    spec_json = json.loads(json.dumps(asdict(spec)))
    _check_out(out, spec_json, force)
    _run(bench, spec, spec_json, names, out, data_dir, executor, scheduler, workers, quiet, dev)


def _run(
    bench: Any, spec: Any, spec_json: dict[str, Any], names: dict[str, str], out: Path,
    data_dir: Path | None, executor: str, scheduler: str | None, workers: int | None, quiet: bool,
    device: str | None,
) -> None:  # fmt: skip
    """Check the data, run (resumable) on ``device``, analyse, write the outputs, print."""
    from beyondadam.experiments import make_executor
    from beyondadam.reporting.benchmark_stage import data_missing, not_run_tasks, write_outputs
    from beyondadam.reporting.benchmark_stats import analyse
    from beyondadam.reporting.benchmark_tables import summary_lines
    from beyondadam.reporting.results import write_atomic

    with library_errors():
        missing = data_missing(spec.tasks, data_dir)
        if missing:
            raise click.ClickException(f"{missing} (--data-dir)")
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / SPEC_FILE, json.dumps(spec_json, indent=1) + "\n")
        runner = make_executor(executor, scheduler=scheduler, workers=workers)
    kept = f"the finished runs are kept in {out}"
    try:
        with resumable(kept), library_errors():
            data = bench.run_benchmark(
                spec, out, data_dir=str(data_dir) if data_dir is not None else None,
                executor=runner, quiet=quiet, device=device,
            )  # fmt: skip
    finally:
        runner.close()
    with library_errors():
        numbers = analyse(data, names, not_run=not_run_tasks(spec.tasks))
        write_outputs(data, numbers, out)
    for line in summary_lines(numbers):
        click.echo(line)
    if not quiet:
        click.echo(f"outputs: {out} (analysis.md, benchmark.json, figures)", err=True)


COMMANDS: list[click.Command] = [benchmark]
