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
