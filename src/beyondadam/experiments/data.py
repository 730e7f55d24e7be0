"""MNIST and CIFAR-10 from their official files, verified, held in memory as tensors.

Also the deep quadratic's synthetic noise samples (:func:`load_quadratic`: generated from a fixed
seed, no files). The validation split every task carves from its training set is
:func:`beyondadam.experiments.splits.with_validation`.

Lookup order for both datasets: an explicit data directory (``data_dir`` argument, the CLI's
``--data-dir`` or the ``BEYONDADAM_DATA`` environment variable), then the user cache directory
(``BEYONDADAM_CACHE`` or the platform cache, e.g. ``~/.cache/beyondadam``), then a download from
public mirrors (pooch: checksum-verified, atomic writes). An explicit directory that lacks the files
is an error: it never falls through to a download.

Every file is checked against the checksum of the official release (md5 for MNIST, per-file SHA256
for CIFAR-10) *before* it is parsed; a corrupt or truncated file raises :class:`DataError`.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from beyondadam.experiments.dataset import DataError, Dataset
from beyondadam.experiments.quadratic import load_quadratic

__all__ = [
    "CIFAR10_SHA256",
    "MNIST_FILES",
    "DataError",
    "Dataset",
    "cache_dir",
    "epoch_batches",
    "load_cifar10",
    "load_dataset",
    "load_mnist",
    "load_quadratic",
    "resolve_data_dir",
]

ENV_DATA = "BEYONDADAM_DATA"
ENV_CACHE = "BEYONDADAM_CACHE"

#: The four official MNIST files and their md5.
MNIST_FILES: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MNIST_MIRRORS: list[str] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]

CIFAR10_ARCHIVE = "cifar-10-binary.tar.gz"
CIFAR10_ARCHIVE_SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
CIFAR10_URLS: list[str] = ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"]
CIFAR10_DIR = "cifar-10-batches-bin"
#: SHA256 of the files of the official binary release, plus the documented partial test file.
CIFAR10_SHA256: dict[str, str] = {
    "data_batch_1.bin": "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
    "data_batch_2.bin": "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
    "data_batch_3.bin": "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
    "data_batch_4.bin": "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
    "data_batch_5.bin": "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
    "test_batch.bin": "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
    # The first 1,000 records of test_batch.bin, byte-identical (see the dataset's PROVENANCE.md).
    "test_batch_first1000.bin": "8314c96d7cd65618193bab23acdd5d4c4af15bf6dd00a1781d55beedf3be1ef5",
}
CIFAR10_TRAIN = [f"data_batch_{i}.bin" for i in range(1, 6)]
_RECORD = 1 + 3 * 32 * 32

FULL_TEST = "test: full official test set"


def cache_dir() -> Path:
    """The user cache directory for downloads (``BEYONDADAM_CACHE`` overrides the default)."""
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("beyondadam"))


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path | None:
    """The explicit data directory: ``data_dir`` if given, else ``$BEYONDADAM_DATA``, else None."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    env = os.environ.get(ENV_DATA)
    return Path(env).expanduser() if env else None


def _digest(data: bytes, algo: str) -> str:
    return hashlib.new(algo, data).hexdigest()


# ----------------------------------------------------------------------------------------- MNIST


def _mnist_dir_candidates(root: Path) -> list[Path]:
    return [root / "mnist", root]


def _find_mnist(root: Path) -> Path | None:
    for cand in _mnist_dir_candidates(root):
        if all((cand / f).is_file() for f in MNIST_FILES):
            return cand
    return None


def _mnist_missing_message(where: str) -> str:
    rows = "\n".join(f"  {name}  md5 {md5}" for name, md5 in MNIST_FILES.items())
    return (
        f"MNIST files not found {where}.\nNeeded (the four official files):\n{rows}\n"
        f"Put them in <DIR>/mnist/ (or directly in <DIR>) and pass --data-dir DIR or set "
        f"{ENV_DATA}=DIR; or put them in the cache directory {cache_dir() / 'mnist'}."
    )


def _download_mnist(target: Path) -> None:
    import pooch

    target.mkdir(parents=True, exist_ok=True)
    for name, md5 in MNIST_FILES.items():
        if (target / name).is_file():
            continue
        errors = []
        for mirror in MNIST_MIRRORS:
            try:
                pooch.retrieve(
                    mirror + name,
                    known_hash=f"md5:{md5}",
                    fname=name,
                    path=target,
                    progressbar=False,
                )
                break
            except Exception as exc:
                errors.append(f"{mirror}: {exc}")
        else:
            raise DataError(
                f"could not download {name} from any mirror ({'; '.join(errors)}).\n"
                + _mnist_missing_message("locally")
            )


def _parse_idx(raw: bytes, name: str, ndim: int) -> np.ndarray:
    try:
        data = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{name}: not a valid gzip file ({exc})") from exc
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{name}: truncated IDX header ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic != 0x0800 + ndim:
        raise DataError(f"{name}: bad IDX magic number {magic:#x}, expected {0x0800 + ndim:#x}")
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = header + int(np.prod(dims))
    if len(data) != expected:
        raise DataError(f"{name}: {len(data)} bytes, expected {expected} for shape {dims}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def load_mnist(data_dir: str | os.PathLike[str] | None = None, *, download: bool = True) -> Dataset:
    """Load MNIST (60,000 train, 10,000 test) as ``uint8`` ``(N, 784)`` images and int64 labels."""
    explicit = resolve_data_dir(data_dir)
    if explicit is not None:
        folder = _find_mnist(explicit)
        if folder is None:
            raise DataError(_mnist_missing_message(f"in {explicit} (nor in {explicit / 'mnist'})"))
    else:
        folder = _find_mnist(cache_dir())
        if folder is None:
            if not download:
                raise DataError(_mnist_missing_message("(no data directory given, cache empty)"))
            _download_mnist(cache_dir() / "mnist")
            folder = cache_dir() / "mnist"
    arrays = {}
    for name, md5 in MNIST_FILES.items():
        raw = (folder / name).read_bytes()
        got = _digest(raw, "md5")
        if got != md5:
            raise DataError(
                f"{folder / name}: md5 {got} does not match the official {md5} "
                f"(corrupt, truncated or not the official file; {len(raw)} bytes). Replace it."
            )
        arrays[name] = _parse_idx(raw, name, 3 if "images" in name else 1)
    x_tr = arrays["train-images-idx3-ubyte.gz"].reshape(-1, 784)
    x_te = arrays["t10k-images-idx3-ubyte.gz"].reshape(-1, 784)
    y_tr = arrays["train-labels-idx1-ubyte.gz"]
    y_te = arrays["t10k-labels-idx1-ubyte.gz"]
    if len(x_tr) != len(y_tr) or len(x_te) != len(y_te):
        raise DataError("MNIST: image and label counts differ")
    return Dataset(
        name="mnist",
        x_train=torch.from_numpy(x_tr.copy()),
        y_train=torch.from_numpy(y_tr.astype(np.int64)),
        x_test=torch.from_numpy(x_te.copy()),
        y_test=torch.from_numpy(y_te.astype(np.int64)),
        test_note=FULL_TEST + f" ({len(y_te):,} images)",
        test_complete=True,
        source=str(folder),
    )


# -------------------------------------------------------------------------------------- CIFAR-10


def _cifar_missing_message(where: str) -> str:
    rows = "\n".join(f"  {name}  sha256 {sha}" for name, sha in CIFAR10_SHA256.items())
    return (
        f"CIFAR-10 (binary version) not found {where}.\nNeeded: {CIFAR10_ARCHIVE} (sha256 "
        f"{CIFAR10_ARCHIVE_SHA256}) or its extracted folder {CIFAR10_DIR}/ with\n{rows}\n"
        f"(test_batch.bin, or at least test_batch_first1000.bin). Put them in <DIR> and pass "
        f"--data-dir DIR or set {ENV_DATA}=DIR; or in the cache directory {cache_dir()}."
    )


def _cifar_sources(root: Path) -> dict[str, bytes] | None:
    """Raw bytes of the CIFAR files under ``root`` (extracted folder first, then the archive)."""
    for folder in (root / CIFAR10_DIR, root):
        if all((folder / f).is_file() for f in CIFAR10_TRAIN):
            files = {}
            for name in [*CIFAR10_TRAIN, "test_batch.bin", "test_batch_first1000.bin"]:
                if (folder / name).is_file():
                    files[name] = (folder / name).read_bytes()
            return files
    archive = root / CIFAR10_ARCHIVE
    if archive.is_file():
        return _read_archive(archive)
    return None


def _read_archive(archive: Path) -> dict[str, bytes]:
    wanted = {*CIFAR10_TRAIN, "test_batch.bin", "test_batch_first1000.bin"}
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                base = member.name.rsplit("/", 1)[-1]
                if member.isfile() and base in wanted:
                    fh = tar.extractfile(member)
                    if fh is not None:
                        files[base] = fh.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{archive}: corrupt or truncated archive ({exc})") from exc
    missing = [f for f in CIFAR10_TRAIN if f not in files]
    if missing:
        raise DataError(f"{archive}: archive lacks {', '.join(missing)}")
    return files


def _parse_cifar(raw: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    if len(raw) == 0 or len(raw) % _RECORD:
        raise DataError(f"{name}: {len(raw)} bytes is not a whole number of {_RECORD}-byte records")
    rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _RECORD)
    labels = rec[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise DataError(f"{name}: label {labels.max()} out of range [0, 9]")
    return rec[:, 1:].reshape(-1, 3, 32, 32), labels


def load_cifar10(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    checksums: Mapping[str, str] | None = None,
) -> Dataset:
    """Load CIFAR-10 (binary version) as ``uint8`` ``(N, 3, 32, 32)`` images and int64 labels.

    Each file is verified against ``checksums`` (default: the official per-file SHA256,
    :data:`CIFAR10_SHA256`) before parsing. If ``test_batch.bin`` is absent but
    ``test_batch_first1000.bin`` is present, the test set is those 1,000 images and
    ``test_note``/``test_complete`` say so.
    """
    sums = dict(CIFAR10_SHA256 if checksums is None else checksums)
    explicit = resolve_data_dir(data_dir)
    if explicit is not None:
        files = _cifar_sources(explicit)
        if files is None:
            raise DataError(_cifar_missing_message(f"in {explicit}"))
        source = str(explicit)
    else:
        files = _cifar_sources(cache_dir())
        if files is None:
            if not download:
                raise DataError(_cifar_missing_message("(no data directory given, cache empty)"))
            import pooch

            try:
                pooch.retrieve(
                    CIFAR10_URLS[0],
                    known_hash=f"sha256:{CIFAR10_ARCHIVE_SHA256}",
                    fname=CIFAR10_ARCHIVE,
                    path=cache_dir(),
                    progressbar=False,
                )
            except Exception as exc:
                raise DataError(
                    f"download failed ({exc}).\n" + _cifar_missing_message("locally")
                ) from exc
            files = _read_archive(cache_dir() / CIFAR10_ARCHIVE)
        source = str(cache_dir())
    if "test_batch.bin" in files:
        test_name, note, complete = "test_batch.bin", FULL_TEST + " (10,000 images)", True
    elif "test_batch_first1000.bin" in files:
        test_name, note, complete = (
            "test_batch_first1000.bin",
            "test: first 1,000 official test images (not the full official test set)",
            False,
        )
    else:
        raise DataError(_cifar_missing_message(f"complete in {source} (no test batch)"))
    xs, ys = [], []
    for name in [*CIFAR10_TRAIN, test_name]:
        raw = files[name]
        got = _digest(raw, "sha256")
        if name not in sums or got != sums[name]:
            raise DataError(
                f"{name}: sha256 {got} does not match the expected {sums.get(name, '(none)')} "
                f"(corrupt, truncated or not the official file; {len(raw)} bytes)"
            )
        x, y = _parse_cifar(raw, name)
        xs.append(x)
        ys.append(y)
    return Dataset(
        name="cifar10",
        x_train=torch.from_numpy(np.concatenate(xs[:-1])),
        y_train=torch.from_numpy(np.concatenate(ys[:-1])),
        x_test=torch.from_numpy(xs[-1].copy()),
        y_test=torch.from_numpy(ys[-1]),
        test_note=note,
        test_complete=complete,
        source=source,
    )


_LOADERS = {"mnist": load_mnist, "cifar10": load_cifar10, "quadratic": load_quadratic}
_CACHE: dict[tuple[str, str], Dataset] = {}


def load_dataset(name: str, data_dir: str | os.PathLike[str] | None = None) -> Dataset:
    """Load ``"mnist"``, ``"cifar10"`` or ``"quadratic"``, memoised per process."""
    if name not in _LOADERS:
        raise ValueError(f"dataset must be one of {sorted(_LOADERS)}, got {name!r}")
    key = (name, str(resolve_data_dir(data_dir)))
    if key not in _CACHE:
        _CACHE[key] = _LOADERS[name](data_dir)
    return _CACHE[key]


def epoch_batches(n: int, batch_size: int, generator: torch.Generator) -> torch.Tensor:
    """One epoch of minibatch indices ``(n // batch_size, batch_size)`` (last partial dropped).

    A fresh permutation from ``generator``; minibatches are rows (slices), never per-sample work.
    """
    perm = torch.randperm(n, generator=generator)
    nb = n // batch_size
    return perm[: nb * batch_size].view(nb, batch_size)
