"""Lowered DenseGraphConv (phasor.lowering.graph) against eager phasor on what the module
example leaves out: unbatched features, an adjacency shared by the batch, no normalisation, no
bias, a node of degree 0, a complex adjacency, a real layer, refused inputs."""

from __future__ import annotations

import copy

import pytest
import torch

import phasor.nn as P
from phasor.lowering import lower, to_pair
from phasor.lowering._core import pair_tensor

TOL = {torch.complex64: 2e-5, torch.complex128: 1e-12}
DTYPES = pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=["c64", "c128"])


def assert_lowered_equals_eager(layer, x: torch.Tensor, adj: torch.Tensor) -> None:
    """Output and the gradients of features, adjacency and parameters (by name) of
    ``lower(layer)`` equal eager phasor's."""
    x, adj = x.clone().requires_grad_(), adj.clone().requires_grad_()
    out = layer(x, adj)
    weights = torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(1))
    loss = (torch.view_as_real(out) * torch.view_as_real(weights)).sum()
    params = dict(layer.named_parameters())
    grads = torch.autograd.grad(loss, [x, adj, *params.values()])

    lowered = lower(layer)
    x_l = to_pair(x.detach()).requires_grad_()
    adj_l = to_pair(adj.detach()).requires_grad_()
    out_l = lowered(x_l, adj_l)
    params_l = dict(lowered.named_parameters())
    assert params_l.keys() == params.keys()
    grads_l = torch.autograd.grad(
        (out_l * to_pair(weights)).sum(), [x_l, adj_l, *params_l.values()]
    )

    tol = dict(atol=TOL[x.dtype], rtol=TOL[x.dtype])
    torch.testing.assert_close(out_l, to_pair(out), **tol)
    torch.testing.assert_close(grads_l[0], to_pair(grads[0]), **tol)
    torch.testing.assert_close(grads_l[1], to_pair(grads[1]), **tol)
    for name, got, want in zip(params, grads_l[2:], grads[2:], strict=True):
        torch.testing.assert_close(got, pair_tensor(want), **tol, msg=name)


def _features(*shape, dtype):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(2))


def _adjacency(*shape, dtype=torch.float32, seed=3):
    return torch.rand(*shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


@DTYPES
@pytest.mark.parametrize("normalize", [True, False], ids=["normalized", "as-given"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize(
    ("x_shape", "adj_shape"),
    [((2, 5, 3), (2, 5, 5)), ((2, 5, 3), (5, 5)), ((5, 3), (5, 5)), ((5, 3), (2, 5, 5))],
    ids=["batched", "shared-adjacency", "unbatched", "unbatched-features"],
)
def test_real_adjacency(x_shape, adj_shape, bias, normalize, dtype):
    torch.manual_seed(0)
    layer = P.DenseGraphConv(3, 4, bias=bias, normalize=normalize, dtype=dtype)
    adj = _adjacency(*adj_shape, dtype=dtype.to_real())
    assert_lowered_equals_eager(layer, _features(*x_shape, dtype=dtype), adj)


@DTYPES
@pytest.mark.parametrize("complex_adjacency", [False, True], ids=["real", "complex"])
def test_node_of_degree_zero_gets_a_zero_row(complex_adjacency, dtype):
    torch.manual_seed(0)
    layer = P.DenseGraphConv(3, 2, dtype=dtype)
    adj = _adjacency(2, 4, 4, dtype=dtype if complex_adjacency else dtype.to_real())
    adj[:, 1, :] = 0
    adj[:, 1, 1] = -1  # with the self-loop, node 1's row of A + I is zero
    assert_lowered_equals_eager(layer, _features(2, 4, 3, dtype=dtype), adj)


@DTYPES
@pytest.mark.parametrize("normalize", [True, False], ids=["normalized", "as-given"])
@pytest.mark.parametrize("x_shape", [(2, 4, 3), (4, 3)], ids=["batched", "unbatched"])
def test_complex_adjacency_as_a_batched_pair(x_shape, normalize, dtype):
    torch.manual_seed(0)
    layer = P.DenseGraphConv(3, 2, normalize=normalize, dtype=dtype)
    adj = torch.randn(2, 4, 4, dtype=dtype, generator=torch.Generator().manual_seed(4))
    adj = adj + adj.mT.conj()  # Hermitian, phase-carrying edges
    assert_lowered_equals_eager(layer, _features(*x_shape, dtype=dtype), adj)


def test_real_layer_stays_real():
    torch.manual_seed(0)
    layer = P.DenseGraphConv(3, 4, dtype=torch.float64)
    x, adj = torch.randn(2, 5, 3, dtype=torch.float64), _adjacency(2, 5, 5, dtype=torch.float64)
    lowered = lower(layer, real_input=True)
    assert dict(lowered.named_parameters()).keys() == dict(layer.named_parameters()).keys()
    torch.testing.assert_close(lowered(x, adj), layer(x, adj))


def test_inputs_phasor_refuses_are_refused():
    with pytest.raises(TypeError, match="real input"):
        lower(P.DenseGraphConv(3, 4), real_input=True)
    with pytest.raises(TypeError, match="real layer"):
        lower(P.DenseGraphConv(3, 4, dtype=torch.float32))
    lowered = lower(P.DenseGraphConv(3, 4))
    with pytest.raises(ValueError, match="adjacency must be"):
        lowered(to_pair(_features(5, 3, dtype=torch.complex64)), torch.ones(5, 2, 5))


def test_compiled_equals_eager():
    torch.manual_seed(0)
    lowered = lower(P.DenseGraphConv(3, 4))
    compiled = torch.compile(copy.deepcopy(lowered), fullgraph=True, backend="aot_eager")
    x, adj = to_pair(_features(2, 5, 3, dtype=torch.complex64)), _adjacency(5, 5)
    torch.testing.assert_close(compiled(x, adj), lowered(x, adj))
