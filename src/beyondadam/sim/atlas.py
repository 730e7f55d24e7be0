"""The convergence atlas over (beta1, beta2), with regret-rate verdicts and the theory on it.

:func:`atlas` runs a grid of (beta1, beta2) in [0, 1)^2 for each optimizer on one problem and
returns an :class:`AtlasResult` with, per cell, the final x_T, R_T / T, the regret exponent fitted
over the last decade of the horizon and its verdict (:func:`beyondadam.sim.rates.classify`:
converges / fails / undecided).  Optimizers: any catalog optimizer that has a simulator rule and
``betas`` (a function of both) or only ``beta1`` (AdamNC, NosAdam: a function of beta1 only), and
``RMSProp``, which here means Adam with beta1 = 0, as in the paper (a function of beta2 only).
Only distinct configurations are run.

:meth:`AtlasResult.write` draws, per optimizer, x_T, R_T / T, the verdict and the exponent, with
the theory on every panel:

- the curve beta1 = sqrt(beta2): Theorems 2 and 3 of Reddi et al. (2018) build, for every
  beta1 < sqrt(beta2), a problem on which Adam fails; Zhang et al., "Adam Can Converge Without Any
  Modification On Update Rules" (NeurIPS 2022) prove the converse order of quantifiers: for a
  fixed problem Adam converges (to a neighbourhood of critical points, exactly under a strong
  growth condition) when beta1 < sqrt(beta2) and beta2 is above a problem-dependent threshold,
  which they do not give for our problems; so the region above the curve is where convergence is
  expected *for beta2 large enough*, not everywhere;
- for Theorem 1's problem ``theorem1(C)`` (period 3, small gradient 1), the region the paper's
  proof covers: beta1 = 0 and beta2 <= min(C^(-4/(C-2)), 1 - (9/(2C))^2), as the ICLR 2022 blog
  post "Does Adam Converge and When?" (Zhang, Chen, Shi, Sun, Luo) restates it, and the paper's
  own choice beta2 = 1/(1 + C^2) (a star).  The region is empty for C < 5 or so: there the proof
  says nothing, whatever the simulation shows.

The sweep over C of Theorem 1's problem is in :mod:`beyondadam.sim.sweep`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from beyondadam.optim import catalog
from beyondadam.sim._batch import Columns, block_key
from beyondadam.sim._plot import Outputs, pyplot
from beyondadam.sim.engine import Config, check_horizon, log_checkpoints, run_columns
from beyondadam.sim.optimizers import OptimizerSpec
from beyondadam.sim.problems import Problem, get_problem
from beyondadam.sim.rates import Verdict, classify_arrays
from beyondadam.sim.rules import RULES

#: the default optimizers of :func:`atlas` (any catalog optimizer with betas is accepted).
ATLAS_OPTIMIZERS = ("Adam", "AMSGrad", "AdamNC", "RMSProp")
#: checkpoints recorded in the last decade of the horizon, for the regret exponent.
RATE_CHECKPOINTS = 12


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


def atlas_name(name: str) -> str:
    """The canonical atlas name of ``name`` (any case); ``ValueError`` if it cannot be mapped.

    ``RMSProp`` is the paper's RMSProp (Adam with beta1 = 0); any other name must be a catalog
    optimizer with a simulator rule and ``betas`` or ``beta1``.
    """
    if str(name).lower() == "rmsprop":
        return "RMSProp"
    entry = catalog.get(name)
    if not {"betas", "beta1"} & set(entry.defaults()):
        raise ValueError(f"{entry.name} has no betas (nor beta1): it has no place in the atlas")
    if entry.sim not in RULES:
        raise ValueError(f"{entry.name}: no simulator rule yet")
    return entry.name


def _varies(name: str) -> tuple[bool, bool]:
    """Whether the atlas cell of ``name`` depends on (beta1, beta2)."""
    if name == "RMSProp":
        return False, True
    return True, "betas" in catalog.get(name).defaults()


def _atlas_spec(name: str, b1: float, b2: float, lr: float, eps: float | None) -> OptimizerSpec:
    kwargs: dict = {"lr": lr} if eps is None else {"lr": lr, "eps": eps}
    if name == "RMSProp":
        return OptimizerSpec("Adam", {**kwargs, "betas": (0.0, b2)})
    if _varies(name)[1]:
        return OptimizerSpec(name, {**kwargs, "betas": (b1, b2)})
    return OptimizerSpec(name, {**kwargs, "beta1": b1})


def theorem1_failure_beta2(C: float) -> float:
    """Largest beta2 for which the paper's argument proves Adam (beta1 = 0) fails on theorem1(C).

    min(C^(-4/(C-2)), 1 - (9/(2C))^2), as restated in the ICLR 2022 blog post "Does Adam Converge
    and When?"; negative (an empty region) for small C.
    """
    return min(C ** (-4.0 / (C - 2.0)), 1.0 - (9.0 / (2.0 * C)) ** 2)


def _theorem1_c(problem: Problem) -> float | None:
    # theorem1(C) is periodic(C, 1, 3) with phase 1, whatever its name.
    if problem.kind == "periodic" and problem.period == 3 and problem.small == 1.0:
        if problem.phase % 3 == 1 and problem.big > 2:
            return float(problem.big)
    return None


_VERDICT_CODE = {Verdict.CONVERGES: 0, Verdict.UNDECIDED: 1, Verdict.FAILS: 2}
_VERDICT_COLOURS = ("#4daf4a", "#ffd92f", "#e41a1c")


def _theory(ax, problem: Problem, e1: np.ndarray, e2: np.ndarray, legend: bool) -> None:
    """Draw beta1 = sqrt(beta2) and, for theorem1(C), the region the paper's proof covers."""
    curve_b1 = np.concatenate([np.linspace(0, 0.9, 100), 1 - np.geomspace(0.1, 1e-5, 100)])
    ax.plot(curve_b1, curve_b1**2, "k--", lw=1.2, label=r"$\beta_1=\sqrt{\beta_2}$")
    C = _theorem1_c(problem)
    if C is not None:
        from matplotlib.patches import Rectangle

        top = theorem1_failure_beta2(C)
        if top > e2[0]:
            ax.add_patch(Rectangle((e1[0], e2[0]), e1[1] - e1[0], top - e2[0], fill=False,
                                   hatch="///", ec="k", lw=1.0,
                                   label="Adam fails (Thm 1 proof, $\\beta_1=0$)"))  # fmt: skip
        ax.plot([0.5 * (e1[0] + e1[1])], [1 / (1 + C * C)], "k*", ms=7,
                label=r"Thm 1: $\beta_1=0, \beta_2=1/(1+C^2)$")  # fmt: skip
    if legend:
        ax.legend(fontsize=6, loc="upper left")


@dataclass(frozen=True)
class AtlasTrajectories:
    """x_t and R_t / t of each distinct configuration of an atlas at the recorded steps.

    ``x`` and ``avg_regret`` have shape (configurations, len(steps)) and are float32 (enough to
    draw them); ``cells[name]`` (shape (len(beta1), len(beta2))) is each cell's configuration row.
    """

    steps: np.ndarray
    x: np.ndarray
    avg_regret: np.ndarray
    cells: dict[str, np.ndarray]


@dataclass
class AtlasResult(Outputs):
    """Final x_T, R_T / T, regret exponent and verdict on a (beta1, beta2) grid, per optimizer.

    ``final_x[name]``, ``avg_regret[name]``, ``exponent[name]`` and ``verdict[name]`` (a
    :class:`~beyondadam.sim.rates.Verdict` string per cell) have shape (len(beta1), len(beta2)).
    The exponent is fitted over the ``RATE_CHECKPOINTS`` log-spaced checkpoints of the last decade.
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
    exponent: dict[str, np.ndarray] = field(default_factory=dict)
    verdict: dict[str, np.ndarray] = field(default_factory=dict)
    trajectories: AtlasTrajectories | None = None
    """x_t and R_t / t of every cell at log-spaced steps (only with ``trajectory_points``)."""
    stem = "atlas"

    def to_frame(self):
        """Long DataFrame: optimizer, beta1, beta2, x_T, R_T/T (then exponent, verdict)."""
        import pandas as pd

        b1, b2 = np.meshgrid(self.beta1, self.beta2, indexing="ij")
        frames = []
        for name in self.final_x:
            cols = {
                "optimizer": name,
                "beta1": b1.ravel(),
                "beta2": b2.ravel(),
                "x_T": self.final_x[name].ravel(),
                "R_T/T": self.avg_regret[name].ravel(),
            }
            if name in self.exponent:
                cols["exponent"] = self.exponent[name].ravel()
                cols["verdict"] = self.verdict[name].ravel()
            frames.append(pd.DataFrame(cols))
        return pd.concat(frames, ignore_index=True)

    def verdict_counts(self, name: str, mask: np.ndarray | None = None) -> dict[str, int]:
        """Cells of each verdict for optimizer ``name`` (within ``mask``, a boolean grid)."""
        v = self.verdict[name] if mask is None else self.verdict[name][mask]
        return {str(k): int((v == str(k)).sum()) for k in Verdict}

    def plot(self):
        """Per optimizer (columns): x_T, R_T / T, verdict and exponent (rows), with the theory."""
        from matplotlib.colors import ListedColormap, LogNorm

        plt = pyplot()
        names = list(self.final_x)
        rows = 4 if self.verdict else 2
        fig, axes = plt.subplots(rows, len(names), figsize=(4.2 * len(names), 3.8 * rows),
                                 squeeze=False)  # fmt: skip
        spacing = self.meta.get("spacing", "linear")
        e1, e2 = _edges(self.beta1), _edges(self.beta2)
        rmax = max(float(np.nanmax(v)) for v in self.avg_regret.values())
        rmin = max(min(float(np.nanmin(v)) for v in self.avg_regret.values()), rmax * 1e-4, 1e-12)
        for k, name in enumerate(names):
            panels = [
                (self.final_x[name], {"cmap": "coolwarm", "vmin": -1, "vmax": 1}, "$x_T$"),
                (np.clip(self.avg_regret[name], rmin, None),
                 {"cmap": "viridis", "norm": LogNorm(rmin, rmax)}, "$R_T/T$"),
            ]  # fmt: skip
            if self.verdict:
                code = np.full(self.verdict[name].shape, -1)
                for verdict, c in _VERDICT_CODE.items():
                    code[self.verdict[name] == str(verdict)] = c
                cmap = ListedColormap(_VERDICT_COLOURS)
                label = "verdict (green converges, yellow undecided, red fails)"
                panels.append((code, {"cmap": cmap, "vmin": -0.5, "vmax": 2.5}, label))
                panels.append((self.exponent[name], {"cmap": "magma", "vmin": 0, "vmax": 1.2},
                               "regret exponent (last decade)"))  # fmt: skip
            for row, (data, kw, label) in enumerate(panels):
                ax = axes[row, k]
                # Rasterized: a large grid as vector quads made SVG output take minutes.
                im = ax.pcolormesh(e1, e2, data.T, shading="flat", rasterized=True, **kw)
                _axis_scale(ax, "x", spacing)
                _axis_scale(ax, "y", spacing)
                _theory(ax, self.problem, e1, e2, legend=k == 0 and row == 0)
                ax.set(xlim=(e1[0], e1[-1]), ylim=(e2[0], e2[-1]))
                ax.set(xlabel=r"$\beta_1$", ylabel=r"$\beta_2$")
                ax.set_title(f"{name}: {label}", fontsize=9)
                if row != 2:
                    fig.colorbar(im, ax=ax, fraction=0.046)
        fig.suptitle(f"{self.problem.name}, T = {self.horizon:,}", fontsize=11)
        fig.tight_layout()
        return fig


def rate_checkpoints(horizon: int, count: int = RATE_CHECKPOINTS) -> np.ndarray:
    """``count`` log-spaced steps in [T/10, T] (the window the regret exponent is fitted on)."""
    lo = max(1.0, horizon / 10.0)
    return np.unique(np.rint(np.geomspace(lo, horizon, count)).astype(np.int64))


def atlas(
    problem: str | Problem = "paper_online",
    optimizers: Sequence[str] = ATLAS_OPTIMIZERS,
    *,
    grid: int = 64,
    spacing: str = "log",
    horizon: int = 1_000_000,
    lr: float = 0.5,
    eps: float | None = 1e-8,
    schedule: str = "inverse_sqrt",
    seed: int = 0,
    x0: float = 0.0,
    progress: bool = False,
    trajectory_points: int = 0,
) -> AtlasResult:
    """Run the (beta1, beta2) grid ``beta_grid(grid, spacing)`` squared for each optimizer.

    ``optimizers``: catalog names (any case) with betas or beta1 (see :func:`atlas_name`);
    ``RMSProp`` means Adam with beta1 = 0 (varies with beta2 only); optimizers with only beta1
    vary with beta1 only; each distinct configuration is run once.  ``eps=None`` keeps each
    optimizer's own default eps.  ``trajectory_points`` > 0 also records that many log-spaced
    steps over [1, T] and keeps every cell's trajectory (:class:`AtlasTrajectories`); the
    verdicts still read the rate checkpoints only, so they do not change.
    """
    problem = get_problem(problem)
    horizon = check_horizon(horizon)
    b = beta_grid(grid, spacing)
    optimizers = list(dict.fromkeys(atlas_name(n) for n in optimizers))
    if not optimizers:
        raise ValueError("optimizers must name at least one optimizer")
    # The run's settings are checked once, as every Config checks them.
    Config(_atlas_spec(optimizers[0], 0.0, 0.0, lr, eps), problem, schedule, seed, x0)
    parts: list[Columns] = []
    cells: dict[str, np.ndarray] = {}
    for name in optimizers:
        start = sum(part.index.size for part in parts)
        part, cells[name] = _columns(name, b, lr, eps, (problem, schedule, seed, x0), start)
        parts.append(part)
    ck = rate_checkpoints(horizon)
    recorded = ck
    if trajectory_points:
        recorded = np.union1d(ck, log_checkpoints(horizon, trajectory_points))
    steps, x, avg, seconds = run_columns(parts, horizon, recorded, progress=progress)
    rate_cols = np.searchsorted(steps, ck)
    n = x.shape[0]
    fx = {k: x[v, -1] for k, v in cells.items()}
    fr = {k: avg[v, -1] for k, v in cells.items()}
    traj = None
    if trajectory_points:
        f32 = np.float32
        traj = AtlasTrajectories(steps, x.astype(f32), avg.astype(f32), cells)
    if ck.size >= 3:
        p, v = classify_arrays(steps[rate_cols], avg[:, rate_cols])
    else:  # a horizon too short for a rate (T < 3)
        p = np.full(n, np.nan)
        v = np.full(n, str(Verdict.UNDECIDED))
    meta = {"spacing": spacing, "lr": lr, "eps": eps, "schedule": schedule, "seed": seed, "x0": x0}
    return AtlasResult(problem, horizon, b, b.copy(), fx, fr, seconds, n, meta,
                       {k: p[ids] for k, ids in cells.items()},
                       {k: v[ids] for k, ids in cells.items()}, traj)  # fmt: skip


def _columns(
    name: str, b: np.ndarray, lr: float, eps: float | None, run: tuple, start: int
) -> tuple[Columns, np.ndarray]:
    """The distinct configurations of ``name`` on the grid ``b`` x ``b``, as arrays.

    Returns them (numbered from ``start``) and each cell's configuration number; no Python
    object is made per cell.

    A cell depends on (beta1, beta2), on beta1 only or on beta2 only (:func:`_varies`); the
    configurations are the distinct cells in row-major order.  The class's checks are intervals,
    so validating the grid's two extreme corners validates every cell.
    """
    problem, schedule, seed, x0 = run
    by1, by2 = _varies(name)
    n = b.size
    lo, hi = float(b.min()), float(b.max())
    _atlas_spec(name, lo, lo, lr, eps)
    spec = _atlas_spec(name, hi, hi, lr, eps)
    cell = np.arange(n)
    if by1 and by2:
        b1, b2, ids = np.repeat(b, n), np.tile(b, n), np.arange(n * n).reshape(n, n)
    elif by1:
        b1, b2, ids = b, np.zeros(n), np.repeat(cell[:, None], n, axis=1)
    else:
        b1, b2, ids = np.zeros(n), b, np.repeat(cell[None, :], n, axis=0)
    options = spec.options()
    if "betas" in options:
        options["betas"] = (b1, b2)
    else:
        options["beta1"] = b1
    rows, flags = spec.rule.columns(options, b1.size)
    key = block_key(problem, schedule, seed, flags)
    x = np.full(b1.size, float(x0))
    index = np.arange(start, start + b1.size)
    return Columns(spec.rule.kernel, key, rows, x, index), ids + start


def cell_config(result: AtlasResult, name: str, i: int, j: int) -> Config:
    """The configuration of cell (``beta1[i]``, ``beta2[j]``) of optimizer ``name`` in ``result``.

    Rerun it with :func:`~beyondadam.sim.engine.run_batch` to draw that cell's trajectory.
    """
    name = atlas_name(name)
    if name not in result.final_x:
        raise ValueError(f"{name} is not in this atlas; it has {', '.join(result.final_x)}")
    n1, n2 = result.beta1.size, result.beta2.size
    if not (0 <= i < n1 and 0 <= j < n2):
        raise ValueError(f"cell ({i}, {j}) is outside the {n1} x {n2} grid")
    m = result.meta
    opt = _atlas_spec(name, float(result.beta1[i]), float(result.beta2[j]), m["lr"], m["eps"])
    return Config(opt, result.problem, m["schedule"], m["seed"], m["x0"])
