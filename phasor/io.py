"""Writers for the files every study leaves in its ``--out`` folder."""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["to_jsonable", "write_csv", "write_json"]


def to_jsonable(value: Any) -> Any:
    """Convert tensors, arrays, paths and numpy scalars to JSON types; NaN/Inf become ``None``."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, torch.Tensor):
        return to_jsonable(value.detach().cpu().tolist())
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, complex):
        return {"real": to_jsonable(value.real), "imag": to_jsonable(value.imag)}
    if isinstance(value, Path):
        return str(value)
    return value


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give; temporary files are created 0600


def _publish(tmp_name: str, path: Path) -> None:
    os.chmod(tmp_name, _FILE_MODE)
    os.replace(tmp_name, path)


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        tmp.write(text)
    _publish(tmp.name, path)


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON (atomically: a crash never leaves half a file)."""
    path = Path(path)
    _atomic_write_text(path, json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n")
    return path


def write_csv(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write a list of flat dicts as CSV; the header is the union of keys in first-seen order."""
    rows = [dict(r) for r in rows]
    fields: list[str] = []
    for row in rows:
        fields.extend(k for k in row if k not in fields)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, delete=False, newline="", suffix=".tmp"
    ) as tmp:
        writer = csv.DictWriter(tmp, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: to_jsonable(v) for k, v in row.items()})
    _publish(tmp.name, path)
    return path
