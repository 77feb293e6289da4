"""KMNIST and Fashion-MNIST: specs, verified loading from a folder, and the file:// downloader."""

import dataclasses
import gzip
import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pytest

from phasor import data
from phasor.data import datasets
from phasor.data.idx import DataError, write_idx

NAMES = ("kmnist", "fashion-mnist")
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _write_gz_set(directory, seed=0, n_train=7, n_test=3):
    """Write four gzipped IDX files; return ({name: sha256 of the .gz}, {name: array})."""
    rng = np.random.default_rng(seed)
    arrays = {
        FILES[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        FILES[1]: rng.integers(0, 10, n_train, dtype=np.uint8),
        FILES[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        FILES[3]: rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    directory.mkdir(parents=True, exist_ok=True)
    sums = {}
    for name, array in arrays.items():
        path = directory / f"{name}.gz"
        write_idx(path, array)
        sums[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums, arrays


def _patch(monkeypatch, name, sums, mirrors=None):
    spec = dataclasses.replace(
        datasets.DATASETS[name],
        archive_sha256=sums,
        mirrors=mirrors if mirrors is not None else datasets.DATASETS[name].mirrors,
    )
    monkeypatch.setitem(datasets.DATASETS, name, spec)
    return spec


@pytest.mark.parametrize("name", NAMES)
def test_specs_have_official_layout_and_checksums(name):
    spec = datasets.DATASETS[name]
    assert set(spec.files) == set(FILES)
    assert spec.splits["train"] == (FILES[0], FILES[1])
    assert spec.splits["test"] == (FILES[2], FILES[3])
    assert set(spec.archive_sha256) == set(FILES)
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in spec.archive_sha256.values())
    assert len(set(spec.archive_sha256.values())) == 4
    assert all(m.endswith("/") for m in spec.mirrors) and spec.mirrors
    assert len(spec.classes) == 10
    assert name in data.image_dataset_names()


def test_spec_without_any_checksum_is_rejected():
    with pytest.raises(ValueError, match="no checksum"):
        dataclasses.replace(datasets.DATASETS["kmnist"], archive_sha256={})


@pytest.mark.parametrize("name", NAMES)
def test_load_from_directory_verifies_and_matches(monkeypatch, tmp_path, name):
    sums, arrays = _write_gz_set(tmp_path / name, seed=len(name))
    _patch(monkeypatch, name, sums)
    splits = data.load_images(name, data_dir=tmp_path / name)
    np.testing.assert_allclose(splits.train_images.numpy(), arrays[FILES[0]] / 255.0, atol=1e-7)
    np.testing.assert_array_equal(splits.train_labels.numpy(), arrays[FILES[1]])
    np.testing.assert_array_equal(splits.test_labels.numpy(), arrays[FILES[3]])
    assert splits.test_images.shape == (3, 28, 28)


def test_env_var_root_finds_the_data_set(monkeypatch, tmp_path):
    sums, _ = _write_gz_set(tmp_path / "root" / "kmnist")
    _patch(monkeypatch, "kmnist", sums)
    monkeypatch.setenv("PHASOR_DATA", str(tmp_path / "root"))
    images, labels = datasets.load_idx_dataset("kmnist", "test")
    assert images.shape == (3, 28, 28) and labels.dtype == np.int64


@pytest.mark.parametrize("name", NAMES)
def test_checksum_mismatch_is_an_error_naming_the_file(monkeypatch, tmp_path, name):
    sums, arrays = _write_gz_set(tmp_path / name)
    _patch(monkeypatch, name, sums)
    # same images, one pixel changed: a valid IDX file that is not the official one
    changed = arrays[FILES[0]].copy()
    changed[0, 0, 0] ^= 1
    write_idx(tmp_path / name / f"{FILES[0]}.gz", changed)
    with pytest.raises(DataError, match=FILES[0]):
        datasets.load_idx_dataset(name, "train", tmp_path / name)
    # the test split is untouched and still loads
    datasets.load_idx_dataset(name, "test", tmp_path / name)


def test_uncompressed_copy_cannot_be_verified_by_archive_checksums(monkeypatch, tmp_path):
    sums, _ = _write_gz_set(tmp_path / "kmnist")
    _patch(monkeypatch, "kmnist", sums)
    gz = tmp_path / "kmnist" / f"{FILES[2]}.gz"
    (tmp_path / "kmnist" / FILES[2]).write_bytes(gzip.decompress(gz.read_bytes()))
    gz.unlink()
    with pytest.raises(DataError, match="cannot be verified"):
        datasets.load_idx_dataset("kmnist", "test", tmp_path / "kmnist")


def test_fashion_mnist_pins_the_decompressed_content():
    spec = datasets.DATASETS["fashion-mnist"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", spec.files[f]) for f in FILES)
    assert not set(spec.files.values()) & set(spec.archive_sha256.values())


def _content_sums(arrays):
    """SHA-256 of each array's IDX bytes, computed here from the IDX layout itself."""
    sums = {}
    for name, a in arrays.items():
        header = bytes([0, 0, 0x08, a.ndim]) + b"".join(d.to_bytes(4, "big") for d in a.shape)
        sums[name] = hashlib.sha256(header + a.tobytes()).hexdigest()
    return sums


def test_fashion_mnist_accepts_recompressed_or_uncompressed_content(monkeypatch, tmp_path):
    folder = tmp_path / "fashion-mnist"
    _, arrays = _write_gz_set(folder, seed=4)
    spec = dataclasses.replace(
        datasets.DATASETS["fashion-mnist"],
        files=_content_sums(arrays),
        archive_sha256=dict.fromkeys(FILES, "0" * 64),  # not these archives
    )
    monkeypatch.setitem(datasets.DATASETS, "fashion-mnist", spec)
    # compressed again at another level (other .gz bytes, same content), and one uncompressed
    for name in FILES[:2]:
        gz = folder / f"{name}.gz"
        gz.write_bytes(gzip.compress(gzip.decompress(gz.read_bytes()), compresslevel=1, mtime=7))
    (folder / FILES[3]).write_bytes(gzip.decompress((folder / f"{FILES[3]}.gz").read_bytes()))
    (folder / f"{FILES[3]}.gz").unlink()
    splits = data.load_images("fashion-mnist", data_dir=folder)
    np.testing.assert_array_equal(splits.train_labels.numpy(), arrays[FILES[1]])
    np.testing.assert_array_equal(splits.test_labels.numpy(), arrays[FILES[3]])
    # a corrupted file is refused, naming it: one changed byte, and a truncated archive
    raw = bytearray(gzip.decompress((folder / f"{FILES[0]}.gz").read_bytes()))
    raw[100] ^= 0xFF
    (folder / f"{FILES[0]}.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match=rf"{FILES[0]}.*decompressed content.*published archive"):
        datasets.load_idx_dataset("fashion-mnist", "train", folder)
    gz = (folder / f"{FILES[2]}.gz").read_bytes()
    (folder / f"{FILES[2]}.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(DataError, match=FILES[2]):
        datasets.load_idx_dataset("fashion-mnist", "test", folder)


FASHION = Path(os.environ.get("PHASOR_DATA", "/work/shared/data")) / "fashion-mnist"


@pytest.mark.skipif(
    not (FASHION / f"{FILES[0]}.gz").is_file(),
    reason=f"no Fashion-MNIST copy in {FASHION} ($PHASOR_DATA/fashion-mnist)",
)
def test_the_real_fashion_mnist_folder_loads():
    splits = data.load_images("fashion-mnist", data_dir=FASHION)
    assert splits.train_images.shape == (60000, 28, 28)
    assert splits.test_images.shape == (10000, 28, 28)
    assert np.bincount(splits.train_labels.numpy()).tolist() == [6000] * 10
    assert np.bincount(splits.test_labels.numpy()).tolist() == [1000] * 10
    assert abs(float(splits.train_images.mean()) * 255 - 72.94) < 0.05  # the README's 0.2860


@pytest.mark.parametrize("name", NAMES)
def test_download_through_file_mirror(monkeypatch, tmp_path, name):
    sums, arrays = _write_gz_set(tmp_path / "mirror")
    broken = (tmp_path / "nowhere").as_uri() + "/"  # first mirror fails, second serves
    _patch(monkeypatch, name, sums, mirrors=(broken, (tmp_path / "mirror").as_uri() + "/"))
    target = tmp_path / "cache"
    assert datasets.download(name, target) == target
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{f}.gz" for f in FILES)
    splits = data.load_images(name, data_dir=target)
    np.testing.assert_array_equal(splits.test_labels.numpy(), arrays[FILES[3]])


def test_download_rejects_wrong_archive_and_leaves_nothing(monkeypatch, tmp_path):
    sums, _ = _write_gz_set(tmp_path / "mirror")
    sums[FILES[1]] = "0" * 64
    _patch(monkeypatch, "kmnist", sums, mirrors=((tmp_path / "mirror").as_uri() + "/",))
    target = tmp_path / "cache"
    with pytest.raises(DataError, match=FILES[1]):
        datasets.download("kmnist", target)
    assert not (target / f"{FILES[1]}.gz").exists()
    assert not list(target.glob("*.part"))
