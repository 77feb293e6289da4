"""Lowering of the pooling layers of [`phasor.nn.pooling`][phasor.nn.pooling]."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from phasor import nn as pnn
from phasor.functional.pooling import _check_windows, _spectral_output_size
from phasor.lowering._core import Context, pair, register


class PairMerged(nn.Module):
    """A per-channel real op on the pair tensor of a signal with ``spatial`` spatial axes.

    A batched pair $(N, 2, C, *S)$ has its pair axis merged with the channel axis,
    $(N, 2C, *S)$, a free view; an unbatched one $(C, 2, *S)$ already is a batch of $C$
    two-channel inputs and goes in as it is.
    """

    def __init__(self, op: nn.Module, spatial: int) -> None:
        super().__init__()
        self.op, self.spatial = op, spatial

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == self.spatial + 2:
            return self.op(x)
        return self.op(x.flatten(1, 2)).unflatten(1, (2, x.shape[2]))


def _squared_modulus(x: torch.Tensor) -> torch.Tensor:
    """$|z|^2$ of a pair tensor, rounded as phasor's max pooling rounds it (the same
    ``addcmul``), so both pick the same winners, near-ties included."""
    re, im = x[:, 0], x[:, 1]
    return torch.addcmul(re * re, im, im)


def _gather_winners(x: torch.Tensor, index: torch.Tensor, spatial: int) -> torch.Tensor:
    """Both parts of ``x`` at ``index``, the flat position of each winner in its plane (or
    volume), as torch's max pooling returns it for the squared modulus of ``x``."""
    flat_index = index.flatten(index.dim() - spatial).unsqueeze(1)
    flat_index = flat_index.expand(-1, 2, *(-1,) * (flat_index.dim() - 2))
    winners = x.flatten(x.dim() - spatial).gather(-1, flat_index)
    return winners.unflatten(-1, index.shape[-spatial:])


_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_ADAPTIVE_MAX_POOL = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


class PairMaxPool(nn.Module):
    """Lowered [`phasor.nn.MaxPool1d`][phasor.nn.pooling.MaxPool1d] / ``2d`` / ``3d``: the
    element of largest $|z|$ in each window, by torch's max pooling of $|z|^2$; with
    ``return_indices`` also the (int64) flat position of each winner, as phasor returns it."""

    def __init__(self, layer, spatial: int) -> None:
        super().__init__()
        self.spatial = spatial
        self.pool = _MAX_POOL[spatial]
        self.args = (layer.kernel_size, layer.stride, layer.padding, layer.dilation)
        self.ceil_mode, self.return_indices = layer.ceil_mode, layer.return_indices

    def forward(self, x: torch.Tensor):
        key = _squared_modulus(x).detach()
        _, index = self.pool(key, *self.args, ceil_mode=self.ceil_mode, return_indices=True)
        _check_windows(key.shape[-self.spatial :], *self.args, self.ceil_mode)
        out = _gather_winners(x, index, self.spatial)
        return (out, index) if self.return_indices else out


class PairAdaptiveMaxPool(nn.Module):
    """Lowered [`phasor.nn.AdaptiveMaxPool1d`][phasor.nn.pooling.AdaptiveMaxPool1d] /
    ``2d`` / ``3d``: the element of largest $|z|$ in each bin of torch's adaptive max
    pooling; with ``return_indices`` also the (int64) flat position of each winner."""

    def __init__(self, layer, spatial: int) -> None:
        super().__init__()
        self.spatial = spatial
        self.pool = _ADAPTIVE_MAX_POOL[spatial]
        self.output_size, self.return_indices = layer.output_size, layer.return_indices

    def forward(self, x: torch.Tensor):
        key = _squared_modulus(x).detach()
        _, index = self.pool(key, self.output_size, return_indices=True)
        out = _gather_winners(x, index, self.spatial)
        return (out, index) if self.return_indices else out


def spectral_crop_matrix(
    size_in: int, size_out: int, dtype: torch.dtype, device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Real and imaginary parts of the $(L_{out}, L_{in})$ matrix of 1-D spectral pooling.

    The DFT $X = F x / L_{in}$ with $F_{km} = e^{-2\pi i k m / L_{in}}$, the crop of $X$ to
    the frequency pairs $(q, k)$ that phasor keeps (output bin $q$, input frequency $k$;
    for even $L_{out}$ the input's $+L_{out}/2$ joins the output's Nyquist bin), and the
    inverse DFT $E_{jq} = e^{2\pi i q j / L_{out}}$ make one matrix

    $$
    M = \frac{1}{L_{in}}\, E_{:, q}\, F_{k, :}
      = \frac{1}{L_{in}} \bigl[(C_E C_F + S_E S_F) + i\,(S_E C_F - C_E S_F)\bigr],
    $$

    with $C, S$ the cosine and sine matrices of the two transforms (angles reduced modulo
    the period in integers, built in float64 and cast to ``dtype``).
    """
    keep_low = (size_out + 1) // 2
    high = size_out // 2
    out_bins = list(range(keep_low)) + list(range(keep_low, keep_low + high))
    in_freqs = list(range(keep_low)) + list(range(size_in - high, size_in))
    if size_out % 2 == 0:
        out_bins.append(size_out // 2)
        in_freqs.append(size_out // 2)
    q = torch.tensor(out_bins, dtype=torch.int64, device=device)
    k = torch.tensor(in_freqs, dtype=torch.int64, device=device)
    j = torch.arange(size_out, dtype=torch.int64, device=device)
    m = torch.arange(size_in, dtype=torch.int64, device=device)
    inverse = (j[:, None] * q[None, :] % size_out).double() * (2 * math.pi / size_out)
    forward = (k[:, None] * m[None, :] % size_in).double() * (2 * math.pi / size_in)
    cos_e, sin_e, cos_f, sin_f = inverse.cos(), inverse.sin(), forward.cos(), forward.sin()
    real = (cos_e @ cos_f + sin_e @ sin_f) / size_in
    imag = (sin_e @ cos_f - cos_e @ sin_f) / size_in
    return real.to(dtype), imag.to(dtype)


class PairSpectralPool(nn.Module):
    """Lowered [`phasor.nn.SpectralPool1d`][phasor.nn.pooling.SpectralPool1d] / ``2d``: along
    each pooled axis, the complex matrix of `spectral_crop_matrix` applied as four real
    matmuls (no FFT); an axis kept at its size is left as it is, as phasor does."""

    def __init__(self, layer, spatial: int) -> None:
        super().__init__()
        self.spatial, self.output_size = spatial, layer.output_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sizes = x.shape[-self.spatial :]
        wanted = _spectral_output_size(sizes, self.output_size, self.spatial)
        re, im = x[:, 0], x[:, 1]
        for axis, (n, o) in enumerate(zip(sizes, wanted, strict=True)):
            if o == n:
                continue
            real, imag = spectral_crop_matrix(n, o, x.dtype, x.device)
            if axis == self.spatial - 1:  # the last axis: (..., n) @ (n, o)
                real, imag = real.T, imag.T
                re, im = re @ real - im @ imag, re @ imag + im @ real
            else:  # the height axis of 2-D pooling: (o, n) @ (..., n, W)
                re, im = real @ re - imag @ im, imag @ re + real @ im
        return pair(re, im)


def _merged(make, spatial: int):
    def rule(layer, ctx: Context) -> tuple[nn.Module, bool]:
        ctx.refuse_real_input(layer)
        return PairMerged(make(layer), spatial), False

    return rule


def _pair_module(cls, spatial: int):
    def rule(layer, ctx: Context) -> tuple[nn.Module, bool]:
        ctx.refuse_real_input(layer)
        return cls(layer, spatial), False

    return rule


def _max_pool(spatial: int):
    return _pair_module(PairMaxPool, spatial)


def _avg_pool(cls):
    return lambda m: cls(
        m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad, m.divisor_override
    )


register(pnn.MaxPool1d)(_max_pool(1))
register(pnn.MaxPool2d)(_max_pool(2))
register(pnn.MaxPool3d)(_max_pool(3))
register(pnn.AdaptiveMaxPool1d)(_pair_module(PairAdaptiveMaxPool, 1))
register(pnn.AdaptiveMaxPool2d)(_pair_module(PairAdaptiveMaxPool, 2))
register(pnn.AdaptiveMaxPool3d)(_pair_module(PairAdaptiveMaxPool, 3))
register(pnn.SpectralPool1d)(_pair_module(PairSpectralPool, 1))
register(pnn.SpectralPool2d)(_pair_module(PairSpectralPool, 2))
register(pnn.AvgPool1d)(
    _merged(
        lambda m: nn.AvgPool1d(
            m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad
        ),
        1,
    )
)
register(pnn.AvgPool2d)(_merged(_avg_pool(nn.AvgPool2d), 2))
register(pnn.AvgPool3d)(_merged(_avg_pool(nn.AvgPool3d), 3))
register(pnn.AdaptiveAvgPool1d)(_merged(lambda m: nn.AdaptiveAvgPool1d(m.output_size), 1))
register(pnn.AdaptiveAvgPool2d)(_merged(lambda m: nn.AdaptiveAvgPool2d(m.output_size), 2))
register(pnn.AdaptiveAvgPool3d)(_merged(lambda m: nn.AdaptiveAvgPool3d(m.output_size), 3))
