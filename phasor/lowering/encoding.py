r"""Lowering of [`phasor.nn.encoding`][phasor.nn.encoding]: real input, pair output.

Each encoder takes a real tensor $(D_0, D_1, \dots)$ and returns the pair
$(D_0, 2, D_1, \dots)$ of phasor's complex output. Phasor's encoders refuse a complex input,
so do their lowerings.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from phasor import nn as pnn
from phasor.lowering._core import Context, pair, register


class PairToComplex(nn.Module):
    """Lowered [`phasor.nn.ToComplex`][phasor.nn.encoding.ToComplex]: the pair $(x, 0)$."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return pair(x, torch.zeros_like(x))


class PairPhaseEncode(nn.Module):
    """Lowered [`phasor.nn.PhaseEncode`][phasor.nn.encoding.PhaseEncode]: the pair
    $(x \\cos \\pi x,\\ x \\sin \\pi x)$."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        angle = math.pi * x
        return pair(x * torch.cos(angle), x * torch.sin(angle))


def hilbert_matrix(n: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    r"""The real $(n, n)$ matrix $H$ with $\operatorname{Im} z = x H$ for the analytic signal
    $z$ of a row $x$ of length $n$ (the FFT construction of
    [`analytic_signal`][phasor.functional.encoding.analytic_signal]).

    With the FFT weights $h$, $z = x M^T$ for $M_{kt} = \frac1n \sum_f h_f
    e^{2\pi i f (k - t)/n}$. Its real part is the identity ($h_f + h_{n-f} = 2$), its
    imaginary part the circulant $g((k - t) \bmod n)$ with
    $g(m) = \frac2n \sum_{0 < f < n/2} \sin(2\pi f m / n)$ (the terms $f = 0$ and
    $f = n/2$ vanish). The angles are reduced mod $n$ in integers, so they stay exact.
    """
    m = torch.arange(n, device=device)
    f = torch.arange(1, (n + 1) // 2, device=device)
    turns = (f.unsqueeze(1) * m) % n
    g = torch.sin(turns.to(dtype) * (2 * math.pi / n)).sum(0) * (2 / n)
    return g[(m - m.unsqueeze(1)) % n]  # row t, column k: g((k - t) mod n)


class PairAnalyticSignal(nn.Module):
    """Lowered [`phasor.nn.AnalyticSignal`][phasor.nn.encoding.AnalyticSignal]: the pair
    $(x,\\ x H)$ along ``dim``, $H$ of `hilbert_matrix` (real matmuls, no FFT)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 0:
            raise ValueError("input must have at least one dimension, got a 0-D tensor")
        n = x.shape[self.dim]
        if n == 0:
            raise ValueError(
                f"input must be non-empty along dim {self.dim}, got shape {tuple(x.shape)}"
            )
        dim, last = self.dim % x.dim(), x.dim() - 1  # positive axes export to ONNX
        along_last = x.transpose(dim, last)
        imag = (along_last @ hilbert_matrix(n, x.dtype, x.device)).transpose(dim, last)
        return pair(x, imag)


def _encoder(make):
    def rule(layer, ctx: Context) -> tuple[nn.Module, bool]:
        if not ctx.real_input:
            raise TypeError(
                f"lower: {ctx.where(layer)} gets a complex input, which phasor's encoders "
                "refuse; lower the model with real_input=True"
            )
        return make(layer), False

    return rule


register(pnn.ToComplex)(_encoder(lambda layer: PairToComplex()))
register(pnn.PhaseEncode)(_encoder(lambda layer: PairPhaseEncode()))
register(pnn.AnalyticSignal)(_encoder(lambda layer: PairAnalyticSignal(layer.dim)))
