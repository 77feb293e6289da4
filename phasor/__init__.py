"""phasor: complex-valued deep learning for PyTorch.

>>> import torch, phasor
>>> layer = phasor.nn.Linear(4, 2)
>>> layer(torch.randn(3, 4, dtype=torch.complex64)).shape
torch.Size([3, 2])

The sub-packages are imported on first use, so that ``import phasor`` alone does not load
PyTorch: the ``phasor`` command sets the OpenMP wait policy before torch starts its threads
(see `phasor._threads`).
"""

import importlib

__version__ = "0.3.0.dev0"

_SUBMODULES = ("functional", "nn")
_BACKEND_NAMES = ("BACKENDS", "get_backend", "set_backend", "use_backend")

__all__ = ["__version__", *_BACKEND_NAMES, *_SUBMODULES]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"phasor.{name}")
    if name in _BACKEND_NAMES:
        return getattr(importlib.import_module("phasor.backend"), name)
    raise AttributeError(f"module 'phasor' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
