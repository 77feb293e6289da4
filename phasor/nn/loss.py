"""Heads and losses as modules: thin wrappers over `phasor.functional.loss`."""

from __future__ import annotations

import torch
from torch import nn

from phasor.functional import loss as CF
from phasor.functional.loss import (
    _SIMILARITY_MODES,
    DISTANCE_MODES,
    PHASE_KINDS,
    _check_choice,
    _check_real_map,
    _check_reduction,
)

__all__ = [
    "ComplexCosineSimilarity",
    "ComplexCrossEntropyLoss",
    "ComplexL1Loss",
    "ComplexMSELoss",
    "LogMagnitudeLoss",
    "Magnitude",
    "MagnitudeLoss",
    "ModLogSoftmax",
    "ModSoftmax",
    "PhaseLoss",
    "SISDRLoss",
]


class Magnitude(nn.Module):
    r"""Magnitude head ``|z|``; see [`phasor.functional.magnitude`][phasor.functional.loss.magnitude].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real of the matching precision.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.magnitude(z)


class ModSoftmax(nn.Module):
    r"""``softmax(|z|^2)`` along ``dim``; see [`phasor.functional.mod_softmax`][phasor.functional.loss.mod_softmax].

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
    r"""``log_softmax(|z|^2)`` along ``dim``; see [`phasor.functional.mod_log_softmax`][phasor.functional.loss.mod_log_softmax].

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
    [`phasor.functional.complex_cross_entropy`][phasor.functional.loss.complex_cross_entropy].

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


class _DistanceLoss(nn.Module):
    """A loss of ``(input, target)`` with ``reduction`` and ``mode``; ``_loss`` the function."""

    def __init__(self, reduction: str = "mean", mode: str = "modulus") -> None:
        super().__init__()
        _check_reduction(reduction)
        _check_choice(mode, DISTANCE_MODES, "mode")
        self.reduction = reduction
        self.mode = mode

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self._loss(input, target, reduction=self.reduction, mode=self.mode)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, mode={self.mode!r}"


class ComplexMSELoss(_DistanceLoss):
    r"""Mean of ``|input - target|^2``; see [`phasor.functional.complex_mse`][phasor.functional.loss.complex_mse].

    Args:
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        mode: ``"modulus"`` (``|x - y|^2``) or ``"split"`` (squared errors of the real and
            imaginary parts, added: the same number).

    Shape:
        - input, target: ``(*)``, complex, same shape and dtype.
        - Output: scalar, or ``(*)`` real if ``reduction="none"``.
    """

    _loss = staticmethod(CF.complex_mse)


class ComplexL1Loss(_DistanceLoss):
    r"""Mean of ``|input - target|`` (``"modulus"``) or of ``|Re d| + |Im d|`` (``"split"``);
    see [`phasor.functional.complex_l1`][phasor.functional.loss.complex_l1].

    Args:
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        mode: ``"modulus"`` or ``"split"``.

    Shape:
        - input, target: ``(*)``, complex, same shape and dtype.
        - Output: scalar, or ``(*)`` real if ``reduction="none"``.
    """

    _loss = staticmethod(CF.complex_l1)


class MagnitudeLoss(nn.Module):
    r"""Mean of ``| |input| - |target| |^p``; see [`phasor.functional.magnitude_loss`][phasor.functional.loss.magnitude_loss].

    Args:
        p: exponent, at least 1 (default 2).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - input, target: ``(*)``, complex, same shape and dtype.
        - Output: scalar, or ``(*)`` real if ``reduction="none"``.
    """

    def __init__(self, p: float = 2.0, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(reduction)
        if not p >= 1:
            raise ValueError(f"p must be at least 1, got {p}")
        self.p = p
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return CF.magnitude_loss(input, target, p=self.p, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"p={self.p}, reduction={self.reduction!r}"


class PhaseLoss(nn.Module):
    r"""Wrapped phase error, ``1 - cos(arg x - arg y)`` or its squared wrapped difference;
    see [`phasor.functional.phase_loss`][phasor.functional.loss.phase_loss].

    Args:
        kind: ``"cosine"`` or ``"squared"``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - input, target: ``(*)``, complex, same shape and dtype.
        - Output: scalar, or ``(*)`` real if ``reduction="none"``.
    """

    def __init__(self, kind: str = "cosine", reduction: str = "mean") -> None:
        super().__init__()
        _check_choice(kind, PHASE_KINDS, "kind")
        _check_reduction(reduction)
        self.kind = kind
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return CF.phase_loss(input, target, kind=self.kind, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, reduction={self.reduction!r}"


class LogMagnitudeLoss(nn.Module):
    r"""Mean of ``|log(|x| + eps) - log(|y| + eps)|``; see
    [`phasor.functional.log_magnitude_loss`][phasor.functional.loss.log_magnitude_loss].

    Args:
        eps: positive offset inside the logarithms.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - input, target: ``(*)``, complex, same shape and dtype.
        - Output: scalar, or ``(*)`` real if ``reduction="none"``.
    """

    def __init__(self, eps: float = 1e-7, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(reduction)
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps}")
        self.eps = eps
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return CF.log_magnitude_loss(input, target, eps=self.eps, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"eps={self.eps}, reduction={self.reduction!r}"


class SISDRLoss(nn.Module):
    r"""Negative scale-invariant SDR in dB (Le Roux et al., 2019); see
    [`phasor.functional.si_sdr`][phasor.functional.loss.si_sdr] for the definition (complex inner product for complex
    signals).

    Args:
        dim: dimension(s) holding one signal: ``-1`` for waveforms ``(..., time)``, real or
            complex; ``(-2, -1)`` for complex spectrograms ``(..., freq, time)``.
        eps: non-negative offset of the unit-scaled energies (caps the SI-SDR at about
            ``10 log10(1 / eps)`` dB).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (over the signals).

    Shape:
        - input, target: ``(*)``, real or complex, same shape and dtype.
        - Output: scalar, or ``(*)`` without ``dim`` if ``reduction="none"``.
    """

    def __init__(
        self, dim: int | tuple[int, ...] = -1, eps: float = 1e-8, reduction: str = "mean"
    ) -> None:
        super().__init__()
        _check_reduction(reduction)
        if not eps >= 0:
            raise ValueError(f"eps must be non-negative, got {eps}")
        self.dim = dim
        self.eps = eps
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return CF.si_sdr_loss(input, target, dim=self.dim, eps=self.eps, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, eps={self.eps}, reduction={self.reduction!r}"


class ComplexCosineSimilarity(nn.Module):
    r"""Cosine similarity ``Re<x1, x2> / (|x1| |x2|)`` (``"real"``) or
    ``|<x1, x2>| / (|x1| |x2|)`` (``"modulus"``) along ``dim``, like
    `torch.nn.CosineSimilarity`; see [`phasor.functional.complex_cosine_similarity`][phasor.functional.loss.complex_cosine_similarity].

    Args:
        dim: dimension of the vectors.
        eps: lower bound of each norm.
        mode: ``"real"`` or ``"modulus"``.

    Shape:
        - x1, x2: ``(*)``, complex, same shape and dtype.
        - Output: ``(*)`` without ``dim``, real.
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8, mode: str = "real") -> None:
        super().__init__()
        _check_choice(mode, _SIMILARITY_MODES, "mode")
        self.dim = dim
        self.eps = eps
        self.mode = mode

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return CF.complex_cosine_similarity(x1, x2, dim=self.dim, eps=self.eps, mode=self.mode)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, eps={self.eps}, mode={self.mode!r}"
