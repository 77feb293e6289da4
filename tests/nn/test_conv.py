"""Tests of the complex convolution layers against torch.nn's real layers of the same name.

The reference is seed 003's formula ``(A * x - B * y) + i (B * x + A * y) + b``, with ``A * .``
and ``B * .`` real torch.nn layers built with the same arguments (so padding modes,
``padding="same"`` and ``output_size`` follow PyTorch exactly).
"""

import importlib
import math

import pytest
import torch

import phasor
import phasor.nn as cnn
from phasor.backend import BACKENDS

# PyTorch warns that an even kernel with padding="same" pads asymmetrically; that is tested.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

# (class name, constructor arguments, input shape)
CASES = [
    ("Conv1d", dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, groups=2), (2, 4, 9)),
    ("Conv1d", dict(in_channels=3, out_channels=2, kernel_size=4, padding="same"), (3, 10)),
    (
        "Conv2d",
        dict(in_channels=2, out_channels=4, kernel_size=(3, 2), padding=(1, 2), dilation=(2, 1)),
        (2, 2, 7, 6),
    ),
    (
        "Conv2d",
        dict(in_channels=4, out_channels=4, kernel_size=3, padding=1, groups=4, bias=False),
        (1, 4, 5, 5),
    ),
    (
        "Conv2d",
        dict(in_channels=2, out_channels=3, kernel_size=3, padding=2, padding_mode="reflect"),
        (2, 2, 6, 5),
    ),
    (
        "Conv2d",
        dict(
            in_channels=2,
            out_channels=3,
            kernel_size=(2, 3),
            padding="same",
            dilation=2,
            padding_mode="circular",
        ),
        (1, 2, 6, 7),
    ),
    (
        "Conv3d",
        dict(in_channels=2, out_channels=2, kernel_size=2, padding=1, padding_mode="replicate"),
        (1, 2, 3, 4, 3),
    ),
    (
        "ConvTranspose1d",
        dict(in_channels=4, out_channels=2, kernel_size=3, stride=2, output_padding=1, groups=2),
        (2, 4, 5),
    ),
    (
        "ConvTranspose2d",
        dict(
            in_channels=3,
            out_channels=2,
            kernel_size=(2, 3),
            stride=(1, 2),
            padding=(0, 1),
            dilation=(2, 1),
        ),
        (3, 4, 4),
    ),
    (
        "ConvTranspose3d",
        dict(in_channels=2, out_channels=4, kernel_size=2, stride=2, groups=2),
        (1, 2, 2, 3, 2),
    ),
]


def reference(name, kwargs, layer, x, **forward_kwargs):
    """Re/Im from two real torch.nn layers holding A = Re W and B = Im W, plus the bias."""
    real_kwargs = dict(kwargs, bias=False, dtype=torch.float64)
    a, b = getattr(torch.nn, name)(**real_kwargs), getattr(torch.nn, name)(**real_kwargs)
    with torch.no_grad():
        a.weight.copy_(layer.weight.real)
        b.weight.copy_(layer.weight.imag)
    xr, xi = x.real, x.imag
    re = a(xr, **forward_kwargs) - b(xi, **forward_kwargs)
    im = b(xr, **forward_kwargs) + a(xi, **forward_kwargs)
    out = torch.complex(re, im)
    if layer.bias is not None:
        out = out + layer.bias.reshape(-1, *[1] * (layer.weight.dim() - 2))
    return out


def with_random_bias(layer):
    if layer.bias is not None:
        with torch.no_grad():
            layer.bias.copy_(torch.randn_like(layer.bias))
    return layer


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("name", "kwargs", "x_shape"), CASES)
def test_forward_matches_real_torch_layers(name, kwargs, x_shape, backend):
    layer = getattr(cnn, name)(**kwargs, dtype=torch.complex128, backend=backend)
    with_random_bias(layer)
    x = torch.randn(x_shape, dtype=torch.complex128)
    out = layer(x)
    expected = reference(name, kwargs, layer, x)
    assert out.dtype == torch.complex128
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize(("name", "kwargs", "x_shape"), CASES)
def test_real_input_matches_real_torch_layers(name, kwargs, x_shape):
    """A real input (e.g. an image batch) is taken as it is, padding modes included."""
    layer = with_random_bias(getattr(cnn, name)(**kwargs, dtype=torch.complex128))
    x = torch.randn(x_shape, dtype=torch.float64)
    out = layer(x)
    assert out.dtype == torch.complex128
    torch.testing.assert_close(out, reference(name, kwargs, layer, x.to(torch.complex128)))


@pytest.mark.parametrize(("name", "kwargs", "x_shape"), CASES)
def test_parameters_and_repr(name, kwargs, x_shape):
    layer = getattr(cnn, name)(**kwargs)
    torch_layer = getattr(torch.nn, name)(**kwargs)
    assert layer.weight.shape == torch_layer.weight.shape
    assert layer.weight.dtype == torch.complex64
    assert layer.weight.imag.abs().sum() > 0
    if kwargs.get("bias", True):
        assert torch.equal(layer.bias, torch.zeros_like(layer.bias))
    else:
        assert layer.bias is None
    assert layer.extra_repr() == torch_layer.extra_repr()
    assert repr(layer).startswith(f"{name}(")


def test_repr_of_phasor_options():
    layer = cnn.Conv2d(2, 4, 3, init="unitary", backend="gauss")
    assert layer.extra_repr() == (
        "2, 4, kernel_size=(3, 3), stride=(1, 1), init='unitary', backend='gauss'"
    )


def test_conv_transpose_output_size():
    kwargs = dict(in_channels=2, out_channels=3, kernel_size=3, stride=3, padding=1)
    layer = with_random_bias(cnn.ConvTranspose2d(**kwargs, dtype=torch.complex128))
    x = torch.randn(2, 2, 4, 5, dtype=torch.complex128)
    assert layer(x).shape == (2, 3, 10, 13)
    for size in [(11, 14), (12, 15), (2, 3, 12, 13)]:
        out = layer(x, output_size=size)
        assert out.shape[-2:] == tuple(size[-2:])
        torch.testing.assert_close(
            out, reference("ConvTranspose2d", kwargs, layer, x, output_size=size)
        )
    with pytest.raises(ValueError, match=r"must lie in \[10, 12\]"):
        layer(x, output_size=(13, 13))
    with pytest.raises(ValueError, match="2 spatial sizes"):
        layer(x, output_size=(12,))


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradcheck_through_module(backend):
    layer = cnn.Conv2d(
        2,
        2,
        2,
        padding=1,
        padding_mode="circular",
        groups=2,
        dtype=torch.complex128,
        backend=backend,
    )
    with_random_bias(layer)
    x = torch.randn(1, 2, 3, 3, dtype=torch.complex128, requires_grad=True)
    params = (x, layer.weight, layer.bias)

    def f(x, w, b):
        return torch.func.functional_call(layer, {"weight": w, "bias": b}, (x,))

    assert torch.autograd.gradcheck(f, params)


@pytest.mark.parametrize("name", ["Conv1d", "ConvTranspose2d"])
def test_backend_attribute(monkeypatch, name):
    module = importlib.import_module("phasor.functional.linear")
    calls = []
    original = module._real

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "_real", spy)
    layer = getattr(cnn, name)(2, 2, 2, backend="real")
    x = torch.randn(1, 2, *[4] * layer._n, dtype=torch.complex64)
    layer(x)
    assert len(calls) == 1
    layer.backend = None
    with phasor.use_backend("native"):
        layer(x)
    assert len(calls) == 1
    with phasor.use_backend("real"):
        layer(x)
    assert len(calls) == 2


def test_default_init_is_complex_glorot():
    w = cnn.Conv2d(32, 48, 3).weight
    fan_in, fan_out = 32 * 9, 48 * 9
    expected = 2 / (fan_in + fan_out)
    var = w.abs().square().mean().item()
    assert abs(var - expected) < 5 * expected / math.sqrt(w.numel())
    he = cnn.Conv1d(32, 48, 3, init="he").weight
    var = he.abs().square().mean().item()
    assert abs(var - 2 / (32 * 3)) < 5 * (2 / (32 * 3)) / math.sqrt(he.numel())


def test_unitary_init_for_conv():
    w = cnn.Conv2d(4, 6, 3, dtype=torch.complex128, init="unitary").weight
    m = w.reshape(6, -1)
    torch.testing.assert_close(m @ m.mH, torch.eye(6, dtype=torch.complex128))


def test_errors():
    with pytest.raises(ValueError, match="divisible by groups=2"):
        cnn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="divisible by groups=2"):
        cnn.ConvTranspose1d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        cnn.Conv1d(2, 2, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="only supports padding_mode='zeros'"):
        cnn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="int or tuple padding"):
        cnn.ConvTranspose2d(2, 2, 3, padding="same")
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        cnn.Conv2d(2, 2, 3, padding="full")
    with pytest.raises(ValueError, match="needs stride=1"):
        cnn.Conv2d(2, 2, 3, padding="same", stride=2)
    with pytest.raises(ValueError, match="tuple of 2 ints"):
        cnn.Conv2d(2, 2, (3, 3, 3))
    with pytest.raises(ValueError, match="unknown init"):
        cnn.Conv2d(2, 2, 3, init="orthogonal")
    with pytest.raises(ValueError, match="unknown backend"):
        cnn.Conv2d(2, 2, 3, backend="fast")
    with pytest.raises(TypeError, match="complex64 or torch"):
        cnn.Conv3d(2, 2, 3, dtype=torch.float64)
    layer = cnn.Conv2d(2, 2, 3)
    with pytest.raises(TypeError, match=r"real torch\.float32"):
        layer(torch.randn(1, 2, 5, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(N, C_in, H, W\)"):
        layer(torch.randn(5, 5, dtype=torch.complex64))
    with pytest.raises(ValueError, match="2 channels"):
        layer(torch.randn(1, 3, 5, 5, dtype=torch.complex64))
