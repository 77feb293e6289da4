"""Lowering of [`phasor.nn.spectral`][phasor.nn.spectral]."""

from __future__ import annotations
