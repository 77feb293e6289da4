"""Keeping real parameters and buffers real when a complex model changes dtype."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class KeepsRealState(nn.Module):
    """Base for layers whose named parameters/buffers are real inside complex models.

    ``Module.to(torch.complex128)`` casts every floating tensor to complex. A layer that lists
    its real state in ``_real_state`` gets the real part back after any such cast, so that
    state follows the precision (float32 <-> complex64, float64 <-> complex128) but stays real.
    Parameters keep their identity (only ``.data`` changes), so optimisers built before the cast
    still hold them.
    """

    _real_state: tuple[str, ...] = ()

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True):
        super()._apply(fn, recurse)
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
