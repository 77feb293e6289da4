"""Complex pooling against plain-loop references."""

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import phasor.functional as CF


def crandn(*shape, dtype=torch.complex128, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=dtype, generator=g)


def ref_max_pool(x, kernel, stride, padding, dilation, out_spatial):
    """Loop reference: per (sample, channel) plane, the element of largest modulus per window.

    Returns None if some window holds only padding.
    """
    a = x.detach().numpy()
    lead, spatial = a.shape[: a.ndim - len(kernel)], a.shape[a.ndim - len(kernel) :]
    out = np.empty((*lead, *out_spatial), dtype=a.dtype)
    for idx in itertools.product(*(range(n) for n in lead)):
        plane = a[idx]
        for o in itertools.product(*(range(n) for n in out_spatial)):
            best = None
            for offs in itertools.product(*(range(k) for k in kernel)):
                pos = tuple(
                    o[d] * stride[d] - padding[d] + offs[d] * dilation[d] for d in range(len(o))
                )
                if all(0 <= pos[d] < spatial[d] for d in range(len(pos))):
                    if best is None or abs(plane[pos]) > abs(best):
                        best = plane[pos]
            if best is None:
                return None
            out[(*idx, *o)] = best
    return torch.from_numpy(out)


def torch_pool_shape(pool, x, *args, **kwargs):
    """Output shape torch gives for the same arguments on real data, or None if it refuses."""
    try:
        return pool(x.abs(), *args, **kwargs).shape
    except RuntimeError:
        return None


pool_args_2d = st.fixed_dictionaries(
    {
        "n": st.integers(1, 3),
        "c": st.integers(1, 3),
        "h": st.integers(1, 7),
        "w": st.integers(1, 7),
        "k": st.tuples(st.integers(1, 3), st.integers(1, 3)),
        "stride": st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)),
        "pad": st.integers(0, 1),
        "dilation": st.integers(1, 2),
        "ceil_mode": st.booleans(),
        "seed": st.integers(0, 1000),
    }
)


@settings(max_examples=40, deadline=None)
@given(pool_args_2d)
def test_max_pool2d_matches_loop_reference(a):
    kernel, pad, dil = a["k"], (a["pad"],) * 2, (a["dilation"],) * 2
    assume(all(p <= k // 2 for p, k in zip(pad, kernel, strict=True)))
    x = crandn(a["n"], a["c"], a["h"], a["w"], seed=a["seed"])
    kwargs = {"padding": pad, "dilation": dil, "ceil_mode": a["ceil_mode"]}
    shape = torch_pool_shape(F.max_pool2d, x, kernel, a["stride"], **kwargs)
    assume(shape is not None)
    stride = kernel if a["stride"] is None else a["stride"]
    ref = ref_max_pool(x, kernel, stride, pad, dil, shape[2:])
    if ref is None:
        with pytest.raises(ValueError, match="entirely in the padding"):
            CF.max_pool2d(x, kernel, a["stride"], **kwargs)
        return
    out = CF.max_pool2d(x, kernel, a["stride"], **kwargs)
    assert out.shape == shape
    assert out.dtype == x.dtype
    torch.testing.assert_close(out, ref)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    length=st.integers(1, 10),
    k=st.integers(1, 4),
    stride=st.none() | st.integers(1, 3),
    pad=st.integers(0, 2),
    dilation=st.integers(1, 2),
    ceil_mode=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_max_pool1d_matches_loop_reference(n, c, length, k, stride, pad, dilation, ceil_mode, seed):
    assume(pad <= k // 2)
    x = crandn(n, c, length, seed=seed)
    kwargs = {"padding": pad, "dilation": dilation, "ceil_mode": ceil_mode}
    shape = torch_pool_shape(F.max_pool1d, x, k, stride, **kwargs)
    assume(shape is not None)
    s = k if stride is None else stride
    ref = ref_max_pool(x, (k,), (s,), (pad,), (dilation,), shape[2:])
    if ref is None:
        with pytest.raises(ValueError, match="entirely in the padding"):
            CF.max_pool1d(x, k, stride, **kwargs)
        return
    out = CF.max_pool1d(x, k, stride, **kwargs)
    assert out.shape == shape
    torch.testing.assert_close(out, ref)


def test_max_pool2d_picks_from_own_plane_when_batch_and_channels_exceed_one():
    # Plane (n, c) holds magnitudes 100 * (n * C + c) + position, so the winner of every window
    # is its last element and any element fetched from another plane has a wrong magnitude.
    n, c, h, w = 3, 4, 4, 4
    base = torch.arange(n * c, dtype=torch.float64).view(n, c, 1, 1) * 100
    mag = base + torch.arange(h * w, dtype=torch.float64).view(1, 1, h, w)
    phase = torch.rand(n, c, h, w, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    x = torch.polar(mag + 1, phase * 2 * math.pi)
    out = CF.max_pool2d(x, 2)
    expected = x[:, :, 1::2, 1::2]
    torch.testing.assert_close(out, expected)


def test_max_pool_window_entirely_in_padding_raises():
    # Length 1, padding 1, dilation 2: the only window reads positions -1 and 1.
    with pytest.raises(ValueError, match="entirely in the padding"):
        CF.max_pool1d(crandn(1, 1, 1), 2, padding=1, dilation=2)
    with pytest.raises(ValueError, match="entirely in the padding"):
        CF.max_pool2d(crandn(1, 1, 1, 3), 2, padding=1, dilation=2)


def test_max_pool2d_stride_none_defaults_to_kernel_size():
    x = crandn(2, 3, 6, 6)
    torch.testing.assert_close(CF.max_pool2d(x, 3), CF.max_pool2d(x, 3, stride=3))
    assert CF.max_pool2d(x, 3, stride=None).shape == (2, 3, 2, 2)
    assert CF.max_pool1d(x[..., 0], 2, stride=None).shape == (2, 3, 3)


def test_max_pool_keeps_modulus_maximum_and_phase():
    x = crandn(2, 3, 5, 6, seed=4)
    out = CF.max_pool2d(x, 2, stride=1)
    torch.testing.assert_close(out.abs(), F.max_pool2d(x.abs(), 2, stride=1))
    # Every output is an element of the input (not a blend of parts).
    assert all(torch.isclose(x, v).any() for v in out.flatten())


def test_max_pool_return_indices_address_the_winners():
    x = crandn(2, 3, 6, 5, seed=5)
    out, idx = CF.max_pool2d(x, 2, return_indices=True)
    _, torch_idx = F.max_pool2d(x.abs(), 2, return_indices=True)
    assert torch.equal(idx, torch_idx)
    picked = x.flatten(2).gather(2, idx.flatten(2)).view_as(out)
    torch.testing.assert_close(picked, out)
    out1, idx1 = CF.max_pool1d(x[:, :, 0], 2, return_indices=True)
    torch.testing.assert_close(x[:, :, 0].gather(2, idx1), out1)


def lattice(*shape, seed=0, dtype=torch.complex128):
    """Gaussian-integer values in [-2, 2] + i[-2, 2]: many exact ties in modulus, zeros too."""
    g = torch.Generator().manual_seed(seed)
    parts = torch.randint(-2, 3, (*shape, 2), generator=g).to(torch.float64)
    return torch.view_as_complex(parts).to(dtype)


@settings(max_examples=60, deadline=None)
@given(
    spatial=st.sampled_from([1, 2]),
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    explicit_stride=st.booleans(),
    ceil_mode=st.booleans(),
    ties=st.booleans(),
    dtype=st.sampled_from([torch.complex64, torch.complex128]),
    seed=st.integers(0, 1000),
)
def test_tiling_windows_pick_what_torch_picks(
    spatial, n, c, size, kernel, explicit_stride, ceil_mode, ties, dtype, seed
):
    """Windows that tile the plane (stride == kernel) take phasor's own elementwise path; it
    must return torch's winners, first of equals included, values and indices alike."""
    size, kernel = size[:spatial], kernel[:spatial]
    assume(all(k <= s for k, s in zip(kernel, size, strict=True)))
    shape = (n, c, *size)
    x = lattice(*shape, seed=seed, dtype=dtype) if ties else crandn(*shape, seed=seed, dtype=dtype)
    pool, torch_pool = (
        (CF.max_pool1d, F.max_pool1d) if spatial == 1 else (CF.max_pool2d, F.max_pool2d)
    )
    stride = kernel if explicit_stride else None
    out, idx = pool(x, kernel, stride, ceil_mode=ceil_mode, return_indices=True)
    _, expected_idx = torch_pool(
        x.abs().to(torch.float64), kernel, stride, ceil_mode=ceil_mode, return_indices=True
    )
    assert torch.equal(idx, expected_idx)
    torch.testing.assert_close(out, x.flatten(2).gather(2, idx.flatten(2)).view_as(out))


def test_tiling_windows_propagate_nan():
    x = crandn(1, 2, 4, 4, seed=3)
    x[0, 1, 2, 3] = complex("nan+1j")
    out = CF.max_pool2d(x, 2)
    assert torch.isnan(out).sum() == 1
    assert torch.isnan(out[0, 1, 1, 1].real) and out[0, 1, 1, 1].imag == 1


def test_tiling_windows_compare_moduli_whose_squares_overflow():
    big = torch.tensor([[[3e19, 5e19j, 1e19, 4e19]]], dtype=torch.complex64)
    out, idx = CF.max_pool1d(big, 4, return_indices=True)
    assert idx.item() == 1 and out.item() == big[0, 0, 1].item()


def near_ties(windows, size, dtype, seed=0):
    """``windows`` planes of ``size`` elements, all rotations of one value, rounded to ``dtype``.

    The rounding leaves the moduli within an ulp or so of each other: many are equal as
    ``|z|`` but not as ``(Re z)^2 + (Im z)^2``, or the other way round.
    """
    g = torch.Generator().manual_seed(seed)
    radius = torch.rand(windows, 1, generator=g, dtype=torch.float64) + 0.5
    phase = torch.rand(windows, size, generator=g, dtype=torch.float64) * 2 * math.pi
    return torch.polar(radius.expand(-1, size), phase).to(dtype)


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
@pytest.mark.parametrize("spatial", [1, 2])
def test_max_pool_paths_agree_on_near_ties(dtype, spatial):
    """The tiling path (kernel 2, stride 2), torch's kernel (stride 3 reaches the same single
    window) and the torch.func path pick the same winner: the first largest computed |z|^2."""
    x = near_ties(2048, 2**spatial, dtype).view(1, 2048, *(2,) * spatial)
    pool = CF.max_pool1d if spatial == 1 else CF.max_pool2d
    _, tiled = pool(x, 2, return_indices=True)
    _, general = pool(x, 2, 3, return_indices=True)
    assert torch.equal(general, tiled)
    # The winner is a largest modulus up to the rounding of its square.
    moduli = x.flatten(2).abs().to(torch.float64)
    won = moduli.gather(2, tiled.flatten(2))
    assert torch.all(won >= moduli.amax(-1, keepdim=True) * (1 - 4 * torch.finfo(dtype).eps))
    _, transformed = torch.func.vmap(lambda t: pool(t, 2, return_indices=True))(x)
    assert torch.equal(transformed, tiled)


def test_max_pool_unbatched_equals_batched():
    x = crandn(3, 6, 6)
    torch.testing.assert_close(CF.max_pool2d(x, 2), CF.max_pool2d(x[None], 2)[0])
    torch.testing.assert_close(CF.max_pool1d(x[0], 2), CF.max_pool1d(x[None, 0], 2)[0])


def test_max_pool_gradient_reaches_only_selected_elements():
    x = crandn(2, 2, 4, 4, seed=6).requires_grad_()
    out, idx = CF.max_pool2d(x, 2, return_indices=True)
    out.real.sum().backward()
    selected = torch.zeros(2, 2, 16, dtype=torch.bool)
    selected.scatter_(2, idx.flatten(2), True)
    selected = selected.view(2, 2, 4, 4)
    assert torch.all(x.grad[selected] == 1)
    assert torch.all(x.grad[~selected] == 0)


@pytest.mark.parametrize(
    ("fn", "shape", "args"),
    [
        (CF.max_pool1d, (2, 2, 7), (3, 2, 1)),
        (CF.max_pool2d, (2, 2, 5, 5), (2, 1, 1)),
        (CF.avg_pool1d, (2, 2, 7), (3, 2, 1)),
        (CF.avg_pool2d, (2, 2, 5, 5), (2, 1, 1)),
        (CF.adaptive_avg_pool1d, (2, 2, 7), (3,)),
        (CF.adaptive_avg_pool2d, (2, 2, 5, 5), ((2, 3),)),
    ],
)
def test_pooling_gradcheck_complex128(fn, shape, args):
    x = crandn(*shape, seed=7).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: fn(t, *args), (x,))


def ref_avg_pool2d(x, k, s):
    """Loop reference for unpadded average pooling of complex values."""
    a = x.numpy()
    n, c, h, w = a.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.empty((n, c, oh, ow), dtype=a.dtype)
    for i, j in itertools.product(range(oh), range(ow)):
        out[:, :, i, j] = a[:, :, i * s : i * s + k, j * s : j * s + k].mean(axis=(2, 3))
    return torch.from_numpy(out)


def test_avg_pool2d_matches_loop_reference():
    x = crandn(2, 3, 7, 6, seed=8)
    torch.testing.assert_close(CF.avg_pool2d(x, 3, 2), ref_avg_pool2d(x, 3, 2))
    torch.testing.assert_close(CF.avg_pool2d(x, 2), ref_avg_pool2d(x, 2, 2))


def test_avg_pool1d_matches_loop_reference():
    x = crandn(2, 3, 9, seed=9)
    ref = torch.stack([x[..., i : i + 3].mean(-1) for i in range(0, 7, 2)], dim=-1)
    torch.testing.assert_close(CF.avg_pool1d(x, 3, 2), ref)


def test_avg_pool_padding_options_follow_torch_counting():
    # With padding, count_include_pad=False averages only over the real elements.
    x = crandn(1, 1, 3, seed=10)
    out = CF.avg_pool1d(x, 3, 1, padding=1, count_include_pad=False)
    torch.testing.assert_close(out[..., 0], x[..., :2].mean(-1))
    out = CF.avg_pool1d(x, 3, 1, padding=1, count_include_pad=True)
    torch.testing.assert_close(out[..., 0], x[..., :2].sum(-1) / 3)
    x2 = crandn(1, 1, 4, 4, seed=11)
    out = CF.avg_pool2d(x2, 2, divisor_override=1)
    torch.testing.assert_close(out[..., 0, 0], x2[..., :2, :2].sum((-2, -1)))


@settings(max_examples=20, deadline=None)
@given(
    re=st.floats(-3, 3),
    im=st.floats(-3, 3),
    seed=st.integers(0, 1000),
    padding=st.integers(0, 1),
    ceil_mode=st.booleans(),
)
def test_avg_pool_is_complex_linear(re, im, seed, padding, ceil_mode):
    a = complex(re, im)
    x = crandn(2, 2, 5, 5, seed=seed)
    kwargs = {"padding": padding, "ceil_mode": ceil_mode}
    torch.testing.assert_close(
        CF.avg_pool2d(a * x, 3, 2, **kwargs), a * CF.avg_pool2d(x, 3, 2, **kwargs)
    )
    torch.testing.assert_close(
        CF.avg_pool1d(a * x[..., 0], 3, 2, **kwargs), a * CF.avg_pool1d(x[..., 0], 3, 2, **kwargs)
    )


def adaptive_bins(n_in, n_out):
    return [(math.floor(i * n_in / n_out), math.ceil((i + 1) * n_in / n_out)) for i in range(n_out)]


@pytest.mark.parametrize(("n_in", "n_out"), [(7, 3), (6, 6), (5, 1), (4, 7)])
def test_adaptive_avg_pool1d_matches_bins(n_in, n_out):
    x = crandn(2, 3, n_in, seed=12)
    ref = torch.stack([x[..., a:b].mean(-1) for a, b in adaptive_bins(n_in, n_out)], dim=-1)
    torch.testing.assert_close(CF.adaptive_avg_pool1d(x, n_out), ref)


def test_adaptive_avg_pool2d_matches_bins():
    x = crandn(2, 3, 7, 5, seed=13)
    out = CF.adaptive_avg_pool2d(x, (3, 2))
    for i, (r0, r1) in enumerate(adaptive_bins(7, 3)):
        for j, (c0, c1) in enumerate(adaptive_bins(5, 2)):
            torch.testing.assert_close(out[..., i, j], x[..., r0:r1, c0:c1].mean((-2, -1)))
    torch.testing.assert_close(CF.adaptive_avg_pool2d(x, 1)[..., 0, 0], x.mean((-2, -1)))
    assert CF.adaptive_avg_pool2d(x, (None, 2)).shape == (2, 3, 7, 2)


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (CF.max_pool2d, (2,)),
        (CF.avg_pool2d, (2,)),
        (CF.adaptive_avg_pool2d, (2,)),
    ],
)
def test_pooling_keeps_dtype(fn, args, dtype):
    assert fn(crandn(1, 2, 4, 4, dtype=dtype), *args).dtype == dtype


@pytest.mark.parametrize(
    ("fn", "ndim", "args"),
    [
        (CF.max_pool1d, 3, (2,)),
        (CF.max_pool2d, 4, (2,)),
        (CF.avg_pool1d, 3, (2,)),
        (CF.avg_pool2d, 4, (2,)),
        (CF.adaptive_avg_pool1d, 3, (2,)),
        (CF.adaptive_avg_pool2d, 4, (2,)),
    ],
)
def test_pooling_rejects_real_input_and_wrong_rank(fn, ndim, args):
    with pytest.raises(TypeError, match="to_complex"):
        fn(torch.randn(*(4,) * ndim), *args)
    with pytest.raises(ValueError, match="-D"):
        fn(crandn(*(4,) * (ndim + 1)), *args)
    with pytest.raises(ValueError, match="-D"):
        fn(crandn(*(4,) * (ndim - 2)), *args)


# 3-D, adaptive max and spectral pooling.


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 2),
    size=st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    stride=st.none() | st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 2)),
    pad=st.integers(0, 1),
    dilation=st.integers(1, 2),
    ceil_mode=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_max_pool3d_matches_loop_reference(n, size, kernel, stride, pad, dilation, ceil_mode, seed):
    assume(all(pad <= k // 2 for k in kernel))
    x = crandn(n, 2, *size, seed=seed)
    kwargs = {"padding": pad, "dilation": dilation, "ceil_mode": ceil_mode}
    shape = torch_pool_shape(F.max_pool3d, x, kernel, stride, **kwargs)
    assume(shape is not None)
    s = kernel if stride is None else stride
    ref = ref_max_pool(x, kernel, s, (pad,) * 3, (dilation,) * 3, shape[2:])
    if ref is None:
        with pytest.raises(ValueError, match="entirely in the padding"):
            CF.max_pool3d(x, kernel, stride, **kwargs)
        return
    out, idx = CF.max_pool3d(x, kernel, stride, return_indices=True, **kwargs)
    assert out.shape == shape
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(x.flatten(2).gather(2, idx.flatten(2)).view_as(out), out)


@settings(max_examples=25, deadline=None)
@given(
    size=st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6)),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    ceil_mode=st.booleans(),
    ties=st.booleans(),
    dtype=st.sampled_from([torch.complex64, torch.complex128]),
    seed=st.integers(0, 1000),
)
def test_max_pool3d_tiled_windows_pick_what_torch_picks(size, kernel, ceil_mode, ties, dtype, seed):
    assume(all(k <= s for k, s in zip(kernel, size, strict=True)))
    shape = (2, 2, *size)
    x = lattice(*shape, seed=seed, dtype=dtype) if ties else crandn(*shape, seed=seed, dtype=dtype)
    out, idx = CF.max_pool3d(x, kernel, ceil_mode=ceil_mode, return_indices=True)
    _, expected = F.max_pool3d(
        x.abs().to(torch.float64), kernel, ceil_mode=ceil_mode, return_indices=True
    )
    assert torch.equal(idx, expected)
    torch.testing.assert_close(out, x.flatten(2).gather(2, idx.flatten(2)).view_as(out))


def ref_adaptive_max(x, out_sizes):
    """Loop reference: per plane and bin, the first element of largest modulus, and its flat
    position in the plane."""
    a = x.detach().numpy()
    spatial = len(out_sizes)
    lead, sizes = a.shape[:-spatial], a.shape[-spatial:]
    bins = [adaptive_bins(n, o) for n, o in zip(sizes, out_sizes, strict=True)]
    out = np.empty((*lead, *out_sizes), dtype=a.dtype)
    idx = np.empty((*lead, *out_sizes), dtype=np.int64)
    for plane in itertools.product(*(range(n) for n in lead)):
        for o in itertools.product(*(range(n) for n in out_sizes)):
            best = None
            for p in itertools.product(*(range(*bins[d][o[d]]) for d in range(spatial))):
                if best is None or abs(a[(*plane, *p)]) > abs(a[(*plane, *best)]):
                    best = p
            out[(*plane, *o)] = a[(*plane, *best)]
            idx[(*plane, *o)] = np.ravel_multi_index(best, sizes)
    return torch.from_numpy(out), torch.from_numpy(idx)


ADAPTIVE_MAX = {1: CF.adaptive_max_pool1d, 2: CF.adaptive_max_pool2d, 3: CF.adaptive_max_pool3d}


@settings(max_examples=40, deadline=None)
@given(
    spatial=st.sampled_from([1, 2, 3]),
    batched=st.booleans(),
    size=st.tuples(st.integers(1, 7), st.integers(1, 5), st.integers(1, 4)),
    out=st.tuples(st.integers(1, 8), st.integers(1, 5), st.integers(1, 4)),
    ties=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_adaptive_max_pool_matches_loop_reference(spatial, batched, size, out, ties, seed):
    shape = (*((2,) if batched else ()), 2, *size[:spatial])
    x = lattice(*shape, seed=seed) if ties else crandn(*shape, seed=seed)
    got, idx = ADAPTIVE_MAX[spatial](x, out[:spatial], return_indices=True)
    ref, ref_idx = ref_adaptive_max(x, out[:spatial])
    torch.testing.assert_close(got, ref)
    assert torch.equal(idx, ref_idx)
    torch.testing.assert_close(ADAPTIVE_MAX[spatial](x, out[:spatial]), ref)


def test_adaptive_max_pool_none_keeps_the_input_size():
    x = crandn(2, 3, 5, 4)
    torch.testing.assert_close(CF.adaptive_max_pool2d(x, (None, 2)), ref_adaptive_max(x, (5, 2))[0])


def test_adaptive_and_3d_max_pool_propagate_nan():
    """Every window or bin that holds the NaN returns it, the others their largest |z|."""
    x = crandn(1, 2, 4, 4, 4, seed=3)
    x[0, 1, 2, 3, 1] = complex("nan+1j")
    mask = torch.isnan(x.real).double()
    for pool, torch_pool, args in (
        (CF.max_pool3d, F.max_pool3d, (2,)),
        (CF.max_pool3d, F.max_pool3d, (3, 1)),
        (CF.adaptive_max_pool3d, F.adaptive_max_pool3d, (3,)),
    ):
        out = pool(x, *args)
        holds_nan = torch_pool(mask, *args) > 0
        assert torch.equal(torch.isnan(out.real), holds_nan)
        assert torch.all(out.imag[holds_nan] == 1)
        clean = ~holds_nan
        torch.testing.assert_close(out.abs()[clean], torch_pool(x.abs(), *args)[clean])


def test_adaptive_max_pool_compares_moduli_whose_squares_overflow():
    big = torch.tensor([[[3e19, 5e19j, 1e19, 4e19]]], dtype=torch.complex64)
    out, idx = CF.adaptive_max_pool1d(big, 1, return_indices=True)
    assert idx.item() == 1 and out.item() == big[0, 0, 1].item()


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_3d_and_adaptive_paths_agree_on_near_ties(dtype):
    """Windows of stride 2 and 3 (one 2x2x2 window each), the adaptive kernel and the
    torch.func path all pick the first largest computed |z|^2 of each block."""
    x = near_ties(1024, 8, dtype).view(1, 1024, 2, 2, 2)
    _, tiled = CF.max_pool3d(x, 2, return_indices=True)
    _, general = CF.max_pool3d(x, 2, 3, return_indices=True)
    _, adaptive = CF.adaptive_max_pool3d(x, 1, return_indices=True)
    assert torch.equal(general, tiled) and torch.equal(adaptive, tiled)
    moduli = x.flatten(2).abs().to(torch.float64)
    won = moduli.gather(2, tiled.flatten(2))
    assert torch.all(won >= moduli.amax(-1, keepdim=True) * (1 - 4 * torch.finfo(dtype).eps))
    _, transformed = torch.func.vmap(lambda t: CF.adaptive_max_pool3d(t, 1, return_indices=True))(x)
    assert torch.equal(transformed, tiled)
    _, transformed = torch.func.vmap(lambda t: CF.max_pool3d(t, 2, return_indices=True))(x)
    assert torch.equal(transformed, tiled)


MAX_GRAD_CASES = [
    (CF.max_pool3d, (1, 1, 4, 2, 4), (2,)),
    (CF.max_pool3d, (1, 1, 3, 3, 4), (2, 1, 1)),
    (CF.adaptive_max_pool1d, (2, 2, 7), (3,)),
    (CF.adaptive_max_pool2d, (1, 2, 5, 4), ((2, 3),)),
    (CF.adaptive_max_pool3d, (1, 1, 3, 4, 5), ((2, 2, 2),)),
]
LINEAR_GRAD_CASES = [
    (CF.avg_pool3d, (1, 1, 3, 3, 3), (2, 1, 1)),
    (CF.adaptive_avg_pool3d, (1, 1, 3, 3, 4), ((2, 3, 2),)),
    (CF.spectral_pool1d, (1, 2, 7), (4,)),
    (CF.spectral_pool2d, (1, 1, 5, 4), ((3, 2),)),
]


@pytest.mark.parametrize(("fn", "shape", "args"), MAX_GRAD_CASES + LINEAR_GRAD_CASES)
def test_new_pools_gradcheck_and_gradgradcheck_complex128(fn, shape, args):
    x = crandn(*shape, seed=7).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: fn(t, *args), (x,))
    assert torch.autograd.gradgradcheck(lambda t: fn(t, *args), (x,))


# Without padding, so that every window holds real neighbours along W.
UNPADDED_MAX_CASES = [
    case if case[2] != (2, 1, 1) else (CF.max_pool3d, (1, 1, 3, 3, 4), (2, 1))
    for case in MAX_GRAD_CASES
]


@pytest.mark.parametrize(("fn", "shape", "args"), UNPADDED_MAX_CASES)
def test_max_pools_gradcheck_with_exact_zeros_among_the_losers(fn, shape, args):
    x = crandn(*shape, seed=8)
    x.view(-1)[::2] = 0  # every window spans 2+ neighbours along W: a nonzero winner
    assert torch.autograd.gradcheck(lambda t: fn(t, *args), (x.requires_grad_(),))


TORCH_MAX = {
    CF.max_pool3d: F.max_pool3d,
    CF.adaptive_max_pool1d: F.adaptive_max_pool1d,
    CF.adaptive_max_pool2d: F.adaptive_max_pool2d,
    CF.adaptive_max_pool3d: F.adaptive_max_pool3d,
}


@pytest.mark.parametrize(("fn", "shape", "args"), MAX_GRAD_CASES)
def test_max_pools_at_zero_give_finite_gradient_to_the_first_element(fn, shape, args):
    """All moduli tie at z = 0: each window's first element wins (as in torch's pooling of
    real zeros) and gets the whole gradient."""
    x = torch.zeros(shape, dtype=torch.complex128, requires_grad=True)
    out, idx = fn(x, *args, return_indices=True)
    (out.real + 2 * out.imag).sum().backward()
    expected_idx = TORCH_MAX[fn](torch.zeros(shape), *args, return_indices=True)[1]
    assert torch.equal(idx, expected_idx)
    flat_idx = idx.flatten(2).flatten(0, 1)
    count = torch.zeros(flat_idx.shape[0], math.prod(shape[2:]), dtype=torch.float64)
    count.scatter_add_(1, flat_idx, torch.ones(flat_idx.shape, dtype=torch.float64))
    torch.testing.assert_close(x.grad, torch.complex(count, 2 * count).view(shape))


@pytest.mark.parametrize(("fn", "shape", "args"), LINEAR_GRAD_CASES)
def test_linear_pools_gradcheck_at_zero(fn, shape, args):
    x = torch.zeros(shape, dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: fn(t, *args), (x,))


def ref_avg_pool3d(x, k, s):
    a = x.numpy()
    out_sizes = [(n - k) // s + 1 for n in a.shape[2:]]
    out = np.empty((*a.shape[:2], *out_sizes), dtype=a.dtype)
    for i, j, m in itertools.product(*(range(o) for o in out_sizes)):
        window = a[:, :, i * s : i * s + k, j * s : j * s + k, m * s : m * s + k]
        out[:, :, i, j, m] = window.mean(axis=(2, 3, 4))
    return torch.from_numpy(out)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"padding": 1},
        {"padding": 1, "count_include_pad": False, "ceil_mode": True},
        {"divisor_override": 3},
    ],
)
def test_avg_pool3d_is_torch_on_each_part(kwargs):
    x = crandn(2, 2, 5, 4, 6, seed=14)
    out = CF.avg_pool3d(x, 3, 2, **kwargs)
    torch.testing.assert_close(out.real, F.avg_pool3d(x.real, 3, 2, **kwargs))
    torch.testing.assert_close(out.imag, F.avg_pool3d(x.imag, 3, 2, **kwargs))
    torch.testing.assert_close(CF.avg_pool3d(x[0], 3, 2, **kwargs), out[0])


def test_avg_pool3d_matches_loop_reference():
    x = crandn(2, 2, 5, 6, 7, seed=15)
    torch.testing.assert_close(CF.avg_pool3d(x, 3, 2), ref_avg_pool3d(x, 3, 2))
    torch.testing.assert_close(CF.avg_pool3d(x, 2), ref_avg_pool3d(x, 2, 2))


def test_adaptive_avg_pool3d_matches_bins():
    x = crandn(2, 2, 5, 4, 7, seed=16)
    out = CF.adaptive_avg_pool3d(x, (2, 3, 3))
    bins = [adaptive_bins(5, 2), adaptive_bins(4, 3), adaptive_bins(7, 3)]
    for (i, a), (j, b), (m, c) in itertools.product(*(enumerate(b) for b in bins)):
        window = x[..., a[0] : a[1], b[0] : b[1], c[0] : c[1]]
        torch.testing.assert_close(out[..., i, j, m], window.mean((-3, -2, -1)))
    assert CF.adaptive_avg_pool3d(x, (None, 1, 2)).shape == (2, 2, 5, 1, 2)


def band(n_in, n_out):
    """The integer frequencies spectral pooling keeps: |k| <= n_out / 2 among the input's."""
    k = np.rint(np.fft.fftfreq(n_in, 1 / n_in)).astype(int)
    return k if n_out == n_in else k[np.abs(k) <= n_out / 2]


def dft_resample(n_in, n_out):
    """(n_out, n_in) matrix: forward DFT / n_in, restricted to the band, evaluated at the
    coarse grid j n_in / n_out by an explicit sum of exponentials."""
    k = band(n_in, n_out)
    t = np.arange(n_in)
    forward = np.exp(-2j * np.pi * np.outer(k, t) / n_in) / n_in
    inverse = np.exp(2j * np.pi * np.outer(np.arange(n_out), k) / n_out)
    return inverse @ forward


@settings(max_examples=30, deadline=None)
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    oh=st.integers(1, 9),
    ow=st.integers(1, 9),
    batched=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_spectral_pool_matches_band_limited_dft_reference(h, w, oh, ow, batched, seed):
    assume(oh <= h and ow <= w)
    x = crandn(*((2,) if batched else ()), 2, h, w, seed=seed)
    mh, mw = dft_resample(h, oh), dft_resample(w, ow)
    ref = torch.from_numpy(mh @ x.numpy() @ mw.T)
    torch.testing.assert_close(CF.spectral_pool2d(x, (oh, ow)), ref)
    ref1d = torch.from_numpy(x[..., 0, :].numpy() @ mw.T)
    torch.testing.assert_close(CF.spectral_pool1d(x[..., 0, :], ow), ref1d)


def band_limited(n, m, seed):
    """A random signal on [0, n) made of the frequencies -m/2 .. m/2 (both ends when m is
    even), as a function of the (real) position t."""
    g = torch.Generator().manual_seed(seed)
    k = torch.arange(-(m // 2), m // 2 + 1, dtype=torch.float64)
    coef = torch.randn(len(k), dtype=torch.complex128, generator=g)
    return lambda t: (coef * torch.exp(2j * math.pi * torch.outer(t, k) / n)).sum(-1)


@pytest.mark.parametrize(("n", "m"), [(8, 4), (9, 4), (8, 5), (7, 6), (6, 2), (5, 1)])
def test_spectral_pool_resamples_a_band_limited_signal_exactly(n, m):
    """A signal made of the kept frequencies, both Nyquists +-m/2 included for even m, comes
    out as its exact samples at t_j = j n / m."""
    fine = torch.arange(n, dtype=torch.float64)
    coarse = torch.arange(m, dtype=torch.float64) * n / m
    rows, cols = band_limited(n, m, seed=n), band_limited(n, m, seed=n + 100)
    out = CF.spectral_pool1d(rows(fine).view(1, 1, n), m)[0, 0]
    torch.testing.assert_close(out, rows(coarse))
    image = torch.outer(rows(fine), cols(fine)).view(1, 1, n, n)
    out = CF.spectral_pool2d(image, m)[0, 0]
    torch.testing.assert_close(out, torch.outer(rows(coarse), cols(coarse)))


@pytest.mark.parametrize("size", [(3, 4), (4, 4), (5, 7), (1, 1)])
def test_spectral_pool_keeps_constants_and_real_images(size):
    c = torch.full((2, 3, 8, 7), 1.5 - 0.5j, dtype=torch.complex64)
    torch.testing.assert_close(CF.spectral_pool2d(c, size), torch.full((2, 3, *size), 1.5 - 0.5j))
    real = crandn(2, 3, 8, 7, seed=17).real.to(torch.complex128)
    assert CF.spectral_pool2d(real, size).imag.abs().max() < 1e-12


def test_spectral_pool_full_size_is_the_identity():
    x = crandn(2, 3, 6, 5, seed=18)
    torch.testing.assert_close(CF.spectral_pool2d(x, (6, 5)), x)
    torch.testing.assert_close(CF.spectral_pool2d(x, (None, 3)), CF.spectral_pool2d(x, (6, 3)))
    torch.testing.assert_close(CF.spectral_pool1d(x[..., 0], 6), x[..., 0])


def test_spectral_pool_rejects_bad_sizes():
    x = crandn(1, 2, 6, 5)
    with pytest.raises(ValueError, match="at most the input size"):
        CF.spectral_pool2d(x, (7, 5))
    with pytest.raises(ValueError, match="at most the input size"):
        CF.spectral_pool1d(x[..., 0], 0)
    with pytest.raises(ValueError, match="2 ints"):
        CF.spectral_pool2d(x, (3, 3, 3))


@pytest.mark.parametrize(
    ("fn", "ndim", "args"),
    [
        (CF.max_pool3d, 5, (2,)),
        (CF.avg_pool3d, 5, (2,)),
        (CF.adaptive_avg_pool3d, 5, (2,)),
        (CF.adaptive_max_pool1d, 3, (2,)),
        (CF.adaptive_max_pool2d, 4, (2,)),
        (CF.adaptive_max_pool3d, 5, (2,)),
        (CF.spectral_pool1d, 3, (2,)),
        (CF.spectral_pool2d, 4, (2,)),
    ],
)
def test_new_pools_reject_real_input_and_wrong_rank(fn, ndim, args):
    with pytest.raises(TypeError, match="to_complex"):
        fn(torch.randn(*(4,) * ndim), *args)
    with pytest.raises(ValueError, match="-D"):
        fn(crandn(*(4,) * (ndim + 1)), *args)
    with pytest.raises(ValueError, match="-D"):
        fn(crandn(*(4,) * (ndim - 2)), *args)


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_new_pools_keep_dtype(dtype):
    x = crandn(1, 2, 4, 4, 4, dtype=dtype)
    for out in (
        CF.max_pool3d(x, 2),
        CF.avg_pool3d(x, 2),
        CF.adaptive_avg_pool3d(x, 2),
        CF.adaptive_max_pool3d(x, 2),
        CF.adaptive_max_pool2d(x[0], 3),
        CF.adaptive_max_pool1d(x[0, 0], 3),
        CF.spectral_pool2d(x[0], 3),
        CF.spectral_pool1d(x[0, 0], 3),
    ):
        assert out.dtype == dtype
