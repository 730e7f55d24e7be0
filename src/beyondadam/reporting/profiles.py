"""Reproduction profiles: how much of the paper to rerun, as plain data.

``quick`` is sized to finish in under 10 minutes on a 2-core machine; ``paper`` follows the
paper's protocol (5M synthetic steps, the full learning-rate grid, 5 seeds) and takes hours on a
CPU. The measured wall times live in ``expected_wall_time`` and in ``docs/reproduce.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["PAPER", "PROFILES", "QUICK", "Profile", "TrainingProfile", "get_profile"]


@dataclass(frozen=True)
class TrainingProfile:
    """How to run one training protocol (grid search, then seeds of the best configuration)."""

    epochs: int
    """Training epochs of every run."""
    lrs: tuple[float, ...]
    """Learning rates of the grid search."""
    beta2s: tuple[float, ...] = (0.99, 0.999)
    """Second-moment decays of the grid search (the paper's two values)."""
    seeds: int = 3
    """Number of seeds of each optimizer's best configuration."""
    batch_size: int = 128
    """Mini-batch size."""
    train_subset: int | None = None
    """Use only the first N training examples (``None``: all of them)."""

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
    theorem1_steps: int
    """Steps of the Theorem 1 example."""
    theorem1_cs: tuple[float, ...]
    """Values of C in the Theorem 1 sweep (the theorem needs C > 2)."""
    atlas_beta1s: tuple[float, ...]
    atlas_beta2s: tuple[float, ...]
    atlas_steps: int
    mnist_logreg: TrainingProfile
    mnist_mlp: TrainingProfile
    cifarnet: TrainingProfile
    seed: int = 0
    """Base seed: the seeds used are ``seed, seed + 1, ...``."""
    lr: float = 0.001
    """Base step size alpha of the synthetic problems (the step at t is alpha / sqrt(t))."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form options passed to the stage adapters (for tests and experiments)."""

    def seeds(self) -> list[int]:
        """Return every seed a training stage may use."""
        n = max(self.mnist_logreg.seeds, self.mnist_mlp.seeds, self.cifarnet.seeds)
        return [self.seed + i for i in range(n)]

    def as_dict(self) -> dict[str, Any]:
        """Return the profile as JSON-friendly data."""
        return asdict(self)


QUICK = Profile(
    name="quick",
    description=(
        "Every claim on a budget: 200k synthetic steps, a coarse atlas, MNIST with a 2x2 grid "
        "for 1 epoch and 3 seeds, CIFARNET on a 5,000-image subset for 1 epoch and 3 seeds."
    ),
    expected_wall_time="under 10 minutes on 2 CPU cores (measured: see docs/reproduce.md)",
    figure1_steps=200_000,
    theorem1_steps=200_000,
    theorem1_cs=(3.0, 5.0, 10.0),
    atlas_beta1s=(0.0, 0.5, 0.9),
    atlas_beta2s=(0.9, 0.99, 0.999),
    atlas_steps=50_000,
    mnist_logreg=TrainingProfile(epochs=1, lrs=(1e-3, 1e-2), seeds=3),
    mnist_mlp=TrainingProfile(epochs=1, lrs=(1e-3, 1e-2), seeds=3),
    cifarnet=TrainingProfile(epochs=1, lrs=(1e-3,), beta2s=(0.999,), seeds=3, train_subset=5_000),
)

PAPER = Profile(
    name="paper",
    description=(
        "The paper's protocol: 5M synthetic steps, a fine atlas, MNIST and CIFARNET with the full "
        "grid (lr in 1e-5..1e-1, beta2 in {0.99, 0.999}) and 5 seeds of the best configuration."
    ),
    expected_wall_time="many hours on a CPU (not measured end to end; a GPU helps CIFARNET)",
    figure1_steps=5_000_000,
    theorem1_steps=5_000_000,
    theorem1_cs=(2.5, 3.0, 5.0, 10.0, 20.0, 50.0),
    atlas_beta1s=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99),
    atlas_beta2s=(0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999),
    atlas_steps=1_000_000,
    mnist_logreg=TrainingProfile(epochs=20, lrs=(1e-5, 1e-4, 1e-3, 1e-2, 1e-1), seeds=5),
    mnist_mlp=TrainingProfile(epochs=20, lrs=(1e-5, 1e-4, 1e-3, 1e-2, 1e-1), seeds=5),
    cifarnet=TrainingProfile(epochs=20, lrs=(1e-5, 1e-4, 1e-3, 1e-2, 1e-1), seeds=5),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (QUICK, PAPER)}


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
