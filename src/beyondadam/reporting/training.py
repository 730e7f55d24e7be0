"""The training stages (Figure 2), run through :func:`beyondadam.experiments.run_protocol`.

A training stage's id is its task's id (``"mnist-logreg"``). The stage first asks the loader
whether the task's dataset is there and how many test images it holds
(:func:`~beyondadam.reporting.datasets.dataset_status`), runs the protocol (grid, then seeds) for
the profile's optimizers, draws the test-loss figure and returns typed
:class:`~beyondadam.reporting.numbers.TrainingNumbers`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from beyondadam.reporting.datasets import dataset_status
from beyondadam.reporting.figures import plot_training
from beyondadam.reporting.numbers import TrainingNumbers, TrainingOptimizer
from beyondadam.reporting.results import FigureRecord, StageRecord, jsonable
from beyondadam.reporting.stage import TASK_TITLES, StageContext, display_names, figure_records

__all__ = ["run_training"]

_PAPER_FIG2 = {
    "mnist-logreg": "Figure 2 (top left and center): on MNIST logistic regression AMSGrad's "
    "training loss ends below Adam's.",
    "mnist-mlp": "Figure 2 (top right): on the 1-hidden-layer MLP AMSGrad's training loss ends "
    "below Adam's.",
    "cifarnet": "Figure 2 (bottom): on CIFARNET AMSGrad's training and test losses end below "
    "Adam's.",
}


def _not_run(ctx: StageContext, why: str) -> StageRecord:
    command = ctx.command if ctx.data_dir is not None else ctx.command + " --data-dir DIR"
    return StageRecord(status="not run", reason=why, command=command)


def _optimizer_numbers(res: Any, key: str, name: str) -> TrainingOptimizer:
    runs = res.runs[key]
    ok = [r for r in runs if r.status == "done"]
    return TrainingOptimizer(
        name=name,
        selected=jsonable(res.selected[key].hp),
        seeds=tuple(r.config.seed for r in runs),
        diverged=len(runs) - len(ok),
        final_train_loss=tuple(r.final_train_loss(res.select_last_frac) for r in ok),
        final_test_loss=tuple(float(r.test_loss[-1]) for r in ok if len(r.test_loss)),
        final_test_accuracy=tuple(float(r.test_acc[-1]) for r in ok if len(r.test_acc)),
    )


def _figures(
    ctx: StageContext, res: Any, names: dict[str, str], config: dict[str, Any]
) -> tuple[FigureRecord, ...]:
    """The training-loss figure (drawn by experiments) and the test-loss figure (drawn here)."""
    from beyondadam.experiments import plot_training_loss

    task, tp = res.task, ctx.profile.training[res.task]
    title = TASK_TITLES[task]
    png = plot_training_loss(res, ctx.stage_dir / f"{task}_train_loss.png")
    plot_training_loss(res, ctx.stage_dir / f"{task}_train_loss.svg")
    figures = figure_records(
        ctx,
        [Path(png)],
        f"{title}: training loss",
        f"Training loss per iteration, mean and 95% band over {tp.seeds} "
        f"seed{'s' if tp.seeds != 1 else ''} of each "
        "optimizer's selected configuration. " + res.test_note + ".",
        _PAPER_FIG2[task],
        config,
    )
    curves = {}
    for key, runs in res.runs.items():
        ok = [r for r in runs if r.status == "done" and len(r.test_loss)]
        if ok:
            curves[names[key]] = (ok[0].test_steps, np.stack([r.test_loss for r in ok]))
    if not curves:
        return figures
    test_png = plot_training(
        curves, ctx.stage_dir / f"{task}_test_loss.png", f"{title}: test loss", "test loss", False
    )
    return figures + figure_records(
        ctx,
        [test_png],
        f"{title}: test loss",
        f"Test loss at each evaluation, mean and min-max over seeds. {res.test_note}.",
        _PAPER_FIG2[task],
        config,
    )


def run_training(ctx: StageContext, task: str) -> StageRecord:
    """Run task ``task``'s protocol (grid, then seeds) for the profile's optimizers."""
    from beyondadam.experiments import get_task, run_protocol

    tp = ctx.profile.training[task]
    data = dataset_status(get_task(task).dataset, ctx.data_dir)
    if not data.ready:
        return _not_run(ctx, data.reason)
    names = display_names(ctx.profile.optimizers)
    res = run_protocol(
        task,
        tuple(names),
        lrs=tp.lrs,
        beta2s=tp.beta2s,
        seeds=tp.seeds,
        steps=tp.steps,
        eval_every=tp.eval_every,
        grid_seed=ctx.profile.seed,
        out_dir=ctx.stage_dir,
        data_dir=str(ctx.data_dir) if ctx.data_dir is not None else None,
        executor=ctx.executor,
        scheduler=ctx.scheduler,
        workers=ctx.workers,
        quiet=ctx.quiet,
        plot=False,
        device=ctx.device,
    )
    optimizers = {k: _optimizer_numbers(res, k, names[k]) for k in names if k in res.runs}
    notes = [res.test_note]
    notes += [
        f"{k}: {o.diverged} of {len(o.seeds)} seed runs diverged"
        for k, o in optimizers.items()
        if o.diverged
    ]
    missing = [k for k in names if k not in optimizers]
    notes += [f"{k}: every grid configuration diverged" for k in missing]
    steps = int(next(iter(res.selected.values())).steps) if res.selected else tp.steps
    config = {
        "task": task,
        "steps": steps,
        "lr grid": list(res.grid.lr.unique()) if len(res.grid) else tp.lrs,
        "beta2 grid": list(tp.beta2s),
        "beta1": 0.9,
        "seeds": tp.seeds,
        "selection": f"lowest mean training loss over the last {res.select_last_frac:.0%} "
        "of iterations (grid seed)",
        "selected": {k: o.selected for k, o in optimizers.items()},
    }
    figures = _figures(ctx, res, names, config) if res.selected else ()
    numbers = TrainingNumbers(
        task=task,
        test_note=res.test_note,
        n_test=data.n_test,
        test_complete=data.test_complete,
        optimizers=optimizers,
        summary=tuple(json.loads(res.summary.to_json(orient="records"))),
    )
    return StageRecord(
        status="failed" if missing else "done",
        reason="no finished run for " + ", ".join(missing) if missing else None,
        config=config,
        numbers=numbers,
        figures=figures,
        notes=tuple(notes),
    )
