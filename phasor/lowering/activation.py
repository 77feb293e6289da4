"""Lowering of the activations of [`phasor.nn.activation`][phasor.nn.activation]."""

from __future__ import annotations

import torch
from torch import nn

from phasor import nn as pnn
from phasor.lowering._core import Context, adopt, modulus, per_channel, register


class PairSplit(nn.Module):
    """A split activation $f(\\mathrm{Re}\\,z) + i f(\\mathrm{Im}\\,z)$: ``f`` on the pair tensor."""

    def __init__(self, f) -> None:
        super().__init__()
        self.f = f

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.f(x)


class PairZReLU(nn.Module):
    """Lowered [`phasor.nn.ZReLU`][phasor.nn.activation.ZReLU]: $z$ in the first quadrant, else 0."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        re, im = x[:, 0], x[:, 1]
        keep = ((re >= 0) & (im >= 0)) | torch.isnan(re) | torch.isnan(im)
        return torch.where(keep.unsqueeze(1), x, torch.zeros_like(x))


class PairCardioid(nn.Module):
    """Lowered [`phasor.nn.Cardioid`][phasor.nn.activation.Cardioid]: $\\tfrac12(1 + \\cos\\varphi)\\,z$."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        re = x[:, 0]
        mod = modulus(x)
        nonzero = mod > 0
        cos_arg = torch.where(nonzero, re / torch.where(nonzero, mod, 1.0), 1.0)
        return x * (0.5 * (1 + cos_arg)).unsqueeze(1)


class PairModReLU(nn.Module):
    """Lowered [`phasor.nn.ModReLU`][phasor.nn.activation.ModReLU]: $\\mathrm{ReLU}(|z| + b)\\,z/|z|$."""

    def __init__(self, layer: pnn.ModReLU) -> None:
        super().__init__()
        adopt(self, layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mod = modulus(x)
        b = per_channel(self.bias, mod.dim())
        nonzero = mod > 0
        scale = torch.relu(mod + b) / torch.where(nonzero, mod, 1.0)
        return x * torch.where(nonzero, scale, (b == 0).to(mod.dtype)).unsqueeze(1)


class PairModulus(nn.Module):
    """Lowered [`phasor.nn.Modulus`][phasor.nn.activation.Modulus]: the real $|z|$."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return modulus(x)


def _stateless(cls):
    def rule(layer, ctx: Context) -> tuple[nn.Module, bool]:
        ctx.refuse_real_input(layer)
        return cls(), False

    return rule


def _split(f):
    def rule(layer, ctx: Context) -> tuple[nn.Module, bool]:
        ctx.refuse_real_input(layer)
        return PairSplit(f), False

    return rule


register(pnn.CReLU)(_split(torch.relu))
register(pnn.SplitTanh)(_split(torch.tanh))
register(pnn.SplitSigmoid)(_split(torch.sigmoid))
register(pnn.ZReLU)(_stateless(PairZReLU))
register(pnn.Cardioid)(_stateless(PairCardioid))


@register(pnn.ModReLU)
def _modrelu(layer: pnn.ModReLU, ctx: Context) -> tuple[nn.Module, bool]:
    ctx.refuse_real_input(layer)
    return PairModReLU(layer), False


@register(pnn.Modulus)
def _modulus(layer, ctx: Context) -> tuple[nn.Module, bool]:
    ctx.refuse_real_input(layer)
    return PairModulus(), True
