"""The implementation switch: which kernels the complex layers run on.

Every complex linear and convolution layer can be computed in more than one way,
all equal to float tolerance:

``"native"``
    PyTorch's complex kernels on complex tensors.
``"real"``
    One real kernel on stacked weights: ``[[A, -B], [B, A]] @ [x; y]`` with
    ``W = A + iB`` and ``h = x + iy`` (seed 003, eq. 1).
``"gauss"``
    Three real products instead of four (Gauss's trick):
    ``t1 = A x``, ``t2 = B y``, ``t3 = (A + B)(x + y)``; real ``t1 - t2``, imaginary ``t3 - t1 - t2``.

Choose globally with :func:`set_backend`, locally with :func:`use_backend`, or per call
with the ``backend=`` argument of the functional ops.

Example::

    >>> import phasor
    >>> with phasor.use_backend("real"):
    ...     pass  # layers here run on real kernels
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

BACKENDS: tuple[str, ...] = ("native", "real", "gauss")

_current = "native"


def get_backend() -> str:
    """Return the name of the backend that layers use when none is given."""
    return _current


def set_backend(name: str) -> None:
    """Set the default backend for all complex linear and convolution layers."""
    global _current
    _current = resolve(name)


def resolve(name: str | None) -> str:
    """Return ``name`` checked against :data:`BACKENDS`, or the current default if ``None``."""
    if name is None:
        return _current
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return name


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Context manager that switches the default backend and restores it on exit."""
    global _current
    previous = _current
    _current = resolve(name)
    try:
        yield
    finally:
        _current = previous
