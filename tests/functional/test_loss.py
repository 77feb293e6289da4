"""Heads and losses: NumPy references, stability for large |z|, agreement with
torch.nn.functional.cross_entropy, gradcheck in complex128, errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import phasor.functional as CF


def _z(shape, dtype=torch.complex128, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, dtype=dtype, generator=g) * scale


def _np_mod_softmax_naive(z, axis=-1):
    e = np.exp(np.abs(z) ** 2)
    return e / e.sum(axis=axis, keepdims=True)


# ------------------------------------------------------------------ heads


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_magnitude(dtype):
    z = _z((3, 4), dtype)
    out = CF.magnitude(z)
    assert out.dtype == dtype.to_real()
    np.testing.assert_allclose(out.numpy(), np.abs(z.numpy()), rtol=1e-6)


def test_magnitude_gradient_finite_at_zero():
    z = torch.tensor([0j, 1e-30 + 0j, 3 + 4j], dtype=torch.complex64, requires_grad=True)
    CF.magnitude(z).sum().backward()
    assert torch.isfinite(torch.view_as_real(z.grad)).all()
    assert z.grad[0] == 0


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_mod_softmax_matches_naive_numpy(dim):
    z = _z((3, 4, 5))
    out = CF.mod_softmax(z, dim=dim)
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), _np_mod_softmax_naive(z.numpy(), dim), rtol=1e-12)
    log_out = CF.mod_log_softmax(z, dim=dim)
    np.testing.assert_allclose(
        log_out.numpy(), np.log(_np_mod_softmax_naive(z.numpy(), dim)), rtol=1e-12, atol=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.complex128,
        st.integers(1, 8),
        elements=st.complex_numbers(max_magnitude=10, allow_nan=False, allow_infinity=False),
    )
)
def test_mod_softmax_property(values):
    out = CF.mod_softmax(torch.from_numpy(values)).numpy()
    np.testing.assert_allclose(out, _np_mod_softmax_naive(values), rtol=1e-9, atol=1e-300)
    assert out.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(("dtype", "tol"), [(torch.complex64, 0.05), (torch.complex128, 1e-9)])
def test_mod_softmax_stable_for_large_modulus(dtype, tol):
    # |z|^2 ~ 1e6 (exp overflows in any precision) with differences of order 1 between classes
    z = torch.tensor([[1000.0, 1000.0005j, 999.9995, -600 - 800j]], dtype=dtype)
    z.requires_grad_()
    out = CF.mod_softmax(z)
    log_out = CF.mod_log_softmax(z)
    sq = np.abs(z.detach().numpy().astype(np.complex128)) ** 2
    shifted = np.exp(sq - sq.max())
    assert torch.isfinite(out).all() and torch.isfinite(log_out).all()
    np.testing.assert_allclose(out.detach().numpy(), shifted / shifted.sum(), atol=tol)
    expected_log = sq - sq.max() - np.log(shifted.sum())
    np.testing.assert_allclose(log_out.detach().numpy(), expected_log, atol=tol)
    log_out[0, 1].backward()
    assert torch.isfinite(torch.view_as_real(z.grad)).all()


@pytest.mark.parametrize("fn", [CF.mod_softmax, CF.mod_log_softmax, CF.magnitude])
def test_heads_gradcheck(fn):
    z = _z((3, 4)).requires_grad_()
    assert torch.autograd.gradcheck(fn, (z,))


@pytest.mark.parametrize("fn", [CF.mod_softmax, CF.mod_log_softmax, CF.magnitude])
def test_heads_reject_real_input(fn):
    with pytest.raises(TypeError, match="to_complex"):
        fn(torch.randn(3))


# ------------------------------------------------------------------ cross-entropy

MAPS = {
    "magnitude": torch.abs,
    "squared_magnitude": lambda z: z.abs() ** 2,
    "real": torch.real,
}


@pytest.mark.parametrize("real_map", MAPS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    ("logit_shape", "target_shape"),
    [((5,), ()), ((6, 5), (6,)), ((2, 5, 3, 4), (2, 3, 4))],
)
def test_cross_entropy_matches_torch(real_map, reduction, logit_shape, target_shape):
    logits = _z(logit_shape, seed=1)
    target = torch.randint(0, 5, target_shape, generator=torch.Generator().manual_seed(2))
    out = CF.complex_cross_entropy(logits, target, real_map=real_map, reduction=reduction)
    expected = F.cross_entropy(MAPS[real_map](logits), target, reduction=reduction)
    assert out.shape == expected.shape
    assert torch.allclose(out, expected, rtol=1e-12)


def test_squared_magnitude_cross_entropy_is_nll_of_mod_softmax():
    logits = _z((8, 10), seed=3)
    target = torch.arange(8)
    expected = -np.log(_np_mod_softmax_naive(logits.numpy()))[np.arange(8), np.arange(8)].mean()
    out = CF.complex_cross_entropy(logits, target, real_map="squared_magnitude")
    assert out.item() == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_accepts_int32_labels_and_complex64():
    logits = _z((4, 3), torch.complex64)
    target = torch.tensor([0, 1, 2, 1], dtype=torch.int32)
    out = CF.complex_cross_entropy(logits, target)
    assert out.dtype == torch.float32
    assert torch.allclose(out, F.cross_entropy(logits.abs(), target.long()))


@pytest.mark.parametrize("real_map", MAPS)
def test_cross_entropy_gradcheck(real_map):
    logits = _z((4, 3), seed=4).requires_grad_()
    target = torch.tensor([0, 2, 1, 2])

    def fn(z):
        return CF.complex_cross_entropy(z, target, real_map=real_map)

    assert torch.autograd.gradcheck(fn, (logits,))


@pytest.mark.parametrize("real_map", MAPS)
def test_cross_entropy_gradient_finite_at_zero_logits(real_map):
    logits = torch.zeros(2, 3, dtype=torch.complex64, requires_grad=True)
    CF.complex_cross_entropy(logits, torch.tensor([0, 2]), real_map=real_map).backward()
    assert torch.isfinite(torch.view_as_real(logits.grad)).all()


def test_cross_entropy_errors():
    logits = _z((4, 3))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\].*from 0 to 3"):
        CF.complex_cross_entropy(logits, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="from -1 to 2"):
        CF.complex_cross_entropy(logits, torch.tensor([0, -1, 2, 1]))
    with pytest.raises(ValueError, match=r"target must have shape \(4,\)"):
        CF.complex_cross_entropy(logits, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"target must have shape \(4,\)"):
        CF.complex_cross_entropy(logits, torch.zeros(4, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="integer class indices"):
        CF.complex_cross_entropy(logits, torch.zeros(4))
    with pytest.raises(TypeError, match="to_complex"):
        CF.complex_cross_entropy(logits.real, torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="real_map"):
        CF.complex_cross_entropy(logits, torch.zeros(4, dtype=torch.long), real_map="phase")
    with pytest.raises(ValueError, match="reduction"):
        CF.complex_cross_entropy(logits, torch.zeros(4, dtype=torch.long), reduction="avg")
    with pytest.raises(ValueError, match="class dimension"):
        CF.complex_cross_entropy(logits[0, 0], torch.tensor(0))


# ------------------------------------------------------------------ MSE


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_complex_mse_matches_numpy(reduction, dtype):
    x, y = _z((3, 4), dtype, seed=5), _z((3, 4), dtype, seed=6)
    out = CF.complex_mse(x, y, reduction=reduction)
    sq = np.abs(x.numpy().astype(np.complex128) - y.numpy().astype(np.complex128)) ** 2
    expected = {"mean": sq.mean(), "sum": sq.sum(), "none": sq}[reduction]
    assert out.dtype == dtype.to_real()
    np.testing.assert_allclose(
        out.numpy(), expected, rtol=1e-5 if dtype == torch.complex64 else 1e-12
    )


def test_complex_mse_is_twice_real_mse_of_stacked_parts():
    x, y = _z((5, 2), seed=7), _z((5, 2), seed=8)
    expected = 2 * F.mse_loss(torch.view_as_real(x), torch.view_as_real(y))
    assert torch.allclose(CF.complex_mse(x, y), expected, rtol=1e-12)


def test_complex_mse_gradcheck():
    x = _z((3, 2), seed=9).requires_grad_()
    y = _z((3, 2), seed=10).requires_grad_()
    assert torch.autograd.gradcheck(CF.complex_mse, (x, y))


def test_complex_mse_errors():
    x = _z((3, 2))
    with pytest.raises(ValueError, match="same shape"):
        CF.complex_mse(x, _z((3, 1)))
    with pytest.raises(TypeError, match="dtype"):
        CF.complex_mse(x, x.to(torch.complex64))
    with pytest.raises(TypeError, match="target must be complex"):
        CF.complex_mse(x, x.real)
    with pytest.raises(ValueError, match="reduction"):
        CF.complex_mse(x, x, reduction="avg")


# ------------------------------------------------------------------ regression and signal losses


def _np(x):
    return x.detach().numpy().astype(np.complex128)


def _np_reduce(values, reduction):
    return {"mean": values.mean(), "sum": values.sum(), "none": values}[reduction]


@pytest.mark.parametrize("mode", ["modulus", "split"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_complex_mse_modes_match_numpy(mode, reduction):
    x, y = _z((3, 4), seed=11), _z((3, 4), seed=12)
    d = _np(x) - _np(y)
    expected = _np_reduce(d.real**2 + d.imag**2, reduction)
    np.testing.assert_allclose(CF.complex_mse(x, y, reduction, mode).numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_complex_l1_matches_numpy(reduction, dtype):
    x, y = _z((3, 4), dtype, seed=13), _z((3, 4), dtype, seed=14)
    d = _np(x) - _np(y)
    rtol = 1e-5 if dtype == torch.complex64 else 1e-12
    modulus = CF.complex_l1(x, y, reduction, mode="modulus")
    split = CF.complex_l1(x, y, reduction, mode="split")
    assert modulus.dtype == split.dtype == dtype.to_real()
    np.testing.assert_allclose(modulus.numpy(), _np_reduce(np.abs(d), reduction), rtol=rtol)
    expected_split = _np_reduce(np.abs(d.real) + np.abs(d.imag), reduction)
    np.testing.assert_allclose(split.numpy(), expected_split, rtol=rtol)


def test_split_l1_is_twice_real_l1_of_stacked_parts():
    x, y = _z((5, 2), seed=15), _z((5, 2), seed=16)
    expected = 2 * F.l1_loss(torch.view_as_real(x), torch.view_as_real(y))
    assert torch.allclose(CF.complex_l1(x, y, mode="split"), expected, rtol=1e-12)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.5])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_magnitude_loss_matches_numpy(p, reduction):
    x, y = _z((3, 4), seed=17), _z((3, 4), seed=18)
    expected = _np_reduce(np.abs(np.abs(_np(x)) - np.abs(_np(y))) ** p, reduction)
    out = CF.magnitude_loss(x, y, p=p, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


def _np_wrap(delta):
    return (delta + np.pi) % (2 * np.pi) - np.pi


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_phase_loss_matches_numpy(reduction):
    x, y = _z((4, 5), seed=19), _z((4, 5), seed=20)
    delta = np.angle(_np(x)) - np.angle(_np(y))
    cosine = CF.phase_loss(x, y, kind="cosine", reduction=reduction)
    squared = CF.phase_loss(x, y, kind="squared", reduction=reduction)
    np.testing.assert_allclose(cosine.numpy(), _np_reduce(1 - np.cos(delta), reduction), atol=1e-12)
    np.testing.assert_allclose(
        squared.numpy(), _np_reduce(_np_wrap(delta) ** 2, reduction), atol=1e-12
    )


def test_phase_loss_wraps_the_difference():
    # arg x - arg y = 2 (pi - 0.05): the wrapped difference is -0.1
    x = torch.tensor([np.exp(1j * (np.pi - 0.05))], dtype=torch.complex128)
    y = x.conj()
    assert CF.phase_loss(x, y, kind="squared").item() == pytest.approx(0.01, rel=1e-9)
    assert CF.phase_loss(x, y, kind="cosine").item() == pytest.approx(1 - np.cos(0.1), rel=1e-9)


_complex_values = st.complex_numbers(min_magnitude=1e-3, max_magnitude=1e3, allow_nan=False)
_scales = st.floats(1e-4, 1e4)


@settings(max_examples=25, deadline=None)
@given(
    arrays(np.complex128, 6, elements=_complex_values),
    arrays(np.complex128, 6, elements=_complex_values),
    arrays(np.float64, 6, elements=_scales),
    arrays(np.float64, 6, elements=_scales),
    st.sampled_from(["cosine", "squared"]),
)
def test_phase_loss_ignores_magnitudes(x, y, a, b, kind):
    x, y, a, b = map(torch.from_numpy, (x, y, a, b))
    want = CF.phase_loss(x, y, kind=kind, reduction="none")
    got = CF.phase_loss(a * x, b * y, kind=kind, reduction="none")
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("fn", "at_zero"),
    [
        (lambda x, y: CF.phase_loss(x, y, kind="cosine", reduction="none"), 1.0),
        (lambda x, y: CF.phase_loss(x, y, kind="squared", reduction="none"), 0.0),
        (lambda x, y: CF.magnitude_loss(x, y, p=1, reduction="none"), None),
        (lambda x, y: CF.magnitude_loss(x, y, reduction="none"), None),
        (lambda x, y: CF.log_magnitude_loss(x, y, reduction="none"), None),
        (lambda x, y: CF.complex_l1(x, y, reduction="none"), None),
        (lambda x, y: CF.complex_l1(x, y, reduction="none", mode="split"), None),
    ],
)
@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_losses_finite_gradient_at_zero(fn, at_zero, dtype):
    # x = 0 against a nonzero and a zero target, a tiny x, and x = y
    x = torch.tensor([0, 0, 1e-30, 1 + 2j], dtype=dtype, requires_grad=True)
    y = torch.tensor([1 - 1j, 0, 2j, 1 + 2j], dtype=dtype, requires_grad=True)
    out = fn(x, y)
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert torch.isfinite(torch.view_as_real(x.grad)).all()
    assert torch.isfinite(torch.view_as_real(y.grad)).all()
    if at_zero is not None:
        assert out[0].item() == out[1].item() == at_zero
        assert x.grad[0] == 0 and y.grad[1] == 0


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_log_magnitude_loss_matches_numpy(reduction):
    x, y = _z((3, 4), seed=21), _z((3, 4), seed=22) * 1e-3
    eps = 1e-5
    expected = np.abs(np.log(np.abs(_np(x)) + eps) - np.log(np.abs(_np(y)) + eps))
    out = CF.log_magnitude_loss(x, y, eps=eps, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), _np_reduce(expected, reduction), rtol=1e-12)


def _np_si_sdr(estimate, reference):
    """Le Roux et al. (2019), with the complex inner product, on flat numpy signals."""
    alpha = np.vdot(reference, estimate) / np.vdot(reference, reference)
    target = alpha * reference
    return 10 * np.log10(
        np.vdot(target, target).real / np.vdot(estimate - target, estimate - target).real
    )


def _noisy(shape, dtype, seed, noise=0.3):
    s = _z(shape, dtype, seed=seed)
    return 0.7 * s + noise * _z(shape, dtype, seed=seed + 100), s


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128, torch.float32, torch.complex64])
def test_si_sdr_matches_numpy_on_waveforms(dtype):
    estimate, reference = _noisy((2, 3, 50), dtype, seed=23)
    out = CF.si_sdr(estimate, reference, eps=0.0)
    assert out.shape == (2, 3) and out.dtype == dtype.to_real()
    est, ref = _np(estimate), _np(reference)
    expected = [[_np_si_sdr(est[i, j], ref[i, j]) for j in range(3)] for i in range(2)]
    tol = 1e-9 if dtype in (torch.float64, torch.complex128) else 1e-4
    np.testing.assert_allclose(out.numpy(), expected, rtol=tol)
    # the default eps moves a 10 dB ratio by well under a micro-decibel
    np.testing.assert_allclose(
        CF.si_sdr(estimate, reference).numpy(), expected, rtol=max(tol, 1e-7)
    )


def test_si_sdr_of_spectrograms_uses_all_bins():
    estimate, reference = _noisy((2, 5, 7), torch.complex128, seed=24)
    out = CF.si_sdr(estimate, reference, dim=(-2, -1), eps=0.0)
    est, ref = _np(estimate), _np(reference)
    expected = [_np_si_sdr(est[i].ravel(), ref[i].ravel()) for i in range(2)]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)
    loss = CF.si_sdr_loss(estimate, reference, dim=(-2, -1), eps=0.0, reduction="none")
    np.testing.assert_allclose(loss.numpy(), -np.array(expected), rtol=1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_si_sdr_loss_is_negative_si_sdr(reduction):
    estimate, reference = _noisy((4, 30), torch.float64, seed=25)
    values = -CF.si_sdr(estimate, reference).numpy()
    out = CF.si_sdr_loss(estimate, reference, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), _np_reduce(values, reduction), rtol=1e-12)


_nonzero_scalar = st.complex_numbers(min_magnitude=1e-3, max_magnitude=1e3, allow_nan=False)


_real_scalar = st.floats(1e-3, 1e3).flatmap(lambda m: st.sampled_from([m, -m]))


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 999),
    _nonzero_scalar,
    _nonzero_scalar,
    _real_scalar,
    _real_scalar,
    st.sampled_from([-1, (-2, -1)]),
)
def test_si_sdr_is_scale_invariant(seed, c1, c2, r1, r2, dim):
    estimate, reference = _noisy((2, 4, 9), torch.complex128, seed=seed, noise=0.5)
    want = CF.si_sdr(estimate, reference, dim=dim)
    torch.testing.assert_close(CF.si_sdr(c1 * estimate, c2 * reference, dim=dim), want)
    estimate, reference = estimate.real, reference.real
    want = CF.si_sdr(estimate, reference, dim=dim)
    torch.testing.assert_close(CF.si_sdr(r1 * estimate, r2 * reference, dim=dim), want)


def test_si_sdr_edge_cases_are_finite():
    s = _z((40,), torch.float64, seed=26)
    assert CF.si_sdr(s, s).item() == pytest.approx(80.0, abs=1e-3)  # the eps cap
    assert CF.si_sdr(-3 * s, s).item() == pytest.approx(80.0, abs=1e-3)
    zero = torch.zeros(40, dtype=torch.float64, requires_grad=True)
    reference = s.clone().requires_grad_()
    for estimate, ref in ((zero, reference), (reference, zero), (zero, zero)):
        out = CF.si_sdr(estimate, ref)
        assert torch.isfinite(out)
        (g_est, g_ref) = torch.autograd.grad(out, (zero, reference), allow_unused=True)
        for g in (g_est, g_ref):
            assert g is None or torch.isfinite(g).all()


@pytest.mark.parametrize("mode", ["real", "modulus"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_complex_cosine_similarity_matches_numpy(mode, dim):
    x1, x2 = _z((3, 4, 5), seed=27), _z((3, 4, 5), seed=28)
    a, b = np.moveaxis(_np(x1), dim, -1), np.moveaxis(_np(x2), dim, -1)
    inner = (np.conj(a) * b).sum(-1)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    expected = (inner.real if mode == "real" else np.abs(inner)) / norms
    out = CF.complex_cosine_similarity(x1, x2, dim=dim, mode=mode)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


def test_complex_cosine_similarity_real_mode_is_real_cosine_of_parts():
    x1, x2 = _z((6, 4), seed=29), _z((6, 4), seed=30)
    expected = F.cosine_similarity(
        torch.view_as_real(x1).flatten(1), torch.view_as_real(x2).flatten(1), dim=1
    )
    torch.testing.assert_close(CF.complex_cosine_similarity(x1, x2), expected)


def test_complex_cosine_similarity_modulus_ignores_a_global_phase():
    x1 = _z((3, 8), seed=31)
    c = torch.tensor(-0.3 + 2j, dtype=torch.complex128)
    modulus = CF.complex_cosine_similarity(x1, c * x1, mode="modulus")
    torch.testing.assert_close(modulus, torch.ones(3, dtype=torch.float64))
    real = CF.complex_cosine_similarity(x1, c * x1, mode="real")
    torch.testing.assert_close(real, torch.full((3,), -0.3 / abs(c.item()), dtype=torch.float64))
    zero = torch.zeros(3, 8, dtype=torch.complex128, requires_grad=True)
    out = CF.complex_cosine_similarity(zero, x1)
    (g,) = torch.autograd.grad(out.sum(), zero)
    assert torch.equal(out, torch.zeros(3, dtype=torch.float64))
    assert torch.isfinite(torch.view_as_real(g)).all()


_GRAD_CASES = {
    "l1-modulus": lambda x, y: CF.complex_l1(x, y),
    "l1-split": lambda x, y: CF.complex_l1(x, y, mode="split"),
    "mse-split": lambda x, y: CF.complex_mse(x, y, mode="split"),
    "magnitude-p1": lambda x, y: CF.magnitude_loss(x, y, p=1),
    "magnitude-p2": lambda x, y: CF.magnitude_loss(x, y, reduction="sum"),
    "phase-cosine": lambda x, y: CF.phase_loss(x, y),
    "phase-squared": lambda x, y: CF.phase_loss(x, y, kind="squared", reduction="none"),
    "log-magnitude": lambda x, y: CF.log_magnitude_loss(x, y, reduction="none"),
    "si-sdr": lambda x, y: CF.si_sdr_loss(x, y, reduction="none"),
    "si-sdr-spectrogram": lambda x, y: CF.si_sdr(x, y, dim=(0, 1)),
    "cosine-real": lambda x, y: CF.complex_cosine_similarity(x, y),
    "cosine-modulus": lambda x, y: CF.complex_cosine_similarity(x, y, dim=0, mode="modulus"),
}


@pytest.mark.parametrize("case", _GRAD_CASES)
def test_signal_losses_gradcheck_and_gradgradcheck(case):
    x = _z((2, 3), seed=32).requires_grad_()
    y = _z((2, 3), seed=33).requires_grad_()
    fn = _GRAD_CASES[case]
    assert torch.autograd.gradcheck(fn, (x, y))
    assert torch.autograd.gradgradcheck(fn, (x, y))


def test_si_sdr_gradcheck_on_real_waveforms():
    estimate, reference = _noisy((2, 10), torch.float64, seed=34)
    inputs = (estimate.requires_grad_(), reference.requires_grad_())
    assert torch.autograd.gradcheck(CF.si_sdr_loss, inputs)
    assert torch.autograd.gradgradcheck(CF.si_sdr_loss, inputs)


def test_signal_loss_errors():
    x = _z((3, 2))
    with pytest.raises(ValueError, match="mode"):
        CF.complex_l1(x, x, mode="euclid")
    with pytest.raises(ValueError, match="mode"):
        CF.complex_mse(x, x, mode="parts")
    with pytest.raises(ValueError, match="kind"):
        CF.phase_loss(x, x, kind="sine")
    with pytest.raises(ValueError, match="at least 1"):
        CF.magnitude_loss(x, x, p=0.5)
    with pytest.raises(ValueError, match="positive"):
        CF.log_magnitude_loss(x, x, eps=0.0)
    with pytest.raises(TypeError, match="to_complex"):
        CF.phase_loss(x.real, x.real)
    with pytest.raises(ValueError, match="same shape"):
        CF.complex_l1(x, _z((2, 3)))
    with pytest.raises(TypeError, match="dtype"):
        CF.magnitude_loss(x, x.to(torch.complex64))
    with pytest.raises(TypeError, match="float32, float64"):
        CF.si_sdr(torch.ones(3, dtype=torch.long), torch.ones(3, dtype=torch.long))
    with pytest.raises(TypeError, match="dtype"):
        CF.si_sdr(x, x.real)
    with pytest.raises(ValueError, match="dim=2"):
        CF.si_sdr(x, x, dim=2)
    with pytest.raises(ValueError, match="non-negative"):
        CF.si_sdr(x, x, eps=-1.0)
    with pytest.raises(ValueError, match="reduction"):
        CF.si_sdr_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="mode"):
        CF.complex_cosine_similarity(x, x, mode="imag")
    with pytest.raises(ValueError, match="dim=3"):
        CF.complex_cosine_similarity(x, x, dim=3)


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_squared_phase_loss_is_zero_wherever_a_phase_is_missing(dtype):
    # 0 * conj(y) is -0 - 0i for these y, whose angle would be -pi (loss pi^2, not 0)
    targets = torch.tensor([-1 - 1j, -1 + 1j, 1 - 1j, -2, 3j, 0], dtype=dtype)
    zeros = torch.zeros_like(targets)
    for x, y in ((zeros, targets), (targets, zeros), (-zeros, targets)):
        x = x.clone().requires_grad_()
        loss = CF.phase_loss(x, y, kind="squared", reduction="none")
        assert torch.equal(loss, torch.zeros_like(loss))
        loss.sum().backward()
        assert torch.equal(x.grad, torch.zeros_like(x.grad))
