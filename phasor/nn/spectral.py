"""Spectral front ends: STFT / ISTFT and learnable complex filterbanks: thin modules over
`phasor.functional.spectral`."""

from __future__ import annotations

import torch
from torch import nn

from phasor.functional import spectral as CF
from phasor.functional.conv import conv1d
from phasor.nn._real_state import KeepsRealState
from phasor.nn.activation import _real_dtype
from phasor.nn.linear import _factory_kwargs

__all__ = ["ISTFT", "STFT", "ComplexFilterbank"]


class _SpectralTransform(KeepsRealState):
    """The shared window buffer and settings of `STFT` and `ISTFT`."""

    _real_state = ("window",)

    def __init__(
        self,
        n_fft: int,
        hop_length: int | None,
        win_length: int | None,
        window: torch.Tensor | None,
        center: bool,
        normalized: bool,
        onesided: bool | None,
        device: torch.device | str | None,
        dtype: torch.dtype | None,
    ) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = n_fft // 4 if hop_length is None else hop_length
        self.win_length = n_fft if win_length is None else win_length
        self.center = center
        self.normalized = normalized
        self.onesided = onesided
        real = _real_dtype(dtype)
        if window is None:
            window = torch.hann_window(self.win_length, dtype=real, device=device)
        elif not isinstance(window, torch.Tensor) or not window.is_floating_point():
            got = window.dtype if isinstance(window, torch.Tensor) else type(window).__name__
            raise TypeError(f"window must be a real floating tensor, got {got}")
        elif window.shape != (self.win_length,):
            raise ValueError(
                f"window must have shape ({self.win_length},) (win_length), "
                f"got {tuple(window.shape)}"
            )
        self.register_buffer("window", window.detach().to(device=device, dtype=real).clone())

    def extra_repr(self) -> str:
        s = f"n_fft={self.n_fft}, hop_length={self.hop_length}, win_length={self.win_length}"
        s += f", center={self.center}" if not self.center else ""
        s += ", normalized=True" if self.normalized else ""
        return s + (f", onesided={self.onesided}" if self.onesided is not None else "")


class STFT(_SpectralTransform):
    r"""Short-time Fourier transform of ``(batch, channel, time)`` waveforms into
    ``(batch, channel, freq, time)`` complex spectrograms; see [`phasor.functional.stft`][phasor.functional.spectral.stft].

    $$
    X[c, f, m] = \sum_{n} w[n]\, x_c[m H + n]\, e^{-2\pi i f n / N_\text{fft}}
    $$

    Args:
        n_fft: size of the Fourier transform.
        hop_length: distance between frames (default ``n_fft // 4``).
        win_length: window size (default ``n_fft``).
        window: real window of ``win_length`` samples, copied into the ``window`` buffer;
            default a periodic Hann window.
        center: pad by ``n_fft // 2`` on both sides so frames are centred.
        pad_mode: padding for ``center=True`` (``"reflect"``, ``"constant"``, ...).
        normalized: multiply by ``n_fft ** -0.5``.
        onesided: keep the non-negative frequencies only (default: for real signals).
        device: device of the window.
        dtype: dtype of the signals (complex64 or float32 give a float32 window, complex128 or
            float64 a float64 one); default ``torch.get_default_dtype()``.

    Attributes:
        window: real buffer ``(win_length,)``; it follows ``.double()`` / ``.float()``.

    Shape:
        - Input: ``(N, C, T)`` or ``(C, T)``, real or complex of the window's precision.
        - Output: ``(N, C, F, M)`` or ``(C, F, M)``, complex; ``F = n_fft // 2 + 1`` for
          one-sided, else ``n_fft``; ``M = 1 + T // hop_length`` with ``center=True``.
    """

    def __init__(
        self,
        n_fft: int,
        hop_length: int | None = None,
        win_length: int | None = None,
        window: torch.Tensor | None = None,
        center: bool = True,
        pad_mode: str = "reflect",
        normalized: bool = False,
        onesided: bool | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            n_fft, hop_length, win_length, window, center, normalized, onesided, device, dtype
        )
        self.pad_mode = pad_mode

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return CF.stft(
            input,
            self.n_fft,
            self.hop_length,
            self.win_length,
            self.window,
            self.center,
            self.pad_mode,
            self.normalized,
            self.onesided,
        )

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", pad_mode={self.pad_mode!r}" if self.pad_mode != "reflect" else "")


class ISTFT(_SpectralTransform):
    r"""Inverse STFT of ``(batch, channel, freq, time)`` spectrograms into ``(batch, channel,
    time)`` waveforms; see [`phasor.functional.istft`][phasor.functional.spectral.istft].

    With the settings of the `STFT` that made the spectrogram and ``length`` the
    signal's number of samples, ``ISTFT(...)(STFT(...)(x), length=T)`` equals ``x`` to
    rounding error.

    Args:
        n_fft: as for `STFT`.
        hop_length: as for `STFT`.
        win_length: as for `STFT`.
        window: as for `STFT`.
        center: as for `STFT`.
        normalized: as for `STFT`.
        onesided: whether the spectrogram holds only the non-negative frequencies (default:
            unless it has ``n_fft`` bins).
        return_complex: return complex signals (for two-sided spectra of complex signals).
        device: device of the window.
        dtype: dtype of the signals, as for `STFT`.

    Attributes:
        window: real buffer ``(win_length,)``.

    Shape:
        - Input: ``(N, C, F, M)`` or ``(C, F, M)``, complex.
        - Output: ``(N, C, T)`` or ``(C, T)``, real (complex with ``return_complex``), with
          ``T = length`` if given.
    """

    def __init__(
        self,
        n_fft: int,
        hop_length: int | None = None,
        win_length: int | None = None,
        window: torch.Tensor | None = None,
        center: bool = True,
        normalized: bool = False,
        onesided: bool | None = None,
        return_complex: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            n_fft, hop_length, win_length, window, center, normalized, onesided, device, dtype
        )
        self.return_complex = return_complex

    def forward(self, input: torch.Tensor, length: int | None = None) -> torch.Tensor:
        return CF.istft(
            input,
            self.n_fft,
            self.hop_length,
            self.win_length,
            self.window,
            self.center,
            self.normalized,
            self.onesided,
            length,
            self.return_complex,
        )

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (", return_complex=True" if self.return_complex else "")


class ComplexFilterbank(KeepsRealState):
    r"""Learnable complex filterbank: a complex 1-D convolution of a waveform with
    ``n_filters`` kernels that start as Gabor or Morlet wavelets at log-spaced centre
    frequencies (see [`phasor.functional.filterbank_kernels`][phasor.functional.spectral.filterbank_kernels] for the wavelets).

    $$
    y[k, m] = \sum_{n} \bar\psi_k(t_n)\, x[m s + n - p]
    $$

    Args:
        n_filters: number of filters (output channels).
        kernel_size: samples per kernel.
        sample_rate: sampling rate of the input in Hz.
        stride: hop between outputs (``s``).
        padding: zeros on both sides (``p``); default ``kernel_size // 2``, which centres
            output ``m`` on input sample ``m * stride`` (odd ``kernel_size``).
        f_min: lowest centre frequency in Hz (default ``2 * sample_rate / kernel_size``).
        f_max: highest centre frequency in Hz (default ``0.45 * sample_rate``).
        init: ``"gabor"`` (constant-Q bandwidth of half the gap between filters) or
            ``"morlet"`` (zero-mean wavelets with $\omega_0 = 6$).
        device: device of the parameters.
        dtype: ``torch.complex64`` (default) or ``torch.complex128``.

    Attributes:
        weight: complex parameter ``(n_filters, 1, kernel_size)``, the conjugate wavelets.
        center_frequencies: real buffer ``(n_filters,)``, the centre frequencies (Hz) at
            initialisation, low to high.

    Shape:
        - Input: ``(N, 1, T)`` or ``(1, T)``, real (of the weight's real dtype) or complex.
        - Output: ``(N, n_filters, L)`` or ``(n_filters, L)``, complex, with
          ``L = (T + 2p - kernel_size) // stride + 1``.
    """

    _real_state = ("center_frequencies",)

    def __init__(
        self,
        n_filters: int,
        kernel_size: int,
        sample_rate: float,
        stride: int = 1,
        padding: int | None = None,
        f_min: float | None = None,
        f_max: float | None = None,
        init: str = "gabor",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        factory = _factory_kwargs(device, dtype)
        kernels, freqs = CF.filterbank_kernels(
            n_filters, kernel_size, sample_rate, f_min, f_max, init, **factory
        )
        super().__init__()
        self.n_filters = n_filters
        self.kernel_size = kernel_size
        self.sample_rate = sample_rate
        self.stride = stride
        self.padding = kernel_size // 2 if padding is None else padding
        self.f_min = f_min
        self.f_max = f_max
        self.init = init
        self.weight = nn.Parameter(kernels)
        self.register_buffer("center_frequencies", freqs, persistent=False)

    def reset_parameters(self) -> None:
        """Set the kernels back to the initial wavelets."""
        kernels, _ = CF.filterbank_kernels(
            self.n_filters,
            self.kernel_size,
            self.sample_rate,
            self.f_min,
            self.f_max,
            self.init,
            dtype=self.weight.dtype,
            device=self.weight.device,
        )
        with torch.no_grad():
            self.weight.copy_(kernels)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return conv1d(input, self.weight, None, self.stride, self.padding)

    def extra_repr(self) -> str:
        s = f"{self.n_filters}, kernel_size={self.kernel_size}, sample_rate={self.sample_rate}"
        s += f", stride={self.stride}, padding={self.padding}"
        if self.f_min is not None or self.f_max is not None:
            s += f", f_min={self.f_min}, f_max={self.f_max}"
        return s + (f", init={self.init!r}" if self.init != "gabor" else "")
