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
