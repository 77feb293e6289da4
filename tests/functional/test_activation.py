"""Complex activations: values against NumPy references, gradients (gradcheck in complex128),
finite backward at z = 0 and |z| = 1e-30, derivatives at 0, dtype handling and errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import expit

import phasor.functional as CF

DTYPES = [torch.complex64, torch.complex128]


def _bias(value, dtype):
    return torch.tensor([value], dtype=dtype.to_real())


# name -> (torch function taking z (and the dtype for the parameter), numpy reference)
def _np_phase(z):
    mod = np.abs(z)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mod > 0, z / np.where(mod > 0, mod, 1), 0)


def _np_prelu(x, a):
    return np.where(x > 0, x, a * x)


CASES = {
    "crelu": (
        lambda z: CF.crelu(z),
        lambda z: np.maximum(z.real, 0) + 1j * np.maximum(z.imag, 0),
    ),
    "zrelu": (
        lambda z: CF.zrelu(z),
        # arg z in [0, pi/2], computed from the angle rather than from the signs
        lambda z: np.where((np.angle(z) >= 0) & (np.angle(z) <= np.pi / 2), z, 0),
    ),
    "modrelu_neg": (
        lambda z: CF.modrelu(z, _bias(-0.3, z.dtype)),
        lambda z: np.maximum(np.abs(z) - 0.3, 0) * _np_phase(z),
    ),
    "modrelu_pos": (
        lambda z: CF.modrelu(z, _bias(0.2, z.dtype)),
        lambda z: np.where(z == 0, 0, np.maximum(np.abs(z) + 0.2, 0) * _np_phase(z)),
    ),
    "cardioid": (
        lambda z: CF.cardioid(z),
        lambda z: 0.5 * (1 + np.cos(np.angle(z))) * z,
    ),
    "split_sigmoid": (
        lambda z: CF.split_sigmoid(z),
        lambda z: expit(z.real) + 1j * expit(z.imag),
    ),
    "split_tanh": (
        lambda z: CF.split_tanh(z),
        lambda z: np.tanh(z.real) + 1j * np.tanh(z.imag),
    ),
    "amp_phase_tanh": (
        lambda z: CF.amp_phase_tanh(z),
        lambda z: np.tanh(np.abs(z)) * _np_phase(z),
    ),
    "cprelu": (
        lambda z: CF.cprelu(z, _bias(0.1, z.dtype)),
        lambda z: _np_prelu(z.real, 0.1) + 1j * _np_prelu(z.imag, 0.1),
    ),
    "modulus": (
        lambda z: CF.modulus(z),
        lambda z: np.abs(z),
    ),
}


def _random_complex(shape, dtype, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, dtype=dtype, generator=g) * scale).to(dtype)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_numpy_reference(name, dtype):
    fn, ref = CASES[name]
    z = _random_complex((4, 5, 6), dtype, scale=2.0)
    z[0, 0, :4] = torch.tensor([0, 1, 1j, -1], dtype=dtype)  # include z = 0 and the axes
    out = fn(z)
    expected = ref(z.numpy().astype(np.complex128))
    tol = 1e-6 if dtype == torch.complex64 else 1e-12
    np.testing.assert_allclose(out.numpy(), expected, rtol=tol, atol=tol)


# Each part is a signed zero or has modulus in [1e-3, 1e3], so the angle-based zrelu reference
# resolves the quadrant boundary exactly (a part 1e-45 next to 1 would round arg z onto it).
_PART = st.one_of(st.sampled_from([0.0, -0.0]), st.floats(1e-3, 1e3), st.floats(-1e3, -1e-3))


@settings(max_examples=40, deadline=None)
@given(
    values=arrays(np.complex128, st.integers(1, 20), elements=st.builds(complex, _PART, _PART)),
    name=st.sampled_from(sorted(CASES)),
)
def test_matches_numpy_reference_property(values, name):
    fn, ref = CASES[name]
    out = fn(torch.from_numpy(values)).numpy()
    np.testing.assert_allclose(out, ref(values), rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_output_dtype_follows_input(name, dtype):
    out = CASES[name][0](_random_complex((3,), dtype))
    assert out.dtype == (dtype.to_real() if name == "modulus" else dtype)


@pytest.mark.parametrize("name", CASES)
def test_real_input_raises_type_error_naming_fix(name):
    with pytest.raises(TypeError, match="to_complex"):
        CASES[name][0](torch.randn(3))


def test_cases_cover_every_activation():
    covered = {name.split("_neg")[0].split("_pos")[0] for name in CASES}
    assert covered == set(CF.activation.__all__)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_in_gives_nan_out(name, dtype):
    nan = float("nan")
    points = [complex(nan, 1), complex(1, nan), complex(nan, -1), complex(-1, nan)]
    z = torch.tensor([*points, complex(nan, nan), 1 + 1j, -1 - 1j, 0], dtype=dtype)
    assert torch.equal(torch.isnan(CASES[name][0](z)), torch.isnan(z))


def test_zrelu_mask_is_first_quadrant_including_axes():
    z = torch.tensor(
        [1 + 1j, -1 + 1j, -1 - 1j, 1 - 1j, 2, 3j, -2, -3j, 0, 1e-30 + 1e-30j, -1e-30 + 1e-30j],
        dtype=torch.complex128,
    )
    keep = torch.tensor([1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0], dtype=torch.bool)
    out = CF.zrelu(z)
    assert torch.equal(out, torch.where(keep, z, torch.zeros_like(z)))
    # the opposite of a magnitude threshold: large values outside the quadrant are dropped
    assert CF.zrelu(torch.tensor([-1e6 + 1e6j], dtype=torch.complex64)).abs().item() == 0


def test_modrelu_keeps_phase_and_shrinks_modulus():
    z = _random_complex((50,), torch.complex128, scale=3.0, seed=1)
    out = CF.modrelu(z, _bias(-0.5, torch.complex128))
    active = z.abs() > 0.5
    assert torch.allclose(out.abs(), (z.abs() - 0.5).clamp(min=0))
    assert torch.allclose(torch.angle(out[active]), torch.angle(z[active]))
    assert torch.all(out[~active] == 0)


def test_modrelu_with_zero_bias_is_identity():
    z = _random_complex((20,), torch.complex128, seed=2)
    z[0] = 0
    assert torch.allclose(CF.modrelu(z, _bias(0.0, torch.complex128)), z)


def test_modrelu_value_at_zero_is_zero_for_any_bias():
    z = torch.zeros(3, dtype=torch.complex128)
    for b in (-1.0, 0.0, 1.0):
        assert torch.all(CF.modrelu(z, _bias(b, torch.complex128)) == 0)


def test_per_channel_parameters_use_dim_1():
    z = _random_complex((2, 3, 4, 5), torch.complex128, seed=3)
    bias = torch.tensor([-0.5, 0.0, 0.5], dtype=torch.float64)
    slopes = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    out_mod = CF.modrelu(z, bias)
    out_pre = CF.cprelu(z, slopes)
    for c in range(3):
        zc = z[:, c]
        assert torch.allclose(out_mod[:, c], CF.modrelu(zc, bias[c : c + 1]))
        assert torch.allclose(out_pre[:, c], CF.cprelu(zc, slopes[c : c + 1]))


def test_cprelu_matches_torch_prelu_on_parts():
    z = _random_complex((4, 3, 7), torch.complex128, seed=4)
    w = torch.tensor([0.25, -0.5, 2.0], dtype=torch.float64)
    out = CF.cprelu(z, w)
    prelu = torch.nn.functional.prelu
    assert torch.equal(out.real, prelu(z.real, w))
    assert torch.equal(out.imag, prelu(z.imag, w))


@pytest.mark.parametrize("fn", [CF.modrelu, CF.cprelu])
def test_parameter_errors(fn):
    z = _random_complex((2, 3, 4), torch.complex64)
    with pytest.raises(TypeError, match="float32"):
        fn(z, torch.zeros(3, dtype=torch.float64))
    with pytest.raises(TypeError, match="float32"):
        fn(z, torch.zeros(3, dtype=torch.complex64))
    with pytest.raises(ValueError, match="one per channel"):
        fn(z, torch.zeros(4))
    with pytest.raises(ValueError, match="1-D"):
        fn(z, torch.zeros(3, 1))
    with pytest.raises(ValueError, match="one per channel"):
        fn(torch.zeros(3, dtype=torch.complex64), torch.zeros(3))


# ---------------------------------------------------------------- gradients


def _tiny_points(dtype):
    """z = 0 (both signed zeros) and |z| = 1e-30 at eight phases."""
    phases = torch.arange(8, dtype=torch.float64) * (torch.pi / 4) + 0.1
    tiny = torch.polar(torch.full_like(phases, 1e-30), phases)
    zeros = torch.tensor([0j, complex(-0.0, -0.0)], dtype=torch.complex128)
    return torch.cat([zeros, tiny]).to(dtype)


PARAM_CASES = [
    ("modrelu", -0.1),
    ("modrelu", 0.0),
    ("modrelu", 0.1),
    ("cprelu", 0.25),
]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_finite_at_zero_and_tiny(name, dtype):
    z = _tiny_points(dtype).requires_grad_()
    out = CASES[name][0](z)
    weights = torch.randn(out.shape + ((2,) if out.is_complex() else ()), dtype=dtype.to_real())
    (torch.view_as_real(out) if out.is_complex() else out).mul(weights).sum().backward()
    assert torch.isfinite(out.detach().abs()).all()
    assert torch.isfinite(torch.view_as_real(z.grad)).all()


@pytest.mark.parametrize(("name", "value"), PARAM_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_parameter_gradient_finite_at_zero_and_tiny(name, value, dtype):
    z = _tiny_points(dtype).requires_grad_()
    param = torch.tensor([value], dtype=dtype.to_real(), requires_grad=True)
    out = getattr(CF, name)(z, param)
    torch.view_as_real(out).sum().backward()
    assert torch.isfinite(torch.view_as_real(z.grad)).all()
    assert torch.isfinite(param.grad).all()


def _away_from_kinks(seed):
    """complex128 points with |Re|, |Im| >= 0.3 and |z| in [0.45, 2.9]."""
    g = torch.Generator().manual_seed(seed)
    parts = (torch.rand(2, 12, generator=g, dtype=torch.float64) * 1.7 + 0.3) * torch.where(
        torch.rand(2, 12, generator=g) < 0.5, -1.0, 1.0
    ).double()
    return torch.complex(parts[0], parts[1]).reshape(3, 4)


@pytest.mark.parametrize("name", CASES)
def test_gradcheck_away_from_kinks(name):
    z = _away_from_kinks(seed=5).requires_grad_()
    assert torch.autograd.gradcheck(CASES[name][0], (z,))


@pytest.mark.parametrize(("name", "value"), [("modrelu", -0.2), ("modrelu", 0.3), ("cprelu", 0.3)])
def test_gradcheck_with_respect_to_parameters(name, value):
    z = _away_from_kinks(seed=6).reshape(3, 4, 1).requires_grad_()
    param = torch.full((4,), value, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(getattr(CF, name), (z, param))


@pytest.mark.parametrize(
    "fn",
    [
        CF.split_sigmoid,
        CF.split_tanh,
        CF.amp_phase_tanh,
        lambda z: CF.modrelu(z, _bias(-0.2, z.dtype)),
        lambda z: CF.modrelu(z, _bias(0.0, z.dtype)),
    ],
    ids=["split_sigmoid", "split_tanh", "amp_phase_tanh", "modrelu_neg", "modrelu_zero"],
)
def test_gradcheck_at_zero_where_differentiable(fn):
    z = torch.tensor([0j, 0.05 - 0.02j, 0j], dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(fn, (z,))


def _jacobian_at_zero(fn):
    """2x2 real Jacobian d(Re f, Im f) / d(Re z, Im z) at z = 0 (one row for real outputs)."""

    def real_fn(xy):
        out = fn(torch.view_as_complex(xy))
        return torch.view_as_real(out) if out.is_complex() else out.unsqueeze(-1)

    return torch.autograd.functional.jacobian(real_fn, torch.zeros(2, dtype=torch.float64))


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (CF.crelu, 0.0),
        (CF.zrelu, 1.0),
        (CF.cardioid, 1.0),
        (CF.split_sigmoid, 0.25),
        (CF.split_tanh, 1.0),
        (CF.amp_phase_tanh, 1.0),
        (lambda z: CF.modrelu(z, _bias(-0.2, z.dtype)), 0.0),
        (lambda z: CF.modrelu(z, _bias(0.0, z.dtype)), 1.0),
        (lambda z: CF.modrelu(z, _bias(0.2, z.dtype)), 0.0),
        (lambda z: CF.cprelu(z, _bias(0.3, z.dtype)), 0.3),
    ],
    ids=[
        "crelu",
        "zrelu",
        "cardioid",
        "split_sigmoid",
        "split_tanh",
        "amp_phase_tanh",
        "modrelu_neg",
        "modrelu_zero",
        "modrelu_pos",
        "cprelu",
    ],
)
def test_documented_derivative_at_zero(fn, expected):
    jac = _jacobian_at_zero(fn)
    assert torch.allclose(jac, expected * torch.eye(2, dtype=torch.float64))


def test_modulus_gradient_at_zero_is_zero():
    assert torch.equal(_jacobian_at_zero(CF.modulus), torch.zeros(1, 2, dtype=torch.float64))


def test_cardioid_is_not_linear_at_zero():
    """Documented: cardioid is continuous but not differentiable at 0 (f(t) + f(-t) != 0)."""
    t = torch.tensor([1e-8, -1e-8], dtype=torch.complex128)
    out = CF.cardioid(t)
    assert out[0].real == pytest.approx(1e-8) and out[1].abs() == 0
