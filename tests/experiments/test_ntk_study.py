"""Tests of the ``ntk`` study: the two networks against plain reference computations, and a
tiny run through the CLI that shows the study's effects with a fixed seed."""

from __future__ import annotations

import json
import math

import pytest
import torch
from _results_doc import undocumented_keys
from torch import nn

from phasor.cli import main
from phasor.experiments import ntk as study
from phasor.experiments.ntk import ComplexMLP, RealCounterpart, make_inputs, ntk_movement
from phasor.plotting import new_figure
from phasor.train import TrainingError


def test_complex_mlp_matches_reference_computation():
    torch.manual_seed(0)
    net = ComplexMLP(3, 5, 2, "crelu")
    x = make_inputs("complex", 4, 3, torch.Generator().manual_seed(1))
    w = [layer.weight.detach() for layer in net.layers]

    def crelu(z):
        return torch.complex(z.real.clamp(min=0), z.imag.clamp(min=0))

    h = crelu(x @ w[0].T / math.sqrt(3))
    h = crelu(h @ w[1].T / math.sqrt(5))
    torch.testing.assert_close(net(x), h @ w[2].T / math.sqrt(5))
    # weights are CN(0, 1): real and imaginary parts each of variance 1/2
    big = ComplexMLP(2, 4000, 1, "crelu").layers[0].weight.detach()
    assert big.real.var().item() == pytest.approx(0.5, rel=0.05)
    assert big.imag.var().item() == pytest.approx(0.5, rel=0.05)


def test_real_counterpart_with_crelu_is_a_relu_network():
    torch.manual_seed(0)
    net = RealCounterpart(3, 4, 2, "crelu")
    x = make_inputs("complex", 5, 3, torch.Generator().manual_seed(2))
    u = torch.cat([x.real, x.imag], dim=1)
    w = [layer.weight.detach() for layer in net.layers]
    u = torch.relu(u @ w[0].T / math.sqrt(6))
    u = torch.relu(u @ w[1].T / math.sqrt(8))
    torch.testing.assert_close(net(x), u @ w[2].T / math.sqrt(8))


def test_real_counterpart_applies_the_activation_to_unit_pairs():
    torch.manual_seed(0)
    net = RealCounterpart(2, 3, 1, "square")
    x = make_inputs("complex", 4, 2, torch.Generator().manual_seed(3))
    u = torch.cat([x.real, x.imag], dim=1) @ net.layers[0].weight.detach().T / 2
    z = torch.complex(u[:, 0::2], u[:, 1::2]) ** 2
    v = torch.stack([z.real, z.imag], dim=-1).flatten(1)
    torch.testing.assert_close(net(x), v @ net.layers[1].weight.detach().T / math.sqrt(6))


def test_inputs_have_the_stated_norm_and_kind():
    g = torch.Generator().manual_seed(0)
    for kind in ("complex", "real"):
        x = make_inputs(kind, 6, 4, g)
        torch.testing.assert_close(x.abs().pow(2).sum(1), torch.full((6,), 4.0))
    assert make_inputs("real", 3, 2, g).imag.abs().max() == 0
    with pytest.raises(ValueError, match="complex' or 'real"):
        make_inputs("other", 3, 2, g)


def test_movement_is_measured_after_training():
    torch.manual_seed(0)
    net = ComplexMLP(2, 32, 1, "cardioid")
    x = make_inputs("complex", 4, 2, torch.Generator().manual_seed(0))
    y = torch.randn(4, dtype=torch.complex64, generator=torch.Generator().manual_seed(1))
    move, start, end = ntk_movement(net, x, y, steps=20)
    assert end < start and move > 0


def test_cli_run_shows_the_effects(tmp_path):
    out = tmp_path / "ntk"
    rc = main(
        [
            "run",
            "ntk",
            "--out",
            str(out),
            "--widths",
            "16",
            "512",
            "--seeds",
            "2",
            "--activations",
            "crelu",
            "square",
            "--num-inputs",
            "4",
            "--train-steps",
            "10",
        ]
    )
    assert rc == 0
    for name in (
        "results.json",
        "ntk.csv",
        "movement.csv",
        "ntk-distance.png",
        "ntk-parts.png",
        "ntk-movement.png",
    ):
        assert (out / name).is_file(), name
    summary = {
        (e["inputs"], e["activation"]): e
        for e in json.loads((out / "results.json").read_text())["summary"]
    }
    # real inputs: the complex NTK approaches the real counterpart's as the width grows
    for act in ("crelu", "square"):
        d = summary["real", act]["d_real_median"]
        assert d[1] < 0.5 * d[0]
    # complex inputs: a rotation part stays at large width (the plateau the docs report)
    assert summary["complex", "crelu"]["rotation_median"][1] > 0.15
    # the holomorphic network has no conjugate-linear part at any width (Cauchy-Riemann)
    assert max(summary["complex", "square"]["conjugate_median"]) < 1e-5
    # real-valued backprop counts each complex weight twice: the kernel is about 2x the real one
    assert 1.5 < summary["real", "crelu"]["scale_median"][1] < 2.6
    # the NTK moves less during training at larger width
    m = summary["complex", "crelu"]["movement_median"]
    assert m[1] < m[0]


TINY = ("--widths", "8", "16", "32", "--seeds", "2", "--activations", "crelu", "square")
TINY += ("--num-inputs", "3", "--in-features", "2", "--train-steps", "2", "--no-progress")


def test_tiny_run_keys_are_documented_and_the_console_gives_the_slopes(tmp_path, capsys):
    assert main(["run", "ntk", "--out", str(tmp_path), *TINY]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # --no-progress: no bar
    assert "slope of d_real (complex vs real-counterpart NTK) against width 8..32" in captured.out
    assert "  real inputs, depth 1 (expect about -0.5: it reduces): crelu " in captured.out
    results = json.loads((tmp_path / "results.json").read_text())
    # d_limit is measured against the largest width, so it has one width less: named here
    assert results["d_limit_widths"] == results["widths"][:-1] == [8, 16]
    for entry in results["summary"]:
        assert len(entry["d_limit_median"]) == 2 and len(entry["d_real_median"]) == 3
    assert {"d_real", "rotation", "movement", "d_real_slope"} <= set(results["units"])
    assert undocumented_keys(results, "ntk.md") == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--widths", "64"], "--widths needs at least two different widths, got 64"),
        (["--widths", "0", "8"], "--widths must be a positive integer, got 0"),
        (["--seeds", "1"], "--seeds must be an integer >= 2, got 1"),
        (["--train-steps", "-1"], "--train-steps must be a non-negative integer, got -1"),
        (["--modrelu-bias", "nan"], "--modrelu-bias must be a number, got 'nan'"),
    ],
)
def test_bad_flags_stop_before_any_work(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    try:
        rc = main(["run", "ntk", "--out", str(out), *argv])
    except SystemExit as stop:  # rejected by the parser
        rc = stop.code
    assert rc == 2
    assert f"phasor: error: {message}" in capsys.readouterr().err
    assert not out.exists()


class _Cubic(nn.Module):
    """f(x) = w^3 x from w = 0.1: a tiny kernel, so the step N / lambda_max overshoots."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.1 + 0j]))

    def forward(self, x):
        return self.w**3 * x[:, :1]


def test_a_diverging_movement_run_names_the_network():
    x, y = torch.ones(4, 1, dtype=torch.complex64), torch.full((4,), 5 + 0j)
    with pytest.raises(TrainingError, match=r"^cubic: training diverged at step 1: "):
        ntk_movement(_Cubic(), x, y, steps=20, where="cubic")


def _axes(request, rows=1, cols=1):
    fig, axes = new_figure(rows, cols)

    def close():
        import matplotlib.pyplot as plt

        plt.close(fig)

    request.addfinalizer(close)
    return axes


def test_conjugate_panel_spends_no_decades_on_rounding_noise(request):
    axes = _axes(request, 1, 2)
    curves = {"crelu": [0.06, 0.04, 0.02], "square": [2e-8, 3e-8, 2e-8]}
    note = study._plot_conjugate(axes[0, 0], [64, 128, 256], curves)
    assert "square" in note and "crelu" not in note
    assert axes[0, 0].get_yscale() == "log" and axes[0, 0].get_ylim()[0] > 0.01
    # all of them at the noise: a linear axis, said so in the note
    note = study._plot_conjugate(axes[0, 1], [64, 128], {"square": [2e-8, 3e-8]})
    assert "float32 rounding" in note and axes[0, 1].get_yscale() == "linear"


def test_width_axis_labels_only_the_widths(request):
    # widths spanning under a decade used to get overlapping minor tick labels (2x10^2, ...)
    axes = _axes(request)
    ax = axes[0, 0]
    ax.plot([64, 128, 256], [0.3, 0.2, 0.1])
    study._width_axis(ax, [64, 128, 256])
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["64", "128", "256"]
    assert all(t.get_text() == "" for t in ax.get_xticklabels(minor=True))
