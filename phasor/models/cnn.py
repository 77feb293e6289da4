r"""The small image CNNs of the "Analysis of Complex Valued Convolutional Networks" study.

Two shapes, both for $1 \times 28 \times 28$ images and 10 classes:

- ``"mnist"`` (used for MNIST and KMNIST): conv 1->10 (5x5), batch norm, conv 10->20 (5x5),
  linear 320->500, linear 500->10; 170,810 parameters in the real version.
- ``"fashion"`` (used for Fashion-MNIST): conv 1->32, batch norm, conv 32->64, linear
  1024->500, linear 500->10; 569,670 parameters in the real version.

The layer order follows the complexPyTorch example the study's code was built on:

    conv -> act -> maxpool 2x2 -> batchnorm -> conv -> act -> maxpool 2x2 -> flatten
         -> linear -> act -> linear -> (|z| for the complex net) -> log_softmax

`RealSeedCNN` uses ``torch.nn`` layers; `ComplexSeedCNN` uses their complex
counterparts from `phasor.nn` (complex convolution and linear layers with complex Glorot
initialisation, batch norm by 2x2 whitening, max-pooling by magnitude) and an activation chosen
by name. Both return log-probabilities, so both train with ``torch.nn.NLLLoss``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

import phasor.nn as cnn

__all__ = [
    "ACTIVATIONS",
    "NET_SHAPES",
    "ComplexSeedCNN",
    "RealSeedCNN",
    "count_parameters",
    "matched_real_widths",
    "summary",
]

NET_SHAPES: dict[str, tuple[int, int, int]] = {"mnist": (10, 20, 500), "fashion": (32, 64, 500)}
"""``(conv1 channels, conv2 channels, hidden units)`` of each network shape of the study."""

ACTIVATIONS = ("crelu", "zrelu", "modrelu", "cardioid", "split_tanh")
"""Activation names accepted by `ComplexSeedCNN`."""

_KERNEL = 5
_SIDE = 4  # 28 -> conv5 24 -> pool 12 -> conv5 8 -> pool 4


def _widths(shape: str | Sequence[int]) -> tuple[int, int, int]:
    if isinstance(shape, str):
        if shape not in NET_SHAPES:
            raise ValueError(f"shape must be one of {', '.join(NET_SHAPES)}, got {shape!r}")
        return NET_SHAPES[shape]
    widths = tuple(int(w) for w in shape)
    if len(widths) != 3 or min(widths) < 1:
        raise ValueError(f"widths must be three positive ints (c1, c2, hidden), got {shape!r}")
    return widths  # type: ignore[return-value]


def _complex_activation(name: str, features: int, dtype: torch.dtype) -> nn.Module:
    if name == "crelu":
        return cnn.CReLU()
    if name == "zrelu":
        return cnn.ZReLU()
    if name == "modrelu":
        return cnn.ModReLU(features, dtype=dtype)
    if name == "cardioid":
        return cnn.Cardioid()
    if name == "split_tanh":
        return cnn.SplitTanh()
    raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {name!r}")


class RealSeedCNN(nn.Module):
    r"""Real-valued CNN of the study (the "real net").

    Args:
        shape: ``"mnist"`` (10/20 channels), ``"fashion"`` (32/64 channels), or explicit
            ``(c1, c2, hidden)`` widths (used to match a complex net's parameter count).
        num_classes: number of outputs.

    Shape:
        - Input: $(N, 1, 28, 28)$ real (or $(N, 28, 28)$).
        - Output: $(N, \text{num\_classes})$ log-probabilities.
    """

    def __init__(self, shape: str | Sequence[int] = "mnist", num_classes: int = 10) -> None:
        super().__init__()
        c1, c2, hidden = _widths(shape)
        self.widths = (c1, c2, hidden)
        self.conv1 = nn.Conv2d(1, c1, _KERNEL)
        self.act1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2, 2)
        self.bn = nn.BatchNorm2d(c1)
        self.conv2 = nn.Conv2d(c1, c2, _KERNEL)
        self.act2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(c2 * _SIDE * _SIDE, hidden)
        self.act3 = nn.ReLU()
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_complex():
            raise TypeError("RealSeedCNN takes real images; use ComplexSeedCNN for complex input")
        if x.dim() == 3:
            x = x.unsqueeze(1)
        x = self.bn(self.pool1(self.act1(self.conv1(x))))
        x = self.pool2(self.act2(self.conv2(x))).flatten(1)
        x = self.fc2(self.act3(self.fc1(x)))
        return torch.log_softmax(x, dim=1)


class ComplexSeedCNN(nn.Module):
    r"""Complex-valued CNN of the study: the real net with every layer made complex.

    Real images go into the first convolution as they are, which gives what the study's code
    computed by casting them to complex (``x.type(torch.complex64)``) at half the arithmetic,
    so untransformed test images can be fed directly. The logits
    are the moduli $|z|$ of the last layer, followed by ``log_softmax``.

    Args:
        shape: as in `RealSeedCNN`.
        activation: one of `ACTIVATIONS` (``crelu``, ``zrelu``, ``modrelu`` with one
            learnable bias per channel/unit, ``cardioid``, ``split_tanh``).
        num_classes: number of outputs.
        dtype: ``torch.complex64`` (default) or ``torch.complex128``.

    Shape:
        - Input: $(N, 1, 28, 28)$ real or complex (or $(N, 28, 28)$).
        - Output: $(N, \text{num\_classes})$ real log-probabilities.
    """

    def __init__(
        self,
        shape: str | Sequence[int] = "mnist",
        activation: str = "crelu",
        num_classes: int = 10,
        dtype: torch.dtype = torch.complex64,
    ) -> None:
        super().__init__()
        if dtype not in (torch.complex64, torch.complex128):
            raise TypeError(f"dtype must be torch.complex64 or torch.complex128, got {dtype}")
        c1, c2, hidden = _widths(shape)
        self.widths = (c1, c2, hidden)
        self.activation = activation
        self.dtype = dtype
        self.conv1 = cnn.Conv2d(1, c1, _KERNEL, dtype=dtype)
        self.act1 = _complex_activation(activation, c1, dtype)
        self.pool1 = cnn.MaxPool2d(2, 2)
        self.bn = cnn.ComplexBatchNorm2d(c1, dtype=dtype)
        self.conv2 = cnn.Conv2d(c1, c2, _KERNEL, dtype=dtype)
        self.act2 = _complex_activation(activation, c2, dtype)
        self.pool2 = cnn.MaxPool2d(2, 2)
        self.fc1 = cnn.Linear(c2 * _SIDE * _SIDE, hidden, dtype=dtype)
        self.act3 = _complex_activation(activation, hidden, dtype)
        self.fc2 = cnn.Linear(hidden, num_classes, dtype=dtype)
        self.head = cnn.Magnitude()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        x = x.to(self.dtype if x.is_complex() else self.dtype.to_real())
        x = self.bn(self.pool1(self.act1(self.conv1(x))))
        x = self.pool2(self.act2(self.conv2(x))).flatten(1)
        x = self.fc2(self.act3(self.fc1(x)))
        return torch.log_softmax(self.head(x), dim=1)


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of real parameters: a complex entry counts as two (its real and imaginary part)."""
    return sum(
        p.numel() * (2 if p.is_complex() else 1)
        for p in module.parameters()
        if p.requires_grad or not trainable_only
    )


def matched_real_widths(shape: str, target: int) -> tuple[int, int, int]:
    """Widths ``(c1, c2, hidden)`` of a `RealSeedCNN` whose parameter count is closest
    to ``target``, scaling every width of ``shape`` by one common factor (about sqrt 2 to
    match the complex net of the same shape)."""
    base = _widths(shape)

    def count(factor: float) -> tuple[int, tuple[int, int, int]]:
        widths = tuple(max(1, round(w * factor)) for w in base)
        c1, c2, hidden = widths
        n = (25 * c1 + c1) + 2 * c1 + (25 * c1 * c2 + c2)
        n += (16 * c2 * hidden + hidden) + (hidden * 10 + 10)
        return n, widths  # type: ignore[return-value]

    lo, hi = 0.05, 20.0
    for _ in range(60):  # bisection on the (monotone) count
        mid = math.sqrt(lo * hi)
        if count(mid)[0] < target:
            lo = mid
        else:
            hi = mid
    return min((count(lo), count(hi)), key=lambda c: abs(c[0] - target))[1]


def summary(model: nn.Module, input_size: Sequence[int] = (1, 28, 28), dtype=None) -> str:
    """A torchsummary-style table: each leaf layer, its output shape and parameter count.

    Parameters are counted as real numbers (complex ones twice), so a complex layer shows twice
    the count of the real layer of the same shape. The model is run once, in eval mode, on a
    zero batch of two inputs of ``input_size``.
    """
    rows: list[tuple[str, str, int]] = []
    counters: dict[str, int] = {}
    hooks = []

    def hook(module: nn.Module, _inputs, output) -> None:
        kind = type(module).__name__
        counters[kind] = counters.get(kind, 0) + 1
        shape = "[-1, " + ", ".join(str(s) for s in output.shape[1:]) + "]"
        rows.append((f"{kind}-{len(rows) + 1}", shape, count_parameters(module)))

    for module in model.modules():
        if not list(module.children()):
            hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(2, *input_size, dtype=dtype or torch.get_default_dtype()))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    total = count_parameters(model)
    trainable = count_parameters(model, trainable_only=True)
    lines = [f"{'Layer (type)':<26}{'Output Shape':<24}{'Param #':>12}", "-" * 62]
    lines += [f"{name:<26}{shape:<24}{n:>12,}" for name, shape, n in rows]
    lines += [
        "-" * 62,
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
    ]
    return "\n".join(lines)
