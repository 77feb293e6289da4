"""Atomic, safely loaded training checkpoints.

A checkpoint is one file written with :func:`torch.save` holding only tensors, numbers,
strings and containers of those, so it is read back with ``torch.load(weights_only=True)``:
loading never runs code from the file. Writes go to a temporary file in the same folder,
are flushed to disk, then renamed over the old file (:func:`os.replace` is atomic), so a
crash or ``SIGKILL`` during a write leaves the previous checkpoint intact.

Layout of the saved dictionary::

    format        "phasor.train.checkpoint"
    version       CHECKPOINT_VERSION (files from a newer version are refused)
    model         state_dict of the (unwrapped) model
    model_class   class name of the model, for error messages
    optimizer     optimizer.state_dict(); optimizer_class its class name
    scheduler     scheduler.state_dict() or None
    rng           per-process random states (torch, CUDA, numpy, random), one per rank
    position      epoch, step_in_epoch, global_step, sampler generator state of the epoch
    running       partial sums of the current epoch's metrics
    history       the per-epoch metric dicts so far
    early_stopping, finished, config, world_size
"""

from __future__ import annotations

import os
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from phasor.train.errors import CheckpointError

CHECKPOINT_FORMAT = "phasor.train.checkpoint"
CHECKPOINT_VERSION = 1

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "check_model_matches",
    "get_rng_state",
    "load_checkpoint",
    "save_checkpoint",
    "set_rng_state",
]


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``path`` atomically (temporary file, fsync, rename).

    ``format`` and ``version`` keys are added. Returns the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **payload}
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            torch.save(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(
    path: str | os.PathLike,
    model: torch.nn.Module | None = None,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Read a checkpoint with safe deserialisation and check it.

    Raises :class:`CheckpointError` naming ``path`` when the file is missing, empty,
    truncated or corrupted, holds objects that safe loading refuses, is not a phasor
    checkpoint, comes from a newer format version, or (when ``model`` is given) holds
    parameters of a different model.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: the file is empty (an interrupted copy or write?)")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # any failure to parse the bytes is reported the same way
        reason = _reason(exc)
        if isinstance(exc, pickle.UnpicklingError) and "GLOBAL" in reason:
            raise CheckpointError(
                f"{path}: refused by safe loading (weights_only=True): it holds objects other "
                f"than tensors, numbers and strings, so it was not written by phasor.train "
                f"({reason})"
            ) from exc
        raise CheckpointError(
            f"{path}: cannot be read; the file is truncated or corrupted "
            f"({type(exc).__name__}: {reason}). Delete it to start over, or restore a copy."
        ) from exc
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path}: not a phasor training checkpoint (no '{CHECKPOINT_FORMAT}' format tag)"
        )
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{path}: invalid checkpoint format version {version!r}")
    if version > CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: written by a newer checkpoint format (version {version}); this phasor "
            f"reads versions up to {CHECKPOINT_VERSION}. Upgrade phasor to load it."
        )
    if model is not None:
        check_model_matches(path, data, model)
    return data


def _reason(exc: BaseException) -> str:
    """The specific part of a loading error, without torch's generic advice paragraphs."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    generic = ("Weights only load failed", "Check the documentation", "Please file an issue")
    specific = [ln for ln in lines if not ln.startswith(generic)]
    text = " ".join(specific) or (lines[0] if lines else type(exc).__name__)
    return text if len(text) <= 300 else text[:297] + "..."


def check_model_matches(
    path: str | os.PathLike, data: dict[str, Any], model: torch.nn.Module
) -> None:
    """Raise :class:`CheckpointError` unless ``data['model']`` fits ``model`` exactly
    (same parameter and buffer names, shapes and dtypes)."""
    saved = data.get("model")
    if not isinstance(saved, dict):
        raise CheckpointError(f"{path}: the checkpoint holds no model state")
    own = model.state_dict()
    problems = []
    missing = sorted(set(own) - set(saved))
    unexpected = sorted(set(saved) - set(own))
    if missing:
        problems.append(f"it lacks {_preview(missing)}")
    if unexpected:
        problems.append(f"it has unknown {_preview(unexpected)}")
    for name in sorted(set(own) & set(saved)):
        a, b = saved[name], own[name]
        if not isinstance(a, torch.Tensor):
            problems.append(f"{name} is not a tensor")
        elif a.shape != b.shape:
            problems.append(f"{name} has shape {tuple(a.shape)}, the model {tuple(b.shape)}")
        elif a.dtype != b.dtype:
            problems.append(f"{name} has dtype {a.dtype}, the model {b.dtype}")
    if problems:
        saved_cls = data.get("model_class", "another model")
        raise CheckpointError(
            f"{path}: checkpoint is from a different model ({saved_cls}, this is "
            f"{type(model).__name__}): "
            + "; ".join(problems[:6])
            + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
        )


def _preview(names: list[str], n: int = 4) -> str:
    shown = ", ".join(names[:n])
    return shown + (f" (+{len(names) - n} more)" if len(names) > n else "")


def get_rng_state() -> dict[str, Any]:
    """Random states of torch (CPU and CUDA), numpy's global generator and ``random``,
    in a form that safe loading accepts (tensors, ints, lists, tuples)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)  # noqa: NPY002
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the states captured by :func:`get_rng_state`."""
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))  # noqa: NPY002
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
