"""``beyondadam train``, ``beyondadam sweep`` and ``beyondadam export-results``."""

from __future__ import annotations

import json
from pathlib import Path

import click

DATA_HELP = "Directory with mnist/ and/or cifar-10-batches-bin/ (default: $BEYONDADAM_DATA, cache)."


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc)) from exc


def _task_choice() -> click.Choice:
    from beyondadam.experiments.tasks import TASKS

    return click.Choice(sorted(TASKS))


@click.command("train")
@click.option("--task", required=True, type=_task_choice(), help="Test problem.")
@click.option(
    "--optimizer", "-o", default="amsgrad", show_default=True, help="beyondadam.optim name."
)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--beta1", type=float, default=0.9, show_default=True)
@click.option("--beta2", type=float, default=0.999, show_default=True)
@click.option(
    "--hp", "extra", default="{}", help="Extra optimizer kwargs as JSON, e.g. '{\"eps\": 1e-6}'."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--steps", type=int, default=None, help="Iterations (default: the task's).")
@click.option("--eval-every", type=int, default=None, help="Test-evaluation interval.")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), default="results", show_default=True
)
@click.option(
    "--data-dir", envvar="BEYONDADAM_DATA", type=click.Path(), default=None, help=DATA_HELP
)
@click.option("--threads", type=int, default=None, help="Torch threads (default: all cores).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def train_cmd(
    task: str, optimizer: str, lr: float, beta1: float, beta2: float, extra: str, seed: int,
    steps: int | None, eval_every: int | None, out_dir: str, data_dir: str | None,
    threads: int | None, quiet: bool,
) -> None:  # fmt: skip
    """Train one configuration and store it in OUT/results.sqlite (skipped if already there)."""
    from beyondadam.experiments import RunConfig, load_dataset, make_executor, run_configs
    from beyondadam.experiments.optimizers import registry
    from beyondadam.experiments.runner import validate_config
    from beyondadam.experiments.tasks import get_task

    try:
        hp: dict = {"lr": lr, **json.loads(extra)}
        import inspect

        sig = inspect.signature(registry().get(optimizer, object)).parameters
        if "betas" in sig:
            hp.setdefault("betas", [beta1, beta2])
        elif "beta1" in sig:
            hp.setdefault("beta1", beta1)
        cfg = RunConfig.make(task, optimizer, hp, seed=seed, steps=steps, eval_every=eval_every)
        validate_config(cfg)
        load_dataset(get_task(task).dataset, data_dir)
        ex = make_executor("local", workers=1, threads=threads)
        res = run_configs([cfg], out_dir, data_dir=data_dir, executor=ex, quiet=quiet, desc=task)
        res = res[cfg.key]
    except (ValueError, RuntimeError, json.JSONDecodeError) as exc:
        _fail(exc)
    msg = (
        f"{cfg.label()}: {res.status}"
        + (f" at step {res.diverged_step}" if res.diverged_step else "")
        + f"; final train loss {res.final_train_loss():.4f}"
    )
    if len(res.test_loss):
        msg += f"; {res.test_note}: loss {res.test_loss[-1]:.4f}, acc {res.test_acc[-1]:.4f}"
    click.echo(msg + f"; {res.wall_time:.1f} s; key {cfg.key}")


def _floats(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {text!r}") from None


@click.command("sweep")
@click.option(
    "--task",
    "tasks",
    multiple=True,
    type=_task_choice(),
    default=["mnist-logreg", "mnist-mlp"],
    show_default=True,
    help="Repeatable.",
)
@click.option(
    "--optimizer",
    "-o",
    "optimizers",
    multiple=True,
    default=["adam", "amsgrad"],
    show_default=True,
    help="Repeatable.",
)
@click.option("--lrs", default=None, help="Comma-separated lr grid (default: the task's log grid).")
@click.option("--beta2s", default=None, help="Comma-separated beta2 grid (default: 0.99,0.999).")
@click.option(
    "--seeds", type=int, default=5, show_default=True, help="Seeds for the selected configs."
)
@click.option("--steps", type=int, default=None, help="Iterations (default: the task's).")
@click.option("--eval-every", type=int, default=None, help="Test-evaluation interval.")
@click.option(
    "--select-last-frac",
    type=float,
    default=0.1,
    show_default=True,
    help="Selection: mean training loss over this last fraction of iterations.",
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), default="results", show_default=True
)
@click.option(
    "--data-dir", envvar="BEYONDADAM_DATA", type=click.Path(), default=None, help=DATA_HELP
)
@click.option(
    "--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True
)
@click.option("--scheduler", default=None, help="Dask scheduler address (tcp://HOST:PORT).")
@click.option("--workers", type=int, default=None, help="Local worker processes (default: cores).")
@click.option(
    "--threads",
    type=int,
    default=None,
    help="Torch threads per worker (default: cores // workers).",
)
@click.option(
    "--max-batch",
    type=int,
    default=10,
    show_default=True,
    help="Most configs trained at once as one batched model.",
)
@click.option(
    "--plot/--no-plot",
    default=True,
    show_default=True,
    help="Write OUT/<task>_train_loss.png/.svg.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def sweep_cmd(
    tasks: tuple[str, ...], optimizers: tuple[str, ...], lrs: str | None, beta2s: str | None,
    seeds: int, steps: int | None, eval_every: int | None, select_last_frac: float, out_dir: str,
    data_dir: str | None, executor: str, scheduler: str | None, workers: int | None,
    threads: int | None, max_batch: int, plot: bool,
    quiet: bool,
) -> None:  # fmt: skip
    """Run the paper's protocol: lr x beta2 grid per optimizer, select, rerun with N seeds.

    Resumable: rerunning with the same OUT skips every finished configuration.
    """
    from beyondadam.experiments import make_executor, run_protocol

    ex = None
    try:
        lr_grid, b2_grid = _floats(lrs), _floats(beta2s)
        # validate every task's grid and data before starting anything
        for task in tasks:
            _check_protocol_inputs(
                task, optimizers, lr_grid, b2_grid, seeds, steps, eval_every, data_dir
            )
        ex = make_executor(
            executor, scheduler=scheduler, workers=workers, max_batch=max_batch, threads=threads
        )
        for task in tasks:
            res = run_protocol(
                task, optimizers, lrs=lr_grid, beta2s=b2_grid, seeds=seeds, steps=steps,
                eval_every=eval_every, select_last_frac=select_last_frac, out_dir=out_dir,
                data_dir=data_dir, executor=ex, quiet=quiet, plot=plot,
            )  # fmt: skip
            click.echo(_describe(res))
    except (ValueError, RuntimeError) as exc:
        _fail(exc)
    finally:
        if ex is not None:
            ex.close()


def _check_protocol_inputs(task, optimizers, lrs, beta2s, seeds, steps, eval_every, data_dir):
    from beyondadam.experiments import RunConfig, get_task, load_dataset
    from beyondadam.experiments.optimizers import hparam_grid
    from beyondadam.experiments.runner import validate_config

    spec = get_task(task)
    if seeds < 1:
        raise ValueError(f"seeds must be an integer >= 1, got {seeds}")
    for opt in optimizers:
        for hp in hparam_grid(opt, lrs or spec.lr_grid, spec.beta1, beta2s or spec.beta2_grid):
            validate_config(RunConfig.make(task, opt, hp, steps=steps, eval_every=eval_every))
    load_dataset(spec.dataset, data_dir)


def _describe(res) -> str:
    lines = [f"== {res.task} ({res.test_note}); {res.wall_time:.1f} s"]
    for _, r in res.summary.iterrows():
        if r.get("status") != "ok":
            lines.append(f"  {r['optimizer']}: {r.get('status')}")
            continue
        lines.append(
            f"  {r['optimizer']:8s} lr={r['lr']:g} beta2={r['beta2']:g}: final train loss "
            f"{r['final_train_loss_mean']:.4f} [{r['final_train_loss_lo']:.4f}, "
            f"{r['final_train_loss_hi']:.4f}], "
            f"test loss {r.get('test_loss_mean', float('nan')):.4f}, "
            f"test acc {r.get('test_acc_mean', float('nan')):.4f} ({r['seeds']} seeds, "
            f"{r['diverged']} diverged)"
        )
    lines += [f"  figure: {p}" for p in res.plots]
    return "\n".join(lines)


@click.command("export-results")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--curves", is_flag=True, help="Export the long-format curves instead of the runs.")
def export_cmd(out_dir: str, path: str, curves: bool) -> None:
    """Export the result store of OUT_DIR to PATH (.csv or .parquet)."""
    from beyondadam.experiments import ResultStore

    if not (Path(out_dir) / "results.sqlite").is_file():
        raise click.ClickException(f"no results.sqlite in {out_dir}")
    try:
        with ResultStore(out_dir) as store:
            click.echo(str(store.export(path, curves=curves)))
    except (ValueError, ImportError) as exc:
        _fail(exc)


COMMANDS: list[click.Command] = [train_cmd, sweep_cmd, export_cmd]
