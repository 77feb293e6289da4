"""Real-to-complex encoders as modules: thin wrappers over `phasor.functional.encoding`."""

from __future__ import annotations

import torch
from torch import nn

from phasor.functional import encoding as CF

__all__ = ["AnalyticSignal", "PhaseEncode", "ToComplex"]


class ToComplex(nn.Module):
    r"""``x + 0i``; see [`phasor.functional.to_complex`][phasor.functional.encoding.to_complex].

    Shape:
        - Input: ``(*)``, float32 or float64.
        - Output: ``(*)``, complex64 or complex128.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return CF.to_complex(x)


class PhaseEncode(nn.Module):
    r"""``x exp(i pi x)`` for data in ``[0, 1]``; see [`phasor.functional.phase_encode`][phasor.functional.encoding.phase_encode].

    Shape:
        - Input: ``(*)``, float32 or float64.
        - Output: ``(*)``, complex64 or complex128.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return CF.phase_encode(x)


class AnalyticSignal(nn.Module):
    r"""Analytic signal ``x + i H[x]`` along ``dim``; see [`phasor.functional.analytic_signal`][phasor.functional.encoding.analytic_signal].

    Args:
        dim: the time axis.

    Shape:
        - Input: ``(*)``, float32 or float64, non-empty along ``dim``.
        - Output: ``(*)``, complex64 or complex128.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return CF.analytic_signal(x, dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
