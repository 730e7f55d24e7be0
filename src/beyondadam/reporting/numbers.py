"""Each stage's numbers as a frozen dataclass: what ``collect`` writes and the claims read.

Every class has ``to_json()`` and ``from_json(obj)`` (an exact round trip through
``json.dumps``/``json.loads``) and a ``KIND`` stored under ``"kind"``, so a stage record in
``results.json`` says which class its numbers are (:func:`numbers_from_json`). Per-optimizer
numbers are keyed by the optimizer's catalog key (``"adam"``, ``"amsgrad"``, ...) in the order the
run used, and carry its display name (``"Adam"``) so a report renders from ``results.json`` alone.

Layout (``numbers`` of each stage)::

    figure1:  {"kind": "figure1", "online": S, "stochastic": S}
              S = {"T", "x_star", "t_half", "seeds", "optimizers": {key: {"name", "label", "x_T",
                   "x_T_seeds", "avg_regret_T", "avg_regret_half"}}}
    theorem1: {"kind": "theorem1", "x_star", "T", "beta1", "C": [...], "beta2": [...],
               "optimizers": {key: {"name", "x_T": [per C], "avg_regret": [per C]}}}
    atlas:    {"kind": "atlas", "cells", "cells_beta1_lt_sqrt_beta2",
               "optimizers": {key: {"name", "wrong_side", "wrong_side_where_beta1_lt_sqrt_beta2"}}}
    training: {"kind": "training", "task", "test_note", "n_test", "test_complete",
               "optimizers": {key: {"name", "selected", "seeds", "diverged", "final_train_loss",
                                    "final_test_loss", "final_test_accuracy"}},
               "summary": [one row per optimizer, as experiments' summary table]}

``x_T`` is the mean of ``x_T_seeds`` (one value on the online problem), ``avg_regret_T`` is R_T/T
and ``avg_regret_half`` R_t/t at the checkpoint closest to T/2; the training lists hold one value
per finished seed run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

__all__ = [
    "AtlasNumbers",
    "AtlasOptimizer",
    "Figure1Numbers",
    "SettingNumbers",
    "SimOptimizer",
    "StageNumbers",
    "Theorem1Numbers",
    "Theorem1Optimizer",
    "TrainingNumbers",
    "TrainingOptimizer",
    "numbers_from_json",
]

T = TypeVar("T")


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _opts(obj: Mapping[str, Any], parse: Callable[[Mapping[str, Any]], T]) -> dict[str, T]:
    """Parse a ``{key: record}`` mapping, keeping its order."""
    if not isinstance(obj, Mapping):
        raise TypeError(f"optimizers must be a mapping, got {type(obj).__name__}")
    return {str(k): parse(v) for k, v in obj.items()}


@dataclass(frozen=True)
class SimOptimizer:
    """One optimizer on one Figure 1 problem."""

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

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "name": self.name,
            "label": self.label,
            "x_T": self.x_final,
            "x_T_seeds": list(self.x_final_seeds),
            "avg_regret_T": self.avg_regret_final,
            "avg_regret_half": self.avg_regret_half,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> SimOptimizer:
        """Inverse of :meth:`to_json`."""
        return cls(
            name=str(obj["name"]),
            label=str(obj["label"]),
            x_final=float(obj["x_T"]),
            x_final_seeds=_floats(obj["x_T_seeds"]),
            avg_regret_final=float(obj["avg_regret_T"]),
            avg_regret_half=float(obj["avg_regret_half"]),
        )


@dataclass(frozen=True)
class SettingNumbers:
    """One Figure 1 problem (online or stochastic): horizon, optimum, per-optimizer numbers."""

    T: int
    x_star: float
    t_half: int
    seeds: int
    optimizers: dict[str, SimOptimizer]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "T": self.T,
            "x_star": self.x_star,
            "t_half": self.t_half,
            "seeds": self.seeds,
            "optimizers": {k: v.to_json() for k, v in self.optimizers.items()},
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> SettingNumbers:
        """Inverse of :meth:`to_json`."""
        return cls(
            T=int(obj["T"]),
            x_star=float(obj["x_star"]),
            t_half=int(obj["t_half"]),
            seeds=int(obj["seeds"]),
            optimizers=_opts(obj["optimizers"], SimOptimizer.from_json),
        )


@dataclass(frozen=True)
class Figure1Numbers:
    """Figure 1: the online and the stochastic problem."""

    KIND: ClassVar[str] = "figure1"
    online: SettingNumbers
    stochastic: SettingNumbers

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "kind": self.KIND,
            "online": self.online.to_json(),
            "stochastic": self.stochastic.to_json(),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Figure1Numbers:
        """Inverse of :meth:`to_json`."""
        return cls(
            online=SettingNumbers.from_json(obj["online"]),
            stochastic=SettingNumbers.from_json(obj["stochastic"]),
        )


@dataclass(frozen=True)
class Theorem1Optimizer:
    """One optimizer over the Theorem 1 sweep: one value per C."""

    name: str
    x_final: tuple[float, ...]
    """Final iterate x_T for each C (JSON ``x_T``)."""
    avg_regret: tuple[float, ...]
    """R_T/T for each C."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {"name": self.name, "x_T": list(self.x_final), "avg_regret": list(self.avg_regret)}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Theorem1Optimizer:
        """Inverse of :meth:`to_json`."""
        return cls(str(obj["name"]), _floats(obj["x_T"]), _floats(obj["avg_regret"]))


@dataclass(frozen=True)
class Theorem1Numbers:
    """Theorem 1's example over several C (beta2 = 1/(1 + C^2) for each)."""

    KIND: ClassVar[str] = "theorem1"
    x_star: float
    T: int
    beta1: float
    C: tuple[float, ...]
    beta2: tuple[float, ...]
    optimizers: dict[str, Theorem1Optimizer]

    def __post_init__(self) -> None:
        n = len(self.C)
        lengths = {len(self.beta2)} | {len(o.x_final) for o in self.optimizers.values()}
        lengths |= {len(o.avg_regret) for o in self.optimizers.values()}
        if lengths - {n}:
            raise ValueError(f"theorem1 numbers: every list must have one value per C ({n})")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "kind": self.KIND,
            "x_star": self.x_star,
            "T": self.T,
            "beta1": self.beta1,
            "C": list(self.C),
            "beta2": list(self.beta2),
            "optimizers": {k: v.to_json() for k, v in self.optimizers.items()},
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Theorem1Numbers:
        """Inverse of :meth:`to_json`."""
        return cls(
            x_star=float(obj["x_star"]),
            T=int(obj["T"]),
            beta1=float(obj["beta1"]),
            C=_floats(obj["C"]),
            beta2=_floats(obj["beta2"]),
            optimizers=_opts(obj["optimizers"], Theorem1Optimizer.from_json),
        )


@dataclass(frozen=True)
class AtlasOptimizer:
    """How often one optimizer ends on the wrong side (x_T > 0) of the atlas' problem."""

    name: str
    wrong_side: int
    wrong_side_where_beta1_lt_sqrt_beta2: int

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "name": self.name,
            "wrong_side": self.wrong_side,
            "wrong_side_where_beta1_lt_sqrt_beta2": self.wrong_side_where_beta1_lt_sqrt_beta2,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> AtlasOptimizer:
        """Inverse of :meth:`to_json`."""
        return cls(
            str(obj["name"]),
            int(obj["wrong_side"]),
            int(obj["wrong_side_where_beta1_lt_sqrt_beta2"]),
        )


@dataclass(frozen=True)
class AtlasNumbers:
    """Counts over the (beta1, beta2) grid of the atlas."""

    KIND: ClassVar[str] = "atlas"
    cells: int
    cells_beta1_lt_sqrt_beta2: int
    optimizers: dict[str, AtlasOptimizer]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "kind": self.KIND,
            "cells": self.cells,
            "cells_beta1_lt_sqrt_beta2": self.cells_beta1_lt_sqrt_beta2,
            "optimizers": {k: v.to_json() for k, v in self.optimizers.items()},
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> AtlasNumbers:
        """Inverse of :meth:`to_json`."""
        return cls(
            cells=int(obj["cells"]),
            cells_beta1_lt_sqrt_beta2=int(obj["cells_beta1_lt_sqrt_beta2"]),
            optimizers=_opts(obj["optimizers"], AtlasOptimizer.from_json),
        )


@dataclass(frozen=True)
class TrainingOptimizer:
    """One optimizer's seed runs of its selected configuration on a training task."""

    name: str
    selected: dict[str, Any]
    """The selected hyperparameters (e.g. ``{"betas": [0.9, 0.99], "lr": 0.01}``)."""
    seeds: tuple[int, ...]
    diverged: int
    final_train_loss: tuple[float, ...]
    final_test_loss: tuple[float, ...]
    final_test_accuracy: tuple[float, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "name": self.name,
            "selected": dict(self.selected),
            "seeds": list(self.seeds),
            "diverged": self.diverged,
            "final_train_loss": list(self.final_train_loss),
            "final_test_loss": list(self.final_test_loss),
            "final_test_accuracy": list(self.final_test_accuracy),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> TrainingOptimizer:
        """Inverse of :meth:`to_json`."""
        return cls(
            name=str(obj["name"]),
            selected=dict(obj["selected"]),
            seeds=tuple(int(s) for s in obj["seeds"]),
            diverged=int(obj["diverged"]),
            final_train_loss=_floats(obj["final_train_loss"]),
            final_test_loss=_floats(obj["final_test_loss"]),
            final_test_accuracy=_floats(obj["final_test_accuracy"]),
        )


@dataclass(frozen=True)
class TrainingNumbers:
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

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "kind": self.KIND,
            "task": self.task,
            "test_note": self.test_note,
            "n_test": self.n_test,
            "test_complete": self.test_complete,
            "optimizers": {k: v.to_json() for k, v in self.optimizers.items()},
            "summary": [dict(row) for row in self.summary],
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> TrainingNumbers:
        """Inverse of :meth:`to_json`."""
        return cls(
            task=str(obj["task"]),
            test_note=str(obj["test_note"]),
            n_test=int(obj["n_test"]),
            test_complete=bool(obj["test_complete"]),
            optimizers=_opts(obj["optimizers"], TrainingOptimizer.from_json),
            summary=tuple(dict(row) for row in obj.get("summary", ())),
        )


StageNumbers = Figure1Numbers | Theorem1Numbers | AtlasNumbers | TrainingNumbers
"""The numbers of any stage."""

_KINDS: dict[str, Any] = {
    c.KIND: c for c in (Figure1Numbers, Theorem1Numbers, AtlasNumbers, TrainingNumbers)
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
