r"""The real-pair lowering: a phasor model as an equivalent real-valued module.

`lower` turns a phasor model into a module whose every tensor is real, so that
``torch.compile(lowered, fullgraph=True)`` can fuse it end to end (inductor generates no code
for complex tensors) and [`phasor.export.to_onnx`][phasor.export.to_onnx] can export it (ONNX
has no complex tensors). Eager native complex stays phasor's default and the reference: the
lowered module computes the same function to float tolerance, not bit for bit.

Layout: a complex tensor of shape $(N, C, *)$ is carried as the real tensor
$(N, 2, C, *)$ with the real part at index 0 and the imaginary part at index 1 of the
*pair axis*, dim 1, right after the first axis (`to_pair`, `from_pair`). Merging the
pair axis with the next one is a free view, so a convolution on $(N, 2C, H, W)$ with the
stacked weight

$$
\begin{pmatrix} A & -B \\ B & A \end{pmatrix}, \qquad W = A + iB,
$$

is one real convolution with no copy; a linear layer on $(N, 2, F)$ is one real GEMM the
same way (``kernel="stacked"``). ``kernel="gauss"`` uses Gauss's three real products instead
($t_1 = A x$, $t_2 = B y$, $t_3 = (A + B)(x + y)$; real part
$t_1 - t_2$, imaginary part $t_3 - t_1 - t_2$). Elementwise layers act on the two
parts, batch norm is its per-channel 2x2 affine map. A real output (after ``Modulus`` or
``Magnitude``) stays a plain real tensor, and with ``real_input=True`` the lowered module takes
the real input of the phasor model as it is (the first linear or convolution layer then
multiplies it by $[A; B]$). The default, ``kernel="by-shape"``, takes the faster of the two
per layer by a fixed rule (`kernel_for`).

The lowered module owns real copies of the parameters and buffers, under the same names as in
the phasor model: a complex one of shape $S$ becomes a real $(2, *S)$, real part first
(`pair_state_dict`, `complex_state_dict` convert state both ways). `lower` copies the values
at the time of the call, so the lowered module trains on its own. Every public module of
`phasor.nn` has a rule (`SUPPORTED`), as do ``nn.Sequential`` trees of them, the models of
[`phasor.models`][phasor.models], and `torch.nn` modules that get a real input; a new module
gets one with `register`.
"""

from __future__ import annotations

from torch import nn

from phasor.lowering import (  # noqa: F401  (each registers its rules)
    activation,
    attention,
    container,
    conv,
    dropout,
    encoding,
    graph,
    linear,
    loss,
    models,
    normalization,
    pooling,
    recurrent,
    spectral,
    upsampling,
)
from phasor.lowering._core import (
    RULES,
    Context,
    complex_state_dict,
    from_pair,
    lower_module,
    pair_state_dict,
    register,
    to_pair,
)
from phasor.lowering.linear import kernel_for

__all__ = [
    "KERNELS",
    "SUPPORTED",
    "Context",
    "complex_state_dict",
    "from_pair",
    "kernel_for",
    "lower",
    "pair_state_dict",
    "register",
    "to_pair",
]

KERNELS = ("by-shape", "stacked", "gauss")
"""Real kernels for the complex linear and convolution layers: ``"by-shape"`` picks one of the
other two per layer by `kernel_for`."""

SUPPORTED: tuple[type, ...] = tuple(RULES)
"""The module classes with a lowering rule (``nn.Sequential`` nests them)."""


def lower(model: nn.Module, real_input: bool = False, kernel: str = "by-shape") -> nn.Module:
    r"""Return a real-valued module equal to ``model`` to float tolerance.

    Args:
        model: a module of `SUPPORTED` classes, or an ``nn.Sequential`` tree of them.
        real_input: the model is fed a real tensor (e.g. images), taken as it is; otherwise its
            complex input is passed in the pair layout $(N, 2, C, *)$ (`to_pair`).
        kernel: ``"by-shape"`` (default): per layer by the fixed rule of `kernel_for`;
            ``"stacked"``: one real convolution or GEMM on the stacked weight
            $[[A, -B], [B, A]]$; ``"gauss"``: Gauss's three real products. Grouped
            convolutions, and linear layers on inputs with more than two complex axes, always
            use the three products.

    Returns:
        A module with real parameters copied from ``model`` (in its train/eval mode) under the
        same names, whose forward takes each complex argument of ``model`` in the pair layout
        (a real argument as it is) and returns each complex output in the pair layout (a real
        output as it is, e.g. after ``Modulus``).

    Raises:
        TypeError: an unsupported module (named, with the supported list), or a layer that
            phasor would refuse a real input reaches one.
        ValueError: an unknown ``kernel``, or a layer option with no lowering.

    Shape:
        - Input: $(N, 2, C, *)$ real, the pair layout of the complex $(N, C, *)$;
          with ``real_input=True`` the model's real input $(N, C, *)$.
        - Output: $(N, 2, *)$ real pair, or the real output $(N, *)$.

    Example:

        >>> import torch, phasor
        >>> from phasor.lowering import from_pair, lower, to_pair
        >>> model = torch.nn.Sequential(phasor.nn.Linear(4, 3), phasor.nn.CReLU())
        >>> z = torch.randn(5, 4, dtype=torch.complex64)
        >>> torch.allclose(from_pair(lower(model)(to_pair(z))), model(z), atol=1e-6)
        True
    """
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; choose one of {', '.join(KERNELS)}")
    lowered, _ = lower_module(model, Context(real_input=real_input, kernel=kernel))
    return lowered.train(model.training)
