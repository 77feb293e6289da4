"""Study wirtinger-regression: recovery of w = 5, the Wirtinger step, convergence, z^2 task."""

import json
import math

import pytest
import torch
from _results_doc import undocumented_keys

from phasor.cli import main
from phasor.experiments.wirtinger_regression import (
    epochs_to_converge,
    linear_data,
    nonlinear_models,
    train_complex,
)
from phasor.models.cnn import count_parameters


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("wirtinger")
    argv = [
        "run",
        "wirtinger-regression",
        "--out",
        str(out),
        "--seed",
        "3",
        "--nonlinear-epochs",
        "700",
        "--nonlinear-samples",
        "600",
    ]
    assert main(argv) == 0
    return out, json.loads((out / "results.json").read_text())


def test_both_models_recover_w_equal_5_within_noise(default_run):
    _, results = default_run
    sigma = 1 / math.sqrt(12)  # per-part noise std (the default)
    t = torch.arange(800, dtype=torch.float64) / 1000
    se_complex = sigma / math.sqrt(float((2 * t**2).sum()))  # std of the LS estimate, per part
    se_split = sigma / math.sqrt(float((t**2).sum()))
    re, im = results["linear"]["complex"]["final_w_re_im"]
    assert abs(re - 5) < 4 * se_complex and abs(im) < 4 * se_complex
    for w in results["linear"]["split"]["final_w_r_w_i"]:
        assert abs(w - 5) < 4 * se_split + 0.02  # + what is left of the slower descent


def test_convergence_speed_is_the_doubled_step(default_run):
    _, results = default_run
    lin = results["linear"]
    c, s, s2 = (lin[k]["epochs_to_converge"] for k in ("complex", "split", "split-2lr"))
    assert None not in (c, s, s2)
    assert 1.6 < s / c < 2.4  # the seed's "about half the epochs"
    assert abs(s2 - c) <= 1  # ... which is the split model with twice the learning rate
    # at convergence, both fits sit at their own least-squares optimum
    for k in ("complex", "split"):
        assert lin[k]["final_train_mse"] == pytest.approx(
            lin[k]["least_squares_train_mse"], rel=0.01
        )


def test_split_model_is_weaker_on_z_squared(default_run):
    out, results = default_run
    nl = results["nonlinear"]
    assert nl["complex"]["real_parameters"] == nl["split"]["real_parameters"] == 6 * 16 + 2
    assert abs(nl["stacked-real"]["real_parameters"] - nl["complex"]["real_parameters"]) <= 5
    assert nl["split"]["final_val_mse"] > 10 * nl["complex"]["final_val_mse"]
    assert nl["stacked-real"]["final_val_mse"] < nl["split"]["final_val_mse"] / 10
    assert (out / "wirtinger.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "linear.csv").exists() and (out / "nonlinear.csv").exists()


def test_one_full_batch_step_is_the_wirtinger_gradient():
    gen = torch.Generator().manual_seed(0)
    x, y = linear_data(50, "gaussian", 0.3, gen)
    lr = 0.1
    w, train, _ = train_complex(x, y, x, y, lr, 1, 0, gen)
    # from w = 0: dL/d conj(w) = -mean((y - w x) conj(x)); the step is w -= lr * 2 dL/d conj(w)
    expected = complex(lr * 2 * (y * x.conj()).mean())
    assert w == pytest.approx(expected, rel=1e-12)
    assert train[0] == pytest.approx(float((y - expected * x).abs().pow(2).mean()), rel=1e-12)


def test_seed_noise_moves_the_optimum(tmp_path):
    argv = [
        "run",
        "wirtinger-regression",
        "--out",
        str(tmp_path),
        "--noise",
        "seed",
        "--nonlinear-epochs",
        "5",
    ]
    assert main(argv) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    # uniform [0, 1) noise has mean 0.5: without a bias the fit absorbs it into w
    assert results["linear"]["complex"]["least_squares_w_re_im"][0] > 5.5


def test_epochs_to_converge_definition():
    assert epochs_to_converge([5.0, 2.0, 1.005, 1.0], 1.0, 0.01) == 3
    assert epochs_to_converge([5.0, 1.0, 3.0, 1.0], 1.0, 0.01) == 4  # must stay converged
    assert epochs_to_converge([5.0, 2.0], 1.0, 0.01) is None


def test_nonlinear_models_parameter_counts():
    models = nonlinear_models(8, "crelu")
    assert count_parameters(models["complex"]) == count_parameters(models["split"]) == 50
    with pytest.raises(ValueError, match="activation"):
        nonlinear_models(8, "modrelu")
    with pytest.raises(ValueError, match="noise"):
        linear_data(10, "laplace", 0.1, torch.Generator())


def test_divergence_is_one_clear_line(tmp_path, capsys):
    argv = ["run", "wirtinger-regression", "--out", str(tmp_path), "--lr", "1e6", "--epochs", "80"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "linear task, complex model: training diverged at epoch 1" in err
    assert err.count("\n") == 1


def test_an_exploding_weight_stops_the_run(tmp_path, capsys):
    # lr 5 is past the stable step 2 / (4 mean t^2) of the complex model: the MSE grows by
    # about 11x per epoch (w reached -9e10 silently before); the run must stop, not finish.
    out = tmp_path / "out"
    argv = ["run", "wirtinger-regression", "--out", str(out), "--lr", "5", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "complex model: training diverged at epoch 2" in err
    assert "over 100x its start" in err and "lower --lr (now 5)" in err
    assert not out.exists()  # nothing half-written is left behind


def test_the_z_squared_models_stop_on_divergence_too(tmp_path, capsys):
    argv = ["run", "wirtinger-regression", "--out", str(tmp_path / "o"), "--epochs", "2"]
    argv += ["--nonlinear-lr", "1000", "--nonlinear-epochs", "5", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "nonlinear task, complex model: training diverged" in err
    assert "lower --nonlinear-lr (now 1000)" in err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--epochs", "0", "--epochs must be a positive integer, got 0"),
        ("--lr", "-1", "--lr must be a positive number, got -1"),
        ("--samples", "4", "--samples must be an integer >= 5, got 4"),
        ("--batch-size", "-1", "--batch-size must be a non-negative integer, got -1"),
        ("--nonlinear-samples", "1", "--nonlinear-samples must be an integer >= 2, got 1"),
    ],
)
def test_bad_flags_stop_before_any_work(tmp_path, capsys, flag, value, message):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        main(["run", "wirtinger-regression", "--out", str(out), flag, value])
    assert stop.value.code == 2
    assert f"phasor: error: {message}" in capsys.readouterr().err
    assert not out.exists()


def test_results_keys_say_what_they_hold_and_are_documented(default_run):
    _, results = default_run
    lin = results["linear"]
    assert set(lin) == {"complex", "split", "split-2lr"}  # models only
    assert "final_w_r_w_i" not in lin["complex"] and "final_w_re_im" not in lin["split"]
    assert lin["split"]["least_squares_w_r_w_i"] == lin["split-2lr"]["least_squares_w_r_w_i"]
    assert set(results["units"]) >= {"final_train_mse", "epochs_to_converge"}
    assert undocumented_keys(results, "wirtinger-regression.md", maps=("linear", "nonlinear")) == []


def test_console_shows_the_headline_and_no_bars_without_progress(tmp_path, capsys):
    argv = ["run", "wirtinger-regression", "--out", str(tmp_path), "--epochs", "3"]
    argv += ["--nonlinear-epochs", "3", "--nonlinear-samples", "50", "--no-progress"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # --no-progress: no tqdm bars
    assert "epochs to converge: complex not within --epochs" in captured.out
    assert "nonlinear task f(z) = z^2: validation MSE complex" in captured.out
