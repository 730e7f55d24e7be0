"""Figures: training loss (mean over seeds with a 95% band) per optimizer, PNG or SVG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from beyondadam.experiments.protocol import ProtocolResult
from beyondadam.experiments.stats import mean_ci95

__all__ = ["plot_training_loss", "smooth"]


def smooth(curves: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average along the last axis (window 1 = unchanged)."""
    if window <= 1:
        return curves
    c = np.cumsum(np.asarray(curves, dtype=np.float64), axis=-1)
    out = c.copy()
    out[..., window:] = c[..., window:] - c[..., :-window]
    n = np.minimum(np.arange(1, curves.shape[-1] + 1), window)
    return out / n


def plot_training_loss(
    result: ProtocolResult, path: str | Path, *, window: int = 50, log_y: bool = True
) -> Path:
    """Write the training-loss figure of ``result`` to ``path`` (format from its suffix).

    Each optimizer's minibatch losses are smoothed per seed with a trailing moving average of
    ``window`` iterations, then drawn as the mean over seeds with a Student-t 95% band.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for opt in result.runs:
        curves = result.train_curves(opt)
        if curves.size == 0:
            continue
        mean, lo, hi = mean_ci95(smooth(curves, window), axis=0, bounds=(0.0, np.inf))
        x = np.arange(1, curves.shape[1] + 1)
        hp = result.selected[opt].hp
        label = (
            f"{opt} (lr={hp.get('lr'):g}"
            + (f", β2={hp['betas'][1]:g}" if "betas" in hp else "")
            + f"; {len(curves)} seeds)"
        )
        (line,) = ax.plot(x, mean, lw=1.4, label=label)
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.25, lw=0)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"training loss (moving avg. {window})")
    ax.set_title(f"{result.task}: mean and 95% band over seeds", fontsize=10)
    ax.text(0.01, 0.01, result.test_note, transform=ax.transAxes, fontsize=7, alpha=0.7)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
