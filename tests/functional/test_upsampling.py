"""Complex up-sampling against numpy references written here (np.interp per axis, Keys cubic
convolution, np.unwrap), phase ramps, magnitude bounds and gradients."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import phasor.functional as CF
from phasor.functional.upsampling import _unwrap

C128 = torch.complex128


def crandn(*shape, dtype=C128, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=dtype, generator=g)


def source_positions(n_in, n_out, scale_factor, align_corners, clamp=True):
    """Where torch reads output sample ``i`` (in input sample units), written from its docs:
    corners aligned ``i (n_in - 1) / (n_out - 1)``, else pixel centres
    ``(i + 0.5) / s - 0.5`` with ``s`` the scale factor given or ``n_out / n_in``."""
    i = np.arange(n_out, dtype=np.float64)
    if align_corners:
        return i * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros(1)
    ratio = 1 / scale_factor if scale_factor is not None else n_in / n_out
    src = (i + 0.5) * ratio - 0.5
    return np.maximum(src, 0) if clamp else src


def out_sizes(shape, size, scale_factor):
    if size is not None:
        return list(size)
    return [math.floor(n * scale_factor) for n in shape]


def ref_linear(a, size, scale_factor, align_corners):
    """Multilinear interpolation of the complex numpy array ``a`` (N, C, *spatial), one axis at
    a time with np.interp (which clamps at the ends, as torch does)."""
    spatial = a.ndim - 2
    sizes = out_sizes(a.shape[2:], size, scale_factor)
    for d in range(spatial):
        axis = 2 + d
        n = a.shape[axis]
        src = source_positions(n, sizes[d], scale_factor, align_corners)
        a = np.apply_along_axis(lambda v, s=src, n=n: np.interp(s, np.arange(n), v), axis, a)
    return a


def keys(t, a=-0.75):
    """Keys' cubic convolution kernel (torch's bicubic, A = -0.75)."""
    t = abs(t)
    if t <= 1:
        return ((a + 2) * t - (a + 3)) * t * t + 1
    if t < 2:
        return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return 0.0


def ref_bicubic(a, size, scale_factor, align_corners):
    """Separable cubic convolution on complex values, edge samples repeated."""
    sizes = out_sizes(a.shape[2:], size, scale_factor)
    for d in range(2):
        axis = 2 + d
        n = a.shape[axis]
        src = source_positions(n, sizes[d], scale_factor, align_corners, clamp=False)
        moved = np.moveaxis(a, axis, -1)
        out = np.zeros((*moved.shape[:-1], len(src)), dtype=a.dtype)
        for i, s in enumerate(src):
            x0 = math.floor(s)
            for j in range(x0 - 1, x0 + 3):
                out[..., i] += keys(s - j) * moved[..., min(max(j, 0), n - 1)]
        a = np.moveaxis(out, -1, axis)
    return a


def ref_nearest(a, size, scale_factor):
    sizes = out_sizes(a.shape[2:], size, scale_factor)
    for d in range(a.ndim - 2):
        n = a.shape[2 + d]
        ratio = 1 / scale_factor if scale_factor is not None else n / sizes[d]
        index = np.minimum(np.floor(np.arange(sizes[d]) * ratio).astype(int), n - 1)
        a = np.take(a, index, axis=2 + d)
    return a


def ref_polar(a, size, scale_factor, align_corners):
    """Magnitude and phase, the phase unwrapped with np.unwrap along each axis before
    interpolating along it."""
    mag, phase = np.abs(a), np.angle(a)
    sizes = out_sizes(a.shape[2:], size, scale_factor)
    for d in range(a.ndim - 2):
        axis = 2 + d
        n = a.shape[axis]
        src = source_positions(n, sizes[d], scale_factor, align_corners)
        phase = np.unwrap(phase, axis=axis)

        def interp(v, s=src, n=n):
            return np.interp(s, np.arange(n), v)

        mag = np.apply_along_axis(interp, axis, mag)
        phase = np.apply_along_axis(interp, axis, phase)
    return mag * np.exp(1j * phase)


MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}

resample = st.fixed_dictionaries(
    {
        "spatial": st.sampled_from([1, 2, 3]),
        "shape": st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(2, 5)),
        "by_size": st.booleans(),
        "out": st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 9)),
        "scale": st.sampled_from([1.0, 1.5, 2.0, 2.5, 3.0]),
        "align_corners": st.booleans(),
        "seed": st.integers(0, 1000),
    }
)


def draw_call(r):
    shape = r["shape"][: r["spatial"]]
    x = crandn(2, 2, *shape, seed=r["seed"])
    if r["by_size"]:
        return x, tuple(r["out"][: r["spatial"]]), None
    return x, None, r["scale"]


@settings(max_examples=30, deadline=None)
@given(resample)
def test_linear_modes_match_np_interp_of_the_complex_values(r):
    """By part equals interpolating the complex values (np.interp takes complex samples)."""
    x, size, scale = draw_call(r)
    mode = MODES[r["spatial"]]
    out = CF.upsample(x, size, scale, mode=mode, align_corners=r["align_corners"])
    ref = ref_linear(x.numpy(), size, scale, r["align_corners"])
    torch.testing.assert_close(out, torch.from_numpy(ref))


@settings(max_examples=15, deadline=None)
@given(resample)
def test_bicubic_matches_keys_cubic_convolution(r):
    x, size, scale = draw_call({**r, "spatial": 2})
    out = CF.upsample(x, size, scale, mode="bicubic", align_corners=r["align_corners"])
    ref = ref_bicubic(x.numpy(), size, scale, r["align_corners"])
    torch.testing.assert_close(out, torch.from_numpy(ref))


@settings(max_examples=15, deadline=None)
@given(resample)
def test_nearest_copies_the_nearest_sample(r):
    x, size, scale = draw_call(r)
    out = CF.upsample(x, size, scale)
    assert torch.equal(out, torch.from_numpy(ref_nearest(x.numpy(), size, scale)))


@settings(max_examples=30, deadline=None)
@given(resample)
def test_polar_matches_magnitude_and_np_unwrapped_phase(r):
    x, size, scale = draw_call(r)
    mode = MODES[r["spatial"]]
    out = CF.upsample(x, size, scale, mode=mode, align_corners=r["align_corners"], polar=True)
    ref = ref_polar(x.numpy(), size, scale, r["align_corners"])
    torch.testing.assert_close(out, torch.from_numpy(ref))


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(st.floats(-12, 12), min_size=1, max_size=12),
    start=st.floats(-4, 4),
)
def test_unwrap_matches_numpy(steps, start):
    phase = np.angle(np.exp(1j * np.cumsum([start, *steps])))  # wrapped into (-pi, pi]
    raw = np.cumsum([start, *steps])  # large jumps as they are
    for p in (phase, raw):
        got = _unwrap(torch.from_numpy(p)[None], 1)[0]
        torch.testing.assert_close(got, torch.from_numpy(np.unwrap(p)))


@pytest.mark.parametrize("align_corners", [True, False])
@pytest.mark.parametrize("w", [2.9, -2.5, 1.0, 0.3])
def test_phase_ramp_upsamples_to_the_exact_ramp(w, align_corners):
    n, m = 6, 17
    x = torch.polar(torch.ones(1, 1, n, dtype=torch.float64), w * torch.arange(n).double())
    out = CF.upsample(x, m, mode="linear", align_corners=align_corners, polar=True)
    src = torch.from_numpy(np.clip(source_positions(n, m, None, align_corners), 0, n - 1))
    torch.testing.assert_close(out[0, 0], torch.polar(torch.ones(m, dtype=torch.float64), w * src))
    if abs(w) > 2:  # by part, the ramp's magnitude collapses between samples
        assert CF.upsample(x, m, mode="linear", align_corners=align_corners).abs().min() < 0.5


def test_2d_phase_ramp_upsamples_to_the_exact_ramp():
    a, b, h, w = 2.7, -1.9, 4, 5
    rows = torch.arange(h, dtype=torch.float64)[:, None]
    cols = torch.arange(w, dtype=torch.float64)[None, :]
    x = torch.polar(torch.full((1, 1, h, w), 2.0, dtype=torch.float64), a * rows + b * cols)
    out = CF.upsample(x, scale_factor=3, mode="bilinear", align_corners=False, polar=True)
    sh = torch.from_numpy(np.clip(source_positions(h, 3 * h, 3, False), 0, h - 1))[:, None]
    sw = torch.from_numpy(np.clip(source_positions(w, 3 * w, 3, False), 0, w - 1))[None, :]
    want = torch.polar(torch.full((3 * h, 3 * w), 2.0, dtype=torch.float64), a * sh + b * sw)
    torch.testing.assert_close(out[0, 0], want)


@settings(max_examples=30, deadline=None)
@given(resample)
def test_polar_magnitude_never_overshoots(r):
    x, size, scale = draw_call(r)
    mode = MODES[r["spatial"]]
    out = CF.upsample(x, size, scale, mode=mode, align_corners=r["align_corners"], polar=True)
    mag, out_mag = x.abs().flatten(2), out.abs().flatten(2)
    tol = 1e-12
    assert torch.all(out_mag <= mag.amax(-1, keepdim=True) * (1 + tol))
    assert torch.all(out_mag >= mag.amin(-1, keepdim=True) * (1 - tol))


@settings(max_examples=15, deadline=None)
@given(re=st.floats(-3, 3), im=st.floats(-3, 3), seed=st.integers(0, 1000))
def test_by_part_is_complex_linear(re, im, seed):
    a = complex(re, im)
    x = crandn(1, 2, 3, 4, seed=seed)
    for mode in ("nearest", "bilinear", "bicubic"):
        torch.testing.assert_close(
            CF.upsample(a * x, scale_factor=2, mode=mode),
            a * CF.upsample(x, scale_factor=2, mode=mode),
        )


GRAD_CASES = [
    ((1, 2, 3), {"scale_factor": 2, "mode": "linear"}),
    ((1, 1, 2, 3), {"size": (3, 5), "mode": "bilinear", "align_corners": True}),
    ((1, 1, 3, 3), {"scale_factor": 1.5, "mode": "bicubic"}),
    ((1, 1, 2, 2, 2), {"scale_factor": 2, "mode": "trilinear"}),
    ((1, 2, 2, 3), {"scale_factor": 2}),
    ((1, 2, 4), {"size": 7, "mode": "linear", "polar": True}),
    ((1, 1, 2, 3), {"size": (4, 5), "mode": "bilinear", "align_corners": True, "polar": True}),
    ((1, 1, 2, 2, 2), {"scale_factor": 1.5, "mode": "trilinear", "polar": True}),
]


@pytest.mark.parametrize(("shape", "kwargs"), GRAD_CASES)
def test_gradcheck_and_gradgradcheck_complex128(shape, kwargs):
    x = crandn(*shape, seed=3).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: CF.upsample(t, **kwargs), (x,))
    assert torch.autograd.gradgradcheck(lambda t: CF.upsample(t, **kwargs), (x,))


@pytest.mark.parametrize(("shape", "kwargs"), [c for c in GRAD_CASES if not c[1].get("polar")])
def test_gradcheck_at_zero_by_part(shape, kwargs):
    x = torch.zeros(shape, dtype=C128, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: CF.upsample(t, **kwargs), (x,))


@pytest.mark.parametrize(("shape", "kwargs"), [c for c in GRAD_CASES if c[1].get("polar")])
def test_polar_gradient_is_finite_and_zero_at_zero(shape, kwargs):
    """The polar form is not differentiable at 0 (the phase is undefined there): the gradient
    reaching an exact zero is 0, and finite everywhere else."""
    x = crandn(*shape, seed=4)
    x.view(-1)[::2] = 0
    x.requires_grad_()
    out = CF.upsample(x, **kwargs)
    (out.real * 1.3 + out.imag * 0.7).sum().backward()
    assert torch.isfinite(torch.view_as_real(x.grad)).all()
    assert torch.all(x.grad.view(-1)[::2] == 0)
    assert torch.all(x.grad.view(-1)[1::2] != 0)


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
@pytest.mark.parametrize("polar", [False, True])
def test_keeps_dtype(dtype, polar):
    out = CF.upsample(crandn(1, 2, 3, 3, dtype=dtype), scale_factor=2, mode="bilinear", polar=polar)
    assert out.dtype == dtype and out.shape == (1, 2, 6, 6)


def test_bad_input_raises():
    with pytest.raises(TypeError, match="to_complex"):
        CF.upsample(torch.randn(1, 1, 4), scale_factor=2)
    with pytest.raises(ValueError, match="-D"):
        CF.upsample(crandn(1, 4), scale_factor=2)
    with pytest.raises(ValueError, match=r"bilinear.*4-D"):
        CF.upsample(crandn(1, 1, 4), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="polar=True"):
        CF.upsample(crandn(1, 1, 4), scale_factor=2, polar=True)
    with pytest.raises(ValueError, match="polar=True"):
        CF.upsample(crandn(1, 1, 4, 4), scale_factor=2, mode="bicubic", polar=True)
    with pytest.raises(ValueError, match="exactly one"):
        CF.upsample(crandn(1, 1, 4), mode="linear")
    with pytest.raises(ValueError, match="exactly one"):
        CF.upsample(crandn(1, 1, 4), 8, 2.0, mode="linear", polar=True)
    with pytest.raises(ValueError, match="size must be one number or 2"):
        CF.upsample(crandn(1, 1, 4, 4), (8, 8, 8), mode="bilinear", polar=True)
