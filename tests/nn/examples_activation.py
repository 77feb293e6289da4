"""Transform-test examples of the activation modules added after the first nine (those are
in test_transforms.py): each built with small shapes, inputs from a seeded generator."""

import torch

import phasor.nn as cnn

C64 = torch.complex64


def _one(shape):
    """Inputs of one complex tensor of ``shape``."""
    return lambda g: (torch.randn(*shape, dtype=C64, generator=g),)


EXAMPLES = {
    "AmpPhaseTanh-scaled": (lambda: cnn.AmpPhaseTanh(saturation=2.0, scale=0.5), _one((2, 3))),
    "CSign": (cnn.CSign, _one((2, 3))),
    "ModSoftplus": (lambda: cnn.ModSoftplus(beta=1.5), _one((2, 3))),
    "ModulusSquared": (cnn.ModulusSquared, _one((2, 3))),
    "PolarLog": (cnn.PolarLog, _one((2, 3))),
    "PolarSquash": (cnn.PolarSquash, _one((2, 3))),
    "RotatedCReLU": (
        lambda: cnn.RotatedCReLU(3, phase_init=0.4, dtype=C64),
        _one((2, 3, 4)),
    ),
    "ShiftedCardioid": (
        lambda: cnn.ShiftedCardioid(3, phase_init=0.4, dtype=C64),
        _one((2, 3, 4)),
    ),
    "SigLog": (lambda: cnn.SigLog(c=0.5, r=2.0), _one((2, 3))),
    "SplitCELU": (lambda: cnn.SplitCELU(0.7), _one((2, 3))),
    "SplitELU": (lambda: cnn.SplitELU(0.5), _one((2, 3))),
    "SplitGELU": (cnn.SplitGELU, _one((2, 3))),
    "SplitGELU-tanh": (lambda: cnn.SplitGELU("tanh"), _one((2, 3))),
    "SplitHardsigmoid": (cnn.SplitHardsigmoid, _one((2, 3))),
    "SplitHardswish": (cnn.SplitHardswish, _one((2, 3))),
    "SplitHardtanh": (lambda: cnn.SplitHardtanh(-0.5, 1.5), _one((2, 3))),
    "SplitLeakyReLU": (lambda: cnn.SplitLeakyReLU(0.1), _one((2, 3))),
    "SplitMish": (cnn.SplitMish, _one((2, 3))),
    "SplitSELU": (cnn.SplitSELU, _one((2, 3))),
    "SplitSiLU": (cnn.SplitSiLU, _one((2, 3))),
    "SplitSoftplus": (lambda: cnn.SplitSoftplus(beta=2.0), _one((2, 3))),
    "SplitSoftsign": (cnn.SplitSoftsign, _one((2, 3))),
    "ZLeakyReLU": (lambda: cnn.ZLeakyReLU(3, init=0.3, dtype=C64), _one((2, 3, 4))),
}
