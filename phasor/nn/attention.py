"""Complex attention: scaled dot-product attention, rotary position encoding: thin modules over :mod:`phasor.functional.attention`."""

__all__: list[str] = []
