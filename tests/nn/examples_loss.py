"""Examples of the signal losses for tests/nn/test_transforms.py (the heads, cross-entropy and
the default ComplexMSELoss have theirs there)."""

import torch

import phasor.nn as cnn


def _pair(*shape, dtype=torch.complex64):
    return lambda g: (
        torch.randn(*shape, dtype=dtype, generator=g),
        torch.randn(*shape, dtype=dtype, generator=g),
    )


EXAMPLES = {
    "ComplexMSELoss-split": (lambda: cnn.ComplexMSELoss(mode="split"), _pair(2, 3)),
    "ComplexL1Loss": (cnn.ComplexL1Loss, _pair(2, 3)),
    "ComplexL1Loss-split": (lambda: cnn.ComplexL1Loss("none", mode="split"), _pair(2, 3)),
    "MagnitudeLoss": (cnn.MagnitudeLoss, _pair(2, 3)),
    "MagnitudeLoss-p1": (lambda: cnn.MagnitudeLoss(p=1, reduction="sum"), _pair(2, 3)),
    "PhaseLoss": (cnn.PhaseLoss, _pair(2, 3)),
    "PhaseLoss-squared": (lambda: cnn.PhaseLoss("squared", reduction="none"), _pair(2, 3)),
    "LogMagnitudeLoss": (cnn.LogMagnitudeLoss, _pair(2, 3)),
    "SISDRLoss": (cnn.SISDRLoss, _pair(2, 16, dtype=torch.float32)),
    "SISDRLoss-complex": (lambda: cnn.SISDRLoss(reduction="none"), _pair(2, 16)),
    "SISDRLoss-spectrogram": (lambda: cnn.SISDRLoss(dim=(-2, -1)), _pair(2, 3, 5)),
    "ComplexCosineSimilarity": (cnn.ComplexCosineSimilarity, _pair(2, 4, 3)),
    "ComplexCosineSimilarity-modulus": (
        lambda: cnn.ComplexCosineSimilarity(dim=-1, mode="modulus"),
        _pair(2, 4),
    ),
}
