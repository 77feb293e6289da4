"""Complex pooling: max pooling by magnitude, average pooling on the real and imaginary parts.

Max pooling keeps, in each window, the complex value with the largest modulus ``|z|`` (its
phase comes along untouched); the gradient flows to that element only. Average pooling is
linear, so it is the real average pooling applied to ``Re z`` and ``Im z``.

Max pooling compares the squared modulus as computed in the input's real dtype,
``(Re z)^2 + (Im z)^2``; equal squares go to the first element in scan order, as in torch's
pooling. If a square in some window is not finite (NaN or Inf in the input, or moduli above
about ``1.8e19`` in ``complex64``, ``1.3e154`` in ``complex128``, whose squares overflow), the
whole call (each sample under :func:`torch.func.vmap`) compares ``|z|`` instead, so NaN
propagates and huge moduli stay ordered. Moduli so small that their squares underflow (below
about ``1e-19`` in ``complex64``, ``1e-154`` in ``complex128``) are compared coarsely, and as
equal once the squares are 0.

Windows that tile the plane (``stride == kernel_size``, no padding or dilation: the usual
``MaxPool2d(2)``) are pooled in eager mode by phasor's own elementwise path, about twice as
fast on CPU as torch's pooling kernel, which takes the other windows, and every window under
:func:`torch.compile` and :mod:`torch.func` transforms. All paths compare the same squares,
so they return the same winners and indices, near-ties included.
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
    common ``MaxPool2d(2)``); with ``ceil_mode`` the sizes must also divide evenly. The
    elementwise path also needs every in-plane offset exact in the input's real dtype.
    """
    kernel = _as_tuple(kernel_size, spatial)
    if _as_tuple(stride, spatial) != kernel:
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
    last_offset = sum((k - 1) * math.prod(sizes[d + 1 :]) for d, k in enumerate(kernel))
    if last_offset * torch.finfo(input.dtype.to_real()).eps >= 1:  # exact below 1 / eps
        return None
    return kernel


def _squared_modulus(
    re: torch.Tensor, im: torch.Tensor, out: torch.Tensor | None = None
) -> torch.Tensor:
    """``re * re + im * im`` (written into ``out`` if given): the key every max-pool path compares.

    Every path computes it with these two rounded ops, so the same element gets the same key
    on each and the paths pick the same winners, near-ties within an ulp of ``|z|`` included.
    """
    if out is None:
        return torch.addcmul(re * re, im, im)
    return torch.mul(re, re, out=out).addcmul_(im, im)


def _tile_argmax(input: torch.Tensor, kernel: tuple[int, ...]) -> torch.Tensor | None:
    """Flat plane index of the element of largest ``|z|^2`` in each window of a tiling ``kernel``.

    Ties go to the first element in scan order, as in torch's max pooling; returns ``None``
    when a window's maximum is NaN or infinite (the caller then compares ``|z|`` with torch's
    kernel, which propagates NaN and orders moduli whose squares overflow). Built from
    elementwise ops only: the squared moduli of the window's candidates are written one block
    after another, their maximum taken pairwise, and the first candidate equal to it found by a
    backward scan, each step a blend ``index + [candidate == best] (offset - index)``. torch's windowed pooling kernel and its
    ``max(dim)`` are several times slower on CPU. Eager only: the ``out=`` write and the
    finiteness test are neither ``vmap``- nor ``torch.compile``-safe.
    """
    spatial = len(kernel)
    sizes = input.shape[-spatial:]
    out = [n // k for n, k in zip(sizes, kernel, strict=True)]
    pairs = torch.view_as_real(input.resolve_conj())  # (..., *sizes, 2)
    tiles = pairs[(..., *(slice(0, o * k) for o, k in zip(out, kernel, strict=True)), slice(None))]
    for d in reversed(range(spatial)):  # -> (..., O_1, k_1, ..., O_n, k_n, 2)
        tiles = tiles.unflatten(-(2 * (spatial - d)), (out[d], kernel[d]))
    lead = tiles.dim() - 2 * spatial - 1
    window_axes = [lead + 2 * d + 1 for d in range(spatial)]
    out_axes = [lead + 2 * d for d in range(spatial)]
    tiles = tiles.permute([*window_axes, *range(lead), *out_axes, -1])
    # |z|^2 of every candidate, written window offset first: each candidate a contiguous block.
    re, im = tiles[..., 0], tiles[..., 1]
    candidates = _squared_modulus(re, im, re.new_empty(re.shape)).flatten(0, spatial - 1)
    row_strides = [math.prod(sizes[d + 1 :]) for d in range(spatial)]
    offsets = [
        sum(o * s for o, s in zip(position, row_strides, strict=True))
        for position in itertools.product(*(range(k) for k in kernel))
    ]
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


def _check_windows(sizes, kernel_size, stride, padding, dilation, ceil_mode) -> None:
    """Raise ``ValueError`` if some pooling window lies entirely in the padding.

    Only the shapes decide this (torch's kernel would return ``-inf`` there, which has no
    complex counterpart), so it is checked before pooling, outside any traced data path.
    Output sizes follow :class:`torch.nn.MaxPool1d`; without padding every window starts
    inside the input.
    """
    spatial = len(sizes)
    pads = _as_tuple(padding, spatial)
    if not any(pads):
        return
    for n, k, s, p, d in zip(
        sizes,
        _as_tuple(kernel_size, spatial),
        _as_tuple(stride, spatial),
        pads,
        _as_tuple(dilation, spatial),
        strict=True,
    ):
        span = n + 2 * p - d * (k - 1) - 1
        count = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (count - 1) * s >= n + p:
            count -= 1
        for o in range(count):
            if not any(0 <= o * s - p + j * d < n for j in range(k)):
                raise ValueError(
                    "a pooling window lies entirely in the padding; reduce padding or dilation "
                    f"(kernel_size={kernel_size}, padding={padding}, dilation={dilation})"
                )


def _max_pool(input, pool, spatial, kernel_size, stride, padding, dilation, ceil_mode):
    """Winners by the computed ``|z|^2`` (first of equals), or by ``|z|`` where a square in some
    window is not finite; see the module docstring. Gradients reach ``input`` through the
    gather only."""
    stride = kernel_size if stride is None else stride
    z = input.detach()

    def argmax(key: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return pool(key, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)

    pairs = torch.view_as_real(z.resolve_conj())
    re, im = pairs[..., 0], pairs[..., 1]
    if torch.compiler.is_compiling() or torch._C._functorch.is_functorch_wrapped_tensor(z):
        # torch.compile and torch.func transforms: no out= write and no data-dependent branch;
        # both keys are pooled and the choice between them is a select.
        squares, by_square = argmax(_squared_modulus(re, im))
        by_modulus = argmax(z.abs())[1]
        indices = torch.where(torch.isfinite(squares).all(), by_square, by_modulus)
    else:
        kernel = _tiles(input, spatial, kernel_size, stride, padding, dilation, ceil_mode)
        indices = None
        if kernel is not None:
            indices = _tile_argmax(z, kernel)
        else:
            squares, by_square = argmax(_squared_modulus(re, im))
            if bool(torch.isfinite(squares).all()):
                indices = by_square
        if indices is None:
            indices = argmax(z.abs())[1]
    # After torch's pooling has validated the arguments.
    _check_windows(input.shape[-spatial:], kernel_size, stride, padding, dilation, ceil_mode)
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
