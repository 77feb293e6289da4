"""Encoder modules: agree with the functional forms and feed complex layers."""

import pytest
import torch

import phasor.functional as CF
import phasor.nn as cnn


@pytest.mark.parametrize(
    ("module", "fn"),
    [
        (cnn.ToComplex(), CF.to_complex),
        (cnn.PhaseEncode(), CF.phase_encode),
        (cnn.AnalyticSignal(), CF.analytic_signal),
        (cnn.AnalyticSignal(dim=0), lambda x: CF.analytic_signal(x, dim=0)),
    ],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_modules_match_functional(module, fn, dtype):
    x = torch.rand(4, 6, dtype=dtype, generator=torch.Generator().manual_seed(0))
    assert torch.equal(module(x), fn(x))
    assert list(module.parameters()) == []


def test_analytic_signal_repr():
    assert "dim=0" in repr(cnn.AnalyticSignal(dim=0))


@pytest.mark.parametrize("module", [cnn.ToComplex(), cnn.PhaseEncode(), cnn.AnalyticSignal()])
def test_complex_input_rejected(module):
    with pytest.raises(TypeError, match="already complex"):
        module(torch.zeros(3, dtype=torch.complex128))


def test_encoder_then_activation_pipeline_backpropagates():
    x = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)
    model = torch.nn.Sequential(cnn.PhaseEncode(), cnn.Cardioid(), cnn.Magnitude())
    model(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
