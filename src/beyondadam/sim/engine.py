"""Batch simulation: many (optimizer, hyperparameters, problem, seed) configurations at once.

:func:`run_batch` validates a list of :class:`Config`, groups them by kernel and into blocks that
share an update rule and a gradient sequence (:mod:`beyondadam.sim._batch`), and runs each
kernel's compiled runner (:mod:`beyondadam.sim._runner`) over all cores.  Memory is bounded: the
state is a few float64 per configuration and the iterate x and the average regret R_t / t are
recorded only at the checkpoints (log-spaced by default, every step on request for short
horizons).

Conventions: the start point is ``Config.x0`` (0.0 by default, the centre of F = [-1, 1]); step
t = 1, 2, ... evaluates g_t at x_t, adds g_t (x_t - x*) to the regret, then updates and projects
onto [-1, 1].  The value recorded at checkpoint t is the iterate after t steps (x_{t+1}, what
``param.item()`` reads after t calls of ``step()``) and R_t / t.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from beyondadam.sim._batch import (
    SCHEDULES,
    Columns,
    Packed,
    advance,
    compile_kernel,
    pack,
    pack_columns,
)
from beyondadam.sim.optimizers import OptimizerSpec
from beyondadam.sim.problems import Problem, seed_key

MAX_RECORDED = 50_000_000  # recorded values per array (x and regret), i.e. 400 MB each
_BLOCK = 128


@dataclass(frozen=True)
class Config:
    """One simulated run.

    Attributes:
        optimizer: the update rule and its hyperparameters.
        problem: the loss sequence.
        schedule: ``"inverse_sqrt"`` (lr_t = lr / sqrt(t), the paper's choice) or ``"constant"``.
        seed: the seed of a stochastic problem's draws (ignored by online problems).
        x0: the start point x_1 in [-1, 1].

    """

    optimizer: OptimizerSpec
    problem: Problem
    schedule: str = "inverse_sqrt"
    seed: int = 0
    x0: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.optimizer, OptimizerSpec):
            raise ValueError(f"optimizer must be an OptimizerSpec, got {self.optimizer!r}")
        if not isinstance(self.problem, Problem):
            raise ValueError(f"problem must be a Problem, got {self.problem!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}"
            )
        seed_key(self.seed)  # validates the seed
        x0 = float(self.x0)
        if not (-1.0 <= x0 <= 1.0):
            raise ValueError(f"x0 must be a finite number in [-1, 1], got {self.x0!r}")

    @property
    def label(self) -> str:
        """A short label for tables and legends."""
        return self.optimizer.label


@dataclass
class Result:
    """The outcome of :func:`run_batch`.

    Attributes:
        configs: the configurations, in the order given.
        horizon: the number of steps T.
        steps: the checkpoint steps, shape (K,), increasing, the last one T.
        x: the iterate after each checkpoint step, shape (n, K).
        avg_regret: R_t / t at each checkpoint step, shape (n, K).
        seconds: wall-clock compute time of the kernel (compilation excluded).

    """

    configs: list[Config]
    horizon: int
    steps: np.ndarray
    x: np.ndarray
    avg_regret: np.ndarray
    seconds: float = 0.0
    meta: dict = field(default_factory=dict)

    @property
    def final_x(self) -> np.ndarray:
        """X after T steps, shape (n,)."""
        return self.x[:, -1]

    @property
    def final_avg_regret(self) -> np.ndarray:
        """R_T / T, shape (n,)."""
        return self.avg_regret[:, -1]

    @property
    def config_steps_per_second(self) -> float:
        """Throughput of the kernel: configurations times steps per second."""
        return len(self.configs) * self.horizon / self.seconds if self.seconds > 0 else math.nan

    def to_frame(self):
        """A long pandas DataFrame: config, optimizer, problem, seed, step, x, avg_regret."""
        import pandas as pd

        n, k = self.x.shape
        idx = np.repeat(np.arange(n), k)
        return pd.DataFrame(
            {
                "config": idx,
                "optimizer": np.repeat([c.label for c in self.configs], k),
                "problem": np.repeat([c.problem.name for c in self.configs], k),
                "seed": np.repeat([c.seed for c in self.configs], k),
                "step": np.tile(self.steps, n),
                "x": self.x.ravel(),
                "avg_regret": self.avg_regret.ravel(),
            }
        )


def check_horizon(horizon: object) -> int:
    """Validate a horizon T (an integer >= 1)."""
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer):
        if isinstance(horizon, float) and horizon.is_integer() and horizon >= 1:
            return int(horizon)
        raise ValueError(f"horizon must be an integer >= 1, got {horizon!r}")
    if horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1, got {horizon!r}")
    return int(horizon)


def log_checkpoints(horizon: int, count: int = 200) -> np.ndarray:
    """About ``count`` log-spaced steps in [1, horizon], always including 1 and horizon."""
    horizon = check_horizon(horizon)
    if count < 2:
        raise ValueError(f"count must be >= 2, got {count!r}")
    pts = np.unique(np.rint(np.geomspace(1, horizon, count)).astype(np.int64))
    return np.union1d(pts, [1, horizon]).astype(np.int64)


def _checkpoints(checkpoints, horizon: int, n: int) -> np.ndarray:
    if checkpoints is None:
        ck = log_checkpoints(horizon)
    elif isinstance(checkpoints, str):
        if checkpoints != "all":
            raise ValueError(
                f"checkpoints must be None, 'all', an int or steps, got {checkpoints!r}"
            )
        _check_recorded(n, horizon)
        ck = np.arange(1, horizon + 1, dtype=np.int64)
    elif isinstance(checkpoints, int | np.integer):
        ck = log_checkpoints(horizon, int(checkpoints))
    else:
        ck = np.asarray(checkpoints)
        if ck.ndim != 1 or ck.size == 0 or not np.issubdtype(ck.dtype, np.integer):
            raise ValueError("checkpoints must be a non-empty 1-D sequence of integer steps")
        if ck.min() < 1 or ck.max() > horizon:
            raise ValueError(f"checkpoint steps must be in [1, horizon={horizon}]")
        ck = np.union1d(ck.astype(np.int64), [horizon])
    _check_recorded(n, ck.size)
    return ck


def _check_recorded(n: int, k: int) -> None:
    if n * k > MAX_RECORDED:
        raise ValueError(
            f"recording {k} checkpoints for {n} configurations exceeds {MAX_RECORDED} "
            "values; use log-spaced checkpoints for long horizons"
        )


def warmup() -> None:
    """Compile (or load from the numba cache) every kernel, so that timings exclude compilation.

    :func:`run_batch` compiles the kernels a batch needs before it starts its clock; this is for
    callers that want every rule ready.
    """
    from beyondadam.sim.rules import RULES

    for rule in RULES.values():
        compile_kernel(rule.kernel)


def run_batch(
    configs: Sequence[Config],
    horizon: int,
    checkpoints: int | str | Sequence[int] | np.ndarray | None = None,
    *,
    progress: bool = False,
    block: int = _BLOCK,
    segment: int | None = None,
) -> Result:
    """Simulate every configuration for ``horizon`` steps and return a :class:`Result`.

    Args:
        configs: the configurations (any mix of optimizers, problems, schedules and seeds).
        horizon: the number of steps T >= 1.
        checkpoints: ``None`` for ~200 log-spaced steps, an int for that many log-spaced steps,
            ``"all"`` for every step (short horizons only), or explicit steps in [1, T]; T is
            always recorded.
        progress: show a tqdm progress bar over steps.
        block: configurations per work unit (a block shares the update rule and gradients).
        segment: steps per kernel call (default: about 1e8 configuration-steps).

    """
    configs = list(configs)
    if not configs:
        raise ValueError("configs must contain at least one Config")
    for c in configs:
        if not isinstance(c, Config):
            raise ValueError(f"configs must be Config instances, got {c!r}")
    horizon = check_horizon(horizon)
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block!r}")
    n = len(configs)
    ck = _checkpoints(checkpoints, horizon, n)
    x, avg, seconds = _simulate(pack(configs, block), n, horizon, ck, progress, segment)
    return Result(configs, horizon, ck, x, avg, seconds)


def run_columns(
    parts: Sequence[Columns],
    horizon: int,
    checkpoints: int | Sequence[int] | np.ndarray | None = None,
    *,
    progress: bool = False,
    block: int = _BLOCK,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """:func:`run_batch` for configurations already packed as arrays (validated by the caller).

    Returns (checkpoint steps, x, avg_regret, seconds), the rows of x and avg_regret in the
    order of the parts' ``index`` (which together must be 0 .. n - 1).  For sweeps too large for
    one Python object per configuration (the atlas).
    """
    horizon = check_horizon(horizon)
    n = sum(len(p.index) for p in parts)
    ck = _checkpoints(checkpoints, horizon, n)
    x, avg, seconds = _simulate(pack_columns(parts, block), n, horizon, ck, progress, None)
    return ck, x, avg, seconds


def _simulate(
    pk: Packed, n: int, horizon: int, ck: np.ndarray, progress: bool, segment: int | None
) -> tuple[np.ndarray, np.ndarray, float]:
    outX = np.empty((n, ck.size), dtype=np.float64)
    outR = np.empty((n, ck.size), dtype=np.float64)
    for g in pk.groups:
        compile_kernel(g.kernel)
    if segment is None:
        segment = max(1, min(horizon, int(1e8 // n)))
        if progress:
            segment = max(1, min(segment, -(-horizon // 50)))
    elif segment < 1:
        raise ValueError(f"segment must be >= 1, got {segment!r}")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=horizon, unit="step", unit_scale=True, desc=f"{n} configs")
    seconds = 0.0
    t0 = 1
    while t0 <= horizon:
        t1 = min(horizon + 1, t0 + segment)
        ci0 = int(np.searchsorted(ck, t0))
        start = time.perf_counter()
        advance(pk, t0, t1, ck, ci0, outX, outR)
        seconds += time.perf_counter() - start
        if bar is not None:
            bar.update(t1 - t0)
        t0 = t1
    if bar is not None:
        bar.close()
    inv = np.empty_like(pk.order)
    inv[pk.order] = np.arange(n)
    return outX[inv], outR[inv], seconds
