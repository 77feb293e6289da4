"""Lowering of [`phasor.nn.Linear`][phasor.nn.linear.Linear], and the kernel rule of the
linear and convolution layers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from phasor import nn as pnn
from phasor.lowering._core import Context, adopt, pair, register


def kernel_for(layer: nn.Module) -> str:
    """The kernel ``kernel="by-shape"`` gives a linear or convolution layer: a fixed rule, so a
    lowered model computes the same way on every run (unlike a timed choice).

    Measured on a 2-core x86-64 CPU, one thread, forward + backward against the native complex
    kernel (issue 16 of the tracker, median of 30 interleaved rounds): a linear layer on batch
    256 takes 0.81-0.87x with Gauss's three GEMMs at 256-4096 features, 1.08-1.40x with one
    GEMM on the stacked weight (whose copy costs more than it saves); a 3x3 convolution on
    32x32 takes 0.52-0.55x stacked and 0.70x Gauss at 16 channels, 0.91x stacked and 0.84x
    Gauss at 64, 0.93x Gauss at 256. Hence: Gauss for linear layers and for convolutions with
    64 or more channels, the stacked weight for narrower convolutions.
    """
    if isinstance(layer, pnn.Linear):
        return "gauss"
    return "stacked" if max(layer.in_channels, layer.out_channels) < 64 else "gauss"


def choose_kernel(layer: nn.Module, ctx: Context) -> str:
    """``ctx.kernel``, or the rule of `kernel_for` where it is ``"by-shape"``."""
    return kernel_for(layer) if ctx.kernel == "by-shape" else ctx.kernel


class PairLinear(nn.Module):
    """Lowered [`phasor.nn.Linear`][phasor.nn.linear.Linear]:
    $(N, 2, *, F_{in}) \\to (N, 2, *, F_{out})$ (or real $(N, *, F_{in})$ in).

    ``weight`` is $(2, F_{out}, F_{in})$ = $[A; B]$ for $W = A + iB$, ``bias`` $(2, F_{out})$.
    """

    def __init__(self, layer: pnn.Linear, real_input: bool, kernel: str) -> None:
        super().__init__()
        self.real_input, self.kernel = real_input, kernel
        adopt(self, layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, bias = self.weight, self.bias
        o = w.shape[1]
        if self.real_input:  # one GEMM on [A; B]
            out = F.linear(x, w.flatten(0, 1), None if bias is None else bias.flatten())
            return out.unflatten(-1, (2, o)).movedim(-2, 1)
        if x.dim() == 3 and self.kernel == "stacked":
            # One GEMM of the rows (x_re; x_im) with [A; B]: every product x_p W_q^T, no copy of
            # the input and half the weight copy of the 2x2 block [[A, -B], [B, A]].
            prod = F.linear(x.reshape(-1, x.shape[-1]), w.flatten(0, 1)).view(-1, 2, 2 * o)
            out_re = prod[:, 0, :o] - prod[:, 1, o:]
            out_im = prod[:, 0, o:] + prod[:, 1, :o]
        else:
            a, b = w[0], w[1]
            re, im = x[:, 0], x[:, 1]
            t1, t2 = F.linear(re, a), F.linear(im, b)
            t3 = F.linear(re + im, a + b)
            out_re, out_im = t1 - t2, t3 - t1 - t2
        if bias is not None:
            out_re, out_im = out_re + bias[0], out_im + bias[1]
        return pair(out_re, out_im)


@register(pnn.Linear)
def _linear(layer: pnn.Linear, ctx: Context) -> tuple[nn.Module, bool]:
    return PairLinear(layer, ctx.real_input, choose_kernel(layer, ctx)), False
