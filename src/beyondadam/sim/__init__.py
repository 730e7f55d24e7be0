"""Exact, vectorized simulation of the paper's non-convergence counterexamples.

Every problem is a linear loss f_t(x) = g_t x on F = [-1, 1]; the engine runs any optimizer of
:mod:`beyondadam.optim` on thousands of configurations at once in compiled float64 code (numba,
all cores), with the projection onto [-1, 1] after every step, and records the iterate and the
average regret R_t / t at log-spaced checkpoints.  It agrees with the PyTorch classes to 1e-10
(checked by the test suite).

Functions a report should call:

- :func:`run_batch` ``(configs, horizon, checkpoints=None) -> Result``: the engine.  Build
  configurations with :class:`Config` ``(optimizer, problem, schedule="inverse_sqrt", seed=0,
  x0=0.0)`` and :func:`spec` ``(name, **kwargs)`` (the kwargs of the :mod:`beyondadam.optim`
  class).
- :func:`figure1` ``(...) -> Figure1Result``: Figure 1 of the paper; ``.summary()`` (final x_T and
  R_T / T per optimizer and setting), ``.write(outdir)`` (PNG, SVG, CSV).
- :func:`atlas` ``(problem, optimizers, grid=64, horizon=10**6) -> AtlasResult``: final x_T,
  R_T / T, regret exponent and verdict over a (beta1, beta2) grid, for any catalog optimizer
  with betas; ``.write(outdir)``.
- :func:`family` ``(optimizers=None, horizon=5_000_000, seeds=3, lr=0.5) -> FamilyResult``: every
  catalog optimizer with a simulator rule on every counterexample, with its defaults and the
  paper's betas, at lr and at its own lr; per run x_T, R_T / T, the regret exponent and the
  verdict of :mod:`beyondadam.sim.rates`; ``.to_frame()``, ``.verdict_table(setting)``,
  ``.write(outdir)`` (CSV, Markdown, PNG, SVG).
- :func:`theorem1_sweep` ``(C, beta2=...) -> SweepResult``: Adam and AMSGrad on ``theorem1(C)``;
  ``.wrong_side()``, ``.write(outdir)``.
- Problems: :func:`theorem1`, :func:`paper_online`, :func:`paper_stochastic`, and the families
  :func:`periodic` and :func:`bernoulli` (Theorems 2 and 3); :func:`get_problem` by name.
- :func:`theorem1_horizon` ``(C, lr)``: the horizon our Theorem 1 test uses (derived, not tuned).
"""

from __future__ import annotations

from beyondadam.sim.atlas import AtlasResult, atlas, beta_grid
from beyondadam.sim.engine import Config, Result, log_checkpoints, run_batch, warmup
from beyondadam.sim.family import FamilyResult, FamilyRow, family
from beyondadam.sim.figure1 import Figure1Result, figure1
from beyondadam.sim.optimizers import OptimizerSpec, spec
from beyondadam.sim.problems import (
    PROBLEMS,
    Problem,
    bernoulli,
    get_problem,
    paper_online,
    paper_stochastic,
    periodic,
    theorem1,
)
from beyondadam.sim.sweep import SweepResult, theorem1_sweep
from beyondadam.sim.theory import theorem1_horizon

__all__ = [
    "PROBLEMS",
    "AtlasResult",
    "Config",
    "FamilyResult",
    "FamilyRow",
    "Figure1Result",
    "OptimizerSpec",
    "Problem",
    "Result",
    "SweepResult",
    "atlas",
    "bernoulli",
    "beta_grid",
    "family",
    "figure1",
    "get_problem",
    "log_checkpoints",
    "paper_online",
    "paper_stochastic",
    "periodic",
    "run_batch",
    "spec",
    "theorem1",
    "theorem1_horizon",
    "theorem1_sweep",
    "warmup",
]
