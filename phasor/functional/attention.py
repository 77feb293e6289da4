"""Complex attention: scaled dot-product attention, rotary position encoding."""

__all__: list[str] = []
