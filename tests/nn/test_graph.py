import pytest
import torch

from phasor.functional.graph import dense_graph_conv
from phasor.nn.graph import DenseGraphConv


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128, torch.float32])
def test_module_matches_functional(dtype):
    torch.manual_seed(0)
    layer = DenseGraphConv(3, 5, dtype=dtype)
    assert layer.weight.dtype == dtype and torch.all(layer.bias == 0)
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(2, 4, 3, dtype=dtype)
    adj = torch.rand(2, 4, 4)
    torch.testing.assert_close(
        layer(x, adj), dense_graph_conv(x, adj, layer.weight, layer.bias, normalize=True)
    )
    assert layer(x, adj).shape == (2, 4, 5)


def test_options_and_errors():
    layer = DenseGraphConv(3, 2, bias=False, normalize=False)
    assert layer.bias is None and "normalize=False" in repr(layer)
    x = torch.randn(4, 3, dtype=torch.complex64)
    adj = torch.rand(4, 4)
    torch.testing.assert_close(layer(x, adj), adj.to(x.dtype) @ x @ layer.weight.T)
    with pytest.raises(TypeError, match="dtype"):
        DenseGraphConv(3, 2, dtype=torch.int64)
    with pytest.raises(TypeError, match="dtype"):
        DenseGraphConv(3, 2)(x.to(torch.complex128), adj)


def test_layer_learns_through_the_graph():
    # the label of a node is the feature of its neighbour: only the graph carries it
    torch.manual_seed(0)
    layer = DenseGraphConv(1, 1, bias=False, normalize=False, dtype=torch.complex128)
    adj = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.complex128)
    x = torch.randn(16, 2, 1, dtype=torch.complex128)
    target = 2 * x.flip(1)
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        loss = (layer(x, adj) - target).abs().square().mean()
        loss.backward()
        opt.step()
    torch.testing.assert_close(
        layer.weight.detach(), torch.tensor([[2.0 + 0j]], dtype=torch.complex128), atol=1e-4, rtol=0
    )
