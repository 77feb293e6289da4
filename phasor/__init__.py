"""phasor: complex-valued deep learning for PyTorch.

>>> import torch, phasor
>>> layer = phasor.nn.Linear(4, 2)
>>> layer(torch.randn(3, 4, dtype=torch.complex64)).shape
torch.Size([3, 2])
"""

from phasor import functional, nn
from phasor.backend import BACKENDS, get_backend, set_backend, use_backend

__version__ = "0.1.0"

__all__ = [
    "BACKENDS",
    "__version__",
    "functional",
    "get_backend",
    "nn",
    "set_backend",
    "use_backend",
]
