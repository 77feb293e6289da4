"""Lowering of [`phasor.nn.encoding`][phasor.nn.encoding]."""

from __future__ import annotations
