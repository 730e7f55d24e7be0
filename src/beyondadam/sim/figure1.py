"""Figure 1 of the paper: Adam against AMSGrad on the online and stochastic problems of Section 5.

:func:`figure1` runs the online problem (one run per optimizer) and the stochastic problem
(several seeds per optimizer) and returns a :class:`Figure1Result`, whose :meth:`write` saves the
three panels of the paper (R_t / t online, x_t online, x_t stochastic) as PNG and SVG, the curves
as CSV or Parquet, and whose :meth:`summary` gives the final x_T and R_T / T per optimizer.

The paper does not state the base step size of this experiment; we use lr = 0.5 with
lr_t = lr / sqrt(t), beta1 = 0.9, beta2 = 0.99, eps = 1e-8 and start at x_1 = 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from beyondadam.optim import catalog
from beyondadam.sim._plot import finish, pyplot, save, write_table
from beyondadam.sim.engine import Config, Result, check_horizon, run_batch
from beyondadam.sim.optimizers import OptimizerSpec
from beyondadam.sim.problems import Problem, paper_online, paper_stochastic

DEFAULT_STEPS = 5_000_000


@dataclass
class Figure1Result:
    """The runs behind Figure 1.

    Attributes:
        online: one row per optimizer on the online problem.
        stochastic: one row per (optimizer, seed) on the stochastic problem, optimizer-major.
        optimizers: the optimizers, in order.
        seeds: the seeds of the stochastic runs.

    """

    online: Result
    stochastic: Result | None
    optimizers: list[OptimizerSpec]
    seeds: list[int]

    def summary(self):
        """DataFrame: setting, optimizer, x_T (mean and min/max over seeds), R_T / T, optimum."""
        import pandas as pd

        rows = []
        for i, opt in enumerate(self.optimizers):
            r = self.online
            rows.append({
                "setting": r.configs[i].problem.name, "optimizer": opt.label, "steps": r.horizon,
                "x_T": r.final_x[i], "x_T_min": r.final_x[i], "x_T_max": r.final_x[i],
                "R_T/T": r.final_avg_regret[i], "x*": r.configs[i].problem.optimum,
                "seeds": 1,
            })  # fmt: skip
            if self.stochastic is not None:
                s = self.stochastic
                k = len(self.seeds)
                xs = s.final_x[i * k : (i + 1) * k]
                rs = s.final_avg_regret[i * k : (i + 1) * k]
                rows.append({
                    "setting": s.configs[i * k].problem.name, "optimizer": opt.label,
                    "steps": s.horizon, "x_T": xs.mean(), "x_T_min": xs.min(),
                    "x_T_max": xs.max(), "R_T/T": rs.mean(), "x*": s.configs[0].problem.optimum,
                    "seeds": k,
                })  # fmt: skip
        return pd.DataFrame(rows)

    def curves(self):
        """Long DataFrame of every recorded point (setting, optimizer, seed, step, x, R_t/T)."""
        import pandas as pd

        frames = []
        for res in (self.online, self.stochastic):
            if res is not None:
                frames.append(res.to_frame().rename(columns={"problem": "setting"}))
        return pd.concat(frames, ignore_index=True)

    def plot(self):
        """Return a matplotlib Figure with the paper's three panels."""
        plt = pyplot()
        ncols = 3 if self.stochastic is not None else 2
        fig, axes = plt.subplots(1, ncols, figsize=(5 * ncols, 3.8))
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        on = self.online
        for i, opt in enumerate(self.optimizers):
            c = colors[i % len(colors)]
            axes[0].plot(on.steps, on.avg_regret[i], color=c, label=opt.name)
            axes[1].plot(on.steps, on.x[i], color=c, label=opt.name)
        axes[0].set(title=f"{on.configs[0].problem.name}: $R_t/t$", xlabel="iteration t",
                    ylabel="average regret $R_t/t$", yscale="log")  # fmt: skip
        axes[1].set(title=f"{on.configs[0].problem.name}: $x_t$", xlabel="iteration t",
                    ylabel="$x_t$", ylim=(-1.1, 1.1))  # fmt: skip
        if self.stochastic is not None:
            s = self.stochastic
            k = len(self.seeds)
            for i, opt in enumerate(self.optimizers):
                c = colors[i % len(colors)]
                xs = s.x[i * k : (i + 1) * k]
                axes[2].fill_between(s.steps, xs.min(0), xs.max(0), color=c, alpha=0.25, lw=0)
                axes[2].plot(s.steps, xs.mean(0), color=c, label=f"{opt.name} (mean, min-max)")
            axes[2].set(title=f"{s.configs[0].problem.name}: $x_t$ over {k} seeds",
                        xlabel="iteration t", ylabel="$x_t$", ylim=(-1.1, 1.1))  # fmt: skip
        return finish(fig, axes, 8)

    def write(
        self, outdir: str | Path, formats: Sequence[str] = ("png", "svg"), data_format: str = "csv"
    ) -> list[Path]:
        """Write ``figure1.<fmt>``, ``figure1_curves.<csv|parquet>`` and ``figure1_summary.csv``."""
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        paths = save(self.plot(), outdir, "figure1", formats)
        paths.append(write_table(self.curves(), outdir, "figure1_curves", data_format))
        summary = outdir / "figure1_summary.csv"
        self.summary().to_csv(summary, index=False)
        paths.append(summary)
        return paths


def figure1(
    optimizers: Sequence[str | OptimizerSpec] = ("Adam", "AMSGrad"),
    *,
    lr: float = 0.5,
    betas: tuple[float, float] = (0.9, 0.99),
    eps: float = 1e-8,
    steps: int = DEFAULT_STEPS,
    stochastic_steps: int | None = None,
    seeds: Sequence[int] = tuple(range(5)),
    online_problem: Problem | None = None,
    stochastic_problem: Problem | None = None,
    schedule: str = "inverse_sqrt",
    x0: float = 0.0,
    checkpoints: int = 400,
    progress: bool = False,
) -> Figure1Result:
    """Run Figure 1 of the paper and return the curves.

    Args:
        optimizers: names (built with ``lr``, ``betas``, ``eps``) or full specs.
        lr: base step size; lr_t = lr / sqrt(t) with the default ``schedule``.
        betas: (beta1, beta2) for the optimizers built from names.
        eps: epsilon for the optimizers built from names.  Names take the
            arguments of their class: Adam, NAdam and AMSGrad get ``betas``; AdamNC gets
            ``beta1 = betas[0]``; the others get ``lr`` only.
        steps: horizon of the online problem (5,000,000 in the paper).
        stochastic_steps: horizon of the stochastic problem (default: ``steps``).
        seeds: seeds of the stochastic runs (empty: skip the stochastic panel).
        online_problem: defaults to :func:`paper_online`.
        stochastic_problem: defaults to :func:`paper_stochastic`.
        schedule: ``"inverse_sqrt"`` or ``"constant"``.
        x0: the start point x_1.
        checkpoints: number of log-spaced recorded points per curve.
        progress: show progress bars.

    """
    steps = check_horizon(steps)
    stochastic_steps = steps if stochastic_steps is None else check_horizon(stochastic_steps)
    specs = [make_spec(o, lr=lr, betas=betas, eps=eps) for o in optimizers]
    if not specs:
        raise ValueError("optimizers must name at least one optimizer")
    seeds = [int(s) for s in seeds]
    on_p = online_problem or paper_online()
    st_p = stochastic_problem or paper_stochastic()
    online = run_batch(
        [Config(s, on_p, schedule, 0, x0) for s in specs], steps, checkpoints, progress=progress
    )
    stochastic = None
    if seeds:
        cfgs = [Config(s, st_p, schedule, seed, x0) for s in specs for seed in seeds]
        stochastic = run_batch(cfgs, stochastic_steps, checkpoints, progress=progress)
    return Figure1Result(online, stochastic, specs, seeds)


def make_spec(
    opt: str | OptimizerSpec, *, lr: float, betas: tuple[float, float], eps: float | None = None
) -> OptimizerSpec:
    """Build a spec from a name with the common hyperparameters its class accepts."""
    if isinstance(opt, OptimizerSpec):
        return opt
    entry = catalog.get(opt)
    takes = entry.hyperparameters()
    kw: dict = {"lr": lr}
    if "betas" in takes:
        kw["betas"] = tuple(betas)
    elif "beta1" in takes:
        kw["beta1"] = betas[0]
    if eps is not None and "eps" in takes and entry.name != "AdaGrad":
        kw["eps"] = eps
    return OptimizerSpec(entry.name, kw)


__all__ = ["DEFAULT_STEPS", "Figure1Result", "figure1", "make_spec"]
