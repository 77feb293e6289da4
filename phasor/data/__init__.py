"""Data sets: the embedded digits, MNIST-like IDX data sets with checksums, and loaders.

Examples:
    >>> from phasor.data import load_images
    >>> data = load_images("embedded")
    >>> data.train_images.shape, data.train_images.dtype
    (torch.Size([4000, 28, 28]), torch.float32)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from phasor.data.datasets import DATASETS, download, load_idx_dataset, resolve_data_dir
from phasor.data.digits import load_embedded_digits
from phasor.data.idx import DataError, read_idx, write_idx

__all__ = [
    "DATASETS",
    "DataError",
    "ImageSplits",
    "download",
    "image_dataset_names",
    "load_embedded_digits",
    "load_idx_dataset",
    "load_images",
    "read_idx",
    "resolve_data_dir",
    "write_idx",
]


@dataclass
class ImageSplits:
    """Train and test images of one data set, as float tensors in [0, 1].

    Shape:
        - ``train_images``: $(N, 28, 28)$, ``train_labels``: $(N,)$ int64;
          the same for ``test_*``.
    """

    name: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    num_classes: int = 10


def image_dataset_names() -> list[str]:
    """Names accepted by `load_images`: ``"embedded"`` and every IDX data set."""
    return ["embedded", *sorted(DATASETS)]


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images.astype(np.float32) / 255.0)


def load_images(
    dataset: str = "embedded",
    data_dir: str | Path | None = None,
    download_missing: bool = False,
    train_size: int | None = None,
    test_size: int | None = None,
) -> ImageSplits:
    """Load an image data set by name; ``train_size``/``test_size`` keep the first N images."""
    if dataset == "embedded":
        arrays = load_embedded_digits()
    elif dataset in DATASETS:
        train = load_idx_dataset(dataset, "train", data_dir, download_missing)
        test = load_idx_dataset(dataset, "test", data_dir, download_missing)
        arrays = {
            "train_images": train[0],
            "train_labels": train[1],
            "test_images": test[0],
            "test_labels": test[1],
        }
    else:
        raise ValueError(
            f"unknown data set {dataset!r}; choose one of {', '.join(image_dataset_names())}"
        )
    for key, size in (("train", train_size), ("test", test_size)):
        available = len(arrays[f"{key}_labels"])
        if size is not None:
            if not 0 < size <= available:
                raise ValueError(f"{key}_size must be in 1..{available} for {dataset}, got {size}")
            arrays[f"{key}_images"] = arrays[f"{key}_images"][:size]
            arrays[f"{key}_labels"] = arrays[f"{key}_labels"][:size]
    return ImageSplits(
        name=dataset,
        train_images=_to_tensor(arrays["train_images"]),
        train_labels=torch.from_numpy(arrays["train_labels"]),
        test_images=_to_tensor(arrays["test_images"]),
        test_labels=torch.from_numpy(arrays["test_labels"]),
    )
