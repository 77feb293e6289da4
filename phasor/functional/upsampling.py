"""Complex up-sampling: interpolation by part, or of magnitude and unwrapped phase.

Interpolation is linear in the values, so interpolating ``z`` is interpolating ``Re z`` and
``Im z`` separately with `torch.nn.functional.interpolate` (every mode of
`torch.nn.Upsample`). With ``polar=True`` the linear modes instead interpolate the
magnitude ``|z|`` and the phase ``arg z``, the phase unwrapped first along each interpolated
axis (as `numpy.unwrap` does): a phase ramp ``exp(i w x)`` with ``|w| < pi`` per sample
is up-sampled to the exact ramp, and the magnitude is a convex combination of input
magnitudes, so it never overshoots (interpolating by part shrinks ``|z|`` between samples of
different phase).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from phasor._validation import check_complex, check_ndim

__all__ = ["upsample"]

# Spatial rank each mode needs; "nearest", "nearest-exact" and "area" take 1 to 3.
_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_LINEAR_MODES = ("linear", "bilinear", "trilinear")


def _unwrap(phase: torch.Tensor, dim: int) -> torch.Tensor:
    """``phase`` unwrapped along ``dim`` as `numpy.unwrap` does (period ``2 pi``).

    Every jump between neighbours larger than ``pi`` is brought into ``[-pi, pi]`` by adding a
    multiple of ``2 pi`` to that element and all that follow. The corrections are piecewise
    constant in ``phase``, so they carry no gradient: the backward pass is the identity.
    """
    step = torch.diff(phase.detach(), dim=dim)
    wrapped = torch.remainder(step + math.pi, 2 * math.pi) - math.pi
    wrapped = torch.where((wrapped == -math.pi) & (step > 0), math.pi, wrapped)
    correction = torch.where(step.abs() < math.pi, 0.0, wrapped - step)
    correction = torch.cat([torch.zeros_like(phase.narrow(dim, 0, 1)), correction], dim)
    return phase + correction.cumsum(dim)


def _interpolate_axis(t: torch.Tensor, dim: int, size, scale, align_corners) -> torch.Tensor:
    """1-D linear interpolation of the real ``t`` along ``dim`` (a spatial dimension)."""
    moved = t.movedim(dim, -1)
    flat = moved.reshape(-1, 1, moved.shape[-1])
    out = F.interpolate(flat, size, scale, mode="linear", align_corners=align_corners)
    return out.reshape(*moved.shape[:-1], out.shape[-1]).movedim(-1, dim)


def _as_list(value, spatial: int, name: str) -> list:
    values = list(value) if isinstance(value, (tuple, list)) else [value] * spatial
    if len(values) != spatial:
        raise ValueError(f"{name} must be one number or {spatial}, got {value}")
    return values


def _polar_upsample(input, spatial, size, scale_factor, align_corners) -> torch.Tensor:
    """Magnitude and phase interpolated one spatial axis after another, the phase unwrapped
    along each axis just before; separable, so the magnitude is the multilinear mode's."""
    sizes = [None] * spatial if size is None else _as_list(size, spatial, "size")
    scales = (
        [None] * spatial
        if scale_factor is None
        else _as_list(scale_factor, spatial, "scale_factor")
    )
    magnitude, phase = input.abs(), input.angle()
    first = input.dim() - spatial
    for d in range(spatial):
        dim = first + d
        phase = _unwrap(phase, dim)
        magnitude, phase = (
            _interpolate_axis(t, dim, sizes[d], scales[d], align_corners)
            for t in (magnitude, phase)
        )
    return torch.polar(magnitude, phase)


def upsample(
    input: torch.Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    polar: bool = False,
) -> torch.Tensor:
    r"""Up-sample (or resample) a complex signal, image or volume.

    By part (``polar=False``; every mode of `torch.nn.functional.interpolate`:
    ``"nearest"``, ``"linear"``, ``"bilinear"``, ``"bicubic"``, ``"trilinear"``, ...):

    $$
    \text{out} = \operatorname{interp}(\Re x) + i\,\operatorname{interp}(\Im x)
    = \operatorname{interp}(x),
    $$

    since interpolation is a linear combination of the samples with real weights
    $w_j(t)$: $\text{out}(t) = \sum_j w_j(t)\, x_j$.

    Polar (``polar=True``, linear modes only): with $r = |x|$ and $\theta$ the
    phase unwrapped along each interpolated axis (jumps above $\pi$ between
    neighbours removed, as `numpy.unwrap`),

    $$
    \text{out}(t) = \Bigl(\sum_j w_j(t)\, r_j\Bigr)
    \exp\Bigl(i \sum_j w_j(t)\, \theta_j\Bigr),
    $$

    computed one axis after another (unwrap, then interpolate along it). A phase ramp
    $e^{i \omega x}$, $|\omega| < \pi$ per sample, becomes the exact ramp at the
    new positions, and $|\text{out}|$ lies between the smallest and largest input
    magnitude. At $x = 0$ the phase is taken as 0 (`torch.angle`), and the
    gradient there is 0: the polar form is not differentiable at 0.

    Arguments as in `torch.nn.functional.interpolate`; ``size`` or ``scale_factor``
    (one number or one per spatial dimension), ``align_corners`` for the linear and cubic
    modes. The mode sets the spatial rank: ``"linear"`` 1, ``"bilinear"``/``"bicubic"`` 2,
    ``"trilinear"`` 3; ``"nearest"`` takes any. Exactly one of ``size`` and
    ``scale_factor`` is given.

    Shape:
        - Input: $(N, C, L_{in})$, $(N, C, H_{in}, W_{in})$ or
          $(N, C, D_{in}, H_{in}, W_{in})$, complex.
        - Output: $(N, C, L_{out})$, ... with the sizes of
          `torch.nn.Upsample` (``size``, or ``floor(in * scale_factor)``), same dtype.
    """
    check_complex(input)
    check_ndim(input, (3, 4, 5), shape="(N, C, L), (N, C, H, W) or (N, C, D, H, W)")
    spatial = input.dim() - 2
    if _RANK.get(mode, spatial) != spatial:
        raise ValueError(
            f"mode {mode!r} expects a {_RANK[mode] + 2}-D input (N, C and {_RANK[mode]} "
            f"spatial dimensions), got shape {tuple(input.shape)}"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError("give exactly one of size and scale_factor")
    if not polar:
        args = (size, scale_factor, mode, align_corners)
        return torch.complex(F.interpolate(input.real, *args), F.interpolate(input.imag, *args))
    if mode not in _LINEAR_MODES:
        raise ValueError(
            f"polar=True interpolates magnitude and phase linearly: mode must be one of "
            f"{list(_LINEAR_MODES)}, got {mode!r} (nearest copies values, the same by part: "
            "use polar=False)"
        )
    return _polar_upsample(input, spatial, size, scale_factor, align_corners)
