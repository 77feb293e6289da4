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

from phasor.audio import AUDIO_DATASETS, HOLDOUTS, AudioSplits, complex_mfcc, load_audio_seeds
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

DEFAULT_CLIPS = {"synthetic": 40, "synthetic-phase": 200, "gtzan": 0, "drums": 0}
FOLDER_DATASETS = ("gtzan", "drums")  # read from disk: 22,050 Hz, every clip by default
DEFAULT_DURATION = {"gtzan": 30.0, "drums": 1.0}
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
    "confusion": "test clips (rows: true class, columns: predicted class), summed over the seeds",
    "seconds": "wall-clock seconds",
    "spread": "fraction of the task's test clips, 0-1 (mean, sample std, min, max over seeds)",
    "differences": "difference of two runs' test accuracy on the same seed's split, 0-1 "
    "fractions (mean, sample std, min, max over seeds; wins: seeds where the first is higher)",
}


def add_audio_arguments(parser: argparse.ArgumentParser, epochs: int, lr: float) -> None:
    """Data, feature and training flags shared by ``audio-mfcc`` and ``audio-gnn``."""
    parser.add_argument(
        "--dataset",
        choices=AUDIO_DATASETS,
        default="synthetic",
        help="synthetic: ten oscillator genres; synthetic-phase: two classes that differ "
        "only in phase; gtzan: a GTZAN copy under --data-dir; drums: recorded drum hits "
        "(KIT__INSTRUMENT__LAYER.wav in one folder per class) under --data-dir",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="gtzan/drums folder with one sub-folder per class; default: $PHASOR_DATA/gtzan "
        "or $PHASOR_DATA/drums",
    )
    parser.add_argument(
        "--holdout",
        choices=HOLDOUTS,
        default=None,
        help="kits: whole drum kits on the test side (drums only, its default); clips: a "
        "stratified split of each class's clips (the default otherwise)",
    )
    parser.add_argument(
        "--on-bad-file",
        choices=("skip", "raise"),
        default="skip",
        help="an unreadable or empty gtzan/drums file: skip it with a warning (listed in "
        "results.json) or stop with an error naming it",
    )
    parser.add_argument(
        "--seeds",
        type=seed_list,
        default=None,
        help="N: run N seeds from --seed on (--seed, --seed + 1, ...); or a comma list of "
        "seeds (a single seed as '5,'); each seed draws its own split (and synthetic clips), "
        "and results.json reports the mean and spread; default: --seed only",
    )
    parser.add_argument(
        "--clips-per-class",
        type=nonnegative_int,
        default=None,
        help="clips per class, at least 2 (synthetic-phase: pairs; gtzan, drums: at most this "
        "many per class, the first by file name, 0 for all); default: 40 for synthetic, 200 "
        "pairs for synthetic-phase, all for gtzan and drums",
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
        help="sample rate in Hz; default: 8000 for the synthetic data, 22050 for gtzan and drums",
    )
    parser.add_argument(
        "--duration",
        type=positive_float,
        default=None,
        help="seconds per clip (cut from the start or zero-padded), at least one --n-fft "
        "frame; default: 1.024 for the synthetic data, 30 for gtzan, the longest clip (1 s) "
        "for drums",
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
    """The names in ``--tasks``; `FlagError` for an empty list or an unknown name."""
    tasks = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in tasks if t not in TASKS]
    if bad or not tasks:
        raise FlagError("--tasks", f"must be a comma list of multi and/or binary, got {text!r}")
    return list(dict.fromkeys(tasks))


def seed_list(text: str) -> list[int] | int:
    """``--seeds``: a count ``N`` (an int, at least 1) or a comma list of seeds."""
    parts = [p.strip() for p in text.split(",")]
    try:
        if "," not in text:
            count = int(text)
            if count < 1:
                raise ValueError
            return count
        seeds = [int(p) for p in parts if p]
    except ValueError:
        seeds = []
    if not seeds or any(not 0 <= s < 2**32 for s in seeds) or len(set(seeds)) < len(seeds):
        raise argparse.ArgumentTypeError(
            "must be a positive count N or a comma list of distinct seeds in 0..4294967295, "
            f"got {text!r}"
        )
    return seeds


def seeds_of(args: argparse.Namespace) -> list[int]:
    """The seeds to run: ``--seeds`` (a count from ``--seed`` on, or a list), else ``--seed``."""
    if args.seeds is None:
        return [args.seed]
    if isinstance(args.seeds, int):
        return [args.seed + i for i in range(args.seeds)]
    return list(args.seeds)


def samples_per_clip(args: argparse.Namespace) -> int:
    """Samples in one clip at the flags' (or the data set's default) rate and duration."""
    folder = args.dataset in FOLDER_DATASETS
    rate = args.sample_rate or (22050 if folder else 8000)
    duration = args.duration or DEFAULT_DURATION.get(args.dataset, 1.024)
    return round(duration * rate)


def frames_per_clip(args: argparse.Namespace) -> int:
    """STFT frames in one clip: ``1 + (samples - n_fft) // hop_length``."""
    return 1 + (samples_per_clip(args) - args.n_fft) // args.hop_length


def check_audio_flags(args: argparse.Namespace) -> None:
    """Reject combinations of the shared flags before any work (`FlagError`)."""
    parse_tasks(args.tasks)
    clips = args.clips_per_class
    if clips == 0 and args.dataset not in FOLDER_DATASETS:
        raise FlagError(
            "--clips-per-class", f"must be at least 2 for --dataset {args.dataset}, got 0"
        )
    if clips == 1:
        raise FlagError(
            "--clips-per-class",
            "must be at least 2 (one clip per class cannot be split into train and test; "
            "0 takes every gtzan or drums clip), got 1",
        )
    if args.holdout == "kits" and args.dataset != "drums":
        raise FlagError(
            "--holdout", f"kits needs --dataset drums (file names KIT__...), not {args.dataset}"
        )
    if args.seeds is not None and max(seeds_of(args)) >= 2**32:
        raise FlagError("--seeds", f"runs seeds past 4294967295 from --seed {args.seed}")
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


def load_features(
    args: argparse.Namespace,
) -> list[tuple[AudioSplits, torch.Tensor, torch.Tensor]]:
    """Per seed of `seeds_of`: the data set's split and its complex MFCCs ``(N, T_f, Q)``
    (train, test); real part = MFCC. A folder data set is read once for all seeds."""
    splits = load_audio_seeds(
        args.dataset,
        seeds_of(args),
        data_dir=args.data_dir,
        clips_per_class=DEFAULT_CLIPS[args.dataset]
        if args.clips_per_class is None
        else args.clips_per_class,
        sample_rate=args.sample_rate,
        duration=args.duration,
        on_error=args.on_bad_file,
        holdout=args.holdout,
    )

    def features(audio: torch.Tensor, rate: int) -> torch.Tensor:
        return complex_mfcc(
            audio,
            rate,
            n_mfcc=args.n_mfcc,
            n_fft=args.n_fft,
            hop_length=args.hop_length,
            n_mels=args.n_mels,
        )

    return [
        (d, features(d.train_audio, d.sample_rate), features(d.test_audio, d.sample_rate))
        for d in splits
    ]


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
    """Train with [`phasor.train.Trainer`][phasor.train.trainer.Trainer] (Adam) and score the test set.

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
    curve per run in its own [`line_style`][phasor.plotting.line_style] (markers on at most about
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
    """One confusion-matrix panel per run ([`phasor.plotting.confusion_matrix`][phasor.plotting.confusion_matrix])."""
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


def spread(values: Sequence[float]) -> dict[str, Any]:
    """``mean``, ``std`` (sample, ddof 1; 0 for one value), ``min``, ``max`` and the values."""
    v = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        "min": float(v.min()),
        "max": float(v.max()),
        "per_seed": [float(x) for x in v],
    }


def _cell(s: dict[str, Any]) -> str:
    if len(s["per_seed"]) == 1:
        return f"{s['mean']:.3f}"
    return f"{s['mean']:.3f} ± {s['std']:.3f} [{s['min']:.2f}-{s['max']:.2f}]"


def headline(
    study: str,
    dataset: str,
    epochs: int,
    names: Sequence[str],
    columns: dict[str, tuple[float, dict[str, Any]]],
    expect: str = "",
    seeds: int = 1,
) -> str:
    """The console summary: one row per run, one column per task (``{task: (chance,
    {name: summary})}``), test accuracy after the last epoch and (in brackets) at the best;
    over several seeds their means, then the std and [min-max] of the last epoch's."""
    width = max(len(n) for n in (*names, "chance"))
    over = f", mean ± std [min-max] over {seeds} seeds" if seeds > 1 else ""
    cells: dict[str, list[str]] = {}
    for name in names:
        cells[name] = []
        for _, summary in columns.values():
            s = summary[name]
            spread_text = f" ± {s['spread']['test_accuracy']['std']:.3f}" if seeds > 1 else ""
            lo_hi = (
                f" [{s['spread']['test_accuracy']['min']:.2f}-"
                f"{s['spread']['test_accuracy']['max']:.2f}]"
                if seeds > 1
                else ""
            )
            cells[name].append(
                f"{s['test_accuracy']:.3f}{spread_text}{lo_hi} ({s['best_test_accuracy']:.3f})"
            )
    col = max(15, *(len(c) for row in cells.values() for c in row))
    lines = [
        f"{study} on {dataset}: test accuracy after epoch {epochs}{over} (best epoch in brackets)",
        "  " + " " * width + "".join(f"  {c:>{col}}" for c in columns),
    ]
    for name in names:
        lines.append(f"  {name:<{width}}" + "".join(f"  {c:>{col}}" for c in cells[name]))
    lines.append(
        f"  {'chance':<{width}}" + "".join(f"  {c:>{col}.3f}" for c, _ in columns.values())
    )
    if expect:
        lines.append(f"  expect: {expect}")
    return "\n".join(line.rstrip() for line in lines)


Build = Callable[
    [str, torch.Tensor, torch.Tensor, int],
    tuple[torch.nn.Module, Callable, TensorDataset, TensorDataset],
]
Prepare = Callable[[AudioSplits, torch.Tensor, torch.Tensor], tuple[Build, dict[str, Any]]]


def _mean_history(histories: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Epoch by epoch, the mean of each number over the seeds' histories."""
    return [
        {
            k: (v if k == "epoch" else float(np.mean([h[i][k] for h in histories])))
            for k, v in epoch.items()
        }
        for i, epoch in enumerate(histories[0])
    ]


def _combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One run's entry of ``results.json`` from its per-seed summaries: means, summed
    confusion, mean history, and the spread of the accuracies."""
    if len(runs) == 1:
        only = dict(runs[0])
        keys = ("test_accuracy", "best_test_accuracy")
        only["spread"] = {k: spread([only[k]]) for k in keys}
        return only
    return {
        "test_accuracy": float(np.mean([r["test_accuracy"] for r in runs])),
        "best_test_accuracy": float(np.mean([r["best_test_accuracy"] for r in runs])),
        "train_accuracy": float(np.mean([r["train_accuracy"] for r in runs])),
        "test_loss": float(np.mean([r["test_loss"] for r in runs])),
        "parameters": runs[0]["parameters"],
        "confusion": sum(r["confusion"] for r in runs),
        "history": _mean_history([r["history"] for r in runs]),
        "spread": {
            k: spread([r[k] for r in runs]) for k in ("test_accuracy", "best_test_accuracy")
        },
    }


def compare_over_seeds(
    args: argparse.Namespace,
    names: Sequence[str],
    prepare: Prepare,
    study: str,
    expect: dict[str, str],
    comparisons: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    """Train and score every named run on every task of ``--tasks``, once per seed of
    ``--seeds``; draw curves (mean over the seeds) and confusions (summed over the seeds'
    test sets), write ``seeds.csv`` and ``summary.csv``, print the headline numbers (and
    what a reader should see on the data set, from ``expect``).

    ``prepare(data, train_features, test_features)`` is called once per seed and returns
    ``build`` and that seed's extra results; ``build(name, train_mask, test_mask, k)`` returns
    ``(model, loss_fn, train_set, test_set)`` for a task with ``k`` classes (the seed is reset
    before each build). ``comparisons`` are pairs ``(a, b)`` of run names whose per-seed
    difference of test accuracy ``a - b`` is reported. A diverging run stops with a
    [`TrainingError`][phasor.train.errors.TrainingError] naming the study, task, run, seed and the ``--lr``.

    Returns the results shared by the audio studies (data, splits, tasks, spreads,
    differences) and ``extras``, the list of each seed's extra results.
    """
    seeded = load_features(args)
    data0 = seeded[0][0]
    seeds = [d.seed for d, _, _ in seeded]
    per_seed: dict[str, dict[str, list[dict[str, Any]]]] = {}
    ks: dict[str, int] = {}
    counts: dict[str, tuple[list[int], list[int]]] = {}
    extras, splits, seed_rows = [], [], []
    for data, train_c, test_c in seeded:
        run_args = argparse.Namespace(**{**vars(args), "seed": data.seed})
        build, extra = prepare(data, train_c, test_c)
        extras.append(extra)
        splits.append(
            {
                "seed": data.seed,
                "train_clips": len(data.train_labels),
                "test_clips": len(data.test_labels),
                "test_kits": data.test_groups,
            }
        )
        for task in task_list(args, data):
            tr, te = select_task(task, data.train_labels), select_task(task, data.test_labels)
            k = ks.setdefault(task, int(data.train_labels[tr].max()) + 1)
            counts.setdefault(task, ([], []))
            counts[task][0].append(int(tr.sum()))
            counts[task][1].append(int(te.sum()))
            for name in names:
                torch.manual_seed(data.seed)
                model, loss_fn, train_set, test_set = build(name, tr, te, k)
                try:
                    _, _, summary = train_and_summarize(
                        model, loss_fn, train_set, test_set, k, run_args
                    )
                except TrainingError as err:
                    raise TrainingError(
                        f"{study}, task {task}, {name}, seed {data.seed}: {err}; "
                        f"the learning rate is --lr (now {args.lr:g})"
                    ) from err
                per_seed.setdefault(task, {}).setdefault(name, []).append(summary)
                seed_rows.append(
                    {
                        "task": task,
                        "run": name,
                        "seed": data.seed,
                        "test_accuracy": summary["test_accuracy"],
                        "best_test_accuracy": summary["best_test_accuracy"],
                        "train_clips": int(tr.sum()),
                        "test_clips": int(te.sum()),
                    }
                )
                print(
                    f"[{task}, seed {data.seed}] {name}: "
                    f"test accuracy {summary['test_accuracy']:.3f}"
                )
    tasks: dict[str, dict[str, Any]] = {}
    differences: dict[str, dict[str, Any]] = {}
    columns: dict[str, tuple[float, dict[str, Any]]] = {}
    summary_rows = []
    over = f", {len(seeds)} seeds" if len(seeds) > 1 else ""
    for task, runs in per_seed.items():
        k = ks[task]
        tasks[task] = {name: _combine(r) for name, r in runs.items()}
        differences[task] = {}
        for a, b in comparisons:
            if a in runs and b in runs:
                diff = [
                    x["test_accuracy"] - y["test_accuracy"]
                    for x, y in zip(runs[a], runs[b], strict=True)
                ]
                differences[task][f"{a} - {b}"] = {
                    **spread(diff),
                    "wins": int(sum(d > 0 for d in diff)),
                }
        for name, entry in tasks[task].items():
            summary_rows.append(
                {
                    "task": task,
                    "comparison": name,
                    "seeds": len(seeds),
                    **{
                        k_: v
                        for k_, v in entry["spread"]["test_accuracy"].items()
                        if k_ != "per_seed"
                    },
                }
            )
        for name, entry in differences[task].items():
            summary_rows.append(
                {
                    "task": task,
                    "comparison": name,
                    "seeds": len(seeds),
                    **{k_: v for k_, v in entry.items() if k_ != "per_seed"},
                }
            )
        words = task_words(task, data0.classes[:k])
        n_tr, n_te = counts[task]
        clips = (
            f"{n_tr[0]} training / {n_te[0]} test clips"
            if len(set(n_tr)) == 1 and len(set(n_te)) == 1
            else f"{min(n_tr)}-{max(n_tr)} training / {min(n_te)}-{max(n_te)} test clips"
        )
        title = f"{study}: {words} task on {data0.name} ({clips}{over})"
        histories = {name: entry["history"] for name, entry in tasks[task].items()}
        matrices = {name: entry["confusion"] for name, entry in tasks[task].items()}
        mean = "\n(mean over the seeds)" if len(seeds) > 1 else ""
        summed = "\n(test clips summed over the seeds' test sets)" if len(seeds) > 1 else ""
        plot_curves(args.out, task, histories, title + mean, chance=1 / k)
        plot_confusions(args.out, task, matrices, data0.classes[:k], title + summed)
        columns[f"{k}-class" if task == "multi" else "binary"] = (1 / k, tasks[task])
    write_csv(args.out / "seeds.csv", seed_rows)
    write_csv(args.out / "summary.csv", summary_rows)
    print(
        headline(
            study, data0.name, args.epochs, names, columns, expect.get(data0.name, ""), len(seeds)
        )
    )
    return {
        "dataset": data0.name,
        "classes": list(data0.classes),
        "sample_rate": data0.sample_rate,
        "holdout": args.holdout or ("kits" if data0.name == "drums" else "clips"),
        "seeds": seeds,
        "train_clips": splits[0]["train_clips"],
        "test_clips": splits[0]["test_clips"],
        "splits": splits,
        "skipped_files": data0.skipped,
        "tasks": tasks,
        "differences": differences,
        "extras": extras,
    }
