"""Complex pooling: max pooling by magnitude, average pooling on the real and imaginary parts,
spectral pooling.

Max pooling (windowed or adaptive) keeps, in each window, the complex value with the largest
modulus ``|z|`` (its phase comes along untouched); the gradient flows to that element only.
Average pooling is linear, so it is the real average pooling applied to ``Re z`` and ``Im z``.
Spectral pooling (Rippel et al. 2015) keeps the lowest frequencies of the spatial DFT.

Max pooling compares the squared modulus as computed in the input's real dtype,
``(Re z)^2 + (Im z)^2``; equal squares go to the first element in scan order, as in torch's
pooling. If a square in some window is not finite (NaN or Inf in the input, or moduli above
about ``1.8e19`` in ``complex64``, ``1.3e154`` in ``complex128``, whose squares overflow), the
whole call (each sample under `torch.func.vmap`) compares ``|z|`` instead, so NaN
propagates and huge moduli stay ordered. Moduli so small that their squares underflow (below
about ``1e-19`` in ``complex64``, ``1e-154`` in ``complex128``) are compared coarsely, and as
equal once the squares are 0.

Windows that tile the plane in 1-D and 2-D (``stride == kernel_size``, no padding or
dilation: the usual ``MaxPool2d(2)``) are pooled in eager mode by phasor's own elementwise
path, about twice as fast on CPU as torch's pooling kernel, which takes the other windows,
every 3-D and adaptive window, and every window under `torch.compile` and
`torch.func` transforms. All paths compare the same squares, so they return the same
winners and indices, near-ties included.
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
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "spectral_pool1d",
    "spectral_pool2d",
]

_SHAPE_1D = "(N, C, L) or unbatched (C, L)"
_SHAPE_2D = "(N, C, H, W) or unbatched (C, H, W)"
_SHAPE_3D = "(N, C, D, H, W) or unbatched (C, D, H, W)"


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
    Output sizes follow `torch.nn.MaxPool1d`; without padding every window starts
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


def _winners(input: torch.Tensor, argmax, kernel) -> torch.Tensor:
    """Winners by the computed ``|z|^2`` (first of equals), or by ``|z|`` where a square in some
    window is not finite; see the module docstring. ``argmax(key)`` is torch's real pooling
    with indices; ``kernel`` the tiling kernel of `_tiles` or ``None``. Returns the
    flat plane index of each winner, for `_gather_by_index`."""
    z = input.detach()
    pairs = torch.view_as_real(z.resolve_conj())
    re, im = pairs[..., 0], pairs[..., 1]
    if torch.compiler.is_compiling() or torch._C._functorch.is_functorch_wrapped_tensor(z):
        # torch.compile and torch.func transforms: no out= write and no data-dependent branch;
        # both keys are pooled and the choice between them is a select.
        squares, by_square = argmax(_squared_modulus(re, im))
        by_modulus = argmax(z.abs())[1]
        indices = torch.where(torch.isfinite(squares).all(), by_square, by_modulus)
    else:
        indices = None
        if kernel is not None:
            indices = _tile_argmax(z, kernel)
        else:
            squares, by_square = argmax(_squared_modulus(re, im))
            if bool(torch.isfinite(squares).all()):
                indices = by_square
        if indices is None:
            indices = argmax(z.abs())[1]
    return indices


def _max_pool(input, pool, spatial, kernel_size, stride, padding, dilation, ceil_mode):
    """Windowed max pooling by magnitude with torch's real ``pool`` for the general windows.
    Gradients reach ``input`` through the gather only."""
    stride = kernel_size if stride is None else stride

    def argmax(key: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return pool(key, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)

    # 3-D tiles take torch's kernel: there the elementwise path measured 1.6-1.8x slower
    # (kernel 2 on (4, 8, 16, 32, 32) complex64, one thread).
    kernel = None
    if spatial < 3:
        kernel = _tiles(input, spatial, kernel_size, stride, padding, dilation, ceil_mode)
    indices = _winners(input, argmax, kernel)
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

    $$
    \text{out}(N_i, C_j, l) = x(N_i, C_j, m^\ast), \quad
    m^\ast = \operatorname*{arg\,max}_{m \in \text{window}(l)} |x(N_i, C_j, m)|
    $$

    Arguments as in `torch.nn.functional.max_pool1d`; ``stride=None`` means
    ``kernel_size``. Padding never wins (it counts as ``-inf``); a window made only of
    padding raises ``ValueError``. With ``return_indices=True``
    also returns the position of each winner along ``L`` (as torch does).

    Shape:
        - Input: $(N, C, L_{in})$ or $(C, L_{in})$, complex.
        - Output: $(N, C, L_{out})$ or $(C, L_{out})$, same dtype, with
          $L_{out}$ as in `torch.nn.MaxPool1d`.
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

    $$
    \text{out}(N_i, C_j, h, w) = x(N_i, C_j, p^\ast), \quad
    p^\ast = \operatorname*{arg\,max}_{p \in \text{window}(h, w)} |x(N_i, C_j, p)|
    $$

    Arguments as in `torch.nn.functional.max_pool2d`; ``stride=None`` means
    ``kernel_size``. Padding never wins (it counts as ``-inf``); a window made only of
    padding raises ``ValueError``. With ``return_indices=True``
    also returns the flat position ``row * W_in + col`` of each winner in its ``(H, W)`` plane
    (as torch does).

    Shape:
        - Input: $(N, C, H_{in}, W_{in})$ or $(C, H_{in}, W_{in})$, complex.
        - Output: $(N, C, H_{out}, W_{out})$ or $(C, H_{out}, W_{out})$, same
          dtype, with $H_{out}, W_{out}$ as in `torch.nn.MaxPool2d`.
    """
    check_complex(input)
    check_ndim(input, (3, 4), shape=_SHAPE_2D)
    out, indices = _max_pool(
        input, F.max_pool2d, 2, kernel_size, stride, padding, dilation, ceil_mode
    )
    return (out, indices) if return_indices else out


def max_pool3d(
    input: torch.Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    r"""3-D max pooling by magnitude.

    $$
    \text{out}(N_i, C_j, d, h, w) = x(N_i, C_j, p^\ast), \quad
    p^\ast = \operatorname*{arg\,max}_{p \in \text{window}(d, h, w)} |x(N_i, C_j, p)|
    $$

    Arguments as in `torch.nn.functional.max_pool3d`; ``stride=None`` means
    ``kernel_size``. Ties, NaN and padding as in `max_pool2d`. With
    ``return_indices=True`` also returns the flat position ``(d * H_in + h) * W_in + w`` of
    each winner in its ``(D, H, W)`` volume (as torch does).

    Shape:
        - Input: $(N, C, D_{in}, H_{in}, W_{in})$ or $(C, D_{in}, H_{in}, W_{in})$,
          complex.
        - Output: $(N, C, D_{out}, H_{out}, W_{out})$ or
          $(C, D_{out}, H_{out}, W_{out})$, same dtype, with the sizes as in
          `torch.nn.MaxPool3d`.
    """
    check_complex(input)
    check_ndim(input, (4, 5), shape=_SHAPE_3D)
    out, indices = _max_pool(
        input, F.max_pool3d, 3, kernel_size, stride, padding, dilation, ceil_mode
    )
    return (out, indices) if return_indices else out


def _adaptive_max_pool(input, pool, spatial, output_size, return_indices):
    def argmax(key: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return pool(key, output_size, return_indices=True)

    indices = _winners(input, argmax, None)
    out = _gather_by_index(input, indices, spatial)
    return (out, indices) if return_indices else out


def adaptive_max_pool1d(input: torch.Tensor, output_size, return_indices: bool = False):
    r"""1-D adaptive max pooling by magnitude.

    $$
    \text{out}(N_i, C_j, l) = x(N_i, C_j, m^\ast), \quad
    m^\ast = \operatorname*{arg\,max}_{\lfloor l L_{in} / L_{out} \rfloor \le m <
    \lceil (l + 1) L_{in} / L_{out} \rceil} |x(N_i, C_j, m)|
    $$

    The bins are those of `torch.nn.functional.adaptive_max_pool1d`; ties and NaN as in
    `max_pool1d`. With ``return_indices=True`` also returns the position of each winner
    along ``L``.

    Shape:
        - Input: $(N, C, L_{in})$ or $(C, L_{in})$, complex.
        - Output: $(N, C, L_{out})$ or $(C, L_{out})$ with
          $L_{out} = \text{output\_size}$, same dtype.
    """
    check_complex(input)
    check_ndim(input, (2, 3), shape=_SHAPE_1D)
    return _adaptive_max_pool(input, F.adaptive_max_pool1d, 1, output_size, return_indices)


def adaptive_max_pool2d(input: torch.Tensor, output_size, return_indices: bool = False):
    r"""2-D adaptive max pooling by magnitude.

    $$
    \text{out}(N_i, C_j, h, w) = x(N_i, C_j, p^\ast), \quad
    p^\ast = \operatorname*{arg\,max}_{p \in \text{bin}(h) \times \text{bin}(w)}
    |x(N_i, C_j, p)|
    $$

    with the bins $\text{bin}(h) = [\lfloor h H_{in} / H_{out} \rfloor,
    \lceil (h + 1) H_{in} / H_{out} \rceil)$ of
    `torch.nn.functional.adaptive_max_pool2d` (likewise along ``W``). ``output_size`` is
    an int or a pair; ``None`` in a pair keeps that input size. Ties and NaN as in
    `max_pool2d`; with ``return_indices=True`` also returns the flat position
    ``row * W_in + col`` of each winner.

    Shape:
        - Input: $(N, C, H_{in}, W_{in})$ or $(C, H_{in}, W_{in})$, complex.
        - Output: $(N, C, H_{out}, W_{out})$ or $(C, H_{out}, W_{out})$ with
          $(H_{out}, W_{out}) = \text{output\_size}$, same dtype.
    """
    check_complex(input)
    check_ndim(input, (3, 4), shape=_SHAPE_2D)
    return _adaptive_max_pool(input, F.adaptive_max_pool2d, 2, output_size, return_indices)


def adaptive_max_pool3d(input: torch.Tensor, output_size, return_indices: bool = False):
    r"""3-D adaptive max pooling by magnitude.

    $$
    \text{out}(N_i, C_j, d, h, w) = x(N_i, C_j, p^\ast), \quad
    p^\ast = \operatorname*{arg\,max}_{p \in \text{bin}(d) \times \text{bin}(h)
    \times \text{bin}(w)} |x(N_i, C_j, p)|
    $$

    with the bins of `torch.nn.functional.adaptive_max_pool3d` (as in
    `adaptive_max_pool2d`). ``output_size`` is an int or a triple; ``None`` keeps that
    input size. With ``return_indices=True`` also returns the flat position
    ``(d * H_in + h) * W_in + w`` of each winner.

    Shape:
        - Input: $(N, C, D_{in}, H_{in}, W_{in})$ or $(C, D_{in}, H_{in}, W_{in})$,
          complex.
        - Output: $(N, C, D_{out}, H_{out}, W_{out})$ or
          $(C, D_{out}, H_{out}, W_{out})$ with
          $(D_{out}, H_{out}, W_{out}) = \text{output\_size}$, same dtype.
    """
    check_complex(input)
    check_ndim(input, (4, 5), shape=_SHAPE_3D)
    return _adaptive_max_pool(input, F.adaptive_max_pool3d, 3, output_size, return_indices)


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

    $$
    \text{out} = \operatorname{avgpool}(\Re x) + i\,\operatorname{avgpool}(\Im x)
    $$

    Arguments as in `torch.nn.functional.avg_pool1d`.

    Shape:
        - Input: $(N, C, L_{in})$ or $(C, L_{in})$, complex.
        - Output: $(N, C, L_{out})$ or $(C, L_{out})$, same dtype.
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

    $$
    \text{out} = \operatorname{avgpool}(\Re x) + i\,\operatorname{avgpool}(\Im x)
    $$

    Arguments as in `torch.nn.functional.avg_pool2d`.

    Shape:
        - Input: $(N, C, H_{in}, W_{in})$ or $(C, H_{in}, W_{in})$, complex.
        - Output: $(N, C, H_{out}, W_{out})$ or $(C, H_{out}, W_{out})$, same dtype.
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


def avg_pool3d(
    input: torch.Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> torch.Tensor:
    r"""3-D average pooling of the real and imaginary parts.

    $$
    \text{out} = \operatorname{avgpool}(\Re x) + i\,\operatorname{avgpool}(\Im x)
    $$

    Arguments as in `torch.nn.functional.avg_pool3d`.

    Shape:
        - Input: $(N, C, D_{in}, H_{in}, W_{in})$ or $(C, D_{in}, H_{in}, W_{in})$,
          complex.
        - Output: $(N, C, D_{out}, H_{out}, W_{out})$ or
          $(C, D_{out}, H_{out}, W_{out})$, same dtype.
    """
    check_complex(input)
    check_ndim(input, (4, 5), shape=_SHAPE_3D)
    return _split(
        F.avg_pool3d,
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

    $$
    \text{out} = \operatorname{aap}(\Re x) + i\,\operatorname{aap}(\Im x)
    $$

    where $\operatorname{aap}$ is torch's adaptive average pooling.

    Shape:
        - Input: $(N, C, L_{in})$ or $(C, L_{in})$, complex.
        - Output: $(N, C, L_{out})$ or $(C, L_{out})$ with
          $L_{out} = \text{output\_size}$, same dtype.
    """
    check_complex(input)
    check_ndim(input, (2, 3), shape=_SHAPE_1D)
    return _split(F.adaptive_avg_pool1d, input, output_size)


def adaptive_avg_pool2d(input: torch.Tensor, output_size) -> torch.Tensor:
    r"""2-D adaptive average pooling of the real and imaginary parts.

    $$
    \text{out} = \operatorname{aap}(\Re x) + i\,\operatorname{aap}(\Im x)
    $$

    where $\operatorname{aap}$ is torch's adaptive average pooling.
    ``output_size`` is an int or a pair; ``None`` in a pair keeps that input size.

    Shape:
        - Input: $(N, C, H_{in}, W_{in})$ or $(C, H_{in}, W_{in})$, complex.
        - Output: $(N, C, H_{out}, W_{out})$ or $(C, H_{out}, W_{out})$ with
          $(H_{out}, W_{out}) = \text{output\_size}$, same dtype.
    """
    check_complex(input)
    check_ndim(input, (3, 4), shape=_SHAPE_2D)
    return _split(F.adaptive_avg_pool2d, input, output_size)


def adaptive_avg_pool3d(input: torch.Tensor, output_size) -> torch.Tensor:
    r"""3-D adaptive average pooling of the real and imaginary parts.

    $$
    \text{out} = \operatorname{aap}(\Re x) + i\,\operatorname{aap}(\Im x)
    $$

    where $\operatorname{aap}$ is torch's adaptive average pooling.
    ``output_size`` is an int or a triple; ``None`` in a triple keeps that input size.

    Shape:
        - Input: $(N, C, D_{in}, H_{in}, W_{in})$ or $(C, D_{in}, H_{in}, W_{in})$,
          complex.
        - Output: $(N, C, D_{out}, H_{out}, W_{out})$ or
          $(C, D_{out}, H_{out}, W_{out})$ with
          $(D_{out}, H_{out}, W_{out}) = \text{output\_size}$, same dtype.
    """
    check_complex(input)
    check_ndim(input, (4, 5), shape=_SHAPE_3D)
    return _split(F.adaptive_avg_pool3d, input, output_size)


def _crop_spectrum(spectrum: torch.Tensor, dim: int, size: int) -> torch.Tensor:
    """The ``size`` lowest frequencies of ``spectrum`` along ``dim``, in FFT order.

    Keeps the frequencies ``k`` with ``|k| < size / 2``; for even ``size`` the output's
    Nyquist bin (frequency ``-size / 2``, which at the output rate is also ``+size / 2``)
    gets the sum of the input's coefficients at ``+size / 2`` and ``-size / 2``.
    """
    n = spectrum.shape[dim]
    low = spectrum.narrow(dim, 0, (size + 1) // 2)
    high = spectrum.narrow(dim, n - size // 2, size // 2)
    if size % 2 == 0:
        nyquist = spectrum.narrow(dim, size // 2, 1)
        high = torch.cat(
            [high.narrow(dim, 0, 1) + nyquist, high.narrow(dim, 1, size // 2 - 1)], dim
        )
    return torch.cat([low, high], dim)


def _spectral_output_size(sizes, output_size, spatial: int) -> tuple[int, ...]:
    """``output_size`` resolved against the spatial input ``sizes`` (``None`` keeps one), and
    checked (also used by the lowering's spectral pooling)."""
    wanted = _as_tuple(output_size, spatial)
    if len(wanted) != spatial:
        raise ValueError(f"output_size must be an int or {spatial} ints, got {output_size}")
    wanted = tuple(n if o is None else o for o, n in zip(wanted, sizes, strict=True))
    if not all(isinstance(o, int) and 0 < o <= n for o, n in zip(wanted, sizes, strict=True)):
        raise ValueError(
            f"output_size must be positive and at most the input size {tuple(sizes)} along "
            f"each spatial dimension, got {output_size}"
        )
    return wanted


def _spectral_pool(input: torch.Tensor, output_size, spatial: int) -> torch.Tensor:
    sizes = input.shape[-spatial:]
    wanted = _spectral_output_size(sizes, output_size, spatial)
    dims = tuple(range(input.dim() - spatial, input.dim()))
    spectrum = torch.fft.fftn(input, dim=dims, norm="forward")
    for dim, o, n in zip(dims, wanted, sizes, strict=True):
        if o < n:
            spectrum = _crop_spectrum(spectrum, dim, o)
    return torch.fft.ifftn(spectrum, dim=dims, norm="forward")


def spectral_pool1d(input: torch.Tensor, output_size) -> torch.Tensor:
    r"""1-D spectral pooling (Rippel et al. 2015): keep the ``output_size`` lowest frequencies.

    With $X_k = \frac{1}{L_{in}} \sum_m x_m e^{-2\pi i k m / L_{in}}$ (DFT over ``L``),

    $$
    \text{out}_j = \sum_{k \in B} X_k\, e^{2\pi i k j / L_{out}}, \qquad
    B = \{k : -L_{out}/2 \le k \le L_{out}/2\},
    $$

    that is the band-limited trigonometric interpolant of ``x`` sampled at
    $t_j = j L_{in} / L_{out}$. A constant stays constant, and a signal made of the
    frequencies in $B$ is resampled exactly. For odd $L_{out}$ the band is
    $|k| \le (L_{out} - 1)/2$; for even $L_{out}$ it holds both
    $\pm L_{out}/2$, which alias onto the output's one Nyquist bin, so their
    coefficients add up there (as sampling does; a real signal stays real).
    ``output_size = L_in`` is the identity; larger sizes raise ``ValueError``.

    Shape:
        - Input: $(N, C, L_{in})$ or $(C, L_{in})$, complex.
        - Output: $(N, C, L_{out})$ or $(C, L_{out})$ with
          $L_{out} = \text{output\_size}$, same dtype.
    """
    check_complex(input)
    check_ndim(input, (2, 3), shape=_SHAPE_1D)
    return _spectral_pool(input, output_size, 1)


def spectral_pool2d(input: torch.Tensor, output_size) -> torch.Tensor:
    r"""2-D spectral pooling (Rippel et al. 2015): keep the lowest frequencies of the 2-D DFT.

    With $X_{kl}$ the DFT over ``(H, W)`` divided by $H_{in} W_{in}$,

    $$
    \text{out}_{ab} = \sum_{k \in B_H} \sum_{l \in B_W} X_{kl}\,
    e^{2\pi i (k a / H_{out} + l b / W_{out})}, \qquad
    B_H = \{k : -H_{out}/2 \le k \le H_{out}/2\}
    $$

    (likewise $B_W$): the centred crop of the spectrum, inverse-transformed, so that a
    constant image stays constant and an image made of the frequencies in
    $B_H \times B_W$ is resampled exactly at the coarse grid
    $(a H_{in} / H_{out}, b W_{in} / W_{out})$. Even sizes: the two Nyquist
    frequencies $\pm H_{out}/2$ add up in the output's Nyquist row (likewise columns),
    see `spectral_pool1d`. ``output_size`` is an int or a pair, ``None`` keeps that
    input size; each size must lie in ``1 .. input size``.

    Shape:
        - Input: $(N, C, H_{in}, W_{in})$ or $(C, H_{in}, W_{in})$, complex.
        - Output: $(N, C, H_{out}, W_{out})$ or $(C, H_{out}, W_{out})$ with
          $(H_{out}, W_{out}) = \text{output\_size}$, same dtype.
    """
    check_complex(input)
    check_ndim(input, (3, 4), shape=_SHAPE_2D)
    return _spectral_pool(input, output_size, 2)
