"""The Upsample layer: a thin wrapper over phasor.functional.upsample, with torch's arguments."""

import pytest
import torch

import phasor.functional as CF
import phasor.nn as cnn


def crandn(*shape, dtype=torch.complex128, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=dtype, generator=g)


@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [
        ({"scale_factor": 2}, (2, 3, 4, 4)),
        ({"size": 7, "mode": "linear", "align_corners": True}, (2, 3, 4)),
        ({"size": (5, 6), "mode": "bilinear", "polar": True}, (2, 3, 3, 4)),
        ({"scale_factor": (1, 2, 2), "mode": "trilinear", "polar": True}, (1, 2, 2, 3, 3)),
    ],
)
def test_layer_equals_functional(kwargs, shape):
    x = crandn(*shape)
    torch.testing.assert_close(cnn.Upsample(**kwargs)(x), CF.upsample(x, **kwargs))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scale_factor": 2},
        {"size": (5, 7), "mode": "bilinear", "align_corners": False},
        {"scale_factor": 1.5, "mode": "bicubic", "align_corners": True},
    ],
)
def test_parts_follow_torch_upsample(kwargs):
    x = crandn(2, 3, 4, 5, seed=1)
    out = cnn.Upsample(**kwargs)(x)
    torch.testing.assert_close(out.real, torch.nn.Upsample(**kwargs)(x.real))
    torch.testing.assert_close(out.imag, torch.nn.Upsample(**kwargs)(x.imag))


def test_polar_layer_keeps_unit_magnitude_where_by_part_shrinks_it():
    phase = 2.8 * torch.arange(8, dtype=torch.float64)
    x = torch.polar(torch.ones_like(phase), phase).view(1, 1, 8)
    polar = cnn.Upsample(scale_factor=4, mode="linear", polar=True)(x)
    torch.testing.assert_close(polar.abs(), torch.ones(1, 1, 32, dtype=torch.float64))
    assert cnn.Upsample(scale_factor=4, mode="linear")(x).abs().min() < 0.5


def test_upsample_in_a_network_backpropagates():
    net = torch.nn.Sequential(
        cnn.Conv2d(2, 3, 3, padding=1),
        cnn.Upsample(scale_factor=2, mode="bilinear", polar=True),
        cnn.Conv2d(3, 1, 3, padding=1),
    )
    x = crandn(2, 2, 4, 4, dtype=torch.complex64, seed=2)
    out = net(x)
    assert out.shape == (2, 1, 8, 8) and out.dtype == torch.complex64
    out.abs().sum().backward()
    assert all(torch.isfinite(torch.view_as_real(p.grad)).all() for p in net.parameters())


def test_repr_names_the_arguments():
    text = repr(cnn.Upsample(scale_factor=2, mode="bilinear", polar=True))
    assert "scale_factor=2" in text and "'bilinear'" in text and "polar=True" in text
    assert "size=(3, 4)" in repr(cnn.Upsample((3, 4)))


def test_layer_rejects_real_input():
    with pytest.raises(TypeError, match="to_complex"):
        cnn.Upsample(scale_factor=2)(torch.randn(1, 1, 4, 4))
