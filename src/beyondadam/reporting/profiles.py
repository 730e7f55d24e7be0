"""Reproduction profiles: how much of the paper to rerun, as plain data.

``quick`` is sized to finish in about two minutes on a 2-core machine; ``paper`` follows the
paper's protocol (5M synthetic steps, each task's full learning-rate grid, 5 seeds) and takes
hours on a CPU; ``family`` is ``quick`` plus the family benchmark on the CPU tasks (about an
hour); only ``family`` runs the benchmark stage. ``quick`` trims iterations and seeds, never the
MNIST tasks' lr or beta2 grids: a two-value lr grid once gave a quick verdict (AMSGrad's training
loss below Adam's on MNIST logistic regression) that the full grid does not, because the best lr
lay outside it. Every verdict that rests on a trimmed setting says so in the report
(:mod:`beyondadam.reporting.trims`).

Training settings are keyed by the task's id in :data:`beyondadam.experiments.TASKS`
(``"mnist-logreg"``), which is also the stage's id; ``None`` in a :class:`TrainingProfile` means
the task's own default.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

__all__ = [
    "FAMILY",
    "PAPER",
    "PROFILES",
    "QUICK",
    "Profile",
    "TrainingProfile",
    "get_profile",
]


@dataclass(frozen=True)
class TrainingProfile:
    """How to run one training protocol (grid search, then seeds of the best configuration)."""

    steps: int | None
    """Training iterations of every run (``None``: the task's default)."""
    lrs: tuple[float, ...] | None
    """Learning rates of the grid search (``None``: the task's default grid)."""
    beta2s: tuple[float, ...] = (0.99, 0.999)
    """Second-moment decays of the grid search (the paper's two values)."""
    seeds: int = 3
    """Number of seeds of each optimizer's best configuration."""
    eval_every: int | None = None
    """Test-set evaluation period in iterations (``None``: the task's default)."""

    def as_dict(self) -> dict[str, Any]:
        """Return the profile as JSON-friendly data."""
        return asdict(self)


@dataclass(frozen=True)
class Profile:
    """A complete reproduction recipe; every field ends up in the report."""

    name: str
    description: str
    expected_wall_time: str
    """Wall time measured on the reference 2-core machine (or an estimate, and says so)."""
    figure1_steps: int
    """Steps T of the Figure 1 online and stochastic problems (the paper: 5,000,000)."""
    figure1_seeds: int
    """Seeds of the stochastic problem."""
    theorem1_steps: int
    """Steps of the Theorem 1 example."""
    theorem1_cs: tuple[float, ...]
    """Values of C in the Theorem 1 sweep (the theorem needs C > 2)."""
    atlas_grid: int
    """The atlas runs ``atlas_grid`` x ``atlas_grid`` values of (beta1, beta2) (log-spaced)."""
    atlas_steps: int
    training: dict[str, TrainingProfile]
    """Task id -> how to run that task's protocol."""
    optimizers: tuple[str, ...] = ("adam", "amsgrad")
    """Catalog keys of the optimizers every stage runs, in report order; Adam is the baseline of
    every comparison, AMSGrad the paper's remedy."""
    atlas_optimizers: tuple[str, ...] = ("adam", "amsgrad", "adopt")
    """Catalog keys of the optimizers the atlas runs (each needs betas or beta1); ADOPT is the
    fix that claims convergence for every beta2."""
    family_steps: int = 5_000_000
    """Steps T of the family stage (every optimizer on the counterexamples)."""
    family_problems: tuple[str, ...] = ()
    """Names of :func:`beyondadam.sim.family.default_problems` the family stage runs (empty:
    all of them)."""
    family_seeds: int = 3
    """Runs of each stochastic problem in the family stage."""
    sim_lr: float = 0.5
    """Base step size alpha of the synthetic problems (alpha / sqrt(t)); the paper omits it."""
    seed: int = 0
    """First seed: the seeds used are ``seed, seed + 1, ...``."""
    benchmark_tasks: tuple[str, ...] = ()
    """Tasks of the benchmark stage (does anything beat Adam?); ``"cpu"`` stands for every
    CPU-sized task. Empty: the stage does not run (and the not-in-general claim says *not run*)."""
    benchmark_optimizers: tuple[str, ...] = ()
    """Catalog keys the benchmark compares (empty: the whole catalog; Adam must be among them)."""
    benchmark_budget: int = 10
    """Random-search trials per (task, optimizer); the same for every optimizer."""
    benchmark_seeds: int = 5
    """Seeds of each optimizer's selected configuration."""
    benchmark_steps: tuple[tuple[str, int], ...] = ()
    """Iterations per task, as ``((task, steps), ...)``; a task not named runs its default."""

    def __post_init__(self) -> None:
        if not self.optimizers or len(set(self.optimizers)) != len(self.optimizers):
            raise ValueError(
                f"optimizers must be one or more distinct catalog keys, got {self.optimizers!r}"
            )

    def seeds(self) -> list[int]:
        """Return every seed a stage may use."""
        n = max(self.figure1_seeds, *(t.seeds for t in self.training.values()))
        return [self.seed + i for i in range(n)]

    def as_dict(self) -> dict[str, Any]:
        """Return the profile as JSON-friendly data."""
        return asdict(self)


QUICK = Profile(
    name="quick",
    description=(
        "Every claim on a budget: Figure 1 at the paper's 5M steps, Theorem 1 for 4 values of C, "
        "a 16x16 atlas, MNIST logistic regression and MLP with each task's full lr grid x beta2 "
        "in {0.99, 0.999}, 1,200 iterations and 3 seeds; CIFARNET as a 40-iteration, one-seed "
        "smoke run."
    ),
    expected_wall_time=(
        "about 2 min 10 s on 2 idle CPU cores (AMD EPYC): 100 s were measured before the full "
        "lr grid (MNIST stages +13% CPU time) and the family stage (24 s); 3 min 24 s measured "
        "on the same 2 cores shared with other jobs, CIFARNET 1.5 min of it"
    ),
    figure1_steps=5_000_000,
    figure1_seeds=5,
    theorem1_steps=1_000_000,
    theorem1_cs=(3.0, 5.0, 10.0, 20.0),
    atlas_grid=16,
    atlas_steps=200_000,
    # Under 30 s on 2 cores: Adam's online regret exponent is 0.88 (undecided) at 1M steps and
    # settles only later, so the paper's horizon on three problems rather than all nine at 1M.
    family_steps=5_000_000,
    family_problems=("paper_online", "paper_stochastic", "theorem1(C=5)"),
    family_seeds=1,
    training={
        # The task's full lr grid (lrs=None) and the paper's two beta2: the batched engine trains
        # a grid as one model, so 5 lrs cost little more than 2; the budget comes from 1,200 of
        # the 3,000 iterations and 3 of the 5 seeds instead (the report marks these verdicts).
        "mnist-logreg": TrainingProfile(steps=1200, lrs=None, seeds=3),
        "mnist-mlp": TrainingProfile(steps=1200, lrs=None, seeds=3),
        # A smoke run of the real CIFARNET pipeline: one (lr, beta2) and one seed per optimizer,
        # 40 iterations (about 1.3 s each on 2 CPU cores). The claims table then says, from the
        # numbers, that one seed cannot support the paper's CIFARNET claim.
        "cifarnet": TrainingProfile(steps=40, lrs=(1e-3,), beta2s=(0.999,), seeds=1, eval_every=20),
    },
)

PAPER = Profile(
    name="paper",
    description=(
        "The paper's protocol: Figure 1 at 5M steps, a 64x64 atlas at 1M steps, MNIST and "
        "CIFARNET with each task's full lr grid, beta2 in {0.99, 0.999} and 5 seeds of the best "
        "configuration per optimizer."
    ),
    expected_wall_time="hours on a 2-core CPU (CIFARNET dominates; not measured end to end)",
    figure1_steps=5_000_000,
    figure1_seeds=5,
    theorem1_steps=5_000_000,
    theorem1_cs=(2.5, 3.0, 4.0, 5.0, 7.5, 10.0, 15.0, 20.0, 50.0),
    atlas_grid=64,
    atlas_steps=1_000_000,
    training={
        "mnist-logreg": TrainingProfile(steps=None, lrs=None, seeds=5),
        "mnist-mlp": TrainingProfile(steps=None, lrs=None, seeds=5),
        "cifarnet": TrainingProfile(steps=None, lrs=None, seeds=5),
    },
)

FAMILY = replace(
    QUICK,
    name="family",
    description=(
        "The quick profile plus the family benchmark (does anything beat Adam?): every optimizer "
        "of the catalog on the CPU tasks, an equal budget of 10 random-search trials (log-uniform "
        "lr around each optimizer's default, selection by validation loss), then 5 seeds of each "
        "selected configuration; the not-in-general claim is judged from it."
    ),
    expected_wall_time=(
        "an estimate until measured (see README): about an hour on 2 CPU cores for the "
        "benchmark (19 optimizers x 5 CPU tasks x 15 runs) plus the quick profile's 2 min"
    ),
    benchmark_tasks=("cpu",),
    benchmark_budget=10,
    benchmark_seeds=5,
    # Each task's iterations, sized so the benchmark fits about 40 minutes on 2 cores (measured
    # per-step costs here: the autoencoder ~7 ms, the CNN ~8 ms, the others 0.3-2 ms per run).
    benchmark_steps=(
        ("quadratic-deep", 1000),
        ("mnist-logreg", 3000),
        ("mnist-mlp", 3000),
        ("mnist-ae", 1000),
        ("mnist-cnn", 600),
    ),
)
"""``quick`` and the benchmark stage on the CPU tasks (budget 10, 5 seeds)."""

PROFILES: dict[str, Profile] = {p.name: p for p in (QUICK, PAPER, FAMILY)}


def get_profile(name: str) -> Profile:
    """Return the profile called ``name``.

    Raises:
        KeyError: With the list of known profiles when ``name`` is unknown.

    """
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise KeyError(f"unknown profile {name!r}; known profiles: {known}") from None
