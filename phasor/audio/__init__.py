"""Audio for the phase-aware studies: data (synthetic genres, GTZAN) and (complex) MFCCs."""

from phasor.audio.datasets import *  # noqa: F403
from phasor.audio.features import *  # noqa: F403
from phasor.audio.gtzan import *  # noqa: F403
from phasor.audio.synthetic import *  # noqa: F403
