r"""Empirical neural tangent kernel (NTK) of any module, complex or real, with ``torch.func``.

The kernel follows *real-valued back-propagation* (seed 002): every complex parameter
$\theta = a + ib$ counts as the two real parameters $(a, b)$ and every complex
output $f = u + iv$ as the two real outputs $(u, v)$. With $J(x)$ the
Jacobian of the real outputs with respect to all real parameters, the empirical NTK is

$$
K(x, x') = J(x)\, J(x')^\top \in \mathbb{R}^{O \times O},
$$

where $O$ is the number of real outputs (twice the number of complex outputs). This is
the kernel that governs gradient descent on the real parameters,
$\dot f_t(x) = -\eta\, \sum_{x'} K(x, x')\, \nabla_{f(x')} L$.

For one complex output the $2 \times 2$ block splits into four orthogonal parts
(`complex_block_parts`),

$$
K = \begin{pmatrix} K_{rr} & K_{ri} \\ K_{ir} & K_{ii} \end{pmatrix}
= \underbrace{\begin{pmatrix} a & -b \\ b & a \end{pmatrix}}_{\text{complex-linear}}
+ \underbrace{\begin{pmatrix} c & d \\ d & -c \end{pmatrix}}_{\text{conjugate-linear}},
$$

$a = (K_{rr} + K_{ii})/2$, $b = (K_{ir} - K_{ri})/2$,
$c = (K_{rr} - K_{ii})/2$, $d = (K_{ri} + K_{ir})/2$. A real network with two
independent output units has, at infinite width, a kernel of the form
$\Theta \otimes I_2$ — only the part $a$. `real_form_residual` measures how
far a kernel is from that form.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

__all__ = [
    "complex_block_parts",
    "empirical_ntk",
    "kernel_alignment",
    "kernel_distance",
    "normalized_kernel_distance",
    "ntk_matrix",
    "real_form_residual",
    "real_parameters",
]


def real_parameters(module: nn.Module) -> dict[str, torch.Tensor]:
    """The parameters of ``module`` as real tensors, detached: a complex parameter of shape
    ``S`` becomes its ``torch.view_as_real`` view of shape ``(*S, 2)`` (real, imaginary)."""
    return {
        name: torch.view_as_real(p.detach()) if p.is_complex() else p.detach()
        for name, p in module.named_parameters()
    }


def _real_outputs(out: torch.Tensor) -> torch.Tensor:
    """Flatten one sample's output into real outputs, ``(Re, Im)`` adjacent for complex."""
    return (torch.view_as_real(out) if out.is_complex() else out).reshape(-1)


def _jacobians(
    module: nn.Module,
    params: dict[str, torch.Tensor],
    complex_names: set[str],
    name: str,
    inputs: torch.Tensor,
) -> torch.Tensor:
    """Per-sample Jacobian of the real outputs w.r.t. the real parameter ``name``,
    flattened to ``(N, O, P_name)``."""
    fixed = {k: (torch.view_as_complex(v) if k in complex_names else v) for k, v in params.items()}

    # jacrev refuses complex arguments, so complex inputs travel as their real view too.
    is_complex = inputs.is_complex()

    def single(p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        full = dict(fixed)
        full[name] = torch.view_as_complex(p) if name in complex_names else p
        sample = (torch.view_as_complex(x) if is_complex else x).unsqueeze(0)
        return _real_outputs(functional_call(module, full, (sample,)).squeeze(0))

    x_real = torch.view_as_real(inputs) if is_complex else inputs
    jac = vmap(jacrev(single), in_dims=(None, 0))(params[name], x_real)
    return jac.reshape(jac.shape[0], jac.shape[1], -1)


def empirical_ntk(
    module: nn.Module, inputs: torch.Tensor, inputs2: torch.Tensor | None = None
) -> torch.Tensor:
    r"""Empirical NTK of ``module`` for real-valued back-propagation.

    $$
    K_{n m i j} = \sum_p \frac{\partial f_i(x_n)}{\partial \theta_p}
    \frac{\partial f_j(x'_m)}{\partial \theta_p}
    $$

    over all *real* parameters $\theta_p$ (each complex parameter contributes its real
    and imaginary parts) and real outputs $f_i$ (each complex output contributes its real
    and imaginary parts, in that order). Jacobians are computed per sample with
    ``torch.func.vmap(torch.func.jacrev(...))``, one parameter tensor at a time, so the peak
    memory is that of the largest parameter tensor's Jacobian. The module must accept a batch of
    one sample (it is called on ``x.unsqueeze(0)``) and must not depend on other samples of the
    batch (no batch normalisation in training mode). Layers on the ``"auto"`` backend run the
    reference kernels ``"native"`` inside the transforms (see `phasor.backend`).

    Args:
        module: any ``nn.Module`` with real and/or complex parameters.
        inputs: batch $(N, *)$, real or complex.
        inputs2: second batch $(M, *)$; ``None`` means ``inputs`` (the Gram matrix).

    Returns:
        Real tensor of shape $(N, M, O, O)$ in the parameters' real dtype.

    Shape:
        - inputs: $(N, *)$; inputs2: $(M, *)$.
        - Output: $(N, M, O, O)$ with $O$ real outputs per sample.
    """
    if inputs.dim() < 1 or inputs.shape[0] == 0:
        raise ValueError(
            f"inputs must be a non-empty batch (N, *), got shape {tuple(inputs.shape)}"
        )
    if inputs2 is not None and inputs2.shape[1:] != inputs.shape[1:]:
        raise ValueError(
            f"inputs2 must have the sample shape of inputs {tuple(inputs.shape[1:])}, "
            f"got {tuple(inputs2.shape[1:])}"
        )
    params = real_parameters(module)
    if not params:
        raise ValueError("module has no parameters: its NTK is zero")
    complex_names = {n for n, p in module.named_parameters() if p.is_complex()}
    trainable = [n for n, p in module.named_parameters() if p.requires_grad]
    kernel = None
    for name in trainable:
        j1 = _jacobians(module, params, complex_names, name, inputs)
        j2 = j1 if inputs2 is None else _jacobians(module, params, complex_names, name, inputs2)
        part = torch.einsum("nip,mjp->nmij", j1, j2)
        kernel = part if kernel is None else kernel + part
    if kernel is None:
        raise ValueError("module has no trainable parameters: its NTK is zero")
    return kernel


def ntk_matrix(kernel: torch.Tensor) -> torch.Tensor:
    """Reshape an ``(N, M, O, O)`` kernel to the ``(N*O, M*O)`` matrix (sample-major)."""
    if kernel.dim() != 4 or kernel.shape[2] != kernel.shape[3]:
        raise ValueError(f"kernel must have shape (N, M, O, O), got {tuple(kernel.shape)}")
    n, m, o, _ = kernel.shape
    return kernel.permute(0, 2, 1, 3).reshape(n * o, m * o)


def complex_block_parts(kernel: torch.Tensor) -> dict[str, torch.Tensor]:
    r"""Split a one-complex-output kernel ``(N, M, 2, 2)`` into its four orthogonal parts.

    Returns ``{"a", "b", "c", "d"}``, each ``(N, M)``: ``a + ib`` is the complex-linear part
    (the kernel acting on complex residuals as multiplication by a complex number: ``a`` is the
    part a real two-output network has, ``b`` a rotation), ``c + id`` the conjugate-linear part.
    ``K = a I + b J + c R + d S`` with ``J = [[0, -1], [1, 0]]``, ``R = diag(1, -1)``,
    ``S = [[0, 1], [1, 0]]``, so ``||K||^2 = 2 (||a||^2 + ||b||^2 + ||c||^2 + ||d||^2)``.
    """
    if kernel.dim() != 4 or kernel.shape[2:] != (2, 2):
        raise ValueError(
            f"kernel must have shape (N, M, 2, 2) (one complex output), got {tuple(kernel.shape)}"
        )
    rr, ri = kernel[..., 0, 0], kernel[..., 0, 1]
    ir, ii = kernel[..., 1, 0], kernel[..., 1, 1]
    return {"a": (rr + ii) / 2, "b": (ir - ri) / 2, "c": (rr - ii) / 2, "d": (ri + ir) / 2}


def real_form_residual(kernel: torch.Tensor) -> dict[str, float]:
    r"""How far a one-complex-output kernel is from the form $\Theta \otimes I_2$.

    With the parts of `complex_block_parts`, ``total`` is
    $\|K - a \otimes I_2\|_F / \|K\|_F = \sqrt{(\|b\|^2+\|c\|^2+\|d\|^2) /
    (\|a\|^2+\|b\|^2+\|c\|^2+\|d\|^2)}$ (0 for a real network's limit kernel, 1 for a kernel
    with no such part); ``rotation`` and ``conjugate`` are the shares of ``b`` and of
    ``(c, d)`` alone, in the same normalisation (``total**2 = rotation**2 + conjugate**2``).
    """
    parts = complex_block_parts(kernel)
    sq = {k: float(v.double().pow(2).sum()) for k, v in parts.items()}
    norm = sq["a"] + sq["b"] + sq["c"] + sq["d"]
    if norm == 0.0:
        raise ValueError("kernel is zero: its distance to the real form is undefined")
    return {
        "total": math.sqrt((sq["b"] + sq["c"] + sq["d"]) / norm),
        "rotation": math.sqrt(sq["b"] / norm),
        "conjugate": math.sqrt((sq["c"] + sq["d"]) / norm),
    }


def _norm(k: torch.Tensor, name: str) -> torch.Tensor:
    norm = torch.linalg.vector_norm(k.double())
    if norm == 0:
        raise ValueError(f"{name} is zero: a normalised distance is undefined")
    return norm


def _check_pair(k1: torch.Tensor, k2: torch.Tensor) -> None:
    if k1.shape != k2.shape:
        raise ValueError(
            f"kernels must have the same shape, got {tuple(k1.shape)} and {tuple(k2.shape)}"
        )


def kernel_distance(k1: torch.Tensor, k2: torch.Tensor) -> float:
    r"""Relative Frobenius distance $\|K_1 - K_2\|_F / \|K_2\|_F$ (``K_2`` the reference)."""
    _check_pair(k1, k2)
    return float(torch.linalg.vector_norm((k1 - k2).double()) / _norm(k2, "k2"))


def normalized_kernel_distance(k1: torch.Tensor, k2: torch.Tensor) -> float:
    r"""Scale-free distance $\| K_1/\|K_1\|_F - K_2/\|K_2\|_F \|_F \in [0, 2]$.

    Zero iff one kernel is a positive multiple of the other; equals
    $\sqrt{2 - 2\,\mathrm{alignment}}$ (`kernel_alignment`), so orthogonal kernels
    are $\sqrt 2$ apart. Being scale-free, it ignores an overall learning-rate factor.
    """
    _check_pair(k1, k2)
    a = k1.double() / _norm(k1, "k1")
    b = k2.double() / _norm(k2, "k2")
    return float(torch.linalg.vector_norm(a - b))


def kernel_alignment(k1: torch.Tensor, k2: torch.Tensor) -> float:
    r"""Cosine of the Frobenius angle, $\langle K_1, K_2\rangle_F / (\|K_1\|_F \|K_2\|_F)$."""
    _check_pair(k1, k2)
    dot = (k1.double() * k2.double()).sum()
    return float(dot / (_norm(k1, "k1") * _norm(k2, "k2")))
