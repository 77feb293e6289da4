"""Activation modules: agree with the functional forms, parameters (shape, dtype, init,
learning, dtype conversion), errors."""

import pytest
import torch

import phasor.functional as CF
import phasor.nn as cnn

STATELESS = [
    (cnn.CReLU, CF.crelu),
    (cnn.ZReLU, CF.zrelu),
    (cnn.Cardioid, CF.cardioid),
    (cnn.SplitSigmoid, CF.split_sigmoid),
    (cnn.SplitTanh, CF.split_tanh),
    (cnn.AmpPhaseTanh, CF.amp_phase_tanh),
    (cnn.Modulus, CF.modulus),
    (cnn.ModulusSquared, CF.modulus_squared),
    (cnn.CSign, CF.csign),
    (cnn.PolarSquash, CF.polar_squash),
    (cnn.PolarLog, CF.polar_log),
    (cnn.SplitSELU, CF.split_selu),
    (cnn.SplitSiLU, CF.split_silu),
    (cnn.SplitMish, CF.split_mish),
    (cnn.SplitHardsigmoid, CF.split_hardsigmoid),
    (cnn.SplitHardswish, CF.split_hardswish),
    (cnn.SplitSoftsign, CF.split_softsign),
]

# Modules with fixed hyperparameters: (module, its keyword arguments, the function, repr part).
CONFIGURED = [
    (cnn.AmpPhaseTanh, {"saturation": 2.0, "scale": 0.5}, CF.amp_phase_tanh, "saturation=2.0"),
    (cnn.SigLog, {"c": 0.5, "r": 2.0}, CF.siglog, "c=0.5, r=2.0"),
    (cnn.ModSoftplus, {"beta": 1.5}, CF.mod_softplus, "beta=1.5"),
    (cnn.SplitELU, {"alpha": 0.5}, CF.split_elu, "alpha=0.5"),
    (cnn.SplitCELU, {"alpha": 0.7}, CF.split_celu, "alpha=0.7"),
    (cnn.SplitGELU, {"approximate": "tanh"}, CF.split_gelu, "approximate='tanh'"),
    (cnn.SplitLeakyReLU, {"negative_slope": 0.1}, CF.split_leaky_relu, "negative_slope=0.1"),
    (cnn.SplitHardtanh, {"min_val": -0.5, "max_val": 1.5}, CF.split_hardtanh, "max_val=1.5"),
    (cnn.SplitSoftplus, {"beta": 2.0, "threshold": 10.0}, CF.split_softplus, "threshold=10.0"),
]

# Modules with one real learnable tensor: (factory, parameter name, default init, function).
LEARNABLE = [
    (lambda **kw: cnn.ModReLU(3, **kw), "bias", 0.0, CF.modrelu),
    (lambda **kw: cnn.CPReLU(3, **kw), "weight", 0.25, CF.cprelu),
    (lambda **kw: cnn.ShiftedCardioid(3, **kw), "phase", 0.0, CF.shifted_cardioid),
    (lambda **kw: cnn.RotatedCReLU(3, **kw), "phase", 0.0, CF.rotated_crelu),
    (lambda **kw: cnn.ZLeakyReLU(3, **kw), "weight", 0.2, CF.z_leaky_relu),
]
LEARNABLE_IDS = ["ModReLU", "CPReLU", "ShiftedCardioid", "RotatedCReLU", "ZLeakyReLU"]


def _z(shape, dtype=torch.complex128, seed=0):
    return torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(("module", "fn"), STATELESS)
@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_stateless_modules_match_functional(module, fn, dtype):
    z = _z((2, 3, 4), dtype)
    layer = module()
    assert list(layer.parameters()) == []
    assert torch.equal(layer(z), fn(z))


@pytest.mark.parametrize(("module", "fn"), STATELESS)
def test_stateless_modules_reject_real_input(module, fn):
    with pytest.raises(TypeError, match="to_complex"):
        module()(torch.randn(3))


def test_every_activation_module_is_tested():
    tested = {m.__name__ for m, _ in STATELESS} | {m.__name__ for m, *_ in CONFIGURED}
    tested |= {"CReLU", "ZReLU", "Cardioid", "SplitSigmoid", "SplitTanh", *LEARNABLE_IDS}
    assert tested == set(cnn.activation.__all__)


@pytest.mark.parametrize(("module", "kwargs", "fn", "text"), CONFIGURED)
@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_configured_modules_match_functional(module, kwargs, fn, text, dtype):
    z = _z((2, 3, 4), dtype) * 2
    layer = module(**kwargs)
    assert list(layer.parameters()) == []
    assert torch.equal(layer(z), fn(z, **kwargs))
    assert text in repr(layer)


@pytest.mark.parametrize(
    ("module", "kwargs", "match"),
    [
        (cnn.SigLog, {"c": 0.0}, "c must be"),
        (cnn.SigLog, {"r": -2.0}, "r must be"),
        (cnn.AmpPhaseTanh, {"scale": -1.0}, "scale must be"),
        (cnn.ModSoftplus, {"beta": 0.0}, "beta must be"),
        (cnn.SplitCELU, {"alpha": 0.0}, "alpha"),
        (cnn.SplitGELU, {"approximate": "erf"}, "approximate"),
        (cnn.SplitHardtanh, {"min_val": 1.0, "max_val": 1.0}, "below max_val"),
    ],
)
def test_bad_hyperparameters(module, kwargs, match):
    with pytest.raises(ValueError, match=match):
        module(**kwargs)


@pytest.mark.parametrize(("factory", "name", "default", "fn"), LEARNABLE, ids=LEARNABLE_IDS)
@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_learnable_modules_match_functional_per_channel(factory, name, default, fn, dtype):
    layer = factory(dtype=dtype)
    with torch.no_grad():
        getattr(layer, name).copy_(torch.tensor([-0.5, 0.1, 0.9]))
    z = _z((2, 3, 5), dtype)
    assert torch.equal(layer(z), fn(z, getattr(layer, name)))
    assert "3" in repr(layer)


@pytest.mark.parametrize(
    ("factory", "name", "default"),
    [(factory, name, default) for factory, name, default, _ in LEARNABLE],
    ids=LEARNABLE_IDS,
)
@pytest.mark.parametrize(
    ("dtype", "param_dtype"),
    [
        (None, torch.float32),
        (torch.complex64, torch.float32),
        (torch.complex128, torch.float64),
        (torch.float64, torch.float64),
    ],
)
def test_parameter_dtype_shape_and_init(factory, name, default, dtype, param_dtype):
    layer = factory(dtype=dtype)
    param = getattr(layer, name)
    assert param.shape == (3,)
    assert param.dtype == param_dtype
    assert torch.all(param == default)


def test_modrelu_module_matches_functional_per_channel():
    layer = cnn.ModReLU(4, bias_init=-0.3, dtype=torch.complex128)
    with torch.no_grad():
        layer.bias.copy_(torch.tensor([-0.5, 0.0, 0.2, 1.0]))
    z = _z((2, 4, 5))
    assert torch.equal(layer(z), CF.modrelu(z, layer.bias))
    assert "num_features=4" in repr(layer)


def test_modrelu_default_is_identity():
    z = _z((5, 3), torch.complex64)
    assert torch.allclose(cnn.ModReLU(3)(z), z)


def test_cprelu_module_matches_functional():
    layer = cnn.CPReLU(3, init=0.1, dtype=torch.complex128)
    z = _z((2, 3, 5))
    assert torch.equal(layer(z), CF.cprelu(z, layer.weight))
    assert "num_parameters=3" in repr(layer)


@pytest.mark.parametrize(
    "layer",
    [
        cnn.ModReLU(3, bias_init=-0.2, dtype=torch.complex128),
        cnn.CPReLU(3, dtype=torch.complex128),
        cnn.ShiftedCardioid(3, phase_init=0.3, dtype=torch.complex128),
        cnn.RotatedCReLU(3, phase_init=0.3, dtype=torch.complex128),
        cnn.ZLeakyReLU(3, dtype=torch.complex128),
    ],
    ids=LEARNABLE_IDS,
)
def test_parameters_receive_gradients(layer):
    z = (_z((4, 3, 2)) * 2).requires_grad_()
    torch.view_as_real(layer(z)).square().sum().backward()
    (param,) = layer.parameters()
    assert param.grad is not None and torch.isfinite(param.grad).all()
    assert param.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("layer", "name"),
    [
        (cnn.ModReLU(3, bias_init=-0.1), "bias"),
        (cnn.CPReLU(3), "weight"),
        (cnn.ShiftedCardioid(3, phase_init=0.2), "phase"),
        (cnn.RotatedCReLU(3, phase_init=0.2), "phase"),
        (cnn.ZLeakyReLU(3), "weight"),
    ],
    ids=LEARNABLE_IDS,
)
def test_to_complex_dtype_keeps_parameters_real(layer, name):
    """Module.to(complex128) would make real parameters complex; they must stay real."""
    model = torch.nn.Sequential(layer)
    with pytest.warns(UserWarning, match="Complex modules"):
        model.to(torch.complex128)
    param = getattr(layer, name)
    assert isinstance(param, torch.nn.Parameter) and param.dtype == torch.float64
    z = _z((2, 3))
    assert layer(z).dtype == torch.complex128
    assert torch.allclose(param, torch.full((3,), param[0].item(), dtype=torch.float64))


def test_state_dict_round_trip():
    a = cnn.ModReLU(2, bias_init=-0.4)
    b = cnn.ModReLU(2)
    b.load_state_dict(a.state_dict())
    z = _z((3, 2), torch.complex64)
    assert torch.equal(a(z), b(z))


@pytest.mark.parametrize(
    "cls", [cnn.ModReLU, cnn.CPReLU, cnn.ShiftedCardioid, cnn.RotatedCReLU, cnn.ZLeakyReLU]
)
def test_bad_sizes(cls):
    with pytest.raises(ValueError, match="at least 1"):
        cls(0)
    with pytest.raises(ValueError, match="one per channel"):
        cls(3, dtype=torch.complex64)(_z((2, 4), torch.complex64))
    with pytest.raises(TypeError, match="dtype"):
        cls(3, dtype=torch.int64)
