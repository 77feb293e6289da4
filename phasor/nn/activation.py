"""Complex activation layers: thin modules over :mod:`phasor.functional.activation`."""

from __future__ import annotations

import torch
from torch import nn

from phasor.functional import activation as CF
from phasor.nn._real_state import KeepsRealState

__all__ = [
    "AmpPhaseTanh",
    "CPReLU",
    "CReLU",
    "Cardioid",
    "ModReLU",
    "Modulus",
    "SplitSigmoid",
    "SplitTanh",
    "ZReLU",
]


def _real_dtype(dtype: torch.dtype | None) -> torch.dtype:
    """Real dtype for the parameters of a layer whose inputs have ``dtype`` (complex or real)."""
    if dtype is None:
        return torch.get_default_dtype()
    if dtype.is_complex:
        return dtype.to_real()
    if dtype.is_floating_point:
        return dtype
    raise TypeError(f"dtype must be a complex or floating dtype, got {dtype}")


class CReLU(nn.Module):
    r"""``relu(Re z) + i relu(Im z)``; see :func:`phasor.functional.crelu`.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.crelu(z)


class ZReLU(nn.Module):
    r"""``z`` if ``arg z`` is in ``[0, pi/2]``, else 0; see :func:`phasor.functional.zrelu`.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.zrelu(z)


class ModReLU(KeepsRealState):
    r"""``relu(|z| + b) z / |z|`` with a learnable real bias; see :func:`phasor.functional.modrelu`.

    Args:
        num_features: number of biases: 1 (shared by all elements) or ``C``, one per channel
            (dim 1 of an ``(N, C, *)`` input, as in ``torch.nn.PReLU``).
        bias_init: constant initial bias. Conventions differ between implementations (the
            expRNN reference code of Lezcano-Casado & Martínez-Rubio draws
            ``b ~ U(-0.01, 0.01)``, others start at 0); phasor's default ``0.0`` makes the layer
            start as the identity map, and training learns the dead-zone radius ``-b``.
        device: device of the bias.
        dtype: dtype of the inputs (complex64 gives a float32 bias, complex128 a float64
            bias); a real floating dtype sets the bias dtype directly. Defaults to
            ``torch.get_default_dtype()``.

    Attributes:
        bias: real tensor of shape ``(num_features,)``.

    Shape:
        - Input: ``(*)`` if ``num_features == 1``, else ``(N, num_features, *)``; complex.
        - Output: same shape and dtype as the input.
    """

    _real_state = ("bias",)

    def __init__(
        self,
        num_features: int,
        bias_init: float = 0.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if num_features < 1:
            raise ValueError(f"num_features must be at least 1, got {num_features}")
        self.num_features = num_features
        self.bias_init = float(bias_init)
        self.bias = nn.Parameter(torch.empty(num_features, device=device, dtype=_real_dtype(dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.constant_(self.bias, self.bias_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.modrelu(z, self.bias)

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}, bias_init={self.bias_init}"


class Cardioid(nn.Module):
    r"""``0.5 (1 + cos(arg z)) z``; see :func:`phasor.functional.cardioid`.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.cardioid(z)


class SplitSigmoid(nn.Module):
    r"""``sigmoid(Re z) + i sigmoid(Im z)``; see :func:`phasor.functional.split_sigmoid`.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_sigmoid(z)


class SplitTanh(nn.Module):
    r"""``tanh(Re z) + i tanh(Im z)``; see :func:`phasor.functional.split_tanh`.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_tanh(z)


class AmpPhaseTanh(nn.Module):
    r"""``tanh(|z|) z / |z|``; see :func:`phasor.functional.amp_phase_tanh`.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.amp_phase_tanh(z)


class CPReLU(KeepsRealState):
    r"""PReLU on the real and imaginary parts with learnable slopes; see
    :func:`phasor.functional.cprelu`.

    One slope is shared by the real and imaginary parts of each channel.

    Args:
        num_parameters: number of slopes: 1 (shared by all elements) or ``C``, one per
            channel (dim 1 of an ``(N, C, *)`` input), as in ``torch.nn.PReLU``.
        init: initial slope, ``0.25`` as in ``torch.nn.PReLU``.
        device: device of the slopes.
        dtype: dtype of the inputs (complex64 gives float32 slopes, complex128 float64); a real
            floating dtype sets the slope dtype directly. Defaults to
            ``torch.get_default_dtype()``.

    Attributes:
        weight: real tensor of shape ``(num_parameters,)``.

    Shape:
        - Input: ``(*)`` if ``num_parameters == 1``, else ``(N, num_parameters, *)``; complex.
        - Output: same shape and dtype as the input.
    """

    _real_state = ("weight",)

    def __init__(
        self,
        num_parameters: int = 1,
        init: float = 0.25,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if num_parameters < 1:
            raise ValueError(f"num_parameters must be at least 1, got {num_parameters}")
        self.num_parameters = num_parameters
        self.init = float(init)
        self.weight = nn.Parameter(
            torch.empty(num_parameters, device=device, dtype=_real_dtype(dtype))
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.constant_(self.weight, self.init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.cprelu(z, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}, init={self.init}"


class Modulus(nn.Module):
    r"""``|z|`` as a real tensor; see :func:`phasor.functional.modulus`.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real (float32 for complex64, float64 for complex128).
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.modulus(z)
