"""Tests of the complex (transposed) convolutions on every backend.

References: the four-real-convolution formula of seed 003,
``W * h = (A * x - B * y) + i (B * x + A * y)``, built from PyTorch's real kernels, and explicit
loops for the 1-D ops (which pin down the semantics independently of PyTorch).
"""

import functools
import importlib

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import phasor
import phasor.functional as CF
from phasor.backend import BACKENDS
from phasor.functional.linear import complex_bilinear

DTYPES = [torch.complex64, torch.complex128]
TOL = {torch.complex64: 2e-5, torch.complex128: 1e-12}
REAL_OPS = {
    "conv1d": F.conv1d,
    "conv2d": F.conv2d,
    "conv3d": F.conv3d,
    "conv_transpose1d": F.conv_transpose1d,
    "conv_transpose2d": F.conv_transpose2d,
    "conv_transpose3d": F.conv_transpose3d,
}

# (op, input shape, weight shape, keyword arguments)
CASES = [
    ("conv1d", (2, 4, 11), (6, 2, 3), dict(stride=2, padding=1, dilation=2, groups=2)),
    ("conv1d", (3, 8), (5, 3, 2), dict(padding=1)),
    ("conv1d", (2, 3, 9), (4, 3, 4), dict(padding="same", dilation=2)),
    (
        "conv2d",
        (2, 6, 7, 8),
        (4, 3, 3, 2),
        dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2),
    ),
    ("conv2d", (1, 3, 5, 5), (6, 1, 3, 3), dict(groups=3, padding="valid")),
    (
        "conv3d",
        (1, 4, 5, 4, 6),
        (6, 2, 2, 3, 2),
        dict(stride=(1, 2, 1), padding=1, dilation=(2, 1, 1), groups=2),
    ),
    (
        "conv_transpose1d",
        (2, 4, 6),
        (4, 3, 3),
        dict(stride=2, padding=1, output_padding=1, groups=2, dilation=2),
    ),
    (
        "conv_transpose2d",
        (2, 6, 4, 5),
        (6, 2, 3, 2),
        dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0), groups=3),
    ),
    ("conv_transpose2d", (4, 3, 3), (4, 2, 2, 2), dict(stride=2)),
    (
        "conv_transpose3d",
        (1, 4, 3, 3, 2),
        (4, 3, 2, 2, 2),
        dict(stride=2, output_padding=1, groups=2),
    ),
]


def randn(*shape, dtype=torch.complex128, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=dtype, generator=g)


def out_channels(name, weight, groups):
    return weight.shape[1] * groups if "transpose" in name else weight.shape[0]


def four_real(name, x, w, b, **kw):
    """Seed 003 formula with four real (transposed) convolutions, bias added per channel."""
    op = REAL_OPS[name]
    xr, xi, a, bb = x.real, x.imag, w.real, w.imag
    re = op(xr, a, **kw) - op(xi, bb, **kw)
    im = op(xr, bb, **kw) + op(xi, a, **kw)
    n = w.dim() - 2
    return torch.complex(re, im) + b.reshape(-1, *[1] * n)


def conv1d_loops(x, w, b, stride, padding, dilation, groups):
    """out[n, o, t] = b[o] + sum_c sum_k w[o, c, k] x[n, g(o) C_g + c, t s + k d - p]."""
    n_batch, _, length = x.shape
    c_out, c_per_group, k = w.shape
    out_per_group = c_out // groups
    l_out = (length + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    out = torch.zeros(n_batch, c_out, l_out, dtype=x.dtype)
    for n in range(n_batch):
        for o in range(c_out):
            g = o // out_per_group
            for t in range(l_out):
                acc = b[o]
                for c in range(c_per_group):
                    for j in range(k):
                        pos = t * stride + j * dilation - padding
                        if 0 <= pos < length:
                            acc = acc + w[o, c, j] * x[n, g * c_per_group + c, pos]
                out[n, o, t] = acc
    return out


def conv_transpose1d_loops(x, w, b, stride, padding, output_padding, groups, dilation):
    """out[n, g C_g + o, t s + k d - p] += x[n, i, t] w[i, o, k] for input channel i in group g."""
    n_batch, c_in, length = x.shape
    _, out_per_group, k = w.shape
    in_per_group = c_in // groups
    l_out = (length - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    out = b.reshape(1, -1, 1).repeat(n_batch, 1, l_out)
    for n in range(n_batch):
        for i in range(c_in):
            g = i // in_per_group
            for o in range(out_per_group):
                for t in range(length):
                    for j in range(k):
                        pos = t * stride + j * dilation - padding
                        if 0 <= pos < l_out:
                            out[n, g * out_per_group + o, pos] += x[n, i, t] * w[i, o, j]
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("name", "x_shape", "w_shape", "kw"), CASES)
def test_matches_four_real_formula(name, x_shape, w_shape, kw, backend, dtype):
    x, w = randn(*x_shape, dtype=dtype), randn(*w_shape, dtype=dtype, seed=1)
    b = randn(out_channels(name, w, kw.get("groups", 1)), dtype=dtype, seed=2)
    out = getattr(CF, name)(x, w, b, **kw, backend=backend)
    expected = four_real(name, x, w, b, **kw)
    assert out.dtype == dtype
    assert out.shape == expected.shape
    torch.testing.assert_close(out, expected, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("backend", BACKENDS)
def test_conv1d_matches_loops(backend):
    x, w, b = randn(2, 4, 9), randn(6, 2, 3, seed=1), randn(6, seed=2)
    kw = dict(stride=2, padding=2, dilation=2, groups=2)
    out = CF.conv1d(x, w, b, **kw, backend=backend)
    torch.testing.assert_close(out, conv1d_loops(x, w, b, **kw))


@pytest.mark.parametrize("backend", BACKENDS)
def test_conv_transpose1d_matches_loops(backend):
    x, w, b = randn(2, 4, 5), randn(4, 3, 3, seed=1), randn(6, seed=2)
    kw = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=2)
    out = CF.conv_transpose1d(x, w, b, **kw, backend=backend)
    torch.testing.assert_close(out, conv_transpose1d_loops(x, w, b, **kw))


@pytest.mark.parametrize("name", sorted(REAL_OPS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_bias_added_once(name, backend):
    n = int(name[-2])
    transposed = "transpose" in name
    # Weight (2, 3, *kernel): 2 output channels for a convolution, 3 for a transposed one.
    w = torch.zeros((2, 3) + (2,) * n, dtype=torch.complex128)
    b = torch.tensor([1.0 + 2.0j, -3.0 + 0.5j, 0.25 - 1.0j], dtype=torch.complex128)
    b = b if transposed else b[:2]
    x = randn(1, 2 if transposed else 3, *(3,) * n)
    out = getattr(CF, name)(x, w, b, backend=backend)
    torch.testing.assert_close(out, b.reshape(1, -1, *[1] * n).expand_as(out), rtol=0, atol=0)


# One small case per op, with groups and stride, for gradcheck.
GRAD_CASES = [
    ("conv1d", (1, 4, 5), (2, 2, 2), dict(stride=2, padding=1, groups=2)),
    ("conv2d", (1, 2, 4, 3), (4, 1, 2, 2), dict(stride=(2, 1), dilation=(1, 2), groups=2)),
    ("conv3d", (1, 2, 3, 3, 2), (2, 1, 2, 2, 1), dict(padding=(1, 0, 0), groups=2)),
    ("conv_transpose1d", (1, 4, 3), (4, 1, 2), dict(stride=2, output_padding=1, groups=2)),
    ("conv_transpose2d", (1, 2, 2, 3), (2, 2, 2, 2), dict(stride=2, padding=1, groups=2)),
    ("conv_transpose3d", (1, 2, 2, 2, 2), (2, 1, 2, 1, 2), dict(groups=2, dilation=(1, 1, 2))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("name", "x_shape", "w_shape", "kw"), CASES)
def test_real_input_equals_complex_input_with_zero_imaginary_part(
    name, x_shape, w_shape, kw, backend, dtype
):
    x = randn(*x_shape, dtype=dtype).real
    w = randn(*w_shape, dtype=dtype, seed=1)
    b = randn(out_channels(name, w, kw.get("groups", 1)), dtype=dtype, seed=2)
    op = getattr(CF, name)
    out = op(x, w, b, **kw, backend=backend)
    expected = four_real(name, x.to(dtype), w, b, **kw)
    assert out.dtype == dtype
    assert out.shape == expected.shape
    torch.testing.assert_close(out, expected, rtol=TOL[dtype], atol=TOL[dtype])
    torch.testing.assert_close(
        op(x, w, **kw, backend=backend),
        expected - four_real(name, torch.zeros_like(x, dtype=dtype), w, b, **kw),
        rtol=TOL[dtype],
        atol=TOL[dtype],
    )


@pytest.mark.parametrize(("name", "x_shape", "w_shape", "kw"), CASES)
def test_real_input_runs_one_real_op_on_twice_the_channels(name, x_shape, w_shape, kw):
    """The real-input path is one real (transposed) convolution, not four or three."""
    calls = []

    def counting(*args, **kwargs):
        calls.append(args[1].shape)
        return REAL_OPS[name](*args, **kwargs)

    x, w = randn(*x_shape).real, randn(*w_shape, seed=1)
    out = complex_bilinear(
        functools.partial(counting, **kw), x, w, spatial_dims=len(w_shape) - 2,
        groups=kw.get("groups", 1), transposed="transpose" in name,
    )  # fmt: skip
    assert len(calls) == 1
    axis = 1 if "transpose" in name else 0
    assert calls[0][axis] == 2 * w.shape[axis]
    torch.testing.assert_close(out, getattr(CF, name)(x.to(w.dtype), w, **kw))


@pytest.mark.parametrize(("name", "x_shape", "w_shape", "kw"), GRAD_CASES)
def test_gradcheck_real_input(name, x_shape, w_shape, kw):
    x = randn(*x_shape).real.requires_grad_()
    w = randn(*w_shape, seed=1).requires_grad_()
    b = randn(out_channels(name, w, kw["groups"]), seed=2).requires_grad_()
    op = getattr(CF, name)
    assert torch.autograd.gradcheck(lambda x, w, b: op(x, w, b, **kw), (x, w, b))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("name", "x_shape", "w_shape", "kw"), GRAD_CASES)
def test_gradcheck(name, x_shape, w_shape, kw, backend):
    x = randn(*x_shape).requires_grad_()
    w = randn(*w_shape, seed=1).requires_grad_()
    b = randn(out_channels(name, w, kw["groups"]), seed=2).requires_grad_()
    op = getattr(CF, name)
    assert torch.autograd.gradcheck(lambda x, w, b: op(x, w, b, **kw, backend=backend), (x, w, b))


@settings(max_examples=20, deadline=None)
@given(
    groups=st.integers(1, 3),
    in_per_group=st.integers(1, 2),
    out_per_group=st.integers(1, 2),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    transposed=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_conv2d_backends_agree_property(
    groups, in_per_group, out_per_group, kernel, stride, padding, dilation, transposed, seed
):
    c_in, c_out = groups * in_per_group, groups * out_per_group
    x = randn(2, c_in, 7, 6, seed=seed)
    b = randn(c_out, seed=seed + 2)
    if transposed:
        name = "conv_transpose2d"
        w = randn(c_in, out_per_group, *kernel, seed=seed + 1)
        padding = tuple(
            min(p, d * (k - 1)) for p, d, k in zip(padding, dilation, kernel, strict=True)
        )
        kw = dict(stride=stride, padding=padding, groups=groups, dilation=dilation)
    else:
        name = "conv2d"
        w = randn(c_out, in_per_group, *kernel, seed=seed + 1)
        kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    expected = four_real(name, x, w, b, **kw)
    for backend in BACKENDS:
        torch.testing.assert_close(getattr(CF, name)(x, w, b, **kw, backend=backend), expected)


@pytest.mark.parametrize(("name", "x_shape", "w_shape", "kw"), CASES)
def test_empty_batch_on_every_backend_and_real_input(name, x_shape, w_shape, kw):
    """As torch's real op: an empty output of its shape, an empty input gradient and zero
    parameter gradients, on every backend, for complex and real input."""
    if len(x_shape) == len(w_shape) - 1:
        x_shape = (1, *x_shape)
    x_shape = (0, *x_shape[1:])
    w = randn(*w_shape, seed=1)
    expected = REAL_OPS[name](torch.zeros(x_shape, dtype=torch.float64), w.real, **kw).shape
    for backend in BACKENDS:
        for dtype in (torch.complex128, torch.float64):
            x = torch.zeros(x_shape, dtype=dtype, requires_grad=True)
            w = w.detach().requires_grad_()
            b = randn(out_channels(name, w, kw.get("groups", 1)), seed=2).requires_grad_()
            out = getattr(CF, name)(x, w, b, backend=backend, **kw)
            assert out.shape == expected and out.dtype == torch.complex128
            grads = torch.autograd.grad(out, (x, w, b), torch.ones_like(out))
            assert grads[0].shape == x.shape, (backend, dtype)
            assert torch.equal(grads[1], torch.zeros_like(w)), (backend, dtype)
            assert torch.equal(grads[2], torch.zeros_like(b)), (backend, dtype)


def test_default_backend_is_used(monkeypatch):
    module = importlib.import_module("phasor.functional.linear")
    calls = []
    original = module._real

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "_real", spy)
    x, w = randn(1, 2, 5, 5), randn(3, 2, 3, 3, seed=1)
    with phasor.use_backend("native"):
        expected = CF.conv2d(x, w)
    assert not calls
    with phasor.use_backend("real"):
        out = CF.conv2d(x, w)
    assert len(calls) == 1
    torch.testing.assert_close(out, expected)


def test_errors():
    x, w = randn(2, 4, 6, 6), randn(6, 2, 3, 3)  # valid with groups=2
    assert CF.conv2d(x, w, groups=2).shape == (2, 6, 4, 4)
    with pytest.raises(TypeError, match=r"real torch\.float64"):
        CF.conv2d(x.real.float(), w, groups=2)
    with pytest.raises(TypeError, match=r"torch\.int64"):
        CF.conv2d(x.real.long(), w, groups=2)
    with pytest.raises(TypeError, match="weight"):
        CF.conv2d(x, w.real, groups=2)
    with pytest.raises(TypeError, match="complex64"):
        CF.conv2d(x.to(torch.complex64), w, groups=2)
    with pytest.raises(ValueError, match=r"\(N, C_in, H, W\) or \(C_in, H, W\)"):
        CF.conv2d(randn(4, 6), w)
    with pytest.raises(ValueError, match=r"\(N, C_in, D, H, W\)"):
        CF.conv3d(randn(2, 4, 6), randn(3, 2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"\(C_out, C_in/groups, kH, kW\)"):
        CF.conv2d(x, randn(6, 2, 3))
    with pytest.raises(ValueError, match=r"\(C_in, C_out/groups, kL\)"):
        CF.conv_transpose1d(randn(1, 3, 4), randn(3, 2))
    with pytest.raises(ValueError, match=r"4 channels, i\.e\. shape \(N, 4, H, W\)"):
        CF.conv2d(randn(2, 3, 6, 6), w, groups=2)
    with pytest.raises(ValueError, match="divisible by groups=2"):
        CF.conv2d(randn(2, 2, 6, 6), randn(3, 1, 3, 3), groups=2)
    with pytest.raises(ValueError, match="3 channels"):
        CF.conv_transpose2d(randn(1, 4, 3, 3), randn(3, 2, 2, 2))
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        CF.conv1d(randn(1, 2, 4), randn(2, 2, 2), groups=0)
    with pytest.raises(ValueError, match=r"bias must have shape \(6,\)"):
        CF.conv2d(x, w, randn(4), groups=2)
    with pytest.raises(ValueError, match="unknown backend"):
        CF.conv2d(x, w, groups=2, backend="cuda")
