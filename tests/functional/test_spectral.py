"""STFT / ISTFT in the conv layout and the wavelet filterbank kernels: numpy references,
exact round trips in float64, gradcheck in complex128, spectral peaks, errors."""

import numpy as np
import pytest
import torch

import phasor.functional as CF


def _signal(shape, dtype=torch.float64, seed=0):
    return torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def _np_hann(n):
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)  # periodic


def _np_stft(x, n_fft, hop, win_length, window, center, onesided):
    """Frames of one 1-D signal, windowed and transformed: (freq, time)."""
    pad = (n_fft - win_length) // 2
    w = np.zeros(n_fft)
    w[pad : pad + win_length] = window
    if center:
        x = np.pad(x, n_fft // 2, mode="reflect")
    frames = [x[m : m + n_fft] * w for m in range(0, len(x) - n_fft + 1, hop)]
    spec = np.fft.fft(np.array(frames), axis=-1)
    if onesided:
        spec = spec[:, : n_fft // 2 + 1]
    return spec.T


@pytest.mark.parametrize(
    ("dtype", "n_fft", "hop", "win_length", "center"),
    [
        (torch.float64, 16, 4, None, True),
        (torch.float64, 16, 5, 12, False),
        (torch.complex128, 16, 4, None, True),
        (torch.complex128, 12, 3, 9, False),
        (torch.float32, 8, 2, None, True),
    ],
)
def test_stft_matches_numpy_per_channel(dtype, n_fft, hop, win_length, center):
    x = _signal((2, 3, 41), dtype)
    out = CF.stft(x, n_fft, hop, win_length, center=center)
    win = win_length or n_fft
    assert out.dtype == (dtype if dtype.is_complex else dtype.to_complex())
    xs = x.numpy().astype(np.complex128 if dtype.is_complex else np.float64)
    onesided = not dtype.is_complex
    expected = np.stack(
        [
            np.stack(
                [
                    _np_stft(xs[b, c], n_fft, hop, win, _np_hann(win), center, onesided)
                    for c in range(3)
                ]
            )
            for b in range(2)
        ]
    )
    assert out.shape == expected.shape
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    np.testing.assert_allclose(out.numpy(), expected, atol=tol, rtol=tol)


def test_stft_unbatched_and_options_match_torch():
    x = _signal((3, 50))
    window = torch.from_numpy(np.blackman(10))
    out = CF.stft(x, 16, 4, 10, window, pad_mode="constant", normalized=True, onesided=False)
    expected = torch.stft(
        x,
        16,
        4,
        10,
        window,
        pad_mode="constant",
        normalized=True,
        onesided=False,
        return_complex=True,
    )
    assert out.shape == (3, 16, 13)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize(
    ("dtype", "n_fft", "hop", "win_length", "length", "center"),
    [
        (torch.float64, 32, 8, None, 200, True),
        (torch.float64, 32, 16, 32, 197, True),
        (torch.float64, 20, 5, 16, 100, True),
        (torch.complex128, 32, 8, None, 150, True),
        (torch.complex128, 16, 4, 12, 99, True),
    ],
)
@pytest.mark.parametrize("batched", [True, False])
def test_round_trip_is_exact_in_float64(dtype, n_fft, hop, win_length, length, center, batched):
    shape = (2, 3, length) if batched else (3, length)
    x = _signal(shape, dtype, seed=1)
    spec = CF.stft(x, n_fft, hop, win_length, center=center)
    y = CF.istft(
        spec, n_fft, hop, win_length, center=center, length=length, return_complex=dtype.is_complex
    )
    assert y.shape == x.shape and y.dtype == dtype
    assert (y - x).abs().max().item() < 1e-10


def test_round_trip_with_a_custom_window():
    x = _signal((2, 1, 120), seed=2)
    window = torch.from_numpy(np.hanning(24) ** 0.5 + 0.1)
    spec = CF.stft(x, 24, 6, window=window)
    y = CF.istft(spec, 24, 6, window=window, length=120)
    assert (y - x).abs().max().item() < 1e-10


def test_stft_gradcheck_complex128():
    x = _signal((2, 2, 20), torch.complex128, seed=3).requires_grad_()
    assert torch.autograd.gradcheck(lambda x: CF.stft(x, 8, 4), (x,))
    real = _signal((2, 2, 20), seed=4).requires_grad_()
    window = torch.rand(6, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    window.requires_grad_()
    assert torch.autograd.gradcheck(lambda x, w: CF.stft(x, 8, 2, 6, w), (real, window))


def test_istft_gradcheck_complex128():
    spec = CF.stft(_signal((2, 2, 24), seed=6), 8, 2).detach().requires_grad_()
    assert torch.autograd.gradcheck(lambda s: CF.istft(s, 8, 2, length=24), (spec,))
    spec = CF.stft(_signal((2, 20), torch.complex128, seed=7), 8, 2).detach().requires_grad_()
    assert torch.autograd.gradcheck(lambda s: CF.istft(s, 8, 2, return_complex=True), (spec,))


def test_spectral_errors():
    x = _signal((2, 3, 40))
    with pytest.raises(TypeError, match="float32, float64"):
        CF.stft(torch.ones(2, 40, dtype=torch.long), 8)
    with pytest.raises(ValueError, match=r"\(batch, channel, time\)"):
        CF.stft(x[0, 0], 8)
    with pytest.raises(TypeError, match=r"window must be real torch\.float64"):
        CF.stft(x, 8, window=torch.ones(8))
    with pytest.raises(ValueError, match=r"shape \(6,\)"):
        CF.stft(x, 8, win_length=6, window=torch.ones(8, dtype=torch.float64))
    spec = CF.stft(x, 8)
    with pytest.raises(TypeError, match="to_complex"):
        CF.istft(spec.real, 8)
    with pytest.raises(ValueError, match=r"\(batch, channel, freq, time\)"):
        CF.istft(spec[0, 0], 8)


# ------------------------------------------------------------------ filterbank kernels


def _np_wavelets(n_filters, kernel_size, sr, f_min, f_max, init):
    """The documented wavelets, one at a time."""
    freqs = np.geomspace(f_min, f_max, n_filters)
    ratio = freqs[1] / freqs[0] if n_filters > 1 else 2.0
    t = (np.arange(kernel_size) - (kernel_size - 1) / 2) / sr
    out = []
    for f in freqs:
        sigma = 1 / (np.pi * f * (ratio - 1)) if init == "gabor" else 6 / (2 * np.pi * f)
        sigma = min(sigma, kernel_size / (6 * sr))
        g = np.exp(-(t**2) / (2 * sigma**2))
        carrier = np.exp(2j * np.pi * f * t)
        psi = g * carrier
        if init == "morlet":
            psi = g * (carrier - psi.sum() / g.sum())
        psi /= abs((psi * carrier.conj()).sum())
        out.append(psi)
    return freqs, np.array(out)


@pytest.mark.parametrize("init", ["gabor", "morlet"])
@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_filterbank_kernels_match_numpy(init, dtype):
    kernels, freqs = CF.filterbank_kernels(6, 65, 8000.0, 200.0, 3000.0, init, dtype=dtype)
    want_freqs, wavelets = _np_wavelets(6, 65, 8000.0, 200.0, 3000.0, init)
    assert kernels.shape == (6, 1, 65) and kernels.dtype == dtype
    assert freqs.dtype == dtype.to_real()
    tol = 1e-5 if dtype == torch.complex64 else 1e-12
    np.testing.assert_allclose(freqs.numpy(), want_freqs, rtol=tol)
    np.testing.assert_allclose(kernels[:, 0].numpy(), wavelets.conj(), atol=tol)


@pytest.mark.parametrize("init", ["gabor", "morlet"])
def test_filterbank_spectra_peak_at_the_centre_frequencies(init):
    sr, n_fft = 16000.0, 2**16
    kernels, freqs = CF.filterbank_kernels(10, 201, sr, init=init, dtype=torch.complex128)
    wavelets = kernels[:, 0].conj().resolve_conj().numpy()
    spectrum = np.abs(np.fft.fft(wavelets, n_fft, axis=-1))
    grid = np.fft.fftfreq(n_fft, 1 / sr)
    peaks = grid[spectrum.argmax(-1)]
    if init == "gabor":  # a positive envelope: the peak is exactly at the centre
        np.testing.assert_allclose(peaks, freqs.numpy(), atol=sr / n_fft)
    else:  # the zero-mean correction lifts the peak of the wide low bands a little
        np.testing.assert_allclose(peaks, freqs.numpy(), rtol=0.02)
        np.testing.assert_allclose(peaks[3:], freqs.numpy()[3:], atol=sr / n_fft)
    # unit gain at the centre; Morlet wavelets have zero mean
    t = (np.arange(201) - 100) / sr
    gains = np.abs((wavelets * np.exp(-2j * np.pi * freqs.numpy()[:, None] * t)).sum(-1))
    np.testing.assert_allclose(gains, 1.0, rtol=1e-12)
    if init == "morlet":
        np.testing.assert_allclose(np.abs(wavelets.sum(-1)), 0.0, atol=1e-12)


def test_filterbank_defaults_and_log_spacing():
    _, freqs = CF.filterbank_kernels(5, 100, 1000.0, dtype=torch.complex128)
    assert freqs[0].item() == pytest.approx(20.0) and freqs[-1].item() == pytest.approx(450.0)
    ratios = freqs[1:] / freqs[:-1]
    torch.testing.assert_close(ratios, torch.full_like(ratios, (450 / 20) ** 0.25))
    single, freq = CF.filterbank_kernels(1, 31, 1000.0, 100.0, 100.0)
    assert single.shape == (1, 1, 31) and freq.tolist() == [100.0]


def test_filterbank_kernel_errors():
    with pytest.raises(TypeError, match=r"complex64 or torch\.complex128"):
        CF.filterbank_kernels(4, 31, 1000.0, dtype=torch.float32)
    with pytest.raises(ValueError, match="init"):
        CF.filterbank_kernels(4, 31, 1000.0, init="mel")
    with pytest.raises(ValueError, match="positive"):
        CF.filterbank_kernels(0, 31, 1000.0)
    with pytest.raises(ValueError, match="f_max < sample_rate / 2"):
        CF.filterbank_kernels(4, 31, 1000.0, 100.0, 500.0)
    with pytest.raises(ValueError, match="f_min <= f_max"):
        CF.filterbank_kernels(4, 31, 1000.0, 300.0, 200.0)
