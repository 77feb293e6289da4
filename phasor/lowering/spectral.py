r"""Lowering of [`phasor.nn.spectral`][phasor.nn.spectral].

The short-time Fourier transforms are written as real convolutions: every frame's DFT is a
``conv1d`` with stride ``hop_length`` whose kernels are the windowed cosines and sines

$$
w[n] \cos(2\pi k n / N), \qquad -w[n] \sin(2\pi k n / N),
$$

and the inverse transform with its overlap-add is one ``conv_transpose1d`` with the same
kind of kernels, divided by the overlap-added squared window (as `torch.istft`). The angles
are taken from $k n \bmod N$ in integers, so the tables are exact to rounding and the sines
vanish exactly at multiples of $\pi$. No complex tensor and no ``torch.fft`` is used.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from phasor import nn as pnn
from phasor.lowering._core import Context, adopt, pair, register


def _padded_window(window: torch.Tensor, n_fft: int) -> torch.Tensor:
    """The window zero-padded to ``n_fft`` on both sides (the left gets the smaller half), as
    `torch.stft`."""
    left = (n_fft - window.shape[0]) // 2
    return F.pad(window, (left, n_fft - window.shape[0] - left))


def _dft_tables(n_fft: int, bins: int, window: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """$\\cos$ and $\\sin$ of $2\\pi k n / N$ for $k < $ ``bins``, $n < N$, times the
    `_padded_window`: two real ``(bins, n_fft)``.

    A sine whose angle is a multiple of $\\pi$ is exactly 0. The kernels built from them are
    viewed to their static shapes: the ONNX exporter needs a convolution's kernel shape."""
    window = _padded_window(window, n_fft)
    k = torch.arange(bins, device=window.device).unsqueeze(1)
    n = torch.arange(n_fft, device=window.device)
    turns = (k * n) % n_fft  # the angle in units of 2 pi / N, exact in integers
    angle = turns.to(window.dtype) * (2 * math.pi / n_fft)
    sin = torch.where((2 * turns) % n_fft == 0, 0.0, torch.sin(angle))
    return torch.cos(angle) * window, sin * window


class PairSTFT(nn.Module):
    """Lowered [`phasor.nn.STFT`][phasor.nn.spectral.STFT]: the framed DFT as one real
    ``conv1d`` with stride ``hop_length`` on the (centre-padded) signals.

    Shape:
        - Input: real ``(N, C, T)`` / ``(C, T)``, or the pair ``(N, 2, C, T)`` / ``(C, 2, T)``.
        - Output: the pair ``(N, 2, C, F, M)`` / ``(C, 2, F, M)``.
    """

    def __init__(self, layer: pnn.STFT, real_input: bool) -> None:
        super().__init__()
        self.n_fft, self.hop_length = layer.n_fft, layer.hop_length
        self.center, self.pad_mode, self.normalized = layer.center, layer.pad_mode, layer.normalized
        self.real_input = real_input
        onesided = real_input if layer.onesided is None else layer.onesided
        self.bins = self.n_fft // 2 + 1 if onesided else self.n_fft
        adopt(self, layer)

    def _frames_dft(self, signals: torch.Tensor) -> torch.Tensor:
        """``(B, T)`` real signals -> ``(B, 2 * bins, M)``: the real parts, then the
        imaginary parts of their STFT."""
        cos, sin = _dft_tables(self.n_fft, self.bins, self.window)
        kernel = torch.cat((cos, -sin)).view(2 * self.bins, 1, self.n_fft)
        if self.normalized:
            kernel = kernel * self.n_fft**-0.5
        signals = signals.unsqueeze(1)
        if self.center:
            pad = self.n_fft // 2
            signals = F.pad(signals, (pad, pad), mode=self.pad_mode)
        return F.conv1d(signals, kernel, stride=self.hop_length)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if self.real_input:
            lead, time = input.shape[:-1], input.shape[-1]
            spec = self._frames_dft(input.reshape(-1, time))
            re, im = spec[:, : self.bins], spec[:, self.bins :]
        else:
            lead, time = input[:, 0].shape[:-1], input.shape[-1]
            signals = torch.cat((input[:, 0].reshape(-1, time), input[:, 1].reshape(-1, time)))
            spec_re, spec_im = self._frames_dft(signals).chunk(2)
            # X = STFT(re) + i STFT(im), each STFT = c + i s
            re = spec_re[:, : self.bins] - spec_im[:, self.bins :]
            im = spec_re[:, self.bins :] + spec_im[:, : self.bins]
        if not lead:  # one unbatched signal
            return pair(re[0], im[0])
        lead = (-1, *lead[1:])  # -1: the batch axis stays dynamic in an ONNX graph
        return pair(re.unflatten(0, lead), im.unflatten(0, lead))


class PairISTFT(nn.Module):
    """Lowered [`phasor.nn.ISTFT`][phasor.nn.spectral.ISTFT]: the inverse DFT of the frames,
    windowed and overlap-added, as one real ``conv_transpose1d`` with stride ``hop_length``,
    divided by the overlap-added squared window; then the centre padding is cut off and the
    result trimmed or zero-padded to ``length``, as `torch.istft`. Unlike `torch.istft`, a
    window that violates the NOLA condition is not detected (the division gives inf or NaN).

    As the real inverse FFT, a real output reads only the first ``n_fft // 2 + 1`` bins and
    ignores the imaginary parts of the DC and Nyquist bins.

    Shape:
        - Input: the pair ``(N, 2, C, F, M)`` / ``(C, 2, F, M)``.
        - Output: real ``(N, C, T)`` / ``(C, T)``, or with ``return_complex`` the pair
          ``(N, 2, C, T)`` / ``(C, 2, T)``.
    """

    def __init__(self, layer: pnn.ISTFT) -> None:
        super().__init__()
        self.n_fft, self.hop_length = layer.n_fft, layer.hop_length
        self.center, self.normalized = layer.center, layer.normalized
        self.onesided, self.return_complex = layer.onesided, layer.return_complex
        adopt(self, layer)

    def _kernel(self) -> torch.Tensor:
        """The ``conv_transpose1d`` weight from the bins' (real parts, imaginary parts) to the
        output samples: ``(2 * bins, 1 or 2, n_fft)``, window and normalisation included."""
        n = self.n_fft
        scale = n**-0.5 if self.normalized else 1.0 / n
        if self.return_complex:
            cos, sin = _dft_tables(n, n, self.window)
            # x = (Re X + i Im X) e^{+i theta}: Re x = Re X cos - Im X sin, Im x = Re X sin + Im X cos
            from_re = torch.stack((cos, sin), 1)
            from_im = torch.stack((-sin, cos), 1)
            return torch.cat((from_re, from_im)).view(2 * n, 2, n) * scale
        bins = n // 2 + 1
        cos, sin = _dft_tables(n, bins, self.window)
        # Hermitian symmetry: every bin but DC (and Nyquist for even n_fft) counts twice
        k = torch.arange(bins, device=cos.device).unsqueeze(1)
        twice = torch.where((k == 0) | (2 * k == n), 1.0, 2.0).to(cos.dtype)
        return torch.cat((cos * twice, -sin * twice)).view(2 * bins, 1, n) * scale

    def forward(self, input: torch.Tensor, length: int | None = None) -> torch.Tensor:
        re, im = input[:, 0], input[:, 1]
        freq, frames = re.shape[-2:]
        onesided = freq != self.n_fft if self.onesided is None else self.onesided
        if self.return_complex and onesided:
            raise ValueError("ISTFT: return_complex=True needs a two-sided spectrogram")
        if not self.return_complex:
            re, im = re[..., : self.n_fft // 2 + 1, :], im[..., : self.n_fft // 2 + 1, :]
        spectra = torch.cat((re.flatten(0, -3), im.flatten(0, -3)), 1)  # (B, 2 * bins, M)
        signal = F.conv_transpose1d(spectra, self._kernel(), stride=self.hop_length)
        squared = _padded_window(self.window, self.n_fft).square()
        envelope = F.conv_transpose1d(
            torch.ones(1, 1, frames, dtype=squared.dtype, device=squared.device),
            squared.view(1, 1, self.n_fft),
            stride=self.hop_length,
        )
        full = signal.shape[-1]
        start = self.n_fft // 2 if self.center else 0
        if length is not None:
            end = start + length
        else:
            end = full - self.n_fft // 2 if self.center else full
        signal = signal[..., start:end] / envelope[..., start:end]
        if end > full:
            signal = F.pad(signal, (0, end - full))
        # The leading axes back with -1 for the first one, so that the ONNX exporter keeps the
        # batch axis dynamic (a size read off a tensor becomes a constant in the graph).
        lead = (-1, *input.shape[2:-2])
        if not self.return_complex:
            return signal.squeeze(1).unflatten(0, lead)
        return pair(signal[:, 0].unflatten(0, lead), signal[:, 1].unflatten(0, lead))


class PairFilterbank(nn.Module):
    """Lowered [`phasor.nn.ComplexFilterbank`][phasor.nn.spectral.ComplexFilterbank]: one real
    ``conv1d`` with the stacked kernels $[A; B]$ of $W = A + iB$.

    ``weight`` is $(2, K, 1, L)$, ``center_frequencies`` $(K,)$ as in phasor.

    Shape:
        - Input: real ``(N, 1, T)`` / ``(1, T)``, or the pair ``(N, 2, 1, T)`` / ``(1, 2, T)``.
        - Output: the pair ``(N, 2, K, L)`` / ``(K, 2, L)``.
    """

    def __init__(self, layer: pnn.ComplexFilterbank, real_input: bool) -> None:
        super().__init__()
        self.stride, self.padding = layer.stride, layer.padding
        self.real_input = real_input
        adopt(self, layer)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        filters = self.weight.shape[1]
        stacked = self.weight.flatten(0, 1)  # (2K, 1, L): A then B
        if self.real_input:
            signals = input.unsqueeze(0) if input.dim() == 2 else input
            out = F.conv1d(signals, stacked, None, self.stride, self.padding)
            re, im = out[:, :filters], out[:, filters:]
        else:
            parts = input[:, 0], input[:, 1]
            signals = torch.cat([p.unsqueeze(0) if p.dim() == 2 else p for p in parts])
            by_re, by_im = F.conv1d(signals, stacked, None, self.stride, self.padding).chunk(2)
            # (A + iB)(x + iy) = (Ax - By) + i(Bx + Ay)
            re = by_re[:, :filters] - by_im[:, filters:]
            im = by_re[:, filters:] + by_im[:, :filters]
        unbatched = input.dim() == (2 if self.real_input else 3)
        if unbatched:
            re, im = re.squeeze(0), im.squeeze(0)
        return pair(re, im)


@register(pnn.STFT)
def _stft(layer: pnn.STFT, ctx: Context) -> tuple[nn.Module, bool]:
    if layer.onesided and not ctx.real_input:
        raise ValueError(
            f"lower: {ctx.where(layer)} with onesided=True gets a complex input, "
            "which torch.stft refuses"
        )
    return PairSTFT(layer, ctx.real_input), False


@register(pnn.ISTFT)
def _istft(layer: pnn.ISTFT, ctx: Context) -> tuple[nn.Module, bool]:
    ctx.refuse_real_input(layer)
    return PairISTFT(layer), not layer.return_complex


@register(pnn.ComplexFilterbank)
def _filterbank(layer: pnn.ComplexFilterbank, ctx: Context) -> tuple[nn.Module, bool]:
    return PairFilterbank(layer, ctx.real_input), False
