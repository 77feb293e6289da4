"""ONNX export through the real-pair lowering: checker, onnxruntime equal to eager phasor."""

import importlib.util
import random
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils import _pytree as pytree

import phasor.nn as P
from phasor.export import to_onnx
from phasor.lowering import from_pair, to_pair
from phasor.models.cnn import ACTIVATIONS, ComplexSeedCNN

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


def _benchmark_stft_cnn() -> nn.Sequential:
    """The STFT CNN of benchmarks/complex_input.py, layer for layer (run on smaller inputs)."""
    layers, c = [], 1
    for w in (16, 32, 64):
        layers += [P.Conv2d(c, w, 3, padding=1), P.CReLU(), P.ComplexBatchNorm2d(w), P.MaxPool2d(2)]
        c = w
    return nn.Sequential(
        *layers, P.AdaptiveAvgPool2d(1), nn.Flatten(), P.Linear(64, 10), P.Modulus()
    )


def _run(path, arrays, several):
    """The graph's outputs (flattened) on ``arrays``, fed to its inputs in order (named as
    `to_onnx` names one input or a tuple of inputs)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    graph_inputs = session.get_inputs()
    names = [i.name for i in graph_inputs]
    assert names == ([f"input_{i}" for i in range(len(arrays))] if several else ["input"])
    assert all(i.type in ("tensor(float)", "tensor(bool)") for i in graph_inputs)
    feed = {name: array.numpy() for name, array in zip(names, arrays, strict=True)}
    return [torch.from_numpy(out) for out in session.run(None, feed)]


def _warm(model, inputs):
    """Two training-mode calls, on shifted inputs, for non-trivial running statistics."""
    torch.manual_seed(0)
    with torch.no_grad():
        for _ in range(2):
            model.train()(
                *(x * 2 + 0.5 if x.is_floating_point() or x.is_complex() else x for x in inputs)
            )


def _round_trip(model, example, other, tmp_path):
    """Export with ``example``, run ``other`` (another batch size) in onnxruntime: every output
    equals eager phasor's (complex ones from their pairs). Either may be a tuple of inputs."""
    several = isinstance(example, tuple)
    examples, others = (example, other) if several else ((example,), (other,))
    _warm(model, examples)
    model.eval()
    path = tmp_path / "model.onnx"
    to_onnx(model, example, path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    got = _run(path, [to_pair(x) for x in others], several)
    with torch.no_grad():
        want = pytree.tree_leaves(model(*others))
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(from_pair(g) if w.is_complex() else g, w, atol=5e-5, rtol=5e-5)


def test_stft_cnn_complex_input(tmp_path):
    torch.manual_seed(1)
    example = torch.randn(2, 1, 16, 16, dtype=torch.complex64)
    other = torch.randn(5, 1, 16, 16, dtype=torch.complex64)
    _round_trip(_stft_cnn(), example, other, tmp_path)


def test_real_input_graph_takes_the_real_tensor(tmp_path):
    torch.manual_seed(2)
    _round_trip(_stft_cnn(), torch.rand(2, 1, 16, 16), torch.rand(3, 1, 16, 16), tmp_path)


def test_benchmark_stft_cnn(tmp_path):
    torch.manual_seed(3)
    example = torch.randn(2, 1, 32, 32, dtype=torch.complex64)
    other = torch.randn(3, 1, 32, 32, dtype=torch.complex64)
    _round_trip(_benchmark_stft_cnn(), example, other, tmp_path)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_seed_cnn_on_real_images(activation, tmp_path):
    torch.manual_seed(4)
    model = ComplexSeedCNN("mnist", activation)
    _round_trip(model, torch.rand(2, 1, 28, 28), torch.rand(3, 1, 28, 28), tmp_path)


def _image_families() -> nn.Sequential:
    """(N, 2, 8, 8) complex -> (N, 5) real: transposed and grouped convolution, the naive,
    instance, magnitude, group, layer and RMS norms, adaptive max and spectral pooling,
    up-sampling, and the learnable, split and polar activations."""
    return nn.Sequential(
        P.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1),  # 16 x 16
        P.NaiveComplexBatchNorm2d(4),
        P.SplitGELU(),
        P.Conv2d(4, 4, 3, padding=1, groups=2),
        P.ComplexInstanceNorm2d(4, affine=True, track_running_stats=True),
        P.CPReLU(4, init=0.2),
        P.AdaptiveMaxPool2d(8),
        P.MagnitudeBatchNorm2d(4),
        P.ShiftedCardioid(4, phase_init=0.4),
        P.SpectralPool2d((6, 6)),
        P.Upsample(scale_factor=2, mode="bilinear"),  # 12 x 12
        P.RotatedCReLU(4, phase_init=0.3),
        P.AvgPool2d(3),  # 4 x 4
        P.ZLeakyReLU(4, init=0.3),
        P.ComplexGroupNorm(2, 4),
        nn.Flatten(),
        P.Linear(64, 8),
        P.ComplexLayerNorm(8),
        P.SplitLeakyReLU(0.1),
        P.SplitELU(0.5),
        P.SplitCELU(0.7),
        P.SplitMish(),
        P.SplitSELU(),
        P.SplitSiLU(),
        P.SplitSoftplus(beta=2.0),
        P.SplitSoftsign(),
        P.SplitHardtanh(-0.5, 1.5),
        P.SplitHardsigmoid(),
        P.SplitHardswish(),
        P.ComplexRMSNorm(8),
        P.PolarLog(),
        P.AmpPhaseTanh(),
        P.PolarSquash(),
        P.SigLog(),
        P.ModSoftplus(),
        P.CSign(),
        P.Linear(8, 5),
        P.ModLogSoftmax(),
    )


def _volume_families() -> nn.Sequential:
    """(N, 2, 5, 5, 5) complex -> (N, 3) real: the 3-D convolutions, norms and poolings and
    polar trilinear up-sampling."""
    return nn.Sequential(
        P.Conv3d(2, 3, 2),  # 4^3
        P.ComplexBatchNorm3d(3),
        P.SplitSiLU(),
        P.MaxPool3d(2),  # 2^3
        P.ConvTranspose3d(3, 2, 2),  # 3^3
        P.ComplexInstanceNorm3d(2),
        P.Upsample(size=(4, 4, 4), mode="trilinear", polar=True),
        P.AvgPool3d(2),  # 2^3
        P.AdaptiveMaxPool3d(1),
        P.AdaptiveAvgPool3d(1),
        nn.Flatten(),
        P.Linear(2, 3),
        P.ModulusSquared(),
    )


def _audio_families() -> nn.Sequential:
    """(N, 1, 64) real waveform -> (N, 3) real: STFT, a convolution on the spectrogram, ISTFT,
    the analytic signal, a complex filterbank, 1-D spectral and adaptive max pooling."""
    return nn.Sequential(
        P.STFT(16, 4),  # (N, 1, 9, 17)
        P.Conv2d(1, 1, 3, padding=1),
        P.CReLU(),
        P.ISTFT(16, 4),  # (N, 1, 64) real
        P.AnalyticSignal(),
        P.ComplexFilterbank(4, 15, 8000.0, stride=2),  # (N, 4, 25)
        P.SpectralPool1d(12),
        P.ConvTranspose1d(4, 2, 3, stride=2),
        P.AdaptiveMaxPool1d(5),  # a factor of 25: ONNX has no other adaptive max pooling
        nn.Flatten(),
        P.Linear(10, 3),
        P.Magnitude(),
    )


def _token_families() -> nn.Sequential:
    """(N, 5, 4) complex tokens -> (N, 3) real: position embeddings, a transformer encoder,
    mod-softmax."""
    layer = P.TransformerEncoderLayer(4, 2, dim_feedforward=6, batch_first=True)
    return nn.Sequential(
        P.ComplexPositionalEmbedding(5, 4),
        P.RotaryEmbedding(4),
        P.TransformerEncoder(layer, 2, norm=P.ComplexLayerNorm(4)),
        nn.Flatten(),
        P.Linear(20, 3),
        P.ModSoftmax(),
    )


def _complex(*shape):
    return torch.randn(*shape, dtype=torch.complex64)


FAMILY_MODELS = {
    "image": (_image_families, (2, 8, 8), True),
    "volume": (_volume_families, (2, 5, 5, 5), True),
    "audio": (_audio_families, (1, 64), False),
    "tokens": (_token_families, (5, 4), True),
}


@pytest.mark.parametrize("seed", range(2))
def test_every_lowered_layer_family(seed, tmp_path):
    torch.manual_seed(seed)
    model = _conv_model(random.Random(seed), torch.complex64, in_ch=2)
    example = torch.randn(3, 2, 8, 8, dtype=torch.complex64)
    _round_trip(model, example, torch.randn(4, 2, 8, 8, dtype=torch.complex64), tmp_path)
    model = _conv1d_model(torch.complex64)
    example = torch.randn(3, 2, 12, dtype=torch.complex64)
    _round_trip(model, example, torch.randn(2, 2, 12, dtype=torch.complex64), tmp_path)


@pytest.mark.parametrize("family", FAMILY_MODELS)
def test_family_models(family, tmp_path):
    build, shape, complex_input = FAMILY_MODELS[family]
    torch.manual_seed(5)
    make = _complex if complex_input else torch.randn
    _round_trip(build(), make(3, *shape), make(4, *shape), tmp_path)


@pytest.mark.parametrize("encoder", [P.PhaseEncode, P.ToComplex])
def test_real_to_complex_encoders(encoder, tmp_path):
    torch.manual_seed(6)
    model = nn.Sequential(encoder(), P.Linear(4, 3), P.CReLU())
    _round_trip(model, torch.rand(3, 4), torch.rand(2, 4), tmp_path)


SEVERAL = {
    # several inputs and outputs: (out, weights)
    "attention": (
        lambda: P.MultiheadAttention(4, 2, batch_first=True),
        lambda n: (_complex(n, 5, 4), _complex(n, 6, 4), _complex(n, 6, 4)),
    ),
    # a nested output: (out, (h, c))
    "lstm": (lambda: P.LSTM(4, 3, num_layers=2, batch_first=True), lambda n: (_complex(n, 5, 4),)),
    "gru-cell": (lambda: P.GRUCell(4, 3), lambda n: (_complex(n, 4), _complex(n, 3))),
    # a complex and a real input
    "graph": (lambda: P.DenseGraphConv(3, 4), lambda n: (_complex(n, 5, 3), torch.rand(n, 5, 5))),
    # a 0-dimensional output
    "loss": (P.ComplexMSELoss, lambda n: (_complex(n, 4), _complex(n, 4))),
}


@pytest.mark.parametrize("case", SEVERAL)
def test_several_inputs_and_outputs(case, tmp_path):
    build, inputs = SEVERAL[case]
    torch.manual_seed(7)
    _round_trip(build(), inputs(3), inputs(4), tmp_path)


def test_one_tensor_in_a_tuple_is_named_as_one_of_several(tmp_path):
    path = tmp_path / "model.onnx"
    to_onnx(nn.Sequential(P.Linear(4, 3)), (_complex(2, 4),), path)
    assert [i.name for i in onnx.load(str(path)).graph.input] == ["input_0"]
