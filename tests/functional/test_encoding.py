"""Real-to-complex encoders: values against NumPy/SciPy, dtypes, gradients, errors."""

import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import phasor.functional as CF

PAIRS = [(torch.float32, torch.complex64), (torch.float64, torch.complex128)]
ENCODERS = [CF.to_complex, CF.phase_encode, CF.analytic_signal]


def _x(shape, dtype=torch.float64, seed=0):
    return torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("fn", ENCODERS)
@pytest.mark.parametrize(("real", "cplx"), PAIRS)
def test_output_dtype_matches_precision(fn, real, cplx):
    assert fn(_x((2, 6), real)).dtype == cplx


def test_to_complex_has_zero_imaginary_part():
    x = _x((3, 4))
    z = CF.to_complex(x)
    assert torch.equal(z.real, x) and torch.all(z.imag == 0)


def test_phase_encode_matches_numpy():
    x = torch.rand(5, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    expected = x.numpy() * np.exp(1j * np.pi * x.numpy())
    np.testing.assert_allclose(CF.phase_encode(x).numpy(), expected, rtol=1e-13, atol=1e-15)


def test_phase_encode_modulus_and_phase_on_unit_interval():
    x = torch.linspace(0.01, 0.99, 50, dtype=torch.float64)
    z = CF.phase_encode(x)
    assert torch.allclose(z.abs(), x)
    assert torch.allclose(torch.angle(z), torch.pi * x)
    assert CF.phase_encode(torch.tensor([0.0, 1.0], dtype=torch.float64)).allclose(
        torch.tensor([0, -1], dtype=torch.complex128)
    )


@pytest.mark.parametrize("n", [1, 2, 7, 8])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_analytic_signal_matches_scipy(n, dim):
    shape = [3, 4, 5]
    shape[dim] = n
    x = _x(shape, seed=2)
    out = CF.analytic_signal(x, dim=dim)
    expected = scipy.signal.hilbert(x.numpy(), axis=dim)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    arrays(
        np.float64,
        array_shapes(min_dims=1, max_dims=3, max_side=9),
        elements=st.floats(-1e3, 1e3, allow_nan=False),
    ),
    st.integers(0, 2),
)
def test_analytic_signal_matches_scipy_property(values, axis):
    axis = axis % values.ndim
    out = CF.analytic_signal(torch.from_numpy(values), dim=axis).numpy()
    expected = scipy.signal.hilbert(values, axis=axis)
    np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(out.real, values, atol=1e-9)


def test_analytic_signal_of_cosine_is_complex_exponential():
    t = torch.arange(64, dtype=torch.float64)
    omega = 2 * torch.pi * 5 / 64
    z = CF.analytic_signal(torch.cos(omega * t))
    assert torch.allclose(z, torch.exp(1j * omega * t), atol=1e-12)


@pytest.mark.parametrize("fn", ENCODERS)
def test_gradcheck(fn):
    x = _x((3, 6), seed=3).requires_grad_()
    assert torch.autograd.gradcheck(fn, (x,))


@pytest.mark.parametrize("fn", ENCODERS)
def test_complex_input_raises_clear_type_error(fn):
    with pytest.raises(TypeError, match="already complex"):
        fn(torch.zeros(4, dtype=torch.complex64))


@pytest.mark.parametrize("fn", ENCODERS)
def test_integer_input_raises_type_error_naming_fix(fn):
    with pytest.raises(TypeError, match=r"x\.float\(\)"):
        fn(torch.zeros(4, dtype=torch.uint8))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        fn(np.zeros(4))


def test_analytic_signal_shape_errors():
    with pytest.raises(ValueError, match="0-D"):
        CF.analytic_signal(torch.tensor(1.0))
    with pytest.raises(ValueError, match="non-empty"):
        CF.analytic_signal(torch.zeros(3, 0))
