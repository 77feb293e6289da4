"""Lowering of the models of [`phasor.models`][phasor.models]."""

from __future__ import annotations

import copy

import torch
from torch import nn

from phasor.lowering._core import Context, lower_module, register
from phasor.models.cnn import ComplexSeedCNN, RealSeedCNN

_SEED_LAYERS = (
    "conv1",
    "act1",
    "pool1",
    "bn",
    "conv2",
    "act2",
    "pool2",
    "fc1",
    "act3",
    "fc2",
    "head",
)


class PairSeedCNN(nn.Module):
    r"""Lowered [`phasor.models.cnn.ComplexSeedCNN`][phasor.models.cnn.ComplexSeedCNN]: its
    layers lowered under the same names, the input cast to the model's real precision, the
    flatten taken over the complex axes, ``log_softmax`` of the real magnitudes.

    Shape:
        - Input: real $(N, 1, 28, 28)$ or $(N, 28, 28)$ with ``real_input``, else the pair
          $(N, 2, 1, 28, 28)$ or $(N, 2, 28, 28)$ of the complex input.
        - Output: $(N, \text{num\_classes})$ real log-probabilities.
    """

    def __init__(self, model: ComplexSeedCNN, ctx: Context) -> None:
        super().__init__()
        self.real_input = ctx.real_input
        self.dtype = model.dtype.to_real()
        self.widths, self.activation = model.widths, model.activation
        real = ctx.real_input
        for name in _SEED_LAYERS:
            lowered, real = lower_module(getattr(model, name), ctx.child(name, real))
            self.add_module(name, lowered)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3 + (not self.real_input):  # no channel axis
            x = x.unsqueeze(1 if self.real_input else 2)
        x = x.to(self.dtype)
        x = self.bn(self.pool1(self.act1(self.conv1(x))))
        x = self.pool2(self.act2(self.conv2(x))).flatten(2)
        x = self.fc2(self.act3(self.fc1(x)))
        return torch.log_softmax(self.head(x), dim=1)


@register(ComplexSeedCNN)
def _complex_seed_cnn(model: ComplexSeedCNN, ctx: Context) -> tuple[nn.Module, bool]:
    return PairSeedCNN(model, ctx), True


@register(RealSeedCNN)
def _real_seed_cnn(model: RealSeedCNN, ctx: Context) -> tuple[nn.Module, bool]:
    if not ctx.real_input:
        raise TypeError(
            f"lower: {ctx.where(model)} takes real images; lower it with real_input=True"
        )
    return copy.deepcopy(model), True
