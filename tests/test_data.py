"""Loaders: real MNIST / CIFAR-10 files (via BEYONDADAM_DATA), generated archives, bad files."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from beyondadam.experiments import data as dm
from tests.datasets import DATA, needs_cifar, needs_mnist


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BEYONDADAM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(dm, "MNIST_MIRRORS", ["http://127.0.0.1:9/"])
    monkeypatch.setattr(dm, "CIFAR10_URLS", ["http://127.0.0.1:9/cifar-10-binary.tar.gz"])


# ----------------------------------------------------------------------------------- real MNIST


@needs_mnist
def test_real_mnist_through_env_var(monkeypatch):
    monkeypatch.setenv("BEYONDADAM_DATA", str(DATA))
    ds = dm.load_mnist()
    assert ds.x_train.shape == (60000, 784)
    assert ds.x_train.dtype == torch.uint8
    assert ds.x_test.shape == (10000, 784)
    assert ds.y_train.dtype == torch.int64
    assert ds.y_train.bincount().tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949
    ]  # fmt: skip
    assert ds.y_test.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert ds.test_complete
    assert "full official" in ds.test_note
    assert int(ds.x_train.max()) == 255
    assert int(ds.x_train.min()) == 0
    for name, md5 in dm.MNIST_FILES.items():
        assert hashlib.md5((DATA / "mnist" / name).read_bytes()).hexdigest() == md5


def _link_mnist(dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for name in dm.MNIST_FILES:
        (dst / name).symlink_to(DATA / "mnist" / name)


@needs_mnist
def test_mnist_flat_layout(tmp_path):
    _link_mnist(tmp_path / "flat")
    assert dm.load_mnist(tmp_path / "flat").y_test.shape == (10000,)


@needs_mnist
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_mnist_corrupt_file_is_a_clear_error(tmp_path, damage):
    d = tmp_path / "mnist"
    _link_mnist(d)
    victim = d / "train-labels-idx1-ubyte.gz"
    raw = bytearray(victim.read_bytes())
    victim.unlink()
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    else:
        raw[1000] ^= 0xFF
    victim.write_bytes(bytes(raw))
    with pytest.raises(dm.DataError, match=r"train-labels-idx1-ubyte\.gz: md5 .* official"):
        dm.load_mnist(tmp_path)


def test_mnist_missing_names_files_md5_and_where(tmp_path):
    with pytest.raises(dm.DataError) as e:
        dm.load_mnist(tmp_path)
    msg = str(e.value)
    for name, md5 in dm.MNIST_FILES.items():
        assert name in msg
        assert md5 in msg
    assert "BEYONDADAM_DATA" in msg
    assert "--data-dir" in msg


def test_mnist_offline_download_failure(monkeypatch):
    monkeypatch.delenv("BEYONDADAM_DATA", raising=False)
    with pytest.raises(dm.DataError, match=r"could not download train-images-idx3-ubyte\.gz"):
        dm.load_mnist()


def test_idx_parser_rejects_bad_payloads():
    good = (0x0801).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes([1, 2, 3])
    assert dm._parse_idx(gzip.compress(good), "x", 1).tolist() == [1, 2, 3]
    with pytest.raises(dm.DataError, match="expected"):
        dm._parse_idx(gzip.compress(good[:-1]), "x", 1)
    with pytest.raises(dm.DataError, match="magic"):
        dm._parse_idx(gzip.compress(b"\0\0\0\0" + good[4:]), "x", 1)
    with pytest.raises(dm.DataError, match="gzip"):
        dm._parse_idx(b"not gzip at all", "x", 1)


# ------------------------------------------------------------------------------------- CIFAR-10


@needs_cifar
def test_real_cifar_partial_test_set_is_labelled():
    ds = dm.load_cifar10(DATA)
    assert ds.x_train.shape == (50000, 3, 32, 32)
    assert ds.x_train.dtype == torch.uint8
    assert ds.y_train.bincount().tolist() == [5000] * 10
    assert ds.x_test.shape == (1000, 3, 32, 32)
    assert not ds.test_complete
    assert ds.test_note == "test: first 1,000 official test images (not the full official test set)"
    # the first official test image is a cat (label 3)
    assert int(ds.y_test[0]) == 3
    sums = dict(
        line.split()[::-1]
        for line in (DATA / dm.CIFAR10_DIR / "SHA256SUMS").read_text().splitlines()
    )
    for name in dm.CIFAR10_TRAIN:
        assert dm.CIFAR10_SHA256[name] == sums[name]


def _records(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    rec = rng.integers(0, 256, size=(n, 3073), dtype=np.uint8)
    rec[:, 0] = np.arange(n) % 10
    return rec.tobytes()


def _write_archive(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, blob in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


@pytest.fixture
def fake_cifar(tmp_path):
    files = {f"data_batch_{i}.bin": _records(20, i) for i in range(1, 6)}
    files["test_batch.bin"] = _records(7, 99)
    _write_archive(tmp_path / "cifar-10-binary.tar.gz", files)
    sums = {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    return tmp_path, files, sums


def test_generated_archive_parses_bytes_exactly(fake_cifar):
    root, files, sums = fake_cifar
    ds = dm.load_cifar10(root, checksums=sums)
    assert ds.x_train.shape == (100, 3, 32, 32)
    assert ds.x_test.shape == (7, 3, 32, 32)
    assert ds.test_complete
    assert "full official" in ds.test_note
    rec = np.frombuffer(files["data_batch_2.bin"], dtype=np.uint8).reshape(-1, 3073)
    assert np.array_equal(ds.x_train[20:40].numpy().reshape(20, -1), rec[:, 1:])
    assert ds.y_train[20:40].tolist() == rec[:, 0].tolist()
    # red plane first, row-major
    assert int(ds.x_train[20, 0, 0, 1]) == rec[0, 2]
    assert int(ds.x_train[20, 1, 0, 0]) == rec[0, 1025]


def test_generated_archive_is_not_the_official_release(fake_cifar):
    root, _, _ = fake_cifar
    with pytest.raises(dm.DataError, match=r"data_batch_1\.bin: sha256 .* does not match"):
        dm.load_cifar10(root)


def test_extracted_folder_and_truncated_batch(fake_cifar, tmp_path):
    _, files, sums = fake_cifar
    folder = tmp_path / "x" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for k, v in files.items():
        (folder / k).write_bytes(v)
    assert dm.load_cifar10(tmp_path / "x", checksums=sums).y_test.shape == (7,)
    (folder / "data_batch_3.bin").write_bytes(files["data_batch_3.bin"][:-100])
    with pytest.raises(dm.DataError, match=r"data_batch_3.bin: sha256"):
        dm.load_cifar10(tmp_path / "x", checksums=sums)
    # with a (wrongly) matching checksum the record structure still catches it
    sums3 = {
        **sums,
        "data_batch_3.bin": hashlib.sha256(files["data_batch_3.bin"][:-100]).hexdigest(),
    }
    with pytest.raises(dm.DataError, match="whole number"):
        dm.load_cifar10(tmp_path / "x", checksums=sums3)


def test_truncated_archive(fake_cifar):
    root, _, sums = fake_cifar
    arc = root / "cifar-10-binary.tar.gz"
    arc.write_bytes(arc.read_bytes()[:2000])
    with pytest.raises(dm.DataError, match="corrupt or truncated archive"):
        dm.load_cifar10(root, checksums=sums)


def test_cifar_missing(tmp_path, monkeypatch):
    with pytest.raises(dm.DataError, match=r"CIFAR-10 .* not found") as e:
        dm.load_cifar10(tmp_path)
    assert "data_batch_1.bin" in str(e.value)
    assert dm.CIFAR10_ARCHIVE_SHA256 in str(e.value)
    monkeypatch.delenv("BEYONDADAM_DATA", raising=False)
    with pytest.raises(dm.DataError, match="download failed"):
        dm.load_cifar10()


def test_epoch_batches_are_seeded_slices():
    b1 = dm.epoch_batches(1000, 128, torch.Generator().manual_seed(3))
    b2 = dm.epoch_batches(1000, 128, torch.Generator().manual_seed(3))
    assert b1.shape == (7, 128)
    assert torch.equal(b1, b2)
    assert len(set(b1.flatten().tolist())) == 7 * 128
