"""Exceptions raised by the training engine.

Every error names what went wrong and what to do; none of them is raised after a bad
state was written to disk (the last good checkpoint is always kept).
"""

from __future__ import annotations


class TrainingError(RuntimeError):
    """Training cannot go on: bad data, a diverging loss, or a broken configuration."""


class CheckpointError(TrainingError):
    """A checkpoint cannot be used: missing, truncated, corrupted, from another model or a
    newer format. The message starts with the file's path."""
