"""Head and loss modules: agree with the functional forms, options are validated early."""

import pytest
import torch

import phasor.functional as CF
import phasor.nn as cnn


def _z(shape, dtype=torch.complex128, seed=0):
    return torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def test_magnitude_module():
    z = _z((3, 4))
    assert torch.equal(cnn.Magnitude()(z), z.abs())


@pytest.mark.parametrize("dim", [0, -1])
def test_mod_softmax_modules(dim):
    z = _z((3, 4))
    assert torch.equal(cnn.ModSoftmax(dim)(z), CF.mod_softmax(z, dim=dim))
    assert torch.equal(cnn.ModLogSoftmax(dim)(z), CF.mod_log_softmax(z, dim=dim))
    assert torch.allclose(
        cnn.ModSoftmax(dim)(z).sum(dim), torch.ones(4 if dim == 0 else 3).double()
    )
    assert f"dim={dim}" in repr(cnn.ModSoftmax(dim))


@pytest.mark.parametrize("real_map", ["magnitude", "squared_magnitude", "real"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_module(real_map, reduction):
    logits = _z((6, 4))
    target = torch.tensor([0, 3, 1, 2, 2, 0])
    loss = cnn.ComplexCrossEntropyLoss(real_map=real_map, reduction=reduction)
    expected = CF.complex_cross_entropy(logits, target, real_map=real_map, reduction=reduction)
    assert torch.equal(loss(logits, target), expected)
    assert repr(real_map) in repr(loss)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_module(reduction):
    x, y = _z((3, 2), seed=1), _z((3, 2), seed=2)
    assert torch.equal(cnn.ComplexMSELoss(reduction)(x, y), CF.complex_mse(x, y, reduction))


def test_options_validated_at_construction():
    with pytest.raises(ValueError, match="real_map"):
        cnn.ComplexCrossEntropyLoss(real_map="angle")
    with pytest.raises(ValueError, match="reduction"):
        cnn.ComplexCrossEntropyLoss(reduction="batchmean")
    with pytest.raises(ValueError, match="reduction"):
        cnn.ComplexMSELoss(reduction="batchmean")


def test_cross_entropy_module_trains_a_complex_classifier():
    """A few SGD steps on complex logits lower the loss (gradients reach the weights)."""
    torch.manual_seed(0)
    x = _z((32, 5), torch.complex64, seed=3)
    target = torch.randint(0, 3, (32,))
    weight = (0.1 * _z((3, 5), torch.complex64, seed=4)).requires_grad_()
    loss_fn = cnn.ComplexCrossEntropyLoss()
    losses = []
    for _ in range(30):
        loss = loss_fn(x @ weight.T, target)
        losses.append(loss.item())
        (grad,) = torch.autograd.grad(loss, weight)
        with torch.no_grad():
            weight -= 0.5 * grad
    assert losses[-1] < 0.8 * losses[0]
