r"""The paper's from-scratch network in NumPy, with hand-written back-propagation.

Seed 000 (Appendix A.2) trains a bias-free complex network ``785 -> h -> 10`` by full-batch
gradient descent. This module generalises its equations (1) and (2) to any number of hidden
layers and also holds the real network of its Figure 1 (right). Samples are rows here
(``Z = A W^T``); the paper writes columns (``Z = W A``), which is the same computation.

Forward pass, for hidden layers $k = 1, \dots, L-1$ and output layer $L$:

$$
A_0 = X,\quad Z_k = A_{k-1} W_k^T,\quad A_k = f_k(Z_k),\quad
P = \operatorname{softmax}(s(Z_L)),\quad
\mathcal{L} = -\frac{1}{m} \sum_n \log P_{n, y_n}
$$

with $f_k$ the split ReLU $\mathrm{CReLU}(z) = \mathrm{ReLU}(\Re z) +
i\,\mathrm{ReLU}(\Im z)$ (or the identity), and $s(z) = |z|^2$ for the complex network
(the paper's ``modSoftmax``) or $s(z) = z$ for the real one.

Backward pass (the paper's equations, layer by layer): with $G = (P - Y) / m$,
$\partial\mathcal{L}/\partial Z_L^R = G \otimes 2 Z_L^R$ and
$\partial\mathcal{L}/\partial Z_L^I = G \otimes 2 Z_L^I$, then for every layer

$$
\frac{\partial\mathcal{L}}{\partial W^R} = D_R^T A^R + D_I^T A^I,\quad
\frac{\partial\mathcal{L}}{\partial W^I} = D_I^T A^R - D_R^T A^I \qquad (1)

\frac{\partial\mathcal{L}}{\partial A^R} = D_R W^R + D_I W^I,\quad
\frac{\partial\mathcal{L}}{\partial A^I} = D_I W^R - D_R W^I \qquad (2)
$$

where $D_R, D_I$ are the derivatives of the loss with respect to the real and imaginary
parts of the layer's output and $A$ is its input; through CReLU each part is multiplied
by the indicator of its own positive pre-activation. The update is
$W \leftarrow W - \eta\,(\partial\mathcal{L}/\partial W^R + i\,
\partial\mathcal{L}/\partial W^I)$, which is also what PyTorch's autograd gives for a real
loss of complex parameters.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from phasor.train.errors import TrainingError

__all__ = ["ACTIVATIONS", "NumpyMLP", "encode_inputs", "init_weights"]

ACTIVATIONS = ("relu", "identity")


def encode_inputs(images: np.ndarray, complex_valued: bool, dtype: str = "float64") -> np.ndarray:
    r"""Flatten images in ``[0, 1]``, append the constant-1 bias feature and phase-encode.

    The paper's code appends the constant feature first and then encodes every feature as
    $x\,e^{i\pi x}$, so the bias input of the complex network is $e^{i\pi} = -1$;
    the real network sees ``[x, 1]`` unchanged.

    Shape:
        - images: $(N, *)$, real.
        - Output: $(N, D + 1)$ with $D$ the number of pixels; complex for
          ``complex_valued`` (``complex128`` for ``dtype="float64"``, ``complex64`` otherwise).
    """
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    x = np.concatenate([flat, np.ones((len(flat), 1))], axis=1)
    if complex_valued:
        x = x * np.exp(1j * np.pi * x)
        return x.astype(np.complex128 if dtype == "float64" else np.complex64)
    return x.astype(np.float64 if dtype == "float64" else np.float32)


def init_weights(
    sizes: Sequence[int], complex_valued: bool, rng: np.random.Generator, std: float = 0.01
) -> list[np.ndarray]:
    r"""The paper's initialisation: $W = 0.01\,\mathcal{N}(0,1) + 0.01\,\mathcal{N}(0,1)\,i$.

    ``sizes`` lists the layer widths from input to output, e.g. ``(785, 100, 10)``; the real
    network draws only the real part. Weights are float64/complex128, ``(out, in)``.
    """
    weights = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        w = std * rng.standard_normal((fan_out, fan_in))
        if complex_valued:
            w = w + 1j * std * rng.standard_normal((fan_out, fan_in))
        weights.append(w)
    return weights


class NumpyMLP:
    """Bias-free MLP with the paper's hand-written gradients (see the module docstring).

    Args:
        weights: one ``(out, in)`` array per layer (complex for the complex network).
        activations: one entry per hidden layer, ``"relu"`` (CReLU for complex weights) or
            ``"identity"``; default ReLU everywhere.
        dtype: ``"float64"`` (complex128/float64, the paper's precision) or ``"float32"``.

    Shape:
        - inputs: $(N, D)$, from `encode_inputs`; labels: $(N,)$ integers.
        - `predict` returns $(N,)$ class indices.
    """

    def __init__(
        self,
        weights: Sequence[np.ndarray],
        activations: Sequence[str] | None = None,
        dtype: str = "float64",
    ) -> None:
        if dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
        self.complex_valued = bool(np.iscomplexobj(weights[0]))
        self.dtype = dtype
        cast = {
            (True, "float64"): np.complex128,
            (True, "float32"): np.complex64,
            (False, "float64"): np.float64,
            (False, "float32"): np.float32,
        }[(self.complex_valued, dtype)]
        self.weights = [np.array(w, dtype=cast) for w in weights]
        hidden = len(self.weights) - 1
        self.activations = tuple(activations) if activations is not None else ("relu",) * hidden
        if len(self.activations) != hidden or any(a not in ACTIVATIONS for a in self.activations):
            raise ValueError(
                f"activations must list one of {ACTIVATIONS} per hidden layer ({hidden}), "
                f"got {self.activations}"
            )
        for prev, nxt in zip(self.weights[:-1], self.weights[1:], strict=True):
            if prev.shape[0] != nxt.shape[1]:
                raise ValueError(f"layer shapes do not chain: {prev.shape} then {nxt.shape}")

    def _act(self, z: np.ndarray, kind: str) -> np.ndarray:
        if kind == "identity":
            return z
        if self.complex_valued:
            return np.maximum(z.real, 0) + 1j * np.maximum(z.imag, 0)
        return np.maximum(z, 0)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Scores ``s(Z_L)``, the layer inputs ``A_0..A_{L-1}`` and pre-activations ``Z_1..Z_L``."""
        inputs, pre = [], []
        a = x
        for k, w in enumerate(self.weights):
            inputs.append(a)
            z = a @ w.T
            pre.append(z)
            if k < len(self.activations):
                a = self._act(z, self.activations[k])
        z = pre[-1]
        scores = (z.real**2 + z.imag**2) if self.complex_valued else z
        return scores, inputs, pre

    @staticmethod
    def _softmax(scores: np.ndarray) -> np.ndarray:
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        """Mean cross-entropy of ``softmax(s(Z_L))`` against the labels ``y``."""
        scores = self.forward(x)[0]
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(y)), y].mean())

    def gradients(self, x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """The loss and ``dL/dW^R + i dL/dW^I`` for every layer (equations (1) and (2))."""
        scores, inputs, pre = self.forward(x)
        p = self._softmax(scores)
        m = len(y)
        loss = float(-np.log(np.maximum(p[np.arange(m), y], np.finfo(p.dtype).tiny)).mean())
        g = p
        g[np.arange(m), y] -= 1.0
        g /= m
        z = pre[-1]
        if self.complex_valued:
            d_re, d_im = g * 2 * z.real, g * 2 * z.imag
        else:
            d_re, d_im = g, None
        grads: list[np.ndarray] = [None] * len(self.weights)  # type: ignore[list-item]
        for k in range(len(self.weights) - 1, -1, -1):
            a, w = inputs[k], self.weights[k]
            if self.complex_valued:
                a_re, a_im, w_re, w_im = a.real, a.imag, w.real, w.imag
                grads[k] = (d_re.T @ a_re + d_im.T @ a_im) + 1j * (d_im.T @ a_re - d_re.T @ a_im)
                if k == 0:
                    break
                da_re = d_re @ w_re + d_im @ w_im
                da_im = d_im @ w_re - d_re @ w_im
            else:
                grads[k] = d_re.T @ a
                if k == 0:
                    break
                da_re, da_im = d_re @ w, None
            if self.activations[k - 1] == "relu":
                zp = pre[k - 1]
                if self.complex_valued:
                    da_re = da_re * (zp.real > 0)
                    da_im = da_im * (zp.imag > 0)
                else:
                    da_re = da_re * (zp > 0)
            d_re, d_im = da_re, da_im
        return loss, grads

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        """One full-batch gradient-descent step; returns the loss before it.

        Raises:
            TrainingError: the loss or a gradient is NaN/Inf (the run diverged).
        """
        with np.errstate(over="ignore", invalid="ignore"):  # reported below as divergence
            loss, grads = self.gradients(x, y)
        if not np.isfinite(loss):
            raise TrainingError(f"training diverged: the loss is {loss}")
        if not all(np.isfinite(g).all() for g in grads):
            raise TrainingError(f"training diverged: a gradient is not finite (loss {loss:.4g})")
        for w, g in zip(self.weights, grads, strict=True):
            w -= lr * g
        return loss

    def predict(self, x: np.ndarray, weights: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """Class indices ``argmax s(Z_L)``, with this network's or the given ``weights``."""
        if weights is None:
            return self.forward(x)[0].argmax(axis=1)
        saved = self.weights
        self.weights = list(weights)
        try:
            return self.forward(x)[0].argmax(axis=1)
        finally:
            self.weights = saved
