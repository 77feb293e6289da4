"""The paper's networks built from ``phasor`` layers (complex) or ``torch.nn`` (real), trained
by autograd with the same full-batch gradient descent as `.numpy_mlp`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import phasor.nn as cnn
from phasor.functional import complex_cross_entropy
from phasor.train.errors import TrainingError

__all__ = ["TorchMLP"]


class TorchMLP(nn.Module):
    r"""Bias-free MLP: complex ``phasor.nn.Linear`` + ``CReLU`` layers, or real ``torch.nn`` ones.

    The complex network scores class $c$ by $|z_c|^2$
    ([`phasor.functional.complex_cross_entropy`][phasor.functional.loss.complex_cross_entropy] with ``real_map="squared_magnitude"``);
    the real one by $z_c$.

    Args:
        weights: one ``(out, in)`` NumPy array per layer (see
            `init_weights`); complex arrays give the complex network.
        activations: ``"relu"`` or ``"identity"`` per hidden layer (default ReLU everywhere).
        dtype: ``"float64"`` (complex128/float64) or ``"float32"`` (complex64/float32).

    Shape:
        - Input: $(N, D)$; output: $(N, C)$ logits (complex for the complex network).
    """

    def __init__(
        self,
        weights: Sequence[np.ndarray],
        activations: Sequence[str] | None = None,
        dtype: str = "float64",
    ) -> None:
        super().__init__()
        if dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
        self.complex_valued = bool(np.iscomplexobj(weights[0]))
        if self.complex_valued:
            self.dtype = torch.complex128 if dtype == "float64" else torch.complex64
        else:
            self.dtype = torch.float64 if dtype == "float64" else torch.float32
        hidden = len(weights) - 1
        activations = tuple(activations) if activations is not None else ("relu",) * hidden
        if len(activations) != hidden or any(a not in ("relu", "identity") for a in activations):
            raise ValueError(
                f"activations must list 'relu' or 'identity' per hidden layer, got {activations}"
            )
        layers: list[nn.Module] = []
        for k, w in enumerate(weights):
            out_features, in_features = w.shape
            if self.complex_valued:
                layer = cnn.Linear(in_features, out_features, bias=False, dtype=self.dtype)
            else:
                layer = nn.Linear(in_features, out_features, bias=False, dtype=self.dtype)
            with torch.no_grad():
                layer.weight.copy_(torch.as_tensor(w).to(self.dtype))
            layers.append(layer)
            if k < hidden and activations[k] == "relu":
                layers.append(cnn.CReLU() if self.complex_valued else nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of the softmax of the scores (``|z|^2`` or ``z``)."""
        logits = self(x)
        if self.complex_valued:
            return complex_cross_entropy(logits, y, real_map="squared_magnitude")
        return F.cross_entropy(logits, y)

    def step(self, x: torch.Tensor, y: torch.Tensor, lr: float) -> float:
        """One full-batch gradient-descent step ``W <- W - lr * grad``; returns the loss before it.

        Raises:
            TrainingError: the loss is NaN/Inf (the run diverged).
        """
        self.zero_grad(set_to_none=True)
        loss = self.loss(x, y)
        if not torch.isfinite(loss):
            raise TrainingError(f"training diverged: the loss is {loss.item()}")
        loss.backward()
        with torch.no_grad():
            for p in self.parameters():
                p.sub_(lr * p.grad)
        return float(loss.detach())

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Class indices: ``argmax |z|^2`` (complex) or ``argmax z`` (real)."""
        logits = self(x)
        scores = logits.abs() if self.complex_valued else logits
        return scores.argmax(dim=1)
