"""The report's figures, drawn with matplotlib (Agg) from plain arrays.

Each function takes numbers only and writes one PNG, so figures can be redrawn without rerunning.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["log_indices", "plot_atlas", "plot_figure1", "plot_theorem1", "plot_training"]

COLORS = {"adam": "#d62728", "amsgrad": "#1f77b4"}
LABELS = {"adam": "Adam", "amsgrad": "AMSGrad"}
DPI = 110


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def log_indices(n: int, points: int = 1500) -> np.ndarray:
    """Return up to ``points`` sorted unique indices in ``[0, n)``, log-spaced (for long curves)."""
    if n <= points:
        return np.arange(n)
    idx = np.unique(np.geomspace(1, n, points).astype(np.int64) - 1)
    return idx[(idx >= 0) & (idx < n)]


def _save(fig, path: str | os.PathLike[str]) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=DPI)
    _plt().close(fig)
    return out


def plot_figure1(
    curves: Mapping[str, Mapping[str, Sequence[float]]],
    path: str | os.PathLike[str],
    title: str,
    x_star: float = -1.0,
) -> Path:
    """Draw R_t/t (left) and x_t (right) per optimizer.

    Args:
        curves: ``{"adam": {"t": [...], "avg_regret": [...], "x": [...]}, "amsgrad": {...}}``.
        path: Output PNG.
        title: Figure title.
        x_star: The optimum, drawn as a dashed line.

    """
    plt = _plt()
    fig, (ax_r, ax_x) = plt.subplots(1, 2, figsize=(9.5, 3.4))
    for opt, c in curves.items():
        t = np.asarray(c["t"], dtype=float)
        kw = {"color": COLORS.get(opt), "label": LABELS.get(opt, opt), "lw": 1.4}
        if c.get("avg_regret") is not None:
            ax_r.plot(t, np.asarray(c["avg_regret"], dtype=float), **kw)
        if c.get("x") is not None:
            ax_x.plot(t, np.asarray(c["x"], dtype=float), **kw)
    ax_r.set(xscale="log", xlabel="iteration t", ylabel="average regret R_t / t")
    ax_r.set_yscale("symlog", linthresh=1e-3)
    ax_x.axhline(x_star, color="0.4", ls="--", lw=1, label=f"x* = {x_star:g}")
    ax_x.set(xscale="log", xlabel="iteration t", ylabel="x_t", ylim=(-1.1, 1.1))
    for ax in (ax_r, ax_x):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    return _save(fig, path)


def plot_theorem1(
    cs: Sequence[float],
    x_adam: Sequence[float],
    x_amsgrad: Sequence[float] | None,
    path: str | os.PathLike[str],
    title: str,
) -> Path:
    """Draw the final iterate x_T against C for Adam (and AMSGrad when given)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.plot(cs, x_adam, "o-", color=COLORS["adam"], label="Adam (β1=0, β2=1/(1+C²))")
    if x_amsgrad is not None:
        ax.plot(cs, x_amsgrad, "s-", color=COLORS["amsgrad"], label="AMSGrad (same β)")
    ax.axhline(-1, color="0.4", ls="--", lw=1, label="x* = −1")
    ax.set(xlabel="C", ylabel="final iterate x_T", ylim=(-1.15, 1.15), xscale="log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def plot_atlas(
    beta1s: Sequence[float],
    beta2s: Sequence[float],
    grids: Mapping[str, np.ndarray],
    path: str | os.PathLike[str],
    title: str,
    label: str = "final iterate x_T",
) -> Path:
    """Draw one heat map per optimizer; ``grids[opt][i, j]`` is the value at (beta1s[i], beta2s[j]).

    The curve β1 = √β2 (the boundary of the paper's condition β1 < √β2) is overlaid.
    """
    plt = _plt()
    fig, axes = plt.subplots(1, len(grids), figsize=(4.6 * len(grids) + 0.8, 3.8), squeeze=False)
    im = None
    for ax, (opt, grid) in zip(axes[0], grids.items(), strict=True):
        g = np.asarray(grid, dtype=float)
        im = ax.imshow(g, origin="lower", cmap="coolwarm", vmin=-1, vmax=1, aspect="auto")
        ax.set_xticks(range(len(beta2s)), [f"{b:g}" for b in beta2s], rotation=45, fontsize=7)
        ax.set_yticks(range(len(beta1s)), [f"{b:g}" for b in beta1s], fontsize=7)
        ax.set(xlabel="β2", ylabel="β1", title=LABELS.get(opt, opt))
        # boundary β1 = √β2, in index coordinates (interpolated)
        b1_edge = np.sqrt(np.asarray(beta2s, dtype=float))
        y = np.interp(b1_edge, np.asarray(beta1s, dtype=float), np.arange(len(beta1s)))
        inside = b1_edge <= max(beta1s)
        if inside.any():
            ax.plot(np.arange(len(beta2s))[inside], y[inside], "k--", lw=1, label="β1 = √β2")
            ax.legend(fontsize=7, loc="lower left")
    if im is not None:
        fig.colorbar(im, ax=axes[0].tolist(), label=label, shrink=0.9)
    fig.suptitle(title, fontsize=11)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return out


def plot_training(
    curves: Mapping[str, tuple[Sequence[float], np.ndarray]],
    path: str | os.PathLike[str],
    title: str,
    ylabel: str,
    logy: bool = True,
) -> Path:
    """Draw the mean over seeds with a min–max band per optimizer.

    Args:
        curves: ``{opt: (steps, values)}`` with ``values`` of shape ``(seeds, len(steps))``.
        path: Output PNG.
        title: Figure title.
        ylabel: Y-axis label.
        logy: Logarithmic y axis.

    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for opt, (steps, values) in curves.items():
        v = np.atleast_2d(np.asarray(values, dtype=float))
        s = np.asarray(steps, dtype=float)
        mean = np.nanmean(v, axis=0)
        color = COLORS.get(opt)
        ax.plot(s, mean, color=color, lw=1.4, label=f"{LABELS.get(opt, opt)} ({v.shape[0]} seeds)")
        if v.shape[0] > 1:
            ax.fill_between(s, np.nanmin(v, axis=0), np.nanmax(v, axis=0), color=color, alpha=0.2)
    ax.set(xlabel="iteration", ylabel=ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)
