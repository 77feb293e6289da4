import json

import pytest

from phasor.cli import main


def test_complex_mfcc_beats_real_mfcc_on_the_phase_only_variant(tmp_path):
    # The two classes have equal magnitude spectrograms: the real-MFCC path sees identical
    # features for the two clips of every (paired) test pair, so it is at chance exactly.
    out = tmp_path / "phase"
    code = main(
        [
            "run",
            "audio-mfcc",
            "--out",
            str(out),
            "--seed",
            "0",
            "--dataset",
            "synthetic-phase",
            "--clips-per-class",
            "120",
            "--epochs",
            "15",
            "--pipelines",
            "real-mfcc/real-net,complex-mfcc/complex-net",
        ]
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    task = results["tasks"]["binary"]
    real = task["real-mfcc/real-net"]["test_accuracy"]
    cplx = task["complex-mfcc/complex-net"]["test_accuracy"]
    assert real <= 0.55
    assert cplx >= 0.75
    assert set(task) == {"real-mfcc/real-net", "complex-mfcc/complex-net"}
    for name in (
        "binary_curves.png",
        "binary_curves.csv",
        "binary_confusion.png",
        "phase_pair.png",
    ):
        assert (out / name).stat().st_size > 0


def test_all_pipelines_and_tasks_write_results(tmp_path):
    out = tmp_path / "syn"
    assert (
        main(
            [
                "run",
                "audio-mfcc",
                "--out",
                str(out),
                "--dataset",
                "synthetic",
                "--clips-per-class",
                "4",
                "--epochs",
                "2",
            ]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert set(results["tasks"]) == {"multi", "binary"}
    multi = results["tasks"]["multi"]
    assert set(multi) == {"real-mfcc/real-net", "real-mfcc/complex-net", "complex-mfcc/complex-net"}
    for r in multi.values():
        assert len(r["history"]) == 2
        assert len(r["confusion"]) == 10 and sum(map(sum, r["confusion"])) == 10
    assert len(results["tasks"]["binary"]["real-mfcc/real-net"]["confusion"]) == 2
    # at the default width the parameter budgets are matched to within 20 %
    params = [r["parameters"] for r in multi.values()]
    assert max(params) < 1.2 * min(params)
    for name in ("multi_curves.png", "multi_confusion.png", "binary_confusion.png"):
        assert (out / name).exists()


def test_bad_flags(tmp_path):
    with pytest.raises(ValueError, match="pipelines"):
        main(
            [
                "run",
                "audio-mfcc",
                "--out",
                str(tmp_path),
                "--clips-per-class",
                "2",
                "--pipelines",
                "wavelets",
            ]
        )
    assert (
        main(
            [
                "run",
                "audio-mfcc",
                "--out",
                str(tmp_path),
                "--dataset",
                "gtzan",
                "--data-dir",
                str(tmp_path / "missing"),
            ]
        )
        == 2
    )


def test_runs_on_a_gtzan_layout_and_reports_bad_files(tmp_path):
    import numpy as np
    import soundfile

    from phasor.audio import GTZAN_GENRES

    root = tmp_path / "gtzan"
    rng = np.random.default_rng(0)
    for g, genre in enumerate(GTZAN_GENRES):
        (root / genre).mkdir(parents=True)
        for i in range(3):
            t = np.arange(4410) / 22050
            x = 0.2 * np.sin(2 * np.pi * 100 * (g + 1) * t) + 0.01 * rng.standard_normal(4410)
            soundfile.write(root / genre / f"{genre}.{i:05d}.wav", x, 22050)
    (root / "jazz" / "jazz.00054.wav").write_bytes(b"not audio")
    out = tmp_path / "run"
    with pytest.warns(UserWarning, match="jazz.00054"):
        code = main(
            [
                "run",
                "audio-mfcc",
                "--out",
                str(out),
                "--dataset",
                "gtzan",
                "--data-dir",
                str(root),
                "--duration",
                "0.2",
                "--epochs",
                "1",
                "--tasks",
                "binary",
                "--pipelines",
                "complex-mfcc/complex-net",
            ]
        )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["sample_rate"] == 22050 and results["classes"][0] == "blues"
    assert len(results["skipped_files"]) == 1 and "jazz.00054.wav" in results["skipped_files"][0]
    assert results["train_clips"] + results["test_clips"] == 30
