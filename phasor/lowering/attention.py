r"""Lowering of [`phasor.nn.attention`][phasor.nn.attention]: multi-head attention, the
transformer encoder, the position encodings.

The attention works on the real and imaginary parts of the projected queries, keys and values.
With $q = q_r + i q_i$ and $k = k_r + i k_i$ the complex scores are

$$
q k^H = (q_r k_r^T + q_i k_i^T) + i\,(q_i k_r^T - q_r k_i^T),
$$

each part one real product of the parts concatenated along the features (the real part is the
product of the real-pair embeddings that phasor's ``score="real"`` computes). The weights are
real for ``"real"`` and ``"magnitude"``, a pair of real parts for ``"split"``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from phasor import nn as pnn
from phasor.functional import activation as activation_functions
from phasor.lowering._core import Context, adopt, lower_module, modulus, pair, register
from phasor.nn.attention import _mha_mask

Parts = tuple[torch.Tensor, torch.Tensor | None]
"""Real and imaginary part of a complex tensor; ``None`` for the imaginary part of a real one."""


def _project(x: Parts, weight: torch.Tensor, bias: torch.Tensor | None, kernel: str) -> Parts:
    """Parts of $x W^T + b$ for the pair-layout ``weight`` $(2, O, I)$ = $[A; B]$ and ``bias``
    $(2, O)$: Gauss's three products, or (``kernel="stacked"``) one product of each part with
    the stacked $[A; B]$; a real $x$ takes one product with $[A; B]$."""
    re, im = x
    a, b = weight[0], weight[1]
    o = a.shape[0]
    if im is None:
        prod = F.linear(re, weight.flatten(0, 1))
        out_re, out_im = prod[..., :o], prod[..., o:]
    elif kernel == "stacked":
        stacked = weight.flatten(0, 1)
        prod_re, prod_im = F.linear(re, stacked), F.linear(im, stacked)
        out_re = prod_re[..., :o] - prod_im[..., o:]
        out_im = prod_re[..., o:] + prod_im[..., :o]
    else:
        t1, t2 = F.linear(re, a), F.linear(im, b)
        t3 = F.linear(re + im, a + b)
        out_re, out_im = t1 - t2, t3 - t1 - t2
    if bias is not None:
        out_re, out_im = out_re + bias[0], out_im + bias[1]
    return out_re, out_im


def _softmax(x: torch.Tensor, masked: bool) -> torch.Tensor:
    """Softmax over the keys as phasor's: with a mask, rows that are all ``-inf`` give zero
    weights (and no NaN in the backward pass); ``x == -inf`` rather than ``isneginf``, which
    the ONNX exporter lacks."""
    if not masked:
        return torch.softmax(x, dim=-1)
    empty = (x == -math.inf).all(dim=-1, keepdim=True)
    return torch.softmax(x.masked_fill(empty, 0.0), dim=-1).masked_fill(empty, 0.0)


def _dropout_mask(shape: torch.Size, p: float, like: torch.Tensor) -> torch.Tensor:
    """The real dropout mask phasor's ``_apply_mask`` draws (the same random numbers)."""
    mask = torch.empty(shape, dtype=like.dtype, device=like.device).bernoulli_(1.0 - p)
    return mask / (1.0 - p) if p < 1.0 else mask


class PairMultiheadAttention(nn.Module):
    """Lowered [`phasor.nn.MultiheadAttention`][phasor.nn.attention.MultiheadAttention].

    Takes the arguments of phasor's layer, complex ones as pairs (real ones as they are: each
    of ``query``, ``key`` and ``value`` may be real, as in phasor), and returns
    ``(output, weights)`` with the output as a pair and the weights real for ``"real"`` and
    ``"magnitude"``, a pair for ``"split"``, ``None`` without ``need_weights``.

    ``in_proj_weight`` is $(2, 3E, E)$ (or ``q_proj_weight`` $(2, E, E)$, ``k_proj_weight``
    $(2, E, k_{dim})$, ``v_proj_weight`` $(2, E, v_{dim})$), ``in_proj_bias`` $(2, 3E)$,
    ``out_proj`` the lowered [`phasor.nn.Linear`][phasor.nn.linear.Linear].

    Shape:
        - query: $(L, 2, E)$, $(L, 2, N, E)$ or with ``batch_first`` $(N, 2, L, E)$, the pair
          layout of phasor's query (pair axis at dim 1 in every layout).
        - Output: the pair layout of phasor's output; weights $(N, L, S)$ real or
          $(N, 2, L, S)$ pair ($(N, [2,] H, L, S)$ without averaging; no $N$ unbatched).
    """

    def __init__(self, layer: pnn.MultiheadAttention, ctx: Context, kernel: str) -> None:
        super().__init__()
        self.embed_dim, self.num_heads, self.head_dim = (
            layer.embed_dim,
            layer.num_heads,
            layer.head_dim,
        )
        self.dropout, self.batch_first, self.score = layer.dropout, layer.batch_first, layer.score
        self.kernel = kernel
        self._qkv_same_embed_dim = layer._qkv_same_embed_dim
        self.query_is_real = ctx.real_input
        adopt(self, layer)
        self.out_proj, _ = lower_module(layer.out_proj, ctx.child("out_proj", False))

    def _projections(self) -> tuple[tuple[torch.Tensor, torch.Tensor | None], ...]:
        return pnn.MultiheadAttention._projections(self, dim=1)  # features at dim 1 of (2, *S)

    def _parts(self, x: torch.Tensor, complex_dims: int, batched: bool) -> Parts:
        """The parts of one input in the layout ``(N, L, E)`` of phasor's computation."""
        re, im = (x, None) if x.dim() == complex_dims else (x[:, 0], x[:, 1])
        if not batched:
            return re.unsqueeze(0), None if im is None else im.unsqueeze(0)
        if not self.batch_first:
            return re.transpose(0, 1), None if im is None else im.transpose(0, 1)
        return re, im

    _heads = pnn.MultiheadAttention._heads  # (N, L, E) to (N, H, L, E / H), on each part

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
        complex_dims = query.dim() if self.query_is_real else query.dim() - 1
        batched = complex_dims == 3
        projected = [
            _project(self._parts(x, complex_dims, batched), w, b, self.kernel)
            for x, (w, b) in zip((query, key, value), self._projections(), strict=True)
        ]
        (q_re, q_im), (k_re, k_im), (v_re, v_im) = (
            (self._heads(re), self._heads(im)) for re, im in projected
        )
        n, h, length, source = q_re.shape[0], self.num_heads, q_re.shape[2], k_re.shape[2]

        real = self.out_proj.weight.dtype
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
            causal = torch.ones(length, source, dtype=torch.bool, device=q_re.device).triu(1)
            causal = _mha_mask(causal, "causal mask", (length, source), real)
            mask = causal if mask is None else mask + causal

        weights_re, weights_im = self._weights(q_re, q_im, k_re, k_im, mask)
        if self.training and self.dropout > 0.0:
            drop = _dropout_mask(weights_re.shape, self.dropout, weights_re)
            weights_re = weights_re * drop
            weights_im = None if weights_im is None else weights_im * drop
        if weights_im is None:
            heads_re, heads_im = weights_re @ v_re, weights_re @ v_im
        else:
            heads_re = weights_re @ v_re - weights_im @ v_im
            heads_im = weights_re @ v_im + weights_im @ v_re
        heads = pair(heads_re.transpose(1, 2).flatten(-2), heads_im.transpose(1, 2).flatten(-2))
        out = self.out_proj(heads)
        out_re, out_im = out[:, 0], out[:, 1]
        if not batched:
            out_re, out_im = out_re.squeeze(0), out_im.squeeze(0)
            weights_re = weights_re.squeeze(0)
            weights_im = None if weights_im is None else weights_im.squeeze(0)
        elif not self.batch_first:
            out_re, out_im = out_re.transpose(0, 1), out_im.transpose(0, 1)
        out = pair(out_re, out_im)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights_re = weights_re.mean(dim=-3)
            weights_im = None if weights_im is None else weights_im.mean(dim=-3)
        return out, weights_re if weights_im is None else pair(weights_re, weights_im)

    def _weights(
        self,
        q_re: torch.Tensor,
        q_im: torch.Tensor,
        k_re: torch.Tensor,
        k_im: torch.Tensor,
        mask: torch.Tensor | None,
    ) -> Parts:
        """The attention weights of phasor's ``score`` map, before dropout, as parts."""
        scale = 1.0 / math.sqrt(self.head_dim)
        keys = torch.cat((k_re, k_im), dim=-1).transpose(-2, -1)
        scores_re = (torch.cat((q_re, q_im), dim=-1) @ keys) * scale
        masked = mask is not None
        if self.score == "real":
            return _softmax(scores_re if mask is None else scores_re + mask, masked), None
        scores_im = (torch.cat((q_im, -q_re), dim=-1) @ keys) * scale
        if self.score == "magnitude":
            scores = modulus(pair(scores_re, scores_im))
            return _softmax(scores if mask is None else scores + mask, masked), None
        if mask is not None:
            scores_re, scores_im = scores_re + mask, scores_im + mask
        return _softmax(scores_re, masked), _softmax(scores_im, masked)


@register(pnn.MultiheadAttention)
def _multihead_attention(layer: pnn.MultiheadAttention, ctx: Context) -> tuple[nn.Module, bool]:
    kernel = "gauss" if ctx.kernel == "by-shape" else ctx.kernel  # by-shape: Gauss for linear
    return PairMultiheadAttention(layer, ctx, kernel), False


ACTIVATION_MODULES: dict = {
    getattr(activation_functions, name): getattr(pnn, module)
    for name, module in (
        ("amp_phase_tanh", "AmpPhaseTanh"),
        ("cardioid", "Cardioid"),
        ("crelu", "CReLU"),
        ("csign", "CSign"),
        ("mod_softplus", "ModSoftplus"),
        ("modulus", "Modulus"),
        ("modulus_squared", "ModulusSquared"),
        ("polar_log", "PolarLog"),
        ("polar_squash", "PolarSquash"),
        ("siglog", "SigLog"),
        ("split_celu", "SplitCELU"),
        ("split_elu", "SplitELU"),
        ("split_gelu", "SplitGELU"),
        ("split_hardsigmoid", "SplitHardsigmoid"),
        ("split_hardswish", "SplitHardswish"),
        ("split_hardtanh", "SplitHardtanh"),
        ("split_leaky_relu", "SplitLeakyReLU"),
        ("split_mish", "SplitMish"),
        ("split_selu", "SplitSELU"),
        ("split_sigmoid", "SplitSigmoid"),
        ("split_silu", "SplitSiLU"),
        ("split_softplus", "SplitSoftplus"),
        ("split_softsign", "SplitSoftsign"),
        ("split_tanh", "SplitTanh"),
        ("zrelu", "ZReLU"),
    )
}
"""The parameter-free functions of `phasor.functional.activation` that a transformer layer may
take as ``activation``, with the module (built with its defaults) that computes each."""


def _lower_activation(activation, ctx: Context) -> tuple[nn.Module, bool]:
    """A transformer layer's activation (module, or function of `ACTIVATION_MODULES`) lowered."""
    if isinstance(activation, nn.Module):
        return lower_module(activation, ctx)
    module = ACTIVATION_MODULES.get(activation)
    if module is None:
        raise ValueError(
            f"lower: {ctx.path or 'the model'} has the activation function {activation!r}, which "
            "has no lowering; give the layer a phasor.nn activation module (e.g. "
            "phasor.nn.CReLU()) or a function of phasor.functional.activation without parameters"
        )
    return lower_module(module(), ctx)


class PairTransformerEncoderLayer(nn.Module):
    """Lowered [`phasor.nn.TransformerEncoderLayer`][phasor.nn.attention.TransformerEncoderLayer]:
    the same blocks on pairs, with the lowered ``self_attn``, ``linear1``, ``linear2``,
    ``norm1``, ``norm2``, ``dropout``, ``dropout1``, ``dropout2`` and ``activation`` under
    phasor's names. A real ``src`` (which phasor's post-norm layer takes) enters as the pair
    with a zero imaginary part.

    Shape:
        - src: the pair layout of phasor's ``src``, or with a real input phasor's ``src``.
        - Output: the pair layout of phasor's output.
    """

    def __init__(self, layer: pnn.TransformerEncoderLayer, ctx: Context) -> None:
        super().__init__()
        if layer.norm_first:
            ctx.refuse_real_input(layer)
        self.norm_first, self.real_input = layer.norm_first, ctx.real_input
        for name in ("self_attn", "linear1", "norm1", "norm2", "dropout1", "dropout2"):
            setattr(self, name, lower_module(getattr(layer, name), ctx.child(name, False))[0])
        self.activation, real = _lower_activation(layer.activation, ctx.child("activation", False))
        self.dropout, real = lower_module(layer.dropout, ctx.child("dropout", real))
        self.linear2, _ = lower_module(layer.linear2, ctx.child("linear2", real))

    # phasor's blocks and forward, run on the lowered sub-modules of the same names
    _sa_block = pnn.TransformerEncoderLayer._sa_block
    _ff_block = pnn.TransformerEncoderLayer._ff_block

    def forward(
        self,
        src: torch.Tensor,
        src_mask: torch.Tensor | None = None,
        src_key_padding_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        x = pair(src, torch.zeros_like(src)) if self.real_input else src
        return pnn.TransformerEncoderLayer.forward(
            self, x, src_mask, src_key_padding_mask, is_causal
        )


@register(pnn.TransformerEncoderLayer)
def _encoder_layer(layer: pnn.TransformerEncoderLayer, ctx: Context) -> tuple[nn.Module, bool]:
    return PairTransformerEncoderLayer(layer, ctx), False


class PairTransformerEncoder(nn.Module):
    """Lowered [`phasor.nn.TransformerEncoder`][phasor.nn.attention.TransformerEncoder]: the
    lowered ``layers`` and the optional ``norm``, under phasor's names.

    Shape:
        - src: as `PairTransformerEncoderLayer`; masks passed to every layer.
        - Output: the pair layout of phasor's output.
    """

    def __init__(self, encoder: pnn.TransformerEncoder, ctx: Context) -> None:
        super().__init__()
        self.num_layers = encoder.num_layers
        self.layers = nn.ModuleList()
        real = ctx.real_input
        for i, layer in enumerate(encoder.layers):
            lowered, real = lower_module(layer, ctx.child(f"layers.{i}", real))
            self.layers.append(lowered)
        norm = encoder.norm
        self.norm = None if norm is None else lower_module(norm, ctx.child("norm", real))[0]

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


@register(pnn.TransformerEncoder)
def _encoder(encoder: pnn.TransformerEncoder, ctx: Context) -> tuple[nn.Module, bool]:
    return PairTransformerEncoder(encoder, ctx), False


class PairRotaryEmbedding(nn.Module):
    r"""Lowered [`phasor.nn.RotaryEmbedding`][phasor.nn.attention.RotaryEmbedding]: the rotation
    $x_{mk} e^{i m \theta_k}$ on the parts,
    $(\Re x \cos - \Im x \sin,\ \Re x \sin + \Im x \cos)$.

    Shape:
        - Input: the pair layout of phasor's $(*, L, D)$; optional ``positions`` as in phasor.
        - Output: same shape.
    """

    def __init__(self, layer: pnn.RotaryEmbedding) -> None:
        super().__init__()
        self.dim, self.base = layer.dim, layer.base

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        re, im = x[:, 0], x[:, 1]
        if positions is None:
            positions = torch.arange(re.shape[-2], dtype=re.dtype, device=re.device)
        theta = self.base ** (-torch.arange(self.dim, dtype=re.dtype, device=re.device) / self.dim)
        angles = positions.to(re.dtype).unsqueeze(-1) * theta
        cos, sin = torch.cos(angles), torch.sin(angles)
        return pair(re * cos - im * sin, re * sin + im * cos)


@register(pnn.RotaryEmbedding)
def _rotary(layer: pnn.RotaryEmbedding, ctx: Context) -> tuple[nn.Module, bool]:
    ctx.refuse_real_input(layer)
    return PairRotaryEmbedding(layer), False


class PairPositionalEmbedding(nn.Module):
    """Lowered [`phasor.nn.ComplexPositionalEmbedding`][phasor.nn.attention.ComplexPositionalEmbedding]:
    $x_m + P_m$ on the parts; ``weight`` is $(2, M, D)$. A real input (which phasor takes) gets
    the imaginary part of $P$ alone.

    Shape:
        - Input: the pair layout of phasor's $(*, L, D)$, or with a real input phasor's input;
          optional integer ``positions`` as in phasor.
        - Output: the pair layout of phasor's output.
    """

    def __init__(self, layer: pnn.ComplexPositionalEmbedding, real_input: bool) -> None:
        super().__init__()
        self.num_positions, self.real_input = layer.num_positions, real_input
        adopt(self, layer)

    def forward(self, input: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        re, im = (input, None) if self.real_input else (input[:, 0], input[:, 1])
        if positions is None:
            length = re.shape[-2]
            if length > self.num_positions:
                raise ValueError(
                    f"input has {length} positions (dim -2) but the embedding only "
                    f"{self.num_positions}"
                )
            rows = self.weight[:, :length]
        else:
            if positions.dtype not in (torch.int32, torch.int64):
                raise TypeError(f"positions must be an integer tensor, got {positions.dtype}")
            rows = self.weight[:, positions]
        out_re = re + rows[0]
        out_im = (rows[1] if im is None else im + rows[1]).expand_as(out_re)
        return pair(out_re, out_im)


@register(pnn.ComplexPositionalEmbedding)
def _positional(layer: pnn.ComplexPositionalEmbedding, ctx: Context) -> tuple[nn.Module, bool]:
    return PairPositionalEmbedding(layer, ctx.real_input), False
