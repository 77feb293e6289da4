"""Complex dropout layers over `phasor.functional.dropout`."""

from __future__ import annotations

import torch
from torch import nn

from phasor.functional.dropout import _check_p, dropout, dropout2d

__all__ = ["Dropout", "Dropout2d"]


class _DropoutNd(nn.Module):
    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        _check_p(p)
        self.p = p

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout(_DropoutNd):
    r"""Complex dropout: zero each element (both parts together) with probability ``p``.

    Kept elements are scaled by $1/(1-p)$; identity in eval mode.
    See `phasor.functional.dropout`.

    Shape:
        - Input: any shape, complex.
        - Output: same shape and dtype.
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return dropout(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    r"""Complex channel dropout: zero whole channels with probability ``p``.

    Kept channels are scaled by $1/(1-p)$; identity in eval mode.
    See [`phasor.functional.dropout2d`][phasor.functional.dropout.dropout2d].

    Shape:
        - Input: $(N, C, H, W)$ or $(C, H, W)$, complex.
        - Output: same shape and dtype.
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return dropout2d(input, self.p, self.training)
