"""Lowering of [`phasor.nn.graph`][phasor.nn.graph]."""

from __future__ import annotations
