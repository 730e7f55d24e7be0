"""Orchestration of ``beyondadam reproduce``: stages in order, resumable, then the report.

Each stage writes into ``OUT/<stage id>/`` and stores its record in ``OUT/results.json`` as soon as
it ends; a stage recorded as ``done`` is skipped when the reproduction is run again (and the
experiments' own SQLite store resumes a training stage that was interrupted midway). Everything
that can be checked before work starts is checked first (:func:`preflight`).
"""

from __future__ import annotations

import datetime as _dt
import os
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from beyondadam.reporting import results as _results
from beyondadam.reporting.benchmark_stage import run_benchmark_stage
from beyondadam.reporting.collect import run_atlas, run_family, run_figure1, run_theorem1
from beyondadam.reporting.environment import collect_environment
from beyondadam.reporting.preflight import ReproduceError, preflight
from beyondadam.reporting.profiles import Profile
from beyondadam.reporting.render import write_report
from beyondadam.reporting.results import StageRecord
from beyondadam.reporting.stage import TASK_TITLES, Stage, StageContext
from beyondadam.reporting.training import run_training

__all__ = [
    "STAGES",
    "ReproduceError",
    "ReproduceResult",
    "Stage",
    "StageContext",
    "command_line",
    "preflight",
    "reproduce",
    "rerender",
]

DATA_ENV = "BEYONDADAM_DATA"


def _training_stage(task: str, needs: str) -> Stage:
    """The stage that runs task ``task``'s protocol; its id is the task's id."""

    def run(ctx: StageContext) -> StageRecord:
        return run_training(ctx, task)

    return Stage(task, TASK_TITLES[task], run, needs)


STAGES: tuple[Stage, ...] = (
    Stage("figure1", "Figure 1: online and stochastic problems", run_figure1),
    Stage("theorem1", "Theorem 1 example", run_theorem1),
    Stage("atlas", "Convergence atlas over (β1, β2)", run_atlas),
    Stage("family", "Which fixes fix it: every optimizer on the counterexamples", run_family),
    _training_stage("mnist-logreg", "mnist"),
    _training_stage("mnist-mlp", "mnist"),
    _training_stage("cifarnet", "cifar"),
    # needs "none": only the family profile runs it, and the stage itself asks the loaders for
    # its tasks' data (a quick run without it must not be refused for the benchmark's sake)
    Stage("benchmark", "Does anything beat Adam? The family benchmark", run_benchmark_stage),
)


@dataclass
class ReproduceResult:
    """What :func:`reproduce` returns."""

    out_dir: Path
    report_md: Path
    report_html: Path
    data: dict[str, Any]
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def command_line(
    profile: Profile,
    out_dir: Path,
    data_dir: Path | None,
    executor: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    only: Sequence[str] | None = None,
    fresh: bool = False,
    device: str | None = None,
) -> str:
    """The ``beyondadam reproduce`` command line with every option that shapes the run.

    Without ``only`` and ``fresh`` it reruns (resumes) the whole reproduction, which is what a
    stage that did not run tells the reader to type; with them it is one invocation exactly.
    """
    parts = ["beyondadam", "reproduce", "--profile", profile.name, "--out", str(out_dir)]
    if data_dir is not None:
        parts += ["--data-dir", str(data_dir)]
    parts += ["--executor", executor]
    if scheduler:
        parts += ["--scheduler", scheduler]
    if workers is not None:
        parts += ["--workers", str(workers)]
    if device is not None:
        parts += ["--device", device]
    for sid in only or ():
        parts += ["--only", sid]
    if fresh:
        parts.append("--fresh")
    return shlex.join(parts)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def reproduce(
    profile: Profile,
    out_dir: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    quiet: bool = False,
    only: Sequence[str] | None = None,
    fresh: bool = False,
    stages: Sequence[Stage] = STAGES,
    log: Callable[[str], None] | None = None,
    device: str | None = None,
) -> ReproduceResult:
    """Run the reproduction's stages in order and write the report.

    Args:
        profile: How much to run (:data:`~beyondadam.reporting.profiles.QUICK` or ``PAPER``).
        out_dir: Output directory; ``results.json``, ``report.md``, ``report.html`` and one
            folder per stage go there. Reusing it resumes: stages already done are skipped.
        data_dir: Folder holding ``mnist/`` (and optionally ``cifar-10-batches-bin/``); defaults
            to the ``BEYONDADAM_DATA`` environment variable.
        executor: Where training runs execute (``"local"`` or ``"dask"``; see
            :mod:`beyondadam.experiments`).
        scheduler: Dask scheduler address for ``executor="dask"``.
        workers: Worker processes for the executor (``None``: its default).
        quiet: No progress messages.
        only: Run only the stages with these ids (others keep what is stored).
        fresh: Ignore stored stage states and redo every selected stage.
        stages: The stage list (tests pass their own).
        log: Where progress messages go (default: stderr).
        device: Where the training stages train (``"cuda"``, ``"cuda:N"``; ``None``: the CPU,
            checked by the caller before any work).

    Raises:
        ReproduceError: Before any work, when :func:`preflight` finds a problem.

    """
    out = Path(out_dir).expanduser().resolve()
    if data_dir is None and os.environ.get(DATA_ENV):
        data_dir = os.environ[DATA_ENV]
    data = Path(data_dir).expanduser().resolve() if data_dir is not None else None
    if only:
        known = {s.id for s in stages}
        unknown = [s for s in only if s not in known]
        if unknown:
            raise ReproduceError(
                f"unknown stage(s) {', '.join(unknown)}; stages: {', '.join(sorted(known))}"
            )
        selected = [s for s in stages if s.id in only]
    else:
        selected = list(stages)
    state = preflight(profile, out, data, selected, fresh, executor, scheduler)

    def _default_log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    emit = log or _default_log

    def say(msg: str) -> None:
        if not quiet:
            emit(msg)

    command = command_line(profile, out, data, executor, scheduler, workers, device=device)
    invocation = command_line(
        profile, out, data, executor, scheduler, workers, only, fresh, device=device
    )
    state["profile"] = profile.as_dict()
    state["seeds"] = profile.seeds()
    state["command"] = command
    state.setdefault("started", _now())
    state["environment"] = collect_environment()
    state["data_dir"] = str(data) if data is not None else None
    stored = state.setdefault("stages", {})
    # keep the stage order of ``stages`` in the stored mapping
    state["stages"] = {s.id: stored[s.id] for s in stages if s.id in stored}
    _results.save(out, state)

    result = ReproduceResult(out, out / "report.md", out / "report.html", state)
    t_start = time.perf_counter()
    started = _now()
    n = len(selected)
    for i, stage in enumerate(selected, 1):
        rec = state["stages"].get(stage.id)
        if rec and rec.get("status") == "done":
            say(f"[{i}/{n}] {stage.title}: done in a previous run, skipped")
            result.skipped.append(stage.id)
            continue
        say(f"[{i}/{n}] {stage.title} ...")
        stage_dir = out / stage.id
        stage_dir.mkdir(parents=True, exist_ok=True)
        ctx = StageContext(
            profile, out, stage_dir, data, executor, scheduler, workers, quiet, say, command,
            device,
        )  # fmt: skip
        t0 = time.perf_counter()
        try:
            record = stage.run(ctx)
            if not isinstance(record, StageRecord):
                raise TypeError(f"stage {stage.id} returned {record!r}, not a StageRecord")
        except KeyboardInterrupt:
            say(f"interrupted during {stage.title}; rerun the same command to resume: {command}")
            raise
        except Exception as exc:  # a failed stage must not lose the others' results
            record = StageRecord(
                status="failed",
                reason=f"{type(exc).__name__}: {exc}",
                notes=(traceback.format_exc(limit=3)[-1500:],),
                command=command,
            )
            result.failed.append(stage.id)
            say(f"[{i}/{n}] {stage.title}: FAILED: {type(exc).__name__}: {exc}")
        record = replace(
            record,
            title=record.title or stage.title,
            wall_s=round(time.perf_counter() - t0, 2),
        )
        state["stages"][stage.id] = record.to_json()
        # re-sort into stage order
        state["stages"] = {s.id: state["stages"][s.id] for s in stages if s.id in state["stages"]}
        _results.save(out, state)
        if record.status == "done":
            result.ran.append(stage.id)
            say(f"[{i}/{n}] {stage.title}: done in {record.wall_s:.1f} s")
        elif record.status == "not run":
            say(f"[{i}/{n}] {stage.title}: not run: {record.reason}")

    state["finished"] = _now()
    state.setdefault("invocations", []).append(
        {
            "command": invocation,
            "started": started,
            "finished": state["finished"],
            "wall_s": round(time.perf_counter() - t_start, 2),
            "ran": result.ran,
            "skipped": result.skipped,
            "failed": result.failed,
        }
    )
    state["wall_s"] = round(
        sum(
            r.get("wall_s") or 0.0
            for r in state["stages"].values()
            if isinstance(r.get("wall_s"), (int, float))
        ),
        2,
    )
    _results.save(out, state)
    result.report_md, result.report_html = write_report(state, out)
    say(f"report: {result.report_html}")
    return result


def rerender(out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Re-render ``report.md`` and ``report.html`` from ``out_dir/results.json`` alone.

    Raises:
        ReproduceError: If there is no ``results.json`` in ``out_dir`` or it cannot be read.

    """
    out = Path(out_dir)
    if not (out / _results.RESULTS_FILE).is_file():
        raise ReproduceError(
            f"no {_results.RESULTS_FILE} in {out}: run `beyondadam reproduce --out {out}` first"
        )
    try:
        data = _results.load(out)
    except ValueError as exc:
        raise ReproduceError(
            f"{exc}. To get a report from this beyondadam, rerun `beyondadam reproduce` into "
            "a new --out directory."
        ) from exc
    return write_report(data, out)
