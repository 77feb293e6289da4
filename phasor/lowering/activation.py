"""Lowering of the activations of [`phasor.nn.activation`][phasor.nn.activation].

Split activations are the real function on the pair tensor. The others scale $z$ by a real
gain $g$ computed from $|z|$ (`modulus`, whose gradient at 0 is 0 as in phasor) and the
parts, $g z$ as the pair $(g\\,\\mathrm{Re}\\,z, g\\,\\mathrm{Im}\\,z)$, with the value and the
gradient phasor gives at $z = 0$. A NaN or infinite part makes both parts NaN where phasor's
complex arithmetic does (its $g z$ is a complex product): the gains test $|z| = 0$ rather
than $|z| > 0$, so a NaN modulus takes the general branch and gives a NaN gain, and a gain
that tends to 0 as $|z| \\to \\infty$ is NaN at $|z| = \\infty$ (`_nan_at_infinity`).

`modulus` squares the parts, so a modulus below about 1e-154 (float64; 1e-19 in float32)
underflows to 0: there the activations that are not continuous at 0 (``CSign``,
``ModSoftplus``, ``ModReLU`` with $b > 0$) and the cardioids give their value at 0, where
phasor still divides by the tiny $|z|$.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from phasor import nn as pnn
from phasor.lowering._core import Context, adopt, modulus, pair, per_channel, register


def _at_zero(mod: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(|z| == 0, |z| or 1 where it is 0)``: a denominator that keeps the masked branch of a
    ``torch.where`` and its gradient finite at $z = 0$."""
    zero = mod == 0
    return zero, torch.where(zero, 1.0, mod)


def _nan_at_infinity(gain: torch.Tensor, mod: torch.Tensor) -> torch.Tensor:
    """``gain``, NaN where $|z|$ is infinite: a gain that tends to 0 there gives phasor's
    $0 \\cdot \\infty = \\mathrm{NaN}$ in both parts of its complex product $(g + 0i) z$
    ($0 \\cdot |z|$ is 0 for a finite $|z|$)."""
    return gain + 0 * mod


def _hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """$\\mathrm{clip}(x / 6 + 1 / 2, 0, 1)$ by ``clamp``, as phasor computes it (its gradient
    at $x = \\pm 3$ is that of ``clamp``, not of ``F.hardsigmoid``)."""
    return torch.clamp(x / 6 + 0.5, 0, 1)


class PairSplit(nn.Module):
    """A split activation $f(\\mathrm{Re}\\,z) + i f(\\mathrm{Im}\\,z)$: ``f(x, **options)`` on
    the pair tensor."""

    def __init__(self, f, **options) -> None:
        super().__init__()
        self.f, self.options = f, options

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.f(x, **self.options)

    def extra_repr(self) -> str:
        return ", ".join([self.f.__name__, *(f"{k}={v!r}" for k, v in self.options.items())])


class PairCPReLU(nn.Module):
    """Lowered [`phasor.nn.CPReLU`][phasor.nn.activation.CPReLU]: both parts $x$ above 0,
    else $a x$, with the slope $a$ of the channel."""

    def __init__(self, layer: pnn.CPReLU) -> None:
        super().__init__()
        adopt(self, layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = per_channel(self.weight, x.dim() - 1)
        return torch.where(x > 0, x, a * x)


class PairZReLU(nn.Module):
    """Lowered [`phasor.nn.ZReLU`][phasor.nn.activation.ZReLU]: $z$ in the first quadrant, else 0."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        re, im = x[:, 0], x[:, 1]
        keep = ((re >= 0) & (im >= 0)) | torch.isnan(re) | torch.isnan(im)
        return torch.where(keep.unsqueeze(1), x, 0.0)


class PairZLeakyReLU(nn.Module):
    """Lowered [`phasor.nn.ZLeakyReLU`][phasor.nn.activation.ZLeakyReLU]: $z$ in the first
    quadrant, else $a z$ with the slope $a$ of the channel.

    $a z$ is written as phasor's complex product $(a + 0i) z$,
    $(a\\,\\mathrm{Re}\\,z - 0\\,\\mathrm{Im}\\,z, a\\,\\mathrm{Im}\\,z + 0\\,\\mathrm{Re}\\,z)$: the zero
    terms carry a NaN or infinite part into the other part as phasor does.
    """

    def __init__(self, layer: pnn.ZLeakyReLU) -> None:
        super().__init__()
        adopt(self, layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        re, im = x[:, 0], x[:, 1]
        a = per_channel(self.weight, re.dim())
        keep = (re >= 0) & (im >= 0)
        leaked = pair(a * re - 0 * im, a * im + 0 * re)
        return torch.where(keep.unsqueeze(1), x, leaked)


class PairCardioid(nn.Module):
    """Lowered [`phasor.nn.Cardioid`][phasor.nn.activation.Cardioid]: $\\tfrac12(1 + \\cos\\varphi)\\,z$."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        zero, denom = _at_zero(modulus(x))
        cos_arg = torch.where(zero, 1.0, x[:, 0] / denom)
        return x * (0.5 * (1 + cos_arg)).unsqueeze(1)


class PairShiftedCardioid(nn.Module):
    """Lowered [`phasor.nn.ShiftedCardioid`][phasor.nn.activation.ShiftedCardioid]:
    $\\tfrac12(1 + \\cos(\\arg z - \\phi))\\,z$ with
    $\\cos(\\arg z - \\phi) = (\\mathrm{Re}\\,z \\cos\\phi + \\mathrm{Im}\\,z \\sin\\phi) / |z|$,
    and $\\cos\\phi$ at $z = 0$ as in phasor."""

    def __init__(self, layer: pnn.ShiftedCardioid) -> None:
        super().__init__()
        adopt(self, layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        re, im = x[:, 0], x[:, 1]
        phase = per_channel(self.phase, re.dim())
        cos, sin = torch.cos(phase), torch.sin(phase)
        zero, denom = _at_zero(modulus(x))
        cos_shift = torch.where(zero, cos, (re * cos + im * sin) / denom)
        return x * (0.5 * (1 + cos_shift)).unsqueeze(1)


class PairRotatedCReLU(nn.Module):
    """Lowered [`phasor.nn.RotatedCReLU`][phasor.nn.activation.RotatedCReLU]:
    $e^{-i\\phi}\\,\\mathrm{CReLU}(e^{i\\phi} z)$, both rotations as phasor's complex products
    with $(\\cos\\phi, \\pm\\sin\\phi)$."""

    def __init__(self, layer: pnn.RotatedCReLU) -> None:
        super().__init__()
        adopt(self, layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        re, im = x[:, 0], x[:, 1]
        phase = per_channel(self.phase, re.dim())
        cos, sin = torch.cos(phase), torch.sin(phase)
        kept_re = torch.relu(re * cos - im * sin)
        kept_im = torch.relu(re * sin + im * cos)
        return pair(kept_re * cos + kept_im * sin, kept_im * cos - kept_re * sin)


class PairModReLU(nn.Module):
    """Lowered [`phasor.nn.ModReLU`][phasor.nn.activation.ModReLU]: $\\mathrm{ReLU}(|z| + b)\\,z/|z|$."""

    def __init__(self, layer: pnn.ModReLU) -> None:
        super().__init__()
        adopt(self, layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mod = modulus(x)
        b = per_channel(self.bias, mod.dim())
        zero, denom = _at_zero(mod)
        gain = torch.where(zero, (b == 0).to(mod.dtype), torch.relu(mod + b) / denom)
        return x * gain.unsqueeze(1)


class PairAmpPhaseTanh(nn.Module):
    """Lowered [`phasor.nn.AmpPhaseTanh`][phasor.nn.activation.AmpPhaseTanh]:
    $m \\tanh(|z| / s)\\,z / |z|$, the gain $m / s$ at $z = 0$ (its limit)."""

    def __init__(self, saturation: float, scale: float) -> None:
        super().__init__()
        self.saturation, self.scale = saturation, scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mod = modulus(x)
        zero, denom = _at_zero(mod)
        m, s = self.saturation, self.scale
        gain = torch.where(zero, m / s, m * torch.tanh(mod / s) / denom)
        return x * _nan_at_infinity(gain, mod).unsqueeze(1)

    def extra_repr(self) -> str:
        return f"saturation={self.saturation}, scale={self.scale}"


class PairCSign(nn.Module):
    """Lowered [`phasor.nn.CSign`][phasor.nn.activation.CSign]: $z / |z|$, 0 with gradient 0
    at $z = 0$."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mod = modulus(x)
        zero, denom = _at_zero(mod)
        return x * _nan_at_infinity(torch.where(zero, 0.0, 1 / denom), mod).unsqueeze(1)


class PairModSoftplus(nn.Module):
    """Lowered [`phasor.nn.ModSoftplus`][phasor.nn.activation.ModSoftplus]:
    $\\mathrm{softplus}_\\beta(|z|)\\,z / |z|$, 0 with gradient 0 at $z = 0$."""

    def __init__(self, beta: float) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mod = modulus(x)
        zero, denom = _at_zero(mod)
        gain = torch.where(zero, 0.0, F.softplus(mod, self.beta) / denom)
        return x * gain.unsqueeze(1)

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


class PairSigLog(nn.Module):
    """Lowered [`phasor.nn.SigLog`][phasor.nn.activation.SigLog]: $z / (c + |z| / r)$."""

    def __init__(self, c: float, r: float) -> None:
        super().__init__()
        self.c, self.r = c, r

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mod = modulus(x)
        return x * _nan_at_infinity(1 / (self.c + mod / self.r), mod).unsqueeze(1)

    def extra_repr(self) -> str:
        return f"c={self.c}, r={self.r}"


class PairPolarSquash(nn.Module):
    """Lowered [`phasor.nn.PolarSquash`][phasor.nn.activation.PolarSquash]:
    $|z| / (1 + |z|^2)\\,z$, the gain as $1 / (|z| + 1 / |z|)$ above $|z| = 1$ as in phasor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mod = modulus(x)
        small = mod <= 1
        low = torch.where(small, mod, 0.0)
        high = torch.where(small, 1.0, mod)
        gain = torch.where(small, low / (1 + low * low), 1 / (high + 1 / high))
        return x * _nan_at_infinity(gain, mod).unsqueeze(1)


class PairPolarLog(nn.Module):
    """Lowered [`phasor.nn.PolarLog`][phasor.nn.activation.PolarLog]:
    $\\log(1 + |z|)\\,z / |z|$, the identity at $z = 0$.

    Phasor passes $z$ unchanged wherever $|z| > 0$ fails, a NaN modulus included, so a NaN
    part stays in its own part; the gain tests $|z| > 0$ the same way.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mod = modulus(x)
        nonzero = mod > 0
        gain = torch.where(nonzero, torch.log1p(mod) / torch.where(nonzero, mod, 1.0), 1.0)
        return x * gain.unsqueeze(1)


class PairModulus(nn.Module):
    """Lowered [`phasor.nn.Modulus`][phasor.nn.activation.Modulus]: the real $|z|$."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return modulus(x)


class PairModulusSquared(nn.Module):
    """Lowered [`phasor.nn.ModulusSquared`][phasor.nn.activation.ModulusSquared]: the real
    $|z|^2$."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        re, im = x[:, 0], x[:, 1]
        return re.square() + im.square()


def _rule(make, real_output: bool = False):
    """The rule lowering a layer to ``make(layer)``; real input is refused, as phasor does."""

    def rule(layer, ctx: Context) -> tuple[nn.Module, bool]:
        ctx.refuse_real_input(layer)
        return make(layer), real_output

    return rule


def _split(f, *options: str):
    """The rule of a split activation: ``f`` with the layer's attributes ``options``."""
    return _rule(lambda layer: PairSplit(f, **{name: getattr(layer, name) for name in options}))


register(pnn.CReLU)(_split(torch.relu))
register(pnn.SplitTanh)(_split(torch.tanh))
register(pnn.SplitSigmoid)(_split(torch.sigmoid))
register(pnn.SplitELU)(_split(F.elu, "alpha"))
register(pnn.SplitCELU)(_split(F.celu, "alpha"))
register(pnn.SplitSELU)(_split(F.selu))
register(pnn.SplitGELU)(_split(F.gelu, "approximate"))
register(pnn.SplitSiLU)(_split(F.silu))
register(pnn.SplitMish)(_split(F.mish))
register(pnn.SplitLeakyReLU)(_split(F.leaky_relu, "negative_slope"))
register(pnn.SplitHardtanh)(_split(F.hardtanh, "min_val", "max_val"))
register(pnn.SplitHardsigmoid)(_split(_hard_sigmoid))
register(pnn.SplitHardswish)(_split(F.hardswish))
register(pnn.SplitSoftplus)(_split(F.softplus, "beta", "threshold"))
register(pnn.SplitSoftsign)(_split(F.softsign))

register(pnn.CPReLU)(_rule(PairCPReLU))
register(pnn.ZReLU)(_rule(lambda layer: PairZReLU()))
register(pnn.ZLeakyReLU)(_rule(PairZLeakyReLU))
register(pnn.Cardioid)(_rule(lambda layer: PairCardioid()))
register(pnn.ShiftedCardioid)(_rule(PairShiftedCardioid))
register(pnn.RotatedCReLU)(_rule(PairRotatedCReLU))
register(pnn.ModReLU)(_rule(PairModReLU))
register(pnn.AmpPhaseTanh)(_rule(lambda layer: PairAmpPhaseTanh(layer.saturation, layer.scale)))
register(pnn.CSign)(_rule(lambda layer: PairCSign()))
register(pnn.ModSoftplus)(_rule(lambda layer: PairModSoftplus(layer.beta)))
register(pnn.SigLog)(_rule(lambda layer: PairSigLog(layer.c, layer.r)))
register(pnn.PolarSquash)(_rule(lambda layer: PairPolarSquash()))
register(pnn.PolarLog)(_rule(lambda layer: PairPolarLog()))
register(pnn.Modulus)(_rule(lambda layer: PairModulus(), real_output=True))
register(pnn.ModulusSquared)(_rule(lambda layer: PairModulusSquared(), real_output=True))
