"""Complex affine map ``y = x W^T + b`` and the backend kernels shared with the convolutions.

Every op that multiplies by complex weights (`linear` and the convolutions of
`phasor.functional.conv`) is a real *bilinear* op ``op(x, w)`` applied to complex
tensors. With ``W = A + iB`` and ``h = x + iy`` (seed 003, eq. 1):

    op(h, W) = (op(x, A) - op(y, B)) + i (op(x, B) + op(y, A))

`complex_bilinear` evaluates this once, for any such op, on the backend chosen with
`phasor.backend`:

- ``"native"``: ``op`` on the complex tensors themselves (PyTorch's complex kernels).
- ``"real"``: One real ``op`` on stacked operands: input ``[x; y]`` along the channel (feature) axis and
  weight ``[[A, -B], [B, A]]``. With ``groups > 1`` the stacking is done inside each group,
  so that each group still sees only its own channels.
- ``"gauss"``: Three real products (Gauss's trick): ``t1 = op(x, A)``, ``t2 = op(y, B)``,
  ``t3 = op(x + y, A + B)``; real part ``t1 - t2``, imaginary part ``t3 - t1 - t2``.
- ``"auto"``: Whichever of the three is fastest for this op, shapes, dtype and device, measured once
  and cached (`phasor._autotune`).

The complex bias is added once, after the product, on every backend. An empty operand (a
batch of size 0) always runs on ``"native"``: there is nothing to compute.

A *real* input ``x`` (images, waveforms: the first layer of most networks) needs no backend
choice: ``op(x, A + iB) = op(x, A) + i op(x, B)`` is one real ``op`` with the weight ``[A; B]``
stacked along its output axis, half the arithmetic of casting ``x`` to complex first. It is
used for real inputs on every backend.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from phasor import _autotune
from phasor._validation import check_complex, check_layer_input, check_same_dtype
from phasor.backend import KERNELS, by_shape, resolve

__all__ = ["complex_bilinear", "linear"]

RealOp = Callable[..., torch.Tensor]


def _planar(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Real and imaginary parts of ``t`` as two dense real tensors, made in one copy.

    A transposed matrix (such as the weight of [`phasor.nn.Linear`][phasor.nn.linear.Linear]) keeps its layout:
    separating the parts of its transpose is a faster copy than transposing it as well.
    """
    if t.dim() == 2 and not t.is_contiguous() and t.t().is_contiguous():
        re, im = _planar(t.t())
        return re.t(), im.t()
    parts = torch.view_as_real(t.resolve_conj()).movedim(-1, 0).contiguous()
    return parts[0], parts[1]


def _gauss(op: RealOp, input: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    # Contiguous parts: the real kernels run faster on them than on strided .real/.imag views.
    x, y = _planar(input)
    a, b = _planar(weight)
    t1 = op(x, a)
    t2 = op(y, b)
    t3 = op(x + y, a + b)
    return torch.complex(t1 - t2, t3 - t1 - t2)


def _split_channels(t: torch.Tensor, dim: int, groups: int) -> torch.Tensor:
    """View axis ``dim`` (size ``C``) of ``t`` as three axes ``(groups, 1, C // groups)``."""
    shape = t.shape
    return t.reshape(*shape[:dim], groups, 1, shape[dim] // groups, *shape[dim + 1 :])


def _real(
    op: RealOp,
    input: torch.Tensor,
    weight: torch.Tensor,
    *,
    channel_dim: int,
    groups: int,
    transposed: bool,
) -> torch.Tensor:
    # Input: per group, the real channels then the imaginary ones -> layout (groups, 2, C/groups),
    # made in one copy from the (..., C, *spatial, 2) real view of the complex tensor.
    dim = channel_dim % input.dim()
    pairs = torch.view_as_real(input.resolve_conj()).unflatten(dim, (groups, -1))
    stacked = pairs.movedim(-1, dim + 1).flatten(dim, dim + 2)

    # Weight (D0, D1, *kernel), grouped along D0. Rows of the block matrix follow D0: they are
    # the output parts (re, im) for a convolution or linear map, and the input parts (x, y)
    # for a transposed convolution, whose weight is stored (C_in, C_out / groups, *kernel).
    a, b = weight.real, weight.imag
    rows = ((a, b), (-b, a)) if transposed else ((a, -b), (b, a))
    blocks = [_split_channels(torch.cat(row, dim=1), 0, groups) for row in rows]
    big = torch.cat(blocks, dim=1).flatten(0, 2)

    out = op(stacked, big)
    # Output (groups, 2, C_out/groups) back to complex, again in one copy.
    dim = channel_dim % out.dim()
    pairs = out.unflatten(dim, (groups, 2, -1)).movedim(dim + 1, -1).contiguous()
    return torch.view_as_complex(pairs).flatten(dim, dim + 1)


def _real_input(
    op: RealOp,
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    *,
    spatial_dims: int,
    groups: int,
    transposed: bool,
) -> torch.Tensor:
    # Stacked weight: per channel group, the real parts of its output channels, then the
    # imaginary ones, so that every group still sees only its own input channels. A transposed
    # convolution's weight (C_in, C_out / groups, *kernel) holds one group's outputs per row.
    w = weight.resolve_conj()
    if transposed:
        stacked = torch.cat((w.real, w.imag), dim=1)
    else:
        per_group = w.unflatten(0, (groups, -1))
        stacked = torch.stack((per_group.real, per_group.imag), dim=1).flatten(0, 2)
    flat_bias = None
    if bias is not None:
        b = bias.resolve_conj().unflatten(0, (groups, -1))
        flat_bias = torch.stack((b.real, b.imag), dim=1).flatten()
    out = op(input, stacked) if flat_bias is None else op(input, stacked, flat_bias)
    dim = out.dim() - spatial_dims - 1
    parts = out.unflatten(dim, (groups, 2, -1))
    return torch.complex(*parts.unbind(dim + 1)).flatten(dim, dim + 1)


def _real_input_linear(
    input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    # For a matrix product the stacked rows are interleaved, (Re W_0, Im W_0, Re W_1, ...), so
    # that the product lands in the real view of the complex output. phasor.nn.Linear stores W
    # transposed: the real view of W^T (in, out, 2) is then that stacked weight with no copy,
    # and its gradient arrives in the parameter's own layout. Any other weight is copied
    # (separating the parts of each row measured faster than transposing the weight).
    weight = weight.resolve_conj()
    flat_bias = None if bias is None else torch.view_as_real(bias.resolve_conj()).flatten()
    if weight.t().is_contiguous():
        out = F.linear(input, torch.view_as_real(weight.t()).flatten(-2).t(), flat_bias)
    else:
        stacked = torch.view_as_real(weight).movedim(-1, 1).flatten(0, 1)
        out = F.linear(input, stacked, flat_bias)
    return torch.view_as_complex(out.unflatten(-1, (-1, 2)))


def complex_bilinear(
    op: RealOp,
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    backend: str | None = None,
    spatial_dims: int = 0,
    groups: int = 1,
    transposed: bool = False,
) -> torch.Tensor:
    r"""Apply the real bilinear ``op`` to complex ``input`` and ``weight`` on a chosen backend.

    $$
    \mathrm{op}(x + iy,\ A + iB) + b
    = \mathrm{op}(x, A) - \mathrm{op}(y, B) + i\,(\mathrm{op}(x, B) + \mathrm{op}(y, A)) + b
    $$

    This is the single implementation behind `linear` and every convolution; the inputs
    are assumed already checked. A real ``input`` is computed as one real ``op`` on the stacked
    weight ``[A; B]`` whatever the backend.

    Args:
        op: real bilinear op called as ``op(input, weight)`` or ``op(input, weight, bias)``,
            e.g. ``torch.nn.functional.linear`` or
            ``functools.partial(torch.nn.functional.conv2d, stride=2, groups=groups)``.
        input: complex tensor, or real tensor of the weight's real dtype, whose channel
            (feature) axis is ``-(spatial_dims + 1)``.
        weight: complex tensor ``(D0, D1, *kernel)``; ``D0`` is split into ``groups``.
        bias: optional complex tensor of shape ``(C_out,)``, added once to the result.
        backend: ``"native"``, ``"real"``, ``"gauss"``, ``"auto"`` or ``"by-shape"``; ``None`` uses the global
            default.
        spatial_dims: number of spatial axes after the channel axis (0 for `linear`).
        groups: channel groups that ``op`` uses (1 for `linear`).
        transposed: ``True`` when ``weight`` is stored ``(C_in, C_out / groups, *kernel)``.

    Returns:
        Complex tensor of the dtype of ``weight``.
    """

    def run(name: str, input: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        if name == "native":
            return op(input, weight)
        if name == "gauss":
            return _gauss(op, input, weight)
        return _real(
            op, input, weight, channel_dim=-(spatial_dims + 1), groups=groups, transposed=transposed
        )

    name = resolve(backend)
    if not input.is_complex():
        if op is F.linear:
            return _real_input_linear(input, weight, bias)
        return _real_input(
            op,
            input,
            weight,
            bias,
            spatial_dims=spatial_dims,
            groups=groups,
            transposed=transposed,
        )
    if input.numel() == 0 or weight.numel() == 0:
        # Nothing to multiply (an empty batch, say). The split kernels would fail here:
        # .contiguous() keeps the strides of an empty tensor, which view_as_complex rejects.
        # The complex kernels give the empty (or zero) result, and gradients, of the right shape.
        name = "native"
    elif name == "auto":
        name = _autotune.choose(op, input, weight, run, KERNELS)
    elif name == "by-shape":
        if transposed:  # (in, out / groups, *kernel)
            in_features, out_features = weight.shape[0], weight.shape[1] * groups
        else:  # (out, in / groups, *kernel), a linear layer's (out, in)
            in_features, out_features = weight.shape[1] * groups, weight.shape[0]
        name = by_shape(op is F.linear, in_features, out_features, groups)
    out = run(name, input, weight)
    if bias is not None:
        out = out + bias.reshape(-1, *([1] * spatial_dims))
    return out


def _check_bias(bias: torch.Tensor | None, weight: torch.Tensor, out_features: int) -> None:
    """Raise unless ``bias`` is ``None`` or a complex ``(out_features,)`` tensor like ``weight``."""
    if bias is None:
        return
    check_complex(bias, "bias")
    check_same_dtype(bias, weight, "bias")
    if tuple(bias.shape) != (out_features,):
        raise ValueError(f"bias must have shape ({out_features},), got {tuple(bias.shape)}")


def linear(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    backend: str | None = None,
) -> torch.Tensor:
    r"""Complex affine map $y = x W^T + b$ (no conjugation of ``W``).

    With $W = A + iB$ and $x = x_r + i x_i$:

    $$
    y = (x_r A^T - x_i B^T + b_r) + i\,(x_r B^T + x_i A^T + b_i)
    $$

    The bias is added exactly once: ``Re y`` gets $b_r$, ``Im y`` gets $b_i$.

    A real ``input`` is multiplied as it is, with half the arithmetic of a complex one
    (`complex_bilinear`).

    Args:
        input: complex tensor ``(*, in_features)``, or real tensor of the weight's real dtype
            (``float32`` for ``complex64`` weights).
        weight: complex tensor ``(out_features, in_features)``, of the dtype of a complex
            ``input``.
        bias: optional complex tensor ``(out_features,)``.
        backend: ``"native"``, ``"real"``, ``"gauss"``, ``"auto"`` or ``"by-shape"``; ``None`` uses
            [`phasor.get_backend`][phasor.backend.get_backend].

    Shape:
        - Input: $(*, H_{in})$ with $H_{in} = \text{in\_features}$.
        - Weight: $(H_{out}, H_{in})$.
        - Bias: $(H_{out})$.
        - Output: $(*, H_{out})$, complex, dtype of the weight.

    Raises:
        TypeError: real weight, or an input that is neither of the weight's dtype nor of its
            real dtype.
        ValueError: wrong shapes.

    Example:

        >>> x = torch.randn(8, 3, dtype=torch.complex64)
        >>> w = torch.randn(2, 3, dtype=torch.complex64)
        >>> linear(x, w).shape
        torch.Size([8, 2])
    """
    check_complex(weight, "weight")
    check_layer_input(input, weight)
    if weight.dim() != 2:
        raise ValueError(
            f"weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}"
        )
    out_features, in_features = weight.shape
    if input.dim() == 0 or input.shape[-1] != in_features:
        raise ValueError(
            f"input must have shape (*, {in_features}) (in_features={in_features}), "
            f"got shape {tuple(input.shape)}"
        )
    _check_bias(bias, weight, out_features)
    return complex_bilinear(F.linear, input, weight, bias, backend=backend)
