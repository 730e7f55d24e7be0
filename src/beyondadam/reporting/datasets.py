"""Whether the data a stage needs is there, as :mod:`beyondadam.experiments.data` reports it.

MNIST is required by the MNIST stages and checked before any work (:func:`mnist_missing`, by
file names, so the message can list what is missing, then :func:`dataset_status`, which asks the
loader to verify the checksums); CIFAR-10 may be absent (:func:`cifar_present`) but is verified
before work when it is there. A training stage asks the loader again (:func:`dataset_status`) for
how many test images it holds. The
experiments package is imported inside the functions only so that importing the report (e.g. for
``beyondadam --help``) does not load torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DatasetStatus",
    "cifar_present",
    "dataset_status",
    "mnist_cached",
    "mnist_dir",
    "mnist_help",
    "mnist_missing",
]


def _mnist_files() -> tuple[str, ...]:
    from beyondadam.experiments.data import MNIST_FILES

    return tuple(MNIST_FILES)


def mnist_dir(data_dir: str | os.PathLike[str]) -> Path:
    """Where MNIST is looked for: ``DIR/mnist`` (or ``DIR`` itself when the files are there)."""
    root = Path(data_dir)
    if all((root / f).is_file() for f in _mnist_files()):
        return root
    return root / "mnist"


def mnist_missing(data_dir: str | os.PathLike[str]) -> list[str]:
    """Names of the official MNIST files missing from :func:`mnist_dir` (empty: all present)."""
    folder = mnist_dir(data_dir)
    return [f for f in _mnist_files() if not (folder / f).is_file()]


def mnist_cached() -> Path | None:
    """The experiments' cache folder when it holds MNIST (used when no data directory is given)."""
    from beyondadam.experiments.data import cache_dir

    root = cache_dir()
    for folder in (root / "mnist", root):
        if all((folder / f).is_file() for f in _mnist_files()):
            return folder
    return None


def cifar_present(data_dir: str | os.PathLike[str] | None) -> bool:
    """Whether any CIFAR-10 file is where the loader looks (``data_dir``, else its cache).

    Absent CIFAR-10 is allowed (the ``cifarnet`` stage is then "not run"); a copy that is there
    is verified before work, so a corrupt one fails early instead of becoming "not run".
    """
    from beyondadam.experiments.data import CIFAR10_ARCHIVE, CIFAR10_DIR, CIFAR10_TRAIN, cache_dir

    root = Path(data_dir) if data_dir is not None else cache_dir()
    return (
        (root / CIFAR10_DIR).is_dir()
        or (root / CIFAR10_ARCHIVE).is_file()
        or any((root / f).is_file() for f in CIFAR10_TRAIN)
    )


def mnist_help(data_dir: str | os.PathLike[str] | None) -> str:
    """How to provide MNIST, for error messages."""
    where = f"{Path(data_dir) / 'mnist'}" if data_dir is not None else "DIR/mnist"
    return (
        f"Put the four official MNIST files ({', '.join(_mnist_files())}) in {where}/ and pass "
        "--data-dir DIR (or set BEYONDADAM_DATA=DIR)."
    )


@dataclass(frozen=True)
class DatasetStatus:
    """What the loader found for one dataset."""

    ready: bool
    reason: str = ""
    """Why it is not ready (the loader's own message, first line)."""
    n_test: int = 0
    """Test images the loader returns."""
    test_complete: bool = False
    """Whether they are the whole official test set."""
    test_note: str = ""


def dataset_status(name: str, data_dir: str | os.PathLike[str] | None) -> DatasetStatus:
    """Load dataset ``name`` (``"mnist"`` or ``"cifar10"``) from ``data_dir`` or the cache.

    Nothing is downloaded: a dataset that is absent, incomplete or fails its checksums gives
    ``ready=False`` with the loader's reason. ``data_dir=None`` means the loader's own lookup
    (``BEYONDADAM_DATA``, then the experiments' cache).
    """
    from beyondadam.experiments.data import DataError, load_cifar10, load_mnist

    loaders = {"mnist": load_mnist, "cifar10": load_cifar10}
    if name not in loaders:
        raise ValueError(f"dataset must be one of {sorted(loaders)}, got {name!r}")
    try:
        data = loaders[name](data_dir, download=False)
    except DataError as exc:
        # the loader's first line says what is missing or wrong; the rest lists checksums
        return DatasetStatus(ready=False, reason=str(exc).strip().splitlines()[0])
    return DatasetStatus(
        ready=True,
        n_test=len(data.y_test),
        test_complete=bool(data.test_complete),
        test_note=data.test_note,
    )
