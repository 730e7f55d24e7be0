"""A made-up but well-formed ``results.json`` with figures, for tests and for trying the renderer.

The numbers are invented (they are not measurements): they follow the layout documented in
:mod:`beyondadam.reporting.claims` and make every claim evaluable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from beyondadam.reporting import results as _results
from beyondadam.reporting.profiles import QUICK

__all__ = ["sample_results", "write_sample"]


def _synthetic(t_max: int, seeds: int) -> dict[str, Any]:
    adam = [0.9999, 0.998, 0.9995, 0.97, 1.0][:seeds]
    ams = [-0.9981, -0.95, -0.999, -0.6, -0.97][:seeds]
    return {
        "T": t_max,
        "x_star": -1.0,
        "seeds": seeds,
        "optimizers": {
            "adam": {
                "x_T": sum(adam) / seeds,
                "x_T_seeds": adam,
                "avg_regret_T": 0.198,
                "avg_regret_half": 0.197,
            },
            "amsgrad": {
                "x_T": sum(ams) / seeds,
                "x_T_seeds": ams,
                "avg_regret_T": 0.0041,
                "avg_regret_half": 0.0063,
            },
        },
    }


def _training(adam_loss: float, ams_loss: float) -> dict[str, Any]:
    return {
        "n_test": 10_000,
        "optimizers": {
            "adam": {
                "final_train_loss": [adam_loss + d for d in (0.001, -0.002, 0.0015)],
                "final_test_loss": [0.30, 0.31, 0.305],
                "final_test_accuracy": [0.915, 0.913, 0.914],
            },
            "amsgrad": {
                "final_train_loss": [ams_loss + d for d in (0.0012, -0.001, 0.0)],
                "final_test_loss": [0.295, 0.30, 0.301],
                "final_test_accuracy": [0.916, 0.912, 0.915],
            },
        },
    }


def sample_results(figures: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """Return a complete ``results.json`` mapping (CIFARNET recorded as not run)."""
    figures = figures or {}

    def stage(title: str, numbers: dict[str, Any], sid: str, wall: float) -> dict[str, Any]:
        return {
            "status": "done",
            "title": title,
            "wall_s": wall,
            "config": {"note": "sample data, not a measurement"},
            "numbers": numbers,
            "figures": figures.get(sid, []),
            "notes": [],
        }

    return {
        "schema_version": _results.SCHEMA_VERSION,
        "profile": QUICK.as_dict(),
        "seeds": [0, 1, 2],
        "started": "2026-01-01T00:00:00+00:00",
        "finished": "2026-01-01T00:08:00+00:00",
        "environment": {"versions": {"python": "3.x", "torch": "x"}, "cpu_count": 2},
        "stages": {
            "figure1": stage(
                "Figure 1",
                {"online": _synthetic(5_000_000, 1), "stochastic": _synthetic(5_000_000, 5)},
                "figure1",
                6.0,
            ),
            "theorem1": stage(
                "Theorem 1 example",
                {
                    "x_star": -1.0,
                    "cases": [
                        {"C": c, "beta1": 0.0, "beta2": 1 / (1 + c * c), "x_T_adam": 1.0}
                        | {"x_T_amsgrad": -0.99}
                        for c in (3.0, 5.0)
                    ],
                },
                "theorem1",
                2.0,
            ),
            "atlas": stage("Convergence atlas", {}, "atlas", 5.0),
            "mnist_logreg": stage(
                "MNIST logistic regression", _training(0.30, 0.28), "mnist_logreg", 100.0
            ),
            "mnist_mlp": stage("MNIST MLP", _training(0.20, 0.199), "mnist_mlp", 150.0),
            "cifarnet": {
                "status": "not run",
                "title": "CIFARNET",
                "reason": "CIFAR-10 not found: no DIR/cifar-10-batches-bin/",
                "command": "beyondadam reproduce --profile quick --out OUT --data-dir DIR",
                "numbers": {},
                "figures": [],
                "notes": [],
            },
        },
    }


def write_sample(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Write sample figures (PNG and SVG) and ``results.json`` into ``out_dir``; return the data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    figs: dict[str, list[dict[str, Any]]] = {}
    t = np.arange(1, 2001)
    for sid, suffix in (("figure1", "png"), ("mnist_logreg", "svg")):
        (out / sid).mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(5, 3), dpi=80)
        ax.plot(t, 0.2 + 0.0 * t, label="Adam")
        ax.plot(t, 1 / np.sqrt(t), label="AMSGrad")
        ax.set_xlabel("t")
        ax.legend()
        rel = f"{sid}/sample.{suffix}"
        fig.savefig(out / rel)
        plt.close(fig)
        figs[sid] = [
            {
                "path": rel,
                "title": f"Sample figure ({suffix.upper()})",
                "caption": "Invented curves.",
                "paper": "What the paper's counterpart shows.",
                "config": {"format": suffix},
            }
        ]
    data = sample_results(figs)
    _results.save(out, data)
    return data
