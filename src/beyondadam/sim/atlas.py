"""The convergence atlas over (beta1, beta2), and the sweep over C of Theorem 1's problem.

:func:`atlas` runs a grid of (beta1, beta2) in [0, 1)^2 for each optimizer on one problem and
returns an :class:`AtlasResult` with the final x_T and R_T / T per cell; :meth:`AtlasResult.write`
draws the heatmaps side by side with the curve beta1 = sqrt(beta2) of the paper's theorems (Adam
is proved to fail for beta1 < sqrt(beta2) on a suitable problem).  Optimizers: ``Adam``,
``AMSGrad``, ``AdamNC`` (no beta2: a function of beta1 only) and ``RMSProp`` (here Adam with
beta1 = 0, as in the paper: a function of beta2 only).  Only distinct configurations are run.

:func:`theorem1_sweep` runs Adam and AMSGrad with beta1 = 0 on ``theorem1(C)`` over a range of C,
with beta2 = 1/(1 + C^2) (the theorem's choice) or fixed values, and reports the range of C over
which Adam ends on the wrong side (x_T > 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from beyondadam.sim._plot import pyplot, save, write_table
from beyondadam.sim.engine import Config, check_horizon, run_batch
from beyondadam.sim.optimizers import OptimizerSpec
from beyondadam.sim.problems import Problem, get_problem, theorem1

ATLAS_OPTIMIZERS = ("Adam", "AMSGrad", "AdamNC", "RMSProp")
DEFAULT_C = np.round(np.linspace(2.1, 20, 80), 4)  # C values of theorem1_sweep


SPACINGS = ("linear", "log")


def beta_grid(n: int, spacing: str = "linear") -> np.ndarray:
    """``n`` values in [0, 1): ``i / n`` (linear) or ``1 - 10^(-4 i / (n - 1))`` (log, 0..0.9999).

    The log spacing puts most points near 1, where the usual beta2 = 0.99, 0.999 live.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"grid must be an integer >= 2, got {n!r}")
    if spacing == "linear":
        return np.arange(n, dtype=np.float64) / n
    if spacing == "log":
        return 1.0 - 10.0 ** (-4.0 * np.arange(n) / (n - 1))
    raise ValueError(f"spacing must be one of {', '.join(SPACINGS)}, got {spacing!r}")


def _edges(b: np.ndarray) -> np.ndarray:
    mid = (b[1:] + b[:-1]) / 2
    lo = max(0.0, b[0] - (mid[0] - b[0]))
    hi = b[-1] + (b[-1] - mid[-1])
    if hi >= 1.0:
        hi = 1.0 - (1.0 - b[-1]) / 2
    return np.concatenate([[lo], mid, [hi]])


def _axis_scale(ax, which: str, spacing: str) -> None:
    if spacing != "log":
        return

    def fwd(b):
        return -np.log10(np.clip(1.0 - np.asarray(b, dtype=float), 1e-12, None))

    def inv(u):
        return 1.0 - 10.0 ** (-np.asarray(u, dtype=float))

    getattr(ax, f"set_{which}scale")("function", functions=(fwd, inv))
    ticks = [0.0, 0.9, 0.99, 0.999, 0.9999]
    getattr(ax, f"set_{which}ticks")(ticks, [f"{t:g}" for t in ticks])


def _atlas_spec(name: str, b1: float, b2: float, lr: float, eps: float) -> OptimizerSpec:
    if name == "Adam":
        return OptimizerSpec("Adam", {"lr": lr, "betas": (b1, b2), "eps": eps})
    if name == "AMSGrad":
        return OptimizerSpec("AMSGrad", {"lr": lr, "betas": (b1, b2), "eps": eps})
    if name == "AdamNC":
        return OptimizerSpec("AdamNC", {"lr": lr, "beta1": b1, "eps": eps})
    if name == "RMSProp":
        return OptimizerSpec("Adam", {"lr": lr, "betas": (0.0, b2), "eps": eps})
    raise ValueError(f"unknown atlas optimizer {name!r}; expected one of {ATLAS_OPTIMIZERS}")


@dataclass
class AtlasResult:
    """Final x_T and R_T / T on a (beta1, beta2) grid, per optimizer.

    ``final_x[name]`` and ``avg_regret[name]`` have shape (len(beta1), len(beta2)).
    """

    problem: Problem
    horizon: int
    beta1: np.ndarray
    beta2: np.ndarray
    final_x: dict[str, np.ndarray]
    avg_regret: dict[str, np.ndarray]
    seconds: float
    configs_run: int
    meta: dict = field(default_factory=dict)

    def to_frame(self):
        """Long DataFrame: optimizer, beta1, beta2, x_T, R_T/T."""
        import pandas as pd

        b1, b2 = np.meshgrid(self.beta1, self.beta2, indexing="ij")
        return pd.concat(
            [
                pd.DataFrame(
                    {
                        "optimizer": name,
                        "beta1": b1.ravel(),
                        "beta2": b2.ravel(),
                        "x_T": self.final_x[name].ravel(),
                        "R_T/T": self.avg_regret[name].ravel(),
                    }
                )
                for name in self.final_x
            ],
            ignore_index=True,
        )

    def plot(self):
        """Heatmaps of x_T (top row) and R_T / T (bottom row) with beta1 = sqrt(beta2)."""
        plt = pyplot()
        names = list(self.final_x)
        fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 7.6), squeeze=False)
        spacing = self.meta.get("spacing", "linear")
        e1, e2 = _edges(self.beta1), _edges(self.beta2)
        rmax = max(float(np.nanmax(v)) for v in self.avg_regret.values())
        rmin = max(min(float(np.nanmin(v)) for v in self.avg_regret.values()), rmax * 1e-4, 1e-12)
        from matplotlib.colors import LogNorm

        curve_b1 = np.concatenate([np.linspace(0, 0.9, 100), 1 - np.geomspace(0.1, 1e-5, 100)])
        for k, name in enumerate(names):
            for row, (data, kw, label) in enumerate((
                (self.final_x[name], {"cmap": "coolwarm", "vmin": -1, "vmax": 1}, "$x_T$"),
                (np.clip(self.avg_regret[name], rmin, None),
                 {"cmap": "viridis", "norm": LogNorm(rmin, rmax)}, "$R_T/T$"),
            )):  # fmt: skip
                ax = axes[row, k]
                im = ax.pcolormesh(e1, e2, data.T, shading="flat", **kw)
                ax.plot(curve_b1, curve_b1**2, "k--", lw=1.2, label=r"$\beta_1=\sqrt{\beta_2}$")
                _axis_scale(ax, "x", spacing)
                _axis_scale(ax, "y", spacing)
                ax.set(xlim=(e1[0], e1[-1]), ylim=(e2[0], e2[-1]))
                ax.set(xlabel=r"$\beta_1$", ylabel=r"$\beta_2$")
                ax.set_title(f"{name}: {label}", fontsize=10)
                fig.colorbar(im, ax=ax, fraction=0.046)
                if k == 0 and row == 0:
                    ax.legend(fontsize=7, loc="upper left")
        fig.suptitle(f"{self.problem.name}, T = {self.horizon:,}", fontsize=11)
        fig.tight_layout()
        return fig

    def write(
        self, outdir: str | Path, formats: Sequence[str] = ("png", "svg"), data_format: str = "csv"
    ) -> list[Path]:
        """Write ``atlas.<fmt>`` and ``atlas.<csv|parquet>``."""
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        paths = save(self.plot(), outdir, "atlas", formats)
        paths.append(write_table(self.to_frame(), outdir, "atlas", data_format))
        return paths


def atlas(
    problem: str | Problem = "paper_online",
    optimizers: Sequence[str] = ATLAS_OPTIMIZERS,
    *,
    grid: int = 64,
    spacing: str = "log",
    horizon: int = 1_000_000,
    lr: float = 0.5,
    eps: float = 1e-8,
    schedule: str = "inverse_sqrt",
    seed: int = 0,
    x0: float = 0.0,
    progress: bool = False,
) -> AtlasResult:
    """Run the (beta1, beta2) grid ``beta_grid(grid, spacing)`` squared for each optimizer.

    ``RMSProp`` means Adam with beta1 = 0 (varies with beta2 only), ``AdamNC`` varies with beta1
    only; each distinct configuration is run once.
    """
    problem = get_problem(problem)
    horizon = check_horizon(horizon)
    b = beta_grid(grid, spacing)
    optimizers = list(optimizers)
    if not optimizers:
        raise ValueError("optimizers must name at least one optimizer")
    index: dict[tuple, int] = {}
    configs: list[Config] = []
    cells: dict[str, np.ndarray] = {}
    for name in optimizers:
        ids = np.empty((b.size, b.size), dtype=np.int64)
        for i, b1 in enumerate(b):
            for j, b2 in enumerate(b):
                key = (
                    name,
                    b1 if name != "RMSProp" else 0.0,
                    b2 if name != "AdamNC" else 0.0,
                )
                if key not in index:
                    index[key] = len(configs)
                    spec = _atlas_spec(name, key[1], key[2], lr, eps)
                    configs.append(Config(spec, problem, schedule, seed, x0))
                ids[i, j] = index[key]
        cells[name] = ids
    res = run_batch(configs, horizon, checkpoints=[horizon], progress=progress)
    fx = {k: res.final_x[v] for k, v in cells.items()}
    fr = {k: res.final_avg_regret[v] for k, v in cells.items()}
    meta = {"spacing": spacing, "lr": lr, "eps": eps, "schedule": schedule, "seed": seed, "x0": x0}
    return AtlasResult(problem, horizon, b, b.copy(), fx, fr, res.seconds, len(configs), meta)


@dataclass
class SweepResult:
    """Final x_T and R_T / T of Adam and AMSGrad on ``theorem1(C)`` for each C and beta2 rule.

    ``final_x[(optimizer, beta2_label)]`` has shape (len(C),).
    """

    C: np.ndarray
    horizon: int
    beta1: float
    final_x: dict[tuple[str, str], np.ndarray]
    avg_regret: dict[tuple[str, str], np.ndarray]
    seconds: float

    def wrong_side(self) -> dict[tuple[str, str], tuple[float, float]]:
        """Smallest and largest C at which x_T > 0 (the wrong side), (NaN, NaN) if none."""
        out = {}
        for k, x in self.final_x.items():
            hit = np.nonzero(x > 0)[0]
            out[k] = (
                (float(self.C[hit[0]]), float(self.C[hit[-1]])) if hit.size else (np.nan, np.nan)
            )
        return out

    def to_frame(self):
        """Long DataFrame: optimizer, beta2, C, x_T, R_T/T."""
        import pandas as pd

        return pd.concat(
            [
                pd.DataFrame(
                    {
                        "optimizer": o,
                        "beta2": b2,
                        "C": self.C,
                        "x_T": self.final_x[(o, b2)],
                        "R_T/T": self.avg_regret[(o, b2)],
                    }
                )
                for (o, b2) in self.final_x
            ],
            ignore_index=True,
        )

    def plot(self):
        """Final x_T and R_T / T against C, one line per (optimizer, beta2 rule)."""
        plt = pyplot()
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for (o, b2), x in self.final_x.items():
            ls = "-" if o == "Adam" else "--"
            axes[0].plot(self.C, x, ls, marker=".", label=f"{o}, beta2={b2}")
            axes[1].plot(self.C, self.avg_regret[(o, b2)], ls, marker=".", label=f"{o}, beta2={b2}")
        axes[0].axhline(0, color="gray", lw=0.8)
        axes[0].set(
            xlabel="C",
            ylabel="$x_T$",
            ylim=(-1.1, 1.1),
            title=f"theorem1(C): $x_T$ at T = {self.horizon:,}, beta1 = {self.beta1:g}",
        )
        axes[1].set(xlabel="C", ylabel="$R_T/T$", yscale="symlog", title="average regret")
        for ax in axes:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        fig.tight_layout()
        return fig

    def write(
        self, outdir: str | Path, formats: Sequence[str] = ("png", "svg"), data_format: str = "csv"
    ) -> list[Path]:
        """Write ``theorem1_sweep.<fmt>`` and ``theorem1_sweep.<csv|parquet>``."""
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        paths = save(self.plot(), outdir, "theorem1_sweep", formats)
        paths.append(write_table(self.to_frame(), outdir, "theorem1_sweep", data_format))
        return paths


def theorem1_sweep(
    C: Sequence[float] | np.ndarray | None = None,
    *,
    beta2: Sequence[float | str] = ("theorem", 0.3, 0.6, 0.9, 0.99),
    beta1: float = 0.0,
    optimizers: Sequence[str] = ("Adam", "AMSGrad"),
    lr: float = 0.5,
    eps: float = 1e-8,
    horizon: int = 1_000_000,
    schedule: str = "inverse_sqrt",
    x0: float = 0.0,
    progress: bool = False,
) -> SweepResult:
    """Sweep C over ``theorem1(C)`` (default ``DEFAULT_C``: 80 values from 2.1 to 20).

    ``beta2`` entries are floats or ``"theorem"`` (1/(1+C^2)); each (optimizer, beta2) pair is
    a curve.
    """
    horizon = check_horizon(horizon)
    Cs = DEFAULT_C if C is None else np.asarray(C, dtype=np.float64)
    if Cs.ndim != 1 or Cs.size == 0:
        raise ValueError("C must be a non-empty 1-D sequence of values > 2")
    for name in optimizers:
        if name not in ("Adam", "AMSGrad"):
            raise ValueError(f"optimizers must be Adam and/or AMSGrad, got {name!r}")
    configs = []
    keys = []
    for name in optimizers:
        for b2 in beta2:
            label = "1/(1+C^2)" if b2 == "theorem" else f"{float(b2):g}"
            keys.append((name, label))
            for c in Cs:
                b2v = 1.0 / (1.0 + c * c) if b2 == "theorem" else b2
                spec = OptimizerSpec(name, {"lr": lr, "betas": (beta1, b2v), "eps": eps})
                configs.append(Config(spec, theorem1(float(c)), schedule, 0, x0))
    res = run_batch(configs, horizon, checkpoints=[horizon], progress=progress)
    n = Cs.size
    fx = {k: res.final_x[i * n : (i + 1) * n] for i, k in enumerate(keys)}
    fr = {k: res.final_avg_regret[i * n : (i + 1) * n] for i, k in enumerate(keys)}
    return SweepResult(Cs, horizon, beta1, fx, fr, res.seconds)
