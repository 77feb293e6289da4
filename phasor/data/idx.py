"""Reader for the IDX format of MNIST-like data sets (gzipped or not).

An IDX file is a big-endian header ``0x00 0x00 <type> <ndim>``, then ``ndim`` 32-bit sizes,
then the data. Only unsigned bytes (type ``0x08``) are used by the image data sets here.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

__all__ = ["DataError", "gunzip", "parse_idx", "read_idx", "read_idx_bytes", "write_idx"]

_UBYTE = 0x08


class DataError(ValueError):
    """A data file is missing, truncated, corrupted or fails its checksum."""


def read_idx_bytes(path: str | Path) -> bytes:
    """Return the raw (decompressed) IDX bytes of ``path``; ``.gz`` files are decompressed."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    raw = path.read_bytes()
    return gunzip(raw, source=str(path)) if path.suffix == ".gz" else raw


def gunzip(data: bytes, source: str = "<bytes>") -> bytes:
    """Decompress gzip ``data``; a broken archive raises `DataError` naming ``source``."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(
            f"{source}: not a valid gzip file ({err}); delete it and fetch it again"
        ) from err


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file of unsigned bytes into an array of its stated shape.

    Raises `DataError` naming the file if the header is wrong or the data is truncated.
    """
    return parse_idx(read_idx_bytes(path), source=str(path))


def parse_idx(raw: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes (see `read_idx`); ``source`` names the file in errors."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{source}: not an IDX file (bad magic number)")
    if raw[2] != _UBYTE:
        raise DataError(
            f"{source}: IDX type 0x{raw[2]:02x} is not supported (expected unsigned bytes)"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{source}: truncated IDX header")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape)) if shape else 0
    available = len(raw) - header
    if available != expected:
        kind = "truncated" if available < expected else "has trailing bytes"
        raise DataError(
            f"{source}: {kind}: header says shape {shape} ({expected} bytes), file holds {available}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file (gzipped if ``path`` ends in ``.gz``)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, _UBYTE, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    raw = header + array.tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
