"""Complex activation layers: thin modules over `phasor.functional.activation`."""

from __future__ import annotations

import torch
from torch import nn

from phasor.functional import activation as CF
from phasor.nn._real_state import KeepsRealState

__all__ = [
    "AmpPhaseTanh",
    "CPReLU",
    "CReLU",
    "CSign",
    "Cardioid",
    "ModReLU",
    "ModSoftplus",
    "Modulus",
    "ModulusSquared",
    "PolarLog",
    "PolarSquash",
    "RotatedCReLU",
    "ShiftedCardioid",
    "SigLog",
    "SplitCELU",
    "SplitELU",
    "SplitGELU",
    "SplitHardsigmoid",
    "SplitHardswish",
    "SplitHardtanh",
    "SplitLeakyReLU",
    "SplitMish",
    "SplitSELU",
    "SplitSiLU",
    "SplitSigmoid",
    "SplitSoftplus",
    "SplitSoftsign",
    "SplitTanh",
    "ZLeakyReLU",
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
    r"""``relu(Re z) + i relu(Im z)``; see [`phasor.functional.crelu`][phasor.functional.activation.crelu].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.crelu(z)


class ZReLU(nn.Module):
    r"""``z`` if ``arg z`` is in ``[0, pi/2]``, else 0; see [`phasor.functional.zrelu`][phasor.functional.activation.zrelu].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.zrelu(z)


class ModReLU(KeepsRealState):
    r"""``relu(|z| + b) z / |z|`` with a learnable real bias; see [`phasor.functional.modrelu`][phasor.functional.activation.modrelu].

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
    r"""``0.5 (1 + cos(arg z)) z``; see [`phasor.functional.cardioid`][phasor.functional.activation.cardioid].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.cardioid(z)


class SplitSigmoid(nn.Module):
    r"""``sigmoid(Re z) + i sigmoid(Im z)``; see [`phasor.functional.split_sigmoid`][phasor.functional.activation.split_sigmoid].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_sigmoid(z)


class SplitTanh(nn.Module):
    r"""``tanh(Re z) + i tanh(Im z)``; see [`phasor.functional.split_tanh`][phasor.functional.activation.split_tanh].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_tanh(z)


class AmpPhaseTanh(nn.Module):
    r"""``m tanh(|z| / s) z / |z|``; see [`phasor.functional.amp_phase_tanh`][phasor.functional.activation.amp_phase_tanh].

    Args:
        saturation: ``m > 0``, the supremum of the output modulus.
        scale: ``s > 0``, the modulus scale.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def __init__(self, saturation: float = 1.0, scale: float = 1.0) -> None:
        super().__init__()
        CF._check_positive(saturation, "saturation")
        CF._check_positive(scale, "scale")
        self.saturation = float(saturation)
        self.scale = float(scale)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.amp_phase_tanh(z, self.saturation, self.scale)

    def extra_repr(self) -> str:
        return f"saturation={self.saturation}, scale={self.scale}"


class CPReLU(KeepsRealState):
    r"""PReLU on the real and imaginary parts with learnable slopes; see
    [`phasor.functional.cprelu`][phasor.functional.activation.cprelu].

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
    r"""``|z|`` as a real tensor; see [`phasor.functional.modulus`][phasor.functional.activation.modulus].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real (float32 for complex64, float64 for complex128).
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.modulus(z)


def _channel_parameter(
    count: int, what: str, device: torch.device | str | None, dtype: torch.dtype | None
) -> nn.Parameter:
    """An uninitialised real parameter of ``count`` entries (one per channel, or one shared)."""
    if count < 1:
        raise ValueError(f"{what} must be at least 1, got {count}")
    return nn.Parameter(torch.empty(count, device=device, dtype=_real_dtype(dtype)))


class ModulusSquared(nn.Module):
    r"""``|z|^2`` as a real tensor; see [`phasor.functional.modulus_squared`][phasor.functional.activation.modulus_squared].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real (float32 for complex64, float64 for complex128).
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.modulus_squared(z)


class CSign(nn.Module):
    r"""``z / |z|`` (0 at 0), the unit phasor; see [`phasor.functional.csign`][phasor.functional.activation.csign].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.csign(z)


class SigLog(nn.Module):
    r"""``z / (c + |z| / r)`` (Georgiou & Koutsougeras); see [`phasor.functional.siglog`][phasor.functional.activation.siglog].

    Args:
        c: ``c > 0``, the inverse slope at 0.
        r: ``r > 0``, the supremum of the output modulus.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def __init__(self, c: float = 1.0, r: float = 1.0) -> None:
        super().__init__()
        CF._check_positive(c, "c")
        CF._check_positive(r, "r")
        self.c = float(c)
        self.r = float(r)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.siglog(z, self.c, self.r)

    def extra_repr(self) -> str:
        return f"c={self.c}, r={self.r}"


class PolarSquash(nn.Module):
    r"""``|z|^2 / (1 + |z|^2) z / |z|``; see [`phasor.functional.polar_squash`][phasor.functional.activation.polar_squash].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.polar_squash(z)


class PolarLog(nn.Module):
    r"""``log(1 + |z|) z / |z|``; see [`phasor.functional.polar_log`][phasor.functional.activation.polar_log].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.polar_log(z)


class ModSoftplus(nn.Module):
    r"""``softplus(|z|) z / |z|`` (0 at 0); see [`phasor.functional.mod_softplus`][phasor.functional.activation.mod_softplus].

    Args:
        beta: ``beta > 0``, the sharpness of the softplus.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        CF._check_positive(beta, "beta")
        self.beta = float(beta)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.mod_softplus(z, self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


class SplitELU(nn.Module):
    r"""``ELU(Re z) + i ELU(Im z)``; see [`phasor.functional.split_elu`][phasor.functional.activation.split_elu].

    Args:
        alpha: ``alpha`` of `torch.nn.ELU`.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_elu(z, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SplitCELU(nn.Module):
    r"""``CELU(Re z) + i CELU(Im z)``; see [`phasor.functional.split_celu`][phasor.functional.activation.split_celu].

    Args:
        alpha: ``alpha`` of `torch.nn.CELU` (not 0).

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        if alpha == 0:
            raise ValueError("alpha of CELU must not be 0")
        self.alpha = float(alpha)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_celu(z, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SplitSELU(nn.Module):
    r"""``SELU(Re z) + i SELU(Im z)``; see [`phasor.functional.split_selu`][phasor.functional.activation.split_selu].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_selu(z)


class SplitGELU(nn.Module):
    r"""``GELU(Re z) + i GELU(Im z)``; see [`phasor.functional.split_gelu`][phasor.functional.activation.split_gelu].

    Args:
        approximate: ``"none"`` or ``"tanh"``, as in `torch.nn.GELU`.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f'approximate must be "none" or "tanh", got {approximate!r}')
        self.approximate = approximate

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_gelu(z, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SplitSiLU(nn.Module):
    r"""``SiLU(Re z) + i SiLU(Im z)``; see [`phasor.functional.split_silu`][phasor.functional.activation.split_silu].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_silu(z)


class SplitMish(nn.Module):
    r"""``Mish(Re z) + i Mish(Im z)``; see [`phasor.functional.split_mish`][phasor.functional.activation.split_mish].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_mish(z)


class SplitLeakyReLU(nn.Module):
    r"""``LeakyReLU(Re z) + i LeakyReLU(Im z)``; see [`phasor.functional.split_leaky_relu`][phasor.functional.activation.split_leaky_relu].

    Args:
        negative_slope: the fixed slope for negative parts (`CPReLU` learns it).

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_leaky_relu(z, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class SplitHardtanh(nn.Module):
    r"""Both parts clipped to ``[min_val, max_val]``; see [`phasor.functional.split_hardtanh`][phasor.functional.activation.split_hardtanh].

    Args:
        min_val: lower clip.
        max_val: upper clip, above ``min_val``.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__()
        if not min_val < max_val:
            raise ValueError(f"min_val must be below max_val, got {min_val} and {max_val}")
        self.min_val = float(min_val)
        self.max_val = float(max_val)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_hardtanh(z, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class SplitHardsigmoid(nn.Module):
    r"""``h(Re z) + i h(Im z)``, ``h(x) = clip(x/6 + 1/2, 0, 1)``; see
    [`phasor.functional.split_hardsigmoid`][phasor.functional.activation.split_hardsigmoid].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_hardsigmoid(z)


class SplitHardswish(nn.Module):
    r"""``h(Re z) + i h(Im z)``, ``h(x) = x clip(x + 3, 0, 6) / 6``; see
    [`phasor.functional.split_hardswish`][phasor.functional.activation.split_hardswish].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_hardswish(z)


class SplitSoftplus(nn.Module):
    r"""``softplus(Re z) + i softplus(Im z)``; see [`phasor.functional.split_softplus`][phasor.functional.activation.split_softplus].

    Args:
        beta: sharpness, as in `torch.nn.Softplus`.
        threshold: linear above ``beta x > threshold``.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = float(beta)
        self.threshold = float(threshold)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_softplus(z, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class SplitSoftsign(nn.Module):
    r"""``softsign(Re z) + i softsign(Im z)``; see [`phasor.functional.split_softsign`][phasor.functional.activation.split_softsign].

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.split_softsign(z)


class _LearnablePhase(KeepsRealState):
    """An activation with a learnable real phase per channel (``phase``, ``(num_features,)``)."""

    _real_state = ("phase",)

    def __init__(
        self,
        num_features: int = 1,
        phase_init: float = 0.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.phase = _channel_parameter(num_features, "num_features", device, dtype)
        self.num_features = num_features
        self.phase_init = float(phase_init)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.constant_(self.phase, self.phase_init)

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}, phase_init={self.phase_init}"


class ShiftedCardioid(_LearnablePhase):
    r"""Cardioid passing the direction ``arg z = phi`` with a learnable ``phi`` per channel;
    see [`phasor.functional.shifted_cardioid`][phasor.functional.activation.shifted_cardioid].

    Args:
        num_features: number of offsets: 1 (shared by all elements) or ``C``, one per channel
            (dim 1 of an ``(N, C, *)`` input).
        phase_init: constant initial offset in radians; ``0.0`` starts as `Cardioid`.
        device: device of the offsets.
        dtype: dtype of the inputs (complex64 gives float32 offsets, complex128 float64); a
            real floating dtype sets it directly. Defaults to ``torch.get_default_dtype()``.

    Attributes:
        phase: real tensor of shape ``(num_features,)``.

    Shape:
        - Input: ``(*)`` if ``num_features == 1``, else ``(N, num_features, *)``; complex.
        - Output: same shape and dtype as the input.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.shifted_cardioid(z, self.phase)


class RotatedCReLU(_LearnablePhase):
    r"""``exp(-i phi) CReLU(exp(i phi) z)`` with a learnable ``phi`` per channel; see
    [`phasor.functional.rotated_crelu`][phasor.functional.activation.rotated_crelu].

    Args:
        num_features: number of rotations: 1 (shared by all elements) or ``C``, one per
            channel (dim 1 of an ``(N, C, *)`` input).
        phase_init: constant initial rotation in radians; ``0.0`` starts as `CReLU`.
        device: device of the rotations.
        dtype: dtype of the inputs (complex64 gives float32 rotations, complex128 float64); a
            real floating dtype sets it directly. Defaults to ``torch.get_default_dtype()``.

    Attributes:
        phase: real tensor of shape ``(num_features,)``.

    Shape:
        - Input: ``(*)`` if ``num_features == 1``, else ``(N, num_features, *)``; complex.
        - Output: same shape and dtype as the input.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.rotated_crelu(z, self.phase)


class ZLeakyReLU(KeepsRealState):
    r"""``z`` in the first quadrant, ``a z`` elsewhere, with learnable slopes ``a``; see
    [`phasor.functional.z_leaky_relu`][phasor.functional.activation.z_leaky_relu].

    Args:
        num_parameters: number of slopes: 1 (shared by all elements) or ``C``, one per
            channel (dim 1 of an ``(N, C, *)`` input), as in ``torch.nn.PReLU``.
        init: initial slope (``0.2`` as torchcvnn's zLeakyReLU; ``0`` starts as `ZReLU`).
        device: device of the slopes.
        dtype: dtype of the inputs (complex64 gives float32 slopes, complex128 float64); a real
            floating dtype sets it directly. Defaults to ``torch.get_default_dtype()``.

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
        init: float = 0.2,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.weight = _channel_parameter(num_parameters, "num_parameters", device, dtype)
        self.num_parameters = num_parameters
        self.init = float(init)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.constant_(self.weight, self.init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return CF.z_leaky_relu(z, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}, init={self.init}"
