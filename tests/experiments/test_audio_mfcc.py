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


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # the parser rejects a value itself
        return exc.code


@pytest.mark.parametrize(
    ("flags", "flag"),
    [
        (["--pipelines", "wavelets"], "--pipelines"),
        (["--pipelines", ","], "--pipelines"),
        (["--tasks", "ternary"], "--tasks"),
        (["--width", "0"], "--width"),
        (["--lr", "-1"], "--lr"),
        (["--epochs", "0"], "--epochs"),
        (["--clips-per-class", "0"], "--clips-per-class"),  # all clips: gtzan only
        (["--clips-per-class", "1"], "--clips-per-class"),  # cannot be split
        (["--n-mfcc", "30"], "--n-mfcc"),  # more than --n-mels 26
        (["--duration", "0.01"], "--duration"),  # 80 samples, shorter than --n-fft 256
        (["--n-fft", "1"], "--n-fft"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag_before_any_work(tmp_path, capsys, flags, flag):
    out = tmp_path / "out"
    assert _exit_code(["run", "audio-mfcc", "--out", str(out), *flags]) == 2
    assert f"phasor: error: {flag} " in capsys.readouterr().err
    assert not out.exists()


def test_missing_gtzan_is_a_data_error(tmp_path, capsys):
    args = ["run", "audio-mfcc", "--out", str(tmp_path / "o"), "--dataset", "gtzan"]
    assert main([*args, "--data-dir", str(tmp_path / "missing")]) == 2
    assert "--data-dir chose it" in capsys.readouterr().err


def _record_figures(monkeypatch):
    """Replace save_figure in the audio studies by one that also notes what each figure shows."""
    from phasor.experiments import _audio_common

    seen = {}
    original = _audio_common.save_figure

    def save(fig, path):
        panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
        seen[path.name] = {
            "title": fig._suptitle.get_text() if fig._suptitle else "",
            "legends": [ax.get_legend() is not None for ax in panels if ax.lines],
            "colorbars": [im.colorbar is not None for ax in panels for im in ax.images],
        }
        return original(fig, path)

    monkeypatch.setattr(_audio_common, "save_figure", save)
    return seen


def test_tiny_run_is_documented_readable_and_summarised(tmp_path, monkeypatch, capsys):
    from _results_doc import undocumented_keys

    figures = _record_figures(monkeypatch)
    out = tmp_path / "tiny"
    argv = ["run", "audio-mfcc", "--out", str(out), "--clips-per-class", "2", "--epochs", "1"]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    maps = ("tasks", "tasks.*", "differences", "differences.*")
    assert undocumented_keys(results, "audio.md", maps=maps) == []
    assert set(results["units"]) >= {"test_accuracy", "parameters", "sample_rate"}
    for task in results["tasks"].values():
        for run in task.values():
            assert 0 <= run["test_accuracy"] <= 1 and 0 <= run["train_accuracy"] <= 1
    # figures: a title naming study, task and data; a legend in every panel with curves;
    # a colour bar beside every confusion matrix
    for name, task in (("multi", "10-class"), ("binary", "binary (drone vs pulse)")):
        for kind in ("curves", "confusion"):
            title = figures[f"{name}_{kind}.png"]["title"]
            assert "audio-mfcc" in title and task in title and "synthetic" in title
        assert figures[f"{name}_curves.png"]["legends"] == [True] * 4
        assert figures[f"{name}_confusion.png"]["colorbars"] == [True] * 3
    # console: the headline table, one row per pipeline, with chance
    printed = capsys.readouterr().out
    assert "test accuracy after epoch 1" in printed and "chance" in printed
    table = printed[printed.index("test accuracy after epoch 1") :]
    assert all(p in table for p in ("real-mfcc/real-net", "complex-mfcc/complex-net"))


def test_a_diverging_run_stops_naming_run_and_lr(tmp_path, capsys):
    argv = ["run", "audio-mfcc", "--out", str(tmp_path / "d"), "--clips-per-class", "2"]
    argv += ["--epochs", "2", "--tasks", "binary", "--lr", "1e30"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "real-mfcc/real-net" in err and "diverged" in err and "--lr (now 1e+30)" in err


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


DRUM_CLASSES = ("kick", "snare", "hihat", "tom", "cymbal", "percussion", "clap")


def _write_drums(root, kits=4, layers=2, seconds=0.2):
    """A tiny drums layout: every class in every kit, ``KIT__INSTRUMENT__LAYER.wav``."""
    import numpy as np
    import soundfile

    rng = np.random.default_rng(0)
    t = np.arange(round(seconds * 22050)) / 22050
    for c, name in enumerate(DRUM_CLASSES):
        (root / name).mkdir(parents=True)
        for k in range(kits):
            for layer in range(layers):
                tone = np.sin(2 * np.pi * (80 + 150 * c + 7 * k) * t) * np.exp(-t * (5 + 3 * c))
                x = 0.3 * tone + 0.02 * (layer + 1) * rng.standard_normal(len(t))
                soundfile.write(root / name / f"Kit{k}__{name.title()}__{layer}.wav", x, 22050)


def test_drums_end_to_end_over_seeds_with_kits_held_out(tmp_path, monkeypatch):
    import csv

    from _results_doc import undocumented_keys

    root = tmp_path / "data" / "drums"
    _write_drums(root)
    (root / "tom" / "Kit1__Tom__5.wav").write_bytes(b"not audio")
    monkeypatch.setenv("PHASOR_DATA", str(tmp_path / "data"))
    out = tmp_path / "run"
    argv = ["run", "audio-mfcc", "--out", str(out), "--dataset", "drums", "--seeds", "2"]
    argv += ["--epochs", "2", "--n-fft", "512", "--hop-length", "256", "--width", "8"]
    with pytest.warns(UserWarning, match="Kit1__Tom__5"):
        assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["dataset"] == "drums" and results["holdout"] == "kits"
    assert results["seeds"] == [0, 1] and results["classes"][:2] == ["kick", "snare"]
    assert len(results["skipped_files"]) == 1 and "Kit1__Tom__5.wav" in results["skipped_files"][0]
    maps = ("tasks", "tasks.*", "differences", "differences.*")
    assert undocumented_keys(results, "audio.md", maps=maps) == []
    # one kit of four on the test side (a quarter of the clips), every clip used once a seed
    for split in results["splits"]:
        assert len(split["test_kits"]) == 1
        assert split["train_clips"] + split["test_clips"] == 7 * 4 * 2
    test_clips = sum(s["test_clips"] for s in results["splits"])
    binary_test = 0
    for task, runs in results["tasks"].items():
        for run in runs.values():
            acc = run["spread"]["test_accuracy"]
            assert len(acc["per_seed"]) == 2
            assert acc["min"] <= acc["mean"] <= acc["max"]
            assert acc["mean"] == pytest.approx(run["test_accuracy"])
            assert acc["mean"] == pytest.approx(sum(acc["per_seed"]) / 2)
            confusion = sum(map(sum, run["confusion"]))
            if task == "multi":
                assert confusion == test_clips  # summed over both seeds' test sets
            else:
                binary_test = confusion
    assert 0 < binary_test < test_clips
    diff = results["differences"]["multi"]["complex-mfcc/complex-net - real-mfcc/complex-net"]
    per = results["tasks"]["multi"]
    expected = [
        a - b
        for a, b in zip(
            per["complex-mfcc/complex-net"]["spread"]["test_accuracy"]["per_seed"],
            per["real-mfcc/complex-net"]["spread"]["test_accuracy"]["per_seed"],
            strict=True,
        )
    ]
    assert diff["per_seed"] == pytest.approx(expected)
    assert diff["wins"] == sum(d > 0 for d in expected)
    with open(out / "seeds.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 2 * 3 and {r["seed"] for r in rows} == {"0", "1"}
    with open(out / "summary.csv") as f:
        summary = list(csv.DictReader(f))
    assert {r["comparison"] for r in summary} >= {*per, *results["differences"]["multi"]}
    for name in ("multi_curves.png", "multi_confusion.png", "binary_confusion.png"):
        assert (out / name).exists()


def test_drums_bad_file_can_stop_the_run_and_kits_need_drums(tmp_path, capsys):
    root = tmp_path / "drums"
    _write_drums(root, kits=2, layers=1)
    (root / "clap" / "Kit0__Clap__9.wav").write_bytes(b"")
    argv = ["run", "audio-mfcc", "--out", str(tmp_path / "o"), "--dataset", "drums"]
    argv += ["--data-dir", str(root), "--on-bad-file", "raise", "--epochs", "1"]
    assert main(argv) == 2
    assert "Kit0__Clap__9.wav" in capsys.readouterr().err
    argv = ["run", "audio-mfcc", "--out", str(tmp_path / "p"), "--holdout", "kits"]
    assert _exit_code(argv) == 2
    assert "phasor: error: --holdout kits needs --dataset drums" in capsys.readouterr().err
    argv = ["run", "audio-mfcc", "--out", str(tmp_path / "q"), "--dataset", "drums"]
    assert main([*argv, "--data-dir", str(tmp_path / "none")]) == 2
    assert "--data-dir chose it" in capsys.readouterr().err
    for bad in ("0", "1,1", "x", "-3,"):
        assert (
            _exit_code(["run", "audio-mfcc", "--out", str(tmp_path / "r"), f"--seeds={bad}"]) == 2
        )
        assert "phasor: error: --seeds " in capsys.readouterr().err
