"""Spectral front ends: STFT / ISTFT and learnable complex filterbanks: thin modules over :mod:`phasor.functional.spectral`."""

__all__: list[str] = []
