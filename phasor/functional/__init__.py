"""Pure functions behind every layer of `phasor.nn`.

One module per family; everything is re-exported here, so ``import phasor.functional as CF``
gives ``CF.linear``, ``CF.conv2d``, ``CF.modrelu`` and so on.
"""

import importlib

from phasor.functional.activation import *  # noqa: F403
from phasor.functional.attention import *  # noqa: F403
from phasor.functional.conv import *  # noqa: F403
from phasor.functional.dropout import *  # noqa: F403
from phasor.functional.encoding import *  # noqa: F403
from phasor.functional.graph import *  # noqa: F403
from phasor.functional.linear import *  # noqa: F403
from phasor.functional.loss import *  # noqa: F403
from phasor.functional.normalization import *  # noqa: F403
from phasor.functional.pooling import *  # noqa: F403
from phasor.functional.recurrent import *  # noqa: F403
from phasor.functional.spectral import *  # noqa: F403
from phasor.functional.upsampling import *  # noqa: F403

# The families, one submodule each; the public functions are every name they export.
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
    name
    for family in FAMILIES
    for name in importlib.import_module(f"phasor.functional.{family}").__all__
)
