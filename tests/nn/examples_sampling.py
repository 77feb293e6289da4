"""Transform-test examples of the up-sampling and the 3-D, adaptive max and spectral pooling
modules (merged into ``tests/nn/test_transforms.py``)."""

import torch

import phasor.nn as cnn


def _one(*shape):
    """Inputs of one complex64 tensor of ``shape``."""
    return lambda g: (torch.randn(*shape, dtype=torch.complex64, generator=g),)


EXAMPLES = {
    "AdaptiveAvgPool3d": (lambda: cnn.AdaptiveAvgPool3d((2, 1, 2)), _one(2, 2, 3, 4, 5)),
    "AdaptiveMaxPool1d": (lambda: cnn.AdaptiveMaxPool1d(3), _one(2, 3, 7)),
    "AdaptiveMaxPool1d-indices": (
        lambda: cnn.AdaptiveMaxPool1d(2, return_indices=True),
        _one(2, 3, 5),
    ),
    "AdaptiveMaxPool2d": (lambda: cnn.AdaptiveMaxPool2d((2, 3)), _one(2, 3, 5, 4)),
    "AdaptiveMaxPool3d": (
        lambda: cnn.AdaptiveMaxPool3d((2, 1, 2), return_indices=True),
        _one(2, 2, 3, 4, 5),
    ),
    "AvgPool3d": (lambda: cnn.AvgPool3d(2, 1, 1), _one(2, 2, 3, 3, 3)),
    "MaxPool3d": (lambda: cnn.MaxPool3d(2), _one(2, 2, 4, 4, 4)),
    "MaxPool3d-windowed": (
        lambda: cnn.MaxPool3d(2, 1, 1, return_indices=True),
        _one(2, 2, 3, 3, 3),
    ),
    "SpectralPool1d": (lambda: cnn.SpectralPool1d(4), _one(2, 3, 7)),
    "SpectralPool2d": (lambda: cnn.SpectralPool2d((3, 4)), _one(2, 3, 6, 7)),
    "Upsample": (lambda: cnn.Upsample(scale_factor=2), _one(2, 3, 3, 4)),
    "Upsample-bilinear": (
        lambda: cnn.Upsample(size=(5, 7), mode="bilinear", align_corners=False),
        _one(2, 3, 3, 4),
    ),
    "Upsample-bicubic": (
        lambda: cnn.Upsample(scale_factor=1.5, mode="bicubic", align_corners=True),
        _one(2, 2, 3, 4),
    ),
    "Upsample-polar-linear": (
        lambda: cnn.Upsample(scale_factor=2, mode="linear", polar=True),
        _one(2, 3, 5),
    ),
    "Upsample-polar-trilinear": (
        lambda: cnn.Upsample(size=(3, 4, 5), mode="trilinear", align_corners=True, polar=True),
        _one(2, 2, 2, 3, 3),
    ),
}
