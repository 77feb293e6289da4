"""The phase-pruning study end to end on the embedded digits, at a budget CI can bear."""

import csv
import json

import numpy as np
import pytest

from phasor import cli

COMPLEX = ["origin", "half", "phase", "amplitude", "real", "imag"]


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    out = tmp_path_factory.mktemp("probe")
    argv = ["run", "phase-pruning", "--out", str(out), "--seed", "0", "--train-size", "500"]
    argv += ["--steps", "350", "--lr", "0.15", "--eval-every", "25", "--test-size", "500"]
    argv += ["--half-draws", "3"]  # lr 0.15 (paper: 0.1) leaves the initial plateau sooner
    assert cli.main(argv) == 0
    return out, json.loads((out / "results.json").read_text())


def test_probe_writes_results_csv_and_figure(probe):
    out, results = probe
    assert results["resolved"]["regime"] == "probe" and results["resolved"]["lr"] == 0.15
    assert results["resolved"]["train_size"] == 500 and results["resolved"]["test_size"] == 500
    run = results["runs"]["complex-100"]
    assert list(run["curves"]) == COMPLEX
    steps = list(range(25, 351, 25))
    for name in COMPLEX:
        curve = run["curves"][name]
        assert curve["steps"] == steps and len(curve["accuracy"]) == len(steps)
        assert results["final_accuracy"][f"complex-100/{name}"] == curve["accuracy"][-1]
    with open(out / "curves.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(COMPLEX) * len(steps)
    assert (out / results["figure"]).stat().st_size > 10_000
    assert run["curves"]["origin"]["final"] > 70  # the unpruned network learned


def test_phase_only_beats_amplitude_only_which_is_chance(probe):
    curves = probe[1]["runs"]["complex-100"]["curves"]
    phase, amplitude = curves["phase"]["accuracy"], curves["amplitude"]["accuracy"]
    assert max(amplitude) <= 15  # 10 classes: chance is 10%
    assert max(phase) >= max(amplitude) + 20
    assert np.mean(phase) > np.mean(amplitude) + 5


def test_real_and_imaginary_parts_are_close(probe):
    # At this tiny budget the claim holds for the fixture's seed; other seeds have ended up to
    # 16 points apart. On full MNIST (docs/phase-pruning.md) the two end 3.4 points apart.
    curves = probe[1]["runs"]["complex-100"]["curves"]
    real, imag = curves["real"]["final"], curves["imag"]["final"]
    assert real > 30 and imag > 30  # both well above chance ...
    assert abs(real - imag) <= 10  # ... and close to each other


def test_real_network_projected_regime(tmp_path):
    out = tmp_path / "real"
    argv = ["run", "phase-pruning", "--out", str(out), "--real", "--hidden", "256,64"]
    argv += ["--regime", "projected", "--steps", "150", "--eval-every", "50"]
    argv += ["--train-size", "300", "--test-size", "200", "--impl", "torch"]
    assert cli.main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["resolved"]["lr"] == 0.2 and results["resolved"]["impl"] == "torch"
    run = results["runs"]["real-256-64"]
    assert list(run["curves"]) == ["origin", "half", "sign", "magnitude"]
    for curve in run["curves"].values():
        assert curve["steps"] == [50, 100, 150]
        assert all(0 <= a <= 100 for a in curve["accuracy"])
    assert set(run["train_loss"]) == {"origin", "half", "sign", "magnitude"}
    # the unconstrained net learns; the magnitude-only one (all weights >= 0) stays near chance
    assert run["curves"]["origin"]["final"] > 50
    assert run["curves"]["magnitude"]["final"] < 25


def test_divergence_stops_the_run_and_is_not_plotted(tmp_path, capsys):
    out = tmp_path / "div"
    argv = ["run", "phase-pruning", "--out", str(out), "--lr", "1e6", "--steps", "40"]
    argv += ["--eval-every", "5", "--train-size", "100", "--test-size", "100", "--half-draws", "1"]
    assert cli.main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    run = results["runs"]["complex-100"]
    assert run["diverged_at_step"] is not None and run["diverged_at_step"] <= 40
    assert "diverged" in capsys.readouterr().err
    for name, curve in run["curves"].items():
        assert curve["final"] is None
        assert all(s < run["diverged_at_step"] for s in curve["steps"])
        assert all(np.isfinite(curve["accuracy"])), name


def test_bad_flags_raise(tmp_path):
    base = ["run", "phase-pruning", "--out", str(tmp_path)]
    with pytest.raises(ValueError, match="hidden"):
        cli.main([*base, "--hidden", "10,x", "--steps", "1"])
    with pytest.raises(ValueError, match="steps"):
        cli.main([*base, "--steps", "0"])
