"""Audio for the phase-aware studies: data (synthetic genres, class folders such as GTZAN and
the drum hits) and (complex) MFCCs."""

import importlib

from phasor.audio.datasets import *  # noqa: F403
from phasor.audio.features import *  # noqa: F403
from phasor.audio.folders import *  # noqa: F403
from phasor.audio.gtzan import *  # noqa: F403
from phasor.audio.synthetic import *  # noqa: F403

__all__ = sorted(
    name
    for module in ("datasets", "features", "folders", "gtzan", "synthetic")
    for name in importlib.import_module(f"phasor.audio.{module}").__all__
)
