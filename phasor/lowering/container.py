"""Lowering of the containers and shape modules: ``nn.Sequential``, ``nn.Identity``,
``nn.Flatten``."""

from __future__ import annotations

import torch
from torch import nn

from phasor.lowering._core import Context, lower_module, register


@register(nn.Sequential)
def _sequential(module: nn.Sequential, ctx: Context) -> tuple[nn.Module, bool]:
    lowered = nn.Sequential()
    real = ctx.real_input
    for name, child in module.named_children():
        child_lowered, real = lower_module(child, ctx.child(name, real))
        lowered.add_module(name, child_lowered)
    return lowered, real


@register(nn.Identity)
def _identity(module: nn.Identity, ctx: Context) -> tuple[nn.Module, bool]:
    return nn.Identity(), ctx.real_input


class PairFlatten(nn.Module):
    """Lowered `torch.nn.Flatten` on the complex axes (the pair axis stays dim 1)."""

    def __init__(self, start_dim: int, end_dim: int) -> None:
        super().__init__()
        self.start_dim = start_dim + 1 if start_dim > 0 else start_dim
        self.end_dim = end_dim + 1 if end_dim > 0 else end_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(self.start_dim, self.end_dim)


@register(nn.Flatten)
def _flatten(layer: nn.Flatten, ctx: Context) -> tuple[nn.Module, bool]:
    if ctx.real_input:
        return nn.Flatten(layer.start_dim, layer.end_dim), True
    if layer.start_dim == 0 or layer.end_dim == 0:
        raise ValueError("lower: a Flatten that merges the batch axis has no real-pair layout")
    return PairFlatten(layer.start_dim, layer.end_dim), False
