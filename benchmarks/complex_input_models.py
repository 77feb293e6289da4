"""The three complex-input models of issue 16, in every library that `training_step.py` times.

- ``STFT CNN 1x128x128``: a complex spectrogram, batch 32; conv 1-16-32-64 3x3 (padding 1),
  CReLU, whitening batch norm, max pool 2x2 by magnitude, global mean, linear 64-10.
- ``MLP 512-1024-1024-10``: CReLU, batch 256.
- ``4 conv blocks 64ch 64x64``: conv 3x3 to 64 channels, whitening batch norm, modReLU (bias
  -0.01), four times; global mean, linear 64-10; batch 16.

Libraries: ``real`` (the same-shape real net on a real input of the same shape: ReLU, real batch
norm, max pool), ``phasor`` (eager, native complex kernels), ``phasor[lowered]``
(`phasor.lowering.lower`, eager), ``phasor[compiled]`` (the lowered model under
``torch.compile(fullgraph=True)``, inductor), ``real-pair`` (a hand-written plain-PyTorch model
that keeps the real and imaginary parts as real tensors: one real convolution / GEMM on the
stacked weight $[[A, -B], [B, A]]$, ReLU on both parts, batch norm as the closed-form 2x2
whitening), ``torchcvnn`` (torch.nn Conv2d/Linear with a complex dtype, its CReLU, modReLU,
MaxPool2d, BatchNorm2d, AdaptiveAvgPool2d) and ``complextorch`` (its Conv2d, Linear, CReLU,
modReLU, MagMaxPool2d, BatchNorm2d, AdaptiveAvgPool2d). torchcvnn's modReLU has one scalar
bias, the others one per channel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MODELS = {
    "STFT CNN 1x128x128": (32, (1, 128, 128)),
    "MLP 512-1024-1024-10": (256, (512,)),
    "4 conv blocks 64ch 64x64": (16, (1, 64, 64)),
}
LIBRARIES = (
    "phasor",
    "phasor[lowered]",
    "phasor[compiled]",
    "real-pair",
    "torchcvnn",
    "complextorch",
)


def _layers(lib: str, cdtype: torch.dtype):
    """``(conv, linear, crelu, modrelu, bn, pool, mean)`` factories of one library."""
    if lib == "real":
        real = cdtype.to_real()
        return (
            lambda i, o: nn.Conv2d(i, o, 3, padding=1, dtype=real),
            lambda i, o: nn.Linear(i, o, dtype=real),
            nn.ReLU,
            lambda c: nn.ReLU(),
            lambda c: nn.BatchNorm2d(c, dtype=real),
            lambda: nn.MaxPool2d(2),
            lambda: nn.AdaptiveAvgPool2d(1),
        )
    if lib.startswith("phasor"):
        import phasor.nn as P

        return (
            lambda i, o: P.Conv2d(i, o, 3, padding=1, dtype=cdtype),
            lambda i, o: P.Linear(i, o, dtype=cdtype),
            P.CReLU,
            lambda c: P.ModReLU(c, -0.01, dtype=cdtype),
            lambda c: P.ComplexBatchNorm2d(c, dtype=cdtype),
            lambda: P.MaxPool2d(2),
            lambda: P.AdaptiveAvgPool2d(1),
        )
    if lib == "real-pair":
        return (
            lambda i, o: PairConv2d(i, o, cdtype),
            lambda i, o: PairLinear(i, o, cdtype),
            PairCReLU,
            lambda c: PairModReLU(c, -0.01, cdtype),
            lambda c: PairBatchNorm2d(c, cdtype),
            PairMaxPool2d,
            PairGlobalMean,
        )
    if lib == "torchcvnn":
        import torchcvnn.nn as tn

        return (
            lambda i, o: nn.Conv2d(i, o, 3, padding=1, dtype=cdtype),
            lambda i, o: nn.Linear(i, o, dtype=cdtype),
            tn.CReLU,
            lambda c: tn.modReLU(),
            lambda c: tn.BatchNorm2d(c, cdtype=cdtype),
            lambda: tn.MaxPool2d(2),
            lambda: tn.AdaptiveAvgPool2d(1),
        )
    if lib == "complextorch":
        import complextorch.nn as ct

        return (
            lambda i, o: ct.Conv2d(i, o, 3, padding=1, dtype=cdtype),
            lambda i, o: ct.Linear(i, o, dtype=cdtype),
            lambda: ct.CReLU(inplace=False),
            lambda c: ct.modReLU(bias=-0.01, learnable=True),
            ct.BatchNorm2d,
            lambda: ct.MagMaxPool2d(2),
            lambda: ct.AdaptiveAvgPool2d(1),
        )
    raise ValueError(lib)


def build(lib: str, model: str, cdtype: torch.dtype) -> nn.Module:
    """``lib``'s version of ``model`` (for ``phasor[lowered]``/``[compiled]``: the phasor one)."""
    base = "phasor" if lib.startswith("phasor") else lib
    conv, linear, crelu, modrelu, bn, pool, mean = _layers(base, cdtype)
    flatten = (lambda: nn.Flatten(2)) if lib == "real-pair" else nn.Flatten  # (N, 2, C, 1, 1)
    default = torch.get_default_dtype()
    torch.set_default_dtype(cdtype.to_real())  # real parameters of the peers' batch norms
    try:
        if model.startswith("STFT"):
            layers, c = [], 1
            for w in (16, 32, 64):
                layers += [conv(c, w), crelu(), bn(w), pool()]
                c = w
            return nn.Sequential(*layers, mean(), flatten(), linear(64, 10))
        if model.startswith("MLP"):
            return nn.Sequential(
                linear(512, 1024), crelu(), linear(1024, 1024), crelu(), linear(1024, 10)
            )
        layers, c = [], 1
        for _ in range(4):
            layers += [conv(c, 64), bn(64), modrelu(64)]
            c = 64
        return nn.Sequential(*layers, mean(), flatten(), linear(64, 10))
    finally:
        torch.set_default_dtype(default)


# ----------------------------------------------------------------------------- the hand-written
# real-pair reference: parts as real tensors (N, 2, C, ...), plain PyTorch, no phasor.


def _parts(shape, cdtype) -> tuple[nn.Parameter, nn.Parameter]:
    w = torch.randn(*shape, dtype=cdtype) / (2 * shape[1] * max(1, len(shape) - 2)) ** 0.5
    return nn.Parameter(w.real.clone()), nn.Parameter(w.imag.clone())


class PairConv2d(nn.Module):
    """3x3 complex convolution (padding 1) as one real convolution on [[A, -B], [B, A]]."""

    def __init__(self, i: int, o: int, cdtype) -> None:
        super().__init__()
        self.a, self.b = _parts((o, i, 3, 3), cdtype)
        self.bias = nn.Parameter(torch.zeros(2 * o, dtype=cdtype.to_real()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.cat((torch.cat((self.a, -self.b), 1), torch.cat((self.b, self.a), 1)))
        return F.conv2d(x.flatten(1, 2), w, self.bias, padding=1).unflatten(1, (2, -1))


class PairLinear(nn.Module):
    """Complex linear layer as one real GEMM on the stacked weight."""

    def __init__(self, i: int, o: int, cdtype) -> None:
        super().__init__()
        self.a, self.b = _parts((o, i), cdtype)
        self.bias = nn.Parameter(torch.zeros(2 * o, dtype=cdtype.to_real()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.cat((torch.cat((self.a, -self.b), 1), torch.cat((self.b, self.a), 1)))
        return F.linear(x.flatten(1), w, self.bias).unflatten(1, (2, -1))


class PairCReLU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)


class PairModReLU(nn.Module):
    def __init__(self, c: int, bias: float, cdtype) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.full((c, 1, 1), bias, dtype=cdtype.to_real()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mod = torch.sqrt(x[:, 0] ** 2 + x[:, 1] ** 2 + 1e-12)
        return x * (torch.relu(mod + self.bias) / mod).unsqueeze(1)


class PairBatchNorm2d(nn.Module):
    """Training-mode 2x2 whitening by batch statistics, closed-form inverse square root."""

    def __init__(self, c: int, cdtype, eps: float = 1e-5) -> None:
        super().__init__()
        real = cdtype.to_real()
        self.eps = eps
        self.weight = nn.Parameter(torch.tensor([2**-0.5, 0.0, 2**-0.5], dtype=real).repeat(c, 1))
        self.bias = nn.Parameter(torch.zeros(2, c, 1, 1, dtype=real))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        centred = x - x.mean((0, 3, 4), keepdim=True)
        re, im = centred[:, 0], centred[:, 1]
        vrr = (re * re).mean((0, 2, 3)) + self.eps
        vri = (re * im).mean((0, 2, 3))
        vii = (im * im).mean((0, 2, 3)) + self.eps
        s = torch.sqrt(vrr * vii - vri * vri)
        t = torch.sqrt(vrr + vii + 2 * s)
        inv = 1 / (s * t)  # (V)^(-1/2) = [[vii + s, -vri], [-vri, vrr + s]] / (s t)
        wrr, wri, wii = ((vii + s) * inv, -vri * inv, (vrr + s) * inv)
        grr, gri, gii = self.weight.unbind(1)
        mrr, mri = grr * wrr + gri * wri, grr * wri + gri * wii
        mir, mii = gri * wrr + gii * wri, gri * wri + gii * wii
        view = (1, -1, 1, 1)
        out_re = mrr.view(view) * re + mri.view(view) * im
        out_im = mir.view(view) * re + mii.view(view) * im
        return torch.stack((out_re, out_im), 1) + self.bias


class PairMaxPool2d(nn.Module):
    """2x2 max pool by magnitude: the indices of the largest |z|^2, gathered from both parts."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        key = (x[:, 0] * x[:, 0] + x[:, 1] * x[:, 1]).detach()
        _, index = F.max_pool2d(key, 2, return_indices=True)
        flat = index.flatten(2).unsqueeze(1).expand(-1, 2, -1, -1)
        return x.flatten(3).gather(3, flat).unflatten(3, index.shape[2:])


class PairGlobalMean(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean((3, 4), keepdim=True)


def pair_modulus(x: torch.Tensor) -> torch.Tensor:
    """|z| of a (N, 2, F) pair output."""
    return torch.sqrt(x[:, 0] ** 2 + x[:, 1] ** 2)
