"""Lowering of [`phasor.nn.graph`][phasor.nn.graph]."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from phasor import nn as pnn
from phasor.functional.graph import normalize_adjacency
from phasor.lowering._core import Context, adopt, modulus, pair, register


def _normalized_pair(adj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The parts of $D^{-1/2}(A + I)D^{-1/2}$, $D_{ii} = \\sum_j |A + I|_{ij}$, for the pair
    $(B, 2, N, N)$ of a complex adjacency $A$ (as `normalize_adjacency`)."""
    eye = torch.eye(adj.shape[-1], dtype=adj.dtype, device=adj.device)
    re, im = adj[:, 0] + eye, adj[:, 1]
    degree = modulus(pair(re, im)).sum(dim=-1)
    inv_sqrt = torch.where(degree > 0, degree.clamp_min(1e-30).rsqrt(), torch.zeros_like(degree))
    rows, cols = inv_sqrt.unsqueeze(-1), inv_sqrt.unsqueeze(-2)
    return rows * re * cols, rows * im * cols


class PairDenseGraphConv(nn.Module):
    """Lowered complex [`phasor.nn.DenseGraphConv`][phasor.nn.graph.DenseGraphConv]:
    $Y = \\hat A X W^T + b$ on the pair $X$, $(B, 2, N, F_{in})$ or $(N, 2, F_{in})$, to the
    pair $(B, 2, N, F_{out})$ or $(N, 2, F_{out})$.

    $X W^T$ takes Gauss's three real products. The adjacency is real, $(B, N, N)$ or
    $(N, N)$, and multiplies both parts; or complex, as the batched pair $(B, 2, N, N)$. (The
    pair of an unbatched complex $(N, N)$ adjacency, $(N, 2, N)$, cannot be told from a real
    batch of two-node graphs, so it is not taken.) ``weight`` is $(2, F_{out}, F_{in})$,
    ``bias`` $(2, F_{out})$.
    """

    def __init__(self, layer: pnn.DenseGraphConv) -> None:
        super().__init__()
        adopt(self, layer)
        if layer.bias is None:  # a plain attribute in phasor's layer, not a parameter entry
            self.bias = None
        self.normalize = layer.normalize

    def forward(self, input: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        a, b = self.weight[0], self.weight[1]
        re, im = input[:, 0], input[:, 1]
        t1, t2 = F.linear(re, a), F.linear(im, b)
        t3 = F.linear(re + im, a + b)
        y_re, y_im = t1 - t2, t3 - t1 - t2
        if adj.dim() == 4 and adj.shape[1] == 2:  # a complex adjacency
            if self.normalize:
                adj_re, adj_im = _normalized_pair(adj)
            else:
                adj_re, adj_im = adj[:, 0], adj[:, 1]
            out_re = adj_re @ y_re - adj_im @ y_im
            out_im = adj_re @ y_im + adj_im @ y_re
        else:
            if adj.dim() not in (2, 3) or adj.shape[-1] != adj.shape[-2]:
                raise ValueError(
                    "adjacency must be real (N, N) or (B, N, N), or the pair (B, 2, N, N) of a "
                    f"complex one, got shape {tuple(adj.shape)}"
                )
            if self.normalize:
                adj = normalize_adjacency(adj)
            out_re, out_im = adj @ y_re, adj @ y_im
        if self.bias is not None:
            out_re, out_im = out_re + self.bias[0], out_im + self.bias[1]
        return pair(out_re, out_im)


@register(pnn.DenseGraphConv)
def _dense_graph_conv(layer: pnn.DenseGraphConv, ctx: Context) -> tuple[nn.Module, bool]:
    if not layer.weight.is_complex():  # a real layer on real features is already real
        if not ctx.real_input:
            raise TypeError(
                f"lower: {ctx.where(layer)} is a real layer and gets a complex input, which "
                "phasor's layer refuses"
            )
        return copy.deepcopy(layer), True
    ctx.refuse_real_input(layer)
    return PairDenseGraphConv(layer), False
