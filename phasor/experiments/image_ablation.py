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

Writes ``metrics.csv`` (per epoch: train/test loss and accuracy of every run),
``steps.csv`` (the loss of every training batch), ``summaries.txt`` (each model's layer
table with parameter counts), ``losses.png`` (train loss, train loss on a log scale, test loss,
test loss on a log scale) and ``accuracy.png``.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

from phasor.data import image_dataset_names, load_images
from phasor.experiments import register
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
from phasor.train import TrainConfig, Trainer

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
    "real": 98.93,
    "complex": 99.35,
    "random": 99.38,
    "fixed-imag": 98.87,
    "fixed-phase": 97.15,
}
"""MNIST test accuracy (%) after 10 epochs reported by the study (CReLU, train-only transforms)."""

SEED_ACTIVATIONS_MNIST = {
    "crelu": 99.07,
    "modrelu": 97.01,
    "zrelu": 81.07,
    "split_tanh": 98.23,
    "cardioid": 99.14,
}
"""MNIST test accuracy (%) averaged over 5 epochs reported by the study (32/64-channel net)."""

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


def _names(text: str, allowed: tuple[str, ...], flag: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise ValueError(
            f"{flag}: unknown or empty {bad or text!r}; choose from {', '.join(allowed)}"
        )
    return names


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
        help="compare input variants or activations (default: from the preset)",
    )
    parser.add_argument("--dataset", choices=image_dataset_names(), default="embedded")
    parser.add_argument("--data-dir", default=None, help="folder with the IDX files")
    parser.add_argument(
        "--download",
        action="store_true",
        help="download missing files (KMNIST, Fashion-MNIST, MNIST)",
    )
    parser.add_argument(
        "--train-size", type=int, default=None, help="train on a random subset of N images (seeded)"
    )
    parser.add_argument(
        "--test-size", type=int, default=None, help="test on a random subset of N images (seeded)"
    )
    parser.add_argument(
        "--net",
        choices=("auto", "mnist", "fashion"),
        default=None,
        help="10/20-channel 'mnist' or 32/64-channel 'fashion' net; auto picks "
        "'fashion' for fashion-mnist",
    )
    parser.add_argument("--variants", default=None, help=f"comma list of {', '.join(VARIANTS)}")
    parser.add_argument(
        "--activations", default=None, help=f"comma list of {', '.join(ACTIVATIONS)}"
    )
    parser.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        default=None,
        help="activation of the complex nets in the variants comparison",
    )
    parser.add_argument(
        "--transform-test",
        action="store_true",
        help="apply the variant's transform to test batches too",
    )
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--momentum", type=float, default=None)


def _resolve(args: argparse.Namespace) -> dict[str, Any]:
    config = dict(PRESETS[args.preset])
    for key in config:
        value = getattr(args, key, None)
        if value is not None:
            config[key] = value
    if config["net"] == "auto":
        config["net"] = "fashion" if args.dataset == "fashion-mnist" else "mnist"
    if config["compare"] == "variants":
        config["runs"] = _names(config["variants"], VARIANTS, "--variants")
    else:
        config["runs"] = _names(config["activations"], ACTIVATIONS, "--activations")
    return config


def _dataset(
    images: torch.Tensor, labels: torch.Tensor, size: int | None, gen: torch.Generator, flag: str
) -> TensorDataset:
    """Normalised ``(N, 1, 28, 28)`` images with labels; ``size`` keeps a seeded random subset
    (not the first N: some files, like the embedded digits, are sorted by class)."""
    if size is not None:
        if not 0 < size <= len(labels):
            raise ValueError(f"{flag} must be in 1..{len(labels)}, got {size}")
        keep = torch.randperm(len(labels), generator=gen)[:size].sort().values
        images, labels = images[keep], labels[keep]
    return TensorDataset(((images - _MEAN) / _STD).unsqueeze(1), labels)


def _smooth(values: list[float], window: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    window = max(1, min(window, len(v)))
    kernel = np.ones(window) / window
    return np.convolve(v, kernel, mode="valid")


def _plot(out, histories: dict[str, list[dict]], steps: dict[str, list[float]]) -> None:
    fig, axes = new_figure(2, 2, size=(10, 7))
    steps_per_epoch = {run: len(s) / max(1, len(histories[run])) for run, s in steps.items()}
    window = max(1, int(min(steps_per_epoch.values()) // 5))
    stride = max(1, window // 4)  # thin the smoothed curve: keeps the PNG small
    for run, history in histories.items():
        smooth = _smooth(steps[run], window)[::stride]
        x = (np.arange(len(smooth)) * stride + window) / steps_per_epoch[run]
        epochs = [h["epoch"] for h in history]
        test = [h["eval_loss"] for h in history]
        for ax in axes[0]:
            ax.plot(x, smooth, label=run, lw=1)
        for ax in axes[1]:
            ax.plot(epochs, test, marker="o", label=run)
    titles = ("Train loss", "Train loss (log scale)", "Test loss", "Test loss (log scale)")
    for ax, title in zip(axes.flat, titles, strict=True):
        ax.set_title(title + (f" (running mean of {window} batches)" if "Train" in title else ""))
        ax.set_xlabel("epoch")
        ax.set_ylabel("NLL loss")
        if "log" in title:
            ax.set_yscale("log")
        ax.legend(fontsize=8)
    save_figure(fig, out / "losses.png")

    fig, axes = new_figure(1, 2, size=(11, 4))
    for run, history in histories.items():
        epochs = [h["epoch"] for h in history]
        axes[0, 0].plot(epochs, [100 * h["train_accuracy"] for h in history], marker="o", label=run)
        axes[0, 1].plot(epochs, [100 * h["eval_accuracy"] for h in history], marker="o", label=run)
    for ax, title in zip(axes.flat, ("Train accuracy", "Test accuracy"), strict=True):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)")
        ax.legend(fontsize=8)
    save_figure(fig, out / "accuracy.png")


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
        batch_losses: list[float] = []
        nll = nn.NLLLoss()

        def loss_fn(outputs, targets, _log=batch_losses, _nll=nll):
            loss = _nll(outputs, targets)
            if torch.is_grad_enabled():  # training batches; evaluation runs under no_grad
                _log.append(float(loss.detach()))
            return loss

        run_dir = args.out / "runs" / name
        trainer = Trainer(
            model,
            loss_fn,
            train_set,
            test_set,
            config=train_cfg,
            out_dir=run_dir,
            train_transform=transform,
            eval_transform=transform if args.transform_test else None,
        )
        losses_file = run_dir / "batch_losses.json"
        if args.resume and losses_file.is_file():
            batch_losses[:] = json.loads(losses_file.read_text())["train_loss"]
        history = trainer.fit(resume=args.resume)
        write_json(losses_file, {"train_loss": batch_losses})
        histories[name], steps[name] = history, batch_losses
        test_acc = [100 * h["eval_accuracy"] for h in history]
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
    _plot(args.out, histories, steps)
    metric = "final_test_accuracy" if variants else "mean_test_accuracy"
    print(f"\n{'run':<14}{'params':>10}{'ours %':>9}{'seed %':>9}  ({metric}, seed on full MNIST)")
    for name, res in results.items():
        seed = res["seed_reported_accuracy"]
        seed_text = f"{seed:>9.2f}" if seed is not None else f"{'-':>9}"
        print(f"{name:<14}{res['parameters']:>10,}{res[metric]:>9.2f}{seed_text}")
    return {
        "resolved": {k: v for k, v in config.items() if k not in ("variants", "activations")},
        "dataset": data.name,
        "train_images": len(train_set),
        "test_images": len(test_set),
        "compared_metric": metric,
        "runs": results,
    }


register(
    "image-ablation",
    help="real vs complex CNNs, synthetic complex inputs and activations on MNIST-like images",
    add_arguments=add_arguments,
    run=run,
    description=__doc__,
    checkpoints=True,
)
