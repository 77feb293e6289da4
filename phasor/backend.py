"""The implementation switch: which kernels the complex layers run on.

Every complex linear and convolution layer can be computed in more than one way,
all equal to float tolerance:

- ``"native"``: PyTorch's complex kernels on complex tensors.
- ``"real"``: One real kernel on stacked weights: ``[[A, -B], [B, A]] @ [x; y]`` with
  ``W = A + iB`` and ``h = x + iy`` (seed 003, eq. 1).
- ``"gauss"``: Three real products instead of four (Gauss's trick):
  ``t1 = A x``, ``t2 = B y``, ``t3 = (A + B)(x + y)``; real ``t1 - t2``, imaginary ``t3 - t1 - t2``.
- ``"auto"``: The fastest of the three for each op signature (op and options, shapes, dtype, device,
  which operands need gradients), measured once per process on random data and cached
  (`phasor._autotune`). ``"native"`` is the reference: another kernel is chosen only
  when it is clearly (10 %) faster, so near-ties stay on it. Inside ``torch.func``
  transforms and ``torch.compile`` it runs ``"native"``.
- ``"by-shape"``: one of the three per op by a fixed rule (`by_shape`), so it computes the same
  way on every run, unlike ``"auto"``.

A real input (images, waveforms) needs no choice: it is multiplied by the stacked weight
``[A; B]`` in one real op on every backend ([`phasor.functional.linear.complex_bilinear`][phasor.functional.linear.complex_bilinear]).

``"native"`` is the default. ``"auto"`` ties it on the seed models fed real images (their first
layers take the real-input path, and ``native`` wins the others) and picks the stacked real
kernel for a single-channel first convolution given complex input (``docs/performance.md``);
but which kernel it runs depends on a timing, so two runs with the same seed agree only to
float tolerance and a resumed run need not repeat the interrupted one bit for bit. phasor promises
both by default; opt in with ``phasor.set_backend("auto")`` where speed matters more.

Choose globally with `set_backend`, locally with `use_backend`, or per call
with the ``backend=`` argument of the functional ops.

Example:

    >>> import phasor
    >>> with phasor.use_backend("real"):
    ...     pass  # layers here run on real kernels
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = [
    "BACKENDS",
    "KERNELS",
    "by_shape",
    "get_backend",
    "resolve",
    "set_backend",
    "use_backend",
]

KERNELS: tuple[str, ...] = ("native", "real", "gauss")
"""The concrete implementations that ``"auto"`` chooses from."""

BACKENDS: tuple[str, ...] = (*KERNELS, "auto", "by-shape")
"""Every accepted backend name."""

_current = "native"


def by_shape(linear: bool, in_features: int, out_features: int, groups: int = 1) -> str:
    """The kernel of ``"by-shape"`` for a complex-input product: a fixed rule from measurements.

    Forward + backward against ``"native"``, one thread of a 2-core x86-64 CPU, median of 30
    interleaved rounds (issue 16 of the tracker): a linear layer on batch 256 takes 0.81-0.87x
    with ``"gauss"`` at 256-4096 features (1.05x at 64) and 1.08-1.40x with ``"real"``; a 3x3
    convolution on 32x32 takes 0.52-0.55x with ``"real"`` at 16 channels, 0.84x with ``"gauss"``
    at 64 and 0.93x at 256. Hence: linear layers ``"gauss"`` from 256 features on (both sides),
    else ``"native"``; ungrouped convolutions ``"real"`` below 64 channels, ``"gauss"`` from 64.
    Grouped convolutions stay ``"native"`` (not measured).

    Args:
        linear: a linear layer (else a convolution).
        in_features: input features (channels for a convolution).
        out_features: output features (channels).
        groups: convolution groups.
    """
    if linear:
        return "gauss" if min(in_features, out_features) >= 256 else "native"
    if groups != 1:
        return "native"
    return "real" if max(in_features, out_features) < 64 else "gauss"


def get_backend() -> str:
    """Return the name of the backend that layers use when none is given."""
    return _current


def set_backend(name: str) -> None:
    """Set the default backend for all complex linear and convolution layers."""
    global _current
    _current = resolve(name)


def resolve(name: str | None) -> str:
    """Return ``name`` checked against `BACKENDS`, or the current default if ``None``."""
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
