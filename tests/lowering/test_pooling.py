"""Lowered pooling (phasor.lowering.pooling) against eager phasor on options the module
examples leave out: 3-D windows, ceil_mode, dilation, padding, indices, unbatched inputs,
adaptive sizes with ``None``, odd and even spectral sizes."""

from __future__ import annotations

import pytest
import torch
from torch.utils import _pytree as pytree

import phasor.nn as P
from phasor.lowering import lower, to_pair
from phasor.lowering.pooling import spectral_crop_matrix

TOL = {torch.complex64: 2e-5, torch.complex128: 1e-12}


def _loss(out) -> torch.Tensor:
    """A real loss of every floating entry (the same entries in a tensor and in its pair)."""
    total = 0
    for t in pytree.tree_leaves(out):
        if t.is_complex() or t.is_floating_point():
            v = torch.view_as_real(t) if t.is_complex() else t
            total = total + (v * v).sum() + v.sum()
    return total


def assert_lowered_equals_eager(module, z: torch.Tensor) -> None:
    """Output (indices included) and input gradient of ``lower(module)`` equal eager phasor's."""
    z = z.clone().requires_grad_()
    out = module(z)
    (grad,) = torch.autograd.grad(_loss(out), z)
    x = to_pair(z.detach()).requires_grad_()
    out_lowered = lower(module)(x)
    (grad_lowered,) = torch.autograd.grad(_loss(out_lowered), x)
    tol = dict(atol=TOL[z.dtype], rtol=TOL[z.dtype])
    want = pytree.tree_map(to_pair, out)
    torch.testing.assert_close(out_lowered, want, **tol)
    torch.testing.assert_close(grad_lowered, to_pair(grad), **tol)


def _randn(*shape, dtype=torch.complex64):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=["c64", "c128"])
@pytest.mark.parametrize(
    "layer",
    [
        P.MaxPool3d((2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0)),
        P.MaxPool3d(3, stride=2, ceil_mode=True),
        P.MaxPool3d(2, stride=1, dilation=(2, 1, 2), return_indices=True),
        P.MaxPool3d(3, stride=2, padding=1, ceil_mode=True, return_indices=True),
        P.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
        P.MaxPool2d((3, 2), stride=(2, 1), dilation=(1, 2), ceil_mode=True),
    ],
    ids=repr,
)
def test_max_pool_windows(layer, dtype):
    spatial = {P.MaxPool1d: 1, P.MaxPool2d: 2, P.MaxPool3d: 3}[type(layer)]
    sizes = (7, 6, 5)[:spatial]
    assert_lowered_equals_eager(layer, _randn(2, 3, *sizes, dtype=dtype))


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (P.MaxPool1d(2), (3, 7)),
        (P.MaxPool2d(3, 2, 1), (3, 6, 5)),
        (P.MaxPool3d(2, return_indices=True), (2, 4, 5, 4)),
        (P.AdaptiveMaxPool2d((2, 3), return_indices=True), (3, 5, 7)),
        (P.AvgPool1d(3, 2, 1), (3, 7)),
        (P.AvgPool2d(2), (3, 5, 4)),
        (P.AvgPool3d(2, ceil_mode=True), (2, 3, 5, 4)),
        (P.AdaptiveAvgPool3d(2), (2, 3, 5, 4)),
        (P.SpectralPool2d(3), (3, 5, 6)),
    ],
    ids=repr,
)
def test_unbatched_inputs(layer, shape):
    assert_lowered_equals_eager(layer, _randn(*shape))


def test_max_pool_window_in_padding_raises_as_eager():
    layer = P.MaxPool3d((2, 1, 1), stride=1, padding=(1, 0, 0), dilation=(2, 1, 1))
    z = _randn(1, 1, 1, 3, 3)
    with pytest.raises(ValueError, match="padding") as eager:
        layer(z)
    with pytest.raises(ValueError, match="padding") as lowered:
        lower(layer)(to_pair(z))
    assert str(lowered.value) == str(eager.value)


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=["c64", "c128"])
@pytest.mark.parametrize(
    ("layer", "sizes"),
    [
        (P.AdaptiveMaxPool1d(4, return_indices=True), (9,)),
        (P.AdaptiveMaxPool1d(5), (5,)),
        (P.AdaptiveMaxPool2d((None, 3)), (5, 7)),
        (P.AdaptiveMaxPool2d(3, return_indices=True), (7, 4)),
        (P.AdaptiveMaxPool3d((3, None, 2)), (5, 4, 7)),
        (P.AdaptiveMaxPool3d(2, return_indices=True), (3, 5, 4)),
    ],
    ids=repr,
)
def test_adaptive_max_pool(layer, sizes, dtype):
    assert_lowered_equals_eager(layer, _randn(2, 3, *sizes, dtype=dtype))


def test_indices_are_int64_as_eager():
    layer = P.AdaptiveMaxPool3d(2, return_indices=True)
    z = _randn(2, 3, 4, 5, 3)
    _, indices = lower(layer)(to_pair(z))
    assert indices.dtype == torch.int64
    assert torch.equal(indices, layer(z)[1])


@pytest.mark.parametrize(
    "layer",
    [
        P.AvgPool3d((2, 3, 2), stride=(1, 2, 1), padding=(1, 1, 0)),
        P.AvgPool3d(3, 2, 1, ceil_mode=True, count_include_pad=False),
        P.AvgPool3d(2, divisor_override=3),
        P.AdaptiveAvgPool3d((None, 2, 3)),
        P.AdaptiveAvgPool3d(4),
    ],
    ids=repr,
)
def test_avg_pool_3d(layer):
    assert_lowered_equals_eager(layer, _randn(2, 3, 5, 6, 7))


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=["c64", "c128"])
@pytest.mark.parametrize(("size_in", "size_out"), [(7, 4), (7, 3), (8, 5), (8, 4), (6, 1), (5, 5)])
def test_spectral_pool1d_odd_and_even_sizes(size_in, size_out, dtype):
    assert_lowered_equals_eager(P.SpectralPool1d(size_out), _randn(2, 3, size_in, dtype=dtype))


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=["c64", "c128"])
@pytest.mark.parametrize(
    ("sizes", "output_size"),
    [((7, 6), (4, 3)), ((8, 9), (5, 4)), ((6, 7), (None, 2)), ((5, 4), 3), ((5, 5), 5)],
)
def test_spectral_pool2d_odd_and_even_sizes(sizes, output_size, dtype):
    assert_lowered_equals_eager(P.SpectralPool2d(output_size), _randn(2, 3, *sizes, dtype=dtype))


@pytest.mark.parametrize(("size_in", "size_out"), [(9, 4), (9, 5), (10, 6), (10, 7)])
def test_spectral_crop_matrix_is_fft_crop_ifft(size_in, size_out):
    """The matrix against the FFT written out: its columns are the pooled unit impulses."""
    spectrum = torch.fft.fft(torch.eye(size_in, dtype=torch.complex128), dim=0, norm="forward")
    low, high = (size_out + 1) // 2, size_out // 2
    cropped = torch.cat([spectrum[:low], spectrum[size_in - high :]])
    if size_out % 2 == 0:
        cropped[low] += spectrum[high]
    want = torch.fft.ifft(cropped, dim=0, norm="forward")
    real, imag = spectral_crop_matrix(size_in, size_out, torch.float64)
    torch.testing.assert_close(torch.complex(real, imag), want, atol=1e-13, rtol=0)


@pytest.mark.parametrize("output_size", [0, 8, (3, 2)])
def test_spectral_pool_bad_output_size_raises_as_eager(output_size):
    layer = P.SpectralPool1d(output_size)
    z = _randn(1, 2, 7)
    with pytest.raises(ValueError, match="output_size") as eager:
        layer(z)
    with pytest.raises(ValueError, match="output_size") as lowered:
        lower(layer)(to_pair(z))
    assert str(lowered.value) == str(eager.value)


@pytest.mark.parametrize(
    "layer",
    [
        P.MaxPool3d(2),
        P.AdaptiveMaxPool1d(2),
        P.AdaptiveMaxPool3d(2),
        P.AvgPool3d(2),
        P.AdaptiveAvgPool3d(2),
        P.SpectralPool1d(2),
        P.SpectralPool2d(2),
    ],
    ids=repr,
)
def test_real_input_is_refused_as_by_eager(layer):
    with pytest.raises(TypeError, match="complex"):
        layer(torch.randn(1, 2, 4, 4, 4))
    with pytest.raises(TypeError, match="real input"):
        lower(layer, real_input=True)


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (P.MaxPool3d(2, 1, 1, return_indices=True), (2, 2, 3, 4, 5)),
        (P.AdaptiveMaxPool3d((1, 2, 2)), (2, 3, 2, 4, 6)),
        (P.AvgPool3d(2, 1, 1), (2, 2, 3, 3, 3)),
        (P.SpectralPool1d(4), (2, 3, 7)),
        (P.SpectralPool2d((3, 4)), (2, 3, 6, 7)),
    ],
    ids=repr,
)
def test_onnx_export_equals_eager(layer, shape, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from phasor.export import to_onnx

    z = _randn(*shape)
    path = tmp_path / "pool.onnx"
    to_onnx(layer, z, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = [torch.from_numpy(t) for t in session.run(None, {"input": to_pair(z).numpy()})]
    want = pytree.tree_leaves(pytree.tree_map(to_pair, layer(z)))
    torch.testing.assert_close(got, want, atol=2e-6, rtol=1e-5)
