r"""Complex convolution layers, thin modules over `phasor.functional.conv`.

Constructor arguments are those of the ``torch.nn`` layers of the same name, plus ``init``
(weight initialisation, default ``"glorot"``: [`phasor.nn.init.complex_glorot_`][phasor.nn.init.complex_glorot_]) and
``backend`` (kernels; ``None`` follows [`phasor.get_backend`][phasor.backend.get_backend]). Biases start at zero.

Inputs are complex, or real of the weights' real dtype (``float32`` for ``complex64``): a real
input, e.g. an image batch fed to the first layer, is convolved with half the arithmetic of the
same input cast to complex.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from phasor.functional.conv import (
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from phasor.nn._real_state import KeepsRealState
from phasor.nn.init import SCHEMES
from phasor.nn.linear import _check_options, _factory_kwargs, _options_repr

__all__ = [
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_Size = int | tuple[int, ...]


def _ntuple(value: _Size, n: int, name: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value}")
    return value


class _ConvNd(KeepsRealState):
    """Shared parameters, checks, initialisation and repr of the (transposed) convolutions."""

    _n: int
    _transposed: bool

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size,
        padding: _Size | str,
        dilation: _Size,
        groups: int,
        bias: bool,
        padding_mode: str,
        device: torch.device | str | None,
        dtype: torch.dtype | None,
        init: str,
        backend: str | None,
        output_padding: _Size = 0,
    ) -> None:
        factory = _factory_kwargs(device, dtype)
        _check_options(init, backend)
        n = self._n
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels={in_channels} and out_channels={out_channels} must both be "
                f"divisible by groups={groups}"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {', '.join(_PADDING_MODES)}, got {padding_mode!r}"
            )
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"{type(self).__name__} only supports padding_mode='zeros'")
        if isinstance(padding, str):
            if self._transposed:
                raise ValueError(f"{type(self).__name__} needs an int or tuple padding")
            if padding not in ("valid", "same"):
                raise ValueError(
                    f"padding must be an int, a tuple, 'valid' or 'same', got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in _ntuple(stride, n, "stride")):
                raise ValueError("padding='same' needs stride=1")
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size")
        self.stride = _ntuple(stride, n, "stride")
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, n, "padding")
        self.dilation = _ntuple(dilation, n, "dilation")
        self.output_padding = _ntuple(output_padding, n, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        self.init = init
        self.backend = backend
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = nn.Parameter(torch.empty(shape, **factory))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weight with the layer's ``init`` scheme and set the bias to zero."""
        SCHEMES[self.init](self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def extra_repr(self) -> str:
        n = self._n
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s + _options_repr(self.init, "glorot", self.backend)


class _Conv(_ConvNd):
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _Size | str = 0,
        dilation: _Size = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        init: str = "glorot",
        backend: str | None = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            init,
            backend,
        )

    def _explicit_padding(self) -> list[int]:
        """Padding for `torch.nn.functional.pad`: (left, right) per axis, last axis first."""
        if self.padding == "valid":
            return [0] * (2 * self._n)
        pad = []
        for i in reversed(range(self._n)):
            if self.padding == "same":
                total = self.dilation[i] * (self.kernel_size[i] - 1)
                pad += [total // 2, total - total // 2]
            else:
                pad += [self.padding[i], self.padding[i]]
        return pad

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        padding = self.padding
        if self.padding_mode != "zeros":
            input = F.pad(input, self._explicit_padding(), mode=self.padding_mode)
            padding = 0
        return self._op(
            input,
            self.weight,
            self.bias,
            self.stride,
            padding,
            self.dilation,
            self.groups,
            backend=self.backend,
        )


def _output_padding_for(
    layer, input_shape: tuple[int, ...], output_size: Sequence[int] | None
) -> tuple:
    """The ``output_padding`` that makes the spatial output size of the transposed convolution
    ``layer`` equal ``output_size``, for a complex input of shape ``input_shape``; the layer's
    own ``output_padding`` when ``output_size`` is None. (Shared with the layer's lowering.)"""
    if output_size is None:
        return layer.output_padding
    n = len(layer.kernel_size)
    output_size = tuple(output_size)
    if len(output_size) == len(input_shape):  # given with batch and/or channel axes
        output_size = output_size[-n:]
    if len(output_size) != n:
        raise ValueError(
            f"output_size must hold {n} spatial sizes (optionally preceded by the batch and "
            f"channel sizes), got {output_size}"
        )
    result = []
    for d in range(n):
        smallest = (
            (input_shape[d - n] - 1) * layer.stride[d]
            - 2 * layer.padding[d]
            + layer.dilation[d] * (layer.kernel_size[d] - 1)
            + 1
        )
        largest = smallest + layer.stride[d] - 1
        if not smallest <= output_size[d] <= largest:
            raise ValueError(
                f"output_size {output_size} is not reachable: spatial size {d} must lie "
                f"in [{smallest}, {largest}] for input of shape {input_shape}"
            )
        result.append(output_size[d] - smallest)
    return tuple(result)


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _Size = 0,
        output_padding: _Size = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: _Size = 1,
        padding_mode: str = "zeros",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        init: str = "glorot",
        backend: str | None = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            init,
            backend,
            output_padding,
        )

    def forward(
        self, input: torch.Tensor, output_size: Sequence[int] | None = None
    ) -> torch.Tensor:
        """Apply the layer; ``output_size`` (spatial, optionally with batch and channels)
        picks among the output sizes a strided transposed convolution can produce."""
        return self._op(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            _output_padding_for(self, tuple(input.shape), output_size),
            self.groups,
            self.dilation,
            backend=self.backend,
        )


class Conv1d(_Conv):
    r"""Complex 1-D convolution layer, see [`phasor.functional.conv1d`][phasor.functional.conv.conv1d] for the formula.

    Arguments as in `torch.nn.Conv1d`, plus ``init`` (default ``"glorot"``: Rayleigh
    magnitude, uniform phase, $\operatorname{Var}(W) = 2 / (\text{fan\_in} +
    \text{fan\_out})$ with fans $C_{in} kL / \text{groups}$ and $C_{out} kL$) and
    ``backend``; dtype ``torch.complex64`` (default) or ``torch.complex128``; zero bias.

    Attributes:
        weight: complex parameter $(C_{out}, C_{in} / \text{groups}, kL)$.
        bias: complex parameter $(C_{out})$, or ``None``.

    Shape:
        - Input: $(N, C_{in}, L_{in})$ or $(C_{in}, L_{in})$, complex or real.
        - Output: $(N, C_{out}, L_{out})$ or $(C_{out}, L_{out})$, complex, with
          $L_{out} = \lfloor (L_{in} + 2p - d (kL - 1) - 1) / s \rfloor + 1$.
    """

    _n = 1
    _op = staticmethod(conv1d)


class Conv2d(_Conv):
    r"""Complex 2-D convolution layer, see [`phasor.functional.conv2d`][phasor.functional.conv.conv2d] for the formula.

    Arguments as in `torch.nn.Conv2d`, plus ``init`` (default ``"glorot"``: Rayleigh
    magnitude, uniform phase, $\operatorname{Var}(W) = 2 / (\text{fan\_in} +
    \text{fan\_out})$ with fans $C_{in} kH kW / \text{groups}$ and
    $C_{out} kH kW$) and ``backend``; dtype ``torch.complex64`` (default) or
    ``torch.complex128``; zero bias.

    Attributes:
        weight: complex parameter $(C_{out}, C_{in} / \text{groups}, kH, kW)$.
        bias: complex parameter $(C_{out})$, or ``None``.

    Shape:
        - Input: $(N, C_{in}, H_{in}, W_{in})$ or $(C_{in}, H_{in}, W_{in})$.
        - Output: $(N, C_{out}, H_{out}, W_{out})$ or $(C_{out}, H_{out}, W_{out})$,
          complex, each spatial size as in `Conv1d`.

    Example:

        >>> conv = Conv2d(1, 4, 3, padding=1)
        >>> conv(torch.randn(2, 1, 28, 28, dtype=torch.complex64)).shape
        torch.Size([2, 4, 28, 28])
    """

    _n = 2
    _op = staticmethod(conv2d)


class Conv3d(_Conv):
    r"""Complex 3-D convolution layer, see [`phasor.functional.conv3d`][phasor.functional.conv.conv3d] for the formula.

    Arguments as in `torch.nn.Conv3d`, plus ``init`` (default ``"glorot"``: Rayleigh
    magnitude, uniform phase, $\operatorname{Var}(W) = 2 / (\text{fan\_in} +
    \text{fan\_out})$ with fans $C_{in} kD kH kW / \text{groups}$ and
    $C_{out} kD kH kW$) and ``backend``; dtype ``torch.complex64`` (default) or
    ``torch.complex128``; zero bias.

    Attributes:
        weight: complex parameter $(C_{out}, C_{in} / \text{groups}, kD, kH, kW)$.
        bias: complex parameter $(C_{out})$, or ``None``.

    Shape:
        - Input: $(N, C_{in}, D_{in}, H_{in}, W_{in})$ or without the batch axis.
        - Output: $(N, C_{out}, D_{out}, H_{out}, W_{out})$ or without the batch axis,
          complex, each spatial size as in `Conv1d`.
    """

    _n = 3
    _op = staticmethod(conv3d)


class ConvTranspose1d(_ConvTranspose):
    r"""Complex 1-D transposed convolution layer, see [`phasor.functional.conv_transpose1d`][phasor.functional.conv.conv_transpose1d].

    Arguments as in `torch.nn.ConvTranspose1d`, plus ``init`` (default ``"glorot"``:
    Rayleigh magnitude, uniform phase, $\operatorname{Var}(W) = 2 / (\text{fan\_in} +
    \text{fan\_out})$, fans as in [`phasor.nn.init.fan_in_and_fan_out`][phasor.nn.init.fan_in_and_fan_out]) and ``backend``;
    dtype ``torch.complex64`` (default) or ``torch.complex128``; zero bias.
    ``forward(input, output_size=None)`` accepts ``output_size`` like PyTorch.

    Attributes:
        weight: complex parameter $(C_{in}, C_{out} / \text{groups}, kL)$.
        bias: complex parameter $(C_{out})$, or ``None``.

    Shape:
        - Input: $(N, C_{in}, L_{in})$ or $(C_{in}, L_{in})$, complex or real.
        - Output: $(N, C_{out}, L_{out})$ or $(C_{out}, L_{out})$, complex, with
          $L_{out} = (L_{in} - 1) s - 2p + d (kL - 1) + \text{output\_padding} + 1$.
    """

    _n = 1
    _op = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    r"""Complex 2-D transposed convolution layer, see [`phasor.functional.conv_transpose2d`][phasor.functional.conv.conv_transpose2d].

    Arguments as in `torch.nn.ConvTranspose2d`, plus ``init`` (default ``"glorot"``, as
    in `ConvTranspose1d`) and ``backend``; dtype ``torch.complex64`` (default) or
    ``torch.complex128``; zero bias. ``forward(input, output_size=None)`` as in PyTorch.

    Attributes:
        weight: complex parameter $(C_{in}, C_{out} / \text{groups}, kH, kW)$.
        bias: complex parameter $(C_{out})$, or ``None``.

    Shape:
        - Input: $(N, C_{in}, H_{in}, W_{in})$ or $(C_{in}, H_{in}, W_{in})$.
        - Output: $(N, C_{out}, H_{out}, W_{out})$ or $(C_{out}, H_{out}, W_{out})$,
          complex, each spatial size as in `ConvTranspose1d`.
    """

    _n = 2
    _op = staticmethod(conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    r"""Complex 3-D transposed convolution layer, see [`phasor.functional.conv_transpose3d`][phasor.functional.conv.conv_transpose3d].

    Arguments as in `torch.nn.ConvTranspose3d`, plus ``init`` (default ``"glorot"``, as
    in `ConvTranspose1d`) and ``backend``; dtype ``torch.complex64`` (default) or
    ``torch.complex128``; zero bias. ``forward(input, output_size=None)`` as in PyTorch.

    Attributes:
        weight: complex parameter $(C_{in}, C_{out} / \text{groups}, kD, kH, kW)$.
        bias: complex parameter $(C_{out})$, or ``None``.

    Shape:
        - Input: $(N, C_{in}, D_{in}, H_{in}, W_{in})$ or without the batch axis.
        - Output: $(N, C_{out}, D_{out}, H_{out}, W_{out})$ or without the batch axis,
          complex, each spatial size as in `ConvTranspose1d`.
    """

    _n = 3
    _op = staticmethod(conv_transpose3d)
