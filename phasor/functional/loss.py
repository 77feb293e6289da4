"""Heads and losses: map complex outputs to real scores, probabilities and losses.

A classifier with complex logits needs a real number per class; the maps here are the
modulus ``|z|``, the squared modulus ``|z|^2`` (the ``modSoftmax`` head of seed 000) and the
real part. Gradients are finite everywhere, including at ``z = 0``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from phasor._validation import check_complex
from phasor.functional.activation import modulus

__all__ = [
    "REAL_MAPS",
    "complex_cross_entropy",
    "complex_mse",
    "magnitude",
    "mod_log_softmax",
    "mod_softmax",
]

_REDUCTIONS = ("mean", "sum", "none")


def _squared_modulus(z: torch.Tensor) -> torch.Tensor:
    """``Re(z)^2 + Im(z)^2``: smooth, with gradient ``2z`` (no square root, nothing to guard)."""
    return z.real.square() + z.imag.square()


_REAL_MAP_FUNCTIONS = {
    "magnitude": modulus,
    "squared_magnitude": _squared_modulus,
    "real": torch.real,
}
REAL_MAPS: tuple[str, ...] = tuple(_REAL_MAP_FUNCTIONS)


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}; choose one of {', '.join(_REDUCTIONS)}")


def _check_real_map(real_map: str) -> None:
    if real_map not in REAL_MAPS:
        raise ValueError(f"unknown real_map {real_map!r}; choose one of {', '.join(REAL_MAPS)}")


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def magnitude(z: torch.Tensor) -> torch.Tensor:
    r"""Magnitude head: the modulus ``|z|`` as real scores (e.g. logits for a real loss).

    .. math:: |z| = \sqrt{(\Re z)^2 + (\Im z)^2}

    The same function as :func:`phasor.functional.modulus`; at ``z = 0`` the gradient is 0.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real of the matching precision.
    """
    return modulus(z)


def mod_softmax(z: torch.Tensor, dim: int = -1) -> torch.Tensor:
    r"""Softmax of the squared modulus (seed 000's ``modSoftmax`` head).

    .. math:: \mathrm{modSoftmax}(z)_k = \frac{e^{|z_k|^2}}{\sum_j e^{|z_j|^2}}

    Computed as :func:`torch.softmax` of ``|z|^2``, which subtracts the maximum before
    exponentiating, so it stays finite for large ``|z|`` as long as ``|z|^2`` itself is
    finite in the input's precision.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real probabilities of the matching precision, summing to 1 along
          ``dim``.
    """
    check_complex(z)
    return torch.softmax(_squared_modulus(z), dim=dim)


def mod_log_softmax(z: torch.Tensor, dim: int = -1) -> torch.Tensor:
    r"""Logarithm of :func:`mod_softmax`, computed with log-sum-exp.

    .. math:: \log \mathrm{modSoftmax}(z)_k = |z_k|^2 - \log \sum_j e^{|z_j|^2}

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real of the matching precision.
    """
    check_complex(z)
    return torch.log_softmax(_squared_modulus(z), dim=dim)


def complex_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    real_map: str = "magnitude",
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Cross-entropy of a real map of complex logits against class indices.

    .. math:: \ell_n = -\log \frac{e^{m(z_{n, y_n})}}{\sum_c e^{m(z_{n,c})}}

    with :math:`m(z) = |z|` (``"magnitude"``), :math:`|z|^2` (``"squared_magnitude"``, i.e.
    the negative log of :func:`mod_softmax`, as in seed 000) or :math:`\Re z` (``"real"``).
    Equal to :func:`torch.nn.functional.cross_entropy` of the mapped logits.

    Args:
        logits: complex scores, class dimension 1 (or 0 for a single unbatched sample).
        target: integer class indices in ``[0, C)``.
        real_map: ``"magnitude"``, ``"squared_magnitude"`` or ``"real"``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Raises:
        TypeError: complex ``logits`` or integer ``target`` expected.
        ValueError: mismatched shapes, labels outside ``[0, C)``, unknown option.

    Shape:
        - logits: ``(C)``, ``(N, C)`` or ``(N, C, d_1, ..., d_k)``, complex.
        - target: ``()``, ``(N)`` or ``(N, d_1, ..., d_k)``, integer.
        - Output: scalar, or the shape of ``target`` if ``reduction="none"``.
    """
    check_complex(logits, "logits")
    _check_real_map(real_map)
    _check_reduction(reduction)
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    if target.dtype == torch.bool or target.is_floating_point() or target.is_complex():
        raise TypeError(f"target must hold integer class indices, got dtype {target.dtype}")
    if logits.dim() == 0:
        raise ValueError("logits must have a class dimension, got a 0-D tensor")
    class_dim = 0 if logits.dim() == 1 else 1
    expected = logits.shape[:class_dim] + logits.shape[class_dim + 1 :]
    if target.shape != expected:
        raise ValueError(
            f"target must have shape {tuple(expected)} for logits of shape "
            f"{tuple(logits.shape)} (class dimension {class_dim}), got {tuple(target.shape)}"
        )
    num_classes = logits.shape[class_dim]
    # Reading the labels is a data-dependent step that torch.func.vmap cannot batch: under torch.func
    # transforms the range check is left to torch.nn.functional.cross_entropy.
    wrapped = not torch.compiler.is_compiling() and (
        torch._C._functorch.is_functorch_wrapped_tensor(target)
    )
    if target.numel() > 0 and not wrapped:
        low, high = int(target.min()), int(target.max())
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"target labels must lie in [0, {num_classes - 1}] for {num_classes} classes, "
                f"got labels from {low} to {high}"
            )
    scores = _REAL_MAP_FUNCTIONS[real_map](logits)
    return F.cross_entropy(scores, target.long(), reduction=reduction)


def complex_mse(input: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    r"""Mean squared error of complex tensors: the squared modulus of the difference.

    .. math:: \ell = \operatorname{mean}_k |x_k - y_k|^2
        = \operatorname{mean}_k \bigl[(\Re x_k - \Re y_k)^2 + (\Im x_k - \Im y_k)^2\bigr]

    This is twice :func:`torch.nn.functional.mse_loss` of ``torch.view_as_real`` of the
    inputs (which also averages over the two parts).

    Args:
        input: complex prediction.
        target: complex target of the same shape and dtype (no broadcasting).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - input, target: ``(*)``, complex, same shape.
        - Output: scalar, or ``(*)`` real if ``reduction="none"``.
    """
    check_complex(input, "input")
    check_complex(target, "target")
    _check_reduction(reduction)
    if input.dtype != target.dtype:
        raise TypeError(
            f"input has dtype {input.dtype} but target has dtype {target.dtype}; "
            "convert one of them"
        )
    if input.shape != target.shape:
        raise ValueError(
            f"input and target must have the same shape, got {tuple(input.shape)} and "
            f"{tuple(target.shape)}"
        )
    return _reduce(_squared_modulus(input - target), reduction)
