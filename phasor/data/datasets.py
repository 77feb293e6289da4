"""MNIST-like image data sets: where their files live, their checksums, and their downloaders.

A data set's files are looked up in this order:

1. the directory given explicitly (``data_dir=``, the ``--data-dir`` flag of every study);
2. ``$PHASOR_DATA/<name>/`` where the environment variable ``PHASOR_DATA`` names a data root
   with one folder per data set;
3. ``~/.cache/phasor/<name>/`` (where `download` puts files by default).

Checksums are SHA-256 of the *decompressed* IDX bytes, so a file passes whether it is stored
gzipped or not, and whoever compressed it. Where only the checksums of the published ``.gz``
archives are known (KMNIST), a spec gives those in ``archive_sha256`` instead and the files must
be kept as the downloaded ``.gz``. A spec may give both (Fashion-MNIST): a ``.gz`` then passes if
it is the published archive or if its decompressed content is the pinned one (a copy compressed
again, as Debian's, or kept uncompressed).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from phasor.data.idx import DataError, gunzip, parse_idx, read_idx_bytes

__all__ = [
    "DATASETS",
    "IDXDatasetSpec",
    "download",
    "find_file",
    "load_idx_dataset",
    "resolve_data_dir",
]

ENV_VAR = "PHASOR_DATA"
SPLITS = ("train", "test")


@dataclass(frozen=True)
class IDXDatasetSpec:
    """An image data set stored as four IDX files.

    ``files`` maps each file name (without ``.gz``) to the SHA-256 of its decompressed bytes,
    or to ``None`` where only the checksum of the published archive is known: then
    ``archive_sha256`` maps the file name to the SHA-256 of ``<name>.gz`` as published, and the
    file is verified (and must be kept) in that ``.gz`` form. ``splits`` maps
    ``"train"``/``"test"`` to ``(images file, labels file)``; ``mirrors`` are base URLs tried in
    order, each serving ``<name>.gz``. With both checksums of a file, either one suffices.
    """

    name: str
    files: dict[str, str | None]
    splits: dict[str, tuple[str, str]]
    mirrors: tuple[str, ...]
    classes: tuple[str, ...] = field(default_factory=lambda: tuple(str(i) for i in range(10)))
    archive_sha256: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unverifiable = [
            f for f, h in self.files.items() if h is None and f not in self.archive_sha256
        ]
        if unverifiable:
            raise ValueError(f"{self.name}: no checksum for {', '.join(unverifiable)}")


_MNIST_LIKE_SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_MNIST_LIKE_FILES = [name for pair in _MNIST_LIKE_SPLITS.values() for name in pair]

DATASETS: dict[str, IDXDatasetSpec] = {
    "mnist": IDXDatasetSpec(
        name="mnist",
        files={
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
        splits=_MNIST_LIKE_SPLITS,
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
    ),
    # Zalando publishes MD5s of the .gz files; the SHA-256s of the same archives are those
    # pinned by torchvision's dataset prototypes and TensorFlow Datasets. The decompressed
    # content's SHA-256s are those of Debian's dataset-fashion-mnist (0.0~git20200523.55506a9-1,
    # the upstream files compressed again), so that copy, or an uncompressed one, passes too.
    "fashion-mnist": IDXDatasetSpec(
        name="fashion-mnist",
        files={
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        archive_sha256={
            "train-images-idx3-ubyte": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
        splits=_MNIST_LIKE_SPLITS,
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        classes=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    ),
    # ROIS-CODH publishes MD5s of the .gz files; SHA-256s of the same archives as pinned by
    # torchvision's dataset prototypes.
    "kmnist": IDXDatasetSpec(
        name="kmnist",
        files=dict.fromkeys(_MNIST_LIKE_FILES),
        archive_sha256={
            "train-images-idx3-ubyte": "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
            "train-labels-idx1-ubyte": "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
            "t10k-images-idx3-ubyte": "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
            "t10k-labels-idx1-ubyte": "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
        },
        splits=_MNIST_LIKE_SPLITS,
        mirrors=(
            "https://codh.rois.ac.jp/kmnist/dataset/kmnist/",
            "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
        ),
        classes=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
    ),
}
"""Every IDX data set phasor knows, by name: file names, SHA-256 checksums and mirrors."""


def _spec(name: str) -> IDXDatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(
            f"unknown data set {name!r}; known: {', '.join(sorted(DATASETS))}"
        ) from None


def resolve_data_dir(name: str, data_dir: str | Path | None = None) -> Path:
    """Return the directory that holds (or will hold) data set ``name``'s files."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    root = os.environ.get(ENV_VAR)
    if root:
        return Path(root).expanduser() / name
    return Path.home() / ".cache" / "phasor" / name


def _where_to_put(name: str, directory: Path, data_dir: str | Path | None) -> str:
    """What to do when data set ``name`` is missing from ``directory``, which was chosen
    by ``data_dir`` (``--data-dir``), else by ``$PHASOR_DATA``, else by default."""
    fetch = f"`phasor download {name}`"
    if data_dir is not None:
        return (
            f"--data-dir must name the folder that holds the {name} files (not a data root); "
            f"fetch them into it with `phasor download {name} --data-dir {directory}`"
        )
    if os.environ.get(ENV_VAR):
        return (
            f"${ENV_VAR} is a data root with one folder per data set, and {directory} is its "
            f"{name}/ folder; put the files there, fetch them with {fetch}, or pass "
            "--data-dir FOLDER"
        )
    return (
        f"pass --data-dir FOLDER holding the {name} files, set ${ENV_VAR} to a data root "
        f"holding a {name}/ folder, or fetch them with {fetch}"
    )


def find_file(directory: Path, filename: str, hint: str = "") -> Path:
    """Return ``directory/filename`` or ``directory/filename.gz``, whichever exists.

    Raises `DataError` naming the file, the folder and ``hint`` (what to do).
    """
    for candidate in (directory / filename, directory / f"{filename}.gz"):
        if candidate.is_file():
            return candidate
    where = "it does not exist" if not directory.is_dir() else "it is a folder without it"
    raise DataError(f"{filename}(.gz) not found in {directory} ({where}); {hint}".rstrip("; "))


def _check_archive(path: Path, spec: IDXDatasetSpec, filename: str) -> None:
    if path.suffix != ".gz":
        raise DataError(
            f"{path}: {spec.name} publishes checksums of its .gz archives only, so an "
            f"uncompressed copy cannot be verified; keep {filename}.gz as downloaded"
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    expected = spec.archive_sha256[filename]
    if digest != expected:
        raise DataError(
            f"{path}: SHA-256 of the archive is {digest}, expected {expected}; the file is "
            "corrupted or not the official one: delete it and fetch it again"
        )


def _is_published_archive(path: Path, spec: IDXDatasetSpec, filename: str) -> bool:
    expected = spec.archive_sha256.get(filename)
    return (
        expected is not None
        and path.suffix == ".gz"
        and hashlib.sha256(path.read_bytes()).hexdigest() == expected
    )


def _verified_array(path: Path, spec: IDXDatasetSpec, filename: str) -> np.ndarray:
    sha256 = spec.files[filename]
    if sha256 is None:
        _check_archive(path, spec, filename)
        return parse_idx(read_idx_bytes(path), source=str(path))
    if _is_published_archive(path, spec, filename):
        return parse_idx(read_idx_bytes(path), source=str(path))
    raw = read_idx_bytes(path)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sha256:
        archive = " (nor is it the published archive)" if filename in spec.archive_sha256 else ""
        raise DataError(
            f"{path}: SHA-256 of the decompressed content is {digest}, expected {sha256}"
            f"{archive}; the file is corrupted or not the official one: delete it and fetch "
            "it again"
        )
    return parse_idx(raw, source=str(path))


def load_idx_dataset(
    name: str, split: str, data_dir: str | Path | None = None, download_missing: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Load ``(images, labels)`` of one split, verifying checksums.

    Returns ``images`` as uint8 of shape ``(N, 28, 28)`` and ``labels`` as int64 of shape ``(N,)``.
    """
    spec = _spec(name)
    if split not in spec.splits:
        raise ValueError(f"split must be one of {', '.join(spec.splits)}, got {split!r}")
    directory = resolve_data_dir(name, data_dir)
    if download_missing:
        download(name, directory)
    image_file, label_file = spec.splits[split]
    hint = _where_to_put(name, directory, data_dir)
    images = _verified_array(find_file(directory, image_file, hint), spec, image_file)
    labels = _verified_array(find_file(directory, label_file, hint), spec, label_file)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"{directory}: {split} images {images.shape} and labels {labels.shape} do not match"
        )
    return images, labels.astype(np.int64)


def download(name: str, data_dir: str | Path | None = None, timeout: float = 60.0) -> Path:
    """Fetch the missing files of data set ``name`` into its directory, verifying each.

    A file is written under a temporary name and renamed only once its checksum matches, so an
    interrupted download never leaves a file that looks complete. Returns the directory.
    """
    spec = _spec(name)
    directory = resolve_data_dir(name, data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for filename in spec.files:
        try:
            find_file(directory, filename)
            continue
        except DataError:
            pass
        errors = []
        for mirror in spec.mirrors:
            url = f"{mirror}{filename}.gz"
            try:
                _fetch_verified(url, directory / f"{filename}.gz", spec, filename, timeout)
                break
            except (OSError, DataError) as err:
                errors.append(f"{url}: {err}")
        else:
            raise DataError(f"could not download {filename} for {name}:\n  " + "\n  ".join(errors))
    return directory


def _fetch_verified(
    url: str, target: Path, spec: IDXDatasetSpec, filename: str, timeout: float
) -> None:
    part = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, part.open("wb") as out:
            shutil.copyfileobj(response, out)
        archive = part.read_bytes()
        raw = gunzip(archive, source=url)
        # the published archive passes, else (where pinned) its decompressed content must match
        digest = hashlib.sha256(archive).hexdigest()
        if digest != spec.archive_sha256.get(filename):
            expected = spec.files[filename] or spec.archive_sha256[filename]
            if spec.files[filename] is not None:
                digest = hashlib.sha256(raw).hexdigest()
            if digest != expected:
                raise DataError(f"{url}: SHA-256 {digest} does not match the expected {expected}")
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
