"""Lowered encoders (phasor.lowering.encoding) against eager phasor on what the module examples
leave out: odd, even and tiny signal lengths, other axes, 1-D and 3-D inputs, float64, a
complex input (refused as phasor refuses it), compile, ONNX export."""

from __future__ import annotations

import io

import pytest
import torch

import phasor.nn as P
from phasor.lowering import lower, to_pair
from phasor.lowering.encoding import hilbert_matrix

TOL = {torch.float32: 2e-5, torch.float64: 1e-12}
FLOATS = pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])


def assert_lowered_equals_eager(module, x: torch.Tensor) -> None:
    """Output and input gradient of ``lower(module, real_input=True)`` equal eager phasor's."""
    x = x.clone().requires_grad_()
    out = module(x)
    weights = torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(1))
    (grad,) = torch.autograd.grad((torch.view_as_real(out) * torch.view_as_real(weights)).sum(), x)
    x_lowered = x.detach().clone().requires_grad_()
    out_lowered = lower(module, real_input=True)(x_lowered)
    (grad_lowered,) = torch.autograd.grad((out_lowered * to_pair(weights)).sum(), x_lowered)
    tol = dict(atol=TOL[x.dtype], rtol=TOL[x.dtype])
    torch.testing.assert_close(out_lowered, to_pair(out), **tol)
    torch.testing.assert_close(grad_lowered, grad, **tol)


def _randn(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(0))


@FLOATS
@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 16, 33])
def test_hilbert_matrix_is_the_imaginary_part_of_the_fft_construction(n, dtype):
    eye = torch.eye(n, dtype=dtype)
    h = torch.zeros(n, dtype=dtype)
    h[0] = 1
    h[1 : (n + 1) // 2] = 2
    if n % 2 == 0:
        h[n // 2] = 1
    rows = torch.fft.ifft(torch.fft.fft(eye, dim=-1) * h, dim=-1)  # analytic signal of each e_t
    tol = dict(atol=TOL[dtype], rtol=TOL[dtype])
    torch.testing.assert_close(hilbert_matrix(n, dtype, torch.device("cpu")), rows.imag, **tol)
    torch.testing.assert_close(rows.real, eye, **tol)  # so the real part is x itself


@FLOATS
@pytest.mark.parametrize(
    ("shape", "dim"),
    [((9,), -1), ((6, 3), 0), ((2, 5, 4), 1), ((2, 3, 10), -1), ((3, 2, 1), 2), ((2, 4), -2)],
)
def test_analytic_signal_lengths_and_axes(shape, dim, dtype):
    assert_lowered_equals_eager(P.AnalyticSignal(dim), _randn(*shape, dtype=dtype))


@FLOATS
@pytest.mark.parametrize("shape", [(7,), (2, 3, 4)])
@pytest.mark.parametrize("make", [P.ToComplex, P.PhaseEncode], ids=["ToComplex", "PhaseEncode"])
def test_pointwise_encoders_on_other_ranks(make, shape, dtype):
    assert_lowered_equals_eager(make(), _randn(*shape, dtype=dtype))


@pytest.mark.parametrize("make", [P.ToComplex, P.PhaseEncode, P.AnalyticSignal])
def test_complex_input_is_refused_as_in_phasor(make):
    with pytest.raises(TypeError, match="already complex"):
        make()(torch.zeros(2, 3, dtype=torch.complex64))
    with pytest.raises(TypeError, match=r"complex input.*real_input=True"):
        lower(make())


def test_encoder_then_convolution_on_real_input():
    torch.manual_seed(0)
    model = torch.nn.Sequential(P.AnalyticSignal(), P.Conv1d(2, 3, 3), P.Modulus())
    x = _randn(4, 2, 12)
    torch.testing.assert_close(lower(model, real_input=True)(x), model(x), atol=2e-5, rtol=2e-5)


def test_compiled_analytic_signal_equals_eager():
    lowered = lower(P.AnalyticSignal(dim=1), real_input=True)
    compiled = torch.compile(
        lower(P.AnalyticSignal(dim=1), real_input=True), fullgraph=True, backend="aot_eager"
    )
    x = _randn(2, 6, 3)
    torch.testing.assert_close(compiled(x), lowered(x))


@pytest.mark.parametrize(("dim", "shape"), [(1, (2, 6, 3)), (-2, (2, 5, 3)), (0, (7, 2))])
def test_analytic_signal_exports_to_onnx(dim, shape):
    ort = pytest.importorskip("onnxruntime")
    lowered = lower(P.AnalyticSignal(dim=dim), real_input=True)
    x = _randn(*shape)
    buffer = io.BytesIO()
    torch.onnx.export(lowered, (x,), buffer, opset_version=17, dynamo=False)
    session = ort.InferenceSession(buffer.getvalue())
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    torch.testing.assert_close(torch.from_numpy(got), lowered(x), atol=2e-6, rtol=2e-6)
