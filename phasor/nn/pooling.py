"""Complex pooling layers over `phasor.functional.pooling`."""

from __future__ import annotations

import torch
from torch import nn

from phasor.functional.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    spectral_pool1d,
    spectral_pool2d,
)

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "SpectralPool1d",
    "SpectralPool2d",
]


class _MaxPoolNd(nn.Module):
    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    r"""1-D max pooling by magnitude: each window yields its element of largest $|z|$.

    See [`phasor.functional.max_pool1d`][phasor.functional.pooling.max_pool1d]. Arguments (and their order) as in
    `torch.nn.MaxPool1d`; ``stride=None`` means ``kernel_size``.

    Shape:
        - Input: $(N, C, L_{in})$ or $(C, L_{in})$, complex.
        - Output: $(N, C, L_{out})$ or $(C, L_{out})$, same dtype.
    """

    def forward(self, input: torch.Tensor):
        return max_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )


class MaxPool2d(_MaxPoolNd):
    r"""2-D max pooling by magnitude: each window yields its element of largest $|z|$.

    See [`phasor.functional.max_pool2d`][phasor.functional.pooling.max_pool2d]. Arguments (and their order) as in
    `torch.nn.MaxPool2d`; ``stride=None`` means ``kernel_size``.

    Shape:
        - Input: $(N, C, H_{in}, W_{in})$ or $(C, H_{in}, W_{in})$, complex.
        - Output: $(N, C, H_{out}, W_{out})$ or $(C, H_{out}, W_{out})$, same dtype.
    """

    def forward(self, input: torch.Tensor):
        return max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )


class MaxPool3d(_MaxPoolNd):
    r"""3-D max pooling by magnitude: each window yields its element of largest $|z|$.

    See [`phasor.functional.max_pool3d`][phasor.functional.pooling.max_pool3d]. Arguments (and their order) as in
    `torch.nn.MaxPool3d`; ``stride=None`` means ``kernel_size``.

    Shape:
        - Input: $(N, C, D_{in}, H_{in}, W_{in})$ or $(C, D_{in}, H_{in}, W_{in})$,
          complex.
        - Output: $(N, C, D_{out}, H_{out}, W_{out})$ or
          $(C, D_{out}, H_{out}, W_{out})$, same dtype.
    """

    def forward(self, input: torch.Tensor):
        return max_pool3d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )


class _AdaptiveMaxPoolNd(nn.Module):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    r"""1-D adaptive max pooling by magnitude: each bin yields its element of largest $|z|$.

    See [`phasor.functional.adaptive_max_pool1d`][phasor.functional.pooling.adaptive_max_pool1d]; arguments as in
    `torch.nn.AdaptiveMaxPool1d`.

    Shape:
        - Input: $(N, C, L_{in})$ or $(C, L_{in})$, complex.
        - Output: $(N, C, \text{output\_size})$ or $(C, \text{output\_size})$.
    """

    def forward(self, input: torch.Tensor):
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    r"""2-D adaptive max pooling by magnitude: each bin yields its element of largest $|z|$.

    See [`phasor.functional.adaptive_max_pool2d`][phasor.functional.pooling.adaptive_max_pool2d]; arguments as in
    `torch.nn.AdaptiveMaxPool2d`.

    Shape:
        - Input: $(N, C, H_{in}, W_{in})$ or $(C, H_{in}, W_{in})$, complex.
        - Output: $(N, C, H_{out}, W_{out})$ or $(C, H_{out}, W_{out})$ with
          $(H_{out}, W_{out}) = \text{output\_size}$.
    """

    def forward(self, input: torch.Tensor):
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    r"""3-D adaptive max pooling by magnitude: each bin yields its element of largest $|z|$.

    See [`phasor.functional.adaptive_max_pool3d`][phasor.functional.pooling.adaptive_max_pool3d]; arguments as in
    `torch.nn.AdaptiveMaxPool3d`.

    Shape:
        - Input: $(N, C, D_{in}, H_{in}, W_{in})$ or $(C, D_{in}, H_{in}, W_{in})$,
          complex.
        - Output: $(N, C, D_{out}, H_{out}, W_{out})$ or
          $(C, D_{out}, H_{out}, W_{out})$ with
          $(D_{out}, H_{out}, W_{out}) = \text{output\_size}$.
    """

    def forward(self, input: torch.Tensor):
        return adaptive_max_pool3d(input, self.output_size, self.return_indices)


class AvgPool1d(nn.Module):
    r"""1-D average pooling of the real and imaginary parts.

    See [`phasor.functional.avg_pool1d`][phasor.functional.pooling.avg_pool1d]; arguments as in `torch.nn.AvgPool1d`.

    Shape:
        - Input: $(N, C, L_{in})$ or $(C, L_{in})$, complex.
        - Output: $(N, C, L_{out})$ or $(C, L_{out})$, same dtype.
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPoolNd(nn.Module):
    """2-D and 3-D average pooling: the arguments of `torch.nn.AvgPool2d`; ``_pool`` the function."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self._pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    r"""2-D average pooling of the real and imaginary parts.

    See [`phasor.functional.avg_pool2d`][phasor.functional.pooling.avg_pool2d]; arguments as in `torch.nn.AvgPool2d`.

    Shape:
        - Input: $(N, C, H_{in}, W_{in})$ or $(C, H_{in}, W_{in})$, complex.
        - Output: $(N, C, H_{out}, W_{out})$ or $(C, H_{out}, W_{out})$, same dtype.
    """

    _pool = staticmethod(avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    r"""3-D average pooling of the real and imaginary parts.

    See [`phasor.functional.avg_pool3d`][phasor.functional.pooling.avg_pool3d]; arguments as in `torch.nn.AvgPool3d`.

    Shape:
        - Input: $(N, C, D_{in}, H_{in}, W_{in})$ or $(C, D_{in}, H_{in}, W_{in})$,
          complex.
        - Output: $(N, C, D_{out}, H_{out}, W_{out})$ or
          $(C, D_{out}, H_{out}, W_{out})$, same dtype.
    """

    _pool = staticmethod(avg_pool3d)


class _AdaptiveAvgPoolNd(nn.Module):
    """Adaptive average pooling to ``output_size``; ``_pool`` the function."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self._pool(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    r"""1-D adaptive average pooling of the real and imaginary parts.

    See [`phasor.functional.adaptive_avg_pool1d`][phasor.functional.pooling.adaptive_avg_pool1d].

    Shape:
        - Input: $(N, C, L_{in})$ or $(C, L_{in})$, complex.
        - Output: $(N, C, \text{output\_size})$ or $(C, \text{output\_size})$.
    """

    _pool = staticmethod(adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    r"""2-D adaptive average pooling of the real and imaginary parts.

    See [`phasor.functional.adaptive_avg_pool2d`][phasor.functional.pooling.adaptive_avg_pool2d].

    Shape:
        - Input: $(N, C, H_{in}, W_{in})$ or $(C, H_{in}, W_{in})$, complex.
        - Output: $(N, C, H_{out}, W_{out})$ or $(C, H_{out}, W_{out})$ with
          $(H_{out}, W_{out}) = \text{output\_size}$.
    """

    _pool = staticmethod(adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    r"""3-D adaptive average pooling of the real and imaginary parts.

    See [`phasor.functional.adaptive_avg_pool3d`][phasor.functional.pooling.adaptive_avg_pool3d].

    Shape:
        - Input: $(N, C, D_{in}, H_{in}, W_{in})$ or $(C, D_{in}, H_{in}, W_{in})$,
          complex.
        - Output: $(N, C, D_{out}, H_{out}, W_{out})$ or
          $(C, D_{out}, H_{out}, W_{out})$ with
          $(D_{out}, H_{out}, W_{out}) = \text{output\_size}$.
    """

    _pool = staticmethod(adaptive_avg_pool3d)


class SpectralPool1d(nn.Module):
    r"""1-D spectral pooling (Rippel et al. 2015): keep the ``output_size`` lowest frequencies.

    See [`phasor.functional.spectral_pool1d`][phasor.functional.pooling.spectral_pool1d]: DFT along ``L``, centred crop of the
    spectrum, inverse DFT; a constant stays constant.

    Shape:
        - Input: $(N, C, L_{in})$ or $(C, L_{in})$, complex.
        - Output: $(N, C, \text{output\_size})$ or $(C, \text{output\_size})$.
    """

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return spectral_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class SpectralPool2d(nn.Module):
    r"""2-D spectral pooling (Rippel et al. 2015), as in Deep Complex Networks.

    See [`phasor.functional.spectral_pool2d`][phasor.functional.pooling.spectral_pool2d]: 2-D DFT over ``(H, W)``, centred crop to
    the lowest ``output_size`` frequencies, inverse DFT; a constant image stays constant.

    Shape:
        - Input: $(N, C, H_{in}, W_{in})$ or $(C, H_{in}, W_{in})$, complex.
        - Output: $(N, C, H_{out}, W_{out})$ or $(C, H_{out}, W_{out})$ with
          $(H_{out}, W_{out}) = \text{output\_size}$.
    """

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return spectral_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
