r"""MFCCs as pure torch functions: the real pipeline and a complex, phase-keeping variant.

Real MFCCs (the standard pipeline of seed 003, "MFCC extraction workflow"):

    frames  x_t[n] = s[t H + n] w[n]                 framing + window (length N, hop H)
    DFT     X_t[k] = sum_n x_t[n] exp(-2 pi i k n / N),  k = 0 .. N/2
    power   P_t[k] = |X_t[k]|^2 / N
    mel     E_t[m] = sum_k F[m, k] P_t[k]            triangular mel filter bank F (M bands)
    log     L_t[m] = log(E_t[m] + eps)
    DCT     c_t[q] = sum_m D[q, m] L_t[m]            orthonormal DCT-II, q = 0 .. Q-1

Complex MFCCs keep the phase of the STFT through the same pipeline. The filter bank is
applied to the *complex* spectrum as well as to the power spectrum, and the complex
logarithm of a complex mel spectrum whose modulus is the mel energy and whose argument is the
phase of the complex band sum is taken:

    Z_t[m]  = sum_k F[m, k] X_t[k]                   mel filter bank on the complex STFT
    z_t[m]  = (E_t[m] + eps) exp(i arg Z_t[m])       complex mel spectrum
    Log z   = log|z| + i arg z = L_t[m] + i arg Z_t[m]   (principal branch, arg in (-pi, pi])
    C_t[q]  = sum_m D[q, m] Log z_t[m]               the same real DCT

so ``C.real`` is exactly the real MFCC (the log-magnitude path) and ``C.imag`` is the DCT of
the mel-band phases. ``arg 0`` is taken as 0 (``torch.angle``). Phases are measured relative to
the start of each frame.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "complex_mel_spectrum",
    "complex_mfcc",
    "dct_matrix",
    "frame",
    "hz_to_mel",
    "mel_filter_bank",
    "mel_to_hz",
    "mfcc",
    "power_spectrum",
    "stft",
    "window",
]

WINDOWS = ("hamming", "hann", "rectangular")


def _check_real_signal(signal: torch.Tensor) -> None:
    if not isinstance(signal, torch.Tensor):
        raise TypeError(f"signal must be a torch.Tensor, got {type(signal).__name__}")
    if signal.is_complex() or not signal.is_floating_point():
        raise TypeError(f"signal must be a real floating-point tensor, got {signal.dtype}")
    if signal.dim() < 1:
        raise ValueError("signal must have at least one dimension (time, last)")


def frame(signal: torch.Tensor, frame_length: int, hop_length: int) -> torch.Tensor:
    r"""Cut the last axis into overlapping frames: ``out[..., t, n] = signal[..., t * hop + n]``.

    Frames that would run past the end are dropped (no padding).

    Shape:
        - Input: $(*, T)$ with $T \ge$ ``frame_length``.
        - Output: $(*, 1 + \lfloor (T - N) / H \rfloor, N)$.
    """
    _check_real_signal(signal)
    if frame_length < 1 or hop_length < 1:
        raise ValueError(
            f"frame_length and hop_length must be positive, got {frame_length}, {hop_length}"
        )
    if signal.shape[-1] < frame_length:
        raise ValueError(
            f"signal has {signal.shape[-1]} samples, fewer than one frame of {frame_length}"
        )
    return signal.unfold(-1, frame_length, hop_length)


def window(kind: str, length: int, dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    r"""A periodic analysis window: ``"hamming"`` $0.54 - 0.46\cos(2\pi n/N)$,
    ``"hann"`` $0.5 - 0.5\cos(2\pi n/N)$ or ``"rectangular"`` (ones).

    Shape:
        - Output: $(N,)$.
    """
    if kind == "hamming":
        return torch.hamming_window(length, periodic=True, dtype=dtype, device=device)
    if kind == "hann":
        return torch.hann_window(length, periodic=True, dtype=dtype, device=device)
    if kind == "rectangular":
        return torch.ones(length, dtype=dtype, device=device)
    raise ValueError(f"unknown window {kind!r}; choose one of {', '.join(WINDOWS)}")


def stft(
    signal: torch.Tensor, n_fft: int = 512, hop_length: int = 256, window_kind: str = "hamming"
) -> torch.Tensor:
    r"""Short-time Fourier transform $X_t[k] = \sum_n s[tH+n] w[n] e^{-2\pi i kn/N}$.

    Phases are relative to the first sample of each frame (no centring, no padding).

    Shape:
        - Input: $(*, T)$ real.
        - Output: $(*, T_f, N/2 + 1)$ complex (``complex64`` for ``float32`` input).
    """
    frames = frame(signal, n_fft, hop_length)
    w = window(window_kind, n_fft, dtype=signal.dtype, device=signal.device)
    return torch.fft.rfft(frames * w, n=n_fft, dim=-1)


def power_spectrum(spectrum: torch.Tensor, n_fft: int) -> torch.Tensor:
    r"""Periodogram $P = |X|^2 / N$ of a complex spectrum.

    Shape:
        - Input: $(*, K)$ complex. Output: $(*, K)$ real.
    """
    return spectrum.abs().square() / n_fft


def hz_to_mel(hz: torch.Tensor | float) -> torch.Tensor:
    r"""HTK mel scale $m = 2595 \log_{10}(1 + f / 700)$."""
    return 2595.0 * torch.log10(1.0 + torch.as_tensor(hz, dtype=torch.float64) / 700.0)


def mel_to_hz(mel: torch.Tensor | float) -> torch.Tensor:
    r"""Inverse of `hz_to_mel`: $f = 700 (10^{m / 2595} - 1)$."""
    return 700.0 * (10.0 ** (torch.as_tensor(mel, dtype=torch.float64) / 2595.0) - 1.0)


def mel_filter_bank(
    n_mels: int,
    n_fft: int,
    sample_rate: float,
    f_min: float = 0.0,
    f_max: float | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    r"""Triangular filters, equally spaced on the HTK mel scale, of unit peak height.

    Filter $m$ rises linearly from $f_{m-1}$ to 1 at $f_m$ and falls to 0 at
    $f_{m+1}$, where $f_0 < \dots < f_{M+1}$ are ``n_mels + 2`` points equally
    spaced in mel between ``f_min`` and ``f_max`` (default ``sample_rate / 2``); it is
    evaluated at the DFT bin frequencies $k \cdot \text{sample\_rate} / N$.

    Shape:
        - Output: $(M, N/2 + 1)$.
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    if n_mels < 1 or n_fft < 2:
        raise ValueError(f"n_mels must be >= 1 and n_fft >= 2, got {n_mels}, {n_fft}")
    if not 0 <= f_min < f_max <= sample_rate / 2:
        raise ValueError(
            f"need 0 <= f_min < f_max <= sample_rate / 2, got {f_min}, {f_max}, {sample_rate}"
        )
    edges = mel_to_hz(
        torch.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2, dtype=torch.float64)
    )
    bins = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sample_rate / n_fft
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0).to(dtype)


def dct_matrix(n_out: int, n_in: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    r"""Orthonormal DCT-II matrix $D[q, m] = s_q \cos(\pi q (2m + 1) / (2M))$ with
    $s_0 = \sqrt{1/M}$, $s_q = \sqrt{2/M}$ (the rows ``q < n_out`` of it).

    Shape:
        - Output: $(Q, M)$ with $Q$ = ``n_out`` $\le M$ = ``n_in``.
    """
    if not 1 <= n_out <= n_in:
        raise ValueError(f"need 1 <= n_out <= n_in, got n_out={n_out}, n_in={n_in}")
    q = torch.arange(n_out, dtype=torch.float64)[:, None]
    m = torch.arange(n_in, dtype=torch.float64)[None, :]
    d = torch.cos(math.pi * q * (2 * m + 1) / (2 * n_in)) * math.sqrt(2.0 / n_in)
    d[0] /= math.sqrt(2.0)
    return d.to(dtype)


def _mel_parts(
    signal: torch.Tensor,
    sample_rate: float,
    n_fft: int,
    hop_length: int,
    n_mels: int,
    f_min: float,
    f_max: float | None,
    window_kind: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    spectrum = stft(signal, n_fft, hop_length, window_kind)
    bank = mel_filter_bank(n_mels, n_fft, sample_rate, f_min, f_max, dtype=signal.dtype)
    bank = bank.to(signal.device)
    energy = power_spectrum(spectrum, n_fft) @ bank.T
    band_sum = spectrum @ bank.T.to(spectrum.dtype)
    return energy, band_sum


def complex_mel_spectrum(
    signal: torch.Tensor,
    sample_rate: float,
    n_fft: int = 512,
    hop_length: int = 256,
    n_mels: int = 26,
    f_min: float = 0.0,
    f_max: float | None = None,
    window_kind: str = "hamming",
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Mel energies $E_t[m]$ and complex band sums $Z_t[m] = \sum_k F[m,k] X_t[k]$.

    Shape:
        - Input: $(*, T)$ real.
        - Output: ``(energy, band_sum)``, both $(*, T_f, M)$; energy real, band sum
          complex.
    """
    return _mel_parts(signal, sample_rate, n_fft, hop_length, n_mels, f_min, f_max, window_kind)


def mfcc(
    signal: torch.Tensor,
    sample_rate: float,
    n_mfcc: int = 13,
    n_fft: int = 512,
    hop_length: int = 256,
    n_mels: int = 26,
    f_min: float = 0.0,
    f_max: float | None = None,
    window_kind: str = "hamming",
    eps: float = 1e-10,
) -> torch.Tensor:
    r"""Real MFCCs $c_t = D \log(F P_t + \epsilon)$ (module docstring for every step).

    Shape:
        - Input: $(*, T)$ real signal, time last.
        - Output: $(*, T_f, Q)$ real, $Q$ = ``n_mfcc``,
          $T_f = 1 + \lfloor (T - N)/H \rfloor$.
    """
    energy, _ = _mel_parts(
        signal, sample_rate, n_fft, hop_length, n_mels, f_min, f_max, window_kind
    )
    d = dct_matrix(n_mfcc, n_mels, dtype=signal.dtype).to(signal.device)
    return torch.log(energy + eps) @ d.T


def complex_mfcc(
    signal: torch.Tensor,
    sample_rate: float,
    n_mfcc: int = 13,
    n_fft: int = 512,
    hop_length: int = 256,
    n_mels: int = 26,
    f_min: float = 0.0,
    f_max: float | None = None,
    window_kind: str = "hamming",
    eps: float = 1e-10,
) -> torch.Tensor:
    r"""Complex MFCCs $C_t = D\,[\log(E_t + \epsilon) + i \arg(F X_t)]$.

    The real part equals `mfcc` with the same arguments; the imaginary part is the DCT of
    the phases of the mel filter bank applied to the complex STFT.

    Shape:
        - Input: $(*, T)$ real signal, time last.
        - Output: $(*, T_f, Q)$ complex (``complex64`` for ``float32`` input).
    """
    energy, band_sum = _mel_parts(
        signal, sample_rate, n_fft, hop_length, n_mels, f_min, f_max, window_kind
    )
    d = dct_matrix(n_mfcc, n_mels, dtype=signal.dtype).to(signal.device)
    log_z = torch.complex(torch.log(energy + eps), torch.angle(band_sum))
    return log_z @ d.T.to(log_z.dtype)
