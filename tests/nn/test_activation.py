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
]


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


@pytest.mark.parametrize(
    ("factory", "name", "default"),
    [
        (lambda **kw: cnn.ModReLU(3, **kw), "bias", 0.0),
        (lambda **kw: cnn.CPReLU(3, **kw), "weight", 0.25),
    ],
    ids=["ModReLU", "CPReLU"],
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
    ],
    ids=["ModReLU", "CPReLU"],
)
def test_parameters_receive_gradients(layer):
    z = (_z((4, 3, 2)) * 2).requires_grad_()
    torch.view_as_real(layer(z)).square().sum().backward()
    (param,) = layer.parameters()
    assert param.grad is not None and torch.isfinite(param.grad).all()
    assert param.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("layer", "name"),
    [(cnn.ModReLU(3, bias_init=-0.1), "bias"), (cnn.CPReLU(3), "weight")],
    ids=["ModReLU", "CPReLU"],
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


@pytest.mark.parametrize("cls", [cnn.ModReLU, cnn.CPReLU])
def test_bad_sizes(cls):
    with pytest.raises(ValueError, match="at least 1"):
        cls(0)
    with pytest.raises(ValueError, match="one per channel"):
        cls(3, dtype=torch.complex64)(_z((2, 4), torch.complex64))
    with pytest.raises(TypeError, match="dtype"):
        cls(3, dtype=torch.int64)
