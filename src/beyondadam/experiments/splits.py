"""The validation split every task carves from its training set (DeepOBS style).

A run with ``validation=True`` (:class:`~beyondadam.experiments.runs.RunConfig`) trains on the
training set minus :attr:`Task.val_size <beyondadam.experiments.tasks.Task.val_size>` examples and
reports its loss on those at every evaluation; the split is fixed (one seeded permutation), the
same for every seed and optimizer, so a tuning protocol can select on it without touching the test
set.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from beyondadam.experiments.data import Dataset

__all__ = ["VALIDATION_SEED", "run_data", "validation_indices", "with_validation"]

#: seed of the permutation that carves every validation split (never a run's seed).
VALIDATION_SEED = 20181113


def validation_indices(n: int, val_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sorted training and validation indices into a training set of ``n`` examples.

    The validation set is the last ``val_size`` entries of a permutation drawn with
    :data:`VALIDATION_SEED`: the same split for every seed and optimizer.
    """
    if not 0 < val_size < n:
        raise ValueError(f"val_size must be in 1..{n - 1}, got {val_size}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(VALIDATION_SEED))
    return perm[: n - val_size].sort().values, perm[n - val_size :].sort().values


def with_validation(data: Dataset, val_size: int) -> Dataset:
    """``data`` with ``val_size`` training examples moved to ``x_val``/``y_val``."""
    train, val = validation_indices(len(data.y_train), val_size)
    return replace(
        data,
        x_train=data.x_train[train],
        y_train=data.y_train[train],
        x_val=data.x_train[val],
        y_val=data.y_train[val],
    )


def run_data(data: Dataset, val_size: int, validation: bool) -> Dataset:
    """The data a run sees: ``data``, or with its validation split carved out (once)."""
    if not validation or data.x_val is not None:
        return data
    return with_validation(data, val_size)
