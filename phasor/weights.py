r"""Weight-information projections: keep one kind of information in a network's weights.

Seed 000 ("phase matters more") asks how much of a trained network's accuracy survives when
every weight keeps only one kind of information. For a weight $w = |w|\,e^{i\theta}$:

| kind | projection | paper's constant ``scale`` |
|---|---|---|
| ``"real"`` | $c\,\Re w$ | 1 |
| ``"imag"`` | $c\,\Im w$, used as a *real* weight | 1 |
| ``"amplitude"`` | $c\,\lvert w\rvert$ | 0.1 |
| ``"phase"`` | $c\,e^{i\theta}$ | 0.01 |
| ``"magnitude"`` | $c\,\lvert w\rvert$ (real networks) | 0.1 |
| ``"sign"`` | $c\,\operatorname{sign}(w)$ (real) | 0.1 |

The constant $c$ is ``scale``: a number, or ``"mean"``, which picks $c$ so that the
projection has the same mean magnitude $\overline{|w|}$ as the tensor (for ``"phase"``
and ``"sign"``: $c = \overline{|w|}$; this keeps each layer's overall size). In a
bias-free network of positively homogeneous activations (ReLU, CReLU) a constant ``scale``
multiplies the logits by a positive number, so it changes no prediction: it matters only
when training goes on from the projection (the "projected" regime). Projections of a complex tensor
stay complex (a real result gets a zero imaginary part, so it can be written back into a
complex parameter); projections of a real tensor stay real. ``"imag"`` needs a complex tensor,
``"sign"`` a real one; the phase of $w = 0$ is taken as 0 (as `torch.angle`).

Two ways to use them (see ``docs/weights.md``):

* **probe** (what the paper's code did): train normally and, at checkpoints, evaluate a
  projected *copy*: `projected_copy`, `masked_copy`.
* **projected**: replace the weights by their projection after every optimiser step and keep
  training from there: call `project_model_` after ``optimizer.step()``.

Every function that takes a model works on any ``torch.nn.Module`` (``phasor.nn`` or
``torch.nn`` layers): it changes the parameters called ``weight`` with two or more dimensions
(linear and convolution kernels), never biases or normalisation parameters.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable

import torch
from torch import nn

__all__ = [
    "KINDS",
    "PAPER_SCALES",
    "hidden_unit_masks",
    "keep_amplitude",
    "keep_imag",
    "keep_magnitude",
    "keep_phase",
    "keep_real",
    "keep_sign",
    "mask_random_half_",
    "masked_copy",
    "project",
    "project_model_",
    "projected_copy",
    "random_half_mask",
    "weight_parameters",
]

Scale = float | str

PAPER_SCALES: dict[str, float] = {
    "real": 1.0,
    "imag": 1.0,
    "amplitude": 0.1,
    "phase": 0.01,
    "magnitude": 0.1,
    "sign": 0.1,
}
"""The constants of the paper's code for each kind (``scale=`` default of the study)."""


def _check_tensor(w: torch.Tensor) -> None:
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor, got {type(w).__name__}")
    if not (w.is_floating_point() or w.is_complex()):
        raise TypeError(f"weight must be a real floating or complex tensor, got {w.dtype}")


def _rescale(w: torch.Tensor, out: torch.Tensor, scale: Scale) -> torch.Tensor:
    """``scale * out`` for a number; for ``"mean"``, ``out`` rescaled to the mean ``|w|``."""
    if isinstance(scale, str):
        if scale != "mean":
            raise ValueError(f"scale must be a number or 'mean', got {scale!r}")
        size = out.abs().mean()
        return out * (w.abs().mean() / size) if size > 0 else out
    return float(scale) * out


def _like(w: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """``real`` as the dtype of ``w``: a zero imaginary part is added for complex ``w``."""
    return torch.complex(real, torch.zeros_like(real)) if w.is_complex() else real


def keep_real(w: torch.Tensor, scale: Scale = 1.0) -> torch.Tensor:
    r"""Keep the real part: $w \mapsto c\,\Re w$ ($c\,w$ for a real tensor).

    Shape:
        - w: any shape; output: the same shape and dtype.
    """
    _check_tensor(w)
    return _rescale(w, _like(w, w.real), scale)


def keep_imag(w: torch.Tensor, scale: Scale = 1.0) -> torch.Tensor:
    r"""Keep the imaginary part, used as a real weight: $w \mapsto c\,\Im w + 0i$.

    This is the paper's "only imaginary" network (its code multiplies the inputs by
    ``W.imag``), not $i\,\Im w$.

    Raises:
        TypeError: ``w`` is real (it has no imaginary part).

    Shape:
        - w: any shape, complex; output: the same shape and dtype.
    """
    _check_tensor(w)
    if not w.is_complex():
        raise TypeError("keep_imag needs a complex tensor; a real tensor has no imaginary part")
    return _rescale(w, _like(w, w.imag), scale)


def keep_amplitude(w: torch.Tensor, scale: Scale = 1.0) -> torch.Tensor:
    r"""Keep the amplitude: $w \mapsto c\,|w|$ (the phase is set to 0).

    ``scale`` is $c$: a number (the paper used 0.1), or ``"mean"``, which gives
    $c = 1$ (the amplitude already keeps the mean magnitude).

    Shape:
        - w: any shape; output: the same shape and dtype.
    """
    _check_tensor(w)
    return _rescale(w, _like(w, w.abs()), scale)


def keep_magnitude(w: torch.Tensor, scale: Scale = 1.0) -> torch.Tensor:
    r"""Keep the magnitude of real weights: $w \mapsto c\,|w|$ (the sign is dropped).

    The real-network name of `keep_amplitude`; it accepts complex tensors too.

    Shape:
        - w: any shape; output: the same shape and dtype.
    """
    return keep_amplitude(w, scale)


def keep_phase(w: torch.Tensor, scale: Scale = 1.0) -> torch.Tensor:
    r"""Keep the phase: $w \mapsto c\,e^{i \arg w}$ (every amplitude set to $c$).

    The paper used $c = 0.01$. For a real tensor the phase is 0 or $\pi$, so this is
    $c\,\operatorname{sign}(w)$ except that $w = 0$ maps to $c$.

    Shape:
        - w: any shape; output: the same shape and dtype.
    """
    _check_tensor(w)
    if w.is_complex():
        angle = torch.angle(w)
        return _rescale(w, torch.complex(torch.cos(angle), torch.sin(angle)), scale)
    return _rescale(w, torch.where(w < 0, -1.0, 1.0).to(w.dtype), scale)


def keep_sign(w: torch.Tensor, scale: Scale = 1.0) -> torch.Tensor:
    r"""Keep the sign of real weights: $w \mapsto c\,\operatorname{sign}(w)$ (binary weights).

    The paper used $c = 0.1$; ``sign(0) = 0``.

    Raises:
        TypeError: ``w`` is complex (use `keep_phase`).

    Shape:
        - w: any shape, real; output: the same shape and dtype.
    """
    _check_tensor(w)
    if w.is_complex():
        raise TypeError("keep_sign needs a real tensor; for complex weights use keep_phase")
    return _rescale(w, torch.sign(w), scale)


KINDS: dict[str, Callable[[torch.Tensor, Scale], torch.Tensor]] = {
    "real": keep_real,
    "imag": keep_imag,
    "amplitude": keep_amplitude,
    "phase": keep_phase,
    "magnitude": keep_magnitude,
    "sign": keep_sign,
}
"""Every projection by name: ``KINDS[kind](w, scale)``."""


def project(w: torch.Tensor, kind: str, scale: Scale = 1.0) -> torch.Tensor:
    """Apply the projection called ``kind`` (a key of `KINDS`) to the tensor ``w``."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    return KINDS[kind](w, scale)


def weight_parameters(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """The parameters the projections change: those named ``weight`` with 2 or more dims."""
    params = [
        (name, p)
        for name, p in model.named_parameters()
        if name.rsplit(".", 1)[-1] == "weight" and p.dim() >= 2
    ]
    if not params:
        raise ValueError("the model has no weight parameters with 2 or more dimensions")
    return params


@torch.no_grad()
def project_model_(model: nn.Module, kind: str, scale: Scale = 1.0) -> nn.Module:
    """Replace every weight of ``model`` in place by its projection; returns ``model``.

    Use it after each optimiser step for the "projected" regime. ``scale="mean"`` uses each
    tensor's own mean magnitude.
    """
    for _, p in weight_parameters(model):
        p.copy_(project(p, kind, scale))
    return model


def projected_copy(model: nn.Module, kind: str, scale: Scale = 1.0) -> nn.Module:
    """A deep copy of ``model`` with every weight projected (the "probe" regime)."""
    return project_model_(copy.deepcopy(model), kind, scale)


def random_half_mask(
    shape: int | tuple[int, ...] | torch.Size,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Boolean mask with exactly ``floor(n / 2)`` entries ``False`` at random places.

    ``True`` keeps an entry. The positions are a uniformly random subset of size
    ``floor(n / 2)`` of the ``n`` entries (as the paper's ``random.sample``).

    Shape:
        - Output: ``shape`` (an int gives a 1-D mask), ``torch.bool``.
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    n = 1
    for s in shape:
        n *= s
    mask = torch.ones(n, dtype=torch.bool, device=device)
    drop = torch.randperm(n, generator=generator)[: n // 2].to(mask.device)
    mask[drop] = False
    return mask.reshape(shape)


def hidden_unit_masks(
    model: nn.Module, generator: torch.Generator | None = None
) -> dict[int, torch.Tensor]:
    """One random-half mask per hidden layer of a chain of weight layers.

    The hidden units of layer ``k`` are the rows of its weight (output features/channels),
    which layer ``k + 1`` must consume (its weight's dimension 1 must match). Returns
    ``{k: mask}`` for every layer but the last.

    Raises:
        ValueError: consecutive weights do not chain (the model is not a plain stack).
    """
    params = weight_parameters(model)
    for (n0, w0), (n1, w1) in itertools.pairwise(params):
        if w0.shape[0] != w1.shape[1]:
            raise ValueError(
                f"hidden-unit masking needs a plain stack of layers: {n0} has {w0.shape[0]} "
                f"outputs but {n1} takes {w1.shape[1]} inputs"
            )
    return {k: random_half_mask(w.shape[0], generator) for k, (_, w) in enumerate(params[:-1])}


@torch.no_grad()
def mask_random_half_(
    model: nn.Module,
    over: str = "units",
    generator: torch.Generator | None = None,
    masks: dict[int, torch.Tensor] | None = None,
) -> nn.Module:
    """Zero a random half of ``model`` in place; returns ``model``.

    ``over="units"`` (the paper's "half" curve) removes half of the units of every hidden layer:
    their rows in that layer's weight (and their bias entries) and their columns in the next
    layer's weight. ``over="weights"`` zeroes half of the entries of every weight tensor.
    ``masks`` (from `hidden_unit_masks`) reuses fixed unit masks instead of new ones.
    """
    if over not in ("units", "weights"):
        raise ValueError(f"over must be 'units' or 'weights', got {over!r}")
    params = weight_parameters(model)
    if over == "weights":
        for _, p in params:
            p.mul_(random_half_mask(p.shape, generator, p.device))
        return model
    if masks is None:
        masks = hidden_unit_masks(model, generator)
    named = dict(model.named_parameters())
    for k, keep in masks.items():
        name, w = params[k]
        _, w_next = params[k + 1]
        keep = keep.to(w.device)
        w[~keep] = 0
        w_next[:, ~keep] = 0
        bias = named.get(name.rsplit(".", 1)[0] + ".bias" if "." in name else "bias")
        if bias is not None and bias.shape[:1] == keep.shape:
            bias[~keep] = 0
    return model


def masked_copy(
    model: nn.Module, over: str = "units", generator: torch.Generator | None = None
) -> nn.Module:
    """A deep copy of ``model`` with a random half zeroed (see `mask_random_half_`)."""
    return mask_random_half_(copy.deepcopy(model), over, generator)
