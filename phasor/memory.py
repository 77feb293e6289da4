"""Keep freed memory in the process instead of returning it to the operating system.

glibc's ``malloc`` serves every allocation above its *mmap threshold* (128 KiB at start, growing
adaptively up to 32 MiB) with a fresh ``mmap`` and gives it back with ``munmap`` when it is
freed, and it trims the top of the heap once more than the *trim threshold* is free. A training
step allocates and frees the same large activations every step, so every step faults the same
pages in again: on the STFT CNN of ``docs/performance.md`` about 1.5 million page faults, 63 %
of the step's time spent in the kernel (issue 16).

`keep_freed_memory` raises both thresholds (``mallopt(M_MMAP_THRESHOLD, ...)`` and
``mallopt(M_TRIM_THRESHOLD, ...)``), so large blocks come from the heap and stay there after
they are freed; the next step reuses them without a fault. It changes no arithmetic, only
where freed blocks go; the price is that the process keeps its peak heap until it exits.
The same effect at start-up: ``MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=4294967296``.

``phasor run`` calls it at start-up (``--no-keep-freed-memory`` or ``PHASOR_KEEP_FREED_MEMORY=0``
turns it off) and records the result in ``results.json``; so do the benchmarks.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

__all__ = ["DEFAULT_THRESHOLD", "ENV_VAR", "keep_freed_memory"]

M_TRIM_THRESHOLD = -1
"""glibc's ``mallopt`` parameter number of the trim threshold (``malloc.h``)."""
M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter number of the mmap threshold (``malloc.h``)."""

DEFAULT_THRESHOLD = 2**31 - 1
"""Bytes; the largest value glibc accepts for the mmap threshold on 64-bit systems is
``HEAP_MAX_SIZE / 2`` (32 MiB) unless set explicitly, and ``mallopt`` takes an ``int``, so
the explicit maximum is ``2**31 - 1``: blocks up to 2 GiB come from the heap."""

ENV_VAR = "PHASOR_KEEP_FREED_MEMORY"
"""Environment variable: ``0`` (or ``false``, ``no``, ``off``) makes ``phasor run`` skip the
call."""

_applied: dict[str, int] | None = None


def _libc():
    """The C library if it is glibc (the only one with these ``mallopt`` parameters), else None."""
    try:
        libc = ctypes.CDLL(None)
        version = libc.gnu_get_libc_version
    except (OSError, AttributeError):
        return None
    version.restype = ctypes.c_char_p
    return libc


def enabled_by_env() -> bool:
    """``False`` when `ENV_VAR` is set to ``0``, ``false``, ``no`` or ``off``."""
    return os.environ.get(ENV_VAR, "1").strip().lower() not in ("0", "false", "no", "off")


def keep_freed_memory(threshold: int = DEFAULT_THRESHOLD) -> dict[str, int] | None:
    """Make glibc keep freed blocks up to ``threshold`` bytes in the process for reuse.

    Sets ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` to ``threshold`` with ``mallopt``.
    Idempotent: a second call with the same threshold does nothing and returns the same value.

    Args:
        threshold: bytes, between 1 and ``2**31 - 1``.

    Returns:
        ``{"mmap_threshold": threshold, "trim_threshold": threshold}`` when the thresholds are
        set, ``None`` where the C library is not glibc (macOS, Windows, musl): there the call
        does nothing.

    Raises:
        ValueError: ``threshold`` out of range.
        OSError: glibc refused a value.
    """
    global _applied
    if not 1 <= threshold <= 2**31 - 1:
        raise ValueError(f"threshold must lie in [1, 2**31 - 1] bytes, got {threshold}")
    wanted = {"mmap_threshold": threshold, "trim_threshold": threshold}
    if _applied == wanted:
        return dict(_applied)
    libc = _libc()
    if libc is None:
        return None
    mallopt = libc.mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    for param, name in (
        (M_MMAP_THRESHOLD, "M_MMAP_THRESHOLD"),
        (M_TRIM_THRESHOLD, "M_TRIM_THRESHOLD"),
    ):
        if mallopt(param, threshold) != 1:
            raise OSError(f"mallopt({name}, {threshold}) failed")
    _applied = wanted
    return dict(wanted)
