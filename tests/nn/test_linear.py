"""Tests of phasor.nn.Linear: parameters, forward against a reference, options, repr."""

import importlib
import math

import pytest
import torch

import phasor
from phasor.backend import BACKENDS
from phasor.nn import Linear


@pytest.mark.parametrize("dtype", [None, torch.complex64, torch.complex128])
def test_parameters(dtype):
    layer = Linear(5, 3, dtype=dtype)
    expected = torch.complex64 if dtype is None else dtype
    assert layer.weight.shape == (3, 5) and layer.weight.dtype == expected
    assert layer.bias.shape == (3,) and layer.bias.dtype == expected
    assert torch.equal(layer.bias, torch.zeros(3, dtype=expected))
    assert layer.weight.imag.abs().sum() > 0
    assert Linear(5, 3, bias=False).bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


@pytest.mark.parametrize("backend", [None, *BACKENDS])
def test_forward_matches_reference(backend):
    layer = Linear(4, 3, dtype=torch.complex128, backend=backend)
    with torch.no_grad():
        layer.bias.copy_(torch.randn(3, dtype=torch.complex128))
    x = torch.randn(2, 5, 4, dtype=torch.complex128)
    expected = (x.unsqueeze(-2) * layer.weight).sum(-1) + layer.bias
    torch.testing.assert_close(layer(x), expected)


def test_gradcheck_through_module():
    layer = Linear(3, 2, dtype=torch.complex128, backend="gauss")
    x = torch.randn(4, 3, dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,))
    layer(x).abs().sum().backward()
    assert layer.weight.grad.shape == (2, 3) and layer.bias.grad.shape == (2,)


def test_default_init_is_complex_glorot():
    layer = Linear(400, 300)
    var = layer.weight.abs().square().mean().item()
    n = layer.weight.numel()
    expected = 2 / (400 + 300)
    assert abs(var - expected) < 5 * expected / math.sqrt(n)


def test_init_options():
    he = Linear(400, 300, init="he").weight
    var = he.abs().square().mean().item()
    assert abs(var - 2 / 400) < 5 * (2 / 400) / math.sqrt(he.numel())
    w = Linear(6, 4, dtype=torch.complex128, init="unitary").weight
    torch.testing.assert_close(w @ w.mH, torch.eye(4, dtype=torch.complex128))
    with pytest.raises(ValueError, match="unknown init"):
        Linear(3, 2, init="xavier")


def test_backend_attribute(monkeypatch):
    module = importlib.import_module("phasor.functional.linear")
    calls = []
    original = module._gauss
    monkeypatch.setattr(module, "_gauss", lambda *a: calls.append(a) or original(*a))
    layer = Linear(3, 2, backend="gauss")
    layer(torch.randn(1, 3, dtype=torch.complex64))
    assert len(calls) == 1
    layer.backend = None  # follow the global default
    with phasor.use_backend("native"):
        layer(torch.randn(1, 3, dtype=torch.complex64))
    assert len(calls) == 1
    with phasor.use_backend("gauss"):
        layer(torch.randn(1, 3, dtype=torch.complex64))
    assert len(calls) == 2
    with pytest.raises(ValueError, match="unknown backend"):
        Linear(3, 2, backend="fast")


def test_errors():
    with pytest.raises(TypeError, match=r"complex64 or torch\.complex128"):
        Linear(3, 2, dtype=torch.float32)
    layer = Linear(3, 2)
    with pytest.raises(TypeError, match=r"real torch\.float32"):
        layer(torch.randn(4, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match="complex128"):
        layer(torch.randn(4, 3, dtype=torch.complex128))
    with pytest.raises(ValueError, match=r"\(\*, 3\)"):
        layer(torch.randn(4, 5, dtype=torch.complex64))


def test_real_input_is_taken_as_it_is():
    """Real images or signals go straight into the first layer: same result as a complex cast."""
    layer = Linear(5, 3)
    x = torch.rand(4, 5)
    out = layer(x)
    assert out.dtype == torch.complex64
    torch.testing.assert_close(out, layer(x.to(torch.complex64)))


@pytest.mark.parametrize("complex_input", [False, True])
def test_weight_is_stored_transposed_and_its_gradient_keeps_that_layout(complex_input):
    """W^T contiguous: the real-input path reads W without a copy, and the gradient of either
    path arrives in the parameter's layout (autograd then stores it without copying)."""
    layer = Linear(5, 3)
    assert layer.weight.shape == (3, 5) and layer.weight.t().is_contiguous()
    x = torch.rand(4, 5)
    x = x.to(torch.complex64) if complex_input else x
    layer(x).abs().sum().backward()
    assert layer.weight.grad.stride() == layer.weight.stride()
    reference = Linear(5, 3)
    with torch.no_grad():
        reference.weight.copy_(layer.weight)
        reference.bias.copy_(layer.bias)
    xc = x.to(torch.complex64)
    expected = torch.autograd.grad(
        (xc @ reference.weight.T.contiguous() + reference.bias).abs().sum(), reference.weight
    )[0]
    torch.testing.assert_close(layer.weight.grad, expected)


def test_extra_repr():
    assert repr(Linear(3, 2)) == "Linear(in_features=3, out_features=2, bias=True)"
    assert (
        Linear(3, 2, bias=False, init="he", backend="real").extra_repr()
        == "in_features=3, out_features=2, bias=False, init='he', backend='real'"
    )
    assert Linear(3, 2).extra_repr() == torch.nn.Linear(3, 2).extra_repr()


@pytest.mark.filterwarnings("ignore:Complex modules are a new feature")
def test_to_complex128_and_state_dict():
    layer = Linear(3, 2).to(torch.complex128)
    assert layer.weight.dtype == torch.complex128
    out = layer(torch.randn(1, 3, dtype=torch.complex128))
    assert out.dtype == torch.complex128
    other = Linear(3, 2, dtype=torch.complex128)
    other.load_state_dict(layer.state_dict())
    assert torch.equal(other.weight, layer.weight)
