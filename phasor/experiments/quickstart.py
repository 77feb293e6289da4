"""The quick-start study: a complex MLP learns the embedded handwritten digits.

Pixels are phase-encoded (``x -> x exp(i pi x)``, seed 000), passed through a complex
``Linear -> ModReLU -> Linear`` network, and classified by the magnitude of the complex logits.
A few epochs on the 4,000 embedded training digits reach about 90% test accuracy in seconds.

Writes ``metrics.csv`` and ``metrics.json`` (per epoch: train/test loss and accuracy),
``checkpoints/latest.pt`` (``--resume`` continues from it, also with more ``--epochs``) and
``curves.png``.
"""

from __future__ import annotations

import argparse

import torch
from torch.utils.data import TensorDataset

from phasor import nn as cnn
from phasor.data import image_dataset_names, load_images
from phasor.experiments import register
from phasor.experiments._flags import positive_float, positive_int
from phasor.functional import complex_cross_entropy
from phasor.plotting import new_figure, save_figure
from phasor.train import TrainConfig, Trainer

UNITS = {
    "accuracy": "fraction of the test (or training) images classified right, 0-1",
    "loss": "mean cross-entropy of |z| per image, natural log",
    "seconds": "wall-clock seconds",
    "lr": "Adam learning rate",
}
"""The units of results.json: every key ending in one of these words is in its unit."""

_DATA_NAMES = {
    "embedded": "the embedded digits",
    "mnist": "MNIST",
    "kmnist": "KMNIST",
    "fashion-mnist": "Fashion-MNIST",
}


def build_model(hidden: int) -> torch.nn.Sequential:
    """``PhaseEncode -> Linear(784, hidden) -> ModReLU -> Linear(hidden, 10)``, complex64."""
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        cnn.PhaseEncode(),
        cnn.Linear(784, hidden),
        cnn.ModReLU(hidden),
        cnn.Linear(hidden, 10),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        default="embedded",
        choices=image_dataset_names(),
        help="image data set; 'embedded' is the 4,000 + 1,000 digits shipped with phasor",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder with the data set's files (default: $PHASOR_DATA/NAME)",
    )
    parser.add_argument("--hidden", type=positive_int, default=128, help="complex hidden units")
    parser.add_argument("--epochs", type=positive_int, default=5, help="training epochs")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="images per Adam step")
    parser.add_argument("--lr", type=positive_float, default=1e-3, help="Adam learning rate")


def _plot(history: list[dict], path, title: str) -> None:
    """Loss and accuracy per epoch; after a single epoch, bars instead of one dot each."""
    from matplotlib.ticker import MaxNLocator

    figure, axes = new_figure(1, 2, size=(10, 4))
    panels = (("loss", "cross-entropy of |z|"), ("accuracy", "accuracy (fraction)"))
    for ax, (metric, ylabel) in zip(axes[0], panels, strict=True):
        if len(history) == 1:
            values = [history[0][f"train_{metric}"], history[0][f"eval_{metric}"]]
            bars = ax.bar(["train", "test"], values, color=["C0", "C1"], width=0.5)
            ax.bar_label(bars, fmt="%.3f")
            ax.set(ylabel=ylabel, title=f"{metric} after 1 epoch")
            ax.margins(y=0.15)
            continue
        epochs = [row["epoch"] for row in history]
        for key, label, style in (("train", "train", "o-"), ("eval", "test", "s--")):
            ax.plot(epochs, [row[f"{key}_{metric}"] for row in history], style, label=label)
        ax.set(xlabel="epoch", ylabel=ylabel, title=f"{metric} per epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
    figure.suptitle(title)
    save_figure(figure, path)


def run(args: argparse.Namespace) -> dict:
    data = load_images(args.dataset, args.data_dir)
    train = TensorDataset(data.train_images, data.train_labels)
    test = TensorDataset(data.test_images, data.test_labels)
    torch.manual_seed(args.seed)
    model = build_model(args.hidden)
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer="adam",
        lr=args.lr,
        seed=args.seed,
        progress=args.progress,
    )
    trainer = Trainer(
        model,
        lambda logits, target: complex_cross_entropy(logits, target, real_map="magnitude"),
        train,
        test,
        config=config,
        out_dir=args.out,
        run_settings={"study": "quickstart", "dataset": data.name, "hidden": args.hidden},
    )
    history = trainer.fit(resume=args.resume)
    shown = _DATA_NAMES.get(data.name, data.name)
    title = (
        f"quickstart: complex MLP ({args.hidden} hidden units) on {shown} "
        f"({len(train):,} training / {len(test):,} test images)"
    )
    _plot(history, args.out / "curves.png", title)
    last = history[-1]
    print(
        f"\ntest accuracy {last['eval_accuracy']:.3f} after {last['epoch']} "
        f"epoch{'s' * (last['epoch'] > 1)} on {len(test):,} test images of {shown} "
        f"(chance 0.1; the default 5 epochs on the "
        f"embedded digits reach about 0.9); train loss {last['train_loss']:.3f}"
    )
    results = {
        "final_test_accuracy": last["eval_accuracy"],
        "final_train_loss": last["train_loss"],
        "units": UNITS,
        "history": history,
    }
    if trainer.resumes:
        results["resumes"] = trainer.resumes
    return results


register(
    "quickstart",
    help="complex MLP (phase-encoded pixels, modReLU) on handwritten digits",
    add_arguments=add_arguments,
    run=run,
    description=__doc__,
    checkpoints=True,
)
