"""Data checks run by the trainer on every batch before it reaches the model, and the
divergence check of the studies' hand-written training loops.

Each check raises [`TrainingError`][phasor.train.errors.TrainingError] with a message that says
where the problem is (which data set, which samples) and how to fix it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from phasor.train.errors import TrainingError

__all__ = [
    "DIVERGENCE_FACTOR",
    "check_dataset",
    "check_divergence",
    "check_inputs",
    "check_loss",
    "check_targets",
    "count_nonfinite",
]


def check_dataset(dataset: object, name: str) -> int:
    """Return ``len(dataset)``; raise if it has no length or is empty."""
    try:
        n = len(dataset)  # type: ignore[arg-type]
    except TypeError as exc:
        raise TrainingError(
            f"{name} must be a map-style torch Dataset with a length "
            f"(e.g. TensorDataset), got {type(dataset).__name__}"
        ) from exc
    if n == 0:
        raise TrainingError(f"{name} is empty: it has no samples to train or evaluate on")
    return n


def count_nonfinite(t: torch.Tensor) -> torch.Tensor:
    """Per-sample count of NaN/Inf entries (either part of complex values), shape ``(N,)``."""
    real = torch.view_as_real(t) if t.is_complex() else t
    bad = ~torch.isfinite(real)
    return bad.reshape(bad.shape[0], -1).sum(dim=1) if bad.dim() > 0 else bad.reshape(1)


def _samples(indices: Sequence[int] | torch.Tensor | None, rows: torch.Tensor) -> str:
    rows = rows.flatten()[:5].tolist()
    if indices is not None:
        picked = [int(indices[i]) for i in rows]
        return "sample(s) " + ", ".join(map(str, picked))
    return "batch row(s) " + ", ".join(map(str, rows))


def check_inputs(
    x: object, where: str, indices: Sequence[int] | torch.Tensor | None = None
) -> None:
    """Inputs must be a floating or complex tensor with finite values.

    ``where`` names the data set (and transform) for the message; ``indices`` are the
    data-set indices of the batch rows, so the message can point at bad samples.
    """
    if not isinstance(x, torch.Tensor):
        raise TrainingError(f"{where}: inputs must be torch.Tensor, got {type(x).__name__}")
    if not (x.is_floating_point() or x.is_complex()):
        raise TrainingError(
            f"{where}: inputs have dtype {x.dtype}; models take floating or complex input. "
            "Convert them first, e.g. x.float() / 255 for images, or "
            "phasor.functional.to_complex(x) for complex models"
        )
    if x.dim() == 0:
        raise TrainingError(f"{where}: inputs must have a batch dimension, got a scalar")
    bad = count_nonfinite(x)
    if bool(bad.any()):
        rows = torch.nonzero(bad).flatten()
        raise TrainingError(
            f"{where}: inputs contain {int(bad.sum())} non-finite value(s) (NaN or Inf) in "
            f"{_samples(indices, rows)}; clean or drop those samples before training"
        )


def check_targets(
    y: object,
    outputs: torch.Tensor,
    where: str,
    needs_labels: bool,
    indices: Sequence[int] | torch.Tensor | None = None,
) -> None:
    """Targets must match the outputs' batch size; class labels must lie in
    ``[0, C)`` where ``C = outputs.shape[1]``; real or complex targets must be finite.

    ``needs_labels`` is True when a classification metric (accuracy) was asked for.
    """
    if not isinstance(y, torch.Tensor):
        raise TrainingError(f"{where}: targets must be torch.Tensor, got {type(y).__name__}")
    if y.dim() == 0 or y.shape[0] != outputs.shape[0]:
        raise TrainingError(
            f"{where}: targets have shape {tuple(y.shape)} but the model returned "
            f"{tuple(outputs.shape)}; the first (batch) dimensions must agree"
        )
    if y.dtype == torch.bool:
        raise TrainingError(f"{where}: targets have dtype torch.bool; use y.long() for classes")
    integer = not (y.is_floating_point() or y.is_complex())
    if needs_labels and outputs.dim() < 2:
        raise TrainingError(
            f"{where}: accuracy needs class scores of shape (N, C, ...), but the model returned "
            f"shape {tuple(outputs.shape)}; pass metrics=() or return one score per class"
        )
    if needs_labels and not integer:
        raise TrainingError(
            f"{where}: accuracy needs integer class labels but targets have dtype {y.dtype}; "
            "convert them with y.long(), or pass metrics=() for regression"
        )
    if integer:
        if outputs.dim() < 2:
            return
        classes = outputs.shape[1]
        bad = (y < 0) | (y >= classes)
        if bool(bad.any()):
            per_row = bad.reshape(bad.shape[0], -1).any(dim=1)
            values = sorted({int(v) for v in y[bad].flatten()[:20].tolist()})
            raise TrainingError(
                f"{where}: labels out of range: the model has {classes} outputs (classes "
                f"0..{classes - 1}) but got label(s) {values} in "
                f"{_samples(indices, torch.nonzero(per_row).flatten())}"
            )
        return
    bad = count_nonfinite(y)
    if bool(bad.any()):
        raise TrainingError(
            f"{where}: targets contain {int(bad.sum())} non-finite value(s) (NaN or Inf) in "
            f"{_samples(indices, torch.nonzero(bad).flatten())}"
        )


def check_loss(loss: object, where: str) -> None:
    """The loss must be a real scalar tensor (finiteness is checked by the trainer)."""
    if not isinstance(loss, torch.Tensor):
        raise TrainingError(f"{where}: loss_fn must return a tensor, got {type(loss).__name__}")
    if loss.is_complex():
        raise TrainingError(
            f"{where}: loss_fn returned a complex tensor; a loss must be real to be minimised "
            "(e.g. take its magnitude, or use phasor.functional.complex_mse)"
        )
    if loss.numel() != 1:
        raise TrainingError(
            f"{where}: loss_fn must return a scalar, got shape {tuple(loss.shape)} "
            "(use reduction='mean')"
        )


#: A loss that grows past this multiple of its starting value has diverged: a working descent
#: from a fresh initialisation never climbs that far.
DIVERGENCE_FACTOR = 100.0


def check_divergence(
    value: float,
    start: float | None,
    where: str,
    at: str,
    advice: str,
    quantity: str = "the loss",
) -> None:
    """Raise `TrainingError` when ``value`` (``quantity`` at ``at``, e.g. ``"step 3"``)
    is not finite or exceeds ``DIVERGENCE_FACTOR`` times ``start`` (``None``: the first value,
    checked for finiteness only). The message reads
    ``"{where}: training diverged at {at}: {what}; {advice}"``."""
    if not math.isfinite(value):
        what = f"{quantity} is {value}"
    elif start is not None and value > DIVERGENCE_FACTOR * start:
        what = f"{quantity} {value:.3g} is over {DIVERGENCE_FACTOR:g}x its start ({start:.3g})"
    else:
        return
    raise TrainingError(f"{where}: training diverged at {at}: {what}; {advice}")
