"""Lowering of the models of [`phasor.models`][phasor.models]."""

from __future__ import annotations
