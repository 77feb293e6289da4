"""Fixtures of the lowering tests."""

import pytest
import torch
from torch.utils import _pytree as pytree
from torch.utils._python_dispatch import TorchDispatchMode


class ComplexOps(TorchDispatchMode):
    """Records (in ``seen``) every aten op that takes or makes a complex tensor."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        tensors = pytree.tree_leaves((args, kwargs, out))
        if any(isinstance(t, torch.Tensor) and t.is_complex() for t in tensors):
            self.seen.append(str(func))
        return out


@pytest.fixture
def complex_ops() -> type[ComplexOps]:
    """The dispatch mode that records complex ops: ``with complex_ops() as mode: ...``, then
    ``assert mode.seen == []``."""
    return ComplexOps
