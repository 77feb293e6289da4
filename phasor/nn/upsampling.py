"""Complex up-sampling: thin modules over `phasor.functional.upsampling`."""

from __future__ import annotations

import torch
from torch import nn

from phasor.functional.upsampling import upsample

__all__ = ["Upsample"]


class Upsample(nn.Module):
    r"""Up-sample a complex signal, image or volume, by part or in polar form.

    See [`phasor.functional.upsample`][phasor.functional.upsampling.upsample]. Arguments as in `torch.nn.Upsample`, plus
    ``polar``: with ``polar=True`` (linear modes) the magnitude and the unwrapped phase are
    interpolated, $\text{out} = \operatorname{interp}(|x|)\,
    e^{i \operatorname{interp}(\theta)}$; otherwise $\operatorname{interp}(\Re x) +
    i\,\operatorname{interp}(\Im x)$.

    Shape:
        - Input: $(N, C, L_{in})$, $(N, C, H_{in}, W_{in})$ or
          $(N, C, D_{in}, H_{in}, W_{in})$, complex.
        - Output: $(N, C, L_{out})$, ... with the sizes of `torch.nn.Upsample`.
    """

    def __init__(
        self,
        size=None,
        scale_factor=None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        polar: bool = False,
    ) -> None:
        super().__init__()
        self.size = size
        self.scale_factor = scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.polar = polar

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return upsample(
            input, self.size, self.scale_factor, self.mode, self.align_corners, self.polar
        )

    def extra_repr(self) -> str:
        size = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{size}, mode={self.mode!r}, align_corners={self.align_corners}, polar={self.polar}"
