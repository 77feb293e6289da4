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
from phasor.io import write_csv
from phasor.models import count_parameters
from phasor.plotting import new_figure, save_figure
from phasor.train import TrainConfig, Trainer

DEFAULT_CLIPS = {"synthetic": 40, "synthetic-phase": 200, "gtzan": 0}


def add_audio_arguments(parser: argparse.ArgumentParser, epochs: int, lr: float) -> None:
    """Data, feature and training flags shared by ``audio-mfcc`` and ``audio-gnn``."""
    parser.add_argument("--dataset", choices=AUDIO_DATASETS, default="synthetic")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="GTZAN root (default $PHASOR_DATA/gtzan)"
    )
    parser.add_argument(
        "--clips-per-class",
        type=int,
        default=None,
        help="clips per class (synthetic-phase: pairs; gtzan: 0 for all); default 40 "
        "for synthetic, 200 for synthetic-phase, all for gtzan",
    )
    parser.add_argument(
        "--tasks",
        default="multi,binary",
        help="comma list: multi (all classes), binary (the first two classes)",
    )
    parser.add_argument(
        "--sample-rate", type=int, default=None, help="Hz (default 8000 synthetic, 22050 gtzan)"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds per clip (default 1.024 synthetic, 30 gtzan)",
    )
    parser.add_argument("--n-fft", type=int, default=256)
    parser.add_argument("--hop-length", type=int, default=128)
    parser.add_argument("--n-mels", type=int, default=26)
    parser.add_argument("--n-mfcc", type=int, default=13)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=lr, help="Adam learning rate")


def task_list(args: argparse.Namespace, data: AudioSplits) -> list[str]:
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    bad = [t for t in tasks if t not in ("multi", "binary")]
    if bad or not tasks:
        raise ValueError(f"--tasks takes 'multi' and/or 'binary', got {args.tasks!r}")
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


def plot_curves(out: Path, name: str, runs: dict[str, list[dict[str, Any]]]) -> Path:
    """Accuracy and loss per epoch (train dashed, test solid) for every run; also a CSV."""
    fig, axes = new_figure(1, 2, size=(10, 3.8))
    rows = []
    for label, history in runs.items():
        epochs = [h["epoch"] for h in history]
        for ax, key in zip(axes[0], ("accuracy", "loss"), strict=True):
            line = ax.plot(epochs, [h[f"eval_{key}"] for h in history], label=label)[0]
            ax.plot(epochs, [h[f"train_{key}"] for h in history], "--", color=line.get_color())
        rows.extend({"run": label, **h} for h in history)
    for ax, key in zip(axes[0], ("accuracy", "loss"), strict=True):
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{key} (test solid, train dashed)")
    axes[0][0].legend(fontsize=7)
    write_csv(out / f"{name}_curves.csv", rows)
    return save_figure(fig, out / f"{name}_curves.png")


def plot_confusions(
    out: Path, name: str, matrices: dict[str, np.ndarray], classes: tuple[str, ...]
) -> Path:
    """One confusion-matrix panel per run."""
    n = len(matrices)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = new_figure(rows, cols, size=(4.2 * cols, 3.8 * rows))
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, (label, m) in zip(axes.flat, matrices.items(), strict=False):
        ax.imshow(m, cmap="Blues")
        ticks = range(len(m))
        ax.set_xticks(ticks, [classes[i] for i in ticks], rotation=90, fontsize=6)
        ax.set_yticks(ticks, [classes[i] for i in ticks], fontsize=6)
        for i in ticks:
            for j in ticks:
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=6)
        ax.set_title(f"{label}\nacc {np.trace(m) / max(1, m.sum()):.2f}", fontsize=8)
        ax.set_xlabel("predicted", fontsize=7)
        ax.set_ylabel("true", fontsize=7)
    return save_figure(fig, out / f"{name}_confusion.png")


Build = Callable[
    [str, torch.Tensor, torch.Tensor, int],
    tuple[torch.nn.Module, Callable, TensorDataset, TensorDataset],
]


def compare_on_tasks(
    args: argparse.Namespace, data: AudioSplits, names: Sequence[str], build: Build
) -> dict[str, dict[str, Any]]:
    """Train and score every named run on every task of ``--tasks``; draw curves and confusions.

    ``build(name, train_mask, test_mask, k)`` returns ``(model, loss_fn, train_set, test_set)``
    for a task with ``k`` classes; the seed is reset before each build. Returns each task's
    ``{name: summary}`` (:func:`train_and_summarize`).
    """
    tasks: dict[str, dict[str, Any]] = {}
    for task in task_list(args, data):
        tr, te = select_task(task, data.train_labels), select_task(task, data.test_labels)
        k = int(data.train_labels[tr].max()) + 1
        histories, matrices, summary = {}, {}, {}
        for name in names:
            torch.manual_seed(args.seed)
            model, loss_fn, train_set, test_set = build(name, tr, te, k)
            histories[name], matrices[name], summary[name] = train_and_summarize(
                model, loss_fn, train_set, test_set, k, args
            )
            print(f"[{task}] {name}: test accuracy {summary[name]['test_accuracy']:.3f}")
        plot_curves(args.out, task, histories)
        plot_confusions(args.out, task, matrices, data.classes[:k])
        tasks[task] = summary
    return tasks
