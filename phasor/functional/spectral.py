"""Spectral front ends: STFT / ISTFT and learnable complex filterbanks."""

__all__: list[str] = []
