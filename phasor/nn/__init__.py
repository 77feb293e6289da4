"""Complex-valued layers as thin ``torch.nn.Module`` wrappers over `phasor.functional`."""

import importlib

from phasor.nn import init as init
from phasor.nn.activation import *  # noqa: F403
from phasor.nn.attention import *  # noqa: F403
from phasor.nn.conv import *  # noqa: F403
from phasor.nn.dropout import *  # noqa: F403
from phasor.nn.encoding import *  # noqa: F403
from phasor.nn.graph import *  # noqa: F403
from phasor.nn.linear import *  # noqa: F403
from phasor.nn.loss import *  # noqa: F403
from phasor.nn.normalization import *  # noqa: F403
from phasor.nn.pooling import *  # noqa: F403
from phasor.nn.recurrent import *  # noqa: F403
from phasor.nn.spectral import *  # noqa: F403
from phasor.nn.upsampling import *  # noqa: F403

# The families, one submodule each; the public modules are every name they export.
FAMILIES = (
    "activation",
    "attention",
    "conv",
    "dropout",
    "encoding",
    "graph",
    "linear",
    "loss",
    "normalization",
    "pooling",
    "recurrent",
    "spectral",
    "upsampling",
)
__all__ = sorted(
    name for family in FAMILIES for name in importlib.import_module(f"phasor.nn.{family}").__all__
)
