"""Complex recurrent cells and layers."""

__all__: list[str] = []
