"""The study CNNs: parameter counts against the seed's tables, shapes, heads, activations."""

import re

import pytest
import torch

from phasor.models.cnn import (
    ACTIVATIONS,
    ComplexSeedCNN,
    RealSeedCNN,
    count_parameters,
    matched_real_widths,
    summary,
)

# (layer, output shape, parameters) rows of the seed's tables (Trabelsi-style nets, real version)
SEED_TABLES = {
    "mnist": [
        ("Conv2d", "[-1, 10, 24, 24]", 260),
        ("BatchNorm2d", "[-1, 10, 12, 12]", 20),
        ("Conv2d", "[-1, 20, 8, 8]", 5_020),
        ("Linear", "[-1, 500]", 160_500),
        ("Linear", "[-1, 10]", 5_010),
    ],
    "fashion": [
        ("Conv2d", "[-1, 32, 24, 24]", 832),
        ("BatchNorm2d", "[-1, 32, 12, 12]", 64),
        ("Conv2d", "[-1, 64, 8, 8]", 51_264),
        ("Linear", "[-1, 500]", 512_500),
        ("Linear", "[-1, 10]", 5_010),
    ],
}
SEED_TOTALS = {"mnist": 170_810, "fashion": 569_670}


def _rows(text):
    rows = []
    for line in text.splitlines():
        m = re.match(r"(\w+)-\d+\s+(\[[^\]]*\])\s+([\d,]+)$", line.strip())
        if m:
            rows.append((m.group(1), m.group(2), int(m.group(3).replace(",", ""))))
    return rows


@pytest.mark.parametrize("shape", ["mnist", "fashion"])
def test_real_net_matches_seed_table(shape):
    model = RealSeedCNN(shape)
    assert count_parameters(model) == SEED_TOTALS[shape]
    text = summary(model)
    with_params = [r for r in _rows(text) if r[0] in ("Conv2d", "BatchNorm2d", "Linear")]
    assert with_params == SEED_TABLES[shape]
    assert f"Total params: {SEED_TOTALS[shape]:,}" in text


@pytest.mark.parametrize("shape", ["mnist", "fashion"])
def test_complex_net_counts_complex_parameters_twice(shape):
    model = ComplexSeedCNN(shape, "crelu")
    table = SEED_TABLES[shape]
    channels = int(table[1][1].split(",")[1])
    # weights and biases of conv/linear become complex (x2); the whitening batch norm has a
    # real symmetric 2x2 gamma (3 numbers) and a complex beta (2) per channel
    expected = 2 * sum(n for kind, _, n in table if kind != "BatchNorm2d") + 5 * channels
    assert count_parameters(model) == expected
    assert sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters()) == expected
    rows = _rows(summary(model))
    assert [r[1] for r in rows if r[0] in ("Conv2d", "ComplexBatchNorm2d", "Linear")] == [
        r[1] for r in table
    ]


def test_modrelu_adds_one_bias_per_channel_and_unit():
    crelu = count_parameters(ComplexSeedCNN("mnist", "crelu"))
    assert count_parameters(ComplexSeedCNN("mnist", "modrelu")) == crelu + 10 + 20 + 500


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_complex_net_outputs_log_probabilities_and_finite_gradients(activation):
    torch.manual_seed(0)
    model = ComplexSeedCNN("mnist", activation)
    x = torch.rand(6, 1, 28, 28) - 0.5
    out = model(x)
    assert out.shape == (6, 10) and not out.is_complex()
    torch.testing.assert_close(out.exp().sum(1), torch.ones(6))
    torch.nn.functional.nll_loss(out, torch.arange(6)).backward()
    grads = [p.grad for p in model.parameters()]
    assert all(
        g is not None and torch.isfinite(torch.view_as_real(g) if g.is_complex() else g).all()
        for g in grads
    )


def test_complex_net_casts_real_input_like_the_seed():
    torch.manual_seed(0)
    model = ComplexSeedCNN("mnist").eval()
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(model(x), model(torch.complex(x, torch.zeros_like(x))))
    torch.testing.assert_close(model(x[:, 0]), model(x))  # (N, 28, 28) accepted


def test_real_net_rejects_complex_input_and_bad_shapes():
    with pytest.raises(TypeError, match="ComplexSeedCNN"):
        RealSeedCNN()(torch.zeros(2, 1, 28, 28, dtype=torch.complex64))
    with pytest.raises(ValueError, match="shape must be"):
        RealSeedCNN("cifar")
    with pytest.raises(ValueError, match="activation must be"):
        ComplexSeedCNN("mnist", "relu")
    with pytest.raises(TypeError, match="dtype"):
        ComplexSeedCNN("mnist", dtype=torch.float32)


@pytest.mark.parametrize("shape", ["mnist", "fashion"])
def test_matched_real_widths_reach_the_complex_count(shape):
    target = count_parameters(ComplexSeedCNN(shape))
    widths = matched_real_widths(shape, target)
    got = count_parameters(RealSeedCNN(widths))
    assert abs(got - target) / target < 0.02
    assert all(w > b for w, b in zip(widths, RealSeedCNN(shape).widths, strict=True))
