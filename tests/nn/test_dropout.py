"""Complex dropout layers: train/eval behaviour and argument checks."""

import pytest
import torch

import phasor.functional as CF
import phasor.nn as cnn


def nonzero(*shape, seed=0):
    """Complex values whose real and imaginary parts are both bounded away from zero."""
    g = torch.Generator().manual_seed(seed)

    def part():
        mag = torch.rand(*shape, dtype=torch.float64, generator=g) + 0.5
        return mag * torch.sign(torch.randn(*shape, dtype=torch.float64, generator=g))

    return torch.complex(part(), part())


@pytest.mark.parametrize(
    ("layer_cls", "fn"), [(cnn.Dropout, CF.dropout), (cnn.Dropout2d, CF.dropout2d)]
)
def test_layer_equals_functional_with_same_seed(layer_cls, fn):
    x = nonzero(4, 5, 3, 3)
    layer = layer_cls(0.3)
    torch.manual_seed(7)
    a = layer(x)
    torch.manual_seed(7)
    b = fn(x, 0.3)
    assert torch.equal(a, b)


@pytest.mark.parametrize("layer_cls", [cnn.Dropout, cnn.Dropout2d])
def test_eval_mode_is_identity(layer_cls):
    x = nonzero(4, 5, 3, 3)
    layer = layer_cls(0.9).eval()
    assert torch.equal(layer(x), x)


def test_training_mode_masks_both_parts_together_and_scales_once():
    torch.manual_seed(1)
    x = nonzero(50, 40, seed=2)
    out = cnn.Dropout(0.25)(x)
    assert torch.equal(out.real == 0, out.imag == 0)
    kept = out != 0
    assert 0 < int(kept.sum()) < x.numel()
    torch.testing.assert_close(out[kept], x[kept] / 0.75)


def test_dropout2d_layer_zeros_channels():
    torch.manual_seed(2)
    out = cnn.Dropout2d(0.5)(nonzero(6, 8, 3, 3, seed=3))
    zero = (out.flatten(2) == 0).all(-1)
    assert torch.equal(zero, (out.flatten(2) == 0).any(-1))


@pytest.mark.parametrize("layer_cls", [cnn.Dropout, cnn.Dropout2d])
@pytest.mark.parametrize("p", [-0.5, 1.01])
def test_invalid_p_raises_at_construction(layer_cls, p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        layer_cls(p)


def test_repr_shows_p():
    assert "p=0.3" in repr(cnn.Dropout(0.3))
