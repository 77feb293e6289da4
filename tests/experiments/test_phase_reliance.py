import csv
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from phasor.cli import main
from phasor.experiments.phase_reliance import (
    CONDITIONS,
    MODELS,
    ComplexSpectrogramCNN,
    RealSpectrogramCNN,
    condition_phases,
    matched_widths,
    model_input,
)
from phasor.models import count_parameters

# The positive control at a small budget: 80 phase-only pairs of 0.128 s (20 test pairs).
CONTROL = ["--dataset", "synthetic", "--pairs", "80", "--clip-seconds", "0.128"]
CONTROL += ["--n-fft", "128", "--hop-length", "64", "--epochs", "8", "--seeds", "1"]


@pytest.fixture(scope="module")
def control(tmp_path_factory):
    out = tmp_path_factory.mktemp("control")
    assert main(["run", "phase-reliance", "--out", str(out), "--seed", "0", *CONTROL]) == 0
    return out, json.loads((out / "results.json").read_text())


def test_positive_control_magnitude_at_chance_phase_models_drop_to_chance(control):
    # The two classes have equal STFT magnitudes: the magnitude model cannot beat chance; the
    # models that read the phase separate them, and lose that under uniform random phase.
    _, results = control
    runs = results["seeds"][0]["runs"]
    for condition in CONDITIONS:
        assert runs["real-magnitude"]["accuracy"][condition] <= 0.55
    for name in ("complex-stft", "real-re-im"):
        accuracy = runs[name]["accuracy"]
        assert accuracy["recorded"] >= 0.9, name
        assert accuracy["random-phase"] <= 0.7, name
        assert results["summary"][name]["drop"]["random-phase"]["mean"] >= 0.25, name


def test_magnitude_model_sees_the_same_input_under_every_condition(control):
    _, results = control
    accuracy = results["seeds"][0]["runs"]["real-magnitude"]["accuracy"]
    assert len(set(accuracy.values())) == 1
    assert all(d["mean"] == 0 for d in results["summary"]["real-magnitude"]["drop"].values())


def test_results_documented_parameters_matched_and_files_written(control):
    from _results_doc import undocumented_keys

    out, results = control
    assert undocumented_keys(results, "phase-reliance.md") == []
    params = [results["models"][m]["parameters"] for m in MODELS]
    assert max(params) <= 1.05 * min(params)
    assert results["parameter_spread"] == pytest.approx(max(params) / min(params) - 1)
    assert results["input_shape"] == [65, 15]  # n_fft 128: 65 bins; 1 + (1024 - 128) // 64
    seed = results["seeds"][0]
    assert seed["train_clips"] + seed["test_clips"] == 160
    for run in seed["runs"].values():
        for condition in CONDITIONS:
            m = np.asarray(run["confusion"][condition])
            assert m.sum() == seed["test_clips"]
            assert np.trace(m) / m.sum() == pytest.approx(run["accuracy"][condition])
    with (out / "accuracy.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(MODELS) * len(CONDITIONS)
    for row in rows:
        assert float(row["accuracy"]) == seed["runs"][row["model"]]["accuracy"][row["condition"]]
    with (out / "summary.csv").open() as f:
        assert len(list(csv.DictReader(f))) == len(MODELS) * len(CONDITIONS)
    for name in ("accuracy.png", "confusion.png"):
        assert (out / name).stat().st_size > 0


def test_swapped_phase_is_one_cycle_and_random_phase_is_uniform():
    phase = torch.rand(50, 3, 4) * 2 * math.pi - math.pi
    phases, donor = condition_phases(phase, seed=3)
    assert torch.equal(phases["recorded"], phase)
    # one cycle through all clips: following donors from clip 0 visits every clip once
    seen, i = [], 0
    for _ in range(50):
        seen.append(i)
        i = donor[i]
    assert sorted(seen) == list(range(50)) and i == 0
    assert torch.equal(phases["swapped-phase"], phase[torch.from_numpy(donor)])
    u = phases["random-phase"]
    assert u.min() >= -math.pi and u.max() <= math.pi
    assert abs(float(u.mean())) < 0.2 and float(u.std()) == pytest.approx(math.pi / 3**0.5, 0.1)
    again, donor_again = condition_phases(phase, seed=3)
    assert torch.equal(again["random-phase"], u) and np.array_equal(donor_again, donor)


def test_every_model_input_keeps_the_magnitude():
    magnitude = torch.rand(4, 6, 5) + 0.1
    phase = torch.rand(4, 6, 5) * 6 - 3
    z = model_input("complex-stft", magnitude, phase)
    assert z.shape == (4, 1, 6, 5) and z.is_complex()
    assert torch.allclose(z.abs()[:, 0], magnitude) and torch.allclose(z.angle()[:, 0], phase)
    assert torch.equal(model_input("real-magnitude", magnitude, phase)[:, 0], magnitude)
    re_im = model_input("real-re-im", magnitude, phase)
    assert re_im.shape == (4, 2, 6, 5)
    assert torch.allclose(re_im[:, 0], magnitude * torch.cos(phase))
    assert torch.allclose(re_im.square().sum(dim=1).sqrt(), magnitude)


@pytest.mark.parametrize("width", [4, 8])
def test_real_widths_match_the_complex_parameter_count_within_5_percent(width):
    target = count_parameters(ComplexSpectrogramCNN((width, 2 * width, 2 * width), 7))
    for channels in (1, 2):
        n = count_parameters(RealSpectrogramCNN(channels, matched_widths(channels, target, 7), 7))
        assert abs(n - target) <= 0.05 * target


def test_models_reject_the_wrong_input_and_classify_both_dtypes():
    real = RealSpectrogramCNN(2, (3, 4, 4), 5)
    cplx = ComplexSpectrogramCNN((2, 3, 3), 5, activation="modrelu", dtype=torch.complex128)
    with pytest.raises(ValueError, match=r"\(N, C, F, T\)"):
        real(torch.zeros(2, 2, 9, 9, dtype=torch.complex64))
    with pytest.raises(ValueError, match=r"complex \(N, 1, F, T\)"):
        cplx(torch.zeros(2, 1, 9, 9))
    assert real(torch.randn(2, 2, 9, 9)).shape == (2, 5)
    out = cplx(torch.randn(2, 1, 9, 9, dtype=torch.complex128))
    assert out.shape == (2, 5) and out.dtype == torch.complex128


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # the parser rejects a value itself
        return exc.code


@pytest.mark.parametrize(
    ("flags", "flag"),
    [
        (["--epochs", "0"], "--epochs"),
        (["--seeds", "0"], "--seeds"),
        (["--lr", "0"], "--lr"),
        (["--pairs", "2"], "--pairs"),
        (["--n-fft", "8"], "--n-fft"),
        (["--hop-length", "600"], "--hop-length"),  # more than --n-fft 512
        (["--clip-seconds", "0.05"], "--clip-seconds"),  # fewer than 8 frames
        (["--dataset", "synthetic", "--n-fft", "200"], "--n-fft"),  # not a multiple of 128
        (["--dataset", "synthetic", "--hop-length", "32", "--n-fft", "64"], "--hop-length"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag_before_any_work(tmp_path, capsys, flags, flag):
    out = tmp_path / "out"
    assert _exit_code(["run", "phase-reliance", "--out", str(out), *flags]) == 2
    assert f"phasor: error: {flag} " in capsys.readouterr().err
    assert not out.exists()


def test_missing_drums_folder_is_a_data_error_naming_what_chose_it(tmp_path, capsys):
    argv = ["run", "phase-reliance", "--out", str(tmp_path / "o"), "--data-dir"]
    assert main([*argv, str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "drums folder" in err and "--data-dir chose it" in err


def _write_kits(root: Path) -> None:
    import soundfile

    rng = np.random.default_rng(0)
    t = np.arange(1200) / 22050
    for c, (name, f) in enumerate((("kick", 80.0), ("hihat", 6000.0))):
        (root / name).mkdir(parents=True)
        for kit in ("Alpha", "Beta", "Gamma", "Delta"):
            for layer in range(3):
                x = np.sin(2 * np.pi * f * t) * np.exp(-t * (30 + 10 * c))
                x = 0.5 * x + 0.01 * rng.standard_normal(t.size)
                soundfile.write(root / name / f"{kit}__{name}__{layer}.wav", x, 22050)


def test_drums_layout_holds_whole_kits_out(tmp_path):
    root = tmp_path / "drums"
    _write_kits(root)
    out = tmp_path / "run"
    argv = ["run", "phase-reliance", "--out", str(out), "--data-dir", str(root)]
    argv += ["--clip-seconds", "0.02", "--n-fft", "64", "--hop-length", "32", "--epochs", "1"]
    assert main([*argv, "--seeds", "2"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["classes"] == ["hihat", "kick"] and results["class_counts"] == [12, 12]
    assert results["clip_samples"] == 441 and results["sample_rate"] == 22050
    for seed in results["seeds"]:
        test_kits = set(seed["test_groups"])
        assert test_kits and test_kits < {"Alpha", "Beta", "Gamma", "Delta"}
        assert seed["test_clips"] == 6 * len(test_kits)  # every clip of a test kit, no other


DRUMS = Path(os.environ.get("PHASOR_DATA", "/work/shared/data")) / "drums"


@pytest.mark.skipif(not DRUMS.is_dir(), reason=f"the drum recordings are not in {DRUMS}")
def test_runs_on_the_recorded_drums(tmp_path):
    out = tmp_path / "drums"
    argv = ["run", "phase-reliance", "--out", str(out), "--data-dir", str(DRUMS)]
    argv += ["--clip-seconds", "0.05", "--n-fft", "128", "--hop-length", "64", "--epochs", "1"]
    assert main([*argv, "--seeds", "1"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert sum(results["class_counts"]) == 597 and len(results["classes"]) == 7
    seed = results["seeds"][0]
    assert seed["train_clips"] + seed["test_clips"] == 597
    assert 2 <= len(seed["test_groups"]) <= 12
