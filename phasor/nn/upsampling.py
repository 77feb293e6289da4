"""Complex up-sampling: thin modules over :mod:`phasor.functional.upsampling`."""

__all__: list[str] = []
