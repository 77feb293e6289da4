"""Heads and losses as modules: thin wrappers over :mod:`phasor.functional.loss`."""

from __future__ import annotations

import torch
from torch import nn

from phasor.functional import loss as CF
from phasor.functional.loss import _check_real_map, _check_reduction

__all__ = [
    "ComplexCrossEntropyLoss",
    "ComplexMSELoss",
    "Magnitude",
    "ModLogSoftmax",
    "ModSoftmax",
]


class Magnitude(nn.Module):
    r"""Magnitude head ``|z|``; see :func:`phasor.functional.magnitude`.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real of the matching precision.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.magnitude(z)


class ModSoftmax(nn.Module):
    r"""``softmax(|z|^2)`` along ``dim``; see :func:`phasor.functional.mod_softmax`.

    Args:
        dim: dimension along which the probabilities sum to 1.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real of the matching precision.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.mod_softmax(z, dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class ModLogSoftmax(nn.Module):
    r"""``log_softmax(|z|^2)`` along ``dim``; see :func:`phasor.functional.mod_log_softmax`.

    Args:
        dim: dimension along which to normalise.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real of the matching precision.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.mod_log_softmax(z, dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class ComplexCrossEntropyLoss(nn.Module):
    r"""Cross-entropy of a real map of complex logits; see
    :func:`phasor.functional.complex_cross_entropy`.

    Args:
        real_map: ``"magnitude"`` (``|z|``), ``"squared_magnitude"`` (``|z|^2``, the
            ``modSoftmax`` head of seed 000) or ``"real"`` (``Re z``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - logits: ``(C)``, ``(N, C)`` or ``(N, C, d_1, ..., d_k)``, complex.
        - target: ``()``, ``(N)`` or ``(N, d_1, ..., d_k)``, integer class indices.
        - Output: scalar, or the shape of ``target`` if ``reduction="none"``.
    """

    def __init__(self, real_map: str = "magnitude", reduction: str = "mean") -> None:
        super().__init__()
        _check_real_map(real_map)
        _check_reduction(reduction)
        self.real_map = real_map
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return CF.complex_cross_entropy(
            logits, target, real_map=self.real_map, reduction=self.reduction
        )

    def extra_repr(self) -> str:
        return f"real_map={self.real_map!r}, reduction={self.reduction!r}"


class ComplexMSELoss(nn.Module):
    r"""Mean of ``|input - target|^2``; see :func:`phasor.functional.complex_mse`.

    Args:
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - input, target: ``(*)``, complex, same shape and dtype.
        - Output: scalar, or ``(*)`` real if ``reduction="none"``.
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return CF.complex_mse(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
