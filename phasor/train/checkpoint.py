"""Atomic, safely loaded, checksummed training checkpoints.

A checkpoint is one file written with `torch.save` holding only tensors, numbers,
strings and containers of those, so it is read back with ``torch.load(weights_only=True)``:
loading never runs code from the file. Writes go to a temporary file in the same folder,
are flushed to disk, then renamed over the old file (`os.replace` is atomic), so a
crash or ``SIGKILL`` during a write leaves the previous checkpoint intact.

The file holds an envelope:

    format        "phasor.train.checkpoint"
    version       CHECKPOINT_VERSION (files from any other version are refused)
    sha256        hex SHA-256 digest of the payload bytes, computed at save time
    payload       the payload dictionary serialised by torch.save, as a uint8 tensor

Loading recomputes the digest of ``payload`` and refuses the file when it differs, so a
flipped bit anywhere in the stored weights, optimiser state or metadata is reported as a
corrupted file instead of resuming silently (or looking like a diverging run). The
payload is then deserialised, again with ``weights_only=True``.

Layout of the payload dictionary (what `load_checkpoint` returns, plus ``format``
and ``version``):

    model         state_dict of the (unwrapped) model
    model_class   class name of the model, for error messages
    optimizer     optimizer.state_dict(); optimizer_class its class name
    scheduler     scheduler.state_dict() or None
    rng           per-process random states (torch, CUDA, numpy, random), one per rank
    position      epoch, step_in_epoch, global_step, sampler generator state of the epoch
    running       partial sums of the current epoch's metrics
    history       the per-epoch metric dicts so far
    early_stopping, finished, world_size
    config        TrainConfig.to_dict() of the run
    run_settings  the Trainer's run_settings plus the data-set sizes and metrics
    resumes       the resumes that changed a setting: [{"at_epoch", "changed"}, ...]
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from phasor.train.errors import CheckpointError

CHECKPOINT_FORMAT = "phasor.train.checkpoint"
CHECKPOINT_VERSION = 2  # 2: payload checksum, stored run settings

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

    The payload is serialised with `torch.save`, its SHA-256 digest is computed,
    and both are written in the envelope described in the module docstring. Returns the
    path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    raw = bytearray(buffer.getbuffer())
    envelope = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "payload": torch.frombuffer(raw, dtype=torch.uint8),
    }
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            torch.save(envelope, fh)
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
    """Read a checkpoint with safe deserialisation, verify its checksum and check it.

    Returns the payload dictionary with ``format`` and ``version`` added.

    Raises `CheckpointError` naming ``path`` when the file is missing, empty,
    truncated or corrupted (its payload does not match the stored SHA-256 digest), holds
    objects that safe loading refuses, is not a phasor checkpoint, comes from another
    format version, or (when ``model`` is given) holds parameters of a different model.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: the file is empty (an interrupted copy or write?)")
    envelope = _safe_load(path, path, map_location)
    if not isinstance(envelope, dict) or envelope.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path}: not a phasor training checkpoint (no '{CHECKPOINT_FORMAT}' format tag)"
        )
    version = envelope.get("version")
    if not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{path}: invalid checkpoint format version {version!r}")
    if version > CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: written by a newer checkpoint format (version {version}); this phasor "
            f"reads version {CHECKPOINT_VERSION}. Upgrade phasor to load it."
        )
    if version < CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: written by an older checkpoint format (version {version}), which has "
            f"no checksum and no record of the run's settings, so this phasor (version "
            f"{CHECKPOINT_VERSION}) cannot verify it. Start a fresh run (delete the file or "
            "choose a new output folder), or finish the run with the phasor that wrote it."
        )
    raw, digest = envelope.get("payload"), envelope.get("sha256")
    if not (
        isinstance(raw, torch.Tensor)
        and raw.dtype == torch.uint8
        and raw.dim() == 1
        and isinstance(digest, str)
    ):
        raise CheckpointError(f"{path}: incomplete checkpoint (no payload or no checksum)")
    payload_bytes = raw.cpu().numpy().tobytes()
    if hashlib.sha256(payload_bytes).hexdigest() != digest:
        raise CheckpointError(
            f"{path}: the file is corrupted: its contents do not match the SHA-256 checksum "
            "written with it (damaged by the disk, a copy or a transfer). Restore a good "
            "copy, or delete it to start over."
        )
    data = _safe_load(io.BytesIO(payload_bytes), path, map_location)
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: the payload is not a dictionary")
    data = {**data, "format": CHECKPOINT_FORMAT, "version": version}
    if model is not None:
        check_model_matches(path, data, model)
    return data


def _safe_load(source: Path | io.BytesIO, path: Path, map_location) -> Any:
    """``torch.load(source, weights_only=True)``; any failure is a CheckpointError."""
    try:
        return torch.load(source, map_location=map_location, weights_only=True)
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
    """Raise `CheckpointError` unless ``data['model']`` fits ``model`` exactly
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
    """Restore the states captured by `get_rng_state`."""
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))  # noqa: NPY002
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
