"""Tests of phasor.weights: each projection against a plain formula, masks, model helpers."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import phasor.nn as cnn
from phasor import weights as pw


def _complex(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.complex128, generator=g)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.001, 10.0))
def test_keep_phase_keeps_angle_and_sets_amplitude(seed, scale):
    w = _complex((7, 5), seed)
    out = pw.keep_phase(w, scale)
    assert out.dtype == w.dtype
    torch.testing.assert_close(out.abs(), torch.full((7, 5), scale, dtype=torch.float64))
    # same direction: out * conj(w) is real and positive
    prod = out * w.conj()
    assert torch.all(prod.real > 0)
    torch.testing.assert_close(prod.imag, torch.zeros_like(prod.imag), atol=1e-12, rtol=0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.001, 10.0))
def test_keep_amplitude_real_imag_match_reference(seed, scale):
    w = _complex((4, 6), seed)
    amp = pw.keep_amplitude(w, scale)
    torch.testing.assert_close(amp.real, scale * torch.sqrt(w.real**2 + w.imag**2))
    assert torch.all(amp.imag == 0)
    re, im = pw.keep_real(w), pw.keep_imag(w)
    assert re.dtype == im.dtype == w.dtype
    assert torch.equal(re.real, w.real) and torch.all(re.imag == 0)
    assert torch.equal(im.real, w.imag) and torch.all(im.imag == 0)
    torch.testing.assert_close(pw.keep_real(w, scale).real, scale * w.real)


def test_real_tensors_sign_magnitude_and_phase():
    w = torch.tensor([[-2.0, 0.0, 3.0], [0.5, -0.1, 1.0]], dtype=torch.float64)
    assert torch.equal(
        pw.keep_sign(w, 0.1), 0.1 * torch.tensor([[-1.0, 0, 1], [1, -1, 1]]).double()
    )
    assert torch.equal(pw.keep_magnitude(w, 2.0), 2.0 * w.abs())
    assert pw.keep_magnitude(w).dtype == torch.float64
    # phase of a real number is 0 or pi: c * sign, with the phase of 0 taken as 0
    assert torch.equal(
        pw.keep_phase(w, 0.5), 0.5 * torch.tensor([[-1.0, 1, 1], [1, -1, 1]]).double()
    )
    assert torch.equal(pw.keep_real(w), w)


def test_scale_mean_keeps_mean_magnitude():
    w = _complex((30, 20), 3) * 0.05
    for kind in ("phase", "amplitude", "real", "imag"):
        out = pw.project(w, kind, "mean")
        assert math.isclose(out.abs().mean().item(), w.abs().mean().item(), rel_tol=1e-12)
    torch.testing.assert_close(pw.keep_amplitude(w, "mean"), pw.keep_amplitude(w, 1.0))
    r = torch.tensor([-3.0, 1.0, 2.0], dtype=torch.float64)
    torch.testing.assert_close(pw.keep_sign(r, "mean"), 2.0 * torch.sign(r))
    torch.testing.assert_close(
        pw.keep_phase(w, "mean").abs(), torch.full_like(w.real, w.abs().mean())
    )


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="real tensor has no imaginary part"):
        pw.keep_imag(torch.ones(3))
    with pytest.raises(TypeError, match="keep_phase"):
        pw.keep_sign(_complex((2,)))
    with pytest.raises(ValueError, match="unknown kind"):
        pw.project(torch.ones(3), "angle")
    with pytest.raises(ValueError, match="scale"):
        pw.keep_phase(_complex((2,)), "median")
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        pw.keep_phase([1.0, 2.0])
    with pytest.raises(TypeError, match="floating or complex"):
        pw.keep_phase(torch.ones(3, dtype=torch.int64))


@pytest.mark.parametrize("shape", [7, (4, 5), (3, 3, 3)])
def test_random_half_mask_drops_exactly_half(shape):
    g = torch.Generator().manual_seed(0)
    mask = pw.random_half_mask(shape, g)
    n = mask.numel()
    assert mask.dtype == torch.bool and (~mask).sum().item() == n // 2
    masks = {tuple(pw.random_half_mask(shape, g).flatten().tolist()) for _ in range(20)}
    assert len(masks) > 1  # random positions, not a fixed half
    a = pw.random_half_mask(shape, torch.Generator().manual_seed(5))
    b = pw.random_half_mask(shape, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def _complex_mlp():
    torch.manual_seed(0)
    return nn.Sequential(
        cnn.Linear(6, 8, dtype=torch.complex128),
        cnn.CReLU(),
        cnn.Linear(8, 4, dtype=torch.complex128),
    )


def test_project_model_changes_weights_not_biases_and_copy_leaves_original():
    model = _complex_mlp()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    copy = pw.projected_copy(model, "phase", 0.01)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    for name in ("0.weight", "2.weight"):
        torch.testing.assert_close(copy.state_dict()[name], pw.keep_phase(before[name], 0.01))
    for name in ("0.bias", "2.bias"):
        assert torch.equal(copy.state_dict()[name], before[name])
    real_model = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 2))
    w0 = real_model[0].weight.detach().clone()
    assert pw.project_model_(real_model, "sign", 0.1) is real_model
    assert torch.equal(real_model[0].weight.detach(), 0.1 * torch.sign(w0))


def test_mask_units_equals_zeroing_hidden_activations():
    model = _complex_mlp()
    g = torch.Generator().manual_seed(1)
    masks = pw.hidden_unit_masks(model, g)
    assert list(masks) == [0] and (~masks[0]).sum() == 4
    masked = pw.mask_random_half_(pw.projected_copy(model, "real", 1.0), masks=masks)
    x = _complex((5, 6), 9)
    # reference: the projected network with the dropped hidden units' activations set to 0
    w1, b1 = model[0].weight.real.to(x.dtype), model[0].bias
    w2, b2 = model[2].weight.real.to(x.dtype), model[2].bias
    z = x @ w1.T + b1
    h = torch.complex(z.real.clamp(min=0), z.imag.clamp(min=0)) * masks[0]
    expected = h @ w2.T + b2
    torch.testing.assert_close(masked(x).detach(), expected.detach())


def test_mask_weights_and_masked_copy():
    model = _complex_mlp()
    copy = pw.masked_copy(model, over="weights", generator=torch.Generator().manual_seed(0))
    for name in ("0.weight", "2.weight"):
        w = copy.state_dict()[name]
        assert (w == 0).sum().item() == w.numel() // 2
        assert (model.state_dict()[name] == 0).sum().item() == 0
    with pytest.raises(ValueError, match="over"):
        pw.mask_random_half_(model, over="rows")


def test_hidden_unit_masks_needs_a_plain_stack():
    model = nn.Sequential(nn.Linear(4, 6), nn.Linear(5, 2))
    with pytest.raises(ValueError, match="plain stack"):
        pw.hidden_unit_masks(model)
    with pytest.raises(ValueError, match="no weight parameters"):
        pw.weight_parameters(nn.ReLU())
