r"""Study ``phase-reliance``: does a network trained on the complex STFT use the phase?

Three models see the same short-time Fourier transform $X = |X| e^{i\varphi}$ of each
clip, as a (frequency, time) picture $Z = \log(1 + |X|)\, e^{i\varphi} / s$ (magnitude
compressed by ``log1p``, phase kept; $s$ is the RMS of $\log(1 + |X|)$ over the
training clips):

- ``complex-stft``: a complex CNN (`phasor.nn` convolutions, complex batch norm by 2x2 whitening, CReLU
  or modReLU, max-pooling by magnitude) on $Z$ as one complex channel, trained with
  the cross-entropy of the logits' moduli;
- ``real-magnitude``: the real twin (`torch.nn`) on the magnitude $|Z|$ as one real channel;
- ``real-re-im``: the real twin on $(\operatorname{Re} Z, \operatorname{Im} Z)$ as two real channels.

The real nets' widths are chosen so their real parameter counts match the complex net's.
Every trained model is then scored on the test clips three ways: ``recorded`` (the phase as
recorded), ``random-phase`` ($\varphi$ replaced by independent uniform phases,
magnitude kept) and ``swapped-phase`` (the phase of another test clip, a fixed random pairing
that is one cycle through the test set, magnitude kept). The phase is replaced in the network
input, so the magnitude model sees the same input under every condition; the drop of the
others' accuracy measures how much they rely on the phase.

``--dataset drums``: real drum hits ([`phasor.audio.scan_class_folders`][phasor.audio.folders.scan_class_folders]), kits held out
([`phasor.audio.group_split`][phasor.audio.folders.group_split]: every kit is either in training or in test).
``--dataset synthetic``: the phase-only pairs of [`phasor.audio.synthetic_phase_pairs`][phasor.audio.synthetic.synthetic_phase_pairs]
(classes with equal magnitudes), the positive control: there the magnitude model is at chance
and the phase-reading models drop to chance under random phase.

Each of ``--seeds`` seeds (``--seed``, ``--seed + 1``, ...) draws its own split, initial
weights, batch order, random phases and phase pairing. Writes ``results.json``,
``accuracy.csv`` (one row per seed, model and condition), ``summary.csv`` (mean, spread and
drop per model and condition), ``accuracy.png`` and ``confusion.png``.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

import phasor.nn as cnn
from phasor.audio import (
    DRUMS_GROUP_PATTERN,
    drums_root,
    group_of,
    group_split,
    scan_class_folders,
    stft,
    synthetic_phase_pairs,
)
from phasor.audio.datasets import stratified_split
from phasor.data import DataError
from phasor.experiments import register
from phasor.experiments._flags import FlagError, integer, positive_float, positive_int
from phasor.io import write_csv
from phasor.models import count_parameters
from phasor.plotting import confusion_matrix, new_figure, save_figure
from phasor.train import TrainConfig, Trainer, TrainingError

DATASETS = ("drums", "synthetic")
MODELS = ("complex-stft", "real-magnitude", "real-re-im")
CONDITIONS = ("recorded", "random-phase", "swapped-phase")
ACTIVATIONS = ("crelu", "modrelu")
TEST_FRACTION = 0.25
SAMPLE_RATE = {"drums": 22050, "synthetic": 8000}
DEFAULTS = {  # n_fft, hop_length, clip_seconds
    "drums": (512, 256, 0.25),
    "synthetic": (256, 128, 1.024),
}
POOLED_BANDS = 4  # frequency bands kept by the last pooling (time is averaged out)
UNITS = {
    "sample_rate": "Hz",
    "clip_samples": "samples",
    "n_fft": "samples",
    "hop_length": "samples",
    "input_shape": "(frequency bins, frames)",
    "train_clips": "clips",
    "test_clips": "clips",
    "parameters": "real numbers (a complex parameter counts twice)",
    "accuracy": "fraction of the test clips, 0-1",
    "drop": "accuracy as recorded minus accuracy under the condition, fraction of the test clips",
    "donor_class_rate": "fraction of the test clips whose phase donor has another class that "
    "are predicted as the donor's class under swapped-phase, 0-1",
    "train_accuracy": "fraction of the training clips, 0-1 (running, during the last epoch)",
    "test_loss": "mean cross-entropy per test clip as recorded, nats",
    "confusion": "test clips (rows: true class, columns: predicted class)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default="drums",
        help="drums: real drum hits under --data-dir, kits held out; synthetic: two classes "
        "that differ only in phase (the positive control)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="drums folder with one sub-folder per class; default: $PHASOR_DATA/drums",
    )
    parser.add_argument(
        "--pairs",
        type=integer(4),
        default=200,
        help="synthetic: phase pairs (clips per class); a pair never straddles the split",
    )
    parser.add_argument(
        "--clip-seconds",
        type=positive_float,
        default=None,
        help="seconds per clip (longer clips are cut, shorter ones padded with zeros); "
        "default: 0.25 for drums (22,050 Hz), 1.024 for synthetic (8,000 Hz)",
    )
    parser.add_argument(
        "--n-fft",
        type=integer(16),
        default=None,
        help="STFT frame length (Hamming window); default: 512 for drums, 256 for synthetic "
        "(synthetic: a multiple of --hop-length)",
    )
    parser.add_argument(
        "--hop-length",
        type=positive_int,
        default=None,
        help="STFT hop, at most --n-fft; default: 256 for drums, 128 for synthetic",
    )
    parser.add_argument(
        "--width",
        type=positive_int,
        default=8,
        help="channels of the complex net's first convolution (then 2x, 2x); the real nets' "
        "widths are chosen to match its parameter count",
    )
    parser.add_argument(
        "--activation", choices=ACTIVATIONS, default="crelu", help="complex net's activation"
    )
    parser.add_argument("--epochs", type=positive_int, default=20, help="training epochs")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="clips per batch")
    parser.add_argument("--lr", type=positive_float, default=3e-3, help="Adam learning rate")
    parser.add_argument(
        "--seeds",
        type=integer(1, 100),
        default=3,
        help="training seeds --seed, --seed + 1, ...: each its own split, initial weights, "
        "batch order, random phases and phase pairing",
    )


def _settings(args: argparse.Namespace) -> tuple[int, int, float, int]:
    """``(n_fft, hop_length, clip_seconds, sample_rate)`` with the data set's defaults."""
    n_fft, hop, seconds = DEFAULTS[args.dataset]
    return (
        args.n_fft or n_fft,
        args.hop_length or hop,
        args.clip_seconds or seconds,
        SAMPLE_RATE[args.dataset],
    )


def _frames(samples: int, n_fft: int, hop: int) -> int:
    return 1 + (samples - n_fft) // hop


def check(args: argparse.Namespace) -> None:
    """Reject flag combinations before any work (`FlagError`)."""
    n_fft, hop, seconds, rate = _settings(args)
    if hop > n_fft:
        raise FlagError("--hop-length", f"must be at most --n-fft ({n_fft}), got {hop}")
    samples = round(seconds * rate)
    if samples < n_fft or _frames(samples, n_fft, hop) < 8:
        raise FlagError(
            "--clip-seconds",
            f"must give at least 8 STFT frames ({n_fft + 7 * hop} samples at {rate} Hz with "
            f"--n-fft {n_fft} --hop-length {hop}), got {samples} samples",
        )
    if args.dataset == "synthetic":
        if n_fft % hop:
            raise FlagError(
                "--n-fft",
                f"must be a multiple of --hop-length ({hop}) for --dataset synthetic (the "
                f"classes then have equal STFT magnitudes), got {n_fft}",
            )
        top = int(0.4 * hop)  # frame-synchronous partials j * rate / hop below 0.4 * rate
        if top < 18:
            raise FlagError(
                "--hop-length",
                f"must be at least 45 for --dataset synthetic (enough partials on the frame "
                f"grid), got {hop}",
            )


# ----------------------------------------------------------------------------- models


def _real_widths(widths: tuple[int, int, int]) -> tuple[int, int, int]:
    if len(widths) != 3 or min(widths) < 1:
        raise ValueError(f"widths must be three positive ints (c1, c2, c3), got {widths!r}")
    return tuple(int(w) for w in widths)  # type: ignore[return-value]


class RealSpectrogramCNN(nn.Module):
    r"""Real CNN over a (frequency, time) picture with ``in_channels`` real channels.

    ``conv 5x5 stride 2 - BN - ReLU - maxpool 2 - conv 3x3 - BN - ReLU - maxpool 2 - conv 3x3
    - BN - ReLU - average to 4 frequency bands x 1 - linear``.

    Args:
        in_channels: 1 (magnitude) or 2 (real and imaginary part).
        widths: channels ``(c1, c2, c3)`` of the three convolutions.
        num_classes: outputs.

    Shape:
        - Input: $(N, C_{in}, F, T)$ real, $F, T \ge 8$.
        - Output: $(N, \text{num\_classes})$ logits.
    """

    def __init__(self, in_channels: int, widths: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        c1, c2, c3 = self.widths = _real_widths(widths)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 5, stride=2, padding=2),
            nn.BatchNorm2d(c1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.BatchNorm2d(c2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1),
            nn.BatchNorm2d(c3),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d((POOLED_BANDS, 1)),
        )
        self.head = nn.Linear(POOLED_BANDS * c3, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_complex() or x.dim() != 4:
            raise ValueError(
                f"RealSpectrogramCNN takes a real (N, C, F, T) picture, got {tuple(x.shape)} "
                f"{x.dtype}"
            )
        return self.head(self.features(x).flatten(1))


class ComplexSpectrogramCNN(nn.Module):
    r"""The complex twin of `RealSpectrogramCNN` on one complex channel.

    Complex convolutions, [`ComplexBatchNorm2d`][phasor.nn.normalization.ComplexBatchNorm2d], CReLU or modReLU (one bias
    per channel), [`MaxPool2d`][phasor.nn.pooling.MaxPool2d] by magnitude, complex average to 4 frequency
    bands and a complex linear head; the class scores are the moduli of its outputs
    ([`ComplexCrossEntropyLoss`][phasor.nn.loss.ComplexCrossEntropyLoss]).

    Shape:
        - Input: $(N, 1, F, T)$ complex, $F, T \ge 8$.
        - Output: $(N, \text{num\_classes})$ complex logits.
    """

    def __init__(
        self,
        widths: tuple[int, int, int],
        num_classes: int,
        activation: str = "crelu",
        dtype: torch.dtype = torch.complex64,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}")
        c1, c2, c3 = self.widths = _real_widths(widths)

        def act(c: int) -> nn.Module:
            return cnn.CReLU() if activation == "crelu" else cnn.ModReLU(c, dtype=dtype)

        self.features = nn.Sequential(
            cnn.Conv2d(1, c1, 5, stride=2, padding=2, dtype=dtype),
            cnn.ComplexBatchNorm2d(c1, dtype=dtype),
            act(c1),
            cnn.MaxPool2d(2),
            cnn.Conv2d(c1, c2, 3, padding=1, dtype=dtype),
            cnn.ComplexBatchNorm2d(c2, dtype=dtype),
            act(c2),
            cnn.MaxPool2d(2),
            cnn.Conv2d(c2, c3, 3, padding=1, dtype=dtype),
            cnn.ComplexBatchNorm2d(c3, dtype=dtype),
            act(c3),
            cnn.AdaptiveAvgPool2d((POOLED_BANDS, 1)),
        )
        self.head = cnn.Linear(POOLED_BANDS * c3, num_classes, dtype=dtype)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if not z.is_complex() or z.dim() != 4:
            raise ValueError(
                f"ComplexSpectrogramCNN takes a complex (N, 1, F, T) picture, got "
                f"{tuple(z.shape)} {z.dtype}"
            )
        return self.head(self.features(z).flatten(1))


@functools.lru_cache(maxsize=64)
def matched_widths(in_channels: int, target: int, num_classes: int) -> tuple[int, int, int]:
    """Widths ``(c1, c2, c3)`` of a `RealSpectrogramCNN` whose real parameter count is
    closest to ``target`` (ties: the shape closest to ``c1 : c2 : c3 = 1 : 2 : 2``)."""
    base = max(1, round(math.sqrt(target / 110)))  # about 110 c1^2 parameters at 1 : 2 : 2
    best: tuple[int, int, tuple[int, int, int]] | None = None
    for c1 in range(max(1, base - 3), base + 4):
        span = range(max(1, 2 * c1 - 3), 2 * c1 + 4)
        for c2, c3 in itertools.product(span, span):
            widths = (c1, c2, c3)
            n = count_parameters(RealSpectrogramCNN(in_channels, widths, num_classes))
            key = (abs(n - target), abs(c2 - 2 * c1) + abs(c3 - 2 * c1), widths)
            best = key if best is None or key[:2] < best[:2] else best
    assert best is not None
    return best[2]


def build_model(name: str, args: argparse.Namespace, k: int) -> nn.Module:
    """Model ``name`` for ``k`` classes; the real ones matched to the complex one's size."""
    w = args.width
    complex_net = ComplexSpectrogramCNN((w, 2 * w, 2 * w), k, args.activation)
    if name == "complex-stft":
        return complex_net
    channels = 1 if name == "real-magnitude" else 2
    widths = matched_widths(channels, count_parameters(complex_net), k)
    return RealSpectrogramCNN(channels, widths, k)


# ----------------------------------------------------------------------------- data


@dataclass
class Clips:
    """All clips of the data set and the group (kit or pair) of each, before any split."""

    audio: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    classes: tuple[str, ...]
    sample_rate: int
    source: str
    skipped: list[str] = field(default_factory=list)
    loaded: Any = None  # the loader's own record (drums), for its split


def load_clips(args: argparse.Namespace) -> Clips:
    """The data set's clips at the flags' length (``--seed`` draws the synthetic pairs)."""
    _, hop, seconds, rate = _settings(args)
    samples = round(seconds * rate)
    if args.dataset == "synthetic":
        audio, labels = synthetic_phase_pairs(args.pairs, args.seed, rate, samples, hop)
        groups = np.tile(np.arange(args.pairs), 2)
        classes = ("cosine-phase", "sine-phase")
        return Clips(audio, labels, groups, classes, rate, "synthetic_phase_pairs")
    root, chosen_by = drums_root(args.data_dir)
    if not root.is_dir():
        raise DataError(
            f"drums folder {root} not found ({chosen_by} chose it); pass --data-dir FOLDER "
            "holding <class>/KIT__INSTRUMENT__LAYER.wav, or set $PHASOR_DATA to a data root "
            "holding a drums/ folder"
        )
    clips = scan_class_folders(root, sample_rate=rate, clip_samples=samples)
    groups = np.array([group_of(p, DRUMS_GROUP_PATTERN) for p in clips.paths])
    return Clips(
        clips.audio,
        clips.labels,
        groups,
        tuple(clips.classes),
        rate,
        f"{root} (chosen by {chosen_by})",
        list(clips.skipped),
        clips,
    )


def split(clips: Clips, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices: whole kits (drums) or whole pairs (synthetic) on one side."""
    if clips.loaded is not None:
        try:
            return group_split(
                clips.loaded, TEST_FRACTION, group_pattern=DRUMS_GROUP_PATTERN, seed=seed
            )
        except ValueError as err:
            raise DataError(f"cannot hold kits out of {clips.source}: {err}") from err
    return stratified_split(clips.labels, TEST_FRACTION, seed, clips.groups)


def log_spectra(audio: np.ndarray, n_fft: int, hop: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""``(log(1 + |X|), arg X)`` of the STFT, each $(N, F, T)$ float32."""
    x = stft(torch.from_numpy(audio), n_fft, hop).transpose(1, 2)
    return torch.log1p(x.abs()), x.angle()


def condition_phases(phase: torch.Tensor, seed: int) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    """The test phases of each condition and the donor of each clip under ``swapped-phase``
    (one random cycle through the clips, so no clip keeps its own phase)."""
    gen = torch.Generator().manual_seed(seed)
    n = phase.shape[0]
    order = torch.randperm(n, generator=gen)
    donor = torch.empty(n, dtype=torch.int64)
    donor[order] = order.roll(-1)
    uniform = (torch.rand(phase.shape, generator=gen) * 2 - 1) * math.pi
    phases = {"recorded": phase, "random-phase": uniform, "swapped-phase": phase[donor]}
    return phases, donor.numpy()


def model_input(name: str, magnitude: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
    """The picture a model sees: ``(N, C, F, T)`` from magnitude and phase ``(N, F, T)``."""
    if name == "complex-stft":
        return torch.polar(magnitude, phase).unsqueeze(1)
    if name == "real-magnitude":
        return magnitude.unsqueeze(1)
    return torch.stack((magnitude * torch.cos(phase), magnitude * torch.sin(phase)), dim=1)


# ----------------------------------------------------------------------------- runs


def _predict(model: nn.Module, x: torch.Tensor, batch: int) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        scores = torch.cat([model(x[i : i + batch]) for i in range(0, len(x), batch)])
    return (scores.abs() if scores.is_complex() else scores).argmax(dim=1).numpy()


def _confusion(truth: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (truth, pred), 1)
    return matrix


def run_seed(
    args: argparse.Namespace,
    clips: Clips,
    spectra: tuple[torch.Tensor, torch.Tensor],
    seed: int,
) -> tuple[dict[str, Any], dict[str, nn.Module]]:
    """Train the three models on one seed's split and score them under every condition.

    ``spectra`` is `log_spectra` of every clip; the magnitude is divided by its RMS
    over this seed's training clips.
    """
    train, test = split(clips, seed)
    k = len(clips.classes)
    magnitude, phase = spectra
    scale = magnitude[train].square().mean().sqrt().clamp_min(1e-12)
    magnitude = magnitude / scale
    y_train = torch.from_numpy(clips.labels[train])
    y_test = clips.labels[test]
    phases, donor = condition_phases(phase[test], seed)
    differs = y_test[donor] != y_test
    entry: dict[str, Any] = {
        "seed": seed,
        "train_clips": len(train),
        "test_clips": len(test),
        "test_groups": sorted({str(g) for g in clips.groups[test]}),
        "majority": float(np.bincount(y_test, minlength=k).max() / len(test)),
        "input_scale": float(scale),
        "runs": {},
    }
    models = {}
    for name in MODELS:
        torch.manual_seed(seed)
        models[name] = model = build_model(name, args, k)
        loss_fn = cnn.ComplexCrossEntropyLoss() if name == "complex-stft" else nn.CrossEntropyLoss()
        train_set = TensorDataset(model_input(name, magnitude[train], phase[train]), y_train)
        test_set = TensorDataset(
            model_input(name, magnitude[test], phase[test]), torch.from_numpy(y_test)
        )
        config = TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            optimizer="adam",
            lr=args.lr,
            seed=seed,
            progress=args.progress,
        )
        try:
            history = Trainer(model, loss_fn, train_set, test_set, config=config).fit()
        except TrainingError as err:
            raise TrainingError(
                f"phase-reliance, seed {seed}, {name}: {err}; the learning rate is --lr "
                f"(now {args.lr:g})"
            ) from err
        accuracy, confusion, predicted = {}, {}, {}
        for condition, p in phases.items():
            predicted[condition] = _predict(
                model, model_input(name, magnitude[test], p), args.batch_size
            )
            accuracy[condition] = float(np.mean(predicted[condition] == y_test))
            confusion[condition] = _confusion(y_test, predicted[condition], k)
        follows = predicted["swapped-phase"][differs] == y_test[donor][differs]
        entry["runs"][name] = {
            "accuracy": accuracy,
            "donor_class_rate": float(follows.mean()) if differs.any() else None,
            "train_accuracy": history[-1]["train_accuracy"],
            "test_loss": history[-1]["eval_loss"],
            "confusion": confusion,
        }
        cells = "  ".join(f"{c} {a:.3f}" for c, a in accuracy.items())
        print(f"[seed {seed}] {name}: {cells}")
    return entry, models


def summarize(seeds: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean, sample standard deviation, minimum and maximum over seeds of each model's
    accuracy under each condition, and of its drop from ``recorded``."""

    def stats(values: list[float]) -> dict[str, float]:
        a = np.asarray(values, dtype=float)
        std = float(a.std(ddof=1)) if len(a) > 1 else 0.0
        return {"mean": float(a.mean()), "std": std, "min": float(a.min()), "max": float(a.max())}

    out: dict[str, Any] = {}
    for name in MODELS:
        acc = {c: [s["runs"][name]["accuracy"][c] for s in seeds] for c in CONDITIONS}
        out[name] = {
            "accuracy": {c: stats(v) for c, v in acc.items()},
            "drop": {
                c: stats([r - v for r, v in zip(acc["recorded"], acc[c], strict=True)])
                for c in CONDITIONS[1:]
            },
        }
    return out


# ----------------------------------------------------------------------------- output

_COLOURS = {"recorded": "#1f77b4", "random-phase": "#ff7f0e", "swapped-phase": "#2ca02c"}
_HATCHES = {"recorded": "", "random-phase": "//", "swapped-phase": ".."}


def plot_accuracy(
    out: Path, seeds: list[dict[str, Any]], summary: dict, chance: float, majority: float, title
) -> Path:
    """Bars: mean test accuracy of each model under each condition, error bars one standard
    deviation over seeds, one dot per seed; chance (1/K) and the majority-class share."""
    fig, axes = new_figure(1, 1, size=(9, 5.2))
    ax = axes[0][0]
    width = 0.26
    for j, condition in enumerate(CONDITIONS):
        xs = np.arange(len(MODELS)) + (j - 1) * width
        means = [summary[m]["accuracy"][condition]["mean"] for m in MODELS]
        stds = [summary[m]["accuracy"][condition]["std"] for m in MODELS]
        ax.bar(
            xs,
            means,
            width * 0.92,
            yerr=stds,
            capsize=4,
            color=_COLOURS[condition],
            hatch=_HATCHES[condition],
            edgecolor="white",
            label=condition,
        )
        for x, m in zip(xs, MODELS, strict=True):
            dots = [s["runs"][m]["accuracy"][condition] for s in seeds]
            ax.plot([x] * len(dots), dots, "o", color="black", markersize=3.5, alpha=0.7)
    ax.axhline(
        chance, color="0.3", linestyle=":", linewidth=1.3, label=f"chance 1/K ({chance:.2f})"
    )
    if majority > chance + 0.01:
        ax.axhline(
            majority, color="0.5", linestyle="--", linewidth=1.1, label=f"majority ({majority:.2f})"
        )
    ax.plot([], [], "o", color="black", markersize=3.5, label="one seed")
    ax.set_xticks(range(len(MODELS)), MODELS, fontsize=10)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("test accuracy (fraction of clips)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(title, fontsize=11)
    return save_figure(fig, out / "accuracy.png")


def plot_confusions(out: Path, seeds: list[dict[str, Any]], classes, title: str) -> Path:
    """Confusion matrices summed over seeds: one row per model, one column per condition."""
    side = 4.6 if len(classes) > 2 else 3.6
    fig, axes = new_figure(len(MODELS), len(CONDITIONS), size=(side * 3 + 0.6, side * 3))
    for r, name in enumerate(MODELS):
        for c, condition in enumerate(CONDITIONS):
            m = sum(np.asarray(s["runs"][name]["confusion"][condition]) for s in seeds)
            accuracy = np.trace(m) / max(1, m.sum())
            confusion_matrix(
                axes[r][c],
                m,
                classes,
                f"{name}, {condition}\naccuracy {accuracy:.2f}",
                "Blues",
                "clips",
                fontsize=9,
            )
    fig.suptitle(title, fontsize=12)
    return save_figure(fig, out / "confusion.png")


def table(summary: dict, chance: float, dataset: str, seeds: int) -> str:
    """The console table: mean ± std test accuracy per model and condition, and the drops."""
    head = f"{'model':<16}" + "".join(f"{c:>17}" for c in CONDITIONS)
    head += f"{'drop random':>15}{'drop swapped':>15}"
    lines = [f"phase-reliance on {dataset}: test accuracy, mean ± std over {seeds} seed(s)", head]
    for name in MODELS:
        s = summary[name]
        cells = "".join(
            f"{s['accuracy'][c]['mean']:>10.3f} ± {s['accuracy'][c]['std']:.3f}" for c in CONDITIONS
        )
        drops = "".join(f"{s['drop'][c]['mean']:>+15.3f}" for c in CONDITIONS[1:])
        lines.append(f"{name:<16}{cells}{drops}")
    lines.append(f"{'chance (1/K)':<16}{chance:>10.3f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    n_fft, hop, _, rate = _settings(args)
    clips = load_clips(args)
    k = len(clips.classes)
    spectra = log_spectra(clips.audio, n_fft, hop)
    seeds, models = [], {}
    for seed in range(args.seed, args.seed + args.seeds):
        entry, models = run_seed(args, clips, spectra, seed)
        seeds.append(entry)
    summary = summarize(seeds)
    parameters = {name: count_parameters(m) for name, m in models.items()}
    chance = 1 / k
    majority = float(np.mean([s["majority"] for s in seeds]))
    words = "kits held out" if args.dataset == "drums" else "phase-only pairs"
    title = (
        f"phase-reliance on {args.dataset} ({words}): {k} classes, {len(seeds)} seed(s), "
        f"{args.epochs} epochs"
    )
    rows = [
        {
            "seed": s["seed"],
            "model": name,
            "condition": c,
            "accuracy": s["runs"][name]["accuracy"][c],
        }
        for s in seeds
        for name in MODELS
        for c in CONDITIONS
    ]
    write_csv(args.out / "accuracy.csv", rows)
    write_csv(
        args.out / "summary.csv",
        [
            {
                "model": name,
                "condition": c,
                "parameters": parameters[name],
                **{f"accuracy_{k_}": v for k_, v in summary[name]["accuracy"][c].items()},
                **(
                    {f"drop_{k_}": v for k_, v in summary[name]["drop"][c].items()}
                    if c != "recorded"
                    else {}
                ),
            }
            for name in MODELS
            for c in CONDITIONS
        ],
    )
    plot_accuracy(args.out, seeds, summary, chance, majority, title)
    plot_confusions(args.out, seeds, clips.classes, title + ", summed over seeds")
    print(table(summary, chance, args.dataset, len(seeds)))
    spread = max(parameters.values()) / min(parameters.values()) - 1
    return {
        "dataset": args.dataset,
        "source": clips.source,
        "classes": list(clips.classes),
        "class_counts": np.bincount(clips.labels, minlength=k).tolist(),
        "skipped_files": clips.skipped,
        "sample_rate": rate,
        "clip_samples": int(clips.audio.shape[1]),
        "n_fft": n_fft,
        "hop_length": hop,
        "input_shape": list(spectra[0].shape[1:]),
        "models": {
            name: {"parameters": parameters[name], "widths": list(m.widths)}
            for name, m in models.items()
        },
        "parameter_spread": spread,
        "chance": chance,
        "majority": majority,
        "seeds": seeds,
        "summary": summary,
        "units": UNITS,
    }


register(
    "phase-reliance",
    help="does a complex CNN on the STFT use phase? accuracy with the phase replaced "
    "(drums or the synthetic phase-only control)",
    add_arguments=add_arguments,
    run=run,
    description=__doc__,
    check=check,
)
