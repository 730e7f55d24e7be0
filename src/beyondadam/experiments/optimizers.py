"""The bridge from experiment configurations to the optimizer catalog (:mod:`beyondadam.optim`).

Configurations carry hyperparameters as a plain dict of constructor keyword arguments
(``{"lr": 1e-3, "betas": [0.9, 0.999]}``); this module builds optimizers from the catalog,
validates hyperparameters with the classes' own checks before any training, and expands the
protocol's grid per optimizer from the hyperparameters each one has.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from beyondadam.optim import OPTIMIZERS
from beyondadam.optim.catalog import get

__all__ = [
    "as_kwargs",
    "build_optimizer",
    "hparam_grid",
    "registry",
    "validate_hparams",
]


def registry() -> dict[str, type[torch.optim.Optimizer]]:
    """The optimizers by lowercase name (``beyondadam.optim.OPTIMIZERS``)."""
    return dict(OPTIMIZERS)


def as_kwargs(stored: dict[str, Any]) -> dict[str, Any]:
    """Stored hyperparameters (JSON lists) as constructor keyword arguments (tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in stored.items()}


def build_optimizer(
    name: str, params: Iterable[torch.nn.Parameter], hparams: dict[str, Any]
) -> torch.optim.Optimizer:
    """Construct optimizer ``name`` over ``params`` with keyword arguments ``hparams``."""
    return get(name).cls(params, **as_kwargs(hparams))


def validate_hparams(name: str, hparams: dict[str, Any]) -> None:
    """Raise ValueError (naming the parameter) if ``name`` rejects ``hparams``.

    The checks are the class's own (:meth:`beyondadam.optim.Entry.validate`); training also
    needs a finite ``lr > 0``.
    """
    entry = get(name)
    lr = hparams.get("lr", 1.0)
    if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    try:
        entry.validate(as_kwargs(hparams))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid hyperparameters for {name}: {exc}") from exc


def hparam_grid(
    name: str, lrs: Sequence[float], beta1: float, beta2s: Sequence[float]
) -> list[dict[str, Any]]:
    """The protocol's grid for one optimizer: lr x beta2 (beta1 fixed) where the optimizer has them.

    Optimizers with ``betas`` get ``betas=[beta1, beta2]`` for each beta2; those with ``beta1``
    (AdamNC, NosAdam) get ``beta1``; others (SGD, AdaGrad, ...) only ``lr``.
    """
    names = get(name).hyperparameters()
    grid: list[dict[str, Any]] = []
    for lr in lrs:
        if "betas" in names:
            grid += [{"lr": float(lr), "betas": [float(beta1), float(b2)]} for b2 in beta2s]
        elif "beta1" in names:
            grid.append({"lr": float(lr), "beta1": float(beta1)})
        else:
            grid.append({"lr": float(lr)})
    return grid
