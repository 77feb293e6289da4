import json
import math

import pytest
import torch

from phasor.audio import complex_mel_spectrum
from phasor.cli import main
from phasor.experiments.audio_gnn import GraphNet, phase_coherence, window_mask


def test_phase_coherence_properties():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(2, 7, 5, dtype=torch.complex128, generator=g)
    c = phase_coherence(z)
    torch.testing.assert_close(c, c.conj().transpose(-1, -2))
    assert float(c.abs().max()) <= 1 + 1e-12
    torch.testing.assert_close(
        c.diagonal(dim1=-2, dim2=-1).real, torch.ones(2, 7, dtype=torch.float64)
    )
    # reference: magnitude-weighted mean over bands of exp(i (phi_i - phi_j))
    phi, a = z.angle(), z.abs()
    w = a[:, :, None, :] * a[:, None, :, :]
    ref = (w * torch.exp(1j * (phi[:, :, None, :] - phi[:, None, :, :]))).sum(-1) / w.sum(-1)
    torch.testing.assert_close(c, ref)
    # phases equal in every band: coherence 1 whatever the magnitudes
    same_phase = torch.rand(1, 4, 5, dtype=torch.float64, generator=g) * torch.exp(1j * phi[:1, :1])
    torch.testing.assert_close(
        phase_coherence(same_phase).abs(), torch.ones(1, 4, 4, dtype=torch.float64)
    )
    # frames that differ by one common phase rotation are fully coherent
    rotated = z[:, :1] * torch.exp(1j * torch.linspace(0, 3, 7, dtype=torch.float64))[None, :, None]
    torch.testing.assert_close(
        phase_coherence(rotated).abs(), torch.ones(2, 7, 7, dtype=torch.float64)
    )


def test_coherence_is_blind_to_a_global_quadrature_shift():
    # the stated limit: a measure built from phase *differences* between frames cannot see
    # the cosine/sine-phase classes of synthetic-phase
    t = torch.arange(4096, dtype=torch.float64) / 8000
    f = torch.tensor([250.0, 875.0, 1500.0], dtype=torch.float64)[:, None]
    graphs = [
        phase_coherence(complex_mel_spectrum(fn(2 * math.pi * f * t).sum(0), 8000, 256, 128)[1])
        for fn in (torch.cos, torch.sin)
    ]
    torch.testing.assert_close(graphs[0], graphs[1], atol=1e-6, rtol=0)


def test_window_mask_and_graph_net():
    m = window_mask(5, 1)
    assert m.sum() == 8 and not m.diagonal().any()
    net = GraphNet(3, 4, 2, complex_net=True)
    x = torch.randn(2, 5, 3, dtype=torch.complex64)
    assert net(x, torch.ones(2, 5, 5, dtype=torch.complex64)).shape == (2, 2)


def test_study_runs_and_learns_synthetic_genres(tmp_path):
    out = tmp_path / "gnn"
    assert (
        main(
            [
                "run",
                "audio-gnn",
                "--out",
                str(out),
                "--dataset",
                "synthetic",
                "--seed",
                "0",
                "--clips-per-class",
                "12",
                "--epochs",
                "20",
                "--max-frames",
                "32",
                "--width",
                "16",
                "--tasks",
                "multi",
            ]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert set(results["tasks"]) == {"multi"}
    multi = results["tasks"]["multi"]
    assert set(multi) == {"no-phase", "phase-coherence", "complex-phase"}
    assert results["nodes_per_graph"] == 32
    # 10 classes, chance 0.1: every variant learns something from 9 clips per class
    assert all(r["best_test_accuracy"] >= 0.25 for r in multi.values())
    assert multi["no-phase"]["best_test_accuracy"] >= 0.35
    assert all(0 < v <= 1 for v in results["mean_edge_coherence"].values())
    for name in ("multi_curves.png", "multi_curves.csv", "multi_confusion.png"):
        assert (out / name).exists()


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # the parser rejects a value itself
        return exc.code


@pytest.mark.parametrize(
    ("flags", "flag"),
    [
        (["--width", "0"], "--width"),  # was a ZeroDivisionError in the weight init
        (["--max-frames", "0"], "--max-frames"),  # was reported as a diverged loss
        (["--max-frames", "1"], "--max-frames"),  # one node: no edge
        (["--radius", "0"], "--radius"),
        (["--clips-per-class", "0"], "--clips-per-class"),  # was "n_per_class must be ..."
        (["--duration", "0.04"], "--duration"),  # 320 samples: one STFT frame, no edge
        (["--lr", "0"], "--lr"),
        (["--batch-size", "0"], "--batch-size"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag_before_any_work(tmp_path, capsys, flags, flag):
    out = tmp_path / "out"
    assert _exit_code(["run", "audio-gnn", "--out", str(out), *flags]) == 2
    err = capsys.readouterr().err
    assert f"phasor: error: {flag} " in err and "Traceback" not in err
    assert not out.exists()


def test_tiny_run_is_documented_readable_and_summarised(tmp_path, monkeypatch, capsys):
    from _results_doc import undocumented_keys

    from phasor.experiments import _audio_common

    titles = {}
    original = _audio_common.save_figure

    def save(fig, path):
        panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
        titles[path.name] = fig._suptitle.get_text() if fig._suptitle else ""
        assert all(ax.get_legend() is not None for ax in panels if ax.lines)
        assert all(im.colorbar is not None for ax in panels for im in ax.images)
        return original(fig, path)

    monkeypatch.setattr(_audio_common, "save_figure", save)
    out = tmp_path / "tiny"
    argv = ["run", "audio-gnn", "--out", str(out), "--clips-per-class", "2", "--epochs", "1"]
    assert main([*argv, "--max-frames", "8", "--width", "4", "--tasks", "multi"]) == 0
    results = json.loads((out / "results.json").read_text())
    maps = ("tasks", "tasks.*", "mean_edge_coherence", "differences", "differences.*")
    assert undocumented_keys(results, "audio.md", maps=maps) == []
    assert "mean_edge_coherence" in results["units"]
    assert titles["multi_curves.png"].startswith("audio-gnn: 10-class task on synthetic")
    assert titles["multi_confusion.png"] == titles["multi_curves.png"].split("\n")[0]
    printed = capsys.readouterr().out
    table = printed[printed.index("test accuracy after epoch 1") :]
    assert all(v in table for v in ("no-phase", "phase-coherence", "complex-phase", "chance"))


def test_drums_end_to_end_over_seeds(tmp_path):
    import numpy as np
    import soundfile

    from phasor.audio import DRUMS_CLASSES

    root = tmp_path / "drums"
    t = np.arange(4410) / 22050
    for c, name in enumerate(DRUMS_CLASSES):
        (root / name).mkdir(parents=True)
        for k in range(4):
            x = 0.3 * np.sin(2 * np.pi * (80 + 150 * c + 7 * k) * t) * np.exp(-t * (5 + 3 * c))
            soundfile.write(root / name / f"Kit{k}__{name}__0.wav", x, 22050)
    out = tmp_path / "run"
    argv = ["run", "audio-gnn", "--out", str(out), "--dataset", "drums", "--data-dir", str(root)]
    argv += ["--seeds", "3,5", "--epochs", "1", "--n-fft", "512", "--hop-length", "256"]
    assert main([*argv, "--max-frames", "8", "--width", "4", "--tasks", "binary"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["seeds"] == [3, 5] and results["holdout"] == "kits"
    assert [len(s["test_kits"]) for s in results["splits"]] == [1, 1]
    assert set(results["tasks"]) == {"binary"} and results["nodes_per_graph"] == 8
    runs = results["tasks"]["binary"]
    diff = results["differences"]["binary"]["phase-coherence - no-phase"]
    a, b = (runs[n]["spread"]["test_accuracy"]["per_seed"] for n in ("phase-coherence", "no-phase"))
    assert diff["per_seed"] == pytest.approx([x - y for x, y in zip(a, b, strict=True)])
    assert set(results["mean_edge_coherence"]) == set(DRUMS_CLASSES)
    # binary = kick vs snare, one kit each of them per seed on the test side
    assert all(sum(map(sum, r["confusion"])) == 2 * 2 for r in runs.values())
