"""Complex attention: multi-head attention, transformer encoder, position encodings: thin modules over `phasor.functional.attention`."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
from torch import nn

from phasor._validation import check_layer_input, check_ndim
from phasor.functional.activation import crelu
from phasor.functional.attention import (
    _apply_weights,
    _check_score,
    attention_weights,
    rotary_embedding,
)
from phasor.functional.dropout import _apply_mask, _check_p
from phasor.functional.linear import linear
from phasor.nn._real_state import KeepsRealState
from phasor.nn.dropout import Dropout
from phasor.nn.init import complex_glorot_
from phasor.nn.linear import Linear, _factory_kwargs
from phasor.nn.normalization import ComplexLayerNorm

__all__ = [
    "ComplexPositionalEmbedding",
    "MultiheadAttention",
    "RotaryEmbedding",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]


def _mha_mask(
    mask: torch.Tensor | None, name: str, shape: tuple[int, ...], real: torch.dtype
) -> torch.Tensor | None:
    """A mask of torch.nn.MultiheadAttention's convention (bool ``True`` = masked, or real
    added to the scores), of shape ``shape``, as an additive real mask."""
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(mask).__name__}")
    if tuple(mask.shape) != shape:
        raise ValueError(f"{name} must have shape {shape}, got shape {tuple(mask.shape)}")
    if mask.dtype == torch.bool:
        zero = torch.zeros((), dtype=real, device=mask.device)
        return torch.where(mask, -math.inf, zero)
    if mask.dtype != real:
        raise TypeError(
            f"{name} must be bool (True = masked, as in torch.nn.MultiheadAttention) or real "
            f"{real} (added to the scores), got {mask.dtype}; convert it, e.g. mask.to({real})"
        )
    return mask


class MultiheadAttention(KeepsRealState):
    r"""Complex multi-head attention with the call of `torch.nn.MultiheadAttention`.

    $$
    \text{out} = [h_1, \dots, h_H]\, W_O^T + b_O, \qquad
    h_j = A_j\big(q W_{Q,j}^T,\ k W_{K,j}^T\big)\, v W_{V,j}^T
    $$

    (projection biases omitted) with complex projections (`phasor.functional.linear`,
    no conjugation of the weights) and the weights $A_j$ of
    [`phasor.functional.attention_weights`][phasor.functional.attention.attention_weights] with ``scale`` $1/\sqrt{E/H}$ and the
    chosen ``score``. Dropout (probability ``dropout``, training only) drops attention weights.

    Args:
        embed_dim: complex features ``E`` of the query and of the output.
        num_heads: heads ``H``; must divide ``embed_dim``.
        dropout: dropout probability on the attention weights.
        bias: learn the projection biases (zero at start).
        kdim: features of the key (default ``embed_dim``).
        vdim: features of the value (default ``embed_dim``).
        batch_first: inputs ``(N, L, E)`` instead of ``(L, N, E)``.
        score: ``"real"`` (default), ``"magnitude"`` or ``"split"``;
            see `phasor.functional.attention`.
        device: device of the parameters.
        dtype: ``torch.complex64`` (default) or ``torch.complex128``.

    Attributes:
        in_proj_weight: complex ``(3E, E)`` (queries, keys, values stacked) when
            ``kdim == vdim == embed_dim``; else ``q_proj_weight`` ``(E, E)``, ``k_proj_weight``
            ``(E, kdim)``, ``v_proj_weight`` ``(E, vdim)``. Complex Glorot initialisation
            ([`phasor.nn.init.complex_glorot_`][phasor.nn.init.complex_glorot_]), like torch's Xavier.
        in_proj_bias: complex ``(3E,)`` or ``None``.
        out_proj: [`phasor.nn.Linear`][phasor.nn.linear.Linear] ``(E, E)``.

    Masks follow torch.nn.MultiheadAttention: ``key_padding_mask`` ``(N, S)`` and a bool
    ``attn_mask`` are ``True`` where a key is *masked* (the opposite of
    [`phasor.functional.scaled_dot_product_attention`][phasor.functional.attention.scaled_dot_product_attention]); real masks are added to the
    scores. ``is_causal=True`` applies the causal mask (combined with any other masks; torch
    reads it as a hint that ``attn_mask`` is that mask, which gives the same result). A query
    with every key masked gets zero weights.

    Shape:
        - query: ``(L, E)``, ``(L, N, E)`` or with ``batch_first`` ``(N, L, E)``; complex, or
          real of the weights' real dtype.
        - key: ``(S, kdim)``, ``(S, N, kdim)`` or ``(N, S, kdim)``; value likewise with ``vdim``.
        - key_padding_mask: ``(S,)`` unbatched, ``(N, S)``.
        - attn_mask: ``(L, S)`` or ``(N H, L, S)``.
        - Output: ``(L, E)``, ``(L, N, E)`` or ``(N, L, E)``, complex; and, if ``need_weights``,
          the weights ``(N, L, S)`` averaged over the heads (``(N, H, L, S)`` if not
          ``average_attn_weights``; no ``N`` unbatched), real for ``"real"`` and ``"magnitude"``,
          complex for ``"split"``; else ``None``.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        score: str = "real",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        factory = _factory_kwargs(device, dtype)
        if embed_dim < 1 or num_heads < 1 or embed_dim % num_heads:
            raise ValueError(
                f"embed_dim must be a positive multiple of num_heads, got embed_dim={embed_dim}, "
                f"num_heads={num_heads}"
            )
        _check_p(dropout)
        _check_score(score)
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.score = score
        if self._qkv_same_embed_dim:
            self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim, **factory))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = nn.Parameter(torch.empty(embed_dim, embed_dim, **factory))
            self.k_proj_weight = nn.Parameter(torch.empty(embed_dim, self.kdim, **factory))
            self.v_proj_weight = nn.Parameter(torch.empty(embed_dim, self.vdim, **factory))
        if bias:
            self.in_proj_bias = nn.Parameter(torch.empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, **factory)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Complex Glorot projections and zero biases, as torch's Xavier and zeros."""
        if self._qkv_same_embed_dim:
            complex_glorot_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                complex_glorot_(weight)
        self.out_proj.reset_parameters()
        if self.in_proj_bias is not None:
            nn.init.zeros_(self.in_proj_bias)

    def _projections(self, dim: int = 0) -> tuple[tuple[torch.Tensor, torch.Tensor | None], ...]:
        """``(weight, bias)`` of the q, k, v projections; ``dim`` is the axis of the output
        features (1 in the lowered module's (2, *S) layout)."""
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            weights = self.in_proj_weight.split(e, dim=dim)
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        bias = self.in_proj_bias
        biases = (None,) * 3 if bias is None else bias.split(e, dim=dim)
        return tuple(zip(weights, biases, strict=True))

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, L, E)`` to ``(N, H, L, E / H)``."""
        return x.unflatten(-1, (self.num_heads, self.head_dim)).transpose(1, 2)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        need_weights: bool = True,
        attn_mask: torch.Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        check_ndim(query, (2, 3), "query", f"{layout} or unbatched (L, E)")
        for name, t in (("key", key), ("value", value)):
            if t.dim() != query.dim():
                raise ValueError(
                    f"{name} must have {query.dim()} dimensions like query, got shape "
                    f"{tuple(t.shape)}"
                )
        batched = query.dim() == 3
        inputs = [query, key, value]
        if not batched:
            inputs = [t.unsqueeze(0) for t in inputs]
        elif not self.batch_first:
            inputs = [t.transpose(0, 1) for t in inputs]
        (n, length), source = inputs[0].shape[:2], inputs[1].shape[1]
        if inputs[2].shape[:2] != inputs[1].shape[:2] or inputs[1].shape[0] != n:
            raise ValueError(
                f"query, key and value must agree in batch size and key and value in length, "
                f"got shapes {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
            )
        q, k, v = (
            self._heads(linear(x, w, b))
            for x, (w, b) in zip(inputs, self._projections(), strict=True)
        )

        real = self.out_proj.weight.dtype.to_real()
        h = self.num_heads
        if key_padding_mask is not None and not batched:
            key_padding_mask = key_padding_mask.unsqueeze(0)
        padding = _mha_mask(key_padding_mask, "key_padding_mask", (n, source), real)
        if isinstance(attn_mask, torch.Tensor) and attn_mask.dim() == 3:
            full = _mha_mask(attn_mask, "attn_mask", (n * h, length, source), real)
            mask = full.unflatten(0, (n, h))
        else:
            mask = _mha_mask(attn_mask, "attn_mask", (length, source), real)
        if padding is not None:
            padding = padding[:, None, None, :]
            mask = padding if mask is None else mask + padding
        if is_causal:
            causal = torch.ones(length, source, dtype=torch.bool, device=q.device).triu(1)
            causal = _mha_mask(causal, "causal mask", (length, source), real)
            mask = causal if mask is None else mask + causal

        weights = attention_weights(q, k, mask, score=self.score)
        if self.training and self.dropout > 0.0:
            weights = _apply_mask(weights, tuple(weights.shape), self.dropout)
        heads = _apply_weights(weights, v)
        out = self.out_proj(heads.transpose(1, 2).flatten(-2))
        if not batched:
            out, weights = out.squeeze(0), weights.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        return out, weights.mean(dim=-3) if average_attn_weights else weights

    def extra_repr(self) -> str:
        s = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"
        if not self._qkv_same_embed_dim:
            s += f", kdim={self.kdim}, vdim={self.vdim}"
        return s + f", batch_first={self.batch_first}, score={self.score!r}"


class TransformerEncoderLayer(nn.Module):
    r"""Complex transformer encoder layer: self-attention and a feed-forward block, as
    `torch.nn.TransformerEncoderLayer`.

    Post-norm (default), with $\mathrm{LN}$ [`phasor.nn.ComplexLayerNorm`][phasor.nn.normalization.ComplexLayerNorm]:

    $$
    x \leftarrow \mathrm{LN}_1\big(x + \mathrm{SA}(x)\big), \qquad
    x \leftarrow \mathrm{LN}_2\big(x + \mathrm{FF}(x)\big)
    $$

    pre-norm (``norm_first=True``):
    $x \leftarrow x + \mathrm{SA}(\mathrm{LN}_1(x))$,
    $x \leftarrow x + \mathrm{FF}(\mathrm{LN}_2(x))$, where
    $\mathrm{SA}(x) = \operatorname{dropout}(\mathrm{MHA}(x, x, x))$ and
    $\mathrm{FF}(x) = \operatorname{dropout}(W_2\, \operatorname{dropout}(
    \sigma(W_1 x + b_1)) + b_2)$ with complex [`phasor.nn.Linear`][phasor.nn.linear.Linear] layers,
    [`phasor.nn.Dropout`][phasor.nn.dropout.Dropout] and the complex activation $\sigma$.

    Args:
        d_model: complex features of the input.
        nhead: attention heads.
        dim_feedforward: hidden features of the feed-forward block.
        dropout: dropout probability (attention weights and the three dropouts above).
        activation: complex activation, a module or callable; default
            [`phasor.functional.crelu`][phasor.functional.activation.crelu] ([`phasor.nn.CReLU`][phasor.nn.activation.CReLU]).
        layer_norm_eps: ``eps`` of the layer norms.
        batch_first: inputs ``(N, L, E)`` instead of ``(L, N, E)``.
        norm_first: pre-norm instead of post-norm.
        bias: learn the biases of the linear layers, attention and layer norms.
        score: attention score map of `MultiheadAttention`.
        device: device of the parameters.
        dtype: ``torch.complex64`` (default) or ``torch.complex128``.

    Shape:
        - src: ``(L, E)``, ``(L, N, E)`` or with ``batch_first`` ``(N, L, E)``, complex.
        - src_mask, src_key_padding_mask: as ``attn_mask`` and ``key_padding_mask`` of
          `MultiheadAttention` (``True`` = masked).
        - Output: same shape and dtype as ``src``.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Callable[[torch.Tensor], torch.Tensor] = crelu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        score: str = "real",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        factory = _factory_kwargs(device, dtype)
        if not callable(activation):
            raise TypeError(f"activation must be a module or callable, got {activation!r}")
        super().__init__()
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout, bias, batch_first=batch_first, score=score, **factory
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = ComplexLayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = ComplexLayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(
            x,
            x,
            x,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            attn_mask=attn_mask,
            is_causal=is_causal,
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(
        self,
        src: torch.Tensor,
        src_mask: torch.Tensor | None = None,
        src_key_padding_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TransformerEncoder(nn.Module):
    r"""A stack of ``num_layers`` copies of ``encoder_layer``, as
    `torch.nn.TransformerEncoder`.

    $$
    x \leftarrow \mathrm{layer}_i(x), \ i = 1, \dots, N; \qquad
    \text{out} = \mathrm{norm}(x)
    $$

    Args:
        encoder_layer: a `TransformerEncoderLayer` (deep-copied, so the layers start
            with equal weights and train independently, as in torch).
        num_layers: number of layers.
        norm: optional final normalisation (e.g. [`phasor.nn.ComplexLayerNorm`][phasor.nn.normalization.ComplexLayerNorm], usual
            after pre-norm layers).

    Shape:
        - src: as `TransformerEncoderLayer`; masks passed to every layer.
        - Output: same shape and dtype as ``src``.
    """

    def __init__(
        self, encoder_layer: nn.Module, num_layers: int, norm: nn.Module | None = None
    ) -> None:
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(encoder_layer) for _ in range(num_layers))
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        src: torch.Tensor,
        mask: torch.Tensor | None = None,
        src_key_padding_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        x = src
        for layer in self.layers:
            x = layer(
                x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal
            )
        return x if self.norm is None else self.norm(x)


class RotaryEmbedding(nn.Module):
    r"""Rotary position encoding $x_{mk} e^{i m \theta_k}$,
    $\theta_k = \text{base}^{-k/D}$; see [`phasor.functional.rotary_embedding`][phasor.functional.attention.rotary_embedding].

    Apply it to the queries and keys (per head) before the scores; it has no parameters.

    Args:
        dim: complex features ``D`` of the input.
        base: base of the geometric frequencies.

    Shape:
        - Input: ``(*, L, D)``, complex; optional ``positions`` broadcastable to ``(*, L)``.
        - Output: same shape and dtype.
    """

    def __init__(self, dim: int, base: float = 10000.0) -> None:
        if dim < 1:
            raise ValueError(f"dim must be at least 1, got {dim}")
        super().__init__()
        self.dim = dim
        self.base = float(base)

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() < 2 or x.shape[-1] != self.dim:
            raise ValueError(
                f"input must have shape (*, L, {self.dim}) (dim={self.dim}), "
                f"got shape {tuple(x.shape)}"
            )
        return rotary_embedding(x, positions, self.base)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, base={self.base}"


class ComplexPositionalEmbedding(KeepsRealState):
    r"""Learnable complex position embedding added to the input:
    $\text{out}_{m} = x_{m} + P_{m}$.

    Args:
        num_positions: rows of $P$, the longest sequence.
        embedding_dim: complex features ``D``.
        device: device of the parameter.
        dtype: ``torch.complex64`` (default) or ``torch.complex128``.

    Attributes:
        weight: complex ``(num_positions, embedding_dim)``, initialised to standard complex
            normal entries ($\mathbb{E}|P_{mk}|^2 = 1$), as `torch.nn.Embedding`.

    Shape:
        - Input: ``(*, L, D)`` with ``L <= num_positions`` (the sequence axis is ``-2``),
          complex or real of the weight's real dtype; optional integer ``positions``
          broadcastable to ``(*, L)`` choose the rows (default ``0, ..., L - 1``).
        - Output: same shape, complex, dtype of the weight.
    """

    def __init__(
        self,
        num_positions: int,
        embedding_dim: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        factory = _factory_kwargs(device, dtype)
        if num_positions < 1 or embedding_dim < 1:
            raise ValueError(
                f"num_positions and embedding_dim must be at least 1, got {num_positions} "
                f"and {embedding_dim}"
            )
        super().__init__()
        self.num_positions = num_positions
        self.embedding_dim = embedding_dim
        self.weight = nn.Parameter(torch.empty(num_positions, embedding_dim, **factory))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.weight.copy_(torch.randn_like(self.weight))

    def forward(self, input: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        check_layer_input(input, self.weight)
        if input.dim() < 2 or input.shape[-1] != self.embedding_dim:
            raise ValueError(
                f"input must have shape (*, L, {self.embedding_dim}), got shape "
                f"{tuple(input.shape)}"
            )
        if positions is None:
            length = input.shape[-2]
            if length > self.num_positions:
                raise ValueError(
                    f"input has {length} positions (dim -2) but the embedding only "
                    f"{self.num_positions}"
                )
            return input + self.weight[:length]
        if positions.dtype not in (torch.int32, torch.int64):
            raise TypeError(f"positions must be an integer tensor, got {positions.dtype}")
        return input + self.weight[positions]

    def extra_repr(self) -> str:
        return f"{self.num_positions}, {self.embedding_dim}"
