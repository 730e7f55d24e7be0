"""Each stage's numbers as a frozen dataclass: what ``collect`` writes and the claims read.

Every class has ``to_json()`` and ``from_json(obj)`` (:class:`JsonRecord`: an exact round trip
through ``json.dumps``/``json.loads``, checked field by field against the annotations) and a
``KIND`` stored under ``"kind"``, so a stage record in
``results.json`` says which class its numbers are (:func:`numbers_from_json`). Per-optimizer
numbers are keyed by the optimizer's catalog key (``"adam"``, ``"amsgrad"``, ...) in the order the
run used, and carry its display name (``"Adam"``) so a report renders from ``results.json`` alone.

Layout (``numbers`` of each stage)::

    figure1:  {"kind": "figure1", "online": S, "stochastic": S}
              S = {"T", "x_star", "t_half", "seeds", "optimizers": {key: {"name", "label", "x_T",
                   "x_T_seeds", "avg_regret_T", "avg_regret_half"}}}
    theorem1: {"kind": "theorem1", "x_star", "T", "beta1", "C": [...], "beta2": [...],
               "optimizers": {key: {"name", "x_T": [per C], "avg_regret": [per C]}}}
    atlas:    {"kind": "atlas", "T", "cells", "cells_beta1_lt_sqrt_beta2",
               "optimizers": {key: {"name", "wrong_side", "wrong_side_where_beta1_lt_sqrt_beta2",
                                    "verdicts", "verdicts_where_beta1_lt_sqrt_beta2",
                                    "wrong_side_verdicts"}}}      (verdict -> cells)
    family:   {"kind": "family", "T", "seeds", "problems", "settings", "missing",
               "runs": [{"key", "name", "setting", "problem", "hyperparameters", "x_T", "x_star",
                         "avg_regret_T", "exponent", "verdict"}]}
    training: {"kind": "training", "task", "test_note", "n_test", "test_complete",
               "optimizers": {key: {"name", "selected", "seeds", "diverged", "final_train_loss",
                                    "final_test_loss", "final_test_accuracy"}},
               "summary": [one row per optimizer, as experiments' summary table]}
    benchmark: {"kind": "benchmark", ...}: see :class:`beyondadam.reporting.benchmark_stats.
               BenchmarkNumbers` (per task and optimizer, the comparisons with Adam, the
               performance profile and best-so-far against the tuning budget)

``x_T`` is the mean of ``x_T_seeds`` (one value on the online problem), ``avg_regret_T`` is R_T/T
and ``avg_regret_half`` R_t/t at the checkpoint closest to T/2; the training lists hold one value
per finished seed run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from beyondadam.reporting.benchmark_stats import BenchmarkNumbers
from beyondadam.reporting.records import JsonRecord

__all__ = [
    "TRAINING_RANGES",
    "AtlasNumbers",
    "AtlasOptimizer",
    "BenchmarkNumbers",
    "FamilyNumbers",
    "FamilyRun",
    "Figure1Numbers",
    "JsonRecord",
    "SettingNumbers",
    "SimOptimizer",
    "StageNumbers",
    "Theorem1Numbers",
    "Theorem1Optimizer",
    "TrainingNumbers",
    "TrainingOptimizer",
    "numbers_from_json",
]


@dataclass(frozen=True)
class SimOptimizer(JsonRecord):
    """One optimizer on one Figure 1 problem."""

    JSON_KEYS: ClassVar[dict[str, str]] = {
        "x_final": "x_T",
        "x_final_seeds": "x_T_seeds",
        "avg_regret_final": "avg_regret_T",
    }
    name: str
    """Display name, e.g. ``"Adam"``."""
    label: str
    """The simulator's full label, with hyperparameters."""
    x_final: float
    """Mean over seeds of the final iterate x_T (JSON ``x_T``)."""
    x_final_seeds: tuple[float, ...]
    """x_T of each seed (JSON ``x_T_seeds``)."""
    avg_regret_final: float
    """R_T/T averaged over seeds (JSON ``avg_regret_T``)."""
    avg_regret_half: float
    """R_t/t at the checkpoint closest to T/2, averaged over seeds."""


@dataclass(frozen=True)
class SettingNumbers(JsonRecord):
    """One Figure 1 problem (online or stochastic): horizon, optimum, per-optimizer numbers."""

    T: int
    x_star: float
    t_half: int
    seeds: int
    optimizers: dict[str, SimOptimizer]


@dataclass(frozen=True)
class Figure1Numbers(JsonRecord):
    """Figure 1: the online and the stochastic problem."""

    KIND: ClassVar[str] = "figure1"
    online: SettingNumbers
    stochastic: SettingNumbers


@dataclass(frozen=True)
class Theorem1Optimizer(JsonRecord):
    """One optimizer over the Theorem 1 sweep: its final iterate x_T and R_T/T for each C."""

    JSON_KEYS: ClassVar[dict[str, str]] = {"x_final": "x_T"}
    name: str
    x_final: tuple[float, ...]
    avg_regret: tuple[float, ...]


@dataclass(frozen=True)
class Theorem1Numbers(JsonRecord):
    """Theorem 1's example over several C (beta2 = 1/(1 + C^2) for each)."""

    C: tuple[float, ...]
    """The values of C swept."""
    beta2: tuple[float, ...]
    """1/(1 + C^2) for each C."""
    beta1: float
    T: int
    """Steps of every run."""
    x_star: float
    """The optimum, -1."""
    optimizers: dict[str, Theorem1Optimizer]
    KIND: ClassVar[str] = "theorem1"

    def __post_init__(self) -> None:
        n = len(self.C)
        lengths = {len(self.beta2)} | {len(o.x_final) for o in self.optimizers.values()}
        lengths |= {len(o.avg_regret) for o in self.optimizers.values()}
        if lengths - {n}:
            raise ValueError(f"theorem1 numbers: every list must have one value per C ({n})")


@dataclass(frozen=True)
class AtlasOptimizer(JsonRecord):
    """One optimizer over the atlas' grid: where it ends and what its regret rate says.

    The verdict counts map each verdict of :func:`beyondadam.sim.rates.classify` (``converges``,
    ``fails``, ``undecided``) to a number of cells.
    """

    name: str
    wrong_side: int
    """Cells whose final iterate ends on the wrong side, x_T > 0."""
    wrong_side_where_beta1_lt_sqrt_beta2: int
    verdicts: dict[str, int]
    """Verdict -> cells, over the whole grid."""
    verdicts_where_beta1_lt_sqrt_beta2: dict[str, int]
    """Verdict -> cells, among the cells with beta1 < sqrt(beta2)."""
    wrong_side_verdicts: dict[str, int]
    """Verdict -> cells, among the wrong-side cells with beta1 < sqrt(beta2)."""


@dataclass(frozen=True)
class AtlasNumbers(JsonRecord):
    """Counts over the (beta1, beta2) grid of the atlas."""

    KIND: ClassVar[str] = "atlas"
    cells: int
    cells_beta1_lt_sqrt_beta2: int
    optimizers: dict[str, AtlasOptimizer]
    T: int = 0
    """Steps of every cell (0: not stored)."""


@dataclass(frozen=True)
class FamilyRun(JsonRecord):
    """One (optimizer, setting, problem) of the family stage."""

    JSON_KEYS: ClassVar[dict[str, str]] = {"x_final": "x_T", "avg_regret": "avg_regret_T"}
    key: str
    """The optimizer's catalog key (``"adam"``)."""
    name: str
    setting: str
    """One of :data:`beyondadam.sim.family.SETTINGS` (``"paper betas, lr=0.5"``)."""
    problem: str
    hyperparameters: str
    x_final: float
    x_star: float
    avg_regret: float
    """R_T/T (the seed mean on a stochastic problem)."""
    exponent: float
    """Regret exponent fitted over the last decade (NaN where none could be fitted)."""
    verdict: str
    """``converges``, ``fails`` or ``undecided``."""


@dataclass(frozen=True)
class FamilyNumbers(JsonRecord):
    """Every optimizer of the run on the counterexamples, in each setting."""

    KIND: ClassVar[str] = "family"
    T: int
    seeds: int
    """Runs of each stochastic problem (the verdict reads their mean)."""
    problems: tuple[str, ...]
    settings: tuple[str, ...]
    runs: tuple[FamilyRun, ...]
    missing: tuple[str, ...] = ()
    """Optimizers asked for that have no simulator rule (not run)."""

    def run(self, key: str, setting: str, problem: str) -> FamilyRun:
        """The run of (optimizer key, setting, problem); ``KeyError`` when it is not stored."""
        for r in self.runs:
            if (r.key, r.setting, r.problem) == (key, setting, problem):
                return r
        raise KeyError(f"family: no run of {key!r}, {setting!r} on {problem!r}")


@dataclass(frozen=True)
class TrainingOptimizer(JsonRecord):
    """One optimizer's seed runs of its selected configuration on a training task."""

    name: str
    selected: dict[str, Any]
    """The selected hyperparameters (e.g. ``{"betas": [0.9, 0.99], "lr": 0.01}``)."""
    seeds: tuple[int, ...]
    """The seeds rerun with the selected configuration."""
    diverged: int
    """How many of them diverged (they have no final values)."""
    final_train_loss: tuple[float, ...]
    """Per finished seed: mean training loss over the selection window at the end."""
    final_test_loss: tuple[float, ...]
    """Per finished seed: test loss at the last evaluation."""
    final_test_accuracy: tuple[float, ...]
    """Per finished seed: test accuracy at the last evaluation."""


TRAINING_RANGES: dict[str, tuple[float | None, float | None]] = {
    "final_train_loss": (0.0, None),
    "final_test_loss": (0.0, None),
    "final_test_accuracy": (0.0, 1.0),
}
"""The range each per-seed list of :class:`TrainingOptimizer` can take (cross-entropy losses are
positive, accuracies lie in [0, 1]); confidence bands are clipped to it
(:func:`beyondadam.reporting.stats.mean_band`)."""


@dataclass(frozen=True)
class TrainingNumbers(JsonRecord):
    """A training task (grid search, then seeds of each optimizer's selected configuration)."""

    KIND: ClassVar[str] = "training"
    task: str
    """The task's id in :data:`beyondadam.experiments.TASKS` (also the stage id)."""
    test_note: str
    n_test: int
    """Test images the loader returned (CIFAR-10 may be only the first 1,000)."""
    test_complete: bool
    """Whether that is the whole official test set, as the loader reports it."""
    optimizers: dict[str, TrainingOptimizer]
    summary: tuple[dict[str, Any], ...] = field(default=())
    """The experiments' summary table, one row per optimizer (for readers; no claim reads it)."""


StageNumbers = (
    Figure1Numbers
    | Theorem1Numbers
    | AtlasNumbers
    | FamilyNumbers
    | TrainingNumbers
    | BenchmarkNumbers
)
"""The numbers of any stage."""

_KINDS: dict[str, Any] = {
    c.KIND: c
    for c in (
        Figure1Numbers,
        Theorem1Numbers,
        AtlasNumbers,
        FamilyNumbers,
        TrainingNumbers,
        BenchmarkNumbers,
    )
}


def numbers_from_json(obj: Mapping[str, Any] | None) -> StageNumbers | None:
    """Parse a stage's stored ``numbers`` by its ``"kind"``; ``None`` or ``{}`` give ``None``.

    Raises:
        ValueError: Unknown kind.
        KeyError, TypeError: A field is missing or has the wrong type.

    """
    if not obj:
        return None
    kind = obj.get("kind")
    if kind not in _KINDS:
        raise ValueError(f"numbers kind must be one of {sorted(_KINDS)}, got {kind!r}")
    return _KINDS[kind].from_json(obj)
