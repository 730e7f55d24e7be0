"""The deep quadratic's data: DeepOBS-style synthetic noise samples, generated, never read."""

from __future__ import annotations

import os

import numpy as np
import torch

from beyondadam.experiments.dataset import Dataset

__all__ = ["QUADRATIC_DIM", "QUADRATIC_NOISE", "QUADRATIC_SIZE", "load_quadratic"]

#: DeepOBS's ``quadratic`` data set: 1,000 training and 1,000 test points in 100 dimensions,
#: zero-mean Gaussian with standard deviation 0.6 (its ``noise_level`` default).
QUADRATIC_SIZE, QUADRATIC_DIM, QUADRATIC_NOISE = 1000, 100, 0.6


def load_quadratic(data_dir: str | os.PathLike[str] | None = None) -> Dataset:
    """The deep quadratic's noise samples ``x ~ N(0, 0.6^2 I)``, float32 ``(1000, 100)`` each.

    Synthetic and deterministic: numpy's PCG64 with fixed seeds (train 42, test 43, as DeepOBS
    seeds its two sets; the draws differ), the same on every machine. ``data_dir`` is ignored.
    """

    def draw(seed: int) -> torch.Tensor:
        rng = np.random.default_rng(seed)
        x = rng.normal(0.0, QUADRATIC_NOISE, (QUADRATIC_SIZE, QUADRATIC_DIM))
        return torch.from_numpy(x.astype(np.float32))

    labels = torch.zeros(QUADRATIC_SIZE, dtype=torch.int64)
    return Dataset(
        name="quadratic",
        x_train=draw(42),
        y_train=labels,
        x_test=draw(43),
        y_test=labels.clone(),
        test_note=f"test: {QUADRATIC_SIZE:,} synthetic noise samples (seed 43)",
        test_complete=True,
        source="synthetic",
    )
