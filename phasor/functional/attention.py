r"""Complex attention: scaled dot-product attention, rotary position encoding.

Attention scores of complex queries and keys are complex,
$S = q k^H \cdot \text{scale}$, but softmax needs real numbers. The map from $S$ to
the attention weights is therefore a choice, made explicit here by ``score``:

``"real"`` (default)
    $A = \operatorname{softmax}(\Re S)$, real weights. $\Re(q k^H)$ is the real
    inner product of the real-pair embeddings $[\Re q; \Im q]$ and
    $[\Re k; \Im k]$, so this is exactly real attention on those vectors (the values
    weighted by real weights keep their phase). It is the default because it is the
    convention that reduces to the familiar real transformer: a complex network with zero
    imaginary parts computes what the real one computes.
- ``"magnitude"``: $A = \operatorname{softmax}(|S|)$, real weights; invariant to a common phase of
  $q$ or $k$, blind to the phase difference between them.
- ``"split"``: $A = \operatorname{softmax}(\Re S) + i\,\operatorname{softmax}(\Im S)$, complex
  weights (the "real and imaginary softmax" convention): each part sums to 1 over the keys.

Masks follow `torch.nn.functional.scaled_dot_product_attention`: a boolean mask keeps
the positions where it is ``True``, a real floating mask is added to the real map's input
(to $\Re S$, $|S|$, or to both $\Re S$ and $\Im S$ for ``"split"``).
A query whose keys are all masked gets zero weights (as in torch), with finite gradients.
"""

from __future__ import annotations

import math

import torch

from phasor._validation import check_complex
from phasor.functional.dropout import _apply_mask, _check_p

__all__ = ["SCORES", "attention_weights", "rotary_embedding", "scaled_dot_product_attention"]

SCORES = ("real", "magnitude", "split")
"""The maps from complex scores to attention weights accepted by ``score=``."""


def _check_score(score: str) -> None:
    if score not in SCORES:
        raise ValueError(f"unknown score {score!r}; choose one of {', '.join(SCORES)}")


def _pairs(t: torch.Tensor) -> torch.Tensor:
    """Real-pair embedding ``(*, 2 D)``: ``(Re t_1, Im t_1, Re t_2, ...)`` of complex ``(*, D)``."""
    return torch.view_as_real(t.resolve_conj()).flatten(-2)


def _check_like_query(t: torch.Tensor, name: str, query: torch.Tensor) -> None:
    """Raise ``TypeError`` unless ``t`` is complex of the dtype of ``query``."""
    check_complex(t, name)
    if t.dtype != query.dtype:
        raise TypeError(
            f"{name} has dtype {t.dtype} but query is {query.dtype}; convert one of them, "
            f"e.g. {name}.to({query.dtype})"
        )


def _check_qk(query: torch.Tensor, key: torch.Tensor) -> None:
    check_complex(query, "query")
    _check_like_query(key, "key", query)
    for name, t in (("query", query), ("key", key)):
        if t.dim() < 2:
            raise ValueError(
                f"{name} must have shape (*, L, E) with at least 2 dimensions, "
                f"got shape {tuple(t.shape)}"
            )
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"query (*, L, E) and key (*, S, E) need the same E, got shapes "
            f"{tuple(query.shape)} and {tuple(key.shape)}"
        )


def _additive_mask(
    attn_mask: torch.Tensor | None, is_causal: bool, query: torch.Tensor, key: torch.Tensor
) -> torch.Tensor | None:
    """The mask as a real tensor added to the scores (``-inf`` where a position is masked)."""
    real = query.dtype.to_real()
    length, source = query.shape[-2], key.shape[-2]
    if is_causal:
        if attn_mask is not None:
            raise ValueError("give either attn_mask or is_causal=True, not both (as in torch)")
        keep = torch.ones(length, source, dtype=torch.bool, device=query.device).tril()
        attn_mask = keep
    if attn_mask is None:
        return None
    if not isinstance(attn_mask, torch.Tensor):
        raise TypeError(f"attn_mask must be a torch.Tensor, got {type(attn_mask).__name__}")
    if attn_mask.dtype == torch.bool:
        zero = torch.zeros((), dtype=real, device=query.device)
        return torch.where(attn_mask, zero, -math.inf)
    if attn_mask.dtype != real:
        raise TypeError(
            f"attn_mask must be bool (True = take part) or real {real} (added to the scores) "
            f"for {query.dtype} queries, got {attn_mask.dtype}; convert it, e.g. "
            f"mask.to({real})"
        )
    return attn_mask


def _softmax(x: torch.Tensor, masked: bool) -> torch.Tensor:
    """Softmax over the keys; with a mask, rows that are all ``-inf`` give zero weights."""
    if not masked:
        return torch.softmax(x, dim=-1)
    # Replace such rows before the softmax too, so that no NaN reaches the backward pass.
    empty = torch.isneginf(x).all(dim=-1, keepdim=True)
    weights = torch.softmax(x.masked_fill(empty, 0.0), dim=-1)
    return weights.masked_fill(empty, 0.0)


def attention_weights(
    query: torch.Tensor,
    key: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
    score: str = "real",
) -> torch.Tensor:
    r"""Attention weights of complex queries over complex keys, before dropout.

    With $S = q k^H \cdot \text{scale}$ ($S_{ls} = \text{scale}
    \sum_e q_{le} \overline{k_{se}}$) and $M$ the additive form of the mask
    (0 where a position takes part, $-\infty$ where it is masked):

    $$
    A = \begin{cases}
    \operatorname{softmax}(\Re S + M) & \texttt{score="real"} \\
    \operatorname{softmax}(|S| + M) & \texttt{score="magnitude"} \\
    \operatorname{softmax}(\Re S + M) + i \operatorname{softmax}(\Im S + M)
    & \texttt{score="split"}
    \end{cases}
    $$

    with the softmax over the keys $s$. See `phasor.functional.attention` for the
    conventions; ``"real"`` is computed as one real product of the real-pair embeddings.

    Args:
        query: complex ``(*, L, E)``.
        key: complex ``(*, S, E)``, dtype of ``query``; leading dims broadcast.
        attn_mask: optional, broadcastable to ``(*, L, S)``: bool (``True`` = take part) or
            real of the real dtype of ``query`` (added to the scores).
        is_causal: mask key ``s > l`` for query ``l`` (lower-triangular, top-left aligned, as
            in torch); not together with ``attn_mask``.
        scale: factor of $q k^H$; default $1/\sqrt{E}$.
        score: ``"real"``, ``"magnitude"`` or ``"split"``.

    Shape:
        - Output: ``(*, L, S)``, real of the real dtype of ``query`` for ``"real"`` and
          ``"magnitude"``, complex of its dtype for ``"split"``.
    """
    _check_qk(query, key)
    _check_score(score)
    mask = _additive_mask(attn_mask, is_causal, query, key)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if score == "real":
        scores = (_pairs(query) @ _pairs(key).transpose(-2, -1)) * scale
    else:
        scores = (query @ key.conj().transpose(-2, -1)) * scale
        if score == "magnitude":
            scores = scores.abs()
    if score == "split":
        re, im = scores.real, scores.imag
        if mask is not None:
            re, im = re + mask, im + mask
        return torch.complex(_softmax(re, mask is not None), _softmax(im, mask is not None))
    if mask is not None:
        scores = scores + mask
    return _softmax(scores, mask is not None)


def _apply_weights(weights: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """``weights @ value``; real weights multiply both parts of ``value`` in one real product."""
    if weights.is_complex():
        return weights @ value
    out = weights @ _pairs(value)
    return torch.view_as_complex(out.unflatten(-1, (-1, 2)))


def scaled_dot_product_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    score: str = "real",
) -> torch.Tensor:
    r"""Complex scaled dot-product attention, with the real map of the scores chosen by ``score``.

    $$
    \text{out} = \operatorname{dropout}(A)\, v
    $$

    with the weights $A$ of `attention_weights` (real for ``"real"`` and
    ``"magnitude"``, complex for ``"split"``). As in
    `torch.nn.functional.scaled_dot_product_attention`, dropout is applied whenever
    ``dropout_p > 0`` (pass ``0.0`` in evaluation); one mask entry drops a weight as a whole
    (both parts of a complex weight), the kept ones are scaled by $1/(1-p)$.

    ``score="real"`` equals real attention on the real-pair embeddings
    $[\Re q; \Im q]$, $[\Re k; \Im k]$ and values $[\Re v; \Im v]$, with the
    same ``scale`` (by default $1/\sqrt{E}$, ``E`` the number of *complex* features).

    Args:
        query: complex ``(*, L, E)``.
        key: complex ``(*, S, E)``.
        value: complex ``(*, S, E_v)``, dtype of ``query``; leading dims broadcast.
        attn_mask: optional, broadcastable to ``(*, L, S)``: bool (``True`` = take part) or
            real (added to the scores).
        dropout_p: probability of dropping an attention weight.
        is_causal: lower-triangular mask (not together with ``attn_mask``).
        scale: factor of $q k^H$; default $1/\sqrt{E}$.
        score: ``"real"`` (default), ``"magnitude"`` or ``"split"``.

    Shape:
        - Output: ``(*, L, E_v)``, complex, dtype of ``query``.

    Example:

        >>> q = torch.randn(2, 5, 4, dtype=torch.complex64)
        >>> scaled_dot_product_attention(q, q, q, is_causal=True).shape
        torch.Size([2, 5, 4])
    """
    _check_qk(query, key)
    _check_like_query(value, "value", query)
    if value.dim() < 2 or key.dim() < 2 or value.shape[-2] != key.shape[-2]:
        raise ValueError(
            f"key (*, S, E) and value (*, S, E_v) need the same S, got shapes "
            f"{tuple(key.shape)} and {tuple(value.shape)}"
        )
    _check_p(dropout_p)
    weights = attention_weights(query, key, attn_mask, is_causal, scale, score)
    if dropout_p > 0.0:
        weights = _apply_mask(weights, tuple(weights.shape), dropout_p)
    return _apply_weights(weights, value)


def rotary_embedding(
    x: torch.Tensor, positions: torch.Tensor | None = None, base: float = 10000.0
) -> torch.Tensor:
    r"""Rotary position encoding of complex features: rotate feature ``k`` at position ``m``.

    $$
    \text{out}_{mk} = x_{mk}\, e^{i m \theta_k}, \qquad \theta_k = \text{base}^{-k/D},
    \quad k = 0, \dots, D - 1
    $$

    For complex features the rotation is one complex multiply, exact: $|x|$ is
    unchanged, and for rotated queries and keys $q'_m \overline{k'_n} = q_m
    \overline{k_n} e^{i (m - n) \theta}$, so the scores of `attention_weights` depend on
    the positions only through $m - n$. It is the real rotary encoding (RoFormer, Su et
    al. 2021) of the real-pair embedding $(\Re x_k, \Im x_k)$, whose $2D$ real
    features pair up with frequencies $\text{base}^{-2k/2D}$.

    Args:
        x: complex ``(*, L, D)``.
        positions: real or integer positions broadcastable to ``(*, L)``; default
            ``0, 1, ..., L - 1``. The angles are computed in the real dtype of ``x``.
        base: base of the geometric frequencies.

    Shape:
        - Input: ``(*, L, D)``, complex.
        - Output: same shape and dtype.
    """
    check_complex(x)
    if x.dim() < 2:
        raise ValueError(f"input must have shape (*, L, D), got shape {tuple(x.shape)}")
    length, dim = x.shape[-2], x.shape[-1]
    real = x.dtype.to_real()
    if positions is None:
        positions = torch.arange(length, dtype=real, device=x.device)
    elif not isinstance(positions, torch.Tensor):
        raise TypeError(f"positions must be a torch.Tensor, got {type(positions).__name__}")
    elif positions.is_complex() or positions.dtype == torch.bool:
        raise TypeError(f"positions must be real or integer, got {positions.dtype}")
    theta = base ** (-torch.arange(dim, dtype=real, device=x.device) / dim)
    angles = positions.to(real).unsqueeze(-1) * theta
    return x * torch.polar(torch.ones_like(angles), angles)
