"""Complex pooling: max pooling by magnitude, average pooling on the real and imaginary parts.

Max pooling keeps, in each window, the complex value with the largest modulus ``|z|`` (its
phase comes along untouched); the gradient flows to that element only. Average pooling is
linear, so it is the real average pooling applied to ``Re z`` and ``Im z``.

Windows that tile the plane (``stride == kernel_size``, no padding or dilation: the usual
``MaxPool2d(2)``) are pooled by phasor's own elementwise path, which compares ``|z|^2`` and
returns the same winners as the general path (torch's pooling kernel on ``|z|``) about twice as
fast on CPU. Equal moduli go to the first element in scan order on both paths; on the tiling
path, moduli so small that their squares underflow (below about ``1e-19`` in ``complex64``)
count as equal too.
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F

from phasor._validation import check_complex, check_ndim

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "max_pool1d",
    "max_pool2d",
]

_SHAPE_1D = "(N, C, L) or unbatched (C, L)"
_SHAPE_2D = "(N, C, H, W) or unbatched (C, H, W)"


def _gather_by_index(input: torch.Tensor, indices: torch.Tensor, spatial: int) -> torch.Tensor:
    """Pick ``input`` at ``indices`` (flat positions in each plane, as torch's max_pool returns).

    Every leading (batch, channel) plane is indexed separately: both tensors are flattened over
    their last ``spatial`` dimensions only, so an index never reaches into another plane.
    """
    flat_input = input.flatten(start_dim=input.dim() - spatial)
    flat_indices = indices.flatten(start_dim=indices.dim() - spatial)
    return flat_input.gather(-1, flat_indices).view(indices.shape)


def _as_tuple(value, n: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _tiles(input, spatial, kernel_size, stride, padding, dilation, ceil_mode):
    """The kernel of non-overlapping windows that tile the plane, or ``None`` for other pools.

    Windows tile the plane when ``stride == kernel_size`` with no padding or dilation (the
    common ``MaxPool2d(2)``); with ``ceil_mode`` the sizes must also divide evenly.
    """
    kernel = _as_tuple(kernel_size, spatial)
    if stride is not None and _as_tuple(stride, spatial) != kernel:
        return None
    if any(_as_tuple(padding, spatial)) or any(d != 1 for d in _as_tuple(dilation, spatial)):
        return None
    sizes = input.shape[-spatial:]
    if len(kernel) != spatial or not all(
        isinstance(k, int) and 0 < k <= n for k, n in zip(kernel, sizes, strict=True)
    ):
        return None
    if ceil_mode and any(n % k for k, n in zip(kernel, sizes, strict=True)):
        return None
    return kernel


def _tile_argmax(input: torch.Tensor, kernel: tuple[int, ...]) -> torch.Tensor | None:
    """Flat plane index of the element of largest modulus in each window of a tiling ``kernel``.

    Ties go to the first element in scan order, as in torch's max pooling; returns ``None``
    when a window's maximum is NaN or infinite, or an offset is too large to be exact in the
    input's real dtype (the caller then takes torch's path, which propagates NaN and compares
    moduli whose squares overflow). Built from elementwise ops only: the squared moduli of the window's candidates are written
    one block after another, their maximum taken pairwise, and the first candidate equal to it
    found by a backward scan, each step a blend ``index + [candidate == best] (offset - index)``.
    torch's windowed pooling kernel and its ``max(dim)`` are several times slower on CPU.
    """
    spatial = len(kernel)
    sizes = input.shape[-spatial:]
    out = [n // k for n, k in zip(sizes, kernel, strict=True)]
    pairs = torch.view_as_real(input.detach().resolve_conj())  # (..., *sizes, 2)
    tiles = pairs[(..., *(slice(0, o * k) for o, k in zip(out, kernel, strict=True)), slice(None))]
    for d in reversed(range(spatial)):  # -> (..., O_1, k_1, ..., O_n, k_n, 2)
        tiles = tiles.unflatten(-(2 * (spatial - d)), (out[d], kernel[d]))
    lead = tiles.dim() - 2 * spatial - 1
    window_axes = [lead + 2 * d + 1 for d in range(spatial)]
    out_axes = [lead + 2 * d for d in range(spatial)]
    tiles = tiles.permute([*window_axes, *range(lead), *out_axes, -1])
    # |z|^2 of every candidate, written window offset first: each candidate a contiguous block.
    re, im = tiles[..., 0], tiles[..., 1]
    candidates = torch.mul(re, re, out=re.new_empty(re.shape)).addcmul_(im, im)
    candidates = candidates.flatten(0, spatial - 1)
    row_strides = [math.prod(sizes[d + 1 :]) for d in range(spatial)]
    offsets = [
        sum(o * s for o, s in zip(position, row_strides, strict=True))
        for position in itertools.product(*(range(k) for k in kernel))
    ]
    if offsets[-1] * torch.finfo(candidates.dtype).eps >= 1:  # integers exact below 1 / eps
        return None
    best = candidates[0]
    for value in candidates[1:]:
        best = torch.maximum(best, value)
    if not bool(torch.isfinite(best).all()):
        return None
    index = torch.full_like(best, offsets[-1])
    for k in range(len(offsets) - 2, -1, -1):
        hit = (candidates[k] == best).to(best.dtype)
        index = index.lerp(best.new_tensor(offsets[k]), hit)
    index = index.long()
    for d in range(spatial):  # plus the flat position of each window's first element
        start = torch.arange(out[d], device=input.device) * (kernel[d] * row_strides[d])
        index += start.reshape(-1, *([1] * (spatial - d - 1)))
    return index


def _max_pool(input, pool, spatial, kernel_size, stride, padding, dilation, ceil_mode):
    # The magnitude only chooses the winners; gradients reach ``input`` through the gather.
    kernel = _tiles(input, spatial, kernel_size, stride, padding, dilation, ceil_mode)
    if kernel is not None:
        indices = _tile_argmax(input, kernel)
        if indices is not None:
            return _gather_by_index(input, indices, spatial), indices
    magnitude = input.detach().abs()
    pooled, indices = pool(
        magnitude,
        kernel_size,
        stride=kernel_size if stride is None else stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
        return_indices=True,
    )
    # Magnitudes are >= 0 (or NaN), so -inf marks a window that lies entirely in the padding
    # (possible with dilation); torch returns -inf there, which has no complex counterpart.
    if bool(torch.isneginf(pooled).any()):
        raise ValueError(
            "a pooling window lies entirely in the padding; reduce padding or dilation "
            f"(kernel_size={kernel_size}, padding={padding}, dilation={dilation})"
        )
    return _gather_by_index(input, indices, spatial), indices


def max_pool1d(
    input: torch.Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    r"""1-D max pooling by magnitude.

    .. math::
        \text{out}(N_i, C_j, l) = x(N_i, C_j, m^\ast), \quad
        m^\ast = \operatorname*{arg\,max}_{m \in \text{window}(l)} |x(N_i, C_j, m)|

    Arguments as in :func:`torch.nn.functional.max_pool1d`; ``stride=None`` means
    ``kernel_size``. Padding never wins (it counts as ``-inf``); a window made only of
    padding raises ``ValueError``. With ``return_indices=True``
    also returns the position of each winner along ``L`` (as torch does).

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`, complex.
        - Output: :math:`(N, C, L_{out})` or :math:`(C, L_{out})`, same dtype, with
          :math:`L_{out}` as in :class:`torch.nn.MaxPool1d`.
    """
    check_complex(input)
    check_ndim(input, (2, 3), shape=_SHAPE_1D)
    out, indices = _max_pool(
        input, F.max_pool1d, 1, kernel_size, stride, padding, dilation, ceil_mode
    )
    return (out, indices) if return_indices else out


def max_pool2d(
    input: torch.Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    r"""2-D max pooling by magnitude.

    .. math::
        \text{out}(N_i, C_j, h, w) = x(N_i, C_j, p^\ast), \quad
        p^\ast = \operatorname*{arg\,max}_{p \in \text{window}(h, w)} |x(N_i, C_j, p)|

    Arguments as in :func:`torch.nn.functional.max_pool2d`; ``stride=None`` means
    ``kernel_size``. Padding never wins (it counts as ``-inf``); a window made only of
    padding raises ``ValueError``. With ``return_indices=True``
    also returns the flat position ``row * W_in + col`` of each winner in its ``(H, W)`` plane
    (as torch does).

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`, complex.
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(C, H_{out}, W_{out})`, same
          dtype, with :math:`H_{out}, W_{out}` as in :class:`torch.nn.MaxPool2d`.
    """
    check_complex(input)
    check_ndim(input, (3, 4), shape=_SHAPE_2D)
    out, indices = _max_pool(
        input, F.max_pool2d, 2, kernel_size, stride, padding, dilation, ceil_mode
    )
    return (out, indices) if return_indices else out


def _split(pool, input: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return torch.complex(pool(input.real, *args, **kwargs), pool(input.imag, *args, **kwargs))


def avg_pool1d(
    input: torch.Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> torch.Tensor:
    r"""1-D average pooling of the real and imaginary parts.

    .. math::
        \text{out} = \operatorname{avgpool}(\Re x) + i\,\operatorname{avgpool}(\Im x)

    Arguments as in :func:`torch.nn.functional.avg_pool1d`.

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`, complex.
        - Output: :math:`(N, C, L_{out})` or :math:`(C, L_{out})`, same dtype.
    """
    check_complex(input)
    check_ndim(input, (2, 3), shape=_SHAPE_1D)
    return _split(
        F.avg_pool1d,
        input,
        kernel_size,
        stride=stride,
        padding=padding,
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
    )


def avg_pool2d(
    input: torch.Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> torch.Tensor:
    r"""2-D average pooling of the real and imaginary parts.

    .. math::
        \text{out} = \operatorname{avgpool}(\Re x) + i\,\operatorname{avgpool}(\Im x)

    Arguments as in :func:`torch.nn.functional.avg_pool2d`.

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`, complex.
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(C, H_{out}, W_{out})`, same dtype.
    """
    check_complex(input)
    check_ndim(input, (3, 4), shape=_SHAPE_2D)
    return _split(
        F.avg_pool2d,
        input,
        kernel_size,
        stride=stride,
        padding=padding,
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
        divisor_override=divisor_override,
    )


def adaptive_avg_pool1d(input: torch.Tensor, output_size) -> torch.Tensor:
    r"""1-D adaptive average pooling of the real and imaginary parts.

    .. math::
        \text{out} = \operatorname{aap}(\Re x) + i\,\operatorname{aap}(\Im x)

    where :math:`\operatorname{aap}` is torch's adaptive average pooling.

    Shape:
        - Input: :math:`(N, C, L_{in})` or :math:`(C, L_{in})`, complex.
        - Output: :math:`(N, C, L_{out})` or :math:`(C, L_{out})` with
          :math:`L_{out} = \text{output\_size}`, same dtype.
    """
    check_complex(input)
    check_ndim(input, (2, 3), shape=_SHAPE_1D)
    return _split(F.adaptive_avg_pool1d, input, output_size)


def adaptive_avg_pool2d(input: torch.Tensor, output_size) -> torch.Tensor:
    r"""2-D adaptive average pooling of the real and imaginary parts.

    .. math::
        \text{out} = \operatorname{aap}(\Re x) + i\,\operatorname{aap}(\Im x)

    where :math:`\operatorname{aap}` is torch's adaptive average pooling.
    ``output_size`` is an int or a pair; ``None`` in a pair keeps that input size.

    Shape:
        - Input: :math:`(N, C, H_{in}, W_{in})` or :math:`(C, H_{in}, W_{in})`, complex.
        - Output: :math:`(N, C, H_{out}, W_{out})` or :math:`(C, H_{out}, W_{out})` with
          :math:`(H_{out}, W_{out}) = \text{output\_size}`, same dtype.
    """
    check_complex(input)
    check_ndim(input, (3, 4), shape=_SHAPE_2D)
    return _split(F.adaptive_avg_pool2d, input, output_size)
