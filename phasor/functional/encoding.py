"""Encoders from real tensors to complex tensors, the first step of a complex model.

Each encoder takes a float32 or float64 tensor and returns complex64 or complex128
respectively; complex or integer input raises ``TypeError``. All are differentiable.
"""

from __future__ import annotations

import math

import torch

from phasor._validation import REAL_DTYPES

__all__ = ["analytic_signal", "phase_encode", "to_complex"]


def _check_real(x: torch.Tensor, name: str = "input") -> None:
    """Raise ``TypeError`` unless ``x`` is a float32 or float64 tensor."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.is_complex():
        raise TypeError(
            f"{name} is already complex ({x.dtype}); encoders map real tensors to complex ones, "
            "so pass the complex tensor to the model directly"
        )
    if x.dtype not in REAL_DTYPES:
        raise TypeError(
            f"{name} must be float32 or float64, got {x.dtype}; convert it first, "
            "e.g. with x.float()"
        )


def to_complex(x: torch.Tensor) -> torch.Tensor:
    r"""Embed a real tensor in the complex plane with zero imaginary part.

    $$
    z = x + 0i
    $$

    float32 becomes complex64 and float64 becomes complex128.

    Shape:
        - Input: ``(*)``, real.
        - Output: ``(*)``, complex.
    """
    _check_real(x)
    return torch.complex(x, torch.zeros_like(x))


def phase_encode(x: torch.Tensor) -> torch.Tensor:
    r"""Phase encoding of seed 000: keep ``x`` as the modulus and add a phase proportional to it.

    $$
    z = x\,e^{i\pi x} = x\cos(\pi x) + i\,x\sin(\pi x)
    $$

    Meant for data scaled to ``[0, 1]`` (e.g. pixel intensities), which maps to phases in
    ``[0, \pi]``; other values are encoded by the same formula, unchecked.

    Shape:
        - Input: ``(*)``, real.
        - Output: ``(*)``, complex.
    """
    _check_real(x)
    angle = math.pi * x
    return torch.complex(x * torch.cos(angle), x * torch.sin(angle))


def analytic_signal(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    r"""Analytic signal ``x + i H[x]`` (``H`` the Hilbert transform) along ``dim``, via the FFT.

    $$
    z = \mathrm{IFFT}\bigl(\mathrm{FFT}(x)\,h\bigr), \quad
    h_k = \begin{cases} 1 & k = 0 \text{ or } k = n/2 \\ 2 & 0 < k < n/2 \\
    0 & \text{otherwise} \end{cases}
    $$

    for a signal of length ``n`` along ``dim``: negative frequencies are removed and positive
    ones doubled, so ``Re z = x``. Matches `scipy.signal.hilbert`.

    Shape:
        - Input: ``(*)`` with at least one dimension, real; non-empty along ``dim``.
        - Output: ``(*)``, complex.
    """
    _check_real(x)
    if x.dim() == 0:
        raise ValueError("input must have at least one dimension, got a 0-D tensor")
    n = x.shape[dim]
    if n == 0:
        raise ValueError(f"input must be non-empty along dim {dim}, got shape {tuple(x.shape)}")
    h = torch.zeros(n, dtype=x.dtype, device=x.device)
    h[0] = 1
    h[1 : (n + 1) // 2] = 2
    if n % 2 == 0:
        h[n // 2] = 1
    dim = dim % x.dim()
    h = h.reshape((n,) + (1,) * (x.dim() - dim - 1))
    return torch.fft.ifft(torch.fft.fft(x, dim=dim) * h, dim=dim)
