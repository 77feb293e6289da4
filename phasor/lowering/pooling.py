"""Lowering of the pooling layers of [`phasor.nn.pooling`][phasor.nn.pooling]."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from phasor import nn as pnn
from phasor.lowering._core import Context, register


class PairMerged(nn.Module):
    """A per-channel real op applied to the pair axis merged with the channel axis."""

    def __init__(self, op: nn.Module) -> None:
        super().__init__()
        self.op = op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x.flatten(1, 2)).unflatten(1, (2, x.shape[2]))


class PairMaxPool(nn.Module):
    """Lowered [`phasor.nn.MaxPool1d`][phasor.nn.pooling.MaxPool1d] / ``MaxPool2d``: the
    element of largest $|z|$ in each window."""

    def __init__(self, layer, spatial: int) -> None:
        super().__init__()
        self.pool = {1: F.max_pool1d, 2: F.max_pool2d}[spatial]
        self.args = (layer.kernel_size, layer.stride, layer.padding, layer.dilation)
        self.ceil_mode = layer.ceil_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        key = (x[:, 0] * x[:, 0] + x[:, 1] * x[:, 1]).detach()
        _, index = self.pool(key, *self.args, ceil_mode=self.ceil_mode, return_indices=True)
        flat_index = index.flatten(2).unsqueeze(1).expand(-1, 2, -1, -1)
        return x.flatten(3).gather(3, flat_index).unflatten(3, index.shape[2:])


def _max_pool(spatial: int):
    def rule(layer, ctx: Context) -> tuple[nn.Module, bool]:
        ctx.refuse_real_input(layer)
        if layer.return_indices:
            raise ValueError(f"lower: {ctx.where(layer)} with return_indices=True is not supported")
        return PairMaxPool(layer, spatial), False

    return rule


def _merged(make):
    def rule(layer, ctx: Context) -> tuple[nn.Module, bool]:
        ctx.refuse_real_input(layer)
        return PairMerged(make(layer)), False

    return rule


register(pnn.MaxPool1d)(_max_pool(1))
register(pnn.MaxPool2d)(_max_pool(2))
register(pnn.AvgPool1d)(
    _merged(
        lambda m: nn.AvgPool1d(m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad)
    )
)
register(pnn.AvgPool2d)(
    _merged(
        lambda m: nn.AvgPool2d(
            m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad, m.divisor_override
        )
    )
)
register(pnn.AdaptiveAvgPool1d)(_merged(lambda m: nn.AdaptiveAvgPool1d(m.output_size)))
register(pnn.AdaptiveAvgPool2d)(_merged(lambda m: nn.AdaptiveAvgPool2d(m.output_size)))
