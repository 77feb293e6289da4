"""Complex up-sampling."""

__all__: list[str] = []
