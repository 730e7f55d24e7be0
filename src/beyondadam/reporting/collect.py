"""The thin adapter between the report and :mod:`beyondadam.sim` / :mod:`beyondadam.experiments`.

Every call into those packages lives here. Each ``run_*`` function runs one stage through their
public API, writes the stage's figures into ``ctx.stage_dir`` and returns a
:class:`~beyondadam.reporting.results.StageRecord` whose ``numbers`` follow the layout documented
in :mod:`beyondadam.reporting.claims`.
"""

from __future__ import annotations

import os
from pathlib import Path

from beyondadam.reporting.results import StageRecord

__all__ = [
    "CIFAR_DIR",
    "CIFAR_TRAIN_FILES",
    "MNIST_FILES",
    "cifar_status",
    "mnist_dir",
    "mnist_help",
    "mnist_missing",
]

MNIST_FILES: tuple[str, ...] = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
CIFAR_DIR = "cifar-10-batches-bin"
CIFAR_TRAIN_FILES: tuple[str, ...] = tuple(f"data_batch_{i}.bin" for i in range(1, 6))


def mnist_dir(data_dir: str | os.PathLike[str]) -> Path:
    """Where MNIST is looked for: ``DIR/mnist`` (or ``DIR`` itself when the files are there)."""
    root = Path(data_dir)
    if all((root / f).is_file() for f in MNIST_FILES):
        return root
    return root / "mnist"


def mnist_missing(data_dir: str | os.PathLike[str]) -> list[str]:
    """Names of the official MNIST files missing from :func:`mnist_dir` (empty: all present)."""
    folder = mnist_dir(data_dir)
    return [f for f in MNIST_FILES if not (folder / f).is_file()]


def mnist_help(data_dir: str | os.PathLike[str] | None) -> str:
    """How to provide MNIST, for error messages."""
    where = f"{Path(data_dir) / 'mnist'}" if data_dir is not None else "DIR/mnist"
    return (
        f"Put the four official MNIST files ({', '.join(MNIST_FILES)}) in {where}/ and pass "
        "--data-dir DIR (or set BEYONDADAM_DATA=DIR)."
    )


def cifar_status(data_dir: str | os.PathLike[str] | None) -> tuple[bool, str]:
    """Whether CIFAR-10 (binary version) is usable under ``data_dir``, and a note.

    Returns:
        ``(True, test-set note)`` when the five training batches and a test file are present,
        else ``(False, reason)``.

    """
    if data_dir is None:
        return False, "no data directory given (--data-dir or BEYONDADAM_DATA)"
    root = Path(data_dir)
    folder = root / CIFAR_DIR
    if not folder.is_dir():
        if (root / "cifar-10-binary.tar.gz").is_file():
            return True, "from the official archive cifar-10-binary.tar.gz"
        return False, f"CIFAR-10 not found: no {folder}/"
    missing = [f for f in CIFAR_TRAIN_FILES if not (folder / f).is_file()]
    if missing:
        return False, f"CIFAR-10 incomplete in {folder}: missing {', '.join(missing)}"
    if (folder / "test_batch.bin").is_file():
        return True, "test set: the full official test set (10,000 images)"
    if (folder / "test_batch_first1000.bin").is_file():
        return (
            True,
            "test set: only the first 1,000 official test images (test_batch_first1000.bin)",
        )
    return False, f"CIFAR-10 test file missing in {folder}: test_batch.bin"


def _not_wired(what: str) -> StageRecord:
    return StageRecord(status="not run", reason=f"{what} is not available in this build")
