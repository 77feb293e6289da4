"""Study image-ablation at a tiny budget on the embedded digits."""

import csv
import json
import math

import pytest
import torch

from phasor.cli import main
from phasor.experiments.image_ablation import PRESETS, build_model, variant_transform
from phasor.models.cnn import ComplexSeedCNN, RealSeedCNN

VARIANTS = "real,complex,fixed-phase,fixed-imag,random"


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
        assert run["final_test_accuracy"] > 60.0, (name, run["final_test_accuracy"])  # chance: 10%
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
    assert runs["real"]["seed_reported_accuracy"] == 98.93
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
        accs = [100 * h["eval_accuracy"] for h in run["history"]]
        assert run["mean_test_accuracy"] == pytest.approx(sum(accs) / len(accs))
        assert run["mean_test_accuracy"] > 20.0, name  # above chance (10%)


def test_bad_lists_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="--variants"):
        main(["run", "image-ablation", "--out", str(tmp_path), "--variants", "real,quaternion"])


def test_resume_continues_exactly(tmp_path):
    def run(out, epochs, *extra):
        argv = ["run", "image-ablation", "--out", str(out), "--seed", "3", "--train-size", "256"]
        argv += ["--test-size", "64", "--variants", "complex", "--epochs", str(epochs)]
        assert main([*argv, "--no-progress", *extra]) == 0
        return json.loads((out / "results.json").read_text())["runs"]["complex"]["history"]

    straight = run(tmp_path / "straight", 2)
    stopped = run(tmp_path / "stopped", 1)  # as if interrupted after the first epoch
    resumed = run(tmp_path / "stopped", 2, "--resume")
    keys = ("train_loss", "eval_loss", "eval_accuracy")
    assert [[h[k] for k in keys] for h in resumed] == [[h[k] for k in keys] for h in straight]
    assert resumed[0] == stopped[0]  # epoch 1 read back (its timing included), not trained again
    assert (tmp_path / "stopped" / "runs" / "complex" / "checkpoints").is_dir()
