"""The lowered attention family against eager phasor beyond the every-module examples: every
score map in every layout, the attention weights (averaged or per head, or none), masks of each
kind with ``is_causal``, kdim/vdim, real inputs, the kernels, dropout in train vs eval, pre- and
post-norm encoder layers with module and function activations, the position encodings'
options; no complex tensor in the lowered pass, and ``torch.compile(fullgraph=True)``."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest
import torch
from torch.utils import _pytree as pytree

import phasor.functional as PF
import phasor.nn as P
from phasor.lowering import lower, to_pair
from phasor.lowering._core import pair_tensor
from phasor.lowering.attention import ACTIVATION_MODULES

_calls_spec = importlib.util.spec_from_file_location(
    "_phasor_lowering_calls", Path(__file__).with_name("calls.py")
)
_calls = importlib.util.module_from_spec(_calls_spec)
_calls_spec.loader.exec_module(_calls)

C128 = torch.complex128
TOL = {torch.complex64: 2e-4, torch.complex128: 1e-9}
SCORES = pytest.mark.parametrize("score", ["real", "magnitude", "split"])
LAYOUTS = pytest.mark.parametrize("layout", ["batch_first", "seq_first", "unbatched"])


def _run(module, args, kwargs, pair: bool):
    """Output, gradients of the floating arguments and of the parameters (by name)."""
    return _calls.run(module, args, pair, kwargs)[:3]


def _check(module, args, kwargs=None, dtype=C128, kernel="by-shape"):
    """``lower(module)`` equals ``module`` on ``args``: output (complex ones as pairs),
    argument and parameter gradients; returns phasor's output."""
    kwargs = kwargs or {}
    real_input = not args[0].is_complex()
    lowered = lower(module, real_input=real_input, kernel=kernel)
    out, grads, param_grads = _run(module, args, kwargs, pair=False)
    out_l, grads_l, param_grads_l = _run(lowered, args, kwargs, pair=True)
    tol = dict(atol=TOL[dtype], rtol=TOL[dtype])
    as_pair = pytree.tree_map(lambda t: to_pair(t) if isinstance(t, torch.Tensor) else t, out)
    torch.testing.assert_close(out_l, as_pair, **tol)
    torch.testing.assert_close(grads_l, [None if g is None else to_pair(g) for g in grads], **tol)
    assert param_grads_l.keys() == param_grads.keys()
    for name, g in param_grads.items():
        expected = None if g is None else pair_tensor(g)
        torch.testing.assert_close(param_grads_l[name], expected, **tol, msg=name)
    return out


def _complex(*shape, dtype=C128):
    return torch.randn(*shape, dtype=dtype)


def _perturbed(module):
    """``module`` with its parameters (biases zero at start) moved to random values."""
    torch.manual_seed(2)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return module


def _qkv(layout, n=2, length=3, source=5, dims=(4, 4, 4), dtype=C128):
    """Query, key and value of ``layout``."""
    torch.manual_seed(0)

    def shape(seq, features):
        return {
            "batch_first": (n, seq, features),
            "seq_first": (seq, n, features),
            "unbatched": (seq, features),
        }[layout]

    e, kdim, vdim = dims
    return (
        _complex(*shape(length, e), dtype=dtype),
        _complex(*shape(source, kdim), dtype=dtype),
        _complex(*shape(source, vdim), dtype=dtype),
    )


def _attention(score, layout, heads=2, **kw):
    torch.manual_seed(0)
    layer = P.MultiheadAttention(4, heads, batch_first=layout == "batch_first", score=score, **kw)
    return _perturbed(layer.double())


@SCORES
@LAYOUTS
@pytest.mark.parametrize(("need_weights", "average"), [(True, True), (True, False), (False, True)])
def test_attention_weights_output(score, layout, need_weights, average):
    _, weights = _check(
        _attention(score, layout),
        _qkv(layout),
        dict(need_weights=need_weights, average_attn_weights=average),
    )
    if not need_weights:
        assert weights is None
    else:
        assert weights.is_complex() == (score == "split")
        heads = () if average else (2,)
        batch = () if layout == "unbatched" else (2,)
        assert weights.shape == (*batch, *heads, 3, 5)


def _masks(kind, n=2, heads=2, length=3, source=5):
    """Keyword masks of ``kind``; the bool ones mask every key of one query or sample row."""
    torch.manual_seed(3)
    if kind == "bool-2d":
        mask = torch.rand(length, source) < 0.4
        mask[1] = True  # a query with every key masked: zero weights
        return dict(attn_mask=mask)
    if kind == "float-3d":
        return dict(attn_mask=-torch.rand(n * heads, length, source, dtype=torch.float64))
    if kind == "padding-bool":
        padding = torch.rand(n, source) < 0.4
        padding[:, 0] = False
        return dict(key_padding_mask=padding)
    if kind == "padding-float+causal":
        return dict(key_padding_mask=-torch.rand(n, source, dtype=torch.float64), is_causal=True)
    if kind == "causal+bool":
        return dict(attn_mask=torch.rand(length, source) < 0.3, is_causal=True)
    raise AssertionError(kind)


MASKS = ["bool-2d", "float-3d", "padding-bool", "padding-float+causal", "causal+bool"]


@SCORES
@pytest.mark.parametrize("kind", MASKS)
def test_masks(score, kind):
    layer = _attention(score, "batch_first")
    masks = _masks(kind)
    args = _qkv("batch_first")
    padding = masks.get("key_padding_mask")
    if padding is not None and padding.is_floating_point():
        # Passed positionally, so that its gradient is compared too.
        args = (*args, masks.pop("key_padding_mask"))
    _, weights = _check(layer, args, masks)
    if kind == "bool-2d":
        assert bool((weights[:, 1] == 0).all())


@SCORES
def test_unbatched_key_padding_mask(score):
    padding = torch.tensor([False, True, False, True, False])
    _check(_attention(score, "unbatched"), _qkv("unbatched"), dict(key_padding_mask=padding))


@SCORES
@LAYOUTS
def test_kdim_vdim_without_bias(score, layout):
    layer = _attention(score, layout, heads=1, kdim=3, vdim=2, bias=False)
    _check(layer, _qkv(layout, dims=(4, 3, 2)))


@pytest.mark.parametrize("kernel", ["stacked", "gauss"])
@pytest.mark.parametrize("dtype", [torch.complex64, C128], ids=["c64", "c128"])
def test_kernels(kernel, dtype):
    layer = _attention("split", "seq_first")
    layer = layer.float() if dtype == torch.complex64 else layer
    _check(layer, _qkv("seq_first", dtype=dtype), dtype=dtype, kernel=kernel)


@pytest.mark.parametrize("real", ["query", "key-value", "all"])
def test_real_inputs(real):
    layer = _attention("real", "batch_first", kdim=3, vdim=2)
    q, k, v = _qkv("batch_first", dims=(4, 3, 2))
    if real in ("query", "all"):
        q = q.real
    if real in ("key-value", "all"):
        k, v = k.real, v.real
    _check(layer, (q, k, v))


@SCORES
def test_dropout_draws_in_train_and_none_in_eval(score):
    layer = _attention(score, "batch_first", dropout=0.5)
    args = _qkv("batch_first")
    train_out = _check(layer.train(), args)
    eval_out = _check(layer.eval(), args)
    # Dropout acted in training (so the equal draws above were tested) and not in eval.
    assert not torch.allclose(train_out[0], eval_out[0])


@SCORES
def test_lowered_attention_creates_no_complex_tensor(score, complex_ops):
    layer = _attention(score, "unbatched", dropout=0.3)
    lowered = lower(layer)
    args = [to_pair(x) for x in _qkv("unbatched")]
    padding = torch.tensor([False, True, False, False, False])
    with complex_ops() as mode:
        _run(lowered, args, dict(key_padding_mask=padding, is_causal=True), pair=False)
    assert mode.seen == []


def test_compile_fullgraph_split_weights_with_masks():
    layer = _attention("split", "seq_first", dropout=0.3).float()
    lowered = lower(layer)
    args = _qkv("seq_first", dtype=torch.complex64)
    kwargs = dict(key_padding_mask=_masks("padding-bool")["key_padding_mask"], is_causal=True)
    eager = _run(copy.deepcopy(lowered), args, kwargs, pair=True)
    torch._dynamo.reset()
    try:
        compiled = torch.compile(copy.deepcopy(lowered), fullgraph=True, backend="aot_eager")
        got = _run(compiled, args, kwargs, pair=True)
    finally:
        torch._dynamo.reset()
    torch.testing.assert_close(got[:2], eager[:2])
    torch.testing.assert_close(
        {k.removeprefix("_orig_mod."): v for k, v in got[2].items()}, eager[2]
    )


def _encoder_layer(layout="batch_first", **kw):
    torch.manual_seed(0)
    layer = P.TransformerEncoderLayer(
        4, 2, dim_feedforward=6, dropout=0.2, batch_first=layout == "batch_first", **kw
    )
    return _perturbed(layer.double())


def _src(layout, n=2, length=3):
    torch.manual_seed(0)
    shape = {"batch_first": (n, length, 4), "seq_first": (length, n, 4), "unbatched": (length, 4)}
    return _complex(*shape[layout])


@pytest.mark.parametrize("norm_first", [False, True], ids=["postnorm", "prenorm"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@SCORES
@LAYOUTS
def test_encoder_layer(norm_first, train, score, layout):
    layer = _encoder_layer(layout, norm_first=norm_first, score=score).train(train)
    padding = torch.tensor([False, True, False]) if layout == "unbatched" else None
    if padding is None:
        padding = torch.tensor([[False, True, False], [False, False, True]])
    src_mask = -torch.rand(3, 3, dtype=torch.float64)
    _check(layer, (_src(layout), src_mask, padding), dict(is_causal=True))


@pytest.mark.parametrize(
    "activation",
    [PF.split_tanh, PF.cardioid, P.ModReLU(1), P.SplitGELU("tanh")],
    ids=["split_tanh", "cardioid", "ModReLU", "SplitGELU-tanh"],
)
def test_encoder_layer_activations(activation):
    layer = _encoder_layer(activation=copy.deepcopy(activation))
    _check(layer, (_src("batch_first"),))


def test_encoder_layer_unknown_activation_function_is_refused():
    layer = _encoder_layer(activation=lambda z: z * z)
    with pytest.raises(ValueError, match="activation function"):
        lower(layer)


@pytest.mark.parametrize("name", sorted(f.__name__ for f in ACTIVATION_MODULES))
def test_activation_functions_equal_their_modules(name):
    function = getattr(PF, name)
    z = _complex(5, 7)
    torch.testing.assert_close(ACTIVATION_MODULES[function]()(z), function(z))


def test_encoder_layer_real_src_as_phasor():
    _check(_encoder_layer(), (_src("batch_first").real,))
    layer = _encoder_layer(norm_first=True)
    with pytest.raises(TypeError):
        layer(_src("batch_first").real)
    with pytest.raises(TypeError, match="real input"):
        lower(layer, real_input=True)


@pytest.mark.parametrize("norm", [None, "layer"])
@pytest.mark.parametrize("real_src", [False, True], ids=["complex", "real"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_encoder(norm, real_src, train):
    torch.manual_seed(0)
    layer = P.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.2, score="magnitude")
    norm_layer = None if norm is None else P.ComplexLayerNorm(4)
    encoder = _perturbed(P.TransformerEncoder(layer, 3, norm=norm_layer).double()).train(train)
    src = _src("seq_first")
    src = src.real if real_src else src
    _check(encoder, (src, -torch.rand(3, 3, dtype=torch.float64)), dict(is_causal=True))


@pytest.mark.parametrize(
    ("shape", "positions"),
    [
        ((3, 4), None),
        ((2, 5, 3, 4), None),
        ((2, 3, 4), torch.tensor([4.0, 0.5, -2.0], dtype=torch.float64)),
        ((2, 3, 4), torch.tensor([[0, 2, 7], [1, 1, 3]])),
    ],
    ids=["unbatched", "4d", "real-positions", "int-per-sample"],
)
def test_rotary(shape, positions):
    layer = P.RotaryEmbedding(4, base=50.0)
    args = (_complex(*shape),) if positions is None else (_complex(*shape), positions)
    _check(layer, args)


def test_rotary_refuses_a_real_input_as_phasor():
    with pytest.raises(TypeError):
        P.RotaryEmbedding(4)(torch.randn(3, 4))
    with pytest.raises(TypeError, match="real input"):
        lower(P.RotaryEmbedding(4), real_input=True)


@pytest.mark.parametrize("real", [False, True], ids=["complex", "real"])
@pytest.mark.parametrize(
    ("shape", "positions"),
    [
        ((3, 4), None),
        ((2, 3, 4), torch.tensor([4, 0, 2])),
        ((2, 3, 4), torch.tensor([[0, 2, 4], [1, 1, 3]], dtype=torch.int32)),
    ],
    ids=["unbatched", "positions", "int32-per-sample"],
)
def test_positional_embedding(real, shape, positions):
    torch.manual_seed(0)
    layer = P.ComplexPositionalEmbedding(5, 4).double()
    x = _complex(*shape)
    x = x.real if real else x
    _check(layer, (x,) if positions is None else (x, positions))


def test_positional_embedding_too_long_input_is_refused():
    lowered = lower(P.ComplexPositionalEmbedding(1, 4))
    with pytest.raises(ValueError, match="positions"):
        lowered(to_pair(_complex(2, 3, 4)))


@SCORES
def test_onnx_export_with_masks_equals_phasor(score, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from phasor.export import to_onnx

    torch.manual_seed(0)
    layer = _perturbed(P.MultiheadAttention(4, 2, batch_first=True, score=score)).eval()
    query, key, value = _qkv("batch_first", dtype=torch.complex64)
    padding = _masks("padding-bool")["key_padding_mask"]
    to_onnx(layer, (query, key, value, padding), tmp_path / "attention.onnx")
    session = ort.InferenceSession(tmp_path / "attention.onnx", providers=["CPUExecutionProvider"])
    feeds = dict(
        zip(
            [i.name for i in session.get_inputs()],
            [to_pair(x).numpy() for x in (query, key, value, padding)],
            strict=True,
        )
    )
    out, weights = layer(query, key, value, padding)
    got_out, got_weights = session.run(None, feeds)
    tol = dict(atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(torch.from_numpy(got_out), to_pair(out).detach(), **tol)
    torch.testing.assert_close(torch.from_numpy(got_weights), to_pair(weights).detach(), **tol)
