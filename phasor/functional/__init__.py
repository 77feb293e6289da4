"""Pure functions behind every layer of :mod:`phasor.nn`.

One module per family; everything is re-exported here, so ``import phasor.functional as CF``
gives ``CF.linear``, ``CF.conv2d``, ``CF.modrelu`` and so on.
"""

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
