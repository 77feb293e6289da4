"""The from-scratch NumPy network (the paper's hand-written back-propagation) against the same
network built from phasor layers and differentiated by autograd."""

import numpy as np
import pytest
import torch

from phasor.experiments.phase_pruning.numpy_mlp import NumpyMLP, encode_inputs, init_weights
from phasor.experiments.phase_pruning.torch_mlp import TorchMLP
from phasor.train.errors import TrainingError


def _problem(hidden, complex_valued, seed=0, std=0.15):
    rng = np.random.default_rng(seed)
    images = rng.random((24, 5, 6))
    labels = rng.integers(0, 10, 24)
    x = encode_inputs(images, complex_valued)
    weights = init_weights([x.shape[1], *hidden, 10], complex_valued, rng, std=std)
    return x, labels, weights


def _rel_err(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


CASES = [
    ((16,), True, None),
    ((16, 12), True, None),
    ((16,), False, None),
    ((16, 12), False, ("relu", "identity")),
]


@pytest.mark.parametrize(("hidden", "complex_valued", "activations"), CASES)
def test_hand_written_gradients_equal_autograd(hidden, complex_valued, activations):
    x, y, weights = _problem(hidden, complex_valued)
    ref = NumpyMLP(weights, activations)
    loss, grads = ref.gradients(x, y)
    model = TorchMLP(weights, activations)
    torch_loss = model.loss(torch.from_numpy(x), torch.from_numpy(y))
    torch_loss.backward()
    assert abs(loss - torch_loss.item()) <= 1e-12 * abs(loss)
    layers = [m for m in model.net if hasattr(m, "weight")]
    assert len(layers) == len(grads)
    for g, layer in zip(grads, layers, strict=True):
        auto = layer.weight.grad.numpy()
        assert np.linalg.norm(auto) > 1e-6  # a real gradient, not zeros on both sides
        assert _rel_err(g, auto) < 1e-10


def test_gradients_equal_finite_differences():
    # independent of autograd: central differences of the NumPy loss, complex, 2 hidden layers
    x, y, weights = _problem((5, 4), True, seed=1, std=0.3)
    net = NumpyMLP(weights)
    _, grads = net.gradients(x, y)
    rng = np.random.default_rng(2)
    h = 1e-6
    for k, w in enumerate(net.weights):
        for _ in range(3):
            i, j = rng.integers(w.shape[0]), rng.integers(w.shape[1])
            for part, unit in ((grads[k][i, j].real, 1.0), (grads[k][i, j].imag, 1j)):
                old = w[i, j]
                w[i, j] = old + h * unit
                up = net.loss(x, y)
                w[i, j] = old - h * unit
                down = net.loss(x, y)
                w[i, j] = old
                assert abs((up - down) / (2 * h) - part) < 1e-6


@pytest.mark.parametrize(("hidden", "complex_valued", "activations"), CASES[:2] + CASES[3:])
def test_training_from_same_weights_gives_same_weights(hidden, complex_valued, activations):
    x, y, weights = _problem(hidden, complex_valued, seed=3)
    ref = NumpyMLP(weights, activations)
    model = TorchMLP(weights, activations)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(6):
        l_ref = ref.step(x, y, lr=0.1)
        l_torch = model.step(xt, yt, lr=0.1)
        assert abs(l_ref - l_torch) <= 1e-10 * abs(l_ref)
    layers = [m for m in model.net if hasattr(m, "weight")]
    for w, layer, w0 in zip(ref.weights, layers, weights, strict=True):
        assert np.abs(w - w0).max() > 1e-4  # the steps moved the weights
        assert _rel_err(w, layer.weight.detach().numpy()) < 1e-10


def test_divergence_raises_clear_error():
    x, y, weights = _problem((8,), True, std=1.0)
    for net, args in (
        (NumpyMLP(weights), (x, y)),
        (TorchMLP(weights), (torch.from_numpy(x), torch.from_numpy(y))),
    ):
        with pytest.raises(TrainingError, match="diverged"):
            for _ in range(50):
                net.step(*args, lr=1e6)


def test_encoding_matches_the_papers_code():
    images = np.array([[[0.0, 0.5], [1.0, 0.25]]])
    x = encode_inputs(images, complex_valued=True)
    flat = np.array([0.0, 0.5, 1.0, 0.25, 1.0])  # pixels, then the constant-1 feature
    np.testing.assert_allclose(x[0], flat * np.exp(1j * np.pi * flat), atol=1e-15)
    assert x.dtype == np.complex128 and x[0, -1].real == pytest.approx(-1.0)
    np.testing.assert_array_equal(encode_inputs(images, complex_valued=False)[0], flat)


def test_bad_configuration_raises():
    _, _, weights = _problem((8,), True)
    with pytest.raises(ValueError, match="activations"):
        NumpyMLP(weights, ("tanh",))
    with pytest.raises(ValueError, match="dtype"):
        NumpyMLP(weights, dtype="float16")
    with pytest.raises(ValueError, match="chain"):
        NumpyMLP([weights[0], weights[0]])
