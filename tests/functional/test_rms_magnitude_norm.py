"""Complex RMS norm and the phase-keeping magnitude batch norm against plain references."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import phasor.functional as CF

torch.set_num_threads(1)


def data(*shape, seed=0, dtype=torch.complex128, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=dtype, generator=g) * scale + 0.5 * scale


def upcast(t):
    return t.to(torch.complex128 if t.is_complex() else torch.float64)


# --------------------------------------------------------------------------- RMS norm


def ref_rms_norm(x, k, weight=None, eps=1e-5):
    """A loop over the leading indices: z / sqrt(mean |z|^2 + eps) * w."""
    a = x.detach().numpy()
    lead = a.shape[: a.ndim - k]
    flat = a.reshape(*lead, -1)
    out = np.empty_like(flat)
    for idx in np.ndindex(*lead):
        z = flat[idx]
        out[idx] = z / np.sqrt(np.mean(np.abs(z) ** 2) + eps)
    out = out.reshape(a.shape)
    if weight is not None:
        out = out * weight.numpy()
    return torch.from_numpy(out)


@pytest.mark.parametrize("normalized_shape", [5, (5,), (4, 5)])
def test_rms_norm_matches_reference(normalized_shape):
    x = data(3, 4, 5, seed=1)
    k = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    weight = torch.randn(x.shape[-k:], dtype=torch.float64)
    torch.testing.assert_close(
        CF.complex_rms_norm(x, normalized_shape, eps=1e-5), ref_rms_norm(x, k, eps=1e-5)
    )
    torch.testing.assert_close(
        CF.complex_rms_norm(x, normalized_shape, weight, 1e-3), ref_rms_norm(x, k, weight, 1e-3)
    )


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_rms_norm_default_eps_is_machine_epsilon_of_the_real_dtype(dtype):
    # Powers small enough that eps matters: mean |z|^2 ~ 1e-7 in complex64, 1e-16 in complex128.
    eps = torch.finfo(dtype.to_real()).eps
    x = data(2, 6, seed=2, dtype=dtype, scale=eps**0.5)
    out = CF.complex_rms_norm(x, 6)
    torch.testing.assert_close(upcast(out), ref_rms_norm(upcast(x), 1, eps=eps))
    assert not torch.allclose(upcast(out), ref_rms_norm(upcast(x), 1, eps=0.0), rtol=1e-3)


def test_rms_norm_of_real_values_is_torch_rms_norm():
    x = torch.randn(3, 4, 6, dtype=torch.float64)
    weight = torch.randn(4, 6, dtype=torch.float64)
    out = CF.complex_rms_norm(x.to(torch.complex128), (4, 6), weight, 1e-4)
    torch.testing.assert_close(out, F.rms_norm(x, (4, 6), weight, 1e-4).to(torch.complex128))


@settings(max_examples=30, deadline=None)
@given(
    lead=st.lists(st.integers(1, 3), max_size=2),
    size=st.integers(1, 6),
    log_scale=st.floats(-5, 5),
    seed=st.integers(0, 10_000),
)
def test_rms_norm_gives_unit_power_and_keeps_phases(lead, size, log_scale, seed):
    x = data(*lead, size, seed=seed, scale=10**log_scale)
    out = CF.complex_rms_norm(x, size, eps=1e-30)
    power = out.abs().square().mean(-1)
    torch.testing.assert_close(power, torch.ones_like(power))
    torch.testing.assert_close(out.angle(), x.angle())


@pytest.mark.parametrize("check", [torch.autograd.gradcheck, torch.autograd.gradgradcheck])
def test_rms_norm_gradcheck_complex128(check):
    x = data(2, 3, 4, seed=3).requires_grad_()
    weight = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    assert check(lambda x, w: CF.complex_rms_norm(x, (3, 4), w, 1e-3), (x, weight))


HUGE = [(torch.complex64, 50), (torch.complex128, 500)]


def run(fn, x, weight, cotangent):
    """Output and gradients (input, weight) of ``fn(x, weight)``, upcast."""
    x, weight = x.clone().requires_grad_(), weight.clone().requires_grad_()
    out = fn(x, weight)
    return [upcast(t) for t in (out, *torch.autograd.grad(out, (x, weight), cotangent))]


def assert_scale_invariant(fn_eps, x, weight, dtype, k):
    """fn of 2^k x with eps equals fn of x with eps / 4^k (gradient of the input 2^-k times)."""
    g = torch.randn(x.shape, dtype=torch.complex128, generator=torch.Generator().manual_seed(9))
    real = dtype.to_real()
    big = run(lambda x, w: fn_eps(x, w, 1e-5), (x * 2.0**k).to(dtype), weight.to(real), g.to(dtype))
    unit = run(lambda x, w: fn_eps(x, w, 1e-5 / 4.0**k), x, weight, g)
    big[1] = big[1] * 2.0**k
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.complex64 else {}
    for got, want in zip(big, unit, strict=True):
        assert torch.isfinite(torch.view_as_real(got) if got.is_complex() else got).all()
        scale = want.abs().max()
        torch.testing.assert_close(got / scale, want / scale, **tol)


@pytest.mark.parametrize(("dtype", "k"), HUGE)
def test_rms_norm_at_huge_scale(dtype, k):
    x, weight = data(3, 5, seed=4), torch.randn(5, dtype=torch.float64)
    assert_scale_invariant(lambda x, w, eps: CF.complex_rms_norm(x, 5, w, eps), x, weight, dtype, k)


def test_rms_norm_bad_inputs_raise():
    x = data(3, 4, seed=5)
    with pytest.raises(ValueError, match="normalized_shape"):
        CF.complex_rms_norm(x, 5)
    with pytest.raises(TypeError, match="to_complex"):
        CF.complex_rms_norm(x.real, 4)
    with pytest.raises(TypeError, match="dtype"):
        CF.complex_rms_norm(x, 4, torch.ones(4, dtype=torch.complex128))
    with pytest.raises(ValueError, match="normalized_shape"):
        CF.complex_rms_norm(x, 4, torch.ones(3, dtype=torch.float64))


# --------------------------------------------------------------------------- magnitude batch norm


def ref_magnitude_batch_norm(x, weight=None, eps=1e-5, power=None):
    """Loops over channels: z * gamma / sqrt(mean over batch and space of |z|^2 + eps)."""
    a = x.detach().numpy()
    out = np.empty_like(a)
    for c in range(a.shape[1]):
        p = np.mean(np.abs(a[:, c]) ** 2) if power is None else float(power[c])
        gamma = 1.0 if weight is None else float(weight[c])
        out[:, c] = a[:, c] * gamma / np.sqrt(p + eps)
    return torch.from_numpy(out)


@pytest.mark.parametrize("spatial", [(), (5,), (3, 2), (2, 2, 2)])
def test_magnitude_batch_norm_matches_reference(spatial):
    x = data(4, 3, *spatial, seed=6) * torch.tensor([0.1, 1.0, 30.0]).view(
        1, 3, *[1] * len(spatial)
    )
    weight = torch.rand(3, dtype=torch.float64) + 0.5
    torch.testing.assert_close(
        CF.magnitude_batch_norm(x, training=True), ref_magnitude_batch_norm(x)
    )
    torch.testing.assert_close(
        CF.magnitude_batch_norm(x, None, weight, True, eps=1e-2),
        ref_magnitude_batch_norm(x, weight, 1e-2),
    )


def test_magnitude_batch_norm_running_statistic_update_and_eval():
    x = data(5, 3, 4, seed=7)
    running = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    init = running.clone()
    m = 0.3
    out = CF.magnitude_batch_norm(x, running, None, training=True, momentum=m)
    torch.testing.assert_close(out, ref_magnitude_batch_norm(x))
    batch_power = (x.abs() ** 2).mean((0, 2))  # uncentred: no n / (n - 1)
    torch.testing.assert_close(running, (1 - m) * init + m * batch_power)
    saved = running.clone()
    weight = torch.rand(3, dtype=torch.float64) + 0.5
    out = CF.magnitude_batch_norm(x[:2], running, weight, training=False)
    torch.testing.assert_close(out, ref_magnitude_batch_norm(x[:2], weight, power=running))
    assert torch.equal(running, saved)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(2, 4),
    channels=st.integers(1, 3),
    spatial=st.lists(st.integers(1, 3), max_size=2),
    log_scale=st.floats(-5, 5),
    seed=st.integers(0, 10_000),
)
def test_magnitude_batch_norm_keeps_phase_and_gives_unit_power(
    n, channels, spatial, log_scale, seed
):
    x = data(n, channels, *spatial, seed=seed, scale=10**log_scale)
    gamma = torch.rand(channels, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    out = CF.magnitude_batch_norm(x, weight=gamma + 0.1, training=True, eps=1e-30)
    torch.testing.assert_close(out.angle(), x.angle())
    power = (out.abs() ** 2).mean([0, *range(2, x.dim())])
    torch.testing.assert_close(power, (gamma + 0.1) ** 2)


@pytest.mark.parametrize("check", [torch.autograd.gradcheck, torch.autograd.gradgradcheck])
@pytest.mark.parametrize("training", [True, False])
def test_magnitude_batch_norm_gradcheck_complex128(check, training):
    x = data(3, 2, 3, seed=8).requires_grad_()
    weight = torch.rand(2, dtype=torch.float64).add(0.5).requires_grad_()
    running = torch.tensor([1.5, 0.7], dtype=torch.float64)
    assert check(
        lambda x, w: CF.magnitude_batch_norm(x, running.clone(), w, training, eps=1e-3),
        (x, weight),
    )


@pytest.mark.parametrize(("dtype", "k"), HUGE)
def test_magnitude_batch_norm_at_huge_scale(dtype, k):
    x, weight = data(4, 3, 2, seed=10), torch.rand(3, dtype=torch.float64) + 0.5
    assert_scale_invariant(
        lambda x, w, eps: CF.magnitude_batch_norm(x, None, w, True, eps=eps), x, weight, dtype, k
    )


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4), (2, 3, 0), (0, 3, 2, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_magnitude_batch_norm_empty_batch(shape, training):
    """As torch.nn.functional.batch_norm: empty output, zero weight gradient, running
    statistic untouched."""
    x = torch.zeros(shape, dtype=torch.complex128, requires_grad=True)
    weight = torch.rand(3, dtype=torch.float64, requires_grad=True)
    running = torch.rand(3, dtype=torch.float64) + 1
    saved = running.clone()
    out = CF.magnitude_batch_norm(x, running, weight, training)
    assert out.shape == shape and out.dtype == x.dtype
    grads = torch.autograd.grad(out, (x, weight), torch.zeros_like(out))
    assert grads[0].shape == shape
    assert torch.equal(grads[1], torch.zeros_like(weight))
    assert torch.equal(running, saved)


def test_magnitude_batch_norm_bad_inputs_raise():
    x = data(4, 3, seed=11)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        CF.magnitude_batch_norm(x[:1], training=True)
    with pytest.raises(ValueError, match="num_features"):
        CF.magnitude_batch_norm(x, torch.ones(4, dtype=torch.float64))
    with pytest.raises(TypeError, match="dtype"):
        CF.magnitude_batch_norm(x, weight=torch.ones(3, dtype=torch.float32), training=True)
    with pytest.raises(TypeError, match="to_complex"):
        CF.magnitude_batch_norm(x.real, training=True)
    with pytest.raises(ValueError, match="-D"):
        CF.magnitude_batch_norm(x[0], training=True)
