import math

import numpy as np
import pytest
import scipy.fft
import scipy.signal
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from phasor.audio import (
    complex_mel_spectrum,
    complex_mfcc,
    dct_matrix,
    frame,
    hz_to_mel,
    mel_filter_bank,
    mel_to_hz,
    mfcc,
    stft,
    window,
)

SR, N_FFT, HOP, N_MELS, N_MFCC = 8000, 256, 128, 26, 13


def _reference_mfcc(x: np.ndarray, sr, n_fft, hop, n_mels, n_mfcc, eps=1e-10):
    """Independent NumPy/SciPy MFCC: scipy window, explicit DFT matrix, interpolated mel
    triangles, scipy's orthonormal DCT-II."""
    w = scipy.signal.get_window("hamming", n_fft, fftbins=True)
    starts = range(0, len(x) - n_fft + 1, hop)
    frames = np.stack([x[s : s + n_fft] * w for s in starts])
    k = np.arange(n_fft // 2 + 1)
    dft = np.exp(-2j * np.pi * np.outer(np.arange(n_fft), k) / n_fft)
    power = np.abs(frames @ dft) ** 2 / n_fft
    mel_pts = np.linspace(0, 2595 * np.log10(1 + (sr / 2) / 700), n_mels + 2)
    hz_pts = 700 * (10 ** (mel_pts / 2595) - 1)
    freqs = k * sr / n_fft
    bank = np.stack([np.interp(freqs, hz_pts[m : m + 3], [0.0, 1.0, 0.0]) for m in range(n_mels)])
    logmel = np.log(power @ bank.T + eps)
    return scipy.fft.dct(logmel, type=2, norm="ortho", axis=-1)[:, :n_mfcc]


def _signal(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    return (
        np.sin(2 * np.pi * 440 * t)
        + 0.3 * np.sin(2 * np.pi * 1234 * t)
        + 0.1 * rng.standard_normal(n)
    )


def test_mfcc_matches_independent_reference():
    x = _signal()
    ours = mfcc(torch.from_numpy(x), SR, N_MFCC, N_FFT, HOP, N_MELS).numpy()
    ref = _reference_mfcc(x, SR, N_FFT, HOP, N_MELS, N_MFCC)
    assert ours.shape == ref.shape == (1 + (len(x) - N_FFT) // HOP, N_MFCC)
    np.testing.assert_allclose(ours, ref, rtol=1e-8, atol=1e-8)


def test_frame_window_stft_against_numpy():
    x = torch.from_numpy(_signal(1000))
    f = frame(x, 256, 100)
    assert f.shape == (1 + (1000 - 256) // 100, 256)
    torch.testing.assert_close(f[3], x[300:556])
    np.testing.assert_allclose(
        window("hann", 64, torch.float64).numpy(), scipy.signal.get_window("hann", 64)
    )
    np.testing.assert_allclose(
        window("hamming", 64, torch.float64).numpy(), scipy.signal.get_window("hamming", 64)
    )
    s = stft(x, 256, 100, "hann")
    ref = np.fft.fft(f.numpy() * scipy.signal.get_window("hann", 256), axis=-1)[:, :129]
    np.testing.assert_allclose(s.numpy(), ref, atol=1e-9)


def test_pure_tone_energy_peaks_in_the_band_of_its_frequency():
    bank = mel_filter_bank(N_MELS, N_FFT, SR)
    for f0 in (300.0, 1000.0, 2500.0):
        x = torch.cos(2 * math.pi * f0 * torch.arange(4096, dtype=torch.float64) / SR)
        energy, _ = complex_mel_spectrum(x, SR, N_FFT, HOP, N_MELS)
        centres = mel_to_hz(torch.linspace(0, hz_to_mel(SR / 2), N_MELS + 2))[1:-1]
        expected = int((centres - f0).abs().argmin())
        assert int(energy.mean(0).argmax()) == expected
    assert bank.shape == (N_MELS, N_FFT // 2 + 1)
    assert float(bank.min()) >= 0 and float(bank.max()) <= 1


def test_mel_scale_round_trip_and_dct_orthonormal():
    hz = torch.tensor([0.0, 100.0, 1000.0, 4000.0], dtype=torch.float64)
    torch.testing.assert_close(mel_to_hz(hz_to_mel(hz)), hz)
    assert float(hz_to_mel(1000.0)) == pytest.approx(1000.0, abs=0.5)
    d = dct_matrix(20, 20, torch.float64)
    torch.testing.assert_close(d @ d.T, torch.eye(20, dtype=torch.float64))


def test_complex_mfcc_real_part_is_the_log_magnitude_path():
    x = torch.from_numpy(_signal())
    c = complex_mfcc(x, SR, N_MFCC, N_FFT, HOP, N_MELS)
    assert c.is_complex()
    torch.testing.assert_close(c.real, mfcc(x, SR, N_MFCC, N_FFT, HOP, N_MELS), rtol=0, atol=1e-12)
    _, z = complex_mel_spectrum(x, SR, N_FFT, HOP, N_MELS)
    imag_ref = scipy.fft.dct(np.angle(z.numpy()), type=2, norm="ortho", axis=-1)[:, :N_MFCC]
    np.testing.assert_allclose(c.imag.numpy(), imag_ref, atol=1e-10)
    # z is the mel filter bank applied to the complex STFT
    bank = mel_filter_bank(N_MELS, N_FFT, SR, dtype=torch.float64)
    torch.testing.assert_close(z, stft(x, N_FFT, HOP) @ bank.T.to(torch.complex128))


def test_complex_mfcc_sees_a_quadrature_shift_that_real_mfcc_cannot():
    # cos -> sin (Hilbert pair, on-bin frame-synchronous partials): band sums rotate by -pi/2
    t = torch.arange(4096, dtype=torch.float64) / SR
    f = torch.tensor([250.0, 875.0, 1500.0], dtype=torch.float64)[:, None]
    x_cos, x_sin = torch.cos(2 * math.pi * f * t).sum(0), torch.sin(2 * math.pi * f * t).sum(0)
    _, z_cos = complex_mel_spectrum(x_cos, SR, N_FFT, HOP, N_MELS)
    _, z_sin = complex_mel_spectrum(x_sin, SR, N_FFT, HOP, N_MELS)
    torch.testing.assert_close(z_sin, -1j * z_cos, atol=1e-9, rtol=0)
    torch.testing.assert_close(
        mfcc(x_cos, SR, N_MFCC, N_FFT, HOP, N_MELS), mfcc(x_sin, SR, N_MFCC, N_FFT, HOP, N_MELS)
    )
    c_cos = complex_mfcc(x_cos, SR, N_MFCC, N_FFT, HOP, N_MELS)
    c_sin = complex_mfcc(x_sin, SR, N_MFCC, N_FFT, HOP, N_MELS)
    assert float((c_cos.imag - c_sin.imag).abs().mean()) > 0.5


@settings(max_examples=20, deadline=None)
@given(st.floats(0.05, 20.0))
def test_scaling_the_signal_only_shifts_c0(a):
    x = torch.from_numpy(_signal(2000))
    base = mfcc(x, SR, N_MFCC, N_FFT, HOP, N_MELS, eps=1e-30)
    scaled = mfcc(a * x, SR, N_MFCC, N_FFT, HOP, N_MELS, eps=1e-30)
    shift = torch.zeros(N_MFCC, dtype=torch.float64)
    shift[0] = 2 * math.log(a) * math.sqrt(N_MELS)
    torch.testing.assert_close(scaled, base + shift, atol=1e-8, rtol=1e-8)


def test_gradients():
    x = torch.from_numpy(_signal(600)).requires_grad_()
    assert torch.autograd.gradcheck(lambda s: mfcc(s, SR, 8, 256, 128, 12), (x,))
    assert torch.autograd.gradcheck(lambda s: complex_mfcc(s, SR, 8, 256, 128, 12), (x,))


def test_bad_input():
    with pytest.raises(TypeError, match="real floating"):
        mfcc(torch.zeros(1000, dtype=torch.complex64), SR)
    with pytest.raises(ValueError, match="fewer than one frame"):
        mfcc(torch.zeros(100), SR, n_fft=256)
    with pytest.raises(ValueError, match="unknown window"):
        stft(torch.zeros(1000), window_kind="kaiser")
    with pytest.raises(ValueError, match="f_max"):
        mel_filter_bank(10, 256, SR, f_max=SR)
    with pytest.raises(ValueError, match="n_out"):
        dct_matrix(30, 26)
