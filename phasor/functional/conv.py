r"""Complex convolutions and transposed convolutions, with the semantics of ``torch.nn.functional``.

All ops compute a cross-correlation (like PyTorch; the kernel is not flipped and not
conjugated). With ``W = A + iB`` and ``h = x + iy`` (seed 003, eq. 1):

$$
W \star h + b = (A \star x - B \star y + b_r) + i\,(B \star x + A \star y + b_i)
$$

and the same for the transposed ops. Every op runs on any backend of `phasor.backend`
through [`phasor.functional.linear.complex_bilinear`][phasor.functional.linear.complex_bilinear]; the bias is added once.

The input may also be real, of the weight's real dtype (``float32`` for ``complex64``): images
or waveforms go in as they are, and ``W \star x = A \star x + i\, B \star x`` costs one real
convolution with twice the output channels, half the arithmetic of a complex input.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from phasor._validation import check_complex, check_layer_input, check_ndim
from phasor.functional.linear import _check_bias, complex_bilinear

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
]

_SPATIAL = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}

_IntOrTuple = int | tuple[int, ...]


def _check(
    n: int,
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    groups: int,
    transposed: bool,
) -> None:
    """Check types, ranks and channel counts of an ``n``-d (transposed) convolution."""
    check_complex(weight, "weight")
    check_layer_input(input, weight)
    spatial = ", ".join(_SPATIAL[n])
    kernel = ", ".join(f"k{s}" for s in _SPATIAL[n])
    check_ndim(input, (n + 1, n + 2), shape=f"(N, C_in, {spatial}) or (C_in, {spatial})")
    layout = "(C_in, C_out/groups, " if transposed else "(C_out, C_in/groups, "
    check_ndim(weight, (n + 2,), "weight", shape=layout + kernel + ")")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"groups must be a positive integer, got {groups!r}")
    if weight.shape[0] % groups:
        raise ValueError(f"weight.shape[0]={weight.shape[0]} must be divisible by groups={groups}")
    channels = input.shape[-(n + 1)]
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if channels != expected:
        raise ValueError(
            f"input must have {expected} channels, i.e. shape (N, {expected}, {spatial}) or "
            f"({expected}, {spatial}), for weight of shape {tuple(weight.shape)} and "
            f"groups={groups}; got shape {tuple(input.shape)}"
        )
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    _check_bias(bias, weight, out_channels)


def _conv(
    n: int,
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    stride: _IntOrTuple,
    padding: _IntOrTuple | str,
    dilation: _IntOrTuple,
    groups: int,
    backend: str | None,
) -> torch.Tensor:
    _check(n, input, weight, bias, groups, transposed=False)
    op = functools.partial(
        _CONV[n], stride=stride, padding=padding, dilation=dilation, groups=groups
    )
    return complex_bilinear(op, input, weight, bias, backend=backend, spatial_dims=n, groups=groups)


def _conv_transpose(
    n: int,
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    stride: _IntOrTuple,
    padding: _IntOrTuple,
    output_padding: _IntOrTuple,
    groups: int,
    dilation: _IntOrTuple,
    backend: str | None,
) -> torch.Tensor:
    _check(n, input, weight, bias, groups, transposed=True)
    op = functools.partial(
        _CONV_T[n],
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
    )
    return complex_bilinear(
        op, input, weight, bias, backend=backend, spatial_dims=n, groups=groups, transposed=True
    )


def conv1d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: _IntOrTuple = 1,
    padding: _IntOrTuple | str = 0,
    dilation: _IntOrTuple = 1,
    groups: int = 1,
    *,
    backend: str | None = None,
) -> torch.Tensor:
    r"""Complex 1-D convolution (cross-correlation), like `torch.nn.functional.conv1d`.

    $$
    \text{out}(N_i, C_{out_j}) = b(C_{out_j})
    + \sum_{k} W(C_{out_j}, k) \star \text{input}(N_i, k)
    $$

    with complex products and no conjugation. Arguments ``stride``, ``padding`` (an int, a
    tuple, ``"valid"`` or ``"same"``), ``dilation`` and ``groups`` mean what they mean in
    PyTorch; ``backend`` picks the kernels (``None``: [`phasor.get_backend`][phasor.backend.get_backend]).

    Shape:
        - Input: $(N, C_{in}, L_{in})$ or $(C_{in}, L_{in})$.
        - Weight: $(C_{out}, C_{in} / \text{groups}, kL)$.
        - Bias: $(C_{out})$.
        - Output: $(N, C_{out}, L_{out})$ or $(C_{out}, L_{out})$, with
          $L_{out} = \lfloor (L_{in} + 2p - d (kL - 1) - 1) / s \rfloor + 1$.

    Raises:
        TypeError: real weight, or an input neither of the weight's dtype nor of its real dtype.
        ValueError: wrong ranks or channel counts.
    """
    return _conv(1, input, weight, bias, stride, padding, dilation, groups, backend)


def conv2d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: _IntOrTuple = 1,
    padding: _IntOrTuple | str = 0,
    dilation: _IntOrTuple = 1,
    groups: int = 1,
    *,
    backend: str | None = None,
) -> torch.Tensor:
    r"""Complex 2-D convolution (cross-correlation), like `torch.nn.functional.conv2d`.

    $$
    \text{out}(N_i, C_{out_j}) = b(C_{out_j})
    + \sum_{k} W(C_{out_j}, k) \star \text{input}(N_i, k)
    $$

    with complex products and no conjugation; see `conv1d` for the arguments.

    Shape:
        - Input: $(N, C_{in}, H_{in}, W_{in})$ or $(C_{in}, H_{in}, W_{in})$.
        - Weight: $(C_{out}, C_{in} / \text{groups}, kH, kW)$.
        - Bias: $(C_{out})$.
        - Output: $(N, C_{out}, H_{out}, W_{out})$ or $(C_{out}, H_{out}, W_{out})$,
          each spatial size as in `conv1d`.

    Raises:
        TypeError: real weight, or an input neither of the weight's dtype nor of its real dtype.
        ValueError: wrong ranks or channel counts.
    """
    return _conv(2, input, weight, bias, stride, padding, dilation, groups, backend)


def conv3d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: _IntOrTuple = 1,
    padding: _IntOrTuple | str = 0,
    dilation: _IntOrTuple = 1,
    groups: int = 1,
    *,
    backend: str | None = None,
) -> torch.Tensor:
    r"""Complex 3-D convolution (cross-correlation), like `torch.nn.functional.conv3d`.

    $$
    \text{out}(N_i, C_{out_j}) = b(C_{out_j})
    + \sum_{k} W(C_{out_j}, k) \star \text{input}(N_i, k)
    $$

    with complex products and no conjugation; see `conv1d` for the arguments.

    Shape:
        - Input: $(N, C_{in}, D_{in}, H_{in}, W_{in})$ or
          $(C_{in}, D_{in}, H_{in}, W_{in})$.
        - Weight: $(C_{out}, C_{in} / \text{groups}, kD, kH, kW)$.
        - Bias: $(C_{out})$.
        - Output: $(N, C_{out}, D_{out}, H_{out}, W_{out})$ or without the batch axis,
          each spatial size as in `conv1d`.

    Raises:
        TypeError: real weight, or an input neither of the weight's dtype nor of its real dtype.
        ValueError: wrong ranks or channel counts.
    """
    return _conv(3, input, weight, bias, stride, padding, dilation, groups, backend)


def conv_transpose1d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: _IntOrTuple = 1,
    padding: _IntOrTuple = 0,
    output_padding: _IntOrTuple = 0,
    groups: int = 1,
    dilation: _IntOrTuple = 1,
    *,
    backend: str | None = None,
) -> torch.Tensor:
    r"""Complex 1-D transposed convolution, like `torch.nn.functional.conv_transpose1d`.

    The transpose (not the conjugate transpose) of `conv1d` with the same weight: complex
    products and no conjugation,

    $$
    W \star^T h + b = (A \star^T x - B \star^T y + b_r) + i\,(B \star^T x + A \star^T y + b_i)
    $$

    Arguments mean what they mean in PyTorch; ``backend`` picks the kernels.

    Shape:
        - Input: $(N, C_{in}, L_{in})$ or $(C_{in}, L_{in})$.
        - Weight: $(C_{in}, C_{out} / \text{groups}, kL)$.
        - Bias: $(C_{out})$.
        - Output: $(N, C_{out}, L_{out})$ or $(C_{out}, L_{out})$, with
          $L_{out} = (L_{in} - 1) s - 2p + d (kL - 1) + \text{output\_padding} + 1$.

    Raises:
        TypeError: real weight, or an input neither of the weight's dtype nor of its real dtype.
        ValueError: wrong ranks or channel counts.
    """
    return _conv_transpose(
        1, input, weight, bias, stride, padding, output_padding, groups, dilation, backend
    )


def conv_transpose2d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: _IntOrTuple = 1,
    padding: _IntOrTuple = 0,
    output_padding: _IntOrTuple = 0,
    groups: int = 1,
    dilation: _IntOrTuple = 1,
    *,
    backend: str | None = None,
) -> torch.Tensor:
    r"""Complex 2-D transposed convolution, like `torch.nn.functional.conv_transpose2d`.

    Formula as in `conv_transpose1d`, per spatial axis.

    Shape:
        - Input: $(N, C_{in}, H_{in}, W_{in})$ or $(C_{in}, H_{in}, W_{in})$.
        - Weight: $(C_{in}, C_{out} / \text{groups}, kH, kW)$.
        - Bias: $(C_{out})$.
        - Output: $(N, C_{out}, H_{out}, W_{out})$ or $(C_{out}, H_{out}, W_{out})$,
          each spatial size as in `conv_transpose1d`.

    Raises:
        TypeError: real weight, or an input neither of the weight's dtype nor of its real dtype.
        ValueError: wrong ranks or channel counts.
    """
    return _conv_transpose(
        2, input, weight, bias, stride, padding, output_padding, groups, dilation, backend
    )


def conv_transpose3d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: _IntOrTuple = 1,
    padding: _IntOrTuple = 0,
    output_padding: _IntOrTuple = 0,
    groups: int = 1,
    dilation: _IntOrTuple = 1,
    *,
    backend: str | None = None,
) -> torch.Tensor:
    r"""Complex 3-D transposed convolution, like `torch.nn.functional.conv_transpose3d`.

    Formula as in `conv_transpose1d`, per spatial axis.

    Shape:
        - Input: $(N, C_{in}, D_{in}, H_{in}, W_{in})$ or without the batch axis.
        - Weight: $(C_{in}, C_{out} / \text{groups}, kD, kH, kW)$.
        - Bias: $(C_{out})$.
        - Output: $(N, C_{out}, D_{out}, H_{out}, W_{out})$ or without the batch axis,
          each spatial size as in `conv_transpose1d`.

    Raises:
        TypeError: real weight, or an input neither of the weight's dtype nor of its real dtype.
        ValueError: wrong ranks or channel counts.
    """
    return _conv_transpose(
        3, input, weight, bias, stride, padding, output_padding, groups, dilation, backend
    )
