"""Lowering of [`phasor.nn.upsampling`][phasor.nn.upsampling]."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from phasor import nn as pnn
from phasor.functional.upsampling import _LINEAR_MODES, _RANK, _as_list
from phasor.lowering._core import Context, modulus, pair, register


def _phase(x: torch.Tensor) -> torch.Tensor:
    r"""$\arg z$ of a pair tensor, as ``torch.angle``; ``atan2``'s gradient at 0 is 0, as that
    of ``torch.angle`` of a complex tensor."""
    return torch.atan2(x[:, 1], x[:, 0])


def _unwrap(phase: torch.Tensor, dim: int) -> torch.Tensor:
    """``phase`` unwrapped along ``dim`` as phasor's polar up-sampling unwraps it (as
    `numpy.unwrap`), with neighbour differences by slicing (ONNX has no ``diff``); the
    corrections carry no gradient."""
    detached = phase.detach()
    count = phase.shape[dim] - 1
    step = detached.narrow(dim, 1, count) - detached.narrow(dim, 0, count)
    wrapped = torch.remainder(step + math.pi, 2 * math.pi) - math.pi
    wrapped = torch.where((wrapped == -math.pi) & (step > 0), math.pi, wrapped)
    correction = torch.where(step.abs() < math.pi, 0.0, wrapped - step)
    # The first element needs no correction; no zeros tensor is built for it, whose shape the
    # ONNX exporter would freeze.
    rest = phase.narrow(dim, 1, count) + correction.cumsum(dim)
    return torch.cat([phase.narrow(dim, 0, 1), rest], dim)


class PairUpsample(nn.Module):
    r"""Lowered [`phasor.nn.Upsample`][phasor.nn.upsampling.Upsample].

    By part: `torch.nn.functional.interpolate` of the pair $(N, 2, C, *S)$ with its pair axis
    merged into the channels (every mode interpolates each channel on its own). Polar: $|z|$
    and the phase (`_phase`) interpolated one axis after another, the phase unwrapped along
    each axis first, as phasor does, then $|z| (\cos\theta, \sin\theta)$.
    """

    def __init__(self, layer: pnn.Upsample) -> None:
        super().__init__()
        self.size, self.scale_factor = layer.size, layer.scale_factor
        self.mode, self.align_corners, self.polar = layer.mode, layer.align_corners, layer.polar

    def _check(self, x: torch.Tensor) -> int:
        """The spatial rank of the pair ``x``, after phasor's checks of its arguments."""
        if x.dim() not in (4, 5, 6):
            shape = (x.shape[0], *x.shape[2:])
            raise ValueError(
                "input must be 3-D or 4-D or 5-D (N, C, L), (N, C, H, W) or (N, C, D, H, W), "
                f"got shape {shape} (pair shape {tuple(x.shape)})"
            )
        spatial = x.dim() - 3
        rank = _RANK.get(self.mode, spatial)
        if rank != spatial:
            raise ValueError(
                f"mode {self.mode!r} expects a {rank + 2}-D input (N, C and {rank} spatial "
                f"dimensions), got pair shape {tuple(x.shape)}"
            )
        if (self.size is None) == (self.scale_factor is None):
            raise ValueError("give exactly one of size and scale_factor")
        if self.polar and self.mode not in _LINEAR_MODES:
            raise ValueError(
                f"polar=True interpolates magnitude and phase linearly: mode must be one of "
                f"{list(_LINEAR_MODES)}, got {self.mode!r} (nearest copies values, the same by "
                "part: use polar=False)"
            )
        return spatial

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial = self._check(x)
        if not self.polar:
            merged = x.flatten(1, 2)
            out = F.interpolate(merged, self.size, self.scale_factor, self.mode, self.align_corners)
            return out.unflatten(1, (2, x.shape[2]))
        sizes = [None] * spatial if self.size is None else _as_list(self.size, spatial, "size")
        scales = (
            [None] * spatial
            if self.scale_factor is None
            else _as_list(self.scale_factor, spatial, "scale_factor")
        )
        magnitude, phase = modulus(x), _phase(x)
        for d in range(spatial):  # along axis d only: the other axes keep size and scale 1
            phase = _unwrap(phase, 2 + d)
            if self.size is None:
                along = dict(scale_factor=[scales[d] if a == d else 1.0 for a in range(spatial)])
            else:
                kept = magnitude.shape[2:]
                along = dict(size=[sizes[d] if a == d else kept[a] for a in range(spatial)])
            magnitude, phase = (
                F.interpolate(t, mode=self.mode, align_corners=self.align_corners, **along)
                for t in (magnitude, phase)
            )
        return pair(magnitude * torch.cos(phase), magnitude * torch.sin(phase))


@register(pnn.Upsample)
def _upsample(layer: pnn.Upsample, ctx: Context) -> tuple[nn.Module, bool]:
    ctx.refuse_real_input(layer)
    return PairUpsample(layer), False
