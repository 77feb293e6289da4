"""Complex recurrent cells and layers: thin modules over :mod:`phasor.functional.recurrent`."""

__all__: list[str] = []
