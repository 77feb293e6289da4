"""Complex activation functions.

Every function takes a complex64 or complex128 tensor, returns a tensor of the same dtype
(``modulus`` returns the matching real dtype) and raises ``TypeError`` for real input.

Functions that divide by ``|z|`` define the phase ``z / |z|`` as ``0`` at ``z = 0`` (the
convention of :func:`torch.sgn`) and evaluate it with a safe denominator, so forward and
backward stay finite at ``z = 0`` and at tiny ``|z|`` such as ``1e-30``. Where a function is
differentiable at ``z = 0`` the gradient there is the true derivative; where it is not, the
value at ``z = 0`` and the gradient used there are stated in the docstring.

NaN and Inf propagate as in ``torch.nn``.
"""

from __future__ import annotations

import torch

from phasor._validation import check_complex

__all__ = [
    "amp_phase_tanh",
    "cardioid",
    "cprelu",
    "crelu",
    "modrelu",
    "modulus",
    "split_sigmoid",
    "split_tanh",
    "zrelu",
]


def _safe_modulus(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return ``(|z|, |z| > 0, denominator)``; the denominator is ``|z|``, or 1 where ``z = 0``.

    Dividing by the denominator inside ``torch.where(nonzero, ..., ...)`` keeps both the
    forward values and the backward pass free of ``0 / 0``.
    """
    mod = torch.abs(z)
    nonzero = mod > 0
    return mod, nonzero, torch.where(nonzero, mod, torch.ones_like(mod))


def _per_channel(param: torch.Tensor, z: torch.Tensor, name: str) -> torch.Tensor:
    """Shape a real 1-D per-channel parameter to broadcast over dim 1 of ``z``.

    Follows ``torch.nn.PReLU``: one entry is shared by every element; ``C`` entries need an
    input of shape ``(N, C, *)``.
    """
    if not isinstance(param, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(param).__name__}")
    real_dtype = z.dtype.to_real()
    if param.dtype != real_dtype:
        raise TypeError(
            f"{name} must be a real tensor of dtype {real_dtype} to match input of dtype "
            f"{z.dtype}, got {param.dtype}"
        )
    if param.dim() != 1 or param.numel() == 0:
        raise ValueError(f"{name} must be a non-empty 1-D tensor, got shape {tuple(param.shape)}")
    count = param.numel()
    if count == 1:
        return param.reshape(())
    if z.dim() < 2 or z.shape[1] != count:
        raise ValueError(
            f"{name} has {count} entries, one per channel, so input must have shape "
            f"(N, {count}, *), got shape {tuple(z.shape)}"
        )
    return param.reshape((count,) + (1,) * (z.dim() - 2))


def crelu(z: torch.Tensor) -> torch.Tensor:
    r"""CReLU: ReLU applied to the real and imaginary parts separately.

    .. math:: \mathrm{CReLU}(z) = \mathrm{relu}(\Re z) + i\,\mathrm{relu}(\Im z)

    At ``z = 0`` the value is ``0``; on the kinks (``Re z = 0`` or ``Im z = 0``) the gradient
    uses ``relu'(0) = 0`` as :func:`torch.relu` does.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    # One relu over the interleaved (re, im) pairs: a single kernel and no re-assembly copy.
    return torch.view_as_complex(torch.relu(torch.view_as_real(z.resolve_conj())))


def zrelu(z: torch.Tensor) -> torch.Tensor:
    r"""zReLU (Guberman 2016): pass ``z`` where its phase lies in the first quadrant.

    .. math::
        \mathrm{zReLU}(z) = \begin{cases} z & \arg z \in [0, \pi/2]
        \text{ (i.e. } \Re z \ge 0 \text{ and } \Im z \ge 0) \\ 0 & \text{otherwise} \end{cases}

    Both axes bounding the first quadrant are included, so ``zrelu(0) = 0`` with gradient 1
    (the identity) at ``z = 0`` and on the boundary. An input with a NaN part has no phase
    and passes unchanged, so NaN propagates.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    keep = ((z.real >= 0) & (z.imag >= 0)) | torch.isnan(z)
    return torch.where(keep, z, torch.zeros_like(z))


def modrelu(z: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    r"""modReLU (Arjovsky et al. 2016): shrink the modulus by a learnable real bias, keep the phase.

    .. math:: \mathrm{modReLU}(z) = \mathrm{relu}(|z| + b)\,\frac{z}{|z|}

    Inputs with ``|z| <= -b`` map to 0; for ``b = 0`` the function is the identity.
    At ``z = 0`` the value is ``0`` for every ``b`` (the phase ``z / |z|`` is taken as 0 there;
    for ``b > 0`` the function has no limit at 0). The gradient at ``z = 0`` is the identity
    for ``b = 0`` and zero otherwise, which is the true derivative for ``b <= 0``.

    Args:
        z: complex input.
        bias: real tensor of shape ``(1,)`` (shared by all elements) or ``(C,)`` (one per
            channel, dim 1 of an ``(N, C, *)`` input), of the real dtype matching ``z``
            (float32 for complex64, float64 for complex128).

    Shape:
        - Input: ``(*)`` with a shared bias, ``(N, C, *)`` with a per-channel bias.
        - Output: same shape and dtype as the input.
    """
    check_complex(z)
    b = _per_channel(bias, z, "bias")
    mod, nonzero, denom = _safe_modulus(z)
    scaled = torch.relu(mod + b) * (z / denom)
    at_zero = z * (b == 0).to(mod.dtype)
    return torch.where(nonzero, scaled, at_zero)


def cardioid(z: torch.Tensor) -> torch.Tensor:
    r"""Cardioid (Virtue et al. 2017): scale ``z`` by a phase-dependent gain in ``[0, 1]``.

    .. math:: \mathrm{cardioid}(z) = \tfrac12\,\bigl(1 + \cos(\arg z)\bigr)\,z,
        \qquad \cos(\arg z) = \Re z / |z|

    On the real axis it equals ``relu``. At ``z = 0`` the value is ``0``; the function is
    continuous there but not differentiable (it is positively homogeneous and not linear),
    and the gradient used at ``z = 0`` takes ``arg 0 = 0`` as :func:`torch.angle` does,
    giving the identity.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    _, nonzero, denom = _safe_modulus(z)
    cos_arg = torch.where(nonzero, z.real / denom, torch.ones_like(denom))
    return 0.5 * (1 + cos_arg) * z


def split_sigmoid(z: torch.Tensor) -> torch.Tensor:
    r"""Split sigmoid: the logistic sigmoid of the real and imaginary parts separately.

    .. math:: \sigma(\Re z) + i\,\sigma(\Im z), \qquad \sigma(x) = 1 / (1 + e^{-x})

    Smooth everywhere; at ``z = 0`` the value is ``0.5 + 0.5i``.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    return torch.complex(torch.sigmoid(z.real), torch.sigmoid(z.imag))


def split_tanh(z: torch.Tensor) -> torch.Tensor:
    r"""Split tanh: the hyperbolic tangent of the real and imaginary parts separately.

    .. math:: \tanh(\Re z) + i\,\tanh(\Im z)

    Smooth everywhere; at ``z = 0`` the value is ``0``.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    return torch.complex(torch.tanh(z.real), torch.tanh(z.imag))


def amp_phase_tanh(z: torch.Tensor) -> torch.Tensor:
    r"""Amplitude-phase tanh (Georgiou & Koutsougeras 1992): squash the modulus, keep the phase.

    .. math:: \tanh(|z|)\,\frac{z}{|z|}

    The output modulus lies in ``[0, 1)``. Since ``tanh(r) / r`` is smooth and even in
    ``r``, the function is smooth at ``z = 0``: its value there is ``0`` and its derivative
    is the identity, which is what the backward pass returns.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    mod, nonzero, denom = _safe_modulus(z)
    return torch.where(nonzero, torch.tanh(mod) * (z / denom), z)


def cprelu(z: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    r"""Complex PReLU: PReLU applied to the real and imaginary parts separately.

    .. math:: \mathrm{PReLU}_a(\Re z) + i\,\mathrm{PReLU}_a(\Im z),
        \qquad \mathrm{PReLU}_a(x) = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases}

    The slope ``a`` is shared by the real and imaginary parts (one slope per channel, or one
    for all). At ``z = 0`` the value is ``0``; on the kinks the gradient uses the slope ``a``,
    as :func:`torch.nn.functional.prelu` does.

    Args:
        z: complex input.
        weight: real slopes of shape ``(1,)`` or ``(C,)`` (channel dim 1 of ``(N, C, *)``), of
            the real dtype matching ``z``.

    Shape:
        - Input: ``(*)`` with a shared slope, ``(N, C, *)`` with per-channel slopes.
        - Output: same shape and dtype as the input.
    """
    check_complex(z)
    a = _per_channel(weight, z, "weight")
    re, im = z.real, z.imag
    return torch.complex(torch.where(re > 0, re, a * re), torch.where(im > 0, im, a * im))


def modulus(z: torch.Tensor) -> torch.Tensor:
    r"""Modulus ``|z|`` as a real tensor, e.g. to feed a real-valued head.

    .. math:: |z| = \sqrt{(\Re z)^2 + (\Im z)^2}

    At ``z = 0`` the value is ``0`` and the gradient is ``0`` (``torch.sgn(0) = 0``).

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real (float32 for complex64, float64 for complex128).
    """
    check_complex(z)
    return torch.abs(z)
