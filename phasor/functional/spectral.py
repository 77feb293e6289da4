r"""Spectral front ends: STFT / ISTFT in the conv layout and complex wavelet filterbanks.

`stft` wraps `torch.stft` for multichannel signals: a ``(batch, channel, time)``
waveform, real or complex, becomes a ``(batch, channel, freq, time)`` complex spectrogram,
the layout of [`phasor.functional.conv2d`][phasor.functional.conv.conv2d]; `istft` inverts it. Unlike
`torch.stft`, ``window=None`` means a periodic Hann window of ``win_length`` (the
usual choice, and the one `torch.stft` warns about leaving out); pass
``torch.ones(win_length)`` for a rectangular window.

`filterbank_kernels` gives the initial kernels of
[`phasor.nn.ComplexFilterbank`][phasor.nn.spectral.ComplexFilterbank]: Gabor or Morlet wavelets at log-spaced centre
frequencies, for [`phasor.functional.conv1d`][phasor.functional.conv.conv1d] on waveforms.
"""

from __future__ import annotations

import math

import torch

from phasor._validation import COMPLEX_DTYPES, REAL_DTYPES, check_complex, check_ndim

__all__ = ["FILTERBANK_INITS", "filterbank_kernels", "istft", "stft"]

FILTERBANK_INITS: tuple[str, ...] = ("gabor", "morlet")
"""The initial wavelets of `ComplexFilterbank`: Gabor or Morlet."""
_MORLET_OMEGA0 = 6.0  # cycles of the Morlet carrier per envelope width, the usual choice


def _window(
    window: torch.Tensor | None, win_length: int, real: torch.dtype, device: torch.device
) -> torch.Tensor:
    """The given window, checked against the signal's precision, or a periodic Hann window."""
    if window is None:
        return torch.hann_window(win_length, dtype=real, device=device)
    if not isinstance(window, torch.Tensor):
        raise TypeError(f"window must be a torch.Tensor, got {type(window).__name__}")
    if window.dtype != real:
        raise TypeError(
            f"window must be real {real} to match the signal, got {window.dtype}; "
            f"convert it, e.g. window.to({real})"
        )
    if window.shape != (win_length,):
        raise ValueError(
            f"window must have shape ({win_length},) (win_length), got {tuple(window.shape)}"
        )
    return window


def stft(
    input: torch.Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: torch.Tensor | None = None,
    center: bool = True,
    pad_mode: str = "reflect",
    normalized: bool = False,
    onesided: bool | None = None,
) -> torch.Tensor:
    r"""Short-time Fourier transform of every channel, in the layout of the 2-D conv layers.

    $$
    X[c, f, m] = \sum_{n=0}^{N_\text{fft} - 1} w[n]\, x_c[m H + n]\,
    e^{-2\pi i f n / N_\text{fft}}
    $$

    computed by `torch.stft` (``return_complex=True``) on the flattened
    ``(batch * channel, time)`` signals; the arguments mean what they mean there, except
    ``window=None``, which is a periodic Hann window of ``win_length`` (not a rectangular
    one). ``hop_length`` defaults to ``n_fft // 4``, ``win_length`` to ``n_fft``. A real
    signal gives the one-sided spectrum (``n_fft // 2 + 1`` bins) unless ``onesided=False``;
    a complex one the two-sided spectrum (``n_fft`` bins).

    Args:
        input: waveforms, real (float32, float64) or complex (complex64, complex128).
        n_fft: size of the Fourier transform.
        hop_length: distance between frames.
        win_length: window size, at most ``n_fft`` (zero-padded on both sides).
        window: real 1-D tensor of ``win_length`` samples, of the signal's real dtype.
        center: pad the signal by ``n_fft // 2`` on both sides, so frame ``m`` is centred on
            sample ``m * hop_length``.
        pad_mode: padding for ``center=True``: ``"reflect"``, ``"constant"``, ...
        normalized: multiply by ``n_fft ** -0.5`` (an orthonormal DFT).
        onesided: keep only the non-negative frequencies (real signals only).

    Raises:
        TypeError: integer input, or a window of another dtype.
        ValueError: input neither 2-D nor 3-D, or a window of the wrong length.

    Shape:
        - Input: ``(N, C, T)`` or ``(C, T)``.
        - Output: ``(N, C, F, M)`` or ``(C, F, M)``, complex, with ``F = n_fft // 2 + 1``
          (one-sided) or ``n_fft`` and ``M = 1 + T // hop_length`` for ``center=True``.
    """
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"input must be a torch.Tensor, got {type(input).__name__}")
    if input.dtype not in REAL_DTYPES + COMPLEX_DTYPES:
        raise TypeError(
            f"input must be float32, float64, complex64 or complex128, got {input.dtype}; "
            "convert it, e.g. input.float()"
        )
    check_ndim(input, (2, 3), shape="(batch, channel, time) or (channel, time)")
    win_length = n_fft if win_length is None else win_length
    real = input.dtype.to_real() if input.is_complex() else input.dtype
    window = _window(window, win_length, real, input.device)
    spec = torch.stft(
        input.reshape(-1, input.shape[-1]),
        n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
        normalized=normalized,
        onesided=onesided,
        return_complex=True,
    )
    return spec.reshape(*input.shape[:-1], *spec.shape[-2:])


def istft(
    input: torch.Tensor,
    n_fft: int,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: torch.Tensor | None = None,
    center: bool = True,
    normalized: bool = False,
    onesided: bool | None = None,
    length: int | None = None,
    return_complex: bool = False,
) -> torch.Tensor:
    r"""Inverse of `stft`: overlap-add of the inverse transforms of the frames.

    Computed by `torch.istft` on the flattened ``(batch * channel, freq, time)``
    spectrograms, with the same window convention as `stft` (``None``: periodic Hann).
    With the arguments of the forward transform and ``length`` the number of samples of the
    signal, ``istft(stft(x, ...), ..., length=T)`` gives ``x`` back to rounding error (the
    window must satisfy the NOLA condition, as Hann with ``hop_length <= win_length // 2``
    does). For a complex signal pass ``return_complex=True``; ``onesided`` defaults to
    ``True`` unless the input has ``n_fft`` bins.

    Args:
        input: complex spectrogram.
        n_fft: as for `stft`.
        hop_length: as for `stft`.
        win_length: as for `stft`.
        window: as for `stft`.
        center: as for `stft`.
        normalized: as for `stft`.
        onesided: whether the spectrogram holds only the non-negative frequencies.
        length: number of samples of the output (trims or zero-pads the end).
        return_complex: return a complex signal (needed for two-sided spectra of complex
            signals); otherwise the signal is real.

    Raises:
        TypeError: real input, or a window of another dtype.
        ValueError: input neither 3-D nor 4-D, or a window of the wrong length.

    Shape:
        - Input: ``(N, C, F, M)`` or ``(C, F, M)``, complex.
        - Output: ``(N, C, T)`` or ``(C, T)``, real (or complex with ``return_complex``).
    """
    check_complex(input)
    check_ndim(input, (3, 4), shape="(batch, channel, freq, time) or (channel, freq, time)")
    win_length = n_fft if win_length is None else win_length
    window = _window(window, win_length, input.dtype.to_real(), input.device)
    signal = torch.istft(
        input.reshape(-1, *input.shape[-2:]),
        n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        normalized=normalized,
        onesided=onesided,
        length=length,
        return_complex=return_complex,
    )
    return signal.reshape(*input.shape[:-2], signal.shape[-1])


def filterbank_kernels(
    n_filters: int,
    kernel_size: int,
    sample_rate: float,
    f_min: float | None = None,
    f_max: float | None = None,
    init: str = "gabor",
    *,
    dtype: torch.dtype = torch.complex64,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Complex wavelet kernels at log-spaced centre frequencies, for a 1-D cross-correlation.

    The centre frequencies $f_k$ (Hz) run geometrically from ``f_min`` to ``f_max``,
    with ratio $r$ between neighbours. On the kernel's time grid
    $t_n = (n - (K - 1)/2) / f_s$ each wavelet is a Gaussian envelope times a carrier,

    $$
    g_k(t) = e^{-t^2 / (2 \sigma_k^2)}, \qquad
    \psi_k(t) = g_k(t)\, e^{2\pi i f_k t} \;(\text{"gabor"}), \qquad
    \psi_k(t) = g_k(t)\,(e^{2\pi i f_k t} - c_k) \;(\text{"morlet"})
    $$

    - ``"gabor"``: the envelope's spectrum has standard deviation $f_k (r - 1) / 2$
      (half the gap to the next filter, constant Q), i.e.
      $\sigma_k = 1 / (\pi f_k (r - 1))$; $r = 2$ for a single filter.
    - ``"morlet"``: $\sigma_k = \omega_0 / (2 \pi f_k)$ with $\omega_0 = 6$, and
      $c_k = \sum_n g_k(t_n) e^{2\pi i f_k t_n} / \sum_n g_k(t_n)$ makes each sampled
      wavelet exactly zero-mean (the admissibility correction).

    Every $\sigma_k$ is capped at $K / (6 f_s)$, so that $\pm 3 \sigma_k$ fits
    in the kernel (low filters then get a wider band). Each wavelet is scaled to unit gain at
    its centre, $|\sum_n \psi_k(t_n) e^{-2\pi i f_k t_n}| = 1$.

    The returned kernels are the conjugates $\bar\psi_k$: the convolutions of phasor
    (as of torch) are cross-correlations, so that
    ``conv1d(x, kernels)[k, m]`` $= \sum_n \bar\psi_k(t_n)\, x[m + n]$, the wavelet
    transform; its frequency response $\sum_n \bar\psi_k(t_n) e^{2\pi i f t_n}$ peaks at
    $f = f_k$: exactly for "gabor" (the envelope is positive); for "morlet" the
    zero-mean correction lifts the peak of the widest (lowest, capped) bands slightly, by about
    1% at the default ``f_min``.

    Args:
        n_filters: number of filters.
        kernel_size: samples per kernel.
        sample_rate: sampling rate $f_s$ in Hz.
        f_min: lowest centre frequency; default ``2 * sample_rate / kernel_size`` (about the
            lowest frequency whose band the kernel can hold).
        f_max: highest centre frequency, below ``sample_rate / 2``; default
            ``0.45 * sample_rate``.
        init: ``"gabor"`` or ``"morlet"``.
        dtype: ``torch.complex64`` or ``torch.complex128``.
        device: device of the tensors.

    Returns:
        ``(kernels, center_frequencies)``: complex ``(n_filters, 1, kernel_size)`` and real
        ``(n_filters,)`` in Hz, of ``dtype`` and its real dtype.

    Raises:
        TypeError: a real ``dtype``.
        ValueError: non-positive sizes or rate, frequencies not in
            ``0 < f_min <= f_max < sample_rate / 2``, unknown ``init``.
    """
    if dtype not in COMPLEX_DTYPES:
        raise TypeError(f"dtype must be torch.complex64 or torch.complex128, got {dtype}")
    if init not in FILTERBANK_INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(FILTERBANK_INITS)}")
    if n_filters < 1 or kernel_size < 1 or not sample_rate > 0:
        raise ValueError(
            "n_filters and kernel_size must be positive and sample_rate > 0, got "
            f"n_filters={n_filters}, kernel_size={kernel_size}, sample_rate={sample_rate}"
        )
    f_min = 2 * sample_rate / kernel_size if f_min is None else f_min
    f_max = 0.45 * sample_rate if f_max is None else f_max
    if not 0 < f_min <= f_max < sample_rate / 2:
        raise ValueError(
            f"centre frequencies need 0 < f_min <= f_max < sample_rate / 2 = {sample_rate / 2}, "
            f"got f_min={f_min}, f_max={f_max}"
        )
    freqs = torch.logspace(
        math.log10(f_min), math.log10(f_max), n_filters, dtype=torch.float64
    ).unsqueeze(1)
    ratio = (f_max / f_min) ** (1 / (n_filters - 1)) if n_filters > 1 and f_max > f_min else 2.0
    t = (torch.arange(kernel_size, dtype=torch.float64) - (kernel_size - 1) / 2) / sample_rate
    if init == "gabor":
        sigma = 1 / (math.pi * freqs * (ratio - 1))
    else:
        sigma = _MORLET_OMEGA0 / (2 * math.pi * freqs)
    sigma = sigma.clamp_max(kernel_size / (6 * sample_rate))
    envelope = torch.exp(-(t**2) / (2 * sigma**2))
    carrier = torch.exp(2j * math.pi * freqs * t)
    wavelet = envelope * carrier
    if init == "morlet":
        correction = wavelet.sum(1, keepdim=True) / envelope.sum(1, keepdim=True)
        wavelet = envelope * (carrier - correction)
    gain = (wavelet * carrier.conj()).sum(1, keepdim=True).abs()
    kernels = (wavelet / gain).conj_physical().unsqueeze(1)
    return (
        kernels.to(device=device, dtype=dtype),
        freqs.squeeze(1).to(device=device, dtype=dtype.to_real()),
    )
