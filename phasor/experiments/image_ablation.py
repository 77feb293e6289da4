"""Study ``image-ablation``: real vs complex CNNs on MNIST-like images (seed 003 / seed 002).

Two comparisons, on the same data, network shape and training budget:

- ``--compare variants``: the real net, the complex net, and the complex net fed with
  synthetic complex inputs: a fixed phase ``x exp(0.5i)``, a fixed imaginary part
  ``x + 0.1i``, or random real and imaginary parts ``(x + 1e-5 n1) + i (1e-5 n2)``,
  ``n ~ N(0, 1)``. As in the study's code these transforms touch the *training* batches only
  (test images stay real, cast to complex); ``--transform-test`` applies them to the test
  batches too. ``real-matched`` adds a real net widened to the complex net's parameter count.
- ``--compare activations``: the complex net with each activation of ``--activations``.

Presets reproduce the study's protocol (``--preset seed-variants``: 10/20-channel net, SGD lr
0.01 momentum 0.9, batch 64, 10 epochs, CReLU; ``--preset seed-activations``: 32/64-channel
net, 5 epochs); explicit flags override a preset. Inputs are normalised as in the study,
``(x - 0.5) / 1.0``.

Writes ``results.json`` (accuracies as fractions), ``metrics.csv`` (per epoch: train/test
loss and accuracy of every run), ``steps.csv`` (the loss of every training batch),
``summaries.txt`` (each model's layer table with parameter counts), ``losses.png`` (train
loss, train loss on a log scale, test loss, test loss on a log scale) and ``accuracy.png``.
Each run checkpoints every epoch in ``runs/NAME/``; ``--resume`` continues it (also with more
``--epochs``; other settings are refused).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

from phasor.data import image_dataset_names, load_images
from phasor.experiments import register
from phasor.experiments._flags import FlagError, positive_float, positive_int, real
from phasor.io import write_csv, write_json
from phasor.models.cnn import (
    ACTIVATIONS,
    ComplexSeedCNN,
    RealSeedCNN,
    count_parameters,
    matched_real_widths,
    summary,
)
from phasor.plotting import new_figure, save_figure
from phasor.train import CheckpointError, TrainConfig, Trainer

__all__ = [
    "PRESETS",
    "SEED_ACTIVATIONS_MNIST",
    "SEED_VARIANTS_MNIST",
    "VARIANTS",
    "build_model",
    "variant_transform",
]

VARIANTS = ("real", "complex", "fixed-phase", "fixed-imag", "random", "real-matched")
"""Runs of ``--compare variants``; the first five are the study's, ``real-matched`` is ours."""

SEED_VARIANTS_MNIST = {
    "real": 0.9893,
    "complex": 0.9935,
    "random": 0.9938,
    "fixed-imag": 0.9887,
    "fixed-phase": 0.9715,
}
"""MNIST test accuracy (fraction) after 10 epochs reported by the study (CReLU, train-only
transforms)."""

SEED_ACTIVATIONS_MNIST = {
    "crelu": 0.9907,
    "modrelu": 0.9701,
    "zrelu": 0.8107,
    "split_tanh": 0.9823,
    "cardioid": 0.9914,
}
"""MNIST test accuracy (fraction) averaged over 5 epochs reported by the study (32/64-channel
net)."""

PRESETS: dict[str, dict[str, Any]] = {
    "seed-variants": {
        "compare": "variants",
        "net": "auto",
        "epochs": 10,
        "batch_size": 64,
        "lr": 0.01,
        "momentum": 0.9,
        "activation": "crelu",
        "variants": "real,complex,fixed-phase,fixed-imag,random",
        "activations": ",".join(ACTIVATIONS),
    },
    "seed-activations": {
        "compare": "activations",
        "net": "fashion",
        "epochs": 5,
        "batch_size": 64,
        "lr": 0.01,
        "momentum": 0.9,
        "activation": "crelu",
        "variants": "real,complex,fixed-phase,fixed-imag,random",
        "activations": "crelu,modrelu,zrelu,split_tanh,cardioid",
    },
}
"""The study's two protocols; every value can be overridden by its flag."""

_DATA_NAMES = {
    "embedded": "the embedded digits",
    "mnist": "MNIST",
    "kmnist": "KMNIST",
    "fashion-mnist": "Fashion-MNIST",
}

_FIXED_PHASE = 0.5
_FIXED_IMAG = 0.1
_NOISE = 1e-5
_MEAN, _STD = 0.5, 1.0


def variant_transform(variant: str) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The input transform of a variant (``None`` for the real nets and the plain complex net,
    whose model casts real input to complex itself)."""
    if variant in ("real", "real-matched", "complex"):
        return None
    if variant == "fixed-phase":
        rotation = complex(math.cos(_FIXED_PHASE), math.sin(_FIXED_PHASE))
        return lambda x: x.to(torch.complex64) * rotation
    if variant == "fixed-imag":
        return lambda x: torch.complex(x, torch.full_like(x, _FIXED_IMAG))
    if variant == "random":
        return lambda x: torch.complex(
            x + _NOISE * torch.randn_like(x), _NOISE * torch.randn_like(x)
        )
    raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")


def build_model(run: str, net: str, activation: str = "crelu") -> nn.Module:
    """The model of a run of either comparison: a variant name or an activation name."""
    if run == "real":
        return RealSeedCNN(net)
    if run == "real-matched":
        target = count_parameters(ComplexSeedCNN(net, activation))
        return RealSeedCNN(matched_real_widths(net, target))
    if run in VARIANTS:
        return ComplexSeedCNN(net, activation)
    if run in ACTIVATIONS:
        return ComplexSeedCNN(net, run)
    raise ValueError(f"unknown run {run!r}: not a variant ({VARIANTS}) nor an activation")


def _name_list(allowed: tuple[str, ...]) -> Callable[[str], str]:
    """An argparse ``type``: a comma list of distinct names from ``allowed``, returned as
    ``"a,b,c"``."""

    def parse(text: str) -> str:
        names = [n.strip() for n in text.split(",") if n.strip()]
        bad = [n for n in names if n not in allowed]
        if bad or not names:
            raise argparse.ArgumentTypeError(
                f"must be a comma list of {', '.join(allowed)}, got {text!r}"
            )
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise argparse.ArgumentTypeError(
                f"must name each run once, got {', '.join(twice)} twice"
            )
        return ",".join(names)

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="seed-variants",
        help="the study's protocol; the flags below override it",
    )
    parser.add_argument(
        "--compare",
        choices=("variants", "activations"),
        default=None,
        help="compare input variants or activations; the preset's when not given",
    )
    parser.add_argument(
        "--dataset",
        choices=image_dataset_names(),
        default="embedded",
        help="image data set; 'embedded' is the 4,000 + 1,000 digits shipped with phasor",
    )
    parser.add_argument(
        "--data-dir", default=None, help="folder with the IDX files (default: $PHASOR_DATA/NAME)"
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="download missing files (KMNIST, Fashion-MNIST, MNIST)",
    )
    parser.add_argument(
        "--train-size",
        type=positive_int,
        default=None,
        help="train on a seeded random subset of N images; all when not given",
    )
    parser.add_argument(
        "--test-size",
        type=positive_int,
        default=None,
        help="test on a seeded random subset of N images; all when not given",
    )
    parser.add_argument(
        "--net",
        choices=("auto", "mnist", "fashion"),
        default=None,
        help="10/20-channel 'mnist' or 32/64-channel 'fashion' net; auto picks "
        "'fashion' for fashion-mnist; the preset's when not given",
    )
    parser.add_argument(
        "--variants",
        type=_name_list(VARIANTS),
        default=None,
        help=f"runs of --compare variants, a comma list of {', '.join(VARIANTS)} "
        "(the preset's five when not given)",
    )
    parser.add_argument(
        "--activations",
        type=_name_list(ACTIVATIONS),
        default=None,
        help=f"runs of --compare activations, a comma list of {', '.join(ACTIVATIONS)} "
        "(all when not given)",
    )
    parser.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        default=None,
        help="activation of the complex nets in --compare variants; the preset's crelu when "
        "not given",
    )
    parser.add_argument(
        "--transform-test",
        action="store_true",
        help="apply the variant's transform to the test batches too (--compare variants)",
    )
    parser.add_argument(
        "--epochs", type=positive_int, default=None, help="epochs; the preset's when not given"
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        help="images per SGD step; the preset's when not given",
    )
    parser.add_argument(
        "--lr",
        type=positive_float,
        default=None,
        help="SGD learning rate; the preset's when not given",
    )
    parser.add_argument(
        "--momentum",
        type=real(0.0, 1.0, open_max=True),
        default=None,
        help="SGD momentum; the preset's when not given",
    )


def _resolve(args: argparse.Namespace) -> dict[str, Any]:
    config = dict(PRESETS[args.preset])
    for key in config:
        value = getattr(args, key, None)
        if value is not None:
            config[key] = value
    if config["net"] == "auto":
        config["net"] = "fashion" if args.dataset == "fashion-mnist" else "mnist"
    config["runs"] = (
        config["variants"] if config["compare"] == "variants" else config["activations"]
    ).split(",")
    return config


def check(args: argparse.Namespace) -> None:
    """Reject flags that the chosen comparison would ignore."""
    compare = args.compare or PRESETS[args.preset]["compare"]
    if compare == "activations":
        for flag, given in (
            ("--variants", args.variants is not None),
            ("--activation", args.activation is not None),
            ("--transform-test", args.transform_test),
        ):
            if given:
                raise FlagError(
                    flag,
                    "applies to --compare variants only; this run compares activations "
                    "(use --activations to choose them)",
                )
    elif args.activations is not None:
        raise FlagError(
            "--activations",
            "applies to --compare activations only; this run compares variants "
            "(use --variants to choose them, --activation for their activation)",
        )


def _dataset(
    images: torch.Tensor, labels: torch.Tensor, size: int | None, gen: torch.Generator, flag: str
) -> TensorDataset:
    """Normalised ``(N, 1, 28, 28)`` images with labels; ``size`` keeps a seeded random subset
    (not the first N: some files, like the embedded digits, are sorted by class)."""
    if size is not None and size > len(labels):
        raise FlagError(flag, f"must be in 1..{len(labels)} (the images there are), got {size}")
    if size is not None and size < len(labels):
        keep = torch.randperm(len(labels), generator=gen)[:size].sort().values
        images, labels = images[keep], labels[keep]
    return TensorDataset(((images - _MEAN) / _STD).unsqueeze(1), labels)


class _BatchLosses:
    """The training-batch losses of one run, kept per epoch in ``batch_losses.json`` beside
    the Trainer's checkpoint, so that a resumed run's ``steps.csv`` is whole.

    The file is rewritten as each epoch's last batch is logged (before the Trainer saves
    that epoch's checkpoint), and stores the settings of the run that wrote it. A resume
    keeps the first ``epochs done`` epochs of it, the epochs of the checkpoint, and refuses
    a file of other settings or with fewer epochs than the checkpoint.
    """

    def __init__(self, path: Path, settings: dict[str, Any], steps_per_epoch: int, trainer):
        self.path, self.settings, self.steps_per_epoch = path, settings, steps_per_epoch
        self.trainer = trainer
        self.epochs: list[list[float]] | None = None  # set at the first training batch
        self.current: list[float] = []

    def _saved(self, done: int) -> list[list[float]]:
        """The first ``done`` epochs of the file, checked to belong to this run."""
        if done == 0:
            return []
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            same, epochs = saved["settings"] == self.settings, saved["epochs"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise CheckpointError(
                f"{self.path}: cannot read the batch losses of the {done} epoch(s) in the "
                f"checkpoint ({err}); start a fresh run (another --out, or without --resume)"
            ) from err
        if not same or len(epochs) < done:
            why = (
                "was written by a run with other settings"
                if not same
                else (f"holds {len(epochs)} epoch(s), the checkpoint {done}")
            )
            raise CheckpointError(
                f"{self.path} {why}, so steps.csv would mix runs; start a fresh run "
                "(another --out, or without --resume)"
            )
        return [list(e) for e in epochs[:done]]

    def log(self, loss: float) -> None:
        if self.epochs is None:
            self.epochs = self._saved(len(self.trainer.history))
        self.current.append(loss)
        if len(self.current) == self.steps_per_epoch:
            self.epochs.append(self.current)
            self.current = []
            write_json(self.path, {"settings": self.settings, "epochs": self.epochs})

    def all(self, epochs: int) -> list[float]:
        """Every batch loss of the ``epochs`` epochs of the finished ``fit``."""
        if self.epochs is None:  # nothing trained: a finished run read back
            self.epochs = self._saved(epochs)
        return [v for epoch in self.epochs[:epochs] for v in epoch]


_STYLES = ("-", "--", "-.", ":", (0, (3, 1, 1, 1, 1, 1)), (0, (6, 2)))
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _style(i: int) -> dict[str, Any]:
    """Colour, line style and hollow marker of the i-th run: overlapping curves stay visible."""
    return {
        "color": f"C{i % 10}",
        "linestyle": _STYLES[i % len(_STYLES)],
        "marker": _MARKERS[i % len(_MARKERS)],
        "markersize": 9 - 0.8 * (i % 6),
        "fillstyle": "none",
    }


def _smooth(values: list[float], window: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    window = max(1, min(window, len(v)))
    kernel = np.ones(window) / window
    return np.convolve(v, kernel, mode="valid")


def _epoch_axis(ax, epochs: int, first: int, log: bool) -> None:
    """Integer epoch ticks ``first..epochs`` (at most 11) and, on a log axis, plain tick
    labels (``0.4``, not ``4e-01``), minor ones too where they fit. Call after plotting
    (the axis limits must be known)."""
    from matplotlib.ticker import FuncFormatter

    ax.set_xlabel("epoch")
    ax.set_xticks(range(first, epochs + 1, math.ceil(epochs / 10)))
    if log:
        ax.set_yscale("log")
        low, high = ax.get_ylim()
        # Minor labels: all of them within about a decade, 2 and 5 up to three decades.
        shown = (2, 3, 4, 5, 6, 7, 8, 9) if high / low < 15 else (2, 5) if high / low < 1e3 else ()

        def minor(v: float, _) -> str:
            mantissa = round(v / 10 ** math.floor(math.log10(v) + 1e-9), 6)
            return f"{v:g}" if mantissa in shown else ""

        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(minor))


def _plot(
    out: Path,
    histories: dict[str, list[dict]],
    steps: dict[str, list[float]],
    title: str,
) -> None:
    epochs_run = max(len(h) for h in histories.values())
    one_epoch = " (1 epoch: one point per run)" if epochs_run == 1 else ""
    fig, axes = new_figure(2, 2, size=(12, 7.5))
    steps_per_epoch = {run: len(s) / max(1, len(histories[run])) for run, s in steps.items()}
    window = max(1, int(min(steps_per_epoch.values()) // 5))
    stride = max(1, window // 4)  # thin the smoothed curve: keeps the PNG small
    for i, (run, history) in enumerate(histories.items()):
        style = _style(i)
        smooth = _smooth(steps[run], window)[::stride]
        x = (np.arange(len(smooth)) * stride + window) / steps_per_epoch[run]
        line = {k: style[k] for k in ("color", "linestyle")}
        for ax in axes[0]:
            ax.plot(x, smooth, label=run, lw=1.2, alpha=0.9, **line)
        for ax in axes[1]:
            ax.plot(
                [h["epoch"] for h in history], [h["eval_loss"] for h in history], label=run, **style
            )
    averaged = "per batch" if window == 1 else f"running mean of {window} batches"
    for row, what in ((0, "Train"), (1, "Test")):
        for col, log in ((0, False), (1, True)):
            ax = axes[row, col]
            ax.set_title(
                f"{what} loss" + (", log scale" if log else "") + (one_epoch if row else "")
            )
            ax.set_ylabel(f"NLL loss ({averaged})" if row == 0 else "NLL loss")
            _epoch_axis(ax, epochs_run, first=1 if row else 0, log=log)
    handles, labels = axes[1, 1].get_legend_handles_labels()  # lines with their markers
    axes[0, 1].legend(
        handles, labels, fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1.0), title="run"
    )
    fig.suptitle(title)
    save_figure(fig, out / "losses.png")

    fig, axes = new_figure(1, 2, size=(12, 4.5))
    for i, (run, history) in enumerate(histories.items()):
        epochs = [h["epoch"] for h in history]
        for ax, key in zip(axes[0], ("train_accuracy", "eval_accuracy"), strict=True):
            ax.plot(epochs, [100 * h[key] for h in history], label=run, **_style(i))
    for ax, what in zip(axes[0], ("Train accuracy", "Test accuracy"), strict=True):
        ax.set_title(what + one_epoch)
        _epoch_axis(ax, epochs_run, first=1, log=False)
        ax.set_ylabel("accuracy (%)")
    axes[0, 1].legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1.0), title="run")
    fig.suptitle(title)
    save_figure(fig, out / "accuracy.png")


UNITS = {
    "accuracy": "fraction of the test (or training) images classified right, 0-1",
    "loss": "mean negative log-likelihood per image, natural log",
    "seconds": "wall-clock seconds",
    "parameters": "real parameters, a complex one counted as two",
    "lr": "SGD learning rate",
}
"""The units of results.json: every key ending in one of these words is in its unit."""


def run(args: argparse.Namespace) -> dict[str, Any]:
    config = _resolve(args)
    data = load_images(args.dataset, args.data_dir, args.download)
    gen = torch.Generator().manual_seed(args.seed)
    train_set = _dataset(data.train_images, data.train_labels, args.train_size, gen, "--train-size")
    test_set = _dataset(data.test_images, data.test_labels, args.test_size, gen, "--test-size")
    train_cfg = TrainConfig(
        epochs=config["epochs"],
        batch_size=config["batch_size"],
        optimizer="sgd",
        lr=config["lr"],
        momentum=config["momentum"],
        seed=args.seed,
        progress=args.progress,
    )
    steps_per_epoch = math.ceil(len(train_set) / train_cfg.batch_size)
    variants = config["compare"] == "variants"
    reference = SEED_VARIANTS_MNIST if variants else SEED_ACTIVATIONS_MNIST
    histories: dict[str, list[dict]] = {}
    steps: dict[str, list[float]] = {}
    results: dict[str, dict[str, Any]] = {}
    summaries: list[str] = []
    rows: list[dict[str, Any]] = []
    for name in config["runs"]:
        torch.manual_seed(args.seed)
        model = build_model(name, config["net"], config["activation"])
        text = summary(model)
        summaries.append(f"== {name} ({type(model).__name__}, widths {model.widths}) ==\n{text}\n")
        print(summaries[-1])
        transform = variant_transform(name) if variants else None
        # Everything outside TrainConfig that defines this run: a resume must match it.
        run_settings = {
            "study": "image-ablation",
            "dataset": data.name,
            "train_size": len(train_set),
            "test_size": len(test_set),
            "net": config["net"],
            "compare": config["compare"],
            "run": name,
            "activation": config["activation"] if variants else name,
            "transform_test": bool(args.transform_test and variants),
            "normalisation": [_MEAN, _STD],
        }
        run_dir = args.out / "runs" / name
        nll = nn.NLLLoss()
        log: list[_BatchLosses] = []

        def loss_fn(outputs, targets, _log=log, _nll=nll):
            loss = _nll(outputs, targets)
            if torch.is_grad_enabled():  # training batches; evaluation runs under no_grad
                _log[0].log(float(loss.detach()))
            return loss

        trainer = Trainer(
            model,
            loss_fn,
            train_set,
            test_set,
            config=train_cfg,
            out_dir=run_dir,
            train_transform=transform,
            eval_transform=transform if args.transform_test else None,
            run_settings=run_settings,
        )
        identity = {
            "run_settings": trainer.run_settings,
            "train": {
                k: v
                for k, v in _plain(train_cfg.to_dict()).items()
                if k not in ("epochs", "progress")
            },
        }
        log.append(_BatchLosses(run_dir / "batch_losses.json", identity, steps_per_epoch, trainer))
        history = trainer.fit(resume=args.resume)
        batch_losses = log[0].all(len(history))
        histories[name], steps[name] = history, batch_losses
        test_acc = [h["eval_accuracy"] for h in history]
        results[name] = {
            "model": type(model).__name__,
            "widths": list(model.widths),
            "parameters": count_parameters(model),
            "final_test_accuracy": test_acc[-1],
            "mean_test_accuracy": float(np.mean(test_acc)),
            "final_test_loss": history[-1]["eval_loss"],
            "final_train_loss": history[-1]["train_loss"],
            "seed_reported_accuracy": reference.get(name),
            "history": history,
        }
        if trainer.resumes:
            results[name]["resumes"] = trainer.resumes
        rows += [
            {
                "run": name,
                "epoch": h["epoch"],
                "train_loss": h["train_loss"],
                "train_accuracy": h["train_accuracy"],
                "test_loss": h["eval_loss"],
                "test_accuracy": h["eval_accuracy"],
                "seconds": h["seconds"],
            }
            for h in history
        ]
    write_csv(args.out / "metrics.csv", rows)
    write_csv(
        args.out / "steps.csv",
        [
            {"run": r, "step": i + 1, "train_loss": v}
            for r, s in steps.items()
            for i, v in enumerate(s)
        ],
    )
    (args.out / "summaries.txt").write_text("\n".join(summaries), encoding="utf-8")
    title = (
        f"image-ablation, {'input variants' if variants else 'activations'}: "
        f"{config['net']} CNN on {_DATA_NAMES.get(data.name, data.name)} "
        f"({len(train_set):,} training / {len(test_set):,} test images)"
    )
    _plot(args.out, histories, steps, title)
    metric = "final_test_accuracy" if variants else "mean_test_accuracy"
    _print_table(results, metric, variants, config["epochs"], data.name, len(test_set))
    return {
        "resolved": {k: v for k, v in config.items() if k not in ("variants", "activations")},
        "dataset": data.name,
        "train_images": len(train_set),
        "test_images": len(test_set),
        "compared_metric": metric,
        "units": UNITS,
        "runs": results,
    }


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _print_table(
    results: dict[str, dict[str, Any]],
    metric: str,
    variants: bool,
    epochs: int,
    dataset: str,
    n_test: int,
) -> None:
    """The headline: each run's accuracy beside the seed's, and how far apart is noise."""
    what = f"after epoch {epochs}" if variants else f"mean over {epochs} epochs"
    shown = _DATA_NAMES.get(dataset, dataset)
    print(f"\ntest accuracy (%) {what}, on {n_test:,} test images of {shown}:")
    print(f"{'run':<14}{'params':>10}{'ours':>8}{'seed':>8}")
    for name, res in results.items():
        seed = res["seed_reported_accuracy"]
        seed_text = f"{100 * seed:>8.2f}" if seed is not None else f"{'-':>8}"
        print(f"{name:<14}{res['parameters']:>10,}{100 * res[metric]:>8.2f}{seed_text}")
    mean = float(np.mean([res[metric] for res in results.values()]))
    error = 100 * math.sqrt(mean * (1 - mean) / n_test)
    print(
        "seed: the study's own runs on full MNIST ("
        + ("10 epochs" if variants else "5 epochs, 32/64-channel net")
        + f"); one run's standard error on {n_test:,} test images is about {error:.1f} "
        "points, so closer runs are not ranked"
    )


register(
    "image-ablation",
    help="real vs complex CNNs, synthetic complex inputs and activations on MNIST-like images",
    add_arguments=add_arguments,
    run=run,
    description=__doc__,
    check=check,
    checkpoints=True,
)
