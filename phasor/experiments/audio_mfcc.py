"""Study ``audio-mfcc``: real vs complex MFCCs into real vs complex networks (seed 003, exp. 2).

Three pipelines on the same clips, features, epochs, optimiser and (about the same) number of
real parameters:

- ``real-mfcc/real-net``: real MFCCs into a real 1-D CNN over time;
- ``real-mfcc/complex-net``: the same real MFCCs (imaginary part 0) into the complex twin of that CNN;
- ``complex-mfcc/complex-net``: complex MFCCs ([`phasor.audio.complex_mfcc`][phasor.audio.features.complex_mfcc]; real part = the real MFCCs, imaginary
  part = DCT of the mel-band phases) into the complex CNN.

Each runs on every task of ``--tasks`` (``multi``: all classes, ``binary``: the first two).
With ``--seeds`` every pipeline runs once per seed (its own split) and ``results.json`` holds
the mean, spread and paired differences. Writes ``results.json``, ``seeds.csv``,
``summary.csv``, ``<task>_curves.png/.csv`` and ``<task>_confusion.png``; on
``synthetic-phase`` also ``phase_pair.png`` (magnitudes and band phases of one test pair).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import torch
from torch import nn
from torch.utils.data import TensorDataset

import phasor.nn as cnn
from phasor.audio import complex_mel_spectrum, stft
from phasor.experiments import register
from phasor.experiments._audio_common import (
    UNITS,
    add_audio_arguments,
    check_audio_flags,
    compare_over_seeds,
    standardize,
)
from phasor.experiments._flags import FlagError, positive_int
from phasor.plotting import new_figure, save_figure

PIPELINES = ("real-mfcc/real-net", "real-mfcc/complex-net", "complex-mfcc/complex-net")
# the paired differences results.json reports: complex net on real MFCCs vs the real net
# (the seed's "slight" gain), complex MFCCs vs real MFCCs into the same complex net
COMPARISONS = (
    ("real-mfcc/complex-net", "real-mfcc/real-net"),
    ("complex-mfcc/complex-net", "real-mfcc/complex-net"),
)
EXPECT = {
    "synthetic": "the three pipelines about equal (about 0.9 on 10 classes at the default "
    "flags, 0.95-1 binary); with few clips or epochs, lower and noisier",
    "synthetic-phase": "the real-MFCC pipelines at 0.500 exactly (the classes differ only in "
    "phase); complex MFCCs into the complex net well above (about 0.9 at the default flags)",
}
ACTIVATIONS = {"crelu": cnn.CReLU, "cardioid": cnn.Cardioid, "zrelu": cnn.ZReLU}


class RealMFCCNet(nn.Module):
    """Conv1d(Q, w, 3) - ReLU - Conv1d(w, w, 3) - ReLU - mean over time - Linear(w, K).

    Shape: input $(B, T_f, Q)$ real; output $(B, K)$ logits.
    """

    def __init__(self, n_mfcc: int, width: int, num_classes: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(n_mfcc, width, 3, padding=1)
        self.conv2 = nn.Conv1d(width, width, 3, padding=1)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv1(x.transpose(1, 2)))
        h = torch.relu(self.conv2(h))
        return self.head(h.mean(dim=-1))


class ComplexMFCCNet(nn.Module):
    """The complex twin of `RealMFCCNet`: complex convolutions, a complex activation,
    complex mean over time, complex linear head; class scores are the moduli of its outputs.

    Shape: input $(B, T_f, Q)$ complex; output $(B, K)$ complex logits.
    """

    def __init__(self, n_mfcc: int, width: int, num_classes: int, activation: str) -> None:
        super().__init__()
        self.conv1 = cnn.Conv1d(n_mfcc, width, 3, padding=1)
        self.conv2 = cnn.Conv1d(width, width, 3, padding=1)
        self.act = ACTIVATIONS[activation]()
        self.head = cnn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.conv1(x.transpose(1, 2)))
        h = self.act(self.conv2(h))
        return self.head(h.mean(dim=-1))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_audio_arguments(parser, epochs=30, lr=3e-3)
    parser.add_argument(
        "--width",
        type=positive_int,
        default=32,
        help="channels of the real net; the complex nets use round(width / sqrt(2))",
    )
    parser.add_argument(
        "--activation",
        choices=sorted(ACTIVATIONS),
        default="crelu",
        help="activation of the complex nets",
    )
    parser.add_argument(
        "--pipelines", default=",".join(PIPELINES), help="comma list of the pipelines to run"
    )


def parse_pipelines(text: str) -> list[str]:
    """The names in ``--pipelines``; `FlagError` for an empty list or an unknown name."""
    pipelines = list(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    if not pipelines or any(p not in PIPELINES for p in pipelines):
        raise FlagError(
            "--pipelines", f"must be a comma list of {', '.join(PIPELINES)}; got {text!r}"
        )
    return pipelines


def check(args: argparse.Namespace) -> None:
    """Reject bad flag combinations before any work (`FlagError`)."""
    check_audio_flags(args)
    parse_pipelines(args.pipelines)


def _build(pipeline: str, args: argparse.Namespace, k: int) -> tuple[nn.Module, Any]:
    if pipeline == "real-mfcc/real-net":
        return RealMFCCNet(args.n_mfcc, args.width, k), nn.functional.cross_entropy
    width = max(1, round(args.width / math.sqrt(2)))
    return ComplexMFCCNet(args.n_mfcc, width, k, args.activation), cnn.ComplexCrossEntropyLoss()


def plot_phase_pair(args: argparse.Namespace, data) -> None:
    """``phase_pair.png``: |STFT| and mel-band phases of the first cosine/sine test pair."""
    c = data.test_audio[data.test_labels == 0][0]
    s = data.test_audio[data.test_labels == 1][0]
    fig, axes = new_figure(2, 2, size=(11, 7), sharex=True)
    for col, (name, x) in enumerate((("cosine-phase", c), ("sine-phase", s))):
        mag = stft(x, args.n_fft, args.hop_length).abs()
        _, z = complex_mel_spectrum(x, data.sample_rate, args.n_fft, args.hop_length, args.n_mels)
        top = axes[0][col].imshow(torch.log10(mag.T + 1e-6), aspect="auto", origin="lower")
        fig.colorbar(top, ax=axes[0][col]).set_label("log10 |STFT|", fontsize=10)
        axes[0][col].set_title(f"{name} clip: log10 |STFT|", fontsize=11)
        axes[0][col].set_ylabel("DFT bin", fontsize=10)
        bottom = axes[1][col].imshow(
            z.angle().T,
            aspect="auto",
            origin="lower",
            cmap="twilight",
            vmin=-math.pi,
            vmax=math.pi,
            interpolation="nearest",
        )
        bar = fig.colorbar(
            bottom, ax=axes[1][col], ticks=[-math.pi, -math.pi / 2, 0, math.pi / 2, math.pi]
        )
        bar.ax.set_yticklabels(["-π", "-π/2", "0", "π/2", "π"])
        bar.set_label("phase (rad)", fontsize=10)
        axes[1][col].set_title(f"{name} clip: mel-band phase arg Z", fontsize=11)
        axes[1][col].set_ylabel("mel band", fontsize=10)
        axes[1][col].set_xlabel("frame", fontsize=10)
    fig.suptitle(
        "audio-mfcc, synthetic-phase: one test pair. Equal magnitudes (top), "
        "band phases shifted by -π/2 (bottom)",
        fontsize=12,
    )
    save_figure(fig, args.out / "phase_pair.png")


def run(args: argparse.Namespace) -> dict[str, Any]:
    pipelines = parse_pipelines(args.pipelines)
    first: dict[str, Any] = {}

    def prepare(data, train_c: torch.Tensor, test_c: torch.Tensor):
        train_c, test_c = standardize(train_c, test_c)
        inputs = {
            "real-mfcc/real-net": (train_c.real.contiguous(), test_c.real.contiguous()),
            "real-mfcc/complex-net": (train_c.real.to(train_c.dtype), test_c.real.to(test_c.dtype)),
            "complex-mfcc/complex-net": (train_c, test_c),
        }
        first.setdefault("data", data)

        def build(pipeline: str, tr: torch.Tensor, te: torch.Tensor, k: int):
            model, loss_fn = _build(pipeline, args, k)
            x_tr, x_te = inputs[pipeline]
            train_set = TensorDataset(x_tr[tr], data.train_labels[tr])
            return model, loss_fn, train_set, TensorDataset(x_te[te], data.test_labels[te])

        return build, {"feature_shape": list(train_c.shape[1:])}

    results = compare_over_seeds(args, pipelines, prepare, "audio-mfcc", EXPECT, COMPARISONS)
    results["feature_shape"] = results.pop("extras")[0]["feature_shape"]
    results["units"] = UNITS
    if results["dataset"] == "synthetic-phase":
        plot_phase_pair(args, first["data"])
    return results


register(
    "audio-mfcc",
    help="real vs complex MFCCs into real vs complex networks (synthetic, GTZAN, drum hits)",
    add_arguments=add_arguments,
    run=run,
    description=__doc__,
    check=check,
)
