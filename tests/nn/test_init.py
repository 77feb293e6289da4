"""Tests of phasor.nn.init: moments and distributions of the Rayleigh/uniform-phase schemes,
and unitarity of unitary_."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from phasor.nn import init

DTYPES = [torch.complex64, torch.complex128]


def generator(seed=0):
    return torch.Generator().manual_seed(seed)


def test_fan_in_and_fan_out():
    assert init.fan_in_and_fan_out(torch.empty(7, 5, dtype=torch.complex64)) == (5, 7)
    conv = torch.empty(8, 4, 3, 2, dtype=torch.complex64)  # (out, in, kH, kW)
    assert init.fan_in_and_fan_out(conv) == (4 * 3 * 2, 8 * 3 * 2)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.fan_in_and_fan_out(torch.empty(5, dtype=torch.complex64))


# (function, shape, gain, expected sigma)
SCHEME_CASES = [
    (init.complex_glorot_, (200, 80, 3), 1.0, 1.0 / math.sqrt(80 * 3 + 200 * 3)),
    (init.complex_glorot_, (250, 200), 2.0, 2.0 / math.sqrt(200 + 250)),
    (init.complex_he_, (200, 80, 3), 1.0, 1.0 / math.sqrt(80 * 3)),
    (init.complex_he_, (250, 200), 0.5, 0.5 / math.sqrt(200)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("fn", "shape", "gain", "sigma"), SCHEME_CASES)
def test_rayleigh_schemes_distribution(fn, shape, gain, sigma, dtype):
    w = torch.empty(shape, dtype=dtype)
    out = fn(w, gain=gain, generator=generator())
    assert out is w and w.dtype == dtype
    values = w.to(torch.complex128).flatten()
    n = values.numel()

    # Var(W) = E|W|^2 = 2 sigma^2. |W|^2 is exponential with mean 2 sigma^2 and standard
    # deviation 2 sigma^2, so the sample mean has standard error 2 sigma^2 / sqrt(n).
    var = 2 * sigma**2
    power = values.abs().square().mean().item()
    assert abs(power - var) < 5 * var / math.sqrt(n)
    # E[W] = 0: each part has standard deviation sigma, its mean sigma / sqrt(n).
    mean = values.mean()
    assert abs(mean.real.item()) < 5 * sigma / math.sqrt(n)
    assert abs(mean.imag.item()) < 5 * sigma / math.sqrt(n)

    magnitude = values.abs().numpy()
    phase = values.angle().numpy()
    assert stats.kstest(phase, "uniform", args=(-math.pi, 2 * math.pi)).pvalue > 1e-3
    assert stats.kstest(magnitude, "rayleigh", args=(0, sigma)).pvalue > 1e-3
    # The sample is large enough to reject a 5% error in sigma and a non-uniform phase.
    assert stats.kstest(magnitude, "rayleigh", args=(0, 1.05 * sigma)).pvalue < 1e-6
    assert stats.kstest(phase, "uniform", args=(-math.pi, 1.9 * math.pi)).pvalue < 1e-6


@pytest.mark.parametrize("fn", [init.complex_glorot_, init.complex_he_, init.unitary_])
def test_reproducible_with_generator_and_no_autograd(fn):
    a = torch.nn.Parameter(torch.empty(6, 4, dtype=torch.complex64))
    b = torch.nn.Parameter(torch.empty(6, 4, dtype=torch.complex64))
    fn(a, generator=generator(3))
    fn(b, generator=generator(3))
    assert torch.equal(a, b)
    assert a.grad_fn is None and a.requires_grad
    assert a.imag.abs().sum() > 0
    fn(b, generator=generator(4))
    assert not torch.equal(a, b)


@pytest.mark.parametrize("fn", [init.complex_glorot_, init.complex_he_, init.unitary_])
def test_rejects_real_and_one_dimensional_tensors(fn):
    with pytest.raises(TypeError, match="complex tensor"):
        fn(torch.empty(3, 3))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        fn(torch.empty(3, dtype=torch.complex64))


@pytest.mark.parametrize(
    ("shape", "wide"),
    [((5, 5), True), ((3, 8), True), ((8, 3), False), ((4, 2, 3, 3), True), ((40, 2, 3), False)],
)
def test_unitary(shape, wide):
    w = init.unitary_(torch.empty(shape, dtype=torch.complex128), generator=generator())
    m = w.reshape(shape[0], -1)
    gram = m @ m.mH if wide else m.mH @ m
    torch.testing.assert_close(gram, torch.eye(gram.shape[0], dtype=torch.complex128))
    assert m.imag.abs().max() > 0.1


def test_unitary_gain_and_complex64():
    w = init.unitary_(torch.empty(4, 6, dtype=torch.complex64), gain=3.0, generator=generator())
    assert w.dtype == torch.complex64
    eye = torch.eye(4, dtype=torch.complex64)
    torch.testing.assert_close(w @ w.mH, 9 * eye, rtol=1e-5, atol=1e-5)


def test_unitary_is_haar():
    """Under the Haar measure every entry's phase is uniform; a QR without the phase
    correction fails this (LAPACK's R has a real diagonal, which biases Q's phases)."""
    g = generator(1)
    phases = []
    for _ in range(400):
        w = init.unitary_(torch.empty(3, 3, dtype=torch.complex128), generator=g)
        phases.append(w.angle().flatten().numpy())
    phases = np.concatenate(phases)
    assert stats.kstest(phases, "uniform", args=(-math.pi, 2 * math.pi)).pvalue > 1e-3
