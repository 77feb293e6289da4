"""Complex-valued layers as thin ``torch.nn.Module`` wrappers over `phasor.functional`."""

import importlib

import phasor.functional as _functional
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

# The families of phasor.functional, one submodule each here too; the public modules are every
# name they export.
FAMILIES = _functional.FAMILIES
__all__ = sorted(
    name for family in FAMILIES for name in importlib.import_module(f"phasor.nn.{family}").__all__
)
