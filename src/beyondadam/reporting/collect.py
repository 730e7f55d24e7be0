"""The thin adapter between the report and :mod:`beyondadam.sim` / :mod:`beyondadam.experiments`.

Every call into those packages lives here. Each ``run_*`` function runs one stage through their
public API, writes the stage's figures into ``ctx.stage_dir`` and returns a
:class:`~beyondadam.reporting.results.StageRecord` whose ``numbers`` follow the layout documented
in :mod:`beyondadam.reporting.claims`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from beyondadam.reporting.figures import plot_training
from beyondadam.reporting.results import FigureRecord, StageRecord

if TYPE_CHECKING:
    from beyondadam.reporting.pipeline import StageContext

__all__ = [
    "CIFAR_DIR",
    "CIFAR_TRAIN_FILES",
    "MNIST_FILES",
    "cifar_status",
    "mnist_cached",
    "mnist_dir",
    "mnist_help",
    "mnist_missing",
    "run_atlas",
    "run_figure1",
    "run_theorem1",
    "run_training",
]

MNIST_FILES: tuple[str, ...] = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
CIFAR_DIR = "cifar-10-batches-bin"
CIFAR_TRAIN_FILES: tuple[str, ...] = tuple(f"data_batch_{i}.bin" for i in range(1, 6))


def mnist_dir(data_dir: str | os.PathLike[str]) -> Path:
    """Where MNIST is looked for: ``DIR/mnist`` (or ``DIR`` itself when the files are there)."""
    root = Path(data_dir)
    if all((root / f).is_file() for f in MNIST_FILES):
        return root
    return root / "mnist"


def mnist_missing(data_dir: str | os.PathLike[str]) -> list[str]:
    """Names of the official MNIST files missing from :func:`mnist_dir` (empty: all present)."""
    folder = mnist_dir(data_dir)
    return [f for f in MNIST_FILES if not (folder / f).is_file()]


def mnist_cached() -> Path | None:
    """The experiments' cache folder when it holds MNIST (used when no data directory is given)."""
    try:
        from beyondadam.experiments.data import cache_dir
    except ImportError:  # pragma: no cover
        return None
    root = cache_dir()
    for folder in (root / "mnist", root):
        if all((folder / f).is_file() for f in MNIST_FILES):
            return folder
    return None


def mnist_help(data_dir: str | os.PathLike[str] | None) -> str:
    """How to provide MNIST, for error messages."""
    where = f"{Path(data_dir) / 'mnist'}" if data_dir is not None else "DIR/mnist"
    return (
        f"Put the four official MNIST files ({', '.join(MNIST_FILES)}) in {where}/ and pass "
        "--data-dir DIR (or set BEYONDADAM_DATA=DIR)."
    )


def cifar_status(data_dir: str | os.PathLike[str] | None) -> tuple[bool, str]:
    """Whether CIFAR-10 (binary version) is usable under ``data_dir``, and a note.

    Returns:
        ``(True, test-set note)`` when the five training batches and a test file are present,
        else ``(False, reason)``.

    """
    if data_dir is None:
        return False, "no data directory given (--data-dir or BEYONDADAM_DATA)"
    root = Path(data_dir)
    folder = root / CIFAR_DIR
    if not folder.is_dir():
        if (root / "cifar-10-binary.tar.gz").is_file():
            return True, "from the official archive cifar-10-binary.tar.gz"
        return False, f"CIFAR-10 not found: no {folder}/"
    missing = [f for f in CIFAR_TRAIN_FILES if not (folder / f).is_file()]
    if missing:
        return False, f"CIFAR-10 incomplete in {folder}: missing {', '.join(missing)}"
    if (folder / "test_batch.bin").is_file():
        return True, "test set: the full official test set (10,000 images)"
    if (folder / "test_batch_first1000.bin").is_file():
        return (
            True,
            "test set: only the first 1,000 official test images (test_batch_first1000.bin)",
        )
    return False, f"CIFAR-10 test file missing in {folder}: test_batch.bin"


# ----------------------------------------------------------------------------- synthetic stages

_SIM_OPTS = (("adam", "Adam"), ("amsgrad", "AMSGrad"))


def _half_index(steps: np.ndarray) -> int:
    return int(np.argmin(np.abs(np.asarray(steps, dtype=float) - steps[-1] / 2)))


def _setting_numbers(res: Any, n_seeds: int) -> dict[str, Any]:
    """Numbers of one Figure 1 setting from a :class:`beyondadam.sim.Result` (optimizer-major)."""
    i_half = _half_index(res.steps)
    out: dict[str, Any] = {
        "T": int(res.horizon),
        "x_star": float(res.configs[0].problem.optimum),
        "t_half": int(res.steps[i_half]),
        "seeds": n_seeds,
        "optimizers": {},
    }
    for k, (key, _) in enumerate(_SIM_OPTS):
        rows = slice(k * n_seeds, (k + 1) * n_seeds)
        xs = res.final_x[rows]
        out["optimizers"][key] = {
            "label": res.configs[k * n_seeds].optimizer.label,
            "x_T": float(np.mean(xs)),
            "x_T_seeds": [float(v) for v in xs],
            "avg_regret_T": float(np.mean(res.final_avg_regret[rows])),
            "avg_regret_half": float(np.mean(res.avg_regret[rows, i_half])),
        }
    return out


def _figure_records(
    ctx: StageContext, paths: list[Path], title: str, caption: str, paper: str, config: dict
) -> list[FigureRecord]:
    """Figure records for the PNGs among ``paths`` (the SVG twins stay on disk)."""
    return [
        FigureRecord(
            path=p.relative_to(ctx.out_dir).as_posix(),
            title=title,
            caption=caption,
            paper=paper,
            config=config,
        )
        for p in paths
        if p.suffix == ".png"
    ]


def run_figure1(ctx: StageContext) -> StageRecord:
    """Figure 1: Adam and AMSGrad on the online and stochastic problems of Section 5."""
    from beyondadam import sim

    p = ctx.profile
    seeds = [p.seed + i for i in range(p.figure1_seeds)]
    config = {
        "steps": p.figure1_steps,
        "betas": [0.9, 0.99],
        "lr": f"{p.sim_lr} / sqrt(t)",
        "eps": 1e-8,
        "x0": 0.0,
        "stochastic seeds": seeds,
    }
    res = sim.figure1(
        ("Adam", "AMSGrad"),
        lr=p.sim_lr,
        betas=(0.9, 0.99),
        steps=p.figure1_steps,
        seeds=seeds,
    )
    paths = res.write(ctx.stage_dir)
    numbers = {
        "online": _setting_numbers(res.online, 1),
        "stochastic": _setting_numbers(res.stochastic, len(seeds)),
    }
    figures = _figure_records(
        ctx,
        paths,
        "Figure 1: Adam vs AMSGrad on the synthetic problems",
        "Left: average regret R_t/t on the online problem; center: x_t on the online problem; "
        f"right: x_t on the stochastic problem (mean and min-max over {len(seeds)} seeds).",
        "Figure 1 (left, center): on the online problem Adam's R_t/t does not vanish and its "
        "x_t goes to +1, while AMSGrad's R_t/t goes to 0 and x_t to -1; (right) the same split "
        "for x_t on the stochastic problem.",
        config,
    )
    return StageRecord(status="done", config=config, numbers=numbers, figures=figures)


def run_theorem1(ctx: StageContext) -> StageRecord:
    """Theorem 1's example over several C, with beta1 = 0 and beta2 = 1/(1 + C^2)."""
    from beyondadam import sim

    p = ctx.profile
    cs = [float(c) for c in p.theorem1_cs]
    config = {
        "C": cs,
        "beta1": 0.0,
        "beta2": "1/(1+C^2)",
        "lr": f"{p.sim_lr} / sqrt(t)",
        "steps": p.theorem1_steps,
        "needed steps (sim.theorem1_horizon)": {
            f"{c:g}": int(sim.theorem1_horizon(c, p.sim_lr)) for c in cs
        },
    }
    res = sim.theorem1_sweep(
        cs, beta2=("theorem",), beta1=0.0, lr=p.sim_lr, horizon=p.theorem1_steps
    )
    xa = res.final_x[("Adam", "1/(1+C^2)")]
    xm = res.final_x[("AMSGrad", "1/(1+C^2)")]
    ra = res.avg_regret[("Adam", "1/(1+C^2)")]
    rm = res.avg_regret[("AMSGrad", "1/(1+C^2)")]
    cases = [
        {
            "C": c,
            "beta1": 0.0,
            "beta2": 1.0 / (1.0 + c * c),
            "x_T_adam": float(xa[i]),
            "x_T_amsgrad": float(xm[i]),
            "avg_regret_adam": float(ra[i]),
            "avg_regret_amsgrad": float(rm[i]),
        }
        for i, c in enumerate(cs)
    ]
    paths = res.write(ctx.stage_dir)
    figures = _figure_records(
        ctx,
        paths,
        "Theorem 1 example: final iterate and average regret against C",
        f"f_t(x) = Cx when t mod 3 = 1, else -x, on [-1, 1]; T = {p.theorem1_steps:,}.",
        "Theorem 1 (no figure in the paper): with beta1 = 0 and beta2 = 1/(1+C^2), Adam "
        "converges to x = +1 for every C > 2 while the optimum is x = -1.",
        {k: v for k, v in config.items() if not k.startswith("needed")},
    )
    return StageRecord(
        status="done",
        config=config,
        numbers={"x_star": -1.0, "T": p.theorem1_steps, "cases": cases},
        figures=figures,
    )


def run_atlas(ctx: StageContext) -> StageRecord:
    """Final x_T of Adam and AMSGrad over a (beta1, beta2) grid on the online problem."""
    from beyondadam import sim

    p = ctx.profile
    config = {
        "problem": "paper_online",
        "grid": f"{p.atlas_grid} x {p.atlas_grid}, log-spaced in [0, 0.9999]",
        "steps": p.atlas_steps,
        "lr": f"{p.sim_lr} / sqrt(t)",
    }
    res = sim.atlas(
        "paper_online",
        ("Adam", "AMSGrad"),
        grid=p.atlas_grid,
        spacing="log",
        horizon=p.atlas_steps,
        lr=p.sim_lr,
    )
    b1, b2 = np.meshgrid(res.beta1, res.beta2, indexing="ij")
    cond = b1 < np.sqrt(b2)
    numbers: dict[str, Any] = {"cells": int(b1.size), "cells_beta1_lt_sqrt_beta2": int(cond.sum())}
    notes = []
    for key, name in _SIM_OPTS:
        wrong = res.final_x[name] > 0
        numbers[key] = {
            "wrong_side": int(wrong.sum()),
            "wrong_side_where_beta1_lt_sqrt_beta2": int((wrong & cond).sum()),
        }
        notes.append(
            f"{name} ends on the wrong side (x_T > 0) in {int(wrong.sum())} of {b1.size} cells "
            f"({int((wrong & cond).sum())} of the {int(cond.sum())} cells with beta1 < "
            "sqrt(beta2))."
        )
    paths = res.write(ctx.stage_dir)
    figures = _figure_records(
        ctx,
        paths,
        "Convergence atlas over (beta1, beta2) on the online problem",
        " ".join(notes),
        "No atlas in the paper; Theorems 2 and 3 state that Adam fails on some problem for "
        "every beta1 < sqrt(beta2) (the dashed curve).",
        config,
    )
    return StageRecord(status="done", config=config, numbers=numbers, figures=figures, notes=notes)


# ----------------------------------------------------------------------------- training stages

_TASKS = {"mnist_logreg": "mnist-logreg", "mnist_mlp": "mnist-mlp", "cifarnet": "cifarnet"}
_PAPER_FIG2 = {
    "mnist_logreg": "Figure 2 (top left and center): on MNIST logistic regression AMSGrad's "
    "training loss ends below Adam's.",
    "mnist_mlp": "Figure 2 (top right): on the 1-hidden-layer MLP AMSGrad's training loss ends "
    "below Adam's.",
    "cifarnet": "Figure 2 (bottom): on CIFARNET AMSGrad's training and test losses end below "
    "Adam's.",
}


def _n_test(note: str) -> int | None:
    if "1,000" in note or "1000" in note:
        return 1000
    if "full" in note:
        return 10_000
    return None


def run_training(ctx: StageContext, stage_id: str) -> StageRecord:
    """Run one training protocol (grid, then seeds) with ``experiments.run_protocol``."""
    task = _TASKS[stage_id]
    tp = getattr(ctx.profile, stage_id)
    if stage_id == "cifarnet":
        ok, why = cifar_status(ctx.data_dir)
        if not ok:
            return StageRecord(
                status="not run",
                reason=f"{why}. CIFARNET needs the CIFAR-10 binary version "
                "(cifar-10-binary.tar.gz or its folder cifar-10-batches-bin/) in the data "
                "directory",
                command=ctx.command
                if ctx.data_dir is not None
                else ctx.command + " --data-dir DIR",
            )
    from beyondadam.experiments import plot_training_loss, run_protocol

    res = run_protocol(
        task,
        ("adam", "amsgrad"),
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
    )
    optimizers: dict[str, Any] = {}
    notes = [res.test_note]
    for opt, runs in res.runs.items():
        ok_runs = [r for r in runs if r.status == "done"]
        optimizers[opt] = {
            "selected": res.selected[opt].hp,
            "seeds": [r.config.seed for r in runs],
            "diverged": len(runs) - len(ok_runs),
            "final_train_loss": [r.final_train_loss(res.select_last_frac) for r in ok_runs],
            "final_test_loss": [float(r.test_loss[-1]) for r in ok_runs if len(r.test_loss)],
            "final_test_accuracy": [float(r.test_acc[-1]) for r in ok_runs if len(r.test_acc)],
        }
        if len(ok_runs) < len(runs):
            notes.append(f"{opt}: {len(runs) - len(ok_runs)} of {len(runs)} seed runs diverged")
    missing = [o for o in ("adam", "amsgrad") if o not in optimizers]
    for o in missing:
        notes.append(f"{o}: every grid configuration diverged")
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
        "selected": {o: v["selected"] for o, v in optimizers.items()},
    }
    figures: list[FigureRecord] = []
    if res.selected:
        png = plot_training_loss(res, ctx.stage_dir / f"{task}_train_loss.png")
        plot_training_loss(res, ctx.stage_dir / f"{task}_train_loss.svg")
        figures += _figure_records(
            ctx,
            [Path(png)],
            f"{_TITLES[stage_id]}: training loss",
            f"Training loss per iteration, mean and 95% band over {tp.seeds} seeds of each "
            "optimizer's selected configuration. " + res.test_note + ".",
            _PAPER_FIG2[stage_id],
            config,
        )
        curves = {}
        for opt, runs in res.runs.items():
            ok_runs = [r for r in runs if r.status == "done" and len(r.test_loss)]
            if ok_runs:
                curves[opt] = (ok_runs[0].test_steps, np.stack([r.test_loss for r in ok_runs]))
        if curves:
            test_png = plot_training(
                curves,
                ctx.stage_dir / f"{task}_test_loss.png",
                f"{_TITLES[stage_id]}: test loss",
                "test loss",
                logy=False,
            )
            figures += _figure_records(
                ctx,
                [test_png],
                f"{_TITLES[stage_id]}: test loss",
                f"Test loss at each evaluation, mean and min-max over seeds. {res.test_note}.",
                _PAPER_FIG2[stage_id],
                config,
            )
    numbers = {
        "task": task,
        "test_note": res.test_note,
        "n_test": _n_test(res.test_note),
        "optimizers": optimizers,
        "summary": json.loads(res.summary.to_json(orient="records")),
    }
    if missing:
        return StageRecord(
            status="failed",
            reason="no finished run for " + ", ".join(missing),
            config=config,
            numbers=numbers,
            figures=figures,
            notes=notes,
        )
    return StageRecord(status="done", config=config, numbers=numbers, figures=figures, notes=notes)


_TITLES = {
    "mnist_logreg": "MNIST logistic regression",
    "mnist_mlp": "MNIST 1-hidden-layer MLP",
    "cifarnet": "CIFARNET",
}
