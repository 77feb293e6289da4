"""Transform-test examples of the first modules of phasor.nn (the families' later modules are
in their own ``examples_<family>.py``): each built with small shapes, inputs from a seeded
generator. Gathered by ``examples.py``."""

import torch

import phasor.nn as cnn

C64 = torch.complex64


def _complex(g, *shape):
    return torch.randn(*shape, dtype=C64, generator=g)


def _real(g, *shape):
    return torch.rand(*shape, generator=g)


def _one(shape):
    """Inputs of one complex tensor of ``shape``."""
    return lambda g: (_complex(g, *shape),)


# id -> (module factory, inputs from a torch.Generator); the id up to "-" is the class name.
EXAMPLES = {
    "AmpPhaseTanh": (cnn.AmpPhaseTanh, _one((2, 3))),
    "CPReLU": (lambda: cnn.CPReLU(3, init=0.2, dtype=C64), _one((2, 3, 4))),
    "CReLU": (cnn.CReLU, _one((2, 3))),
    "Cardioid": (cnn.Cardioid, _one((2, 3))),
    "ModReLU": (lambda: cnn.ModReLU(3, bias_init=-0.3, dtype=C64), _one((2, 3, 4))),
    "Modulus": (cnn.Modulus, _one((2, 3))),
    "SplitSigmoid": (cnn.SplitSigmoid, _one((2, 3))),
    "SplitTanh": (cnn.SplitTanh, _one((2, 3))),
    "ZReLU": (cnn.ZReLU, _one((2, 3))),
    "Conv1d": (lambda: cnn.Conv1d(2, 3, 3, padding=1), _one((2, 2, 5))),
    "Conv2d": (lambda: cnn.Conv2d(2, 3, 3), _one((2, 2, 4, 4))),
    "Conv3d": (lambda: cnn.Conv3d(2, 2, 2), _one((2, 2, 3, 3, 3))),
    "ConvTranspose1d": (lambda: cnn.ConvTranspose1d(2, 3, 3, stride=2), _one((2, 2, 4))),
    "ConvTranspose2d": (lambda: cnn.ConvTranspose2d(2, 3, 2), _one((2, 2, 3, 3))),
    "ConvTranspose3d": (lambda: cnn.ConvTranspose3d(2, 2, 2), _one((2, 2, 2, 2, 2))),
    "Dropout": (lambda: cnn.Dropout(0.5), _one((2, 6))),
    "Dropout2d": (lambda: cnn.Dropout2d(0.5), _one((2, 4, 2, 2))),
    "AnalyticSignal": (cnn.AnalyticSignal, lambda g: (torch.randn(2, 8, generator=g),)),
    "PhaseEncode": (cnn.PhaseEncode, lambda g: (_real(g, 2, 4),)),
    "ToComplex": (cnn.ToComplex, lambda g: (torch.randn(2, 4, generator=g),)),
    "DenseGraphConv": (
        lambda: cnn.DenseGraphConv(3, 4),
        lambda g: (_complex(g, 2, 5, 3), _real(g, 2, 5, 5)),
    ),
    "Linear": (lambda: cnn.Linear(4, 3), _one((2, 4))),
    "ComplexCrossEntropyLoss": (
        cnn.ComplexCrossEntropyLoss,
        lambda g: (_complex(g, 4, 5), torch.randint(0, 5, (4,), generator=g)),
    ),
    "ComplexMSELoss": (cnn.ComplexMSELoss, lambda g: (_complex(g, 2, 3), _complex(g, 2, 3))),
    "Magnitude": (cnn.Magnitude, _one((2, 5))),
    "ModLogSoftmax": (cnn.ModLogSoftmax, _one((2, 5))),
    "ModSoftmax": (cnn.ModSoftmax, _one((2, 5))),
    "ComplexBatchNorm1d": (lambda: cnn.ComplexBatchNorm1d(3), _one((4, 3))),
    "ComplexBatchNorm2d": (lambda: cnn.ComplexBatchNorm2d(3), _one((4, 3, 2, 2))),
    "ComplexBatchNorm2d-untracked": (
        lambda: cnn.ComplexBatchNorm2d(3, track_running_stats=False),
        _one((4, 3, 2, 2)),
    ),
    "NaiveComplexBatchNorm1d": (lambda: cnn.NaiveComplexBatchNorm1d(3), _one((4, 3))),
    "NaiveComplexBatchNorm2d": (lambda: cnn.NaiveComplexBatchNorm2d(3), _one((4, 3, 2, 2))),
    "ComplexLayerNorm": (lambda: cnn.ComplexLayerNorm(4), _one((2, 3, 4))),
    "AdaptiveAvgPool1d": (lambda: cnn.AdaptiveAvgPool1d(2), _one((2, 3, 5))),
    "AdaptiveAvgPool2d": (lambda: cnn.AdaptiveAvgPool2d((2, 1)), _one((2, 3, 5, 4))),
    "AvgPool1d": (lambda: cnn.AvgPool1d(2), _one((2, 3, 5))),
    "AvgPool2d": (lambda: cnn.AvgPool2d(2, 1, 1), _one((2, 3, 4, 4))),
    "MaxPool1d": (lambda: cnn.MaxPool1d(2), _one((2, 3, 6))),
    "MaxPool1d-windowed": (lambda: cnn.MaxPool1d(3, 2, 1, dilation=1), _one((2, 3, 7))),
    "MaxPool2d": (lambda: cnn.MaxPool2d(2), _one((2, 3, 4, 4))),
    "MaxPool2d-windowed": (lambda: cnn.MaxPool2d(2, 1), _one((2, 3, 4, 4))),
}

# Modules whose forward pass depends on train mode: dropout draws random numbers (compared
# with the generator reseeded), batch norm uses the batch statistics.
TRAIN_DEPENDENT = {
    "Dropout",
    "Dropout2d",
    "ComplexBatchNorm1d",
    "ComplexBatchNorm2d",
    "NaiveComplexBatchNorm1d",
    "NaiveComplexBatchNorm2d",
}
# The one exclusion: train-mode batch norm with running statistics updates them in place, and
# a batched (vmap) or gradient-tracking (grad) value cannot be written into the module's plain
# buffer. The tests assert that error; without running statistics (the "-untracked" case) the
# same layers pass.
RUNNING_STATS = {
    "ComplexBatchNorm1d": "broadcast shape",
    "ComplexBatchNorm2d": "broadcast shape",
    "NaiveComplexBatchNorm1d": "updated in place",
    "NaiveComplexBatchNorm2d": "updated in place",
}
