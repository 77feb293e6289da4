"""Dense graph convolution layer, a thin module over `phasor.functional.graph`."""

from __future__ import annotations

import torch
from torch import nn

from phasor._validation import COMPLEX_DTYPES, REAL_DTYPES
from phasor.functional.graph import dense_graph_conv
from phasor.nn._real_state import KeepsRealState
from phasor.nn.init import SCHEMES

__all__ = ["DenseGraphConv"]


class DenseGraphConv(KeepsRealState):
    r"""Graph convolution $Y = \hat A X W^T + b$, $\hat A = D^{-1/2}(A+I)D^{-1/2}$
    (see [`phasor.functional.graph.dense_graph_conv`][phasor.functional.graph.dense_graph_conv]).

    Args:
        in_features: node feature sizes.
        out_features: node feature sizes.
        bias: learn an additive bias (starts at zero).
        normalize: normalise the adjacency with self-loops (``False``: use it as given).
        device: device of the parameters.
        dtype: ``torch.complex64`` (default), ``torch.complex128``, or ``torch.float32`` /
            ``torch.float64`` for a real layer. Complex weights use
            [`complex_glorot_`][phasor.nn.init.complex_glorot_], real ones Xavier uniform.

    Shape:
        - Input: ``(x, adj)`` with ``x`` $(B, N, F_{in})$ or $(N, F_{in})$ of the
          layer's dtype and ``adj`` $(B, N, N)$ or $(N, N)$ (real, or complex
          for a complex layer).
        - Output: $(B, N, F_{out})$ or $(N, F_{out})$.

    Example:

        >>> layer = DenseGraphConv(4, 8)
        >>> x = torch.randn(2, 5, 4, dtype=torch.complex64)
        >>> layer(x, torch.ones(2, 5, 5)).shape
        torch.Size([2, 5, 8])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        normalize: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        dtype = torch.complex64 if dtype is None else dtype
        if dtype not in COMPLEX_DTYPES + REAL_DTYPES:
            raise TypeError(f"dtype must be a complex or real floating dtype, got {dtype}")
        super().__init__()
        self.in_features, self.out_features, self.normalize = in_features, out_features, normalize
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(out_features, in_features, **factory))
        self.bias = nn.Parameter(torch.empty(out_features, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot weights (complex or real) and a zero bias."""
        if self.weight.is_complex():
            SCHEMES["glorot"](self.weight)
        else:
            nn.init.xavier_uniform_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, input: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return dense_graph_conv(input, adj, self.weight, self.bias, self.normalize)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, normalize={self.normalize}"
        )
