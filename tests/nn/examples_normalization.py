"""Transform-test examples of the normalisation layers added after the first ones (those stay
in test_transforms.py): see the dicts there for the format."""

import torch

import phasor.nn as cnn

C64 = torch.complex64


def _one(shape):
    """Inputs of one complex tensor of ``shape``."""
    return lambda g: (torch.randn(*shape, dtype=C64, generator=g),)


def _affine_instance_norm():
    """Instance norm with a non-trivial affine map (the default one is I / sqrt(2), 0)."""
    layer = cnn.ComplexInstanceNorm1d(3, affine=True)
    with torch.no_grad():
        layer.weight.add_(0.3 * torch.randn(3, 3))
        layer.bias.copy_(torch.randn(3, dtype=C64))
    return layer


EXAMPLES = {
    "ComplexBatchNorm3d": (lambda: cnn.ComplexBatchNorm3d(2), _one((3, 2, 2, 2, 2))),
    "ComplexGroupNorm": (lambda: cnn.ComplexGroupNorm(2, 4), _one((2, 4, 3))),
    "ComplexInstanceNorm1d": (lambda: cnn.ComplexInstanceNorm1d(3), _one((2, 3, 5))),
    "ComplexInstanceNorm1d-affine": (_affine_instance_norm, _one((2, 3, 5))),
    "ComplexInstanceNorm1d-unbatched": (lambda: cnn.ComplexInstanceNorm1d(3), _one((3, 5))),
    "ComplexInstanceNorm2d": (lambda: cnn.ComplexInstanceNorm2d(3), _one((2, 3, 3, 3))),
    "ComplexInstanceNorm2d-tracked": (
        lambda: cnn.ComplexInstanceNorm2d(3, affine=True, track_running_stats=True),
        _one((2, 3, 3, 3)),
    ),
    "ComplexInstanceNorm3d": (lambda: cnn.ComplexInstanceNorm3d(2), _one((2, 2, 2, 2, 3))),
    "ComplexRMSNorm": (lambda: cnn.ComplexRMSNorm(4), _one((2, 3, 4))),
    "MagnitudeBatchNorm1d": (lambda: cnn.MagnitudeBatchNorm1d(3), _one((4, 3, 2))),
    "MagnitudeBatchNorm2d": (lambda: cnn.MagnitudeBatchNorm2d(3), _one((4, 3, 2, 2))),
    "MagnitudeBatchNorm2d-untracked": (
        lambda: cnn.MagnitudeBatchNorm2d(3, track_running_stats=False),
        _one((4, 3, 2, 2)),
    ),
}

# Forward passes that depend on train mode: batch statistics in training, running ones in eval
# (instance norm only with track_running_stats; the untracked examples then just run twice).
TRAIN_DEPENDENT = {
    "ComplexBatchNorm3d",
    "ComplexInstanceNorm2d",
    "MagnitudeBatchNorm1d",
    "MagnitudeBatchNorm2d",
}
# Train-mode updates of running statistics cannot write a batched (vmap) or gradient-tracking
# (grad) value into a plain buffer: the error each raises under vmap.
RUNNING_STATS = {
    "ComplexBatchNorm3d": "broadcast shape",
    "ComplexInstanceNorm2d-tracked": "broadcast shape",
    "MagnitudeBatchNorm1d": "broadcast shape",
    "MagnitudeBatchNorm2d": "broadcast shape",
}
