"""``beyondadam reproduce`` (rerun the paper, write the report) and ``beyondadam report``.

The profiles and stages live in :mod:`beyondadam.reporting`, which imports torch, so they are
checked when the command runs, not listed in ``--help``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from beyondadam.cli._options import (
    check_device_option,
    check_out_dir,
    check_scheduler,
    data_dir_option,
    device_option,
    executor_options,
    fail,
    library_errors,
    pick,
    quiet_option,
    resumable,
)

__all__ = ["COMMANDS", "report", "reproduce"]


@click.command("reproduce")
@click.option(
    "--profile", "profile_name", default="quick", show_default=True,
    help="quick: every stage on a budget (Figure 1, Theorem 1, a small atlas, MNIST logistic "
    "regression and MLP on each task's full lr grid with fewer iterations and seeds, and a short "
    "CIFARNET smoke run that cannot support the CIFARNET claim); a few minutes on 2 cores. "
    "paper: the paper's full protocol; hours on a CPU. family: quick plus the family benchmark "
    "(does anything beat Adam? every optimizer, an equal tuning budget, the CPU tasks), which "
    "the not-in-general claim is judged from; about 40 minutes on 2 cores. The report records "
    "the profile's sizes and wall times, and marks every verdict that rests on a trimmed "
    "protocol.",
)  # fmt: skip
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
    default=Path("reproduction"), show_default=True,
    help="Output folder (rerunning with the same one resumes).",
)  # fmt: skip
@data_dir_option
@executor_options
@click.option(
    "--only", multiple=True, metavar="STAGE",
    help="Run only this stage (repeatable): figure1, theorem1, atlas or a training stage; "
    "an unknown name lists them all.",
)  # fmt: skip
@click.option(
    "--fresh", is_flag=True,
    help="Redo the selected stages (all without --only) even if stored as done; the other "
    "stages' results are kept. With another profile in --out: start that folder over.",
)  # fmt: skip
@device_option
@quiet_option
def reproduce(
    profile_name: str, out_dir: Path, data_dir: Path | None, executor: str,
    scheduler: str | None, workers: int | None, only: tuple[str, ...], fresh: bool, device: str,
    quiet: bool,
) -> None:  # fmt: skip
    """Rerun the paper (Figure 1, Theorem 1, an atlas, MNIST, CIFARNET) and write the report.

    Writes OUT/report.html (self-contained), OUT/report.md, OUT/results.json and one folder per
    stage. A stage already done in OUT is skipped, so an interrupted run resumes.
    """
    out = check_out_dir(out_dir)
    check_scheduler(scheduler)
    dev = check_device_option(device)
    from beyondadam.reporting import STAGES, ReproduceError, get_profile
    from beyondadam.reporting import reproduce as run_reproduce

    try:
        profile = get_profile(profile_name.lower())
    except KeyError as exc:
        fail("--profile", str(exc.args[0]))
    stages = [pick(s, [st.id for st in STAGES], "--only") for s in only]
    t0 = time.perf_counter()
    kept = f"the finished stages and runs are kept in {out}"
    with resumable(kept), library_errors():
        try:
            result = run_reproduce(
                profile, out, data_dir=data_dir, executor=executor, scheduler=scheduler,
                workers=workers, quiet=quiet, only=stages or None, fresh=fresh, device=dev,
            )  # fmt: skip
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
    from beyondadam.reporting import ReproduceError, rerender

    with library_errors():
        try:
            _, page = rerender(out_dir)
        except ReproduceError as exc:
            raise click.ClickException(str(exc)) from None
        except (KeyError, TypeError, AttributeError, IndexError) as exc:
            raise click.ClickException(
                f"{out_dir / 'results.json'} does not hold a beyondadam report "
                f"({type(exc).__name__}: {exc}); rerun `beyondadam reproduce --out {out_dir}`"
            ) from None
    click.echo(str(page))


COMMANDS: list[click.Command] = [reproduce, report]
