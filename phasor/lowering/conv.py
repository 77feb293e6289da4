"""Lowering of the convolution layers of [`phasor.nn.conv`][phasor.nn.conv]."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from phasor import nn as pnn
from phasor.lowering._core import Context, adopt, pair, register
from phasor.lowering.linear import choose_kernel
from phasor.nn.conv import _output_padding_for

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


class _PairConvNd(nn.Module):
    """The real kernels shared by the lowered convolutions and transposed convolutions.

    ``weight`` is $(2, *S)$ = $[A; B]$ for $W = A + iB$ of phasor's shape $S$, ``bias``
    $(2, C_{out})$. A real input takes one convolution with $[A; B]$ stacked along the output
    channels; a complex input one convolution of the merged pair axis with the stacked weight
    (``kernel="stacked"``) or Gauss's three (``"gauss"``, and always for ``groups > 1``).

    A subclass gives the two stacked weights: ``_real_input_weight(w)``, $[A; B]$ along the
    output channels, and ``_stacked_weight(a, b)``, $[[A, -B], [B, A]]$ from the merged input
    channels to the merged output channels.
    """

    _transposed: bool

    def __init__(self, layer, real_input: bool, kernel: str) -> None:
        super().__init__()
        self.real_input, self.kernel = real_input, kernel
        adopt(self, layer)
        self.spatial = layer._n
        self.out_channels = layer.out_channels
        self.stride, self.dilation, self.groups = layer.stride, layer.dilation, layer.groups
        self.padding = layer.padding

    def _batched(self, x: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """``x`` with a batch axis of one if it has none: real $(C, *)$ -> $(1, C, *)$, pair
        $(C, 2, *)$ -> $(1, 2, C, *)$; and whether it had none."""
        if x.dim() != self.spatial + (1 if self.real_input else 2):
            return x, False
        return (x if self.real_input else x.transpose(0, 1)).unsqueeze(0), True

    def _convolve(self, x: torch.Tensor, op: Callable) -> torch.Tensor:
        """``op(input, weight, bias)``, a real (transposed) convolution, applied to the batched
        real or pair ``x`` with the complex weight; a batched pair comes out."""
        w, bias = self.weight, self.bias
        a, b = w[0], w[1]
        c = self.out_channels
        flat_bias = None if bias is None else bias.flatten()
        if self.groups == 1 and self.real_input:
            return op(x, self._real_input_weight(w), flat_bias).unflatten(1, (2, c))
        if self.groups == 1 and self.kernel == "stacked":
            return op(x.flatten(1, 2), self._stacked_weight(a, b), flat_bias).unflatten(1, (2, c))
        if self.real_input:
            out_re, out_im = op(x, a, None), op(x, b, None)
        else:
            re, im = x[:, 0], x[:, 1]
            t1, t2 = op(re, a, None), op(im, b, None)
            t3 = op(re + im, a + b, None)
            out_re, out_im = t1 - t2, t3 - t1 - t2
        if bias is not None:
            shape = (-1,) + (1,) * self.spatial
            out_re = out_re + bias[0].view(shape)
            out_im = out_im + bias[1].view(shape)
        return pair(out_re, out_im)

    @staticmethod
    def _unbatched(out: torch.Tensor) -> torch.Tensor:
        """A batched pair $(1, 2, C, *)$ as the unbatched pair $(C, 2, *)$."""
        return out.squeeze(0).transpose(0, 1)


class PairConv(_PairConvNd):
    """Lowered [`phasor.nn.Conv1d`][phasor.nn.conv.Conv1d] / ``Conv2d`` / ``Conv3d``:
    $(N, 2, C_{in}, *) \\to (N, 2, C_{out}, *)$ (or real $(N, C_{in}, *)$ in; unbatched
    $(C_{in}, 2, *)$ or real $(C_{in}, *)$ as well).

    ``weight`` is $(2, C_{out}, C_{in}/g, *k)$ = $[A; B]$, ``bias`` $(2, C_{out})$.
    """

    def __init__(self, layer, real_input: bool, kernel: str) -> None:
        super().__init__(layer, real_input, kernel)
        self.conv = _CONV[self.spatial]
        self.padding_mode = layer.padding_mode
        self.explicit = layer._explicit_padding() if layer.padding_mode != "zeros" else None

    def _real_input_weight(self, w):
        return w.flatten(0, 1)

    def _stacked_weight(self, a, b):
        return torch.cat((torch.cat((a, -b), 1), torch.cat((b, a), 1)))

    def _op(self, x, weight, bias):
        padding = 0 if self.explicit is not None else self.padding
        return self.conv(x, weight, bias, self.stride, padding, self.dilation, self.groups)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x, unbatched = self._batched(input)
        if self.explicit is not None:  # pad once, on the merged pair and channel axes
            merged = x if self.real_input else x.flatten(1, 2)
            merged = F.pad(merged, self.explicit, mode=self.padding_mode)
            x = merged if self.real_input else merged.unflatten(1, (2, -1))
        out = self._convolve(x, self._op)
        return self._unbatched(out) if unbatched else out


class PairConvTranspose(_PairConvNd):
    """Lowered [`phasor.nn.ConvTranspose1d`][phasor.nn.conv.ConvTranspose1d] / ``2d`` /
    ``3d``: $(N, 2, C_{in}, *) \\to (N, 2, C_{out}, *)$ (or real $(N, C_{in}, *)$ in;
    unbatched as in `PairConv`); ``forward(input, output_size=None)`` as phasor's.

    ``weight`` is $(2, C_{in}, C_{out}/g, *k)$ = $[A; B]$, ``bias`` $(2, C_{out})$.
    """

    def __init__(self, layer, real_input: bool, kernel: str) -> None:
        super().__init__(layer, real_input, kernel)
        self.conv = _CONV_TRANSPOSE[self.spatial]
        self.kernel_size, self.output_padding = layer.kernel_size, layer.output_padding

    def _real_input_weight(self, w):
        return torch.cat((w[0], w[1]), 1)

    def _stacked_weight(self, a, b):
        return torch.cat((torch.cat((a, b), 1), torch.cat((-b, a), 1)))

    def forward(
        self, input: torch.Tensor, output_size: Sequence[int] | None = None
    ) -> torch.Tensor:
        x, unbatched = self._batched(input)
        shape = tuple(x.shape) if self.real_input else (x.shape[0], *x.shape[2:])
        complex_shape = shape[unbatched:]  # the shape of phasor's input
        output_padding = _output_padding_for(self, complex_shape, output_size)

        def op(x, weight, bias):
            args = (self.stride, self.padding, output_padding, self.groups, self.dilation)
            return self.conv(x, weight, bias, *args)

        out = self._convolve(x, op)
        return self._unbatched(out) if unbatched else out


@register(pnn.Conv1d, pnn.Conv2d, pnn.Conv3d)
def _conv(layer, ctx: Context) -> tuple[nn.Module, bool]:
    return PairConv(layer, ctx.real_input, choose_kernel(layer, ctx)), False


@register(pnn.ConvTranspose1d, pnn.ConvTranspose2d, pnn.ConvTranspose3d)
def _conv_transpose(layer, ctx: Context) -> tuple[nn.Module, bool]:
    return PairConvTranspose(layer, ctx.real_input, choose_kernel(layer, ctx)), False
