"""Complex-valued layers as thin ``torch.nn.Module`` wrappers over :mod:`phasor.functional`."""

from phasor.nn import (
    activation,
    conv,
    dropout,
    encoding,
    graph,
    linear,
    loss,
    normalization,
    pooling,
)
from phasor.nn import init as init
from phasor.nn.activation import *  # noqa: F403
from phasor.nn.conv import *  # noqa: F403
from phasor.nn.dropout import *  # noqa: F403
from phasor.nn.encoding import *  # noqa: F403
from phasor.nn.graph import *  # noqa: F403
from phasor.nn.linear import *  # noqa: F403
from phasor.nn.loss import *  # noqa: F403
from phasor.nn.normalization import *  # noqa: F403
from phasor.nn.pooling import *  # noqa: F403

__all__ = sorted(
    name
    for module in (
        activation,
        conv,
        dropout,
        encoding,
        graph,
        linear,
        loss,
        normalization,
        pooling,
    )
    for name in module.__all__
)
