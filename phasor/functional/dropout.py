"""Complex dropout: one mask for both parts, so a dropped value is zero as a complex number.

The kept values are scaled by ``1 / (1 - p)`` (once), which keeps the expected value:
``E[dropout(z)] = z``. Drawing separate masks for ``Re z`` and ``Im z`` would instead keep
half-numbers (a real or an imaginary part alone) and change the phase.
"""

from __future__ import annotations

import torch

from phasor._validation import check_complex, check_ndim

__all__ = ["dropout", "dropout2d"]


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _apply_mask(input: torch.Tensor, mask_shape: tuple[int, ...], p: float) -> torch.Tensor:
    # A real mask multiplies the real and imaginary parts alike.
    mask = torch.empty(mask_shape, dtype=input.real.dtype, device=input.device)
    mask.bernoulli_(1.0 - p)
    if p < 1.0:
        mask = mask / (1.0 - p)
    return input * mask


def dropout(input: torch.Tensor, p: float = 0.5, training: bool = True) -> torch.Tensor:
    r"""Zero each complex element with probability ``p`` and scale the rest by ``1/(1-p)``.

    $$
    \text{out} = \frac{m \odot z}{1 - p}, \qquad m_k \sim \text{Bernoulli}(1 - p)
    $$

    The same $m_k$ multiplies $\Re z_k$ and $\Im z_k$. Identity when
    ``training`` is false or ``p == 0``; all zeros when ``p == 1``.

    Shape:
        - Input: any shape, complex.
        - Output: same shape and dtype.
    """
    check_complex(input)
    _check_p(p)
    if not training or p == 0.0:
        return input
    return _apply_mask(input, tuple(input.shape), p)


def dropout2d(input: torch.Tensor, p: float = 0.5, training: bool = True) -> torch.Tensor:
    r"""Zero whole channels with probability ``p`` and scale the rest by ``1/(1-p)``.

    $$
    \text{out}(N_i, C_j) = \frac{m_{ij}\, z(N_i, C_j)}{1 - p}, \qquad
    m_{ij} \sim \text{Bernoulli}(1 - p)
    $$

    One mask entry per (sample, channel), shared by the real and imaginary parts and by all
    positions of the channel. A 3-D input is read as one unbatched sample ``(C, H, W)``.
    Identity when ``training`` is false or ``p == 0``.

    Shape:
        - Input: $(N, C, H, W)$ or $(C, H, W)$, complex.
        - Output: same shape and dtype.
    """
    check_complex(input)
    check_ndim(input, (3, 4), shape="(N, C, H, W) or unbatched (C, H, W)")
    _check_p(p)
    if not training or p == 0.0:
        return input
    return _apply_mask(input, (*input.shape[:-2], 1, 1), p)
