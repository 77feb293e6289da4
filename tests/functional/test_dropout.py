"""Complex dropout: one mask for both parts, scaled once by 1/(1-p)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import phasor.functional as CF


def nonzero_parts(*shape, dtype=torch.complex128, seed=0):
    """Complex values whose real and imaginary parts are both bounded away from zero."""
    g = torch.Generator().manual_seed(seed)
    real_dtype = dtype.to_real()
    re = (torch.rand(*shape, dtype=real_dtype, generator=g) + 0.5) * torch.sign(
        torch.randn(*shape, dtype=real_dtype, generator=g)
    )
    im = (torch.rand(*shape, dtype=real_dtype, generator=g) + 0.5) * torch.sign(
        torch.randn(*shape, dtype=real_dtype, generator=g)
    )
    return torch.complex(re, im)


@settings(max_examples=25, deadline=None)
@given(p=st.floats(0.05, 0.95), seed=st.integers(0, 2**31 - 1))
def test_dropout_one_mask_for_both_parts_scaled_once(p, seed):
    x = nonzero_parts(64, 32, seed=1)
    torch.manual_seed(seed)
    out = CF.dropout(x, p)
    dropped_re, dropped_im = out.real == 0, out.imag == 0
    assert torch.equal(dropped_re, dropped_im)
    kept = ~dropped_re
    torch.testing.assert_close(out[kept], x[kept] / (1 - p))


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_drops_fraction_p(p):
    torch.manual_seed(0)
    n = 20000
    out = CF.dropout(nonzero_parts(n, seed=2), p)
    frac = float((out == 0).double().mean())
    sigma = (p * (1 - p) / n) ** 0.5
    assert abs(frac - p) < 5 * sigma


@pytest.mark.parametrize("p", [0.3, 0.7])
def test_dropout_preserves_expected_value(p):
    torch.manual_seed(1)
    z = torch.tensor(1.5 - 2.0j, dtype=torch.complex128)
    n = 40000
    out = CF.dropout(z.expand(n).clone(), p)
    # Each output is z / (1 - p) with probability 1 - p, else 0: std |z| sqrt(p / (1 - p)).
    sigma = abs(z) * (p / (1 - p)) ** 0.5 / n**0.5
    assert abs(complex(out.mean()) - complex(z)) < 5 * sigma


def test_dropout2d_zeros_whole_channels():
    torch.manual_seed(3)
    p = 0.5
    x = nonzero_parts(8, 6, 4, 5, seed=4)
    out = CF.dropout2d(x, p)
    flat_out, flat_x = out.flatten(2), x.flatten(2)
    dropped = (flat_out == 0).all(-1)
    kept = (flat_out != 0).all(-1)
    assert torch.equal(dropped, ~kept)  # every channel is all-zero or all-kept
    assert 0 < int(dropped.sum()) < 48
    torch.testing.assert_close(flat_out[kept], flat_x[kept] / (1 - p))
    assert torch.equal(out.real == 0, out.imag == 0)


def test_dropout2d_unbatched_masks_channels():
    torch.manual_seed(5)
    x = nonzero_parts(40, 3, 3, seed=6)
    out = CF.dropout2d(x, 0.5)
    per_channel = (out.flatten(1) == 0).all(-1)
    assert torch.equal(per_channel, (out.flatten(1) == 0).any(-1))
    assert 0 < int(per_channel.sum()) < 40


@pytest.mark.parametrize("fn", [CF.dropout, CF.dropout2d])
def test_eval_mode_and_p_zero_are_identity(fn):
    x = nonzero_parts(2, 3, 4, 4, seed=7)
    assert torch.equal(fn(x, 0.5, training=False), x)
    assert torch.equal(fn(x, 0.0), x)


@pytest.mark.parametrize("fn", [CF.dropout, CF.dropout2d])
def test_p_one_zeros_everything(fn):
    out = fn(nonzero_parts(2, 3, 4, 4, seed=8), 1.0)
    assert torch.equal(out, torch.zeros_like(out))


@pytest.mark.parametrize("fn", [CF.dropout, CF.dropout2d])
@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_p_outside_unit_interval_raises(fn, p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        fn(nonzero_parts(1, 2, 3, 3), p)


@pytest.mark.parametrize("fn", [CF.dropout, CF.dropout2d])
def test_gradcheck_complex128_with_fixed_mask(fn):
    x = nonzero_parts(2, 3, 2, 2, seed=9).requires_grad_()

    def seeded(t):
        torch.manual_seed(11)
        return fn(t, 0.4)

    assert torch.autograd.gradcheck(seeded, (x,))


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_dtype_is_kept(dtype):
    x = nonzero_parts(2, 3, 4, 4, dtype=dtype)
    assert CF.dropout(x, 0.5).dtype == dtype
    assert CF.dropout2d(x, 0.5).dtype == dtype


def test_rejects_real_input_and_wrong_rank():
    with pytest.raises(TypeError, match="to_complex"):
        CF.dropout(torch.randn(3, 4))
    with pytest.raises(ValueError, match="-D"):
        CF.dropout2d(nonzero_parts(3, 4))
