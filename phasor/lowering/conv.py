"""Lowering of the convolution layers of [`phasor.nn.conv`][phasor.nn.conv]."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from phasor import nn as pnn
from phasor.lowering._core import Context, adopt, pair, register
from phasor.lowering.linear import choose_kernel


class PairConv(nn.Module):
    """Lowered [`phasor.nn.Conv1d`][phasor.nn.conv.Conv1d] / ``Conv2d``:
    $(N, 2, C_{in}, *) \\to (N, 2, C_{out}, *)$ (or real $(N, C_{in}, *)$ in).

    ``weight`` is $(2, C_{out}, C_{in}/g, *k)$ = $[A; B]$, ``bias`` $(2, C_{out})$.
    """

    def __init__(self, layer, real_input: bool, kernel: str) -> None:
        super().__init__()
        self.real_input, self.kernel = real_input, kernel
        adopt(self, layer)
        self.conv = {1: F.conv1d, 2: F.conv2d}[layer._n]
        self.stride, self.dilation, self.groups = layer.stride, layer.dilation, layer.groups
        self.padding, self.padding_mode = layer.padding, layer.padding_mode
        self.explicit = layer._explicit_padding() if layer.padding_mode != "zeros" else None

    def _op(self, x, weight, bias=None):
        padding = self.padding
        if self.explicit is not None:
            x = F.pad(x, self.explicit, mode=self.padding_mode)
            padding = 0
        return self.conv(x, weight, bias, self.stride, padding, self.dilation, self.groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, bias = self.weight, self.bias
        a, b = w[0], w[1]
        c = a.shape[0]
        flat_bias = None if bias is None else bias.flatten()
        if self.groups == 1 and self.real_input:  # one convolution with [A; B]
            return self._op(x, w.flatten(0, 1), flat_bias).unflatten(1, (2, c))
        if self.groups == 1 and self.kernel == "stacked":
            stacked = torch.cat((torch.cat((a, -b), 1), torch.cat((b, a), 1)))
            return self._op(x.flatten(1, 2), stacked, flat_bias).unflatten(1, (2, c))
        if self.real_input:
            out_re, out_im = self._op(x, a), self._op(x, b)
        else:
            re, im = x[:, 0], x[:, 1]
            t1, t2 = self._op(re, a), self._op(im, b)
            t3 = self._op(re + im, a + b)
            out_re, out_im = t1 - t2, t3 - t1 - t2
        if bias is not None:
            shape = (-1,) + (1,) * (x.dim() - 3 + self.real_input)
            out_re = out_re + bias[0].view(shape)
            out_im = out_im + bias[1].view(shape)
        return pair(out_re, out_im)


@register(pnn.Conv1d, pnn.Conv2d)
def _conv(layer, ctx: Context) -> tuple[nn.Module, bool]:
    return PairConv(layer, ctx.real_input, choose_kernel(layer, ctx)), False
