r"""Lowering of the heads and losses of [`phasor.nn.loss`][phasor.nn.loss].

Each loss is written on the real and imaginary parts of its pair inputs (``x[:, 0]``,
``x[:, 1]``, of the complex tensor's shape, so ``dim`` arguments mean what they mean in
phasor); the loss value is real. Where phasor takes a square root or a phase, the lowered
form guards $|z| = 0$ the same way, so the gradient there is 0 as in phasor.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from phasor import nn as pnn
from phasor.functional.loss import _reduce
from phasor.lowering._core import Context, modulus, register
from phasor.lowering.activation import PairModulus


def _safe_sqrt(squared: torch.Tensor) -> torch.Tensor:
    """$\\sqrt{s}$ with gradient 0 at $s = 0$ (the gradient of ``torch.abs`` of a complex 0)."""
    nonzero = squared != 0
    return torch.where(nonzero, torch.sqrt(torch.where(nonzero, squared, 1.0)), 0.0)


def _unit_phase(x: torch.Tensor) -> torch.Tensor:
    """$z / |z|$ of a pair tensor, 0 at $z = 0$ with a zero gradient there."""
    mod = modulus(x)
    nonzero = mod > 0
    unit = x / torch.where(nonzero, mod, 1.0).unsqueeze(1)
    return torch.where(nonzero.unsqueeze(1), unit, 0.0)


def _parts(x: torch.Tensor, real: bool) -> list[torch.Tensor]:
    """``[x]`` for a real tensor, ``[re, im]`` for a pair."""
    return [x] if real else [x[:, 0], x[:, 1]]


def _product(a: list[torch.Tensor], b: list[torch.Tensor], conj_a: bool) -> list[torch.Tensor]:
    """The parts of $a b$ (or $\\bar a b$), for real (one part) or complex (two parts)."""
    if len(a) == 1:
        return [a[0] * b[0]]
    sign = -1.0 if conj_a else 1.0
    return [a[0] * b[0] - sign * a[1] * b[1], a[0] * b[1] + sign * a[1] * b[0]]


def _energy(parts: list[torch.Tensor]) -> torch.Tensor:
    return sum(p * p for p in parts)


class PairModSoftmax(nn.Module):
    """Lowered [`phasor.nn.ModSoftmax`][phasor.nn.loss.ModSoftmax] / ``ModLogSoftmax``:
    ``softmax`` (or ``log_softmax``) of $\\mathrm{Re}^2 + \\mathrm{Im}^2$ along ``dim``."""

    def __init__(self, dim: int, log: bool) -> None:
        super().__init__()
        self.dim = dim
        self.softmax = torch.log_softmax if log else torch.softmax

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.softmax(_energy(_parts(z, False)), dim=self.dim)


class PairCrossEntropy(nn.Module):
    """Lowered [`phasor.nn.ComplexCrossEntropyLoss`][phasor.nn.loss.ComplexCrossEntropyLoss]:
    ``cross_entropy`` of $|z|$, $|z|^2$ or $\\mathrm{Re}\\,z$ against the integer targets
    (taken as they are; the label range is left to ``cross_entropy``)."""

    def __init__(self, layer: pnn.ComplexCrossEntropyLoss) -> None:
        super().__init__()
        self.real_map, self.reduction = layer.real_map, layer.reduction

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.real_map == "magnitude":
            scores = modulus(logits)
        elif self.real_map == "squared_magnitude":
            scores = _energy(_parts(logits, False))
        else:
            scores = logits[:, 0]
        return F.cross_entropy(scores, target.long(), reduction=self.reduction)


class PairDistance(nn.Module):
    """Lowered [`phasor.nn.ComplexMSELoss`][phasor.nn.loss.ComplexMSELoss] (``squared``) and
    [`phasor.nn.ComplexL1Loss`][phasor.nn.loss.ComplexL1Loss]: the error of $d = x - y$,
    $|d|^2$, or $|d|$ (``"modulus"``) or $|\\mathrm{Re}\\,d| + |\\mathrm{Im}\\,d|$ (``"split"``)."""

    def __init__(self, layer, squared: bool) -> None:
        super().__init__()
        self.reduction, self.mode, self.squared = layer.reduction, layer.mode, squared

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        diff = input - target
        if self.squared:
            loss = _energy(_parts(diff, False))
        elif self.mode == "split":
            loss = diff[:, 0].abs() + diff[:, 1].abs()
        else:
            loss = modulus(diff)
        return _reduce(loss, self.reduction)


class PairMagnitudeLoss(nn.Module):
    """Lowered [`phasor.nn.MagnitudeLoss`][phasor.nn.loss.MagnitudeLoss]:
    $\\bigl|\\,|x| - |y|\\,\\bigr|^p$."""

    def __init__(self, layer: pnn.MagnitudeLoss) -> None:
        super().__init__()
        self.p, self.reduction = layer.p, layer.reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _reduce((modulus(input) - modulus(target)).abs().pow(self.p), self.reduction)


class PairPhaseLoss(nn.Module):
    """Lowered [`phasor.nn.PhaseLoss`][phasor.nn.loss.PhaseLoss]: from the rotation
    $r = (x / |x|)\\,\\overline{(y / |y|)}$ (0 where either is 0), $1 - \\mathrm{Re}\\,r$
    (``"cosine"``) or $\\operatorname{atan2}(\\mathrm{Im}\\,r, \\mathrm{Re}\\,r)^2$
    (``"squared"``, gradient 0 at $r = 0$ as ``torch.angle``)."""

    def __init__(self, layer: pnn.PhaseLoss) -> None:
        super().__init__()
        self.kind, self.reduction = layer.kind, layer.reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        target_unit = _parts(_unit_phase(target), False)
        rot_re, rot_im = _product(target_unit, _parts(_unit_phase(input), False), conj_a=True)
        if self.kind == "cosine":
            return _reduce(1 - rot_re, self.reduction)
        nonzero = (rot_re != 0) | (rot_im != 0)
        angle = torch.atan2(torch.where(nonzero, rot_im, 0.0), torch.where(nonzero, rot_re, 1.0))
        return _reduce(angle.square(), self.reduction)


class PairLogMagnitudeLoss(nn.Module):
    """Lowered [`phasor.nn.LogMagnitudeLoss`][phasor.nn.loss.LogMagnitudeLoss]:
    $|\\log(|x| + \\epsilon) - \\log(|y| + \\epsilon)|$."""

    def __init__(self, layer: pnn.LogMagnitudeLoss) -> None:
        super().__init__()
        self.eps, self.reduction = layer.eps, layer.reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_ratio = torch.log(modulus(input) + self.eps) - torch.log(modulus(target) + self.eps)
        return _reduce(log_ratio.abs(), self.reduction)


class PairSISDRLoss(nn.Module):
    """Lowered [`phasor.nn.SISDRLoss`][phasor.nn.loss.SISDRLoss]: the negative SI-SDR of real
    signals (taken as they are) or complex ones (pairs), with the complex inner product on the
    parts; both signals scaled to unit energy first (0 for a silent one), as in phasor."""

    def __init__(self, layer: pnn.SISDRLoss, real_input: bool) -> None:
        super().__init__()
        self.dims = (layer.dim,) if isinstance(layer.dim, int) else tuple(layer.dim)
        self.eps, self.reduction, self.real_input = layer.eps, layer.reduction, real_input

    def _unit_energy(self, parts: list[torch.Tensor]) -> list[torch.Tensor]:
        energy = _energy(parts).sum(dim=self.dims, keepdim=True)
        nonzero = energy > 0
        norm = torch.sqrt(torch.where(nonzero, energy, 1.0))
        return [torch.where(nonzero, p / norm, 0.0) for p in parts]

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        estimate = self._unit_energy(_parts(input, self.real_input))
        reference = self._unit_energy(_parts(target, self.real_input))
        alpha = [
            p.sum(dim=self.dims, keepdim=True) for p in _product(reference, estimate, conj_a=True)
        ]
        projection = _product(alpha, reference, conj_a=False)
        signal = _energy(alpha).sum(dim=self.dims)
        residual = [e - p for e, p in zip(estimate, projection, strict=True)]
        distortion = _energy(residual).sum(dim=self.dims)
        si_sdr = 10 * (torch.log10(signal + self.eps) - torch.log10(distortion + self.eps))
        return _reduce(-si_sdr, self.reduction)


class PairCosineSimilarity(nn.Module):
    """Lowered [`phasor.nn.ComplexCosineSimilarity`][phasor.nn.loss.ComplexCosineSimilarity]:
    $\\mathrm{Re}\\langle x_1, x_2\\rangle$ or $|\\langle x_1, x_2\\rangle|$ over the product
    of the norms, each clamped below by ``eps``."""

    def __init__(self, layer: pnn.ComplexCosineSimilarity) -> None:
        super().__init__()
        self.dim, self.eps, self.mode = layer.dim, layer.eps, layer.mode

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        a, b = _parts(x1, False), _parts(x2, False)
        inner_re, inner_im = (p.sum(dim=self.dim) for p in _product(a, b, conj_a=True))
        norm_a = _safe_sqrt(_energy(a).sum(dim=self.dim)).clamp_min(self.eps)
        norm_b = _safe_sqrt(_energy(b).sum(dim=self.dim)).clamp_min(self.eps)
        similarity = inner_re if self.mode == "real" else _safe_sqrt(_energy([inner_re, inner_im]))
        return similarity / (norm_a * norm_b)


def _complex_only(make):
    def rule(layer, ctx: Context) -> tuple[nn.Module, bool]:
        ctx.refuse_real_input(layer)
        return make(layer), True

    return rule


@register(pnn.Magnitude)
def _magnitude(layer, ctx: Context) -> tuple[nn.Module, bool]:
    ctx.refuse_real_input(layer)
    return PairModulus(), True


@register(pnn.SISDRLoss)
def _si_sdr(layer: pnn.SISDRLoss, ctx: Context) -> tuple[nn.Module, bool]:
    return PairSISDRLoss(layer, ctx.real_input), True


register(pnn.ModSoftmax)(_complex_only(lambda m: PairModSoftmax(m.dim, log=False)))
register(pnn.ModLogSoftmax)(_complex_only(lambda m: PairModSoftmax(m.dim, log=True)))
register(pnn.ComplexCrossEntropyLoss)(_complex_only(PairCrossEntropy))
register(pnn.ComplexMSELoss)(_complex_only(lambda m: PairDistance(m, squared=True)))
register(pnn.ComplexL1Loss)(_complex_only(lambda m: PairDistance(m, squared=False)))
register(pnn.MagnitudeLoss)(_complex_only(PairMagnitudeLoss))
register(pnn.PhaseLoss)(_complex_only(PairPhaseLoss))
register(pnn.LogMagnitudeLoss)(_complex_only(PairLogMagnitudeLoss))
register(pnn.ComplexCosineSimilarity)(_complex_only(PairCosineSimilarity))
