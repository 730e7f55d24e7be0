"""The sweep over C of Theorem 1's problem (Adam and AMSGrad, beta1 = 0 by default).

:func:`theorem1_sweep` runs Adam and AMSGrad on ``theorem1(C)`` over a range of C, with
beta2 = 1/(1 + C^2) (the theorem's choice) or fixed values, and reports the range of C over which
Adam ends on the wrong side (x_T > 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from beyondadam.sim._plot import Outputs, finish, pyplot
from beyondadam.sim.engine import Config, check_horizon, run_batch
from beyondadam.sim.optimizers import OptimizerSpec
from beyondadam.sim.problems import theorem1

DEFAULT_C = np.round(np.linspace(2.1, 20, 80), 4)  # C values of theorem1_sweep


@dataclass
class SweepResult(Outputs):
    """Final x_T and R_T / T of Adam and AMSGrad on ``theorem1(C)`` for each C and beta2 rule.

    ``final_x[(optimizer, beta2_label)]`` has shape (len(C),).
    """

    C: np.ndarray
    horizon: int
    beta1: float
    final_x: dict[tuple[str, str], np.ndarray]
    avg_regret: dict[tuple[str, str], np.ndarray]
    seconds: float
    stem = "theorem1_sweep"

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
        return finish(fig, axes, 7)


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
