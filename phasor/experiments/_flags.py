"""Flag types of the studies' command lines: each one states its accepted range.

``argparse`` calls a flag's ``type`` with the text given. The types here turn it into a number
or checks it, and on a bad value raise `argparse.ArgumentTypeError` whose message the
``phasor`` command prints as ``phasor: error: --FLAG must be ..., got VALUE`` with exit
status 2, before any work starts:

    parser.add_argument("--epochs", type=positive_int, default=5, help="training epochs")
    parser.add_argument("--lr", type=positive_float, default=0.1, help="learning rate")
    parser.add_argument("--dropout", type=real(0, 1, open_max=True), default=0.0, help="...")

A check that needs the data or two flags together raises `FlagError` from the study's
``check`` hook or from ``run`` (before the work starts); the command reports it the same way.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FlagError",
    "NumberType",
    "describe_type",
    "integer",
    "nonnegative_float",
    "nonnegative_int",
    "output_dir",
    "positive_float",
    "positive_int",
    "real",
]


class FlagError(ValueError):
    """A flag value a study rejects: ``FlagError("--train-size", "must be in 1..4000, got 0")``."""

    def __init__(self, flag: str, message: str) -> None:
        self.flag = flag
        super().__init__(f"{flag} {message}")


@dataclass(frozen=True)
class NumberType:
    """An argparse ``type``: a number of ``kind`` (int or float) inside a range.

    ``minimum``/``maximum`` of ``None`` are unbounded; ``open_min``/``open_max`` exclude the
    bound itself. Non-finite floats are always rejected.
    """

    kind: type
    minimum: float | None = None
    maximum: float | None = None
    open_min: bool = False
    open_max: bool = False

    @property
    def __name__(self) -> str:  # argparse names the type in some messages
        return self.kind.__name__

    def describe(self) -> str:
        """The accepted values in words: ``a positive integer``, ``a number in [0, 1)``."""
        noun = "an integer" if self.kind is int else "a number"
        lo, hi = self.minimum, self.maximum
        if hi is None and lo == 0:
            sign = "positive" if self.open_min else "non-negative"
            return f"a {sign} {'integer' if self.kind is int else 'number'}"
        if hi is None and lo == 1 and self.kind is int and not self.open_min:
            return "a positive integer"
        if hi is None and lo is not None:
            return f"{noun} {'>' if self.open_min else '>='} {_fmt(lo)}"
        if lo is None and hi is not None:
            return f"{noun} {'<' if self.open_max else '<='} {_fmt(hi)}"
        if lo is None and hi is None:
            return noun
        if self.kind is int and not (self.open_min or self.open_max):
            return f"an integer in {_fmt(lo)}..{_fmt(hi)}"
        left, right = "(" if self.open_min else "[", ")" if self.open_max else "]"
        return f"{noun} in {left}{_fmt(lo)}, {_fmt(hi)}{right}"

    def accepts(self, value: float) -> bool:
        """Whether ``value`` lies inside the range."""
        if self.minimum is not None and (
            value < self.minimum or (self.open_min and value == self.minimum)
        ):
            return False
        return not (
            self.maximum is not None
            and (value > self.maximum or (self.open_max and value == self.maximum))
        )

    def __call__(self, text: str) -> int | float:
        try:
            value = self.kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text!r}")
        if not self.accepts(value):
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text}")
        return value


def _fmt(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def integer(minimum: int | None = None, maximum: int | None = None) -> NumberType:
    """Integers in ``minimum..maximum`` (both included; ``None``: unbounded)."""
    return NumberType(int, minimum, maximum)


def real(
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    open_min: bool = False,
    open_max: bool = False,
) -> NumberType:
    """Finite floats between ``minimum`` and ``maximum`` (an ``open_*`` bound is excluded)."""
    return NumberType(float, minimum, maximum, open_min, open_max)


positive_int = integer(1)
nonnegative_int = integer(0)
positive_float = real(0.0, open_min=True)
nonnegative_float = real(0.0)


def output_dir(text: str) -> Path:
    """A folder for a run's files: it may exist (as a folder), or will be created."""
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"must name a folder, but {text} is an existing file")
    return path


def describe_type(type_: Callable[[str], object] | None) -> str | None:
    """The accepted range of a flag's ``type`` in words, ``None`` for types without one."""
    return type_.describe() if isinstance(type_, NumberType) else None
