"""STFT / ISTFT / ComplexFilterbank modules: agree with the functional forms, the window
buffer follows the dtype, the filterbank responds to a pure tone at the nearest filter."""

import io
import math

import numpy as np
import pytest
import torch
from torch.func import functional_call

import phasor.functional as CF
import phasor.nn as cnn


def _signal(shape, dtype=torch.float64, seed=0):
    return torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def test_stft_istft_modules_round_trip_and_match_functional():
    x = _signal((2, 3, 100))
    stft = cnn.STFT(32, 8, dtype=torch.float64)
    istft = cnn.ISTFT(32, 8, dtype=torch.float64)
    spec = stft(x)
    assert torch.equal(spec, CF.stft(x, 32, 8))
    assert spec.shape == (2, 3, 17, 13)
    y = istft(spec, length=100)
    assert torch.equal(y, CF.istft(spec, 32, 8, length=100))
    assert (y - x).abs().max().item() < 1e-10
    xc = _signal((3, 64), torch.complex128, seed=1)
    spec = cnn.STFT(16, 4, win_length=12, dtype=torch.complex128)(xc)
    assert spec.shape == (3, 16, 17)
    back = cnn.ISTFT(16, 4, win_length=12, return_complex=True, dtype=torch.complex128)
    assert (back(spec, length=64) - xc).abs().max().item() < 1e-10


@pytest.mark.filterwarnings("ignore:Complex modules are a new feature")
def test_window_buffer_follows_the_dtype():
    stft = cnn.STFT(16)
    np.testing.assert_allclose(
        stft.window.numpy(), 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(16) / 16), atol=1e-7
    )
    assert stft.window.dtype == torch.float32 and stft.hop_length == 4
    assert cnn.STFT(16, dtype=torch.complex128).window.dtype == torch.float64
    for convert, dtype in [
        (lambda m: m.double(), torch.float64),
        (lambda m: m.to(torch.complex128), torch.float64),
        (lambda m: m.float(), torch.float32),
    ]:
        convert(stft)
        assert stft.window.dtype == dtype
    assert "window" in stft.state_dict()
    with pytest.raises(TypeError, match="float64"):
        cnn.STFT(16)(_signal((1, 1, 40)))  # float32 window, float64 signal


def test_custom_window_is_copied_and_saved():
    window = torch.from_numpy(np.blackman(12))
    istft = cnn.ISTFT(16, 4, win_length=12, window=window)
    assert istft.window.dtype == torch.float32 and istft.window is not window
    torch.testing.assert_close(istft.window, window.float())
    buffer = io.BytesIO()
    torch.save(istft.state_dict(), buffer)
    buffer.seek(0)
    other = cnn.ISTFT(16, 4, win_length=12)
    other.load_state_dict(torch.load(buffer, weights_only=True))
    torch.testing.assert_close(other.window, window.float())
    with pytest.raises(ValueError, match=r"shape \(12,\)"):
        cnn.STFT(16, win_length=12, window=torch.ones(16))
    with pytest.raises(TypeError, match="real floating"):
        cnn.STFT(16, window=torch.ones(16, dtype=torch.complex64))


def test_reprs():
    assert repr(cnn.STFT(16)) == "STFT(n_fft=16, hop_length=4, win_length=16)"
    assert "return_complex=True" in repr(cnn.ISTFT(16, return_complex=True))
    assert "pad_mode='constant'" in repr(cnn.STFT(16, pad_mode="constant", center=True))
    fb = cnn.ComplexFilterbank(4, 31, 8000.0, stride=2, init="morlet")
    assert repr(fb) == (
        "ComplexFilterbank(4, kernel_size=31, sample_rate=8000.0, stride=2, padding=15, "
        "init='morlet')"
    )


# ------------------------------------------------------------------ filterbank


def _responses(fb, tone):
    """Mean modulus of each filter's output away from the edges."""
    out = fb(tone.unsqueeze(0).unsqueeze(0))[0]
    margin = fb.kernel_size
    return out[:, margin:-margin].abs().mean(-1)


@pytest.mark.parametrize("init", ["gabor", "morlet"])
@pytest.mark.parametrize("kind", ["complex", "real"])
def test_pure_tone_peaks_at_the_nearest_filter(init, kind):
    sr = 8000.0
    fb = cnn.ComplexFilterbank(
        8, 161, sr, f_min=150.0, f_max=3000.0, init=init, dtype=torch.complex128
    )
    freqs = fb.center_frequencies
    ratio = (freqs[1] / freqs[0]).item()
    t = torch.arange(2000, dtype=torch.float64) / sr
    for j in range(8):
        for offset in (-0.25, 0.0, 0.25):  # nearest on the log-frequency axis
            f = freqs[j].item() * ratio**offset
            tone = torch.exp(2j * math.pi * f * t)
            tone = tone if kind == "complex" else tone.real
            responses = _responses(fb, tone)
            assert responses.argmax().item() == j, (j, offset, responses)
            if offset == 0 and kind == "complex":  # unit gain at the centre
                assert responses[j].item() == pytest.approx(1.0, rel=1e-9)


def test_filterbank_matches_conv1d_and_centres_outputs():
    fb = cnn.ComplexFilterbank(5, 21, 16000.0, stride=3)
    x = _signal((2, 1, 60), torch.float32)
    out = fb(x)
    assert out.shape == (2, 5, 20) and out.dtype == torch.complex64
    torch.testing.assert_close(out, CF.conv1d(x, fb.weight, None, 3, 10))
    kernels, freqs = CF.filterbank_kernels(5, 21, 16000.0)
    torch.testing.assert_close(fb.weight.detach(), kernels)
    torch.testing.assert_close(fb.center_frequencies, freqs)
    assert "center_frequencies" not in fb.state_dict()


def test_filterbank_is_learnable_and_resets():
    fb = cnn.ComplexFilterbank(3, 11, 1000.0, dtype=torch.complex128)
    initial = fb.weight.detach().clone()
    x = _signal((4, 1, 50), seed=2)
    target = _signal((4, 3, 50), torch.complex128, seed=3)
    loss = CF.complex_mse(fb(x), target)
    loss.backward()
    assert fb.weight.grad is not None and fb.weight.grad.abs().sum() > 0
    with torch.no_grad():
        fb.weight -= 0.1 * fb.weight.grad
    assert CF.complex_mse(fb(x), target) < loss
    fb.reset_parameters()
    assert torch.equal(fb.weight.detach(), initial)
    fb.float()
    assert fb.weight.dtype == torch.complex64 and fb.center_frequencies.dtype == torch.float32


def test_filterbank_gradcheck_complex128():
    fb = cnn.ComplexFilterbank(3, 7, 1000.0, stride=2, dtype=torch.complex128)
    x = _signal((2, 1, 15), torch.complex128, seed=4).requires_grad_()
    weight = fb.weight.detach().clone().requires_grad_()

    def fn(x, weight):
        return functional_call(fb, {"weight": weight}, (x,))

    assert torch.autograd.gradcheck(fn, (x, weight))
    real = _signal((2, 1, 15), seed=5).requires_grad_()
    assert torch.autograd.gradcheck(fn, (real, weight))


def test_filterbank_errors():
    with pytest.raises(TypeError, match="dtype"):
        cnn.ComplexFilterbank(3, 7, 1000.0, dtype=torch.float32)
    with pytest.raises(ValueError, match="init"):
        cnn.ComplexFilterbank(3, 7, 1000.0, init="mel")
    with pytest.raises(ValueError, match="sample_rate / 2"):
        cnn.ComplexFilterbank(3, 7, 1000.0, f_max=600.0)
    fb = cnn.ComplexFilterbank(3, 7, 1000.0)
    with pytest.raises(ValueError):
        fb(torch.randn(2, 2, 20))  # one input channel
    with pytest.raises(TypeError, match="float32"):
        fb(torch.randn(2, 1, 20, dtype=torch.float64))
