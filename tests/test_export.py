"""ONNX export through the real-pair lowering: checker, onnxruntime equal to eager phasor."""

import importlib.util
import random
from pathlib import Path

import pytest
import torch
from torch import nn

import phasor.nn as P
from phasor.export import to_onnx
from phasor.lowering import from_pair, to_pair

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

# The random models of the lowering tests (loaded by path: tests/ is not a package).
_spec = importlib.util.spec_from_file_location(
    "_phasor_test_lowering", Path(__file__).parent / "lowering" / "test_lowering.py"
)
_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_models)
_conv_model, _conv1d_model = _models._conv_model, _models._conv1d_model


def _stft_cnn() -> nn.Sequential:
    """The issue's STFT CNN shape, narrowed: conv 1-16-32, CReLU, whitening BN, max pool."""
    return nn.Sequential(
        P.Conv2d(1, 8, 3, padding=1),
        P.ComplexBatchNorm2d(8),
        P.CReLU(),
        P.MaxPool2d(2),
        P.Conv2d(8, 16, 3, padding=1),
        P.ComplexBatchNorm2d(16),
        P.CReLU(),
        P.MaxPool2d(2),
        P.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        P.Linear(16, 10),
    )


def _run(path, array):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    [graph_input] = session.get_inputs()
    assert graph_input.name == "input" and graph_input.type == "tensor(float)"
    return torch.from_numpy(session.run(["output"], {"input": array.numpy()})[0])


def _round_trip(model, example, other, tmp_path):
    """Export with ``example``, run ``other`` (another batch size) in onnxruntime."""
    torch.manual_seed(0)
    with torch.no_grad():
        for _ in range(2):  # non-trivial running statistics
            model.train()(example * 2 + 0.5)
    model.eval()
    path = tmp_path / "model.onnx"
    to_onnx(model, example, path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    real = not other.is_complex()
    got = _run(path, other if real else to_pair(other))
    with torch.no_grad():
        want = model(other)
    got = from_pair(got) if want.is_complex() else got
    torch.testing.assert_close(got, want, atol=5e-5, rtol=5e-5)


def test_stft_cnn_complex_input(tmp_path):
    torch.manual_seed(1)
    example = torch.randn(2, 1, 16, 16, dtype=torch.complex64)
    other = torch.randn(5, 1, 16, 16, dtype=torch.complex64)
    _round_trip(_stft_cnn(), example, other, tmp_path)


def test_real_input_graph_takes_the_real_tensor(tmp_path):
    torch.manual_seed(2)
    _round_trip(_stft_cnn(), torch.rand(2, 1, 16, 16), torch.rand(3, 1, 16, 16), tmp_path)


@pytest.mark.parametrize("seed", range(2))
def test_every_lowered_layer_family(seed, tmp_path):
    torch.manual_seed(seed)
    model = _conv_model(random.Random(seed), torch.complex64, in_ch=2)
    example = torch.randn(3, 2, 8, 8, dtype=torch.complex64)
    _round_trip(model, example, torch.randn(4, 2, 8, 8, dtype=torch.complex64), tmp_path)
    model = _conv1d_model(torch.complex64)
    example = torch.randn(3, 2, 12, dtype=torch.complex64)
    _round_trip(model, example, torch.randn(2, 2, 12, dtype=torch.complex64), tmp_path)
