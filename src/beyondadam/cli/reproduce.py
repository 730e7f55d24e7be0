"""``beyondadam reproduce`` (rerun the paper, write the report) and ``beyondadam report``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from beyondadam.reporting.profiles import PROFILES, get_profile

__all__ = ["COMMANDS", "report", "reproduce"]

_EXECUTORS = ("local", "dask")


@click.command("reproduce")
@click.option(
    "--profile",
    "profile_name",
    default="quick",
    show_default=True,
    help="quick: Figure 1, Theorem 1, an atlas and MNIST in about 4 minutes on 2 cores "
    "(CIFARNET only in paper); paper: the paper's full protocol (hours). "
    f"One of: {', '.join(PROFILES)}.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reproduction"),
    show_default=True,
    help="Output directory (rerunning with the same one resumes).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="BEYONDADAM_DATA",
    show_envvar=True,
    help="Folder with mnist/ (required) and cifar-10-batches-bin/ (optional).",
)
@click.option(
    "--executor",
    type=click.Choice(_EXECUTORS),
    default="local",
    show_default=True,
    help="Where training runs execute: local (a process pool) or dask (a Dask cluster).",
)
@click.option("--scheduler", default=None, help="Dask scheduler address (tcp://HOST:PORT).")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes.")
@click.option(
    "--only",
    multiple=True,
    metavar="STAGE",
    help="Run only this stage (repeatable): figure1, theorem1, atlas, "
    "mnist_logreg, mnist_mlp, cifarnet.",
)
@click.option("--fresh", is_flag=True, help="Redo every stage even if stored as done.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
def reproduce(
    profile_name: str,
    out_dir: Path,
    data_dir: Path | None,
    executor: str,
    scheduler: str | None,
    workers: int | None,
    only: tuple[str, ...],
    fresh: bool,
    quiet: bool,
) -> None:
    """Rerun the paper (Figure 1, Theorem 1, an atlas, MNIST, CIFARNET) and write the report.

    Writes OUT/report.html (self-contained), OUT/report.md, OUT/results.json and one folder per
    stage. A stage already done in OUT is skipped, so an interrupted run resumes.
    """
    from beyondadam.reporting.pipeline import ReproduceError
    from beyondadam.reporting.pipeline import reproduce as run_reproduce

    try:
        profile = get_profile(profile_name)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--profile") from None
    t0 = time.perf_counter()
    try:
        result = run_reproduce(
            profile,
            out_dir,
            data_dir=data_dir,
            executor=executor,
            scheduler=scheduler,
            workers=workers,
            quiet=quiet,
            only=list(only) or None,
            fresh=fresh,
        )
    except ReproduceError as exc:
        raise click.ClickException(str(exc)) from None
    if not quiet:
        click.echo(
            f"wall time of this invocation: {time.perf_counter() - t0:.1f} s; "
            f"report: {result.report_html}",
            err=True,
        )
    click.echo(str(result.report_html))
    if result.failed:
        click.echo(f"failed stages: {', '.join(result.failed)} (see the report)", err=True)
        sys.exit(1)


@click.command("report")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def report(out_dir: Path) -> None:
    """Re-render OUT_DIR/report.html and report.md from OUT_DIR/results.json (no rerun)."""
    from beyondadam.reporting.pipeline import ReproduceError, rerender

    try:
        _, page = rerender(out_dir)
    except ReproduceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(str(page))


COMMANDS: list[click.Command] = [reproduce, report]
