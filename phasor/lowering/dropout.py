"""Lowering of [`phasor.nn.Dropout`][phasor.nn.dropout.Dropout] and ``Dropout2d``."""

from __future__ import annotations

import torch
from torch import nn

from phasor import nn as pnn
from phasor.lowering._core import Context, register


class PairDropout(nn.Module):
    """Lowered dropout: the real and imaginary part of an element (or channel) dropped
    together, by the mask phasor's layer draws (the same random numbers, in the same order)."""

    def __init__(self, p: float, channels: bool) -> None:
        super().__init__()
        self.p, self.channels = p, channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        complex_shape = (x.shape[0], *x.shape[2:])
        if self.channels:
            complex_shape = (*complex_shape[:-2], 1, 1)  # as phasor: per (sample, channel)
        mask = torch.empty(complex_shape, dtype=x.dtype, device=x.device).bernoulli_(1 - self.p)
        if self.p < 1:
            mask = mask / (1 - self.p)
        return x * mask.unsqueeze(1)


@register(pnn.Dropout, pnn.Dropout2d)
def _dropout(layer, ctx: Context) -> tuple[nn.Module, bool]:
    ctx.refuse_real_input(layer)
    return PairDropout(layer.p, type(layer) is pnn.Dropout2d), False
