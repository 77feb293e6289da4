r"""Initialisation of complex weights (Trabelsi et al., "Deep Complex Networks", ICLR 2018).

A complex weight is drawn in polar form $W = |W| e^{i\theta}$ (seed 003, section 6):

- phase $\theta \sim U[-\pi, \pi)$,
- magnitude $|W| \sim \text{Rayleigh}(\sigma)$, the modulus of $X + iY$ with
  $X, Y \sim N(0, \sigma^2)$ independent.

Then $E[W] = 0$ and

$$
\operatorname{Var}(W) = E|W|^2 = \operatorname{Var}(|W|) + E[|W|]^2
= \tfrac{4 - \pi}{2}\sigma^2 + \tfrac{\pi}{2}\sigma^2 = 2\sigma^2 .
$$

The schemes differ in $\sigma$ (Trabelsi et al., section 3.6):

- `complex_glorot_`: $\sigma = \text{gain} / \sqrt{\text{fan\_in} + \text{fan\_out}}$,
  so $\operatorname{Var}(W) = 2\,\text{gain}^2 / (\text{fan\_in} + \text{fan\_out})$;
- `complex_he_`: $\sigma = \text{gain} / \sqrt{\text{fan\_in}}$,
  so $\operatorname{Var}(W) = 2\,\text{gain}^2 / \text{fan\_in}$.

Fans follow PyTorch's convention (`fan_in_and_fan_out`). `unitary_` draws a
Haar-random unitary (or semi-unitary) matrix instead.

All functions work in place under ``torch.no_grad()`` on complex tensors of any complex dtype
and device, return the tensor, and raise ``TypeError`` on real tensors.
"""

from __future__ import annotations

import math

import torch

__all__ = ["SCHEMES", "complex_glorot_", "complex_he_", "fan_in_and_fan_out", "unitary_"]


def _check_complex(tensor: torch.Tensor, fn: str) -> None:
    if not isinstance(tensor, torch.Tensor) or not tensor.is_complex():
        got = tensor.dtype if isinstance(tensor, torch.Tensor) else type(tensor).__name__
        raise TypeError(
            f"{fn} needs a complex tensor (complex64 or complex128), got {got}; "
            "for real tensors use torch.nn.init"
        )


def fan_in_and_fan_out(tensor: torch.Tensor) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a weight laid out ``(dim0, dim1, *kernel)``.

    ``fan_in = dim1 * prod(kernel)`` and ``fan_out = dim0 * prod(kernel)``, the convention of
    `torch.nn.init`: for a linear or convolution weight ``(out, in / groups, *kernel)``
    this is the number of inputs and outputs each weight connects; for a transposed
    convolution (weight ``(in, out / groups, *kernel)``) the two are swapped, as in PyTorch.

    Raises:
        ValueError: if ``tensor`` has fewer than 2 dimensions.
    """
    if tensor.dim() < 2:
        raise ValueError(
            "fan in and fan out need a weight with at least 2 dimensions "
            f"(out, in, *kernel), got shape {tuple(tensor.shape)}"
        )
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _rayleigh_(
    tensor: torch.Tensor, sigma: float, generator: torch.Generator | None
) -> torch.Tensor:
    with torch.no_grad():
        real = tensor.real.dtype
        kw = {"dtype": real, "device": tensor.device, "generator": generator}
        # Inverse CDF of Rayleigh(sigma): r = sigma * sqrt(-2 log(1 - u)), u ~ U[0, 1).
        magnitude = sigma * torch.sqrt(-2.0 * torch.log1p(-torch.rand(tensor.shape, **kw)))
        phase = (2.0 * torch.rand(tensor.shape, **kw) - 1.0) * math.pi
        tensor.copy_(torch.polar(magnitude, phase))
    return tensor


def complex_glorot_(
    tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""Fill ``tensor`` with complex Glorot (Xavier) weights, in place.

    Rayleigh magnitude with $\sigma = \text{gain} / \sqrt{\text{fan\_in} + \text{fan\_out}}$
    and uniform phase, so $\operatorname{Var}(W) = 2\,\text{gain}^2 /
    (\text{fan\_in} + \text{fan\_out})$, the complex Glorot criterion of Trabelsi et al. (2018).

    Args:
        tensor: complex tensor with at least 2 dimensions.
        gain: scale factor on $\sigma$.
        generator: optional `torch.Generator` for reproducible draws.
    """
    _check_complex(tensor, "complex_glorot_")
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return _rayleigh_(tensor, gain / math.sqrt(fan_in + fan_out), generator)


def complex_he_(
    tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""Fill ``tensor`` with complex He (Kaiming) weights, in place.

    Rayleigh magnitude with $\sigma = \text{gain} / \sqrt{\text{fan\_in}}$ and uniform
    phase, so $\operatorname{Var}(W) = 2\,\text{gain}^2 / \text{fan\_in}$, the complex He
    criterion of Trabelsi et al. (2018).

    Args:
        tensor: complex tensor with at least 2 dimensions.
        gain: scale factor on $\sigma$.
        generator: optional `torch.Generator` for reproducible draws.
    """
    _check_complex(tensor, "complex_he_")
    fan_in, _ = fan_in_and_fan_out(tensor)
    return _rayleigh_(tensor, gain / math.sqrt(fan_in), generator)


def unitary_(
    tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""Fill ``tensor`` with a Haar-random (semi-)unitary matrix times ``gain``, in place.

    The tensor is viewed as a matrix $M$ of shape ``(dim0, prod(other dims))`` (one row
    per output of a linear or convolution weight). A complex Gaussian matrix is factored
    $Z = QR$ and the phases of $R$'s diagonal are moved into $Q$
    ($Q \leftarrow Q\,\operatorname{diag}(R_{kk} / |R_{kk}|)$, Mezzadri 2007), which
    makes $Q$ Haar-distributed. Afterwards $M M^H = \text{gain}^2 I$ when
    ``dim0 <= prod(other dims)``, otherwise $M^H M = \text{gain}^2 I$.

    Args:
        tensor: complex tensor with at least 2 dimensions.
        gain: scale factor.
        generator: optional `torch.Generator` for reproducible draws.
    """
    _check_complex(tensor, "unitary_")
    if tensor.dim() < 2:
        raise ValueError(
            f"unitary_ needs a tensor with at least 2 dimensions, got shape {tuple(tensor.shape)}"
        )
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    with torch.no_grad():
        z = torch.randn(
            max(rows, cols),
            min(rows, cols),
            dtype=tensor.dtype,
            device=tensor.device,
            generator=generator,
        )
        q, r = torch.linalg.qr(z)
        q = q * torch.sgn(torch.diagonal(r)).unsqueeze(0)
        if rows < cols:
            q = q.mT
        tensor.copy_((gain * q).reshape(tensor.shape))
    return tensor


SCHEMES = {"glorot": complex_glorot_, "he": complex_he_, "unitary": unitary_}
"""Initialisation schemes by name, as accepted by the ``init=`` argument of the layers."""
