"""Lowering of [`phasor.nn.recurrent`][phasor.nn.recurrent]."""

from __future__ import annotations
