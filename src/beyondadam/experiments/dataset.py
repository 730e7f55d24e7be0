"""The in-memory dataset type every loader returns, and the loaders' error."""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["DataError", "Dataset"]


class DataError(RuntimeError):
    """A dataset file is missing, corrupt, truncated or not the official one."""


@dataclass(frozen=True)
class Dataset:
    """A dataset held in memory.

    ``x_train``/``x_test`` are ``uint8`` tensors (MNIST ``(N, 784)``, CIFAR-10 ``(N, 3, 32, 32)``)
    or ``float32`` (the quadratic's noise ``(N, 100)``), ``y_train``/``y_test`` are ``int64``
    labels in ``[0, 10)`` (zeros where a dataset has none). ``test_note`` says which test set is
    used (e.g. ``"test: first 1,000 official test images"``); ``test_complete`` is False when it is
    only part of the official one. ``x_val``/``y_val``: the validation split, held out of
    ``x_train`` (``None`` unless from :func:`beyondadam.experiments.splits.with_validation`).
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    test_note: str
    test_complete: bool
    source: str
    x_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None
