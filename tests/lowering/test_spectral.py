"""The lowered STFT, ISTFT and ComplexFilterbank against eager phasor, on the options the
every-module examples leave out: one-sided or not, centre padding and pad modes, normalised,
short windows, odd sizes and lengths, trimming and padding to ``length``, unbatched inputs."""

import functools

import pytest
import torch

import phasor.nn as P
from phasor.lowering import lower, to_pair

TOL = {torch.complex64: 2e-4, torch.complex128: 1e-9}
C64 = torch.complex64
REAL = {torch.complex64: torch.float32, torch.complex128: torch.float64}


def _output_and_grad(module, x, weights, *args):
    """Output (as a pair where complex) and the gradient of a weighted sum of it."""
    x = x.clone().requires_grad_()
    out = module(x, *args)
    out_pair = to_pair(out) if out.is_complex() else out
    (grad,) = torch.autograd.grad((out_pair * weights(out_pair)).sum(), x)
    return out_pair, grad


@pytest.fixture
def check_lowered(complex_ops):
    """`_check_lowered` with the dispatch mode that records complex ops."""
    return functools.partial(_check_lowered, complex_ops)


def _check_lowered(complex_ops, module, x, *args):
    """The lowered module gives phasor's output and input gradient, with no complex tensor."""
    lowered = lower(module, real_input=not x.is_complex())
    generator = torch.Generator().manual_seed(1)
    cache = {}

    def weights(out):
        if "w" not in cache:
            cache["w"] = torch.randn(out.shape, dtype=out.dtype, generator=generator)
        return cache["w"]

    out, grad = _output_and_grad(module, x, weights, *args)
    x_pair = to_pair(x)
    with complex_ops() as seen:
        out_l, grad_l = _output_and_grad(lowered, x_pair, weights, *args)
    assert seen.seen == []
    real = REAL.get(x.dtype, x.dtype)
    tol = TOL[torch.complex64] if real == torch.float32 else TOL[torch.complex128]
    torch.testing.assert_close(out_l, out, atol=tol, rtol=tol)
    torch.testing.assert_close(grad_l, to_pair(grad), atol=tol, rtol=tol)


def _signal(*shape, dtype):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.complex128])
@pytest.mark.parametrize(
    "options",
    [
        dict(n_fft=16, hop_length=4),
        dict(n_fft=15, hop_length=4),  # odd n_fft: no Nyquist bin
        dict(n_fft=16, hop_length=5, center=False),
        dict(n_fft=16, hop_length=4, pad_mode="constant", normalized=True),
        dict(n_fft=16, hop_length=3, win_length=11, pad_mode="replicate"),
        dict(n_fft=12, hop_length=4, onesided=False),
    ],
    ids=["default", "odd-nfft", "no-center", "constant-normalized", "short-window", "twosided"],
)
def test_stft(options, dtype, check_lowered):
    if dtype.is_complex and options.get("onesided") is False:
        options = {**options, "onesided": None}
    module = P.STFT(**options, dtype=dtype)
    check_lowered(module, _signal(2, 3, 37, dtype=dtype))


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
def test_stft_unbatched(dtype, check_lowered):
    check_lowered(P.STFT(8, 3, dtype=dtype), _signal(2, 29, dtype=dtype))


def test_stft_onesided_complex_input_is_refused():
    with pytest.raises(ValueError, match="onesided=True"):
        lower(P.STFT(16, onesided=True, dtype=torch.complex64))


def _spectrogram(stft: P.STFT, *shape, dtype):
    """The STFT of a random signal (a consistent spectrogram) plus noise (an inconsistent one)."""
    spec = stft(_signal(*shape, dtype=dtype)).detach()
    return spec + 0.1 * _signal(*spec.shape, dtype=spec.dtype)


# Without centre padding the first sample sees only the window's first value, which must not
# be 0 (NOLA): Hann lifted off zero.
_LIFTED_HANN = torch.hann_window(16, dtype=torch.float64) + 0.1


@pytest.mark.parametrize(
    ("options", "length"),
    [
        (dict(n_fft=16, hop_length=4), None),
        (dict(n_fft=16, hop_length=4), 33),  # trimmed
        (dict(n_fft=16, hop_length=4), 50),  # zero-padded past the frames
        (dict(n_fft=15, hop_length=5), None),
        (dict(n_fft=16, hop_length=4, center=False, window=_LIFTED_HANN), None),
        (dict(n_fft=16, hop_length=4, center=False, window=_LIFTED_HANN), 45),
        (dict(n_fft=16, hop_length=3, win_length=10, normalized=True), 31),
    ],
    ids=["default", "trim", "pad", "odd-nfft", "no-center", "no-center-pad", "short-normalized"],
)
@pytest.mark.filterwarnings("ignore:The length of signal is shorter:UserWarning")
def test_istft(options, length, check_lowered):
    dtype = torch.complex128
    spec = _spectrogram(P.STFT(**options, dtype=torch.float64), 2, 3, 37, dtype=torch.float64)
    check_lowered(P.ISTFT(**options, dtype=dtype), spec, length)


@pytest.mark.parametrize("normalized", [False, True])
def test_istft_two_sided_real_output_reads_the_first_half(normalized, check_lowered):
    """A two-sided spectrogram (``onesided=False``) to a real signal, as `torch.istft`."""
    stft = P.STFT(12, 3, onesided=False, normalized=normalized, dtype=torch.float64)
    spec = _spectrogram(stft, 2, 1, 30, dtype=torch.float64)
    istft = P.ISTFT(12, 3, onesided=False, normalized=normalized, dtype=torch.complex128)
    check_lowered(istft, spec, 30)


@pytest.mark.parametrize("n_fft", [16, 15])
@pytest.mark.parametrize("normalized", [False, True])
def test_istft_complex_output(n_fft, normalized, check_lowered):
    stft = P.STFT(n_fft, 4, normalized=normalized, dtype=torch.complex128)
    spec = _spectrogram(stft, 2, 2, 41, dtype=torch.complex128)
    istft = P.ISTFT(n_fft, 4, normalized=normalized, return_complex=True, dtype=torch.complex128)
    check_lowered(istft, spec, 41)


def test_istft_unbatched_complex64(check_lowered):
    spec = _spectrogram(P.STFT(16, 4), 3, 40, dtype=torch.float32)
    check_lowered(P.ISTFT(16, 4), spec)


def test_istft_inverts_the_lowered_stft():
    """The two lowered transforms in a row give the signal back (not only phasor's numbers)."""
    x = _signal(2, 3, 45, dtype=torch.float64)
    stft = lower(P.STFT(16, 4, win_length=14, dtype=torch.float64), real_input=True)
    istft = lower(P.ISTFT(16, 4, win_length=14, dtype=torch.complex128))
    torch.testing.assert_close(istft(stft(x), 45), x)


def test_istft_real_input_is_refused():
    with pytest.raises(TypeError, match="real input"):
        lower(P.ISTFT(16), real_input=True)


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
@pytest.mark.parametrize("shape", [(3, 1, 33), (1, 33)], ids=["batched", "unbatched"])
@pytest.mark.parametrize(
    "options",
    [dict(stride=1), dict(stride=3, padding=0), dict(stride=2, padding=5, init="morlet")],
    ids=["stride1", "stride3-valid", "morlet-padded"],
)
def test_filterbank(options, shape, dtype, check_lowered):
    torch.manual_seed(0)
    module = P.ComplexFilterbank(5, 11, 16000.0, **options, dtype=torch.complex128)
    with torch.no_grad():  # kernels away from the initial wavelets
        module.weight.add_(0.1 * torch.randn_like(module.weight))
    check_lowered(module, _signal(*shape, dtype=dtype))


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
@pytest.mark.parametrize(
    ("module", "signal"),
    [
        (P.STFT(16, 4), _signal(2, 3, 40, dtype=torch.float32)),
        (P.STFT(16, 5, center=False, dtype=torch.complex64), _signal(2, 2, 37, dtype=C64)),
        (P.ISTFT(16, 4), P.STFT(16, 4)(_signal(2, 3, 40, dtype=torch.float32)).detach()),
        (
            P.ISTFT(15, 4, return_complex=True, normalized=True),
            P.STFT(15, 4, dtype=C64)(_signal(2, 1, 30, dtype=C64)).detach(),
        ),
        (P.ComplexFilterbank(4, 15, 8000.0, stride=2), _signal(2, 1, 30, dtype=torch.float32)),
    ],
    ids=["stft", "stft-complex", "istft", "istft-complex", "filterbank"],
)
def test_onnx_export_equals_eager(module, signal, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from phasor.export import to_onnx

    path = tmp_path / "spectral.onnx"
    to_onnx(module, signal, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": to_pair(signal).numpy()})
    want = module(signal)
    torch.testing.assert_close(torch.from_numpy(got), to_pair(want), atol=2e-5, rtol=1e-4)
