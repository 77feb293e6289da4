"""Tests of phasor.functional.linear on every backend, against plain reference computations."""

import importlib

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import phasor
from phasor.backend import BACKENDS
from phasor.functional import linear

DTYPES = [torch.complex64, torch.complex128]
# The module, not the function of the same name that phasor.functional re-exports.
linear_module = importlib.import_module("phasor.functional.linear")
TOL = {torch.complex64: 1e-5, torch.complex128: 1e-12}


def randn(*shape, dtype=torch.complex128, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=dtype, generator=g)


def reference_sum(x, w, b):
    """y_j = sum_k x_k W_jk + b_j, written as an explicit broadcast sum."""
    return (x.unsqueeze(-2) * w).sum(-1) + b


def reference_four_real(x, w, b):
    """Seed 003: (A x - B y) + i (B x + A y) with four real matrix products, then + b."""
    xr, xi, a, bb = x.real, x.imag, w.real, w.imag
    re = xr @ a.T - xi @ bb.T + b.real
    im = xr @ bb.T + xi @ a.T + b.imag
    return torch.complex(re, im)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_matches_references(backend, dtype):
    x, w, b = (
        randn(4, 3, 5, dtype=dtype),
        randn(6, 5, dtype=dtype, seed=1),
        randn(6, dtype=dtype, seed=2),
    )
    out = linear(x, w, b, backend=backend)
    assert out.dtype == dtype and out.shape == (4, 3, 6)
    tol = TOL[dtype]
    torch.testing.assert_close(out, reference_sum(x, w, b), rtol=tol, atol=tol)
    torch.testing.assert_close(out, reference_four_real(x, w, b), rtol=tol, atol=tol)


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_dimensional_input_and_no_bias(backend):
    x, w = randn(5), randn(3, 5, seed=1)
    out = linear(x, w, backend=backend)
    assert out.shape == (3,)
    torch.testing.assert_close(out, w @ x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bias_added_once(backend):
    """Re y must get b_r and Im y must get b_i (not b_r - b_i, as with two coupled real layers)."""
    b = torch.tensor([1.0 + 2.0j, -3.0 + 0.5j], dtype=torch.complex128)
    x = randn(4, 3)
    w = torch.zeros(2, 3, dtype=torch.complex128)
    out = linear(x, w, b, backend=backend)
    torch.testing.assert_close(out, b.expand(4, 2), rtol=0, atol=1e-15)
    # Bias shift is exactly b, for nonzero weights too.
    w = randn(2, 3, seed=3)
    torch.testing.assert_close(
        linear(x, w, b, backend=backend) - linear(x, w, backend=backend), b.expand(4, 2)
    )


@settings(max_examples=25, deadline=None)
@given(
    batch=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    n_in=st.integers(1, 6),
    n_out=st.integers(1, 6),
    use_bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_backends_agree_property(batch, n_in, n_out, use_bias, seed):
    x = randn(*batch, n_in, seed=seed)
    w = randn(n_out, n_in, seed=seed + 1)
    b = randn(n_out, seed=seed + 2) if use_bias else None
    expected = reference_sum(x, w, b if use_bias else torch.zeros(n_out, dtype=x.dtype))
    for backend in BACKENDS:
        torch.testing.assert_close(linear(x, w, b, backend=backend), expected)


@settings(max_examples=25, deadline=None)
@given(
    batch=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    n_in=st.integers(1, 6),
    n_out=st.integers(1, 6),
    use_bias=st.booleans(),
    conjugated=st.booleans(),
    column_major=st.booleans(),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**16),
)
def test_real_input_equals_complex_input_property(
    batch, n_in, n_out, use_bias, conjugated, column_major, dtype, seed
):
    """A real input gives what the same values with zero imaginary part give, on every backend,
    for weights stored row by row and transposed (as phasor.nn.Linear stores them)."""
    x = randn(*batch, n_in, dtype=dtype, seed=seed).real
    w = randn(n_out, n_in, dtype=dtype, seed=seed + 1)
    w = w.t().contiguous().t() if column_major else w
    w = w.conj() if conjugated else w  # a lazily conjugated weight is read correctly
    b = randn(n_out, dtype=dtype, seed=seed + 2) if use_bias else None
    expected = reference_four_real(
        x.to(dtype), w, b if use_bias else torch.zeros(n_out, dtype=dtype)
    )
    for backend in BACKENDS:
        out = linear(x, w, b, backend=backend)
        assert out.dtype == dtype
        torch.testing.assert_close(out, expected, rtol=TOL[dtype], atol=TOL[dtype])


def test_real_input_is_one_real_matrix_product(monkeypatch):
    """Half the arithmetic of a complex input: one real product with 2 * out_features outputs."""
    calls = []
    original = torch.nn.functional.linear

    def spy(input, weight, bias=None):
        calls.append((input.dtype, tuple(weight.shape)))
        return original(input, weight, bias)

    monkeypatch.setattr(linear_module.F, "linear", spy)
    x, w = randn(8, 5).real, randn(3, 5, seed=1)
    out = linear(x, w, randn(3, seed=2))
    assert calls == [(torch.float64, (6, 5))]
    torch.testing.assert_close(out, x.to(w.dtype) @ w.T + randn(3, seed=2))


@pytest.mark.parametrize("column_major", [False, True])
def test_gradcheck_real_input(column_major):
    x = randn(3, 4).real.requires_grad_()
    w = randn(2, 4, seed=1)
    w = (w.t().contiguous().t() if column_major else w).requires_grad_()
    b = randn(2, seed=2).requires_grad_()
    assert torch.autograd.gradcheck(linear, (x, w, b))


@pytest.mark.parametrize("column_major", [False, True])
@pytest.mark.parametrize("backend", BACKENDS)
def test_gradcheck(backend, column_major):
    x = randn(3, 4).requires_grad_()
    w = randn(2, 4, seed=1)
    w = (w.t().contiguous().t() if column_major else w).requires_grad_()
    b = randn(2, seed=2).requires_grad_()
    assert torch.autograd.gradcheck(lambda x, w, b: linear(x, w, b, backend=backend), (x, w, b))


@pytest.mark.parametrize("shape", [(0, 4), (2, 0, 4)])
def test_empty_batch_on_every_backend_and_real_input(shape):
    """As torch: an empty output, an empty input gradient and zero parameter gradients."""
    for backend in BACKENDS:
        for dtype in (torch.complex128, torch.float64):
            for w in (randn(3, 4, seed=1), randn(4, 3, seed=1).t()):  # row-, column-major
                x = torch.zeros(shape, dtype=dtype, requires_grad=True)
                w, b = w.requires_grad_(), randn(3, seed=2).requires_grad_()
                out = linear(x, w, b, backend=backend)
                assert out.shape == (*shape[:-1], 3) and out.dtype == torch.complex128
                grads = torch.autograd.grad(out, (x, w, b), torch.ones_like(out))
                assert grads[0].shape == x.shape, (backend, dtype)
                assert torch.equal(grads[1], torch.zeros_like(w)), (backend, dtype)
                assert torch.equal(grads[2], torch.zeros_like(b)), (backend, dtype)


def test_default_backend_is_used(monkeypatch):
    calls = []
    original = linear_module._gauss

    def spy(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(linear_module, "_gauss", spy)
    x, w = randn(2, 3), randn(4, 3, seed=1)
    with phasor.use_backend("native"):
        linear(x, w)
    assert not calls
    with phasor.use_backend("gauss"):
        out = linear(x, w)
    assert len(calls) == 1
    torch.testing.assert_close(out, x @ w.T)


def test_errors():
    x, w = randn(2, 3), randn(4, 3)
    with pytest.raises(TypeError, match=r"real torch\.float64"):
        linear(x.real.float(), w)
    with pytest.raises(TypeError, match=r"torch\.int64"):
        linear(x.real.long(), w)
    with pytest.raises(TypeError, match="weight"):
        linear(x, w.real)
    with pytest.raises(TypeError, match="complex64"):
        linear(x.to(torch.complex64), w)
    with pytest.raises(ValueError, match=r"\(\*, 3\)"):
        linear(randn(2, 5), w)
    with pytest.raises(ValueError, match=r"\(\*, 3\)"):
        linear(randn(()), w)
    with pytest.raises(ValueError, match="out_features, in_features"):
        linear(x, randn(4, 3, 1))
    with pytest.raises(ValueError, match=r"\(4,\)"):
        linear(x, w, randn(3))
    with pytest.raises(TypeError, match="bias"):
        linear(x, w, randn(4).real)
    with pytest.raises(ValueError, match="unknown backend"):
        linear(x, w, backend="fast")
