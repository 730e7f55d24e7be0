"""What the explorer (``beyondadam explore``) computes, without any web framework.

The page (:mod:`beyondadam.reporting.explorer`) turns its widgets into an :class:`ExploreRequest`
and calls :func:`simulate`; the atlas panel calls :func:`explore_atlas` and :func:`cell_trajectory`.
Everything a user can get wrong raises :class:`ValueError` with a one-line message (ours, or the
optimizer's own check, so the page refuses exactly what the optimizer class refuses); the page shows
that text and never a traceback.  Tested without a browser in ``tests/test_explore_browser.py``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from beyondadam.optim import catalog
from beyondadam.sim import (
    PROBLEMS as SIM_PROBLEMS,
)
from beyondadam.sim import (
    AtlasResult,
    Config,
    Problem,
    atlas,
    bernoulli,
    get_problem,
    periodic,
    run_batch,
    spec,
)
from beyondadam.sim.atlas import atlas_name, cell_config
from beyondadam.sim.rates import Rate, Verdict, classify
from beyondadam.sim.rules import RULES

#: the problems of the selector: key -> label shown in the page.
PROBLEMS: dict[str, str] = {
    "theorem1": "Theorem 1: C, -1, -1, C, ...",
    "paper_online": "Section 5 online: 1010 / -10",
    "paper_stochastic": "Section 5 stochastic: 1010 / -10",
    "theorem2": "Theorem 2: C every C steps, else -1",
    "theorem3": "Theorem 3: C w.p. 1.1/(C+1), else -1",
}
#: the problems that take C.
USES_C = ("theorem1", "theorem2", "theorem3")
#: Theorem 3's mean gradient delta (the value of ``beyondadam sim family``).
THEOREM3_DELTA = 0.1
#: the horizons the page offers (the paper's Figure 1 runs 5M steps).
HORIZONS = (1_000, 10_000, 100_000, 1_000_000, 5_000_000)
MAX_HORIZON = 5_000_000
#: checkpoints per curve: enough for a smooth log-x plot and the last-decade rate fit.
CHECKPOINTS = 240
#: the atlas panel's grid and horizon: 24 x 24 (beta1, beta2) cells, 1e5 steps each.
ATLAS_GRID = 24
ATLAS_HORIZON = 100_000


def simulated_optimizers() -> list[str]:
    """The catalog optimizers the simulator runs, in catalog order."""
    return [e.name for e in catalog.ENTRIES if e.sim in RULES]


def atlas_optimizers() -> list[str]:
    """The optimizers the atlas accepts: catalog ones with betas (or beta1), and RMSProp."""
    names = []
    for name in simulated_optimizers():
        try:
            names.append(atlas_name(name))
        except ValueError:
            continue
    return list(dict.fromkeys(names))


def flavors(name: str) -> tuple[str, ...]:
    """The flavors of optimizer ``name`` (its default first), read from its catalog variants."""
    entry = catalog.get(name)
    default = entry.defaults().get("flavor")
    if default is None:
        return ()
    seen = [default, *(v["flavor"] for v in entry.variants if "flavor" in v)]
    return tuple(dict.fromkeys(seen))


def make_problem(key: str, C: float = 3.0) -> Problem:
    """The problem ``key`` of :data:`PROBLEMS` (``C`` for Theorems 1, 2 and 3)."""
    if key in SIM_PROBLEMS:  # theorem1, paper_online, paper_stochastic
        return get_problem(key, C)
    if key == "theorem2":
        if not (math.isfinite(C) and float(C).is_integer() and C >= 2):
            raise ValueError(f"Theorem 2's C is also its period: an integer >= 2, got {C:g}")
        return periodic(C, 1.0, int(C), name=f"theorem2(C={int(C)})")
    if key == "theorem3":
        if not (math.isfinite(C) and C > THEOREM3_DELTA):
            raise ValueError(f"Theorem 3's C must be > {THEOREM3_DELTA:g}, got {C:g}")
        p = (1 + THEOREM3_DELTA) / (C + 1)
        return bernoulli(C, 1.0, p, name=f"theorem3(C={C:g}, delta={THEOREM3_DELTA:g})")
    raise ValueError(f"unknown problem {key!r}; expected one of {', '.join(PROBLEMS)}")


def hyperparameters(
    name: str, beta1: float, beta2: float, lr: float, flavor: str | None = None
) -> dict[str, object]:
    """The keyword arguments of optimizer ``name`` for the page's sliders.

    beta1 drives ``betas[0]``, ``beta1`` or (Momentum, NAG) ``momentum``; beta2 drives
    ``betas[1]`` or the second-moment decay of RMSProp (``alpha``) and AdaDelta (``rho``).
    Optimizers without such a hyperparameter ignore that slider.
    """
    defaults = catalog.get(name).defaults()
    kw: dict[str, object] = {"lr": lr}
    if "betas" in defaults:
        kw["betas"] = (beta1, beta2)
    elif "beta1" in defaults:
        kw["beta1"] = beta1
    elif "alpha" in defaults:
        kw["alpha"] = beta2
    elif "rho" in defaults:
        kw["rho"] = beta2
    elif "momentum" in defaults:
        kw["momentum"] = beta1
    if flavor is not None and "flavor" in defaults:
        kw["flavor"] = flavor
    return kw


@dataclass(frozen=True)
class ExploreRequest:
    """What the page asks for: a problem, optimizers and their shared hyperparameters."""

    problem: str
    optimizers: tuple[str, ...]
    beta1: float = 0.9
    beta2: float = 0.99
    lr: float = 0.5
    C: float = 3.0
    horizon: int = 1_000_000
    flavors: Mapping[str, str] = field(default_factory=dict)
    seed: int = 0


@dataclass
class Trajectories:
    """The answer: x_t and R_t / t at log-spaced steps, the regret rate and the time it took."""

    problem: Problem
    labels: list[str]
    steps: np.ndarray
    x: np.ndarray
    avg_regret: np.ndarray
    rates: list[Rate]
    kernel_seconds: float
    seconds: float


def _number(name: str, value: object) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def _horizon(value: object) -> int:
    h = _number("horizon", value)
    if not (h.is_integer() and 10 <= h <= MAX_HORIZON):
        raise ValueError(f"horizon must be an integer in [10, {MAX_HORIZON:,}], got {value!r}")
    return int(h)


def configs_for(req: ExploreRequest) -> list[Config]:
    """Validate ``req`` and build one simulator configuration per optimizer."""
    if not req.optimizers:
        raise ValueError("choose at least one optimizer")
    problem = make_problem(req.problem, _number("C", req.C))
    b1, b2, lr = (_number(n, getattr(req, n)) for n in ("beta1", "beta2", "lr"))
    if lr <= 0:  # the classes accept lr = 0 (no step); here it can only be a slip
        raise ValueError(f"lr must be > 0, got {lr:g}")
    configs = []
    for name in dict.fromkeys(req.optimizers):
        canonical = catalog.get(name).name
        if canonical not in simulated_optimizers():
            raise ValueError(f"{canonical}: no simulator rule")
        kw = hyperparameters(canonical, b1, b2, lr, req.flavors.get(canonical))
        configs.append(Config(spec(canonical, **kw), problem, seed=req.seed))
    return configs


def _label(config: Config) -> str:
    flavor = config.optimizer.options().get("flavor")
    return config.optimizer.name + (f" ({flavor})" if flavor else "")


def _rates(steps: np.ndarray, avg_regret: np.ndarray) -> list[Rate]:
    try:
        return classify(steps, avg_regret)
    except ValueError:  # too few checkpoints for a rate (a very short horizon)
        return [Rate(math.nan, float(r[-1]), Verdict.UNDECIDED) for r in avg_regret]


def simulate(req: ExploreRequest) -> Trajectories:
    """Run the request (``ValueError`` with a one-line message for any invalid input)."""
    start = time.perf_counter()
    configs = configs_for(req)
    res = run_batch(configs, _horizon(req.horizon), checkpoints=CHECKPOINTS)
    rates = _rates(res.steps, res.avg_regret)
    return Trajectories(
        configs[0].problem, [_label(c) for c in configs], res.steps, res.x, res.avg_regret,
        rates, res.seconds, time.perf_counter() - start,
    )  # fmt: skip


def explore_atlas(
    problem: str, C: float, optimizer: str, lr: float, grid: int = ATLAS_GRID,
    horizon: int = ATLAS_HORIZON,
) -> AtlasResult:  # fmt: skip
    """The (beta1, beta2) atlas of one optimizer on the page's problem (log-spaced betas)."""
    prob = make_problem(problem, _number("C", C))
    return atlas(prob, [optimizer], grid=grid, horizon=horizon, lr=_number("lr", lr))


def cell_trajectory(result: AtlasResult, name: str, i: int, j: int) -> Trajectories:
    """Rerun cell (beta1[i], beta2[j]) of ``name`` in ``result`` with log-spaced checkpoints."""
    start = time.perf_counter()
    config = cell_config(result, name, i, j)
    res = run_batch([config], result.horizon, checkpoints=CHECKPOINTS)
    label = f"{name} β1={result.beta1[i]:.4g} β2={result.beta2[j]:.4g}"
    return Trajectories(
        config.problem, [label], res.steps, res.x, res.avg_regret,
        _rates(res.steps, res.avg_regret), res.seconds, time.perf_counter() - start,
    )  # fmt: skip
