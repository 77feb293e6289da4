"""Dtype conversions of phasor layers (phasor.nn._real_state.KeepsRealState): ``.double()`` and
``.float()`` change the precision of complex and real state alike, ``.half()`` and
``.bfloat16()`` are refused at once, and parameters keep their identity."""

import warnings

import pytest
import torch

import phasor.nn as cnn

# name -> (layer factory, input shape); every layer with state in phasor.nn.
LAYERS = {
    "Linear": (lambda: cnn.Linear(3, 4), (2, 3)),
    "Conv1d": (lambda: cnn.Conv1d(2, 4, 3), (2, 2, 5)),
    "Conv2d": (lambda: cnn.Conv2d(2, 4, 3, groups=2), (2, 2, 5, 5)),
    "Conv3d": (lambda: cnn.Conv3d(2, 2, 2), (1, 2, 3, 3, 3)),
    "ConvTranspose1d": (lambda: cnn.ConvTranspose1d(2, 4, 3), (2, 2, 5)),
    "ConvTranspose2d": (lambda: cnn.ConvTranspose2d(2, 4, 3, stride=2), (2, 2, 3, 3)),
    "ConvTranspose3d": (lambda: cnn.ConvTranspose3d(2, 2, 2), (1, 2, 2, 2, 2)),
    "ComplexBatchNorm1d": (lambda: cnn.ComplexBatchNorm1d(3), (4, 3, 5)),
    "ComplexBatchNorm2d": (lambda: cnn.ComplexBatchNorm2d(3), (4, 3, 2, 2)),
    "NaiveComplexBatchNorm1d": (lambda: cnn.NaiveComplexBatchNorm1d(3), (4, 3)),
    "NaiveComplexBatchNorm2d": (lambda: cnn.NaiveComplexBatchNorm2d(3), (4, 3, 2, 2)),
    "ComplexLayerNorm": (lambda: cnn.ComplexLayerNorm(5), (2, 3, 5)),
    "ModReLU": (lambda: cnn.ModReLU(3), (4, 3, 2)),
    "CPReLU": (lambda: cnn.CPReLU(3), (4, 3, 2)),
    "DenseGraphConv": (lambda: cnn.DenseGraphConv(3, 4), None),
}
PARAMS = list(LAYERS)
# Layers whose state is all real: torch's .double() and .to(torch.float64) did right by them.
REAL_ONLY = {"NaiveComplexBatchNorm1d", "NaiveComplexBatchNorm2d", "ModReLU", "CPReLU"}
WITH_COMPLEX = [p for p in PARAMS if p not in REAL_ONLY]
PRECISION = {torch.complex64: torch.float32, torch.complex128: torch.float64}


def state(module):
    """Floating state (parameters, gradients and buffers) by name, integer counters left out."""
    tensors = {**dict(module.named_parameters()), **dict(module.named_buffers())}
    for name, p in module.named_parameters():
        if p.grad is not None:
            tensors[name + ".grad"] = p.grad
    return {k: t for k, t in tensors.items() if t.is_complex() or t.is_floating_point()}


def kinds(module):
    """Whether each tensor of the state is complex: the conversions never change it."""
    return {k: t.is_complex() for k, t in state(module).items()}


def forward(name, module, cdtype):
    shape = LAYERS[name][1]
    g = torch.Generator().manual_seed(0)
    if shape is None:  # graph convolution: node features and adjacency
        x = torch.randn(2, 5, 3, dtype=cdtype, generator=g)
        return module(x, torch.ones(2, 5, 5, dtype=PRECISION[cdtype]))
    return module(torch.randn(shape, dtype=cdtype, generator=g))


def assert_precision(module, cdtype):
    for key, t in state(module).items():
        assert t.dtype == (cdtype if t.is_complex() else PRECISION[cdtype]), key


@pytest.mark.parametrize("name", WITH_COMPLEX)
def test_double_and_float_convert_complex_and_real_state(name):
    module = LAYERS[name][0]()
    forward(name, module, torch.complex64).abs().sum().backward()  # gradients convert too
    params, before = list(module.parameters()), state(module)
    optimiser = torch.optim.SGD(module.parameters(), lr=0.1)
    is_complex = kinds(module)

    assert module.double() is module
    assert_precision(module, torch.complex128)
    assert kinds(module) == is_complex
    for key, t in state(module).items():
        assert torch.equal(t, before[key].to(t.dtype)), key  # values, imaginary parts kept
    assert forward(name, module, torch.complex128).dtype == torch.complex128

    module.float()
    assert_precision(module, torch.complex64)
    assert kinds(module) == is_complex
    assert forward(name, module, torch.complex64).dtype == torch.complex64
    assert all(a is b for a, b in zip(params, module.parameters(), strict=True))
    assert all(a is b for a, b in zip(params, optimiser.param_groups[0]["params"], strict=True))
    optimiser.step()  # the optimiser still updates the layer's parameters


@pytest.mark.parametrize("name", WITH_COMPLEX)
def test_to_real_dtype_means_that_precision(name):
    module = LAYERS[name][0]()
    before, is_complex = state(module), kinds(module)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "casting complex values to real" warning either
        module.to(torch.float64)
    assert_precision(module, torch.complex128)
    assert kinds(module) == is_complex
    for key, t in state(module).items():
        assert torch.equal(t, before[key].to(t.dtype)), key
    module.to(torch.float32)
    assert_precision(module, torch.complex64)


def test_plain_sequential_of_phasor_layers_converts():
    model = torch.nn.Sequential(
        cnn.Conv1d(1, 3, 3), cnn.ComplexBatchNorm1d(3), cnn.ModReLU(3), torch.nn.Flatten()
    )
    model.append(cnn.Linear(9, 2))
    params = list(model.parameters())
    model.double()
    assert_precision(model, torch.complex128)
    assert all(a is b for a, b in zip(params, model.parameters(), strict=True))
    x = torch.randn(4, 1, 5, dtype=torch.float64)  # real input, of the new real dtype
    assert model(x).dtype == torch.complex128
    model.eval()
    assert model(x.to(torch.complex128)).dtype == torch.complex128


CONVERSIONS = {
    "half": lambda m: m.half(),
    "bfloat16": lambda m: m.bfloat16(),
    "to(float16)": lambda m: m.to(torch.float16),
    "to(bfloat16)": lambda m: m.to(torch.bfloat16),
    "to(complex32)": lambda m: m.to(torch.complex32),
}


@pytest.mark.parametrize("conversion", list(CONVERSIONS))
@pytest.mark.parametrize("name", PARAMS)
def test_unsupported_precisions_are_refused_at_conversion(name, conversion):
    module = LAYERS[name][0]()
    before = {k: t.clone() for k, t in state(module).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's warning about complex modules
        with pytest.raises(TypeError, match=r"\.to\(torch\.complex64\).*\.to\(torch\.complex128\)"):
            CONVERSIONS[conversion](module)
    for key, t in state(module).items():  # nothing was converted
        assert t.dtype == before[key].dtype and torch.equal(t, before[key]), key


def test_refusal_names_the_precision_and_complex32():
    with pytest.raises(TypeError, match=r"torch\.bfloat16.*no complex bfloat16.*complex32"):
        torch.nn.Sequential(cnn.Linear(2, 2)).bfloat16()
