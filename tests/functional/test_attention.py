"""phasor.functional.attention against explicit loop references, torch's real attention, and
gradcheck/gradgradcheck in complex128."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import phasor.functional as CF

C128 = torch.complex128


def _c(g, *shape, dtype=C128):
    return torch.randn(*shape, dtype=dtype, generator=g)


def _softmax_row(x):
    """Softmax of one row of real numbers (``-inf`` = masked); all masked gives zeros."""
    x = np.asarray(x, dtype=float)
    if np.all(np.isneginf(x)):
        return np.zeros_like(x)
    e = np.exp(x - np.max(x))
    return e / e.sum()


def _reference(q, k, v, mask, scale, score):
    """Attention of one ``(L, E)`` query block by loops; ``mask`` additive ``(L, S)`` or None.

    Returns the output ``(L, E_v)`` and the weights ``(L, S)`` as numpy arrays."""
    q, k, v = (t.detach().numpy() for t in (q, k, v))
    length, source = q.shape[0], k.shape[0]
    m = np.zeros((length, source)) if mask is None else mask.detach().numpy().astype(float)
    weights = np.zeros((length, source), dtype=complex)
    for i in range(length):
        s = [
            scale * sum(q[i, e] * np.conj(k[j, e]) for e in range(q.shape[1]))
            for j in range(source)
        ]
        s = np.array(s)
        if score == "real":
            weights[i] = _softmax_row(s.real + m[i])
        elif score == "magnitude":
            weights[i] = _softmax_row(np.abs(s) + m[i])
        else:
            weights[i] = _softmax_row(s.real + m[i]) + 1j * _softmax_row(s.imag + m[i])
    out = np.array(
        [
            [sum(weights[i, j] * v[j, f] for j in range(source)) for f in range(v.shape[1])]
            for i in range(length)
        ]
    )
    return out, weights


def _additive(mask):
    """A bool mask (True = take part) as the additive mask of the reference."""
    return torch.where(mask, 0.0, -math.inf).double()


SCORES = ["real", "magnitude", "split"]
MASKINGS = ["none", "bool", "additive", "causal"]


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("masking", MASKINGS)
def test_matches_loop_reference(score, masking):
    g = torch.Generator().manual_seed(10 * SCORES.index(score) + MASKINGS.index(masking))
    q, k, v = _c(g, 2, 4, 3), _c(g, 2, 5, 3), _c(g, 2, 5, 2)
    kwargs, ref_mask = {}, None
    if masking == "bool":
        mask = torch.rand(2, 4, 5, generator=g) < 0.6
        mask[0, 1] = False  # a query with every key masked: zero weights
        kwargs["attn_mask"], ref_mask = mask, [_additive(m) for m in mask]
    elif masking == "additive":
        mask = torch.randn(4, 5, generator=g, dtype=torch.float64)
        kwargs["attn_mask"], ref_mask = mask, [mask, mask]
    elif masking == "causal":
        kwargs["is_causal"] = True
        causal = torch.ones(4, 5, dtype=torch.bool).tril()
        ref_mask = [_additive(causal)] * 2
    out = CF.scaled_dot_product_attention(q, k, v, score=score, **kwargs)
    weights = CF.attention_weights(q, k, score=score, **kwargs)
    for b in range(2):
        want_out, want_w = _reference(
            q[b], k[b], v[b], None if ref_mask is None else ref_mask[b], 1 / math.sqrt(3), score
        )
        np.testing.assert_allclose(out[b].numpy(), want_out, atol=1e-12)
        np.testing.assert_allclose(weights[b].numpy(), want_w, atol=1e-12)
    assert weights.is_complex() == (score == "split")
    assert out.dtype == C128


@pytest.mark.parametrize("score", SCORES)
def test_scale_and_broadcast_batch(score):
    g = torch.Generator().manual_seed(3)
    q, k, v = _c(g, 2, 1, 3, 4), _c(g, 1, 2, 5, 4), _c(g, 1, 2, 5, 3)
    out = CF.scaled_dot_product_attention(q, k, v, scale=0.7, score=score)
    assert out.shape == (2, 2, 3, 3)
    for a in range(2):
        for b in range(2):
            want, _ = _reference(q[a, 0], k[0, b], v[0, b], None, 0.7, score)
            np.testing.assert_allclose(out[a, b].numpy(), want, atol=1e-12)


def _pair_embedding(t):
    """Concatenate Re and Im along the features: ``(*, D)`` complex to ``(*, 2 D)`` real."""
    return torch.cat((t.real, t.imag), dim=-1)


@pytest.mark.parametrize("masking", ["none", "bool", "causal", "additive"])
def test_real_score_is_real_attention_on_real_pair_embedding(masking):
    g = torch.Generator().manual_seed(5)
    q, k, v = _c(g, 2, 3, 4, 5), _c(g, 2, 3, 6, 5), _c(g, 2, 3, 6, 2)
    kwargs = {}
    if masking == "bool":
        kwargs["attn_mask"] = torch.rand(4, 6, generator=g) < 0.7
        kwargs["attn_mask"][:, 0] = True
    elif masking == "causal":
        kwargs["is_causal"] = True
    elif masking == "additive":
        kwargs["attn_mask"] = torch.randn(2, 1, 4, 6, generator=g, dtype=torch.float64)
    scale = 1 / math.sqrt(5)  # 1/sqrt of the complex feature count, not of the 2 E real ones
    want = F.scaled_dot_product_attention(
        _pair_embedding(q), _pair_embedding(k), _pair_embedding(v), scale=scale, **kwargs
    )
    got = CF.scaled_dot_product_attention(q, k, v, **kwargs)
    torch.testing.assert_close(_pair_embedding(got), want)


@pytest.mark.parametrize("score", SCORES)
def test_gradcheck_and_gradgradcheck(score):
    g = torch.Generator().manual_seed(7)
    q, k, v = (_c(g, 3, 2).requires_grad_() for _ in range(3))
    mask = torch.tensor([[True, True, False], [False, True, True], [True, False, True]])

    def fn(q, k, v):
        return CF.scaled_dot_product_attention(q, k, v, attn_mask=mask, score=score)

    assert torch.autograd.gradcheck(fn, (q, k, v))
    assert torch.autograd.gradgradcheck(fn, (q, k, v))


def test_gradients_finite_when_a_query_has_no_key():
    g = torch.Generator().manual_seed(8)
    q, k, v = (_c(g, 2, 3).requires_grad_() for _ in range(3))
    mask = torch.tensor([[True, False], [False, False]])
    for score in SCORES:
        out = CF.scaled_dot_product_attention(q, k, v, attn_mask=mask, score=score)
        assert torch.equal(out[1], torch.zeros_like(out[1]))
        grads = torch.autograd.grad(out.abs().square().sum(), (q, k, v))
        assert all(bool(torch.isfinite(t).all()) for t in grads)


@pytest.mark.parametrize("score", SCORES)
def test_dropout_zeroes_or_rescales_whole_weights(score):
    g = torch.Generator().manual_seed(9)
    q, k = _c(g, 6, 3), _c(g, 8, 3)
    identity = torch.eye(8, dtype=C128)  # with v = I the output is the weight matrix itself
    p = 0.5
    torch.manual_seed(0)
    dropped = CF.scaled_dot_product_attention(q, k, identity, dropout_p=p, score=score)
    weights = CF.attention_weights(q, k, score=score).to(C128)
    kept = dropped != 0
    assert 0 < int(kept.sum()) < kept.numel()
    torch.testing.assert_close(dropped[kept], weights[kept] / (1 - p))
    zeros = CF.scaled_dot_product_attention(q, k, identity, dropout_p=1.0, score=score)
    assert torch.equal(zeros, torch.zeros_like(zeros))


phases = st.floats(-math.pi, math.pi, allow_nan=False)


@settings(max_examples=25, deadline=None)
@given(alpha=phases, beta=phases, seed=st.integers(0, 2**16))
def test_score_invariances(alpha, beta, seed):
    g = torch.Generator().manual_seed(seed)
    q, k, v = _c(g, 3, 2), _c(g, 4, 2), _c(g, 4, 3)
    a, b = complex(math.cos(alpha), math.sin(alpha)), complex(math.cos(beta), math.sin(beta))
    # A common phase of q and k leaves S, hence every score, unchanged.
    for score in SCORES:
        torch.testing.assert_close(
            CF.attention_weights(q * a, k * a, score=score), CF.attention_weights(q, k, score=score)
        )
    # |S| ignores the phases of q and of k separately.
    torch.testing.assert_close(
        CF.attention_weights(q * a, k * b, score="magnitude"),
        CF.attention_weights(q, k, score="magnitude"),
    )
    # Real weights: rows sum to 1, and a phase of v comes out as it went in.
    for score in ("real", "magnitude"):
        w = CF.attention_weights(q, k, score=score)
        torch.testing.assert_close(w.sum(-1), torch.ones(3, dtype=torch.float64))
        torch.testing.assert_close(
            CF.scaled_dot_product_attention(q, k, v * b, score=score),
            CF.scaled_dot_product_attention(q, k, v, score=score) * b,
        )
    split = CF.attention_weights(q, k, score="split")
    torch.testing.assert_close(split.sum(-1), torch.full((3,), 1 + 1j, dtype=C128))


def test_complex64_follows_input_dtype():
    g = torch.Generator().manual_seed(10)
    q = _c(g, 2, 3, dtype=torch.complex64)
    assert CF.scaled_dot_product_attention(q, q, q).dtype == torch.complex64
    assert CF.attention_weights(q, q).dtype == torch.float32
    assert CF.attention_weights(q, q, score="split").dtype == torch.complex64


def test_bad_inputs():
    g = torch.Generator().manual_seed(11)
    q = _c(g, 2, 3)
    with pytest.raises(TypeError, match="to_complex"):
        CF.scaled_dot_product_attention(q.real, q, q)
    with pytest.raises(TypeError, match="but query is"):
        CF.scaled_dot_product_attention(q, q.to(torch.complex64), q)
    with pytest.raises(TypeError, match="but query is"):
        CF.scaled_dot_product_attention(q, q, q.to(torch.complex64))
    with pytest.raises(ValueError, match="unknown score"):
        CF.scaled_dot_product_attention(q, q, q, score="imag")
    with pytest.raises(ValueError, match="same E"):
        CF.scaled_dot_product_attention(q, _c(g, 2, 4), q)
    with pytest.raises(ValueError, match="same S"):
        CF.scaled_dot_product_attention(q, q, _c(g, 3, 3))
    with pytest.raises(ValueError, match=r"\(\*, L, E\)"):
        CF.attention_weights(q[0], q)
    with pytest.raises(TypeError, match="bool"):
        CF.scaled_dot_product_attention(q, q, q, attn_mask=torch.zeros(2, 2, dtype=torch.float32))
    with pytest.raises(ValueError, match="not both"):
        CF.scaled_dot_product_attention(q, q, q, attn_mask=torch.ones(2, 2).bool(), is_causal=True)
    with pytest.raises(ValueError, match="between 0 and 1"):
        CF.scaled_dot_product_attention(q, q, q, dropout_p=1.5)


def _rotary_reference(x, positions, base):
    """``x[..., m, k] * exp(i * pos_m * base ** (-k / D))`` by a loop over m and k."""
    x = x.detach().numpy()
    out = np.empty_like(x)
    length, dim = x.shape[-2:]
    for m in range(length):
        for k in range(dim):
            out[..., m, k] = x[..., m, k] * np.exp(1j * positions[m] * base ** (-k / dim))
    return out


def test_rotary_matches_loop_reference_and_keeps_modulus():
    g = torch.Generator().manual_seed(12)
    x = _c(g, 2, 5, 6)
    got = CF.rotary_embedding(x, base=50.0)
    np.testing.assert_allclose(got.numpy(), _rotary_reference(x, range(5), 50.0), atol=1e-12)
    torch.testing.assert_close(got.abs(), x.abs())
    positions = torch.tensor([3, 0, 7, 2, 11])
    got = CF.rotary_embedding(x, positions)
    want = _rotary_reference(x, positions.tolist(), 10000.0)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-12)


def test_rotary_is_real_rope_on_the_real_pairs():
    g = torch.Generator().manual_seed(13)
    x = _c(g, 4, 3)
    pairs = torch.view_as_real(x)  # (L, D, 2): pair k is (Re x_k, Im x_k)
    real_dim = 2 * x.shape[-1]
    freq = 10000.0 ** (-torch.arange(0, real_dim, 2, dtype=torch.float64) / real_dim)
    angle = torch.arange(4, dtype=torch.float64)[:, None] * freq
    a, b = pairs[..., 0], pairs[..., 1]
    rope = torch.stack((a * angle.cos() - b * angle.sin(), a * angle.sin() + b * angle.cos()), -1)
    torch.testing.assert_close(torch.view_as_real(CF.rotary_embedding(x)), rope)


@settings(max_examples=20, deadline=None)
@given(shift=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_rotary_scores_depend_only_on_relative_position(shift, seed):
    g = torch.Generator().manual_seed(seed)
    q, k = _c(g, 1, 8), _c(g, 1, 8)
    m, n = torch.randint(0, 50, (2,), generator=g).tolist()

    def score(m, n):
        qm = CF.rotary_embedding(q, torch.tensor([m]))
        kn = CF.rotary_embedding(k, torch.tensor([n]))
        return (qm @ kn.conj().T)[0, 0]

    torch.testing.assert_close(score(m, n), score(m + shift, n + shift))


def test_rotary_gradcheck_and_gradgradcheck():
    g = torch.Generator().manual_seed(14)
    x = _c(g, 3, 4).requires_grad_()
    positions = torch.tensor([0.5, 2.0, -1.0], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: CF.rotary_embedding(x, positions), (x,))
    assert torch.autograd.gradgradcheck(lambda x: CF.rotary_embedding(x, positions), (x,))


def test_rotary_bad_inputs():
    g = torch.Generator().manual_seed(15)
    x = _c(g, 3, 4)
    with pytest.raises(TypeError, match="to_complex"):
        CF.rotary_embedding(x.real)
    with pytest.raises(ValueError, match=r"\(\*, L, D\)"):
        CF.rotary_embedding(x[0])
    with pytest.raises(TypeError, match="real or integer"):
        CF.rotary_embedding(x, torch.ones(3, dtype=torch.bool))
