"""Lowering of [`phasor.nn.upsampling`][phasor.nn.upsampling]."""

from __future__ import annotations
