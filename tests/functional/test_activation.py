"""Complex activations: every function of ``phasor.functional.activation.__all__`` against a
plain NumPy reference, gradcheck and gradgradcheck in complex128, finite values and gradients
at z = 0 and |z| = 1e-30, 1e-300, NaN propagation, derivatives at 0, dtypes and errors."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import erf, expit

import phasor.functional as CF

DTYPES = [torch.complex64, torch.complex128]
ACTIVATIONS = list(CF.activation.__all__)
REAL_OUTPUT = {"modulus", "modulus_squared"}


def _bias(value, dtype):
    return torch.tensor([value], dtype=dtype.to_real())


def _np_phase(z):
    mod = np.abs(z)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mod > 0, z / np.where(mod > 0, mod, 1), 0)


def _np_prelu(x, a):
    return np.where(x > 0, x, a * x)


def _np_split(g):
    """A NumPy reference applying the real ``g`` to both parts."""
    return lambda z: g(z.real) + 1j * g(z.imag)


def _np_first_quadrant(z):
    """arg z in [0, pi/2], computed from the angle rather than from the signs."""
    return (np.angle(z) >= 0) & (np.angle(z) <= np.pi / 2)


def _np_rotated_crelu(z, phi):
    """Coordinates on the rotated basis u1 = e^{-i phi}, u2 = i e^{-i phi}, each clipped at 0."""
    u1, u2 = np.exp(-1j * phi), 1j * np.exp(-1j * phi)
    a = (z * np.conj(u1)).real
    b = (z * np.conj(u2)).real
    return np.maximum(a, 0) * u1 + np.maximum(b, 0) * u2


SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


@dataclass(frozen=True)
class Case:
    """One way of calling an activation: its name in ``phasor.functional``, the value of its
    real per-channel tensor argument (if any), keyword hyperparameters, a NumPy reference."""

    name: str
    ref: Callable[[np.ndarray], np.ndarray]
    param: float | None = None
    kwargs: dict = field(default_factory=dict)

    def __call__(self, z, param=None):
        fn = getattr(CF, self.name)
        if self.param is None:
            return fn(z, **self.kwargs)
        if param is None:
            param = _bias(self.param, z.dtype)
        return fn(z, param, **self.kwargs)


PHI = 0.7
CASES = {
    "crelu": Case("crelu", _np_split(lambda x: np.maximum(x, 0))),
    "zrelu": Case("zrelu", lambda z: np.where(_np_first_quadrant(z), z, 0)),
    "modrelu-neg": Case(
        "modrelu", lambda z: np.maximum(np.abs(z) - 0.3, 0) * _np_phase(z), param=-0.3
    ),
    "modrelu-pos": Case(
        "modrelu",
        lambda z: np.where(z == 0, 0, np.maximum(np.abs(z) + 0.2, 0) * _np_phase(z)),
        param=0.2,
    ),
    "cardioid": Case("cardioid", lambda z: 0.5 * (1 + np.cos(np.angle(z))) * z),
    "split_sigmoid": Case("split_sigmoid", _np_split(expit)),
    "split_tanh": Case("split_tanh", _np_split(np.tanh)),
    "amp_phase_tanh": Case("amp_phase_tanh", lambda z: np.tanh(np.abs(z)) * _np_phase(z)),
    "amp_phase_tanh-scaled": Case(
        "amp_phase_tanh",
        lambda z: 2.0 * np.tanh(np.abs(z) / 0.5) * _np_phase(z),
        kwargs={"saturation": 2.0, "scale": 0.5},
    ),
    "cprelu": Case("cprelu", _np_split(lambda x: _np_prelu(x, 0.1)), param=0.1),
    "modulus": Case("modulus", np.abs),
    "split_elu": Case(
        "split_elu",
        _np_split(lambda x: np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0)))),
        kwargs={"alpha": 0.5},
    ),
    "split_celu": Case(
        "split_celu",
        _np_split(
            lambda x: np.maximum(x, 0) + np.minimum(0, 0.7 * np.expm1(np.minimum(x, 0) / 0.7))
        ),
        kwargs={"alpha": 0.7},
    ),
    "split_selu": Case(
        "split_selu",
        _np_split(
            lambda x: SELU_LAMBDA * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))
        ),
    ),
    "split_gelu": Case("split_gelu", _np_split(lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2))))),
    "split_gelu-tanh": Case(
        "split_gelu",
        _np_split(
            lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
        ),
        kwargs={"approximate": "tanh"},
    ),
    "split_silu": Case("split_silu", _np_split(lambda x: x * expit(x))),
    "split_mish": Case("split_mish", _np_split(lambda x: x * np.tanh(np.logaddexp(0, x)))),
    "split_leaky_relu": Case(
        "split_leaky_relu",
        _np_split(lambda x: _np_prelu(x, 0.1)),
        kwargs={"negative_slope": 0.1},
    ),
    "split_hardtanh": Case(
        "split_hardtanh",
        _np_split(lambda x: np.clip(x, -0.5, 1.5)),
        kwargs={"min_val": -0.5, "max_val": 1.5},
    ),
    "split_hardsigmoid": Case("split_hardsigmoid", _np_split(lambda x: np.clip(x / 6 + 0.5, 0, 1))),
    "split_hardswish": Case("split_hardswish", _np_split(lambda x: x * np.clip(x + 3, 0, 6) / 6)),
    "split_softplus": Case(
        "split_softplus",
        _np_split(lambda x: np.where(2 * x > 20, x, np.logaddexp(0, 2 * x) / 2)),
        kwargs={"beta": 2.0},
    ),
    "split_softsign": Case("split_softsign", _np_split(lambda x: x / (1 + np.abs(x)))),
    "siglog": Case("siglog", lambda z: z / (0.5 + np.abs(z) / 2.0), kwargs={"c": 0.5, "r": 2.0}),
    "polar_squash": Case(
        "polar_squash", lambda z: np.abs(z) ** 2 / (1 + np.abs(z) ** 2) * _np_phase(z)
    ),
    "polar_log": Case("polar_log", lambda z: np.log1p(np.abs(z)) * _np_phase(z)),
    "mod_softplus": Case(
        "mod_softplus",
        lambda z: np.logaddexp(0, 1.5 * np.abs(z)) / 1.5 * _np_phase(z),
        kwargs={"beta": 1.5},
    ),
    "csign": Case("csign", _np_phase),
    "modulus_squared": Case("modulus_squared", lambda z: np.abs(z) ** 2),
    "shifted_cardioid": Case(
        "shifted_cardioid",
        lambda z: 0.5 * (1 + np.cos(np.angle(z) - PHI)) * z,
        param=PHI,
    ),
    "rotated_crelu": Case("rotated_crelu", lambda z: _np_rotated_crelu(z, PHI), param=PHI),
    "z_leaky_relu": Case(
        "z_leaky_relu", lambda z: np.where(_np_first_quadrant(z), z, 0.3 * z), param=0.3
    ),
}
PARAM_CASES = [case for case in CASES if CASES[case].param is not None]


def _random_complex(shape, dtype, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, dtype=dtype, generator=g) * scale).to(dtype)


def test_every_activation_has_a_case():
    assert {case.name for case in CASES.values()} == set(ACTIVATIONS)
    assert len(ACTIVATIONS) >= 30


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_numpy_reference(case, dtype):
    z = _random_complex((4, 5, 6), dtype, scale=2.0)
    z[0, 0, :4] = torch.tensor([0, 1, 1j, -1], dtype=dtype)  # include z = 0 and the axes
    out = CASES[case](z)
    expected = CASES[case].ref(z.numpy().astype(np.complex128))
    tol = 1e-6 if dtype == torch.complex64 else 1e-12
    np.testing.assert_allclose(out.numpy(), expected, rtol=tol, atol=tol)


# Each part is a signed zero or has modulus in [1e-3, 1e3], so the angle-based references
# resolve the quadrant boundaries exactly (a part 1e-45 next to 1 would round arg z onto one).
_PART = st.one_of(st.sampled_from([0.0, -0.0]), st.floats(1e-3, 1e3), st.floats(-1e3, -1e-3))


@settings(max_examples=60, deadline=None)
@given(
    values=arrays(np.complex128, st.integers(1, 20), elements=st.builds(complex, _PART, _PART)),
    case=st.sampled_from(sorted(CASES)),
)
def test_matches_numpy_reference_property(values, case):
    out = CASES[case](torch.from_numpy(values)).numpy()
    with np.errstate(over="ignore"):
        expected = CASES[case].ref(values)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_output_dtype_follows_input(case, dtype):
    out = CASES[case](_random_complex((3,), dtype))
    assert out.dtype == (dtype.to_real() if CASES[case].name in REAL_OUTPUT else dtype)


@pytest.mark.parametrize("case", CASES)
def test_real_input_raises_type_error_naming_fix(case):
    with pytest.raises(TypeError, match="to_complex"):
        CASES[case](torch.randn(3), torch.zeros(1))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_in_gives_nan_out(case, dtype):
    nan = float("nan")
    points = [complex(nan, 1), complex(1, nan), complex(nan, -1), complex(-1, nan)]
    z = torch.tensor([*points, complex(nan, nan), 1 + 1j, -1 - 1j, 0], dtype=dtype)
    assert torch.equal(torch.isnan(CASES[case](z)), torch.isnan(z))


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


@pytest.mark.parametrize("case", PARAM_CASES)
def test_per_channel_parameters_use_dim_1(case):
    z = _random_complex((2, 3, 4, 5), torch.complex128, seed=3)
    param = CASES[case].param + torch.tensor([-0.5, 0.0, 0.5], dtype=torch.float64)
    out = CASES[case](z, param)
    for c in range(3):
        assert torch.allclose(out[:, c], CASES[case](z[:, c], param[c : c + 1]))


def test_cprelu_matches_torch_prelu_on_parts():
    z = _random_complex((4, 3, 7), torch.complex128, seed=4)
    w = torch.tensor([0.25, -0.5, 2.0], dtype=torch.float64)
    out = CF.cprelu(z, w)
    prelu = torch.nn.functional.prelu
    assert torch.equal(out.real, prelu(z.real, w))
    assert torch.equal(out.imag, prelu(z.imag, w))


@pytest.mark.parametrize("name", sorted({CASES[case].name for case in PARAM_CASES}))
def test_parameter_errors(name):
    fn = getattr(CF, name)
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


def test_polar_squash_does_not_overflow_for_large_inputs():
    for dtype, big in ((torch.complex64, 1e30), (torch.complex128, 1e200)):
        z = torch.tensor([big * (0.6 + 0.8j), -big], dtype=dtype)
        out = CF.polar_squash(z)
        expected = torch.tensor([0.6 + 0.8j, -1], dtype=dtype)
        assert torch.allclose(out, expected, rtol=1e-6, atol=0)


def test_defaults_reduce_to_the_base_activations():
    z = _random_complex((2, 3, 5), torch.complex128, scale=2.0, seed=7)
    zero = _bias(0.0, z.dtype)
    assert torch.allclose(CF.rotated_crelu(z, zero), CF.crelu(z))
    assert torch.allclose(CF.shifted_cardioid(z, zero), CF.cardioid(z))
    assert torch.equal(CF.z_leaky_relu(z, zero), CF.zrelu(z))


@settings(max_examples=30, deadline=None)
@given(
    phi=st.floats(-math.pi, math.pi),
    theta=st.floats(-math.pi, math.pi),
    radius=st.floats(1e-3, 1e3),
)
def test_shifted_cardioid_passes_direction_phi_and_blocks_the_opposite(phi, theta, radius):
    phase = torch.tensor([phi], dtype=torch.float64)
    along = torch.polar(torch.tensor([radius], dtype=torch.float64), phase)
    assert torch.allclose(CF.shifted_cardioid(along, phase), along, rtol=1e-12)
    assert CF.shifted_cardioid(-along, phase).abs().item() <= 1e-12 * radius
    # the gain (1 + cos(theta - phi)) / 2 lies in [0, 1] and keeps the phase
    z = torch.polar(torch.tensor([radius], dtype=torch.float64), torch.tensor([theta]).double())
    gain = CF.shifted_cardioid(z, phase) / z
    assert abs(gain.imag.item()) < 1e-12 and -1e-12 <= gain.real.item() <= 1 + 1e-12


@settings(max_examples=30, deadline=None)
@given(phi=st.floats(-math.pi, math.pi), offset=st.floats(0.05, math.pi / 2 - 0.05))
def test_rotated_crelu_keeps_the_rotated_quadrant(phi, offset):
    """Inside arg z in [-phi, pi/2 - phi] the input passes; in the opposite quadrant it is 0."""
    phase = torch.tensor([phi], dtype=torch.float64)
    inside = torch.polar(torch.tensor([1.5], dtype=torch.float64), -phase + offset)
    assert torch.allclose(CF.rotated_crelu(inside, phase), inside, atol=1e-12)
    opposite = -inside
    assert CF.rotated_crelu(opposite, phase).abs().item() < 1e-12


def test_siglog_modulus_rises_with_slope_1_over_c_towards_r():
    mod = torch.tensor([1e-8, 1.0, 1e8], dtype=torch.float64)
    z = torch.polar(mod, torch.tensor([0.3, -2.0, 1.0], dtype=torch.float64))
    out = CF.siglog(z, c=0.5, r=3.0)
    assert torch.allclose(torch.angle(out), torch.angle(z))
    assert out.abs()[0].item() == pytest.approx(2e-8)
    assert out.abs()[2].item() == pytest.approx(3.0, rel=1e-6)


@pytest.mark.parametrize(
    ("fn", "kwargs", "match"),
    [
        (CF.siglog, {"c": 0.0}, "c must be"),
        (CF.siglog, {"r": -1.0}, "r must be"),
        (CF.amp_phase_tanh, {"scale": 0.0}, "scale must be"),
        (CF.amp_phase_tanh, {"saturation": float("inf")}, "saturation must be"),
        (CF.mod_softplus, {"beta": -1.0}, "beta must be"),
    ],
)
def test_hyperparameter_errors(fn, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fn(torch.ones(2, dtype=torch.complex64), **kwargs)


# ---------------------------------------------------------------- gradients


def _tiny_points(dtype, radius):
    """z = 0 (both signed zeros) and |z| = radius at eight phases."""
    phases = torch.arange(8, dtype=torch.float64) * (torch.pi / 4) + 0.1
    tiny = torch.polar(torch.full_like(phases, radius), phases)
    zeros = torch.tensor([0j, complex(-0.0, -0.0)], dtype=torch.complex128)
    return torch.cat([zeros, tiny]).to(dtype)


@pytest.mark.parametrize(
    ("dtype", "radius"),
    [(torch.complex128, 1e-30), (torch.complex128, 1e-300), (torch.complex64, 1e-30)],
    ids=["c128-1e-30", "c128-1e-300", "c64-1e-30"],
)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_value_and_gradients_finite_at_zero_and_tiny(name, dtype, radius):
    """Every activation in __all__, through each of its cases: a new one without a case fails."""
    cases = [case for case in CASES.values() if case.name == name]
    assert cases, f"{name} has no case in CASES"
    g = torch.Generator().manual_seed(0)
    for case in cases:
        z = _tiny_points(dtype, radius).requires_grad_()
        param = None
        if case.param is not None:
            param = _bias(case.param, dtype).requires_grad_()
        out = case(z, param)
        parts = torch.view_as_real(out) if out.is_complex() else out
        weights = torch.randn(parts.shape, dtype=parts.dtype, generator=g)
        parts.mul(weights).sum().backward()
        assert torch.isfinite(parts.detach()).all()
        assert torch.isfinite(torch.view_as_real(z.grad)).all()
        if param is not None:
            assert torch.isfinite(param.grad).all()


_GRID = torch.tensor([0.3, 0.7, 1.1, 1.9, 2.6], dtype=torch.float64)


def _away_from_kinks(seed, phi=0.0):
    """complex128 points of shape (3, 4), each part of modulus in {0.3, 0.7, 1.1, 1.9, 2.6} with
    a random sign, rotated by exp(-i phi): off every kink of CASES (axes, |part| = 0.5, 1, 1.5,
    3 and |z| = 0.2, 0.3; for rotated_crelu the rotated axes)."""
    g = torch.Generator().manual_seed(seed)
    parts = _GRID[torch.randint(0, 5, (2, 12), generator=g)]
    parts = parts * torch.where(torch.rand(2, 12, generator=g) < 0.5, -1.0, 1.0).double()
    z = torch.complex(parts[0], parts[1]) * complex(math.cos(phi), -math.sin(phi))
    return z.reshape(3, 4)


def _points_for(case):
    return _away_from_kinks(seed=5, phi=PHI if CASES[case].name == "rotated_crelu" else 0.0)


@pytest.mark.parametrize("case", CASES)
def test_gradcheck_and_gradgradcheck_away_from_kinks(case):
    z = _points_for(case).requires_grad_()
    assert torch.autograd.gradcheck(CASES[case], (z,), fast_mode=True)
    assert torch.autograd.gradgradcheck(CASES[case], (z,), fast_mode=True)


@pytest.mark.parametrize("case", PARAM_CASES)
def test_gradcheck_with_respect_to_parameters(case):
    z = _points_for(case).reshape(3, 4, 1).requires_grad_()
    param = torch.full((4,), CASES[case].param, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(CASES[case], (z, param), fast_mode=True)
    assert torch.autograd.gradgradcheck(CASES[case], (z, param), fast_mode=True)


SMOOTH_AT_ZERO = [
    "split_sigmoid",
    "split_tanh",
    "amp_phase_tanh",
    "amp_phase_tanh-scaled",
    "modrelu-neg",
    "split_celu",
    "split_gelu",
    "split_gelu-tanh",
    "split_silu",
    "split_mish",
    "split_softplus",
    "split_softsign",
    "siglog",
    "polar_squash",
    "polar_log",
    "modulus_squared",
]


@pytest.mark.parametrize("case", SMOOTH_AT_ZERO)
def test_gradcheck_at_zero_where_differentiable(case):
    z = torch.tensor([0j, 0.05 - 0.02j, 0j], dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(CASES[case], (z,))


def test_gradcheck_at_zero_modrelu_zero_bias():
    z = torch.tensor([0j, 0.05 - 0.02j, 0j], dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: CF.modrelu(z, _bias(0.0, z.dtype)), (z,))


def _jacobian_at_zero(fn):
    """2x2 real Jacobian d(Re f, Im f) / d(Re z, Im z) at z = 0 (one row for real outputs)."""

    def real_fn(xy):
        out = fn(torch.view_as_complex(xy))
        return torch.view_as_real(out) if out.is_complex() else out.unsqueeze(-1)

    return torch.autograd.functional.jacobian(real_fn, torch.zeros(2, dtype=torch.float64))


def _selu_slope_at_zero():
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.selu(x).backward()
    return x.grad.item()


# The derivative at 0 that each docstring states, as a multiple of the identity.
DERIVATIVE_AT_ZERO = {
    "crelu": 0.0,
    "zrelu": 1.0,
    "cardioid": 1.0,
    "split_sigmoid": 0.25,
    "split_tanh": 1.0,
    "amp_phase_tanh": 1.0,
    "amp_phase_tanh-scaled": 2.0 / 0.5,
    "modrelu-neg": 0.0,
    "modrelu-pos": 0.0,
    "cprelu": 0.1,
    "split_elu": 0.5,  # alpha = 0.5: the x <= 0 branch alpha e^x at 0, as torch's elu
    "split_celu": 1.0,
    "split_selu": _selu_slope_at_zero(),
    "split_gelu": 0.5,
    "split_gelu-tanh": 0.5,
    "split_silu": 0.5,
    "split_mish": math.tanh(math.log(2)),
    "split_leaky_relu": 0.1,
    "split_hardtanh": 1.0,
    "split_hardsigmoid": 1 / 6,
    "split_hardswish": 0.5,
    "split_softplus": 0.5,
    "split_softsign": 1.0,
    "siglog": 1 / 0.5,
    "polar_squash": 0.0,
    "polar_log": 1.0,
    "mod_softplus": 0.0,
    "csign": 0.0,
    "shifted_cardioid": (1 + math.cos(PHI)) / 2,
    "rotated_crelu": 0.0,
    "z_leaky_relu": 1.0,
}


@pytest.mark.parametrize("case", DERIVATIVE_AT_ZERO)
def test_documented_derivative_at_zero(case):
    jac = _jacobian_at_zero(CASES[case])
    expected = DERIVATIVE_AT_ZERO[case] * torch.eye(2, dtype=torch.float64)
    assert torch.allclose(jac, expected, atol=1e-12)


def test_modrelu_zero_bias_derivative_at_zero_is_identity():
    jac = _jacobian_at_zero(lambda z: CF.modrelu(z, _bias(0.0, z.dtype)))
    assert torch.allclose(jac, torch.eye(2, dtype=torch.float64))


@pytest.mark.parametrize("name", sorted(REAL_OUTPUT))
def test_real_outputs_have_zero_gradient_at_zero(name):
    jac = _jacobian_at_zero(getattr(CF, name))
    assert torch.equal(jac, torch.zeros(1, 2, dtype=torch.float64))


def test_cardioid_is_not_linear_at_zero():
    """Documented: cardioid is continuous but not differentiable at 0 (f(t) + f(-t) != 0)."""
    t = torch.tensor([1e-8, -1e-8], dtype=torch.complex128)
    out = CF.cardioid(t)
    assert out[0].real == pytest.approx(1e-8) and out[1].abs() == 0


def test_mod_softplus_and_csign_have_no_limit_at_zero():
    """Documented: the output modulus stays at log 2 / beta (softplus) or 1 (csign) near 0."""
    z = torch.polar(
        torch.full((3,), 1e-12, dtype=torch.float64), torch.tensor([0.0, 2.0, -1.0]).double()
    )
    assert torch.allclose(
        CF.mod_softplus(z, beta=2.0).abs(), torch.full((3,), math.log(2) / 2).double()
    )
    assert torch.allclose(CF.csign(z).abs(), torch.ones(3, dtype=torch.float64))
