"""Lowering of the heads and losses of [`phasor.nn.loss`][phasor.nn.loss]."""

from __future__ import annotations

from torch import nn

from phasor import nn as pnn
from phasor.lowering._core import Context, register
from phasor.lowering.activation import PairModulus


@register(pnn.Magnitude)
def _magnitude(layer, ctx: Context) -> tuple[nn.Module, bool]:
    ctx.refuse_real_input(layer)
    return PairModulus(), True
