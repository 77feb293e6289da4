"""Lowering of [`phasor.nn.attention`][phasor.nn.attention]."""

from __future__ import annotations
