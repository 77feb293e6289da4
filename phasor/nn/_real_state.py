"""Dtype conversions of phasor layers: complex state stays complex, real state stays real."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from phasor._validation import COMPLEX_DTYPES, REAL_DTYPES

_Convert = Callable[[torch.Tensor], torch.Tensor]


class KeepsRealState(nn.Module):
    """Base of the phasor layers with parameters or buffers: dtype conversions that mean a
    precision act on complex and real state alike, and keep each of its kind.

    ``torch.nn.Module`` converts tensor by tensor: ``.double()`` and ``.float()`` touch only
    real floating tensors (complex weights would keep their precision), ``.to(torch.float64)``
    drops imaginary parts, and ``.to(torch.complex128)`` makes real tensors complex. Here every
    conversion is read as the precision it asks for, which all state then follows:

    - ``.double()``, ``.to(torch.float64)``, ``.to(torch.complex128)``: complex state becomes
      complex128, real state float64;
    - ``.float()``, ``.to(torch.float32)``, ``.to(torch.complex64)``: complex64 and float32;
    - ``.half()``, ``.bfloat16()``, ``.to(torch.float16)``, ``.to(torch.complex32)`` raise
      ``TypeError`` at once: phasor computes in complex64 or complex128 only (there is no
      complex bfloat16, and complex32 is not supported);
    - conversions that keep the dtype (``.cuda()``, ``.to(device)``, ...) act as in torch.

    The real state of a layer is named in ``_real_state``: tensors that a conversion made
    complex get their real part back. Parameters keep their identity (only ``.data`` changes),
    so optimisers built before the conversion still hold them. The rule also applies inside a
    plain ``torch.nn.Sequential``, whose conversion calls ``_apply`` of each child.
    """

    _real_state: tuple[str, ...] = ()

    def _complex_target(self, fn: _Convert, tensor: torch.Tensor) -> tuple[torch.dtype, bool]:
        """The complex dtype that ``fn`` asks for state like ``tensor``, and whether ``fn``
        applied to a complex tensor would return a real one; ``TypeError`` if unsupported."""
        dtype = tensor.dtype if tensor.is_complex() else tensor.dtype.to_complex()
        applied = fn(torch.empty(0, dtype=dtype, device=tensor.device)).dtype
        if applied == dtype:  # complex tensors untouched (.double(), .half(), ...): ask a real one
            applied = fn(torch.empty(0, dtype=dtype.to_real(), device=tensor.device)).dtype
        target = applied if applied.is_complex else None
        if applied in REAL_DTYPES:
            target = applied.to_complex()
        if target not in COMPLEX_DTYPES:
            raise TypeError(
                f"{type(self).__name__} cannot be converted to {applied}: phasor layers compute "
                "in complex64 or complex128 (with real state in float32 or float64); there is no "
                "complex bfloat16, and complex32 is not supported. Convert with "
                ".to(torch.complex64) (or .float()) or .to(torch.complex128) (or .double())"
            )
        return target, not fn(torch.empty(0, dtype=dtype, device=tensor.device)).is_complex()

    def _apply(self, fn: _Convert, recurse: bool = True):
        own = (*self._parameters.items(), *self._buffers.items())
        for name, tensor in own:  # refuse an unsupported dtype before anything changes
            if tensor is not None and (tensor.is_complex() or name in self._real_state):
                self._complex_target(fn, tensor)

        def convert(t: torch.Tensor) -> torch.Tensor:
            if not t.is_complex():
                return fn(t)
            target, to_real = self._complex_target(fn, t)
            if to_real:  # fn would drop the imaginary part: convert both parts
                return torch.complex(fn(t.real), fn(t.imag))
            return fn(t).to(target)

        super()._apply(convert, recurse)
        with torch.no_grad():
            for name in self._real_state:
                param = self._parameters.get(name)
                if param is not None:
                    if param.is_complex():
                        param.data = param.data.real.clone()
                    if param.grad is not None and param.grad.is_complex():
                        param.grad = param.grad.real.clone()
                buffer = self._buffers.get(name)
                if buffer is not None and buffer.is_complex():
                    self._buffers[name] = buffer.real.clone()
        return self
