"""Where the tests find the real datasets: the user's own setting, ``BEYONDADAM_DATA``.

The Makefile exports it as ``../shared/datasets`` when that folder exists; a test run without it
falls back to the same folder beside the checkout, and tests that need files skip, saying which.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_env = os.environ.get("BEYONDADAM_DATA")
DATA = Path(_env) if _env else Path(__file__).resolve().parents[2] / "shared" / "datasets"

HAS_MNIST = (DATA / "mnist").is_dir()
HAS_CIFAR = (DATA / "cifar-10-batches-bin").is_dir()

needs_mnist = pytest.mark.skipif(
    not HAS_MNIST, reason="real MNIST absent: set BEYONDADAM_DATA to a directory with mnist/"
)
needs_cifar = pytest.mark.skipif(
    not HAS_CIFAR,
    reason="real CIFAR-10 absent: set BEYONDADAM_DATA to a directory with cifar-10-batches-bin/",
)
