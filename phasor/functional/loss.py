"""Heads and losses: map complex outputs to real scores, probabilities and losses.

A classifier with complex logits needs a real number per class; the maps here are the
modulus ``|z|``, the squared modulus ``|z|^2`` (the ``modSoftmax`` head of seed 000) and the
real part. Regression and signal losses compare a complex prediction with a complex target:
squared and absolute errors (on the complex difference or on each part), magnitude, phase and
log-magnitude losses, the scale-invariant SDR and the complex cosine similarity. Gradients
are finite everywhere, including at ``z = 0`` (where a phase is needed there, ``z / |z|`` is
taken as 0, the convention of `torch.sgn`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from phasor._validation import COMPLEX_DTYPES, REAL_DTYPES, check_complex
from phasor.functional.activation import _safe_modulus, modulus

__all__ = [
    "DISTANCE_MODES",
    "PHASE_KINDS",
    "REAL_MAPS",
    "complex_cosine_similarity",
    "complex_cross_entropy",
    "complex_l1",
    "complex_mse",
    "log_magnitude_loss",
    "magnitude",
    "magnitude_loss",
    "mod_log_softmax",
    "mod_softmax",
    "phase_loss",
    "si_sdr",
    "si_sdr_loss",
]

_REDUCTIONS = ("mean", "sum", "none")
DISTANCE_MODES: tuple[str, ...] = ("modulus", "split")
"""How the complex losses measure a difference: ``"modulus"`` (of the complex difference) or ``"split"`` (real and imaginary parts separately)."""
PHASE_KINDS: tuple[str, ...] = ("cosine", "squared")
"""The phase losses: ``"cosine"`` (1 - cos of the angle difference) or ``"squared"`` (the wrapped difference squared)."""
_SIMILARITY_MODES = ("real", "modulus")


def _squared_modulus(z: torch.Tensor) -> torch.Tensor:
    """``Re(z)^2 + Im(z)^2``: smooth, with gradient ``2z`` (no square root, nothing to guard)."""
    return z.real.square() + z.imag.square()


_REAL_MAP_FUNCTIONS = {
    "magnitude": modulus,
    "squared_magnitude": _squared_modulus,
    "real": torch.real,
}
REAL_MAPS: tuple[str, ...] = tuple(_REAL_MAP_FUNCTIONS)
"""The real maps from complex logits to class scores accepted by `complex_cross_entropy`."""


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}; choose one of {', '.join(_REDUCTIONS)}")


def _check_real_map(real_map: str) -> None:
    if real_map not in REAL_MAPS:
        raise ValueError(f"unknown real_map {real_map!r}; choose one of {', '.join(REAL_MAPS)}")


def _check_choice(value: str, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")


def _check_pair(input: torch.Tensor, target: torch.Tensor, allow_real: bool = False) -> None:
    """Complex (or, with ``allow_real``, real floating) tensors of one dtype and one shape."""
    if allow_real:
        for x, name in ((input, "input"), (target, "target")):
            if not isinstance(x, torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
            if x.dtype not in COMPLEX_DTYPES + REAL_DTYPES:
                raise TypeError(
                    f"{name} must be float32, float64, complex64 or complex128, got {x.dtype}; "
                    f"convert it, e.g. {name}.float()"
                )
    else:
        check_complex(input, "input")
        check_complex(target, "target")
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


def _energy(z: torch.Tensor) -> torch.Tensor:
    """``|z|^2`` of a complex or real tensor, without a square root."""
    return _squared_modulus(z) if z.is_complex() else z.square()


def _phase(z: torch.Tensor) -> torch.Tensor:
    """``z / |z|``, and 0 at ``z = 0`` with a zero gradient there."""
    _, nonzero, denom = _safe_modulus(z)
    return torch.where(nonzero, z / denom, torch.zeros_like(z))


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def magnitude(z: torch.Tensor) -> torch.Tensor:
    r"""Magnitude head: the modulus ``|z|`` as real scores (e.g. logits for a real loss).

    $$
    |z| = \sqrt{(\Re z)^2 + (\Im z)^2}
    $$

    The same function as [`phasor.functional.modulus`][phasor.functional.activation.modulus]; at ``z = 0`` the gradient is 0.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real of the matching precision.
    """
    return modulus(z)


def mod_softmax(z: torch.Tensor, dim: int = -1) -> torch.Tensor:
    r"""Softmax of the squared modulus (seed 000's ``modSoftmax`` head).

    $$
    \mathrm{modSoftmax}(z)_k = \frac{e^{|z_k|^2}}{\sum_j e^{|z_j|^2}}
    $$

    Computed as `torch.softmax` of ``|z|^2``, which subtracts the maximum before
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
    r"""Logarithm of `mod_softmax`, computed with log-sum-exp.

    $$
    \log \mathrm{modSoftmax}(z)_k = |z_k|^2 - \log \sum_j e^{|z_j|^2}
    $$

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

    $$
    \ell_n = -\log \frac{e^{m(z_{n, y_n})}}{\sum_c e^{m(z_{n,c})}}
    $$

    with $m(z) = |z|$ (``"magnitude"``), $|z|^2$ (``"squared_magnitude"``, i.e.
    the negative log of `mod_softmax`, as in seed 000) or $\Re z$ (``"real"``).
    Equal to `torch.nn.functional.cross_entropy` of the mapped logits.

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


def complex_mse(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", mode: str = "modulus"
) -> torch.Tensor:
    r"""Mean squared error of complex tensors: the squared modulus of the difference.

    $$
    \ell = \operatorname{mean}_k |x_k - y_k|^2
    = \operatorname{mean}_k \bigl[(\Re x_k - \Re y_k)^2 + (\Im x_k - \Im y_k)^2\bigr]
    $$

    ``mode="modulus"`` squares the modulus of the complex difference, ``mode="split"`` adds
    the squared errors of the real and imaginary parts; by Pythagoras the two are the same
    number (the option exists for symmetry with `complex_l1`, where they differ). This is
    twice `torch.nn.functional.mse_loss` of ``torch.view_as_real`` of the inputs (which
    also averages over the two parts).

    Args:
        input: complex prediction.
        target: complex target of the same shape and dtype (no broadcasting).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        mode: ``"modulus"`` or ``"split"``.

    Shape:
        - input, target: ``(*)``, complex, same shape.
        - Output: scalar, or ``(*)`` real if ``reduction="none"``.
    """
    _check_pair(input, target)
    _check_reduction(reduction)
    _check_choice(mode, DISTANCE_MODES, "mode")
    diff = input - target
    if mode == "split":
        return _reduce(diff.real.square() + diff.imag.square(), reduction)
    return _reduce(_squared_modulus(diff), reduction)


def complex_l1(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean", mode: str = "modulus"
) -> torch.Tensor:
    r"""Mean absolute error of complex tensors.

    $$
    \ell_k = |x_k - y_k| \quad (\text{"modulus"}), \qquad
    \ell_k = |\Re x_k - \Re y_k| + |\Im x_k - \Im y_k| \quad (\text{"split"})
    $$

    The modulus form is rotation invariant (the Euclidean distance in the plane); the split
    form is the L1 distance of the (Re, Im) pairs, i.e. twice
    `torch.nn.functional.l1_loss` of ``torch.view_as_real``. At ``x_k = y_k`` both use
    the gradient 0 (the subgradient of `torch.abs`).

    Args:
        input: complex prediction.
        target: complex target of the same shape and dtype (no broadcasting).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        mode: ``"modulus"`` or ``"split"``.

    Shape:
        - input, target: ``(*)``, complex, same shape.
        - Output: scalar, or ``(*)`` real if ``reduction="none"``.
    """
    _check_pair(input, target)
    _check_reduction(reduction)
    _check_choice(mode, DISTANCE_MODES, "mode")
    diff = input - target
    if mode == "split":
        return _reduce(diff.real.abs() + diff.imag.abs(), reduction)
    return _reduce(diff.abs(), reduction)


def magnitude_loss(
    input: torch.Tensor, target: torch.Tensor, p: float = 2.0, reduction: str = "mean"
) -> torch.Tensor:
    r"""Error of the magnitudes, blind to the phases.

    $$
    \ell_k = \bigl|\, |x_k| - |y_k| \,\bigr|^p
    $$

    ``p = 2`` (default) is the magnitude MSE of speech enhancement, ``p = 1`` the magnitude
    L1. The gradient is finite everywhere: 0 at ``x_k = 0`` and, for ``p = 1``, at
    ``|x_k| = |y_k|``.

    Args:
        input: complex prediction.
        target: complex target of the same shape and dtype.
        p: exponent, at least 1 (below 1 the gradient at ``|x_k| = |y_k|`` is infinite).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - input, target: ``(*)``, complex, same shape.
        - Output: scalar, or ``(*)`` real if ``reduction="none"``.
    """
    _check_pair(input, target)
    _check_reduction(reduction)
    if not p >= 1:
        raise ValueError(f"p must be at least 1, got {p}")
    return _reduce((input.abs() - target.abs()).abs().pow(p), reduction)


def phase_loss(
    input: torch.Tensor, target: torch.Tensor, kind: str = "cosine", reduction: str = "mean"
) -> torch.Tensor:
    r"""Error of the phases, blind to the magnitudes, with the difference wrapped.

    $$
    \ell_k = 1 - \cos(\arg x_k - \arg y_k) = 1 - \Re \frac{x_k \bar y_k}{|x_k|\,|y_k|}
    \quad (\text{"cosine"}), \qquad
    \ell_k = \bigl(\operatorname{wrap}(\arg x_k - \arg y_k)\bigr)^2
    \quad (\text{"squared"})
    $$

    where $\operatorname{wrap}(\delta) = \arg e^{i\delta} \in (-\pi, \pi]$, so a
    difference of $2\pi - 0.1$ counts as $-0.1$. ``"cosine"`` is smooth and lies in
    ``[0, 2]``; ``"squared"`` lies in ``[0, \pi^2]`` and, like the wrap itself, jumps where the
    difference crosses $\pm\pi$. Both are invariant to positive rescaling of either
    argument, element by element.

    Where ``x_k = 0`` or ``y_k = 0`` there is no phase: the phase factor ``z / |z|`` is taken as
    0 there, so the element contributes the constant 1 (``"cosine"``) or 0 (``"squared"``) with
    a zero gradient, finite in forward and backward.

    Args:
        input: complex prediction.
        target: complex target of the same shape and dtype.
        kind: ``"cosine"`` or ``"squared"``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - input, target: ``(*)``, complex, same shape.
        - Output: scalar, or ``(*)`` real if ``reduction="none"``.
    """
    _check_pair(input, target)
    _check_reduction(reduction)
    _check_choice(kind, PHASE_KINDS, "kind")
    rotation = _phase(input) * _phase(target).conj()
    if kind == "cosine":
        return _reduce(1 - rotation.real, reduction)
    # Where either phase is missing the rotation is 0, but its sign may be negative (0 * conj(y)
    # is -0 - 0i for some y), whose angle is -pi: take the angle of 1 there instead.
    defined = (input != 0) & (target != 0)
    angle = torch.angle(torch.where(defined, rotation, torch.ones_like(rotation)))
    return _reduce(angle.square(), reduction)


def log_magnitude_loss(
    input: torch.Tensor, target: torch.Tensor, eps: float = 1e-7, reduction: str = "mean"
) -> torch.Tensor:
    r"""Absolute error of the log-magnitudes (a log-spectral distance for spectrograms).

    $$
    \ell_k = \bigl|\log(|x_k| + \epsilon) - \log(|y_k| + \epsilon)\bigr|
    $$

    The logarithm weighs quiet and loud bins alike; $\epsilon$ bounds the loss and its
    gradient for near-silent bins (at most $1/\epsilon$ per element).

    Args:
        input: complex prediction, e.g. an STFT.
        target: complex target of the same shape and dtype.
        eps: positive offset inside the logarithms.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - input, target: ``(*)``, complex, same shape.
        - Output: scalar, or ``(*)`` real if ``reduction="none"``.
    """
    _check_pair(input, target)
    _check_reduction(reduction)
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    return _reduce((torch.log(input.abs() + eps) - torch.log(target.abs() + eps)).abs(), reduction)


def _dims(x: torch.Tensor, dim: int | tuple[int, ...]) -> tuple[int, ...]:
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims or any(not -x.dim() <= d < x.dim() for d in dims):
        raise ValueError(
            f"dim={dim} must name one or more dimensions of the input of shape {tuple(x.shape)}"
        )
    return dims


def _unit_energy(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """``x / ||x||`` over ``dims``; 0 for a signal of zero energy (with a zero gradient)."""
    energy = _energy(x).sum(dim=dims, keepdim=True)
    nonzero = energy > 0
    norm = torch.sqrt(torch.where(nonzero, energy, torch.ones_like(energy)))
    return torch.where(nonzero, x / norm, torch.zeros_like(x))


def si_sdr(
    input: torch.Tensor,
    target: torch.Tensor,
    dim: int | tuple[int, ...] = -1,
    eps: float = 1e-8,
) -> torch.Tensor:
    r"""Scale-invariant signal-to-distortion ratio in dB (Le Roux et al., 2019), per signal.

    With the inner product $\langle a, b \rangle = \sum_n \bar a_n b_n$ over ``dim``
    (complex for complex signals, the dot product for real ones), the estimate $\hat s$
    is split into its projection on the reference $s$ and the rest:

    $$
    \alpha = \frac{\langle s, \hat s \rangle}{\|s\|^2}, \qquad
    \mathrm{SI\text{-}SDR}(\hat s, s) = 10 \log_{10}
    \frac{\|\alpha s\|^2}{\|\hat s - \alpha s\|^2}
    $$

    It is unchanged when either signal is multiplied by a nonzero scalar (complex for complex
    signals: a global gain and phase). Both are first scaled to unit energy, which leaves the
    ratio as it is, and $\epsilon$ is then added to the two energies, which caps the
    result at about $10 \log_{10}(1/\epsilon)$ = 80 dB for the default and keeps it finite
    for identical signals; a signal of zero energy counts as zero after scaling. The means are
    not removed: subtract them first for the zero-mean variant.

    Use ``dim=-1`` for waveforms ``(..., time)`` (real or complex) and ``dim=(-2, -1)`` for
    complex spectrograms ``(..., freq, time)``, whose inner product is then the complex one
    over all bins. `si_sdr_loss` is the negative, as a loss to minimise.

    Args:
        input: estimate, real or complex.
        target: reference of the same shape and dtype.
        dim: dimension(s) that hold one signal.
        eps: non-negative offset of the unit-scaled energies.

    Shape:
        - input, target: ``(*)``, same shape.
        - Output: ``(*)`` without the dimensions in ``dim``, real.
    """
    _check_pair(input, target, allow_real=True)
    dims = _dims(input, dim)
    if not eps >= 0:
        raise ValueError(f"eps must be non-negative, got {eps}")
    estimate, reference = _unit_energy(input, dims), _unit_energy(target, dims)
    alpha = (reference.conj() * estimate).sum(dim=dims, keepdim=True)
    signal = _energy(alpha).sum(dim=dims)
    distortion = _energy(estimate - alpha * reference).sum(dim=dims)
    return 10 * (torch.log10(signal + eps) - torch.log10(distortion + eps))


def si_sdr_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    dim: int | tuple[int, ...] = -1,
    eps: float = 1e-8,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Negative SI-SDR in dB, a loss to minimise: $\ell = -\mathrm{SI\text{-}SDR}(\hat s, s)$.

    See `si_sdr` for the definition; a perfect estimate gives about -80 dB (the cap
    set by ``eps``), an estimate orthogonal to the reference about +80 dB.

    Args:
        input: estimate, real or complex (waveforms or complex spectrograms).
        target: reference of the same shape and dtype.
        dim: dimension(s) that hold one signal: ``-1`` for waveforms, ``(-2, -1)`` for
            spectrograms.
        eps: non-negative offset, see `si_sdr`.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (over the signals).

    Shape:
        - input, target: ``(*)``, same shape.
        - Output: scalar, or ``(*)`` without the dimensions in ``dim`` if ``reduction="none"``.
    """
    _check_reduction(reduction)
    return _reduce(-si_sdr(input, target, dim=dim, eps=eps), reduction)


def complex_cosine_similarity(
    x1: torch.Tensor, x2: torch.Tensor, dim: int = 1, eps: float = 1e-8, mode: str = "real"
) -> torch.Tensor:
    r"""Cosine similarity of complex vectors along ``dim``.

    $$
    \frac{\Re \langle x_1, x_2 \rangle}{\max(\|x_1\|, \epsilon)\,\max(\|x_2\|, \epsilon)}
    \quad (\text{"real"}), \qquad
    \frac{|\langle x_1, x_2 \rangle|}{\max(\|x_1\|, \epsilon)\,\max(\|x_2\|, \epsilon)}
    \quad (\text{"modulus"})
    $$

    with $\langle a, b \rangle = \sum_n \bar a_n b_n$. ``"real"`` lies in ``[-1, 1]``
    and is the cosine similarity of the vectors of (Re, Im) pairs (as
    `torch.nn.functional.cosine_similarity` of ``torch.view_as_real``, flattened);
    ``"modulus"`` lies in ``[0, 1]`` and ignores a global phase: it is 1 when
    $x_2 = c\,x_1$ for any complex $c \neq 0$. The norms are clamped by
    $\epsilon$, as in torch. For a loss use ``1 - similarity``.

    Args:
        x1: complex tensors of the same shape and dtype.
        x2: complex tensors of the same shape and dtype.
        dim: dimension of the vectors.
        eps: lower bound of each norm.
        mode: ``"real"`` or ``"modulus"``.

    Shape:
        - x1, x2: ``(*)``, complex, same shape.
        - Output: ``(*)`` without ``dim``, real.
    """
    _check_pair(x1, x2)
    _check_choice(mode, _SIMILARITY_MODES, "mode")
    _dims(x1, dim)
    inner = (x1.conj() * x2).sum(dim=dim)
    norms = torch.linalg.vector_norm(x1, dim=dim).clamp_min(eps) * torch.linalg.vector_norm(
        x2, dim=dim
    ).clamp_min(eps)
    return (inner.real if mode == "real" else inner.abs()) / norms
