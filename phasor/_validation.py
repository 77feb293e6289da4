"""Input checks shared by the layers, with error messages that say what to do."""

from __future__ import annotations

import torch

COMPLEX_DTYPES = (torch.complex64, torch.complex128)
REAL_DTYPES = (torch.float32, torch.float64)


def check_complex(x: torch.Tensor, name: str = "input") -> None:
    """Raise ``TypeError`` unless ``x`` is a complex64 or complex128 tensor."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype not in COMPLEX_DTYPES:
        raise TypeError(
            f"{name} must be complex64 or complex128, got {x.dtype}; "
            "convert real data first, e.g. with phasor.functional.to_complex(x)"
        )


def check_layer_input(x: torch.Tensor, weight: torch.Tensor) -> None:
    """Raise ``TypeError`` unless ``x`` can multiply the complex ``weight`` without a cast.

    Accepted: a complex ``x`` of the weight's dtype, or a real ``x`` of the weight's real dtype
    (``float32`` for ``complex64``, ``float64`` for ``complex128``), e.g. images or waveforms.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"input must be a torch.Tensor, got {type(x).__name__}")
    real = weight.dtype.to_real()
    if x.dtype not in (weight.dtype, real):
        raise TypeError(
            f"input has dtype {x.dtype} but the layer's weight is {weight.dtype}; the input must "
            f"be {weight.dtype} or real {real}; convert it, e.g. x.to({real})"
        )


def check_ndim(
    x: torch.Tensor, allowed: tuple[int, ...], name: str = "input", shape: str = ""
) -> None:
    """Raise ``ValueError`` unless ``x.dim()`` is one of ``allowed``; ``shape`` describes the layout."""
    if x.dim() not in allowed:
        expected = " or ".join(f"{n}-D" for n in allowed)
        hint = f" {shape}" if shape else ""
        raise ValueError(f"{name} must be {expected}{hint}, got shape {tuple(x.shape)}")


def check_finite(x: torch.Tensor, name: str = "input") -> None:
    """Raise ``ValueError`` if ``x`` holds NaN or Inf (in either part, for complex tensors)."""
    bad = ~torch.isfinite(torch.view_as_real(x) if x.is_complex() else x)
    if bool(bad.any()):
        count = int(bad.sum())
        raise ValueError(f"{name} contains {count} non-finite value(s) (NaN or Inf)")


def check_same_dtype(x: torch.Tensor, weight: torch.Tensor, name: str = "input") -> None:
    """Raise ``TypeError`` if ``x`` and ``weight`` have different dtypes (no silent precision loss)."""
    if x.dtype != weight.dtype:
        raise TypeError(
            f"{name} has dtype {x.dtype} but the layer's weight is {weight.dtype}; "
            f"convert one of them (e.g. model.to(torch.{str(x.dtype).split('.')[-1]}))"
        )
