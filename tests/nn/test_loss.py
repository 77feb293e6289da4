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


# ------------------------------------------------------------------ signal losses

_PAIRS = {
    "ComplexMSELoss": (
        lambda: cnn.ComplexMSELoss("sum", mode="split"),
        lambda x, y: CF.complex_mse(x, y, "sum", mode="split"),
    ),
    "ComplexL1Loss": (
        lambda: cnn.ComplexL1Loss("none", mode="split"),
        lambda x, y: CF.complex_l1(x, y, "none", mode="split"),
    ),
    "MagnitudeLoss": (
        lambda: cnn.MagnitudeLoss(p=1.5, reduction="sum"),
        lambda x, y: CF.magnitude_loss(x, y, p=1.5, reduction="sum"),
    ),
    "PhaseLoss": (
        lambda: cnn.PhaseLoss("squared", reduction="none"),
        lambda x, y: CF.phase_loss(x, y, kind="squared", reduction="none"),
    ),
    "LogMagnitudeLoss": (
        lambda: cnn.LogMagnitudeLoss(eps=1e-3),
        lambda x, y: CF.log_magnitude_loss(x, y, eps=1e-3),
    ),
    "SISDRLoss": (
        lambda: cnn.SISDRLoss(dim=(0, 1), eps=0.0, reduction="sum"),
        lambda x, y: CF.si_sdr_loss(x, y, dim=(0, 1), eps=0.0, reduction="sum"),
    ),
    "ComplexCosineSimilarity": (
        lambda: cnn.ComplexCosineSimilarity(dim=0, mode="modulus"),
        lambda x, y: CF.complex_cosine_similarity(x, y, dim=0, mode="modulus"),
    ),
}


@pytest.mark.parametrize("name", _PAIRS)
def test_signal_loss_modules_match_functional(name):
    module, fn = _PAIRS[name]
    x, y = _z((3, 4), seed=5), _z((3, 4), seed=6)
    assert torch.equal(module()(x, y), fn(x, y))


def test_signal_loss_reprs():
    assert repr(cnn.ComplexL1Loss()) == "ComplexL1Loss(reduction='mean', mode='modulus')"
    assert repr(cnn.PhaseLoss()) == "PhaseLoss(kind='cosine', reduction='mean')"
    assert repr(cnn.SISDRLoss((-2, -1))) == "SISDRLoss(dim=(-2, -1), eps=1e-08, reduction='mean')"
    assert "p=1" in repr(cnn.MagnitudeLoss(p=1))
    assert "mode='modulus'" in repr(cnn.ComplexCosineSimilarity(mode="modulus"))


def test_signal_loss_options_validated_at_construction():
    with pytest.raises(ValueError, match="mode"):
        cnn.ComplexL1Loss(mode="euclid")
    with pytest.raises(ValueError, match="mode"):
        cnn.ComplexMSELoss(mode="parts")
    with pytest.raises(ValueError, match="kind"):
        cnn.PhaseLoss("sine")
    with pytest.raises(ValueError, match="at least 1"):
        cnn.MagnitudeLoss(p=0.5)
    with pytest.raises(ValueError, match="positive"):
        cnn.LogMagnitudeLoss(eps=0)
    with pytest.raises(ValueError, match="non-negative"):
        cnn.SISDRLoss(eps=-1)
    with pytest.raises(ValueError, match="reduction"):
        cnn.SISDRLoss(reduction="batchmean")
    with pytest.raises(ValueError, match="mode"):
        cnn.ComplexCosineSimilarity(mode="imag")


def test_si_sdr_loss_trains_a_noise_canceller():
    """Minimising -SI-SDR learns the complex weight of a noise reference (optimum 1)."""
    g = torch.Generator().manual_seed(7)
    clean = torch.randn(4, 64, dtype=torch.complex128, generator=g)
    noise = 0.5 * torch.randn(4, 64, dtype=torch.complex128, generator=g)
    weight = torch.zeros((), dtype=torch.complex128, requires_grad=True)
    optimizer = torch.optim.Adam([weight], lr=0.05)
    loss_fn = cnn.SISDRLoss()
    first = loss_fn(clean + noise, clean).item()
    for _ in range(50):
        loss = loss_fn(clean + noise - weight * noise, clean)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < first - 20  # at least 20 dB better
    assert abs(weight.item() - 1) < 0.1
