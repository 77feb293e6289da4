"""Audio for the phase-aware studies: data (synthetic genres, class folders such as GTZAN and
the drum hits) and (complex) MFCCs."""

from phasor.audio.datasets import *  # noqa: F403
from phasor.audio.features import *  # noqa: F403
from phasor.audio.folders import *  # noqa: F403
from phasor.audio.gtzan import *  # noqa: F403
from phasor.audio.synthetic import *  # noqa: F403
