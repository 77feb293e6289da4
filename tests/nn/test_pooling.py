"""Complex pooling layers: thin wrappers over phasor.functional, with torch's arguments."""

import pytest
import torch
import torch.nn.functional as F

import phasor.functional as CF
import phasor.nn as cnn


def crandn(*shape, dtype=torch.complex128, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=dtype, generator=g)


@pytest.mark.parametrize(
    ("layer", "fn", "shape"),
    [
        (cnn.MaxPool1d(3, 2, 1), lambda x: CF.max_pool1d(x, 3, 2, 1), (2, 3, 9)),
        (cnn.MaxPool2d(2), lambda x: CF.max_pool2d(x, 2, 2), (2, 3, 6, 6)),
        (
            cnn.MaxPool2d((2, 3), (1, 2), dilation=(1, 2), ceil_mode=True),
            lambda x: CF.max_pool2d(x, (2, 3), (1, 2), dilation=(1, 2), ceil_mode=True),
            (2, 3, 7, 8),
        ),
        (cnn.AvgPool1d(3, 2, 1), lambda x: CF.avg_pool1d(x, 3, 2, 1), (2, 3, 9)),
        (
            cnn.AvgPool2d(3, 2, 1, count_include_pad=False),
            lambda x: CF.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
            (2, 3, 7, 7),
        ),
        (cnn.AdaptiveAvgPool1d(4), lambda x: CF.adaptive_avg_pool1d(x, 4), (2, 3, 9)),
        (cnn.AdaptiveAvgPool2d((3, 2)), lambda x: CF.adaptive_avg_pool2d(x, (3, 2)), (2, 3, 7, 7)),
    ],
)
def test_layer_equals_functional(layer, fn, shape):
    x = crandn(*shape)
    torch.testing.assert_close(layer(x), fn(x))


def test_max_pool_layers_match_modulus_pooling_of_torch():
    x = crandn(3, 4, 8, 8, seed=1)
    out = cnn.MaxPool2d(2)(x)
    torch.testing.assert_close(out.abs(), torch.nn.MaxPool2d(2)(x.abs()))
    out1 = cnn.MaxPool1d(3, stride=2)(x[..., 0])
    torch.testing.assert_close(out1.abs(), torch.nn.MaxPool1d(3, stride=2)(x[..., 0].abs()))


def test_stride_none_defaults_to_kernel_size():
    for layer in (cnn.MaxPool1d(3), cnn.MaxPool2d(3), cnn.AvgPool1d(3), cnn.AvgPool2d(3)):
        assert layer.stride == 3
    assert cnn.MaxPool2d(3)(crandn(2, 2, 9, 9)).shape == (2, 2, 3, 3)
    assert cnn.AvgPool1d(3)(crandn(2, 2, 9)).shape == (2, 2, 3)


def test_max_pool_return_indices():
    x = crandn(2, 3, 6, 6, seed=2)
    out, idx = cnn.MaxPool2d(2, return_indices=True)(x)
    torch.testing.assert_close(out, CF.max_pool2d(x, 2))
    assert torch.equal(idx, F.max_pool2d(x.abs(), 2, return_indices=True)[1])


def test_pooling_in_a_network_backpropagates():
    net = torch.nn.Sequential(cnn.MaxPool2d(2), cnn.AvgPool2d(2), cnn.AdaptiveAvgPool2d(1))
    x = crandn(2, 3, 8, 8, dtype=torch.complex64, seed=3).requires_grad_()
    out = net(x)
    assert out.shape == (2, 3, 1, 1)
    assert out.dtype == torch.complex64
    out.abs().sum().backward()
    # Max pooling passes gradient to exactly one element in each 2x2 window.
    assert int((x.grad != 0).sum()) == 2 * 3 * 4 * 4


def test_repr_names_the_arguments():
    assert "kernel_size=2" in repr(cnn.MaxPool2d(2))
    assert "output_size=(3, 2)" in repr(cnn.AdaptiveAvgPool2d((3, 2)))


def test_layers_reject_real_input():
    with pytest.raises(TypeError, match="to_complex"):
        cnn.MaxPool2d(2)(torch.randn(1, 1, 4, 4))
    with pytest.raises(TypeError, match="to_complex"):
        cnn.AvgPool1d(2)(torch.randn(1, 1, 4))


@pytest.mark.parametrize(
    ("layer", "fn", "shape"),
    [
        (cnn.MaxPool3d(2), lambda x: CF.max_pool3d(x, 2), (2, 2, 4, 4, 4)),
        (
            cnn.MaxPool3d((2, 1, 2), 1, (1, 0, 0), ceil_mode=True),
            lambda x: CF.max_pool3d(x, (2, 1, 2), 1, (1, 0, 0), ceil_mode=True),
            (2, 2, 3, 4, 5),
        ),
        (cnn.AvgPool3d(3, 2, 1), lambda x: CF.avg_pool3d(x, 3, 2, 1), (2, 2, 5, 5, 5)),
        (
            cnn.AvgPool3d(2, divisor_override=3),
            lambda x: CF.avg_pool3d(x, 2, divisor_override=3),
            (2, 2, 4, 4, 4),
        ),
        (
            cnn.AdaptiveAvgPool3d((2, 1, 3)),
            lambda x: CF.adaptive_avg_pool3d(x, (2, 1, 3)),
            (2, 2, 5, 4, 6),
        ),
        (cnn.AdaptiveMaxPool1d(3), lambda x: CF.adaptive_max_pool1d(x, 3), (2, 3, 8)),
        (cnn.AdaptiveMaxPool2d((2, 3)), lambda x: CF.adaptive_max_pool2d(x, (2, 3)), (2, 3, 5, 7)),
        (cnn.AdaptiveMaxPool3d(2), lambda x: CF.adaptive_max_pool3d(x, 2), (2, 2, 3, 4, 5)),
        (cnn.SpectralPool1d(5), lambda x: CF.spectral_pool1d(x, 5), (2, 3, 8)),
        (cnn.SpectralPool2d((3, 4)), lambda x: CF.spectral_pool2d(x, (3, 4)), (2, 3, 6, 6)),
    ],
)
def test_new_layers_equal_functional(layer, fn, shape):
    x = crandn(*shape, seed=4)
    torch.testing.assert_close(layer(x), fn(x))


@pytest.mark.parametrize(
    ("layer", "torch_layer", "shape"),
    [
        (
            cnn.MaxPool3d(2, return_indices=True),
            torch.nn.MaxPool3d(2, return_indices=True),
            (2, 2, 4, 4, 4),
        ),
        (
            cnn.AdaptiveMaxPool1d(3, return_indices=True),
            torch.nn.AdaptiveMaxPool1d(3, return_indices=True),
            (2, 3, 8),
        ),
        (
            cnn.AdaptiveMaxPool2d((2, 3), return_indices=True),
            torch.nn.AdaptiveMaxPool2d((2, 3), return_indices=True),
            (2, 3, 5, 7),
        ),
        (
            cnn.AdaptiveMaxPool3d(2, return_indices=True),
            torch.nn.AdaptiveMaxPool3d(2, return_indices=True),
            (2, 2, 3, 4, 5),
        ),
    ],
)
def test_max_layers_pool_the_modulus_as_torch_does(layer, torch_layer, shape):
    x = crandn(*shape, seed=5)
    out, idx = layer(x)
    want, want_idx = torch_layer(x.abs())
    torch.testing.assert_close(out.abs(), want)
    assert torch.equal(idx, want_idx)
    assert not isinstance(type(layer)(2)(x), tuple)


def test_new_layers_repr_names_the_arguments():
    assert "kernel_size=2" in repr(cnn.MaxPool3d(2))
    assert "kernel_size=3" in repr(cnn.AvgPool3d(3))
    assert "output_size=(2, 3)" in repr(cnn.AdaptiveMaxPool2d((2, 3)))
    assert "output_size=4" in repr(cnn.SpectralPool2d(4))
    assert "output_size=(1, 2, 3)" in repr(cnn.AdaptiveAvgPool3d((1, 2, 3)))


def test_spectral_pooling_in_a_network_backpropagates():
    net = torch.nn.Sequential(cnn.Conv2d(1, 4, 3, padding=1), cnn.SpectralPool2d(4), cnn.CReLU())
    x = torch.rand(2, 1, 8, 8)
    out = net(x)
    assert out.shape == (2, 4, 4, 4) and out.dtype == torch.complex64
    out.abs().sum().backward()
    assert all(torch.isfinite(torch.view_as_real(p.grad)).all() for p in net.parameters())
