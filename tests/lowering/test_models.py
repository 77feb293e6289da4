"""Lowering of the models of phasor.models: the seed CNNs equal eager phasor (outputs, input and
parameter gradients, running statistics), compile with fullgraph=True, and carry trained state
back to the phasor model."""

from __future__ import annotations

import copy

import pytest
import torch

from phasor.lowering import complex_state_dict, lower, pair_state_dict, to_pair
from phasor.lowering._core import pair_tensor
from phasor.models.cnn import ACTIVATIONS, ComplexSeedCNN, RealSeedCNN

DTYPES = (torch.complex64, torch.complex128)
TOL = {torch.complex64: 2e-4, torch.complex128: 1e-9}
WIDTHS = (3, 4, 8)  # small (c1, c2, hidden): every layer of the "mnist" net, at a tenth the cost


def _model(activation: str, dtype=torch.complex64, seed: int = 0) -> ComplexSeedCNN:
    torch.manual_seed(seed)
    model = ComplexSeedCNN(WIDTHS, activation, dtype=dtype)
    if activation == "modrelu":  # away from the default zero bias, where the rule branches
        for name in ("act1", "act2", "act3"):
            torch.nn.init.uniform_(getattr(model, name).bias, -0.3, 0.1)
    return model


def _images(n: int, dtype, real: bool, seed: int = 1) -> torch.Tensor:
    """Real images in [0, 1), or complex ones, of shape (n, 1, 28, 28)."""
    g = torch.Generator().manual_seed(seed)
    if real:
        return torch.rand(n, 1, 28, 28, generator=g, dtype=dtype.to_real())
    return torch.randn(n, 1, 28, 28, generator=g, dtype=dtype)


def _run(module, x: torch.Tensor, weights: torch.Tensor):
    """Output, input gradient, parameter gradients and buffers (by name) after one call with
    the loss ``sum(weights * output)``."""
    x = x.clone().requires_grad_()
    out = module(x)
    module = getattr(module, "_orig_mod", module)  # the names of a compiled module's own
    params = dict(module.named_parameters())
    grads = torch.autograd.grad((weights * out).sum(), [x, *params.values()])
    return (
        out,
        grads[0],
        dict(zip(params, grads[1:], strict=True)),
        {name: b.clone() for name, b in module.named_buffers()},
    )


def _assert_lowered_equals_eager(model, lowered, x, real_input, tol):
    """The results of `_run` of ``lowered`` on ``x`` (in the pair layout unless real) equal
    those of ``model`` on ``x``, the phasor tensors in the lowered layout."""
    weights = torch.randn(x.shape[0], 10, dtype=x.real.dtype)
    out, grad_x, grads, buffers = _run(model, x, weights)
    out_l, grad_x_l, grads_l, buffers_l = _run(lowered, x if real_input else to_pair(x), weights)
    close = dict(atol=tol, rtol=tol)
    torch.testing.assert_close(out_l, out, **close)
    torch.testing.assert_close(grad_x_l, to_pair(grad_x), **close)
    assert grads_l.keys() == grads.keys()
    for name, g in grads.items():
        torch.testing.assert_close(grads_l[name], pair_tensor(g), **close, msg=name)
    assert buffers_l.keys() == buffers.keys()
    for name, b in buffers.items():
        torch.testing.assert_close(buffers_l[name], pair_tensor(b), **close, msg=name)


@pytest.mark.parametrize("real_input", [True, False], ids=["real", "complex"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["c64", "c128"])
def test_lowered_seed_cnn_equals_eager(dtype, activation, train, real_input):
    model = _model(activation, dtype)
    with torch.no_grad():  # non-trivial running statistics for eval mode
        model(_images(6, dtype, real=False, seed=2) + 0.5)
    model.train(train)
    lowered = lower(model, real_input=real_input)
    assert lowered.training == train
    assert not any(t.is_complex() for t in [*lowered.parameters(), *lowered.buffers()])
    x = _images(4, dtype, real_input)
    _assert_lowered_equals_eager(model, lowered, x, real_input, TOL[dtype])
    if train:
        assert int(lowered.bn.num_batches_tracked) == 2


@pytest.mark.parametrize("real_input", [True, False], ids=["real", "complex"])
def test_input_without_channel_axis_and_other_precision_are_taken_as_eager(real_input):
    model = _model("cardioid", torch.complex64)
    lowered = lower(model, real_input=real_input)
    # (N, 28, 28) in double precision: eager adds the channel axis and casts to complex64.
    x = _images(3, torch.complex128, real_input)[:, 0]
    _assert_lowered_equals_eager(model, lowered, x, real_input, TOL[torch.complex64])


@pytest.mark.parametrize("real_input", [True, False], ids=["real", "complex"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_lowered_pass_creates_no_complex_tensor(activation, real_input, complex_ops):
    lowered = lower(_model(activation), real_input=real_input).train()
    x = to_pair(_images(2, torch.complex64, real_input))
    with complex_ops() as ops:
        _run(lowered, x, torch.ones(2, 10))
    assert ops.seen == []


@pytest.mark.parametrize(
    ("activation", "real_input"), [(a, True) for a in ACTIVATIONS] + [("modrelu", False)]
)
def test_compile_fullgraph_equals_eager(activation, real_input):
    model = _model(activation).train()
    lowered = lower(model, real_input=real_input)
    torch._dynamo.reset()
    try:
        compiled = torch.compile(lowered, fullgraph=True, backend="aot_eager")
        x = _images(4, torch.complex64, real_input)
        _assert_lowered_equals_eager(model, compiled, x, real_input, TOL[torch.complex64])
    finally:
        torch._dynamo.reset()


def test_state_dicts_carry_lowered_training_back_to_the_phasor_model():
    model = _model("modrelu")
    other = _model("modrelu", seed=5)
    lowered = lower(other, real_input=True)
    lowered.load_state_dict(pair_state_dict(model))  # strict: the same names and shapes
    optimizer = torch.optim.Adam(lowered.parameters(), lr=1e-2)
    target = torch.arange(8) % 10
    for step in range(3):
        optimizer.zero_grad()
        loss = torch.nn.functional.nll_loss(
            lowered(_images(8, torch.complex64, True, step)), target
        )
        loss.backward()
        optimizer.step()
    x = _images(5, torch.complex64, real=True, seed=9)
    before = model.eval()(x)
    model.load_state_dict(complex_state_dict(lowered, model))
    assert model.conv1.weight.is_complex()
    with torch.no_grad():
        want = lowered.eval()(x)
        got = model(x)
    assert not torch.allclose(before, want, atol=1e-3)  # the training changed the function
    torch.testing.assert_close(got, want, atol=2e-5, rtol=2e-5)
    assert int(model.bn.num_batches_tracked) == 3


def test_real_seed_cnn_is_copied_and_refuses_pairs():
    torch.manual_seed(0)
    model = RealSeedCNN(WIDTHS)
    lowered = lower(model, real_input=True)
    x = torch.rand(3, 28, 28)
    torch.testing.assert_close(lowered(x), model(x), atol=0, rtol=0)
    with torch.no_grad():
        lowered.fc2.bias.add_(1.0)
    assert not torch.equal(lowered.fc2.bias, model.fc2.bias)  # its own parameters
    with pytest.raises(TypeError, match=r"RealSeedCNN.*real_input=True"):
        lower(model)


def test_complex_seed_cnn_in_a_sequential_keeps_the_names():
    model = torch.nn.Sequential(_model("zrelu"))
    lowered = lower(copy.deepcopy(model), real_input=True)
    assert lowered.state_dict().keys() == model.state_dict().keys()
    x = _images(2, torch.complex64, real=True)
    torch.testing.assert_close(lowered.eval()(x), model.eval()(x), atol=2e-4, rtol=2e-4)
