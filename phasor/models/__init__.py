"""Reusable model definitions built from `phasor.nn` (and their real-valued twins)."""

from phasor.models.cnn import (
    ACTIVATIONS,
    NET_SHAPES,
    ComplexSeedCNN,
    RealSeedCNN,
    count_parameters,
    matched_real_widths,
    summary,
)

__all__ = [
    "ACTIVATIONS",
    "NET_SHAPES",
    "ComplexSeedCNN",
    "RealSeedCNN",
    "count_parameters",
    "matched_real_widths",
    "summary",
]
