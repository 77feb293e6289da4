"""One call of a module with every gradient, shared by the lowering tests (loaded by path:
tests/ is not a package)."""

from __future__ import annotations

import torch
from torch.utils import _pytree as pytree

from phasor.lowering import to_pair


def entry_loss(out) -> torch.Tensor:
    """A real loss of every floating entry (the same entries in a tensor and in its pair)."""
    total = 0
    for t in pytree.tree_leaves(out):
        if isinstance(t, torch.Tensor) and (t.is_complex() or t.is_floating_point()):
            v = torch.view_as_real(t) if t.is_complex() else t
            total = total + (v * v).sum() + v.sum()
    return total


def run(module, args, pair: bool, kwargs=None):
    """Output, gradients of the floating arguments, parameter gradients (by name) and buffers
    after one call of ``module`` on ``args`` (complex ones as pairs with ``pair``)."""
    leaves = []
    for x in args:
        if isinstance(x, torch.Tensor) and (x.is_complex() or x.is_floating_point()):
            x = (to_pair(x) if pair else x).clone().requires_grad_()
        leaves.append(x)
    torch.manual_seed(1)
    out = module(*leaves, **(kwargs or {}))
    wrt = [x for x in leaves if isinstance(x, torch.Tensor) and x.requires_grad]
    params = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
    grads = torch.autograd.grad(entry_loss(out), wrt + [p for _, p in params], allow_unused=True)
    return (
        out,
        list(grads[: len(wrt)]),
        dict(zip([n for n, _ in params], grads[len(wrt) :], strict=True)),
        {n: b.clone() for n, b in module.named_buffers()},
    )
