"""A made-up but well-formed ``results.json`` with figures, for tests and for trying the renderer.

The numbers are invented (they are not measurements). They are built with the same classes
(:mod:`beyondadam.reporting.numbers`, :class:`~beyondadam.reporting.results.StageRecord`) that the
reproduction writes, so the sample cannot drift from the real layout, and they make every claim
evaluable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from beyondadam.reporting import results as _results
from beyondadam.reporting.benchmark_stats import BenchmarkNumbers, analyse
from beyondadam.reporting.numbers import (
    AtlasNumbers,
    AtlasOptimizer,
    FamilyNumbers,
    FamilyRun,
    Figure1Numbers,
    SettingNumbers,
    SimOptimizer,
    StageNumbers,
    Theorem1Numbers,
    Theorem1Optimizer,
    TrainingNumbers,
    TrainingOptimizer,
)
from beyondadam.reporting.profiles import QUICK
from beyondadam.reporting.results import FigureRecord, StageRecord

__all__ = [
    "sample_benchmark",
    "sample_benchmark_data",
    "sample_results",
    "sample_stages",
    "write_sample",
]

_NAMES = {"adam": "Adam", "amsgrad": "AMSGrad"}


def _synthetic(t_max: int, seeds: int) -> SettingNumbers:
    x_final = {
        "adam": (0.9999, 0.998, 0.9995, 0.97, 1.0)[:seeds],
        "amsgrad": (-0.9981, -0.95, -0.999, -0.6, -0.97)[:seeds],
    }
    regret = {"adam": (0.198, 0.197), "amsgrad": (0.0041, 0.0063)}
    return SettingNumbers(
        T=t_max,
        x_star=-1.0,
        t_half=t_max // 2,
        seeds=seeds,
        optimizers={
            k: SimOptimizer(
                name=name,
                label=f"{name}(lr=0.5, betas=(0.9, 0.99), eps=1e-08)",
                x_final=sum(x_final[k]) / seeds,
                x_final_seeds=x_final[k],
                avg_regret_final=regret[k][0],
                avg_regret_half=regret[k][1],
            )
            for k, name in _NAMES.items()
        },
    )


def _training(task: str, adam_loss: float, ams_loss: float) -> TrainingNumbers:
    train = {
        "adam": tuple(adam_loss + d for d in (0.001, -0.002, 0.0015)),
        "amsgrad": tuple(ams_loss + d for d in (0.0012, -0.001, 0.0)),
    }
    test = {"adam": (0.30, 0.31, 0.305), "amsgrad": (0.295, 0.30, 0.301)}
    acc = {"adam": (0.915, 0.913, 0.914), "amsgrad": (0.916, 0.912, 0.915)}
    return TrainingNumbers(
        task=task,
        test_note="test: full official test set (10,000 images)",
        n_test=10_000,
        test_complete=True,
        optimizers={
            k: TrainingOptimizer(name, {"lr": 0.01}, (0, 1, 2), 0, train[k], test[k], acc[k])
            for k, name in _NAMES.items()
        },
    )


def _theorem1() -> Theorem1Numbers:
    cs = (3.0, 5.0)
    x_final = {"adam": (1.0, 1.0), "amsgrad": (-0.99, -0.99)}
    regret = {"adam": (0.66, 2.0), "amsgrad": (0.0006, 0.0006)}
    return Theorem1Numbers(
        x_star=-1.0,
        T=1_000_000,
        beta1=0.0,
        C=cs,
        beta2=tuple(1 / (1 + c * c) for c in cs),
        optimizers={
            k: Theorem1Optimizer(name, x_final[k], regret[k]) for k, name in _NAMES.items()
        },
    )


def _atlas() -> AtlasNumbers:
    """A 16 x 16 atlas: Adam fails in part of the grid, AMSGrad nowhere, ADOPT nowhere."""

    def v(c: int, f: int, u: int) -> dict[str, int]:
        return {"converges": c, "fails": f, "undecided": u}

    return AtlasNumbers(
        cells=256,
        cells_beta1_lt_sqrt_beta2=200,
        T=200_000,
        optimizers={
            "adam": AtlasOptimizer("Adam", 60, 40, v(150, 60, 46), v(120, 40, 40), v(0, 30, 10)),
            "amsgrad": AtlasOptimizer("AMSGrad", 9, 9, v(180, 0, 76), v(150, 0, 50), v(0, 0, 9)),
            "adopt": AtlasOptimizer("ADOPT", 0, 0, v(220, 0, 36), v(180, 0, 20), v(0, 0, 0)),
        },
    )


def _family() -> FamilyNumbers:
    """Adam fails and AMSGrad converges on the online problem; both converge on Theorem 1's."""
    setting, problems = "paper betas, lr=0.5", ("paper_online", "theorem1(C=5)")
    verdicts = {
        "adam": (("fails", 0.97, 0.9999), ("fails", 1.0, 1.0)),
        "amsgrad": (("converges", 0.46, -0.999), ("converges", 0.5, -0.99)),
    }
    runs = tuple(
        FamilyRun(
            key, _NAMES[key], setting, prob, "lr=0.5, betas=(0.9, 0.99)", x, -1.0, 0.1, p, verdict
        )
        for key, rows in verdicts.items()
        for prob, (verdict, p, x) in zip(problems, rows, strict=True)
    )
    return FamilyNumbers(5_000_000, 1, problems, (setting,), runs)


def sample_benchmark_data(shifts: dict[str, dict[str, float]] | None = None) -> Any:
    """A made-up benchmark: Adam, AMSGrad and Yogi on two tasks, budget 4, 5 seeds.

    ``shifts[task][optimizer]`` is added to that optimizer's final test losses (Adam's are
    about 0.30 on every task, with a seed spread of about 0.01); by default AMSGrad ties with
    Adam everywhere and Yogi is far worse on the second task.
    """
    from beyondadam.experiments.benchmark import BenchmarkData, TrialRecord

    tasks, opts = ("mnist-logreg", "mnist-mlp"), ("adam", "amsgrad", "yogi")
    shifts = shifts if shifts is not None else {"mnist-mlp": {"yogi": 0.2}}
    spread = (0.0, 0.01, -0.01, 0.005, -0.005)
    records = []
    for t in tasks:
        for k, o in enumerate(opts):
            shift = shifts.get(t, {}).get(o, 0.0)
            for i in range(4):
                val = 0.3 + 0.1 * ((i + k) % 4) + shift
                records.append(
                    TrialRecord(t, o, "search", i, {"lr": 10.0 ** -(i + 1)}, 1000 + i, "done",
                                val, val, 0.9, 100, 500, 1.0)
                )  # fmt: skip
            for i, d in enumerate(spread):
                loss = 0.3 + shift + d * (1 if k % 2 == 0 else -1)
                records.append(
                    TrialRecord(t, o, "seed", i, {"lr": 1e-3}, i, "done", loss, loss,
                                0.92 - shift, 200 + 50 * k if i < 4 else None, 500, 1.0)
                )  # fmt: skip
    return BenchmarkData(tasks, opts, budget=4, seeds=len(spread), records=records)


def sample_benchmark(shifts: dict[str, dict[str, float]] | None = None) -> BenchmarkNumbers:
    """The analysis of :func:`sample_benchmark_data` (CIFARNET listed as not run)."""
    return analyse(
        sample_benchmark_data(shifts),
        {"adam": "Adam", "amsgrad": "AMSGrad", "yogi": "Yogi"},
        not_run=("cifarnet",),
    )


def sample_stages(
    figures: dict[str, tuple[FigureRecord, ...]] | None = None,
) -> dict[str, StageRecord]:
    """Typed stage records of the sample (CIFARNET recorded as not run)."""
    figures = figures or {}

    def done(sid: str, title: str, numbers: StageNumbers | None, wall: float) -> StageRecord:
        return StageRecord(
            status="done",
            title=title,
            wall_s=wall,
            config={"note": "sample data, not a measurement"},
            numbers=numbers,
            figures=figures.get(sid, ()),
        )

    setting = {"online": _synthetic(5_000_000, 1), "stochastic": _synthetic(5_000_000, 5)}
    return {
        "figure1": done("figure1", "Figure 1", Figure1Numbers(**setting), 6.0),
        "theorem1": done("theorem1", "Theorem 1 example", _theorem1(), 2.0),
        "atlas": done("atlas", "Convergence atlas", _atlas(), 5.0),
        "family": done("family", "Every optimizer on the counterexamples", _family(), 20.0),
        "mnist-logreg": done(
            "mnist-logreg",
            "MNIST logistic regression",
            _training("mnist-logreg", 0.30, 0.28),
            100.0,
        ),
        "mnist-mlp": done("mnist-mlp", "MNIST MLP", _training("mnist-mlp", 0.20, 0.199), 150.0),
        "cifarnet": StageRecord(
            status="not run",
            title="CIFARNET",
            reason="CIFAR-10 (binary version) not found in DIR.",
            command="beyondadam reproduce --profile quick --out OUT --data-dir DIR",
        ),
        "benchmark": done("benchmark", "Does anything beat Adam?", sample_benchmark(), 300.0),
    }


def sample_results(
    figures: dict[str, tuple[FigureRecord, ...]] | None = None,
) -> dict[str, Any]:
    """Return a complete ``results.json`` mapping (CIFARNET recorded as not run)."""
    return {
        "schema_version": _results.SCHEMA_VERSION,
        "profile": QUICK.as_dict(),
        "seeds": [0, 1, 2],
        "started": "2026-01-01T00:00:00+00:00",
        "finished": "2026-01-01T00:08:00+00:00",
        "environment": {"versions": {"python": "3.x", "torch": "x"}, "cpu_count": 2},
        "stages": {sid: rec.to_json() for sid, rec in sample_stages(figures).items()},
    }


def write_sample(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Write sample figures (PNG and SVG) and ``results.json`` into ``out_dir``; return the data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    figs: dict[str, tuple[FigureRecord, ...]] = {}
    t = np.arange(1, 2001)
    for sid, suffix in (("figure1", "png"), ("mnist-logreg", "svg")):
        (out / sid).mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(5, 3), dpi=80)
        ax.plot(t, 0.2 + 0.0 * t, label="Adam")
        ax.plot(t, 1 / np.sqrt(t), label="AMSGrad")
        ax.set_xlabel("t")
        ax.legend()
        rel = f"{sid}/sample.{suffix}"
        fig.savefig(out / rel)
        plt.close(fig)
        figs[sid] = (
            FigureRecord(
                path=rel,
                title=f"Sample figure ({suffix.upper()})",
                caption="Invented curves.",
                paper="What the paper's counterpart shows.",
                config={"format": suffix},
            ),
        )
    figs["atlas"] = _sample_atlas(out, plt)
    (out / "family").mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(4, 2), dpi=80)
    ax.imshow([[2, 2], [0, 0]], cmap="RdYlGn_r", vmin=0, vmax=2)
    fig.savefig(out / "family" / "family.png")
    plt.close(fig)
    figs["family"] = (FigureRecord("family/family.png", "Sample family", "Invented verdicts."),)
    data = sample_results(figs)
    _results.save(out, data)
    return data


SAMPLE_ATLAS_GRID = 16
"""The sample atlas's grid (as its numbers say: 256 cells)."""


def _sample_atlas(out: Path, plt: Any) -> tuple[FigureRecord, ...]:
    """An invented 16 x 16 atlas with trajectories (its data file and a PNG) under ``out/atlas``.

    Adam ends at +1 (R_t/t levels off at 0.2) where beta1 < sqrt(beta2) and beta2 < 0.99, every
    other cell goes to -1 with R_t/t ~ t^-1/2; each cell's curves differ (they scale with beta2).
    """
    from beyondadam.reporting.collect import ATLAS_DATA
    from beyondadam.reporting.interactive import TRAJECTORY_POINTS, write_atlas_data
    from beyondadam.sim.atlas import AtlasResult, AtlasTrajectories, beta_grid
    from beyondadam.sim.engine import log_checkpoints
    from beyondadam.sim.problems import get_problem

    n, horizon = SAMPLE_ATLAS_GRID, 200_000
    b = beta_grid(n, "log")
    b1, b2 = np.meshgrid(b, b, indexing="ij")
    steps = log_checkpoints(horizon, TRAJECTORY_POINTS)
    names = [o.name for o in _atlas().optimizers.values()]
    fails = (b1 < np.sqrt(b2)) & (b2 < 0.99)
    rows_x, rows_r, cells, fx, fr, ex, vd = [], [], {}, {}, {}, {}, {}
    for k, name in enumerate(names):
        bad = fails if k == 0 else np.zeros_like(fails)
        end = np.where(bad, 1.0, -1.0)[..., None]
        decay = np.exp(-steps / (50.0 + 5000.0 * b2[..., None]))
        x = end * (1 - decay)
        r = np.where(bad[..., None], 0.2 + 0.5 * decay, (1.0 + b2[..., None]) / np.sqrt(steps))
        rows_x.append(x.reshape(n * n, -1))
        rows_r.append(r.reshape(n * n, -1))
        cells[name] = k * n * n + np.arange(n * n).reshape(n, n)
        fx[name], fr[name] = x[..., -1], r[..., -1]
        ex[name] = np.where(bad, 1.0, 0.5)
        vd[name] = np.where(bad, "fails", "converges")
    traj = AtlasTrajectories(
        steps, np.vstack(rows_x).astype(np.float32), np.vstack(rows_r).astype(np.float32), cells
    )
    res = AtlasResult(
        get_problem("paper_online"), horizon, b, b.copy(), fx, fr, 0.0, 3 * n * n,
        {"spacing": "log"}, ex, vd, traj,
    )  # fmt: skip
    live = write_atlas_data(res, out / "atlas" / ATLAS_DATA).relative_to(out).as_posix()
    fig, ax = plt.subplots(figsize=(4, 3), dpi=80)
    ax.imshow(fails.T, origin="lower", cmap="RdYlGn_r")
    fig.savefig(out / "atlas" / "atlas.png")
    plt.close(fig)
    return (
        FigureRecord(
            "atlas/atlas.png",
            "Sample atlas",
            "Invented cells and trajectories.",
            interactive=live,
        ),
    )
