"""Tests of the ``approximation`` study: targets at hand-computed points, the network against
a plain reference computation, and a tiny run through the CLI with a fixed seed."""

from __future__ import annotations

import json
import math

import pytest
import torch
from _results_doc import undocumented_keys

from phasor.cli import main
from phasor.experiments.approximation import ShallowComplexNet, fit, sample_domain, target


def test_targets_at_known_points():
    z = torch.tensor([[0.3 + 0.4j], [1.0 + 0.0j], [0.0 + 1.0j]], dtype=torch.complex128)
    # |z| = 0.5 (on the kink), 1 (real), 1 (imaginary: phase e^{i})
    torch.testing.assert_close(target("kink1", z)[:2], torch.tensor([0, 0.5], dtype=z.dtype))
    expected = torch.tensor(0.125 * complex(math.cos(1), math.sin(1)), dtype=z.dtype)
    torch.testing.assert_close(target("kink3", z)[2], expected)
    torch.testing.assert_close(
        target("smooth", z)[1], torch.tensor(math.exp(-0.5) + 0j, dtype=z.dtype)
    )
    with pytest.raises(ValueError, match="unknown target"):
        target("rough", z)


def test_kink_targets_have_the_stated_smoothness():
    # second differences across the kink r = 1/2 on the real axis: O(h) for k = 1 (a jump in
    # the first derivative), O(h^3) for the C^2 target with |r - 1/2|^3
    for h in (1e-2, 1e-3):
        t = torch.tensor([[0.5 - h], [0.5], [0.5 + h]], dtype=torch.complex128)
        d1 = target("kink1", t).real
        d3 = target("kink3", t).real
        assert (d1[0] - 2 * d1[1] + d1[2]).item() == pytest.approx(2 * h)
        assert (d3[0] - 2 * d3[1] + d3[2]).item() == pytest.approx(2 * h**3)


def test_domain_is_the_cube():
    z = sample_domain(500, 2, torch.Generator().manual_seed(0))
    assert z.shape == (500, 2) and z.dtype == torch.complex128
    assert z.real.abs().max() <= 1 and z.imag.abs().max() <= 1
    assert z.real.min() < -0.9 and z.imag.max() > 0.9


def test_shallow_net_matches_reference_computation():
    torch.manual_seed(0)
    net = ShallowComplexNet(2, 5, "cardioid", dtype=torch.complex128)
    z = sample_domain(7, 2, torch.Generator().manual_seed(1))
    h = z @ net.hidden.weight.detach().T + net.hidden.bias.detach()
    a = 0.5 * (1 + torch.cos(torch.angle(h))) * h
    expected = a @ net.out.weight.detach()[0] + net.out.bias.detach()[0]
    torch.testing.assert_close(net(z), expected)
    with pytest.raises(ValueError, match="modrelu' or 'cardioid"):
        ShallowComplexNet(1, 3, "crelu")


def test_fit_decreases_the_loss():
    torch.manual_seed(0)
    z = sample_domain(128, 1, torch.Generator().manual_seed(0)).to(torch.complex64)
    losses = fit(ShallowComplexNet(1, 8, "modrelu"), z, target("smooth", z), steps=100, lr=0.03)
    assert losses[-1] < 0.5 * losses[0]


def test_cli_run_more_neurons_fit_better(tmp_path):
    out = tmp_path / "approx"
    rc = main(
        [
            "run",
            "approximation",
            "--out",
            str(out),
            "--dims",
            "1",
            "--targets",
            "kink1",
            "--activations",
            "modrelu",
            "--neurons",
            "2",
            "32",
            "--steps",
            "300",
            "--train-points",
            "256",
            "--test-points",
            "512",
        ]
    )
    assert rc == 0
    assert (out / "approximation.png").is_file() and (out / "approximation.csv").is_file()
    (entry,) = json.loads((out / "results.json").read_text())["summary"]
    assert entry["theory_slope"] == -0.5
    assert entry["best_rel_l2"][1] < 0.7 * entry["best_rel_l2"][0]
    assert entry["fitted_slope"] < 0


TINY = (
    *("--dims", "1", "--targets", "kink1", "--activations", "modrelu", "--neurons", "2", "4"),
    *("--steps", "5", "--train-points", "32", "--test-points", "32", "--no-progress"),
)


def _tiny(out, *extra):
    return ["run", "approximation", "--out", str(out), *TINY, *extra]


def test_tiny_run_keys_are_documented_and_the_console_gives_the_slopes(tmp_path, capsys):
    assert main(_tiny(tmp_path)) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # --no-progress: no bar
    assert "fitted slope of the best relative L2 error against m = 2..4" in captured.out
    assert "n = 1 kink1  modrelu  slope" in captured.out and "(theory -0.50)" in captured.out
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["units"]) >= {"best_rel_l2", "best_sup", "fitted_slope"}
    assert undocumented_keys(results, "approximation.md") == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--neurons", "8", "8"], "--neurons needs at least two different values"),
        (["--steps", "0"], "--steps must be a positive integer, got 0"),
        (["--lr", "-1"], "--lr must be a positive number, got -1"),
        (["--dims", "1", "0"], "--dims must be a positive integer, got 0"),
        (["--neurons", "0", "4"], "--neurons must be a positive integer, got 0"),
        (["--train-points", "1"], "--train-points must be an integer >= 2, got 1"),
    ],
)
def test_bad_flags_stop_before_any_work(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    try:
        rc = main(["run", "approximation", "--out", str(out), *argv])
    except SystemExit as stop:  # rejected by the parser
        rc = stop.code
    assert rc == 2
    assert f"phasor: error: {message}" in capsys.readouterr().err
    assert not out.exists()


def test_a_diverging_network_stops_with_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(_tiny(out, "--lr", "50")) == 2
    err = capsys.readouterr().err
    assert err.startswith("phasor: error: network n = 1, kink1, modrelu, m = 2, seed 0: ")
    assert "training diverged at step" in err and "lower --lr (now 50)" in err
    assert not out.exists()
