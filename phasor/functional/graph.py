r"""Dense graph convolution (Kipf & Welling's GCN rule) for real or complex node features.

For a batch of graphs given by dense adjacency matrices $A$ (real, or complex
Hermitian for phase-carrying edges):

    A_hat = D^{-1/2} (A + I) D^{-1/2},    D_ii = sum_j |A + I|_ij
    out   = A_hat X W^T + b

The degree uses the modulus of the edge weights, so a complex adjacency keeps its phases
(``A_hat`` is Hermitian whenever ``A`` is) and $\|\hat A\|_2 \le 1$.
"""

from __future__ import annotations

import torch

from phasor._validation import check_same_dtype

__all__ = ["dense_graph_conv", "normalize_adjacency"]


def _check_adjacency(adj: torch.Tensor) -> None:
    if not isinstance(adj, torch.Tensor):
        raise TypeError(f"adjacency must be a torch.Tensor, got {type(adj).__name__}")
    if adj.dim() not in (2, 3) or adj.shape[-1] != adj.shape[-2]:
        raise ValueError(f"adjacency must be (N, N) or (B, N, N), got shape {tuple(adj.shape)}")


def normalize_adjacency(adj: torch.Tensor, add_self_loops: bool = True) -> torch.Tensor:
    r"""Symmetrically normalised adjacency $D^{-1/2}(A + I)D^{-1/2}$,
    $D_{ii} = \sum_j |A + I|_{ij}$ (without ``I`` when ``add_self_loops=False``).

    Nodes of degree 0 get a zero row and column.

    Shape:
        - Input: $(N, N)$ or $(B, N, N)$, real or complex.
        - Output: same shape and dtype.
    """
    _check_adjacency(adj)
    if add_self_loops:
        eye = torch.eye(adj.shape[-1], dtype=adj.dtype, device=adj.device)
        adj = adj + eye
    degree = adj.abs().sum(dim=-1)
    inv_sqrt = torch.where(degree > 0, degree.clamp_min(1e-30).rsqrt(), torch.zeros_like(degree))
    return inv_sqrt.unsqueeze(-1) * adj * inv_sqrt.unsqueeze(-2)


def dense_graph_conv(
    input: torch.Tensor,
    adj: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    normalize: bool = True,
) -> torch.Tensor:
    r"""Graph convolution $\hat A X W^T + b$ over dense adjacency matrices.

    Args:
        input: node features $X$, real or complex.
        adj: adjacency $A$ (real or complex); with ``normalize=True`` it is replaced by
            `normalize_adjacency` ``(A)``, otherwise used as given.
        weight: $(F_{out}, F_{in})$, same dtype as ``input``.
        bias: $(F_{out},)$ or ``None``.

    A complex adjacency needs complex features (the product would otherwise drop phases).

    Shape:
        - Input: $(B, N, F_{in})$ or $(N, F_{in})$.
        - Adjacency: $(B, N, N)$ or $(N, N)$ (shared by the batch).
        - Output: $(B, N, F_{out})$ or $(N, F_{out})$, dtype of ``input``.
    """
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"input must be a torch.Tensor, got {type(input).__name__}")
    if input.dim() not in (2, 3):
        raise ValueError(f"input must be (N, F) or (B, N, F), got shape {tuple(input.shape)}")
    _check_adjacency(adj)
    check_same_dtype(input, weight)
    if input.shape[-2] != adj.shape[-1]:
        raise ValueError(
            f"input has {input.shape[-2]} nodes but the adjacency is {tuple(adj.shape)}"
        )
    if input.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"input has {input.shape[-1]} features but weight is {tuple(weight.shape)}"
        )
    if adj.is_complex() and not input.is_complex():
        raise TypeError(
            "a complex adjacency needs complex node features; convert them first, e.g. "
            "with phasor.functional.to_complex(x)"
        )
    if normalize:
        adj = normalize_adjacency(adj)
    out = torch.matmul(adj.to(input.dtype), input @ weight.T)
    return out if bias is None else out + bias
