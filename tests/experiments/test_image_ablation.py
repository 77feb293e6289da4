"""Study image-ablation at a tiny budget on the embedded digits."""

import csv
import functools
import json
import math
import shutil

import pytest
import torch
from _results_doc import undocumented_keys

from phasor.cli import main
from phasor.experiments import image_ablation
from phasor.experiments.image_ablation import PRESETS, build_model, variant_transform
from phasor.models.cnn import ComplexSeedCNN, RealSeedCNN

VARIANTS = "real,complex,fixed-phase,fixed-imag,random"


@pytest.fixture(scope="module", autouse=True)
def _load_once():
    """Decoding the embedded digits takes seconds: once for all the runs of this file."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(image_ablation, "load_images", functools.cache(image_ablation.load_images))
        yield


@pytest.fixture(scope="module")
def variants_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("variants")
    argv = [
        "run",
        "image-ablation",
        "--out",
        str(out),
        "--seed",
        "1",
        "--train-size",
        "800",
        "--test-size",
        "300",
        "--epochs",
        "2",
        "--variants",
        VARIANTS + ",real-matched",
        "--no-progress",
    ]
    assert main(argv) == 0
    return out, json.loads((out / "results.json").read_text())


def test_every_variant_learns_above_chance(variants_run):
    _, results = variants_run
    assert results["resolved"]["compare"] == "variants"
    assert results["resolved"]["epochs"] == 2  # the flag overrides the preset's 10
    assert results["train_images"] == 800 and results["test_images"] == 300
    for name in [*VARIANTS.split(","), "real-matched"]:
        run = results["runs"][name]
        assert 0.6 < run["final_test_accuracy"] <= 1.0, name  # a fraction; chance is 0.1
        assert math.isfinite(run["final_train_loss"])


def test_results_carry_counts_and_seed_numbers(variants_run):
    out, results = variants_run
    runs = results["runs"]
    assert runs["real"]["parameters"] == 170_810
    assert runs["complex"]["parameters"] == sum(
        p.numel() * (2 if p.is_complex() else 1) for p in ComplexSeedCNN("mnist").parameters()
    )
    assert runs["fixed-phase"]["parameters"] == runs["complex"]["parameters"]
    ratio = runs["real-matched"]["parameters"] / runs["complex"]["parameters"]
    assert 0.98 < ratio < 1.02
    assert runs["real"]["seed_reported_accuracy"] == 0.9893  # the seed's 98.93 %, a fraction
    assert runs["real-matched"]["seed_reported_accuracy"] is None
    assert "Total params: 170,810" in (out / "summaries.txt").read_text()


def test_files_per_epoch_and_per_step(variants_run):
    out, results = variants_run
    with open(out / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["run"] for r in rows} == set(results["runs"])
    assert set(rows[0]) >= {"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy"}
    with open(out / "steps.csv") as fh:
        steps = [r for r in csv.DictReader(fh) if r["run"] == "real"]
    assert len(steps) == 2 * math.ceil(800 / 64)  # one loss per training batch, none from eval
    for name in ("losses.png", "accuracy.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_variant_transforms_follow_the_seed():
    x = torch.rand(4, 1, 28, 28) + 0.1
    phase = variant_transform("fixed-phase")(x)
    torch.testing.assert_close(phase.abs(), x)
    torch.testing.assert_close(phase.angle(), torch.full_like(x, 0.5))
    imag = variant_transform("fixed-imag")(x)
    torch.testing.assert_close(imag.real, x)
    torch.testing.assert_close(imag.imag, torch.full_like(x, 0.1))
    torch.manual_seed(0)
    noisy = variant_transform("random")(x)
    diff = torch.cat([(noisy.real - x).flatten(), noisy.imag.flatten()])
    assert 0.5e-5 < diff.std() < 2e-5 and diff.abs().max() < 1e-4
    assert (diff != 0).float().mean() > 0.9
    for name in ("real", "complex", "real-matched"):
        assert variant_transform(name) is None
    with pytest.raises(ValueError, match="variant"):
        variant_transform("rotated")


def test_build_model_by_run_name():
    assert isinstance(build_model("real", "mnist"), RealSeedCNN)
    assert build_model("cardioid", "fashion").activation == "cardioid"
    assert build_model("random", "mnist", "zrelu").activation == "zrelu"
    with pytest.raises(ValueError, match="unknown run"):
        build_model("tanh", "mnist")


def test_transform_test_changes_only_the_evaluation(tmp_path):
    base = [
        "run",
        "image-ablation",
        "--train-size",
        "300",
        "--test-size",
        "200",
        "--epochs",
        "1",
        "--variants",
        "fixed-phase",
        "--no-progress",
    ]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--out", str(tmp_path / "b"), "--transform-test"]) == 0
    a = json.loads((tmp_path / "a" / "results.json").read_text())["runs"]["fixed-phase"]
    b = json.loads((tmp_path / "b" / "results.json").read_text())["runs"]["fixed-phase"]
    assert a["final_train_loss"] == b["final_train_loss"]  # same training
    assert a["final_test_loss"] != b["final_test_loss"]  # test images rotated by exp(0.5i) in b


def test_activation_comparison_has_no_nan(tmp_path):
    argv = [
        "run",
        "image-ablation",
        "--preset",
        "seed-activations",
        "--net",
        "mnist",
        "--out",
        str(tmp_path),
        "--train-size",
        "600",
        "--test-size",
        "200",
        "--epochs",
        "2",
        "--no-progress",
    ]
    assert main(argv) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["compared_metric"] == "mean_test_accuracy"
    assert list(results["runs"]) == PRESETS["seed-activations"]["activations"].split(",")
    for name, run in results["runs"].items():
        losses = [h["train_loss"] for h in run["history"]] + [
            h["eval_loss"] for h in run["history"]
        ]
        assert all(math.isfinite(v) for v in losses), name
        accs = [h["eval_accuracy"] for h in run["history"]]
        assert run["mean_test_accuracy"] == pytest.approx(sum(accs) / len(accs))
        assert 0.2 < run["mean_test_accuracy"] <= 1.0, name  # a fraction above chance (0.1)


def test_every_key_of_results_json_is_documented(variants_run):
    _, results = variants_run
    assert undocumented_keys(results, "image-ablation.md", maps=("runs",)) == []
    assert set(results["units"]) == {"accuracy", "loss", "seconds", "parameters", "lr"}


def _fails(argv, capsys) -> str:
    """Run the command, expect exit status 2, return its error line."""
    try:
        code = main(argv)
    except SystemExit as stop:  # rejected while parsing the flags
        code = stop.code
    assert code == 2, argv
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--variants", "real,quaternion"], "--variants must be a comma list of real, complex"),
        (["--variants", "real,real"], "--variants must name each run once"),
        (["--activations", "crelu,tanh"], "--activations must be a comma list"),
        (["--epochs", "0"], "--epochs must be a positive integer, got 0"),
        (["--lr", "-1"], "--lr must be a positive number, got -1"),
        (["--momentum", "1"], "--momentum must be a number in [0, 1), got 1"),
        (["--batch-size", "0"], "--batch-size must be a positive integer"),
        (["--train-size", "0"], "--train-size must be a positive integer"),
        (["--train-size", "5000"], "--train-size must be in 1..4000"),  # the embedded digits
        (["--test-size", "1001"], "--test-size must be in 1..1000"),
        (["--preset", "seed-activations", "--variants", "real"], "--variants applies to"),
        (["--compare", "activations", "--transform-test"], "--transform-test applies to"),
        (["--activations", "crelu"], "--activations applies to --compare activations"),
    ],
)
def test_bad_flags_stop_before_any_work(tmp_path, capsys, flags, message):
    out = tmp_path / "out"
    err = _fails(["run", "image-ablation", "--out", str(out), *flags], capsys)
    assert f"phasor: error: {message}" in err
    assert not out.exists()


def _run(out, epochs, *extra, variant="fixed-phase", size=256):
    argv = ["run", "image-ablation", "--out", str(out), "--seed", "3", "--train-size", str(size)]
    argv += ["--test-size", "64", "--variants", variant, "--epochs", str(epochs), "--no-progress"]
    return main([*argv, *extra])


def _steps(out, run="fixed-phase"):
    with open(out / "steps.csv") as fh:
        return [float(r["train_loss"]) for r in csv.DictReader(fh) if r["run"] == run]


def _results(out):
    return json.loads((out / "results.json").read_text())


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """Two epochs in one go: what every resumed run below must reproduce."""
    out = tmp_path_factory.mktemp("straight")
    assert _run(out, 2) == 0
    return out


def test_resume_continues_exactly_and_refuses_other_settings(straight, tmp_path, capsys):
    keys = ("train_loss", "eval_loss", "eval_accuracy")
    out = tmp_path / "stopped"
    assert _run(out, 1) == 0
    stopped = _results(out)["runs"]["fixed-phase"]["history"]
    assert _run(out, 2, "--resume") == 0  # one more epoch for a finished run
    resumed = _results(out)["runs"]["fixed-phase"]
    expected = _results(straight)["runs"]["fixed-phase"]["history"]
    assert [[h[k] for k in keys] for h in resumed["history"]] == [
        [h[k] for k in keys] for h in expected
    ]
    assert resumed["history"][0] == stopped[0]  # epoch 1 read back (timing too), not retrained
    assert resumed["resumes"] == [{"at_epoch": 1, "changed": {"epochs": [1, 2]}}]
    assert _steps(out) == _steps(straight)  # every batch loss, epoch 1's read back
    assert "resumes" not in _results(straight)["runs"]["fixed-phase"]
    assert undocumented_keys(_results(out), "image-ablation.md", maps=("runs",)) == []

    # Issue 13: a finished run resumed with other settings printed its old accuracies and
    # wrote a results.json claiming the new settings.
    capsys.readouterr()
    before = (out / "results.json").read_text()
    assert _run(out, 2, "--resume", size=100) == 2
    err = capsys.readouterr().err
    assert "phasor: error:" in err and "train_size: 256 in the checkpoint, 100 now" in err
    assert (out / "results.json").read_text() == before


def test_interrupted_run_resumes_with_every_batch_loss(straight, tmp_path, monkeypatch):
    calls = []

    def interrupting(name):
        rotate = variant_transform(name)

        def transform(x):
            calls.append(1)
            if len(calls) == 6:  # epoch 2, batch 2 of 4
                raise KeyboardInterrupt
            return rotate(x)

        return transform

    out = tmp_path / "cut"
    monkeypatch.setattr(image_ablation, "variant_transform", interrupting)
    assert _run(out, 2) == 130
    monkeypatch.undo()
    assert _run(out, 2, "--resume") == 0
    assert _steps(out) == _steps(straight)  # 8 batch losses: epoch 1 saved, epoch 2 retrained
    history = _results(out)["runs"]["fixed-phase"]["history"]
    assert [h["train_loss"] for h in history] == [
        h["train_loss"] for h in _results(straight)["runs"]["fixed-phase"]["history"]
    ]


def test_batch_losses_of_another_run_are_refused(tmp_path, capsys):
    assert _run(tmp_path / "a", 1) == 0
    assert _run(tmp_path / "b", 1, size=128) == 0
    losses = "runs/fixed-phase/batch_losses.json"
    shutil.copy(tmp_path / "b" / losses, tmp_path / "a" / losses)
    capsys.readouterr()
    assert _run(tmp_path / "a", 2, "--resume") == 2
    err = capsys.readouterr().err
    assert "batch_losses.json was written by a run with other settings" in err
