"""Lowered Upsample (phasor.lowering.upsampling) against eager phasor: every mode by part,
``align_corners``, size and scale factors, the polar form (phase wraps, zeros), the errors."""

from __future__ import annotations

import math

import pytest
import torch

import phasor.nn as P
from phasor.lowering import from_pair, lower, to_pair

TOL = {torch.complex64: 2e-5, torch.complex128: 1e-12}


def assert_lowered_equals_eager(layer, z: torch.Tensor) -> None:
    """Output and input gradient of ``lower(layer)`` equal eager phasor's."""
    z = z.clone().requires_grad_()
    out = layer(z)
    (grad,) = torch.autograd.grad((torch.view_as_real(out) ** 2).sum() + out.real.sum(), z)
    x = to_pair(z.detach()).requires_grad_()
    out_lowered = lower(layer)(x)
    (grad_lowered,) = torch.autograd.grad((out_lowered**2).sum() + out_lowered[:, 0].sum(), x)
    tol = dict(atol=TOL[z.dtype], rtol=TOL[z.dtype])
    torch.testing.assert_close(out_lowered, to_pair(out), **tol)
    torch.testing.assert_close(grad_lowered, to_pair(grad), **tol)


def _randn(*shape, dtype=torch.complex64):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(5))


SPATIAL_SIZES = {1: (5,), 2: (4, 3), 3: (3, 2, 4)}


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=["c64", "c128"])
@pytest.mark.parametrize(
    ("spatial", "kwargs"),
    [
        (1, dict(scale_factor=3)),
        (2, dict(size=(7, 5))),
        (3, dict(scale_factor=(2, 1.5, 1))),
        (1, dict(size=9, mode="nearest-exact")),
        (3, dict(scale_factor=2, mode="nearest-exact")),
        (1, dict(size=3, mode="area")),
        (2, dict(size=(7, 2), mode="area")),
        (3, dict(size=(2, 3, 3), mode="area")),
        (1, dict(scale_factor=2.5, mode="linear")),
        (1, dict(size=8, mode="linear", align_corners=True)),
        (2, dict(scale_factor=(2, 3), mode="bilinear")),
        (2, dict(size=(7, 5), mode="bilinear", align_corners=True)),
        (2, dict(size=(6, 7), mode="bicubic")),
        (2, dict(scale_factor=2, mode="bicubic", align_corners=True)),
        (3, dict(scale_factor=2, mode="trilinear")),
        (3, dict(size=(4, 5, 6), mode="trilinear", align_corners=True)),
    ],
    ids=repr,
)
def test_every_mode_by_part(spatial, kwargs, dtype):
    z = _randn(2, 3, *SPATIAL_SIZES[spatial], dtype=dtype)
    assert_lowered_equals_eager(P.Upsample(**kwargs), z)


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=["c64", "c128"])
@pytest.mark.parametrize(
    ("spatial", "kwargs"),
    [
        (1, dict(size=11, mode="linear")),
        (1, dict(scale_factor=3, mode="linear", align_corners=True)),
        (2, dict(scale_factor=(2, 3), mode="bilinear")),
        (2, dict(size=(7, 5), mode="bilinear", align_corners=True)),
        (3, dict(scale_factor=2, mode="trilinear")),
        (3, dict(size=(5, 3, 6), mode="trilinear", align_corners=False)),
    ],
    ids=repr,
)
def test_polar_modes(spatial, kwargs, dtype):
    z = _randn(2, 3, *SPATIAL_SIZES[spatial], dtype=dtype)
    assert_lowered_equals_eager(P.Upsample(polar=True, **kwargs), z)


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=["c64", "c128"])
def test_polar_phase_ramp_across_the_branch_cut_and_zeros(dtype):
    """A ramp whose phase wraps past pi (unwrapped by both), with exact zeros (gradient 0)."""
    positions = torch.arange(9, dtype=dtype.to_real())
    ramp = torch.polar(1 + positions / 10, 2.5 + 0.9 * positions).to(dtype)
    ramp[3] = 0
    ramp[7] = -2.0  # phase pi exactly
    z = torch.stack([ramp, ramp.flip(0)]).unsqueeze(0)
    layer = P.Upsample(scale_factor=2, mode="linear", polar=True)
    assert_lowered_equals_eager(layer, z)
    out = from_pair(lower(layer)(to_pair(z)))
    assert out.abs().max() <= z.abs().max() + 1e-6  # no overshoot of the magnitude
    assert torch.isfinite(torch.view_as_real(out)).all()


def test_polar_zero_input_has_zero_gradient_as_eager():
    z = torch.zeros(1, 2, 4, dtype=torch.complex64)
    assert_lowered_equals_eager(P.Upsample(size=7, mode="linear", polar=True), z)


def test_nan_propagates_as_eager():
    z = _randn(1, 2, 5)
    z[0, 1, 2] = complex(math.nan, 0)
    for layer in (
        P.Upsample(scale_factor=2, mode="linear"),
        P.Upsample(size=8, polar=True, mode="linear"),
    ):
        want = layer(z)
        got = from_pair(lower(layer)(to_pair(z)))
        torch.testing.assert_close(got, want, equal_nan=True, atol=2e-5, rtol=2e-5)
        assert torch.isnan(torch.view_as_real(want)).any()


@pytest.mark.parametrize(
    ("layer", "shape", "match"),
    [
        (P.Upsample(scale_factor=2, mode="bilinear"), (1, 2, 5), "mode 'bilinear' expects"),
        (P.Upsample(scale_factor=2, mode="linear"), (1, 2, 3, 3), "mode 'linear' expects"),
        (P.Upsample(scale_factor=2, polar=True), (1, 2, 5), "polar=True"),
        (P.Upsample(mode="linear"), (1, 2, 5), "exactly one"),
        (P.Upsample(size=4, scale_factor=2), (1, 2, 5), "exactly one"),
        (P.Upsample(scale_factor=2), (2, 5), "3-D or 4-D or 5-D"),
    ],
    ids=repr,
)
def test_bad_arguments_raise_as_eager(layer, shape, match):
    z = _randn(*shape)
    with pytest.raises(ValueError, match=match):
        layer(z)
    with pytest.raises(ValueError, match=match):
        lower(layer)(to_pair(z))


def test_real_input_is_refused_as_by_eager():
    layer = P.Upsample(scale_factor=2)
    with pytest.raises(TypeError, match="complex"):
        layer(torch.randn(1, 2, 4))
    with pytest.raises(TypeError, match="real input"):
        lower(layer, real_input=True)


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (P.Upsample(scale_factor=2), (2, 3, 3, 4)),
        (P.Upsample(size=(5, 7), mode="bicubic", align_corners=True), (2, 3, 3, 4)),
        (P.Upsample(scale_factor=2, mode="linear", polar=True), (2, 3, 5)),
        (
            P.Upsample(size=(3, 4, 5), mode="trilinear", align_corners=True, polar=True),
            (2, 2, 2, 3, 3),
        ),
    ],
    ids=repr,
)
def test_onnx_export_equals_eager(layer, shape, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from phasor.export import to_onnx

    z = _randn(*shape)
    path = tmp_path / "upsample.onnx"
    to_onnx(layer, z, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(["output"], {"input": to_pair(z).numpy()})
    torch.testing.assert_close(torch.from_numpy(got), to_pair(layer(z)), atol=5e-6, rtol=1e-5)
