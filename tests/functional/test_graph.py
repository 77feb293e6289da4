import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from phasor.functional.graph import dense_graph_conv, normalize_adjacency


def _hermitian(b, n, seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(b, n, n, dtype=torch.complex128, generator=g)
    return a + a.conj().transpose(-1, -2)


def _reference(x, adj, w, bias):
    """Loop over graphs and nodes: out_i = sum_j Ahat_ij (W x_j) + b."""
    out = torch.zeros(x.shape[0], x.shape[1], w.shape[0], dtype=x.dtype)
    for g in range(x.shape[0]):
        a = adj[g] + torch.eye(adj.shape[-1], dtype=adj.dtype)
        deg = [float(a[i].abs().sum()) for i in range(a.shape[0])]
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                out[g, i] += a[i, j] / (deg[i] * deg[j]) ** 0.5 * (w @ x[g, j])
    return out + bias


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.integers(1, 6), st.integers(0, 10_000))
def test_matches_loop_reference_complex(b, n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, n, 3, dtype=torch.complex128, generator=g)
    w = torch.randn(4, 3, dtype=torch.complex128, generator=g)
    bias = torch.randn(4, dtype=torch.complex128, generator=g)
    adj = _hermitian(b, n, seed)
    torch.testing.assert_close(dense_graph_conv(x, adj, w, bias), _reference(x, adj, w, bias))


def test_real_graph_and_shared_adjacency():
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    w = torch.randn(4, 3, dtype=torch.float64)
    adj = torch.rand(5, 5, dtype=torch.float64)
    adj = adj + adj.T
    out = dense_graph_conv(x, adj, w)
    torch.testing.assert_close(out, _reference(x, adj.expand(2, 5, 5), w, torch.zeros(4)))
    torch.testing.assert_close(dense_graph_conv(x[0], adj, w), out[0])
    # without normalisation the adjacency is used as given
    torch.testing.assert_close(dense_graph_conv(x, adj, w, normalize=False), adj @ x @ w.T)


def test_normalized_adjacency_properties():
    adj = _hermitian(2, 6, 0)
    a = normalize_adjacency(adj)
    torch.testing.assert_close(a, a.conj().transpose(-1, -2))  # stays Hermitian
    assert float(torch.linalg.matrix_norm(a, ord=2).max()) <= 1 + 1e-9
    empty = normalize_adjacency(torch.zeros(3, 3), add_self_loops=False)
    assert torch.equal(empty, torch.zeros(3, 3))  # isolated nodes: zero rows, no NaN


def test_gradcheck_complex128():
    x = torch.randn(2, 4, 3, dtype=torch.complex128, requires_grad=True)
    w = torch.randn(2, 3, dtype=torch.complex128, requires_grad=True)
    b = torch.randn(2, dtype=torch.complex128, requires_grad=True)
    adj = _hermitian(2, 4, 1).requires_grad_()
    assert torch.autograd.gradcheck(dense_graph_conv, (x, adj, w, b))


def test_bad_input():
    w = torch.randn(2, 3, dtype=torch.complex64)
    x = torch.randn(4, 3, dtype=torch.complex64)
    with pytest.raises(ValueError, match=r"\(N, N\)"):
        dense_graph_conv(x, torch.ones(4, 5), w)
    with pytest.raises(ValueError, match="nodes"):
        dense_graph_conv(x, torch.ones(5, 5), w)
    with pytest.raises(ValueError, match="features"):
        dense_graph_conv(x, torch.ones(4, 4), torch.randn(2, 5, dtype=torch.complex64))
    with pytest.raises(TypeError, match="dtype"):
        dense_graph_conv(x, torch.ones(4, 4), w.to(torch.complex128))
    with pytest.raises(TypeError, match="to_complex"):
        dense_graph_conv(x.real, torch.ones(4, 4, dtype=torch.complex64), w.real)
    with pytest.raises(ValueError, match=r"\(B, N, F\)"):
        dense_graph_conv(x[0], torch.ones(4, 4), w)
