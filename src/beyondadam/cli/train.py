"""``beyondadam train``, ``beyondadam sweep`` and ``beyondadam export-results``.

Every input is checked before any training (see :mod:`beyondadam.cli._options` for the error
contract); torch and the experiments are imported only when a command runs.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from beyondadam.cli._options import (
    OPTIMIZER_HELP,
    check_device_option,
    check_memory,
    check_out_dir,
    check_scheduler,
    data_dir_option,
    device_option,
    executor_options,
    fail,
    library_errors,
    optimizer_entry,
    parse_floats,
    parse_json_object,
    quiet_option,
    resumable,
    seed_option,
    steps_option,
    task_choice,
    threads_option,
)
from beyondadam.cli._options import (
    out_option as _out_option,
)

if TYPE_CHECKING:
    from beyondadam.optim import Entry

__all__ = ["COMMANDS", "export_cmd", "sweep_cmd", "train_cmd"]

#: bytes kept per recorded training step and run (loss curves in memory and in the store).
BYTES_PER_STEP = 16
out_option = _out_option("results", "Folder of the result store results.sqlite (reruns resume).")
eval_every_option = click.option(
    "--eval-every", type=click.IntRange(min=1), default=None,
    help="Test-evaluation interval in iterations (default: the task's).",
)  # fmt: skip


def _data_dir(data_dir: Path | None) -> str | None:
    # absolute before it is shipped to worker processes, whose working folder may differ
    return None if data_dir is None else str(data_dir.expanduser().resolve())


def _kept(out: Path) -> str:
    return (
        f"the finished runs are kept in {out / 'results.sqlite'} and the progress of "
        f"unfinished ones in {out / 'checkpoints'}"
    )


def _hparams(
    entry: Entry, lr: float, beta1: float | None, beta2: float | None, extra: str
) -> dict[str, Any]:
    """The run's keyword arguments; each mistake named by the option it came from."""
    if not (math.isfinite(lr) and lr > 0):
        fail("--lr", f"must be a finite number > 0, got {lr:g}")
    given = parse_json_object(extra, "--hp")
    clash = {"lr", "betas", "beta1"} & set(given)
    if clash:
        fail("--hp", f"sets {sorted(clash)[0]}; use --lr, --beta1 and --beta2 for those")
    hp: dict[str, Any] = {"lr": lr, **given}
    defaults = entry.defaults()
    if "betas" in defaults:
        b1, b2 = defaults["betas"]
        # always stored, as before, so run keys stay those of earlier stores
        hp["betas"] = [b1 if beta1 is None else beta1, b2 if beta2 is None else beta2]
    elif "beta1" in defaults:
        hp["beta1"] = defaults["beta1"] if beta1 is None else beta1
        if beta2 is not None:
            fail("--beta2", f"{entry.name} has beta1 but no beta2")
    elif beta1 is not None or beta2 is not None:
        option = "--beta1" if beta1 is not None else "--beta2"
        fail(option, f"{entry.name} has no betas; it takes {', '.join(defaults)}")
    try:
        entry.validate(hp)
    except ValueError as exc:
        # the parameter the message names first (the class's checks name it)
        bad = next((w for w in re.findall(r"\w+", str(exc)) if w in hp), "")
        option = {"lr": "--lr", "betas": "--beta1/--beta2", "beta1": "--beta1"}.get(bad, "--hp")
        fail("--hp" if bad in given else option, str(exc))
    return hp


@click.command("train")
@click.option("--task", required=True, type=task_choice, help="Test problem.")
@click.option(
    "--optimizer", "-o", default="amsgrad", show_default=True, help=f"Optimizer. {OPTIMIZER_HELP}"
)
@click.option("--lr", type=float, default=1e-3, show_default=True, help="Step size.")
@click.option("--beta1", type=float, default=None, help="For optimizers with betas or beta1.")
@click.option("--beta2", type=float, default=None, help="For optimizers with betas.")
@click.option(
    "--hp", "extra", default="{}", help="More keyword arguments, a JSON object: '{\"eps\": 1e-6}'."
)
@seed_option
@steps_option("Iterations (default: the task's).")
@eval_every_option
@out_option
@data_dir_option
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Torch threads.")
@device_option
@quiet_option
def train_cmd(
    task: str, optimizer: str, lr: float, beta1: float | None, beta2: float | None, extra: str,
    seed: int, steps: int | None, eval_every: int | None, out_dir: Path, data_dir: Path | None,
    threads: int | None, device: str, quiet: bool,
) -> None:  # fmt: skip
    """Train one configuration and store it in OUT/results.sqlite (skipped if already there).

    Hyperparameters an optimizer does not have are refused (`beyondadam optimizers NAME`
    lists its own); --beta1/--beta2 default to the optimizer's.
    """
    out = check_out_dir(out_dir)
    entry = optimizer_entry(optimizer, "--optimizer")
    hp = _hparams(entry, lr, beta1, beta2, extra)
    dev = check_device_option(device)
    if steps is not None:
        check_memory(steps * BYTES_PER_STEP, f"recording {steps:,} steps", "--steps")
    from beyondadam.experiments import RunConfig, load_dataset, make_executor, run_configs
    from beyondadam.experiments.runner import validate_config
    from beyondadam.experiments.store import check_store
    from beyondadam.experiments.tasks import get_task

    data = _data_dir(data_dir)
    with resumable(_kept(out)), library_errors(out / "results.sqlite"):
        check_store(out)
        cfg = RunConfig.make(task, entry.key, hp, seed=seed, steps=steps, eval_every=eval_every)
        validate_config(cfg)
        load_dataset(get_task(task).dataset, data)
        ex = make_executor("local", workers=1, threads=threads)
        res = run_configs(
            [cfg], out, data_dir=data, executor=ex, quiet=quiet, desc=task, device=dev
        )[cfg.key]
    msg = (
        f"{cfg.label()}: {res.status}"
        + (f" at step {res.diverged_step}" if res.diverged_step else "")
        + f"; final train loss {res.final_train_loss():.4f}"
    )
    if len(res.test_loss):
        msg += f"; {res.test_note}: loss {res.test_loss[-1]:.4f}, acc {res.test_acc[-1]:.4f}"
    click.echo(msg + f"; {res.wall_time:.1f} s; key {cfg.key}")


@click.command("sweep")
@click.option(
    "--task", "tasks", multiple=True, type=task_choice, default=["mnist-logreg", "mnist-mlp"],
    show_default=True, help="Repeatable.",
)  # fmt: skip
@click.option(
    "--optimizer", "-o", "optimizers", multiple=True, default=["adam", "amsgrad"],
    show_default=True, help=f"Repeatable. {OPTIMIZER_HELP}",
)  # fmt: skip
@click.option("--lrs", default=None, help="Comma-separated lr grid (default: the task's log grid).")
@click.option(
    "--beta2s", default=None, help="Comma-separated beta2 grid (default: the task's: 0.99,0.999)."
)
@click.option(
    "--seeds", type=click.IntRange(min=1), default=5, show_default=True,
    help="Seeds of each optimizer's selected configuration.",
)  # fmt: skip
@steps_option("Iterations (default: the task's).")
@eval_every_option
@click.option(
    "--select-last-frac", type=click.FloatRange(0, 1, min_open=True), default=0.1,
    show_default=True, help="Selection: mean training loss over this last fraction of iterations.",
)  # fmt: skip
@out_option
@data_dir_option
@executor_options
@threads_option
@click.option(
    "--max-batch", type=click.IntRange(min=1), default=10, show_default=True,
    help="Most configs trained at once as one batched model.",
)  # fmt: skip
@click.option(
    "--plot/--no-plot", default=True, show_default=True, help="Write the task's loss plots."
)
@device_option
@quiet_option
def sweep_cmd(
    tasks: tuple[str, ...], optimizers: tuple[str, ...], lrs: str | None, beta2s: str | None,
    seeds: int, steps: int | None, eval_every: int | None, select_last_frac: float,
    out_dir: Path, data_dir: Path | None, executor: str, scheduler: str | None,
    workers: int | None, threads: int | None, max_batch: int, plot: bool, device: str,
    quiet: bool,
) -> None:  # fmt: skip
    """Run the paper's protocol: lr x beta2 grid per optimizer, select, rerun with N seeds.

    Resumable: rerunning with the same OUT skips every finished configuration.
    """
    out = check_out_dir(out_dir)
    check_scheduler(scheduler)
    dev = check_device_option(device)
    names = list(dict.fromkeys(optimizer_entry(o, "--optimizer").key for o in optimizers))
    lr_grid = None if lrs is None else parse_floats(lrs, "--lrs")
    b2_grid = None if beta2s is None else parse_floats(beta2s, "--beta2s")
    data = _data_dir(data_dir)
    from beyondadam.experiments import make_executor, run_protocol
    from beyondadam.experiments.store import check_store

    with library_errors():  # the store, every task's grid and data checked before anything starts
        check_store(out)
        for task in tasks:
            _check_protocol_inputs(task, names, lr_grid, b2_grid, seeds, steps, eval_every, data)
        ex = make_executor(
            executor, scheduler=scheduler, workers=workers, max_batch=max_batch, threads=threads
        )
    try:
        with resumable(_kept(out)), library_errors(out / "results.sqlite"):
            for task in tasks:
                res = run_protocol(
                    task, names, lrs=lr_grid, beta2s=b2_grid, seeds=seeds, steps=steps,
                    eval_every=eval_every, select_last_frac=select_last_frac, out_dir=out,
                    data_dir=data, executor=ex, quiet=quiet, plot=plot, device=dev,
                )  # fmt: skip
                click.echo(_describe(res))
    finally:
        ex.close()


def _check_protocol_inputs(task, optimizers, lrs, beta2s, seeds, steps, eval_every, data_dir):
    from beyondadam.experiments import RunConfig, get_task, load_dataset
    from beyondadam.experiments.optimizers import hparam_grid
    from beyondadam.experiments.runner import validate_config

    spec = get_task(task)
    runs = len(optimizers) * seeds
    for opt in optimizers:
        grid = hparam_grid(opt, lrs or spec.lr_grid, spec.beta1, beta2s or spec.beta2_grid)
        runs += len(grid)
        for hp in grid:
            validate_config(RunConfig.make(task, opt, hp, steps=steps, eval_every=eval_every))
    n = steps or spec.steps
    check_memory(runs * n * BYTES_PER_STEP, f"{runs} runs of {n:,} steps on {task}", "--steps")
    load_dataset(spec.dataset, data_dir)


def _beta2(value: float) -> str:
    """`` beta2=...`` for optimizers that have one; nothing for those that don't (NaN)."""
    return "" if value != value else f" beta2={value:g}"


def _describe(res) -> str:
    lines = [f"== {res.task} ({res.test_note}); {res.wall_time:.1f} s"]
    for _, r in res.summary.iterrows():
        if r.get("status") != "ok":
            lines.append(f"  {r['optimizer']}: {r.get('status')}")
            continue
        lines.append(
            f"  {r['optimizer']:8s} lr={r['lr']:g}{_beta2(r['beta2'])}: final train loss "
            f"{r['final_train_loss_mean']:.4f} [{r['final_train_loss_lo']:.4f}, "
            f"{r['final_train_loss_hi']:.4f}], "
            f"test loss {r.get('test_loss_mean', float('nan')):.4f}, "
            f"test acc {r.get('test_acc_mean', float('nan')):.4f} ({r['seeds']} seeds, "
            f"{r['diverged']} diverged)"
        )
    stem = Path(res.out_dir) / res.stem
    lines.append(f"  summary: {stem}_summary.csv (grid: _grid.csv, JSON: _protocol.json)")
    lines += [f"  figure: {p}" for p in res.plots]
    return "\n".join(lines)


@click.command("export-results")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--curves", is_flag=True, help="Export the long-format curves instead of the runs.")
def export_cmd(out_dir: Path, path: Path, curves: bool) -> None:
    """Export the result store of OUT_DIR to PATH (.csv or .parquet)."""
    if not (out_dir / "results.sqlite").is_file():
        fail("OUT_DIR", f"no results.sqlite in {out_dir}")
    check_out_dir(path.parent, "PATH")
    from beyondadam.experiments import ResultStore

    with library_errors(out_dir / "results.sqlite"), ResultStore(out_dir) as store:
        click.echo(str(store.export(path, curves=curves)))


COMMANDS: list[click.Command] = [train_cmd, sweep_cmd, export_cmd]
