"""phasor.nn attention modules against torch's real modules (real data, real weights) and
against plain compositions written out in the test."""

import itertools
import math

import pytest
import torch
from torch import nn

import phasor.nn as cnn

C128 = torch.complex128
F64 = torch.float64


def _c(g, *shape):
    return torch.randn(*shape, dtype=C128, generator=g)


def _r(g, *shape):
    return torch.randn(*shape, dtype=F64, generator=g)


def _copy_mha(ours: cnn.MultiheadAttention, theirs: nn.MultiheadAttention) -> None:
    """Give ``ours`` the real weights of ``theirs`` (imaginary parts zero)."""
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            if name.startswith("out_proj"):
                continue
            getattr(ours, name).copy_(p)
        ours.out_proj.weight.copy_(theirs.out_proj.weight)
        if theirs.out_proj.bias is not None:
            ours.out_proj.bias.copy_(theirs.out_proj.bias)


def _randomise(module: nn.Module, g) -> None:
    """Random values in every parameter, biases included (they start at zero)."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, dtype=p.dtype, generator=g))


@pytest.mark.parametrize(
    ("batch_first", "dims", "masks"),
    [
        (False, {}, "none"),
        (True, {}, "bool"),
        (False, {"kdim": 3, "vdim": 5}, "float"),
        (True, {"kdim": 3, "vdim": 2}, "causal"),
        (False, {}, "unbatched"),
    ],
)
@pytest.mark.parametrize("average", [True, False])
def test_mha_with_real_data_and_weights_is_torch_mha(batch_first, dims, masks, average):
    g = torch.Generator().manual_seed(0)
    e, h, n, length, source = 6, 3, 2, 4, 5
    kdim, vdim = dims.get("kdim", e), dims.get("vdim", e)
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(e, h, batch_first=batch_first, dtype=F64, **dims).eval()
    _randomise(theirs, g)
    ours = cnn.MultiheadAttention(e, h, batch_first=batch_first, dtype=C128, **dims).eval()
    _copy_mha(ours, theirs)

    def seq(length, features):
        if masks == "unbatched":
            return _r(g, length, features)
        return _r(g, n, length, features) if batch_first else _r(g, length, n, features)

    q, k, v = seq(length, e), seq(source, kdim), seq(source, vdim)
    if masks == "causal":
        k, v = seq(length, kdim), seq(length, vdim)
    kwargs = {"average_attn_weights": average}
    theirs_kwargs = {}
    if masks == "bool":
        padding = torch.rand(n, source, generator=g) < 0.3
        padding[:, 0] = False
        kwargs["key_padding_mask"] = padding
        kwargs["attn_mask"] = torch.rand(length, source, generator=g) < 0.2
        kwargs["attn_mask"][:, 1] = False
    elif masks == "float":
        kwargs["attn_mask"] = _r(g, n * h, length, source)
        kwargs["key_padding_mask"] = _r(g, n, source)
    elif masks == "causal":
        kwargs["is_causal"] = True
        # torch reads is_causal as a hint and needs the mask itself
        theirs_kwargs["attn_mask"] = torch.ones(length, length, dtype=torch.bool).triu(1)
    want_out, want_w = theirs(q, k, v, **kwargs, **theirs_kwargs)
    for x in ((q, k, v), tuple(t.to(C128) for t in (q, k, v))):  # real input and imag = 0
        out, weights = ours(*x, **kwargs)
        assert out.dtype == C128 and weights.dtype == F64
        torch.testing.assert_close(out.real, want_out)
        torch.testing.assert_close(out.imag, torch.zeros_like(want_out))
        torch.testing.assert_close(weights, want_w)


def _softmax(x):
    """Explicit softmax over the last axis; a row that is all ``-inf`` gives zeros."""
    out = torch.zeros_like(x)
    for idx in itertools.product(*map(range, x.shape[:-1])):
        row = x[idx]
        if bool(torch.isneginf(row).all()):
            continue
        e = torch.exp(row - row.max())
        out[idx] = e / e.sum()
    return out


def _mha_reference(module, q, k, v, key_padding_mask=None):
    """Multi-head attention of batch-first inputs written out head by head."""
    e, h = module.embed_dim, module.num_heads
    d = e // h
    w = module.in_proj_weight
    b = module.in_proj_bias
    qp, kp, vp = (
        x @ w[i * e : (i + 1) * e].T + b[i * e : (i + 1) * e] for i, x in enumerate((q, k, v))
    )
    n, length, source = q.shape[0], q.shape[1], k.shape[1]
    heads = torch.zeros(n, length, e, dtype=C128)
    all_weights = []
    for j in range(h):
        sl = slice(j * d, (j + 1) * d)
        s = torch.einsum("nle,nse->nls", qp[..., sl], kp[..., sl].conj()) / math.sqrt(d)
        mask = torch.zeros(n, 1, source, dtype=F64)
        if key_padding_mask is not None:
            mask = mask.masked_fill(key_padding_mask[:, None, :], -math.inf)
        if module.score == "real":
            a = _softmax(s.real + mask)
        elif module.score == "magnitude":
            a = _softmax(s.abs() + mask)
        else:
            a = torch.complex(_softmax(s.real + mask), _softmax(s.imag + mask))
        all_weights.append(a)
        heads[..., sl] = torch.einsum("nls,nse->nle", a.to(C128), vp[..., sl])
    out = heads @ module.out_proj.weight.T + module.out_proj.bias
    return out, torch.stack(all_weights, 1)


@pytest.mark.parametrize("score", ["real", "magnitude", "split"])
def test_mha_matches_head_by_head_reference(score):
    g = torch.Generator().manual_seed(1)
    module = cnn.MultiheadAttention(4, 2, batch_first=True, score=score, dtype=C128)
    _randomise(module, g)
    q, k, v = _c(g, 2, 3, 4), _c(g, 2, 5, 4), _c(g, 2, 5, 4)
    padding = torch.tensor([[False, True, False, False, True], [True, True, True, True, True]])
    out, weights = module(q, k, v, key_padding_mask=padding, average_attn_weights=False)
    want_out, want_w = _mha_reference(module, q, k, v, padding)
    torch.testing.assert_close(out, want_out)
    torch.testing.assert_close(weights, want_w)
    assert weights.is_complex() == (score == "split")
    # The second sample has no key: zero weights, output the output projection's bias.
    torch.testing.assert_close(out[1], module.out_proj.bias.expand(3, 4))
    assert module(q, k, v, need_weights=False)[1] is None


def test_mha_self_attention_gradcheck():
    g = torch.Generator().manual_seed(2)
    module = cnn.MultiheadAttention(2, 1, score="split", dtype=C128)
    _randomise(module, g)
    x = _c(g, 3, 1, 2).requires_grad_()
    assert torch.autograd.gradcheck(lambda x: module(x, x, x)[0], (x,))


def test_mha_dropout_drops_weights_in_training_only():
    g = torch.Generator().manual_seed(3)
    module = cnn.MultiheadAttention(4, 2, dropout=1.0, dtype=C128)
    _randomise(module, g)
    x = _c(g, 3, 2, 4)
    out, weights = module(x, x, x)
    assert torch.equal(weights, torch.zeros_like(weights))
    torch.testing.assert_close(out, module.out_proj.bias.expand(3, 2, 4))
    module.eval()
    _, weights = module(x, x, x)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, dtype=F64))


def test_mha_bad_arguments():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        cnn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match="unknown score"):
        cnn.MultiheadAttention(4, 2, score="phase")
    with pytest.raises(TypeError, match=r"complex64 or torch\.complex128"):
        cnn.MultiheadAttention(4, 2, dtype=torch.float32)
    module = cnn.MultiheadAttention(4, 2)
    x = torch.randn(3, 2, 4, dtype=torch.complex64)
    with pytest.raises(ValueError, match="key_padding_mask must have shape"):
        module(x, x, x, key_padding_mask=torch.zeros(3, 2, dtype=torch.bool))
    with pytest.raises(TypeError, match="True = masked"):
        module(x, x, x, attn_mask=torch.zeros(3, 3, dtype=F64))
    with pytest.raises(ValueError, match="3-D"):
        module(x[0, 0], x, x)
    with pytest.raises(ValueError, match="batch size"):
        module(x, x[:, :1], x[:, :1])
    with pytest.raises(TypeError, match="dtype"):
        module(x.to(C128), x, x)


def _layer_norm(x, norm):
    """Complex layer norm written out: centre, divide by the RMS modulus, affine."""
    centred = x - x.mean(-1, keepdim=True)
    power = (centred.abs() ** 2).mean(-1, keepdim=True)
    return centred / torch.sqrt(power + norm.eps) * norm.weight + norm.bias


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_is_the_plain_composition(norm_first):
    g = torch.Generator().manual_seed(4)
    layer = cnn.TransformerEncoderLayer(
        4, 2, 6, batch_first=True, norm_first=norm_first, score="split", dtype=C128
    ).eval()
    _randomise(layer, g)
    x = _c(g, 2, 3, 4)
    padding = torch.tensor([[False, False, True], [False, True, False]])

    def sa(x):
        return _mha_reference(layer.self_attn, x, x, x, padding)[0]

    def ff(x):
        hidden = x @ layer.linear1.weight.T + layer.linear1.bias
        hidden = torch.complex(hidden.real.clamp(min=0), hidden.imag.clamp(min=0))  # CReLU
        return hidden @ layer.linear2.weight.T + layer.linear2.bias

    if norm_first:
        y = x + sa(_layer_norm(x, layer.norm1))
        want = y + ff(_layer_norm(y, layer.norm2))
    else:
        y = _layer_norm(x + sa(x), layer.norm1)
        want = _layer_norm(y + ff(y), layer.norm2)
    torch.testing.assert_close(layer(x, src_key_padding_mask=padding), want)


def _copy_encoder_layer(ours, theirs):
    _copy_mha(ours.self_attn, theirs.self_attn)
    with torch.no_grad():
        for name in ("linear1", "linear2", "norm1", "norm2"):
            for p in ("weight", "bias"):
                getattr(getattr(ours, name), p).copy_(getattr(getattr(theirs, name), p))


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_with_real_data_and_weights_is_torch_encoder(norm_first):
    g = torch.Generator().manual_seed(5)
    kw = {"dim_feedforward": 8, "batch_first": True, "norm_first": norm_first}
    theirs_layer = nn.TransformerEncoderLayer(4, 2, dtype=F64, **kw)
    _randomise(theirs_layer, g)
    theirs = nn.TransformerEncoder(
        theirs_layer, 2, norm=nn.LayerNorm(4, dtype=F64), enable_nested_tensor=False
    ).eval()
    _randomise(theirs, g)  # the two layers differ
    ours = cnn.TransformerEncoder(
        cnn.TransformerEncoderLayer(4, 2, dtype=C128, **kw),
        2,
        norm=cnn.ComplexLayerNorm(4, dtype=C128),
    ).eval()
    for mine, other in zip(ours.layers, theirs.layers, strict=True):
        _copy_encoder_layer(mine, other)
    with torch.no_grad():
        ours.norm.weight.copy_(theirs.norm.weight)
        ours.norm.bias.copy_(theirs.norm.bias)
    x = _r(g, 2, 5, 4)
    causal = torch.ones(5, 5, dtype=torch.bool).triu(1)
    want = theirs(x, mask=causal, is_causal=True)
    got = ours(x.to(C128), is_causal=True)
    torch.testing.assert_close(got, want.to(C128))


def test_encoder_copies_are_independent():
    layer = cnn.TransformerEncoderLayer(4, 2, 6)
    encoder = cnn.TransformerEncoder(layer, 3)
    first, second = encoder.layers[0].linear1.weight, encoder.layers[1].linear1.weight
    assert torch.equal(first, second) and first.data_ptr() != second.data_ptr()
    with pytest.raises(ValueError, match="at least 1"):
        cnn.TransformerEncoder(layer, 0)
    with pytest.raises(TypeError, match="callable"):
        cnn.TransformerEncoderLayer(4, 2, activation="relu")


def test_rotary_module():
    g = torch.Generator().manual_seed(6)
    x = _c(g, 2, 5, 4)
    module = cnn.RotaryEmbedding(4, base=30.0)
    theta = 30.0 ** (-torch.arange(4, dtype=F64) / 4)
    angles = torch.arange(5, dtype=F64)[:, None] * theta
    torch.testing.assert_close(module(x), x * torch.exp(1j * angles))
    positions = torch.tensor([[1, 4, 2, 0, 3], [0, 0, 1, 1, 2]])  # one row per sample
    torch.testing.assert_close(
        module(x, positions), x * torch.exp(1j * positions[..., None] * theta)
    )
    with pytest.raises(ValueError, match=r"\(\*, L, 4\)"):
        module(x[..., :3])


def test_positional_embedding():
    g = torch.Generator().manual_seed(7)
    module = cnn.ComplexPositionalEmbedding(6, 4, dtype=C128)
    assert module.weight.dtype == C128 and module.weight.shape == (6, 4)
    x = _c(g, 2, 3, 4)
    torch.testing.assert_close(module(x), x + module.weight[:3])
    positions = torch.tensor([5, 0, 2])
    torch.testing.assert_close(module(x, positions), x + module.weight[[5, 0, 2]])
    real = _r(g, 3, 4)
    torch.testing.assert_close(module(real), real + module.weight[:3])
    with pytest.raises(ValueError, match="only 6"):
        module(_c(g, 7, 4))
    with pytest.raises(TypeError, match="integer"):
        module(x, positions.double())
    with pytest.raises(TypeError, match="dtype"):
        module(x.to(torch.complex64))
