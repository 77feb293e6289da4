"""Shared pieces of the audio studies: flags, features, training, curves, confusion matrices."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import TensorDataset

from phasor.audio import AUDIO_DATASETS, AudioSplits, complex_mfcc, load_audio
from phasor.experiments._flags import (
    FlagError,
    integer,
    nonnegative_int,
    positive_float,
    positive_int,
)
from phasor.io import write_csv
from phasor.models import count_parameters
from phasor.plotting import (
    confusion_matrix,
    integer_epochs,
    line_style,
    new_figure,
    save_figure,
)
from phasor.train import TrainConfig, Trainer, TrainingError

DEFAULT_CLIPS = {"synthetic": 40, "synthetic-phase": 200, "gtzan": 0}
TASKS = ("multi", "binary")

# Units of the numbers in results.json, written there as "units" (see docs/audio.md).
UNITS = {
    "sample_rate": "Hz",
    "train_clips": "clips",
    "test_clips": "clips",
    "test_accuracy": "fraction of the task's test clips, 0-1",
    "best_test_accuracy": "fraction of the task's test clips, 0-1",
    "train_accuracy": "fraction of the task's training clips, 0-1 (running, during the epoch)",
    "test_loss": "mean cross-entropy per test clip, nats",
    "parameters": "real numbers (a complex parameter counts twice)",
    "confusion": "test clips (rows: true class, columns: predicted class)",
    "seconds": "wall-clock seconds",
}


def add_audio_arguments(parser: argparse.ArgumentParser, epochs: int, lr: float) -> None:
    """Data, feature and training flags shared by ``audio-mfcc`` and ``audio-gnn``."""
    parser.add_argument(
        "--dataset",
        choices=AUDIO_DATASETS,
        default="synthetic",
        help="synthetic: ten oscillator genres; synthetic-phase: two classes that differ "
        "only in phase; gtzan: a GTZAN copy under --data-dir",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="GTZAN folder with one sub-folder per genre; default: $PHASOR_DATA/gtzan",
    )
    parser.add_argument(
        "--clips-per-class",
        type=nonnegative_int,
        default=None,
        help="clips per class, at least 2 (synthetic-phase: pairs; gtzan: at most this many "
        "per genre, 0 for all); default: 40 for synthetic, 200 pairs for synthetic-phase, "
        "all for gtzan",
    )
    parser.add_argument(
        "--tasks",
        default="multi,binary",
        help="comma list: multi (all classes), binary (the first two classes)",
    )
    parser.add_argument(
        "--sample-rate",
        type=positive_int,
        default=None,
        help="sample rate in Hz; default: 8000 for the synthetic data, 22050 for gtzan",
    )
    parser.add_argument(
        "--duration",
        type=positive_float,
        default=None,
        help="seconds per clip, at least one --n-fft frame; default: 1.024 for the "
        "synthetic data, 30 for gtzan",
    )
    parser.add_argument("--n-fft", type=integer(2), default=256, help="STFT frame length")
    parser.add_argument("--hop-length", type=positive_int, default=128, help="STFT hop")
    parser.add_argument("--n-mels", type=positive_int, default=26, help="mel bands")
    parser.add_argument(
        "--n-mfcc", type=positive_int, default=13, help="MFCCs per frame, at most --n-mels"
    )
    parser.add_argument("--epochs", type=positive_int, default=epochs, help="training epochs")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="clips per batch")
    parser.add_argument("--lr", type=positive_float, default=lr, help="Adam learning rate")


def parse_tasks(text: str) -> list[str]:
    """The names in ``--tasks``; :class:`FlagError` for an empty list or an unknown name."""
    tasks = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in tasks if t not in TASKS]
    if bad or not tasks:
        raise FlagError("--tasks", f"must be a comma list of multi and/or binary, got {text!r}")
    return list(dict.fromkeys(tasks))


def samples_per_clip(args: argparse.Namespace) -> int:
    """Samples in one clip at the flags' (or the data set's default) rate and duration."""
    rate = args.sample_rate or (22050 if args.dataset == "gtzan" else 8000)
    duration = args.duration or (30.0 if args.dataset == "gtzan" else 1.024)
    return round(duration * rate)


def frames_per_clip(args: argparse.Namespace) -> int:
    """STFT frames in one clip: ``1 + (samples - n_fft) // hop_length``."""
    return 1 + (samples_per_clip(args) - args.n_fft) // args.hop_length


def check_audio_flags(args: argparse.Namespace) -> None:
    """Reject combinations of the shared flags before any work (:class:`FlagError`)."""
    parse_tasks(args.tasks)
    clips = args.clips_per_class
    if clips == 0 and args.dataset != "gtzan":
        raise FlagError(
            "--clips-per-class", f"must be at least 2 for --dataset {args.dataset}, got 0"
        )
    if clips == 1:
        raise FlagError(
            "--clips-per-class",
            "must be at least 2 (one clip per class cannot be split into train and test; "
            "0 takes every gtzan clip), got 1",
        )
    if args.n_mfcc > args.n_mels:
        raise FlagError("--n-mfcc", f"must be at most --n-mels ({args.n_mels}), got {args.n_mfcc}")
    n = samples_per_clip(args)
    if n < args.n_fft:
        raise FlagError(
            "--duration",
            f"must give clips of at least one --n-fft frame ({args.n_fft} samples), got "
            f"{n} samples; raise --duration or --sample-rate, or lower --n-fft",
        )


def task_list(args: argparse.Namespace, data: AudioSplits) -> list[str]:
    """The tasks to run: ``--tasks``, or only ``binary`` on a two-class data set."""
    tasks = parse_tasks(args.tasks)
    if data.num_classes == 2:  # both tasks are the same two-class problem
        return ["binary"]
    return tasks


def load_features(args: argparse.Namespace) -> tuple[AudioSplits, torch.Tensor, torch.Tensor]:
    """The data set and its complex MFCCs ``(N, T_f, Q)`` (train, test); real part = MFCC."""
    data = load_audio(
        args.dataset,
        data_dir=args.data_dir,
        seed=args.seed,
        clips_per_class=DEFAULT_CLIPS[args.dataset]
        if args.clips_per_class is None
        else args.clips_per_class,
        sample_rate=args.sample_rate,
        duration=args.duration,
    )

    def features(audio: torch.Tensor) -> torch.Tensor:
        return complex_mfcc(
            audio,
            data.sample_rate,
            n_mfcc=args.n_mfcc,
            n_fft=args.n_fft,
            hop_length=args.hop_length,
            n_mels=args.n_mels,
        )

    return data, features(data.train_audio), features(data.test_audio)


def standardize(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-coefficient standardisation with training statistics (real and imaginary parts
    separately for complex features)."""
    if train.is_complex():
        re = standardize(train.real, test.real)
        im = standardize(train.imag, test.imag)
        return torch.complex(re[0], im[0]), torch.complex(re[1], im[1])
    mean = train.mean(dim=(0, 1), keepdim=True)
    std = train.std(dim=(0, 1), keepdim=True).clamp_min(1e-6)
    return (train - mean) / std, (test - mean) / std


def select_task(task: str, labels: torch.Tensor) -> torch.Tensor:
    """Row mask of a task: every row for ``multi``, classes 0 and 1 for ``binary``."""
    return torch.ones_like(labels, dtype=torch.bool) if task == "multi" else labels < 2


def task_words(task: str, classes: Sequence[str]) -> str:
    """``10-class`` or ``binary (drone vs pulse)``: a task as a figure title names it."""
    if task == "binary":
        return f"binary ({classes[0]} vs {classes[1]})"
    return f"{len(classes)}-class"


def train_and_summarize(
    model: torch.nn.Module,
    loss_fn,
    train_set: TensorDataset,
    test_set: TensorDataset,
    k: int,
    args: argparse.Namespace,
) -> tuple[list[dict[str, Any]], np.ndarray, dict[str, Any]]:
    """Train with :class:`phasor.train.Trainer` (Adam) and score the test set.

    Returns the history, the ``k x k`` confusion matrix (rows = true class, columns =
    predicted) and the run's entry of ``results.json`` (final and best accuracy, size with a
    complex parameter counted twice, confusion, history).
    """
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer="adam",
        lr=args.lr,
        seed=args.seed,
        progress=args.progress,
    )
    history = Trainer(model, loss_fn, train_set, test_set, config=config).fit()
    model.eval()
    *inputs, target = test_set.tensors
    with torch.no_grad():
        scores = model(*inputs)
    pred = (scores.abs() if scores.is_complex() else scores).argmax(dim=1)
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (target.numpy(), pred.numpy()), 1)
    summary = {
        "test_accuracy": history[-1]["eval_accuracy"],
        "best_test_accuracy": max(h["eval_accuracy"] for h in history),
        "train_accuracy": history[-1]["train_accuracy"],
        "test_loss": history[-1]["eval_loss"],
        "parameters": count_parameters(model),
        "confusion": matrix,
        "history": history,
    }
    return history, matrix, summary


def plot_curves(
    out: Path, name: str, runs: dict[str, list[dict[str, Any]]], title: str, chance: float
) -> Path:
    """Accuracy (top) and loss (bottom) per epoch, test (left) and training (right), one
    curve per run in its own :func:`~phasor.plotting.line_style` (markers on at most about
    12 epochs, staggered between runs); also a CSV."""
    fig, axes = new_figure(2, 2, size=(11, 7.5), sharey="row")
    rows = []
    epochs: list[int] = []
    for i, (label, history) in enumerate(runs.items()):
        epochs = [h["epoch"] for h in history]
        # at most about 12 markers a curve, each run's at other epochs than the previous one's
        step = max(1, math.ceil(len(epochs) / 12))
        style = {**line_style(i, len(runs)), "markevery": (i % step, step)}
        if step > 1:
            style["markersize"] *= 0.7
        for r, key in enumerate(("accuracy", "loss")):
            for c, split in enumerate(("eval", "train")):
                values = [h[f"{split}_{key}"] for h in history]
                axes[r][c].plot(epochs, values, label=label, **style)
        rows.extend({"run": label, **h} for h in history)
    for c, split in enumerate(("test", "training")):
        axes[0][c].axhline(chance, color="0.5", linestyle=":", linewidth=1.2, label="chance")
        axes[0][c].set_ylim(-0.02, 1.02)
        axes[0][c].set_title(f"{split} accuracy", fontsize=11)
        axes[1][c].set_title(f"{split} loss", fontsize=11)
        axes[1][c].set_xlabel("epoch", fontsize=10)
    axes[0][0].set_ylabel("accuracy (fraction of clips)", fontsize=10)
    axes[1][0].set_ylabel("cross-entropy (nats)", fontsize=10)
    for ax in axes.flat:
        integer_epochs(ax, epochs)
        ax.tick_params(labelsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    note = "\n(1 epoch: one point per run)" if len(epochs) == 1 else ""
    fig.suptitle(title + note, fontsize=12)
    write_csv(out / f"{name}_curves.csv", rows)
    return save_figure(fig, out / f"{name}_curves.png")


def plot_confusions(
    out: Path, name: str, matrices: dict[str, np.ndarray], classes: tuple[str, ...], title: str
) -> Path:
    """One confusion-matrix panel per run (:func:`phasor.plotting.confusion_matrix`)."""
    n = len(matrices)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    side = 5.2 if len(classes) > 2 else 4.0
    fig, axes = new_figure(rows, cols, size=(side * cols + 0.5, side * rows))
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, (label, m) in zip(axes.flat, matrices.items(), strict=False):
        accuracy = np.trace(m) / max(1, m.sum())
        confusion_matrix(ax, m, classes, f"{label}\ntest accuracy {accuracy:.2f}", "Blues", "clips")
    fig.suptitle(title, fontsize=12)
    return save_figure(fig, out / f"{name}_confusion.png")


def headline(
    study: str,
    dataset: str,
    epochs: int,
    names: Sequence[str],
    columns: dict[str, tuple[float, dict[str, Any]]],
    expect: str = "",
) -> str:
    """The console summary: one row per run, one column per task (``{task: (chance,
    {name: summary})}``), test accuracy after the last epoch and (in brackets) at the best."""
    width = max(len(n) for n in (*names, "chance"))
    lines = [
        f"{study} on {dataset}: test accuracy after epoch {epochs} (best epoch in brackets)",
        "  " + " " * width + "".join(f"  {c:>15}" for c in columns),
    ]
    for name in names:
        cells = "".join(
            f"  {s[name]['test_accuracy']:>7.3f} ({s[name]['best_test_accuracy']:.3f})"
            for _, s in columns.values()
        )
        lines.append(f"  {name:<{width}}{cells}")
    lines.append(
        f"  {'chance':<{width}}" + "".join(f"  {c:>7.3f}        " for c, _ in columns.values())
    )
    if expect:
        lines.append(f"  expect: {expect}")
    return "\n".join(line.rstrip() for line in lines)


Build = Callable[
    [str, torch.Tensor, torch.Tensor, int],
    tuple[torch.nn.Module, Callable, TensorDataset, TensorDataset],
]


def compare_on_tasks(
    args: argparse.Namespace,
    data: AudioSplits,
    names: Sequence[str],
    build: Build,
    study: str,
    expect: str = "",
) -> dict[str, dict[str, Any]]:
    """Train and score every named run on every task of ``--tasks``; draw curves and
    confusions; print the headline numbers (and ``expect``, what a reader should see).

    ``build(name, train_mask, test_mask, k)`` returns ``(model, loss_fn, train_set, test_set)``
    for a task with ``k`` classes; the seed is reset before each build. Returns each task's
    ``{name: summary}`` (:func:`train_and_summarize`). A diverging run stops with a
    :class:`~phasor.train.TrainingError` naming the study, task and run and the ``--lr``.
    """
    tasks: dict[str, dict[str, Any]] = {}
    columns: dict[str, tuple[float, dict[str, Any]]] = {}
    for task in task_list(args, data):
        tr, te = select_task(task, data.train_labels), select_task(task, data.test_labels)
        k = int(data.train_labels[tr].max()) + 1
        histories, matrices, summary = {}, {}, {}
        for name in names:
            torch.manual_seed(args.seed)
            model, loss_fn, train_set, test_set = build(name, tr, te, k)
            try:
                histories[name], matrices[name], summary[name] = train_and_summarize(
                    model, loss_fn, train_set, test_set, k, args
                )
            except TrainingError as err:
                raise TrainingError(
                    f"{study}, task {task}, {name}: {err}; "
                    f"the learning rate is --lr (now {args.lr:g})"
                ) from err
            print(f"[{task}] {name}: test accuracy {summary[name]['test_accuracy']:.3f}")
        words = task_words(task, data.classes[:k])
        title = (
            f"{study}: {words} task on {data.name} "
            f"({int(tr.sum())} training / {int(te.sum())} test clips)"
        )
        plot_curves(args.out, task, histories, title, chance=1 / k)
        plot_confusions(args.out, task, matrices, data.classes[:k], title)
        tasks[task] = summary
        columns[f"{k}-class" if task == "multi" else "binary"] = (1 / k, summary)
    print(headline(study, data.name, args.epochs, names, columns, expect))
    return tasks
