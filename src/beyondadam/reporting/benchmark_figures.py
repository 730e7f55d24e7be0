"""The benchmark's figures: best-so-far against budget, the performance profile, test losses.

Each function draws from :class:`~beyondadam.reporting.benchmark_stats.BenchmarkNumbers` alone
and writes ``<stem>.png`` and ``<stem>.svg``; it returns both paths. Adam is drawn first, in
black and thicker, since every comparison is made against it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from beyondadam.reporting.benchmark_stats import BASELINE, BenchmarkNumbers

__all__ = ["plot_all", "plot_budget", "plot_profile", "plot_test_loss"]

DPI = 110


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _styles(n: BenchmarkNumbers) -> dict[str, dict[str, Any]]:
    """A line style per optimizer: Adam black; the others 20 distinct colors, then dashes."""
    plt = _pyplot()
    cmap = plt.get_cmap("tab20")
    out, k = {}, 0
    for o in n.optimizers:
        if o == BASELINE:
            out[o] = {"color": "black", "lw": 2.2, "ls": "-", "zorder": 5}
            continue
        out[o] = {"color": cmap(k % 20), "lw": 1.3, "ls": "-" if k < 20 else "--", "zorder": 3}
        k += 1
    return out


def _save(fig: Any, out_dir: str | os.PathLike[str], stem: str) -> list[Path]:
    plt = _pyplot()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "svg"):
        path = out / f"{stem}.{ext}"
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def _grid(n_panels: int) -> tuple[int, int]:
    cols = min(3, n_panels)
    return math.ceil(n_panels / cols), cols


def _legend(fig: Any, ax: Any, n: BenchmarkNumbers) -> None:
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)


def plot_budget(n: BenchmarkNumbers, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Expected normalised best validation loss against the number of search trials, per task."""
    plt = _pyplot()
    styles = _styles(n)
    rows, cols = _grid(len(n.budget_curves))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, curve in zip(axes.flat, n.budget_curves, strict=False):
        for o in n.optimizers:
            ys = curve.curves.get(o)
            if ys:
                ax.plot(range(1, len(ys) + 1), ys, label=n.names.get(o, o), **styles[o])
        ax.set(title=curve.task, xlabel="search trials b", ylabel="expected best (normalised)")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(n.budget_curves) :]:
        ax.axis("off")
    _legend(fig, axes.flat[0], n)
    fig.suptitle("Best validation loss so far against the tuning budget", fontsize=11)
    fig.tight_layout()
    return _save(fig, out_dir, "benchmark_budget")


def plot_profile(n: BenchmarkNumbers, out_dir: str | os.PathLike[str]) -> list[Path]:
    """The Dolan–Moré performance profile rho(tau) of every optimizer across the tasks."""
    plt = _pyplot()
    styles = _styles(n)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    p = n.profile
    for o in n.optimizers:
        if o in p.rho:
            ax.step(p.taus, p.rho[o], where="post", label=n.names.get(o, o), **styles[o])
    ax.set_xscale("log")
    ax.set(
        xlabel="τ (mean final test loss relative to the best on the task)",
        ylabel="fraction of tasks within τ",
        ylim=(-0.03, 1.03),
        title=f"Performance profile over {len(p.tasks)} tasks",
    )
    ax.grid(alpha=0.3, which="both")
    _legend(fig, ax, n)
    fig.tight_layout()
    return _save(fig, out_dir, "benchmark_profile")


def plot_test_loss(n: BenchmarkNumbers, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Per task: each optimizer's mean final test loss with its 95% interval (dot plot)."""
    plt = _pyplot()
    outcome_color = {"win": "#1a7f37", "loss": "#b42318", "tie": "#555555", "untested": "#999999"}
    rows, cols = _grid(len(n.tasks))
    height = max(2.6, 0.24 * len(n.optimizers) + 1.0)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, height * rows), squeeze=False)
    for ax, task in zip(axes.flat, n.tasks, strict=False):
        outcomes = {c.optimizer: c.outcome for c in n.comparisons if c.task == task}
        labels = []
        for y, o in enumerate(reversed(n.optimizers)):
            labels.append(n.names.get(o, o))
            try:
                r = n.result(task, o)
            except KeyError:
                continue
            if not math.isfinite(r.test_loss_mean):
                continue
            color = "black" if o == BASELINE else outcome_color[outcomes.get(o, "tie")]
            ax.errorbar(
                r.test_loss_mean, y, fmt="o", ms=4, color=color, capsize=2,
                xerr=[[r.test_loss_mean - r.test_loss_low], [r.test_loss_high - r.test_loss_mean]],
            )  # fmt: skip
            if o == BASELINE:
                ax.axvspan(r.test_loss_low, r.test_loss_high, color="black", alpha=0.08)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set(title=task, xlabel="final test loss (mean, 95% interval)")
        ax.grid(alpha=0.3, axis="x")
    for ax in list(axes.flat)[len(n.tasks) :]:
        ax.axis("off")
    fig.suptitle(
        "Final test loss: green = win, red = loss against Adam (Holm-corrected), grey = tie",
        fontsize=10,
    )
    fig.tight_layout()
    return _save(fig, out_dir, "benchmark_test_loss")


def plot_all(n: BenchmarkNumbers, out_dir: str | os.PathLike[str]) -> list[Path]:
    """The three figures (PNG and SVG each)."""
    return plot_test_loss(n, out_dir) + plot_profile(n, out_dir) + plot_budget(n, out_dir)
