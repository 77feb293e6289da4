"""Complex fully connected layer, a thin module over `phasor.functional.linear`."""

from __future__ import annotations

import torch
from torch import nn

from phasor._validation import COMPLEX_DTYPES
from phasor.backend import resolve
from phasor.functional.linear import linear
from phasor.nn._real_state import KeepsRealState
from phasor.nn.init import SCHEMES

__all__ = ["Linear"]


def _factory_kwargs(device: torch.device | str | None, dtype: torch.dtype | None) -> dict:
    """Factory arguments of the parameters; ``dtype`` defaults to ``torch.complex64``."""
    dtype = torch.complex64 if dtype is None else dtype
    if dtype not in COMPLEX_DTYPES:
        raise TypeError(f"dtype must be torch.complex64 or torch.complex128, got {dtype}")
    return {"device": device, "dtype": dtype}


def _check_options(init: str, backend: str | None) -> None:
    """Raise ``ValueError`` for an unknown initialisation scheme or backend."""
    if init not in SCHEMES:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(SCHEMES)}")
    if backend is not None:
        resolve(backend)


def _options_repr(init: str, default_init: str, backend: str | None) -> str:
    """The non-default ``init`` and ``backend`` options, for ``extra_repr``."""
    s = f", init={init!r}" if init != default_init else ""
    return s + (f", backend={backend!r}" if backend is not None else "")


class Linear(KeepsRealState):
    r"""Complex affine layer $y = x W^T + b$ (no conjugation of ``W``).

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: if ``False``, the layer learns no additive bias.
        device: device of the parameters.
        dtype: ``torch.complex64`` (default) or ``torch.complex128``.
        init: weight initialisation, a key of `phasor.nn.init.SCHEMES`. Default
            ``"glorot"``: [`complex_glorot_`][phasor.nn.init.complex_glorot_], Rayleigh magnitude and uniform
            phase with $\operatorname{Var}(W) = 2 / (\text{in} + \text{out})$.
            The bias starts at zero.
        backend: kernels used by `forward` (``"native"``, ``"real"``, ``"gauss"``,
            ``"auto"``: see `phasor.backend`);
            ``None`` follows [`phasor.get_backend`][phasor.backend.get_backend] at call time.

    Attributes:
        weight: complex parameter of shape ``(out_features, in_features)``, stored transposed
            (``weight.t()`` is contiguous), which spares a real input two copies per step.
        bias: complex parameter of shape ``(out_features,)``, or ``None``.

    Shape:
        - Input: $(*, H_{in})$ with $H_{in} = \text{in\_features}$, complex, or real
          of the weight's real dtype (``float32`` for ``complex64``), which costs half the
          arithmetic of the same input cast to complex.
        - Output: $(*, H_{out})$, dtype of the weight, with
          $H_{out} = \text{out\_features}$.

    Example:

        >>> layer = Linear(3, 2)
        >>> layer(torch.randn(5, 3, dtype=torch.complex64)).shape
        torch.Size([5, 2])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        init: str = "glorot",
        backend: str | None = None,
    ) -> None:
        factory = _factory_kwargs(device, dtype)
        _check_options(init, backend)
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.init = init
        self.backend = backend
        # Stored transposed (column-major): the real view of W^T is then the stacked weight
        # that a real input multiplies, and its gradient arrives in the same layout, so the
        # real-input path copies nothing (phasor.functional.linear).
        self.weight = nn.Parameter(torch.empty(in_features, out_features, **factory).t())
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the weight with the layer's ``init`` scheme and set the bias to zero."""
        SCHEMES[self.init](self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return linear(input, self.weight, self.bias, backend=self.backend)

    def extra_repr(self) -> str:
        s = (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
        return s + _options_repr(self.init, "glorot", self.backend)
