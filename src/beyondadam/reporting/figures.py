"""The report's own figures, drawn with matplotlib (Agg) from plain arrays.

The simulator and the experiments draw most figures themselves; this module draws what they do
not (the test-loss curves of a training stage). Colors follow the order of the curves, so the
first optimizer (Adam, the baseline) is always red and the second blue, whatever the run holds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["PALETTE", "plot_training"]

PALETTE: tuple[str, ...] = (
    "#d62728",
    "#1f77b4",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
"""Curve colors in order (matplotlib's tab10, red and blue first)."""
DPI = 110


def plot_training(
    curves: Mapping[str, tuple[Sequence[float], np.ndarray]],
    path: str | os.PathLike[str],
    title: str,
    ylabel: str,
    logy: bool = True,
) -> Path:
    """Draw the mean over seeds with a min–max band per optimizer.

    Args:
        curves: ``{label: (steps, values)}`` with ``values`` of shape ``(seeds, len(steps))``,
            one entry per optimizer in legend order.
        path: Output PNG.
        title: Figure title.
        ylabel: Y-axis label.
        logy: Logarithmic y axis.

    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for i, (label, (steps, values)) in enumerate(curves.items()):
        v = np.atleast_2d(np.asarray(values, dtype=float))
        s = np.asarray(steps, dtype=float)
        color = PALETTE[i % len(PALETTE)]
        label = f"{label} ({v.shape[0]} seeds)"
        ax.plot(s, np.nanmean(v, axis=0), color=color, lw=1.4, label=label)
        if v.shape[0] > 1:
            ax.fill_between(s, np.nanmin(v, axis=0), np.nanmax(v, axis=0), color=color, alpha=0.2)
    ax.set(xlabel="iteration", ylabel=ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    return out
