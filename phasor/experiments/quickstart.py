"""The quick-start study: a complex MLP learns the embedded handwritten digits.

Pixels are phase-encoded (``x -> x exp(i pi x)``, seed 000), passed through a complex
``Linear -> ModReLU -> Linear`` network, and classified by the magnitude of the complex logits.
A few epochs on the 4,000 embedded training digits reach about 90% test accuracy in seconds.
"""

from __future__ import annotations

import argparse

import torch
from torch.utils.data import TensorDataset

from phasor import nn as cnn
from phasor.data import image_dataset_names, load_images
from phasor.experiments import register
from phasor.functional import complex_cross_entropy
from phasor.plotting import new_figure, save_figure
from phasor.train import TrainConfig, Trainer


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
    parser.add_argument("--dataset", default="embedded", choices=image_dataset_names())
    parser.add_argument("--data-dir", default=None, help="folder with the data set's files")
    parser.add_argument("--hidden", type=int, default=128, help="complex hidden units")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")


def run(args: argparse.Namespace) -> dict:
    data = load_images(args.dataset, args.data_dir)
    train = TensorDataset(data.train_images, data.train_labels)
    test = TensorDataset(data.test_images, data.test_labels)
    torch.manual_seed(args.seed)
    model = build_model(args.hidden)
    config = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, optimizer="adam", lr=args.lr, seed=args.seed
    )
    history = Trainer(
        model,
        lambda logits, target: complex_cross_entropy(logits, target, real_map="magnitude"),
        train,
        test,
        config=config,
        out_dir=args.out,
    ).fit()
    figure, axes = new_figure(1, 2)
    epochs = [row["epoch"] for row in history]
    for key, label in (("train", "train"), ("eval", "test")):
        axes[0, 0].plot(epochs, [row[f"{key}_loss"] for row in history], marker="o", label=label)
        axes[0, 1].plot(
            epochs, [row[f"{key}_accuracy"] for row in history], marker="o", label=label
        )
    axes[0, 0].set(xlabel="epoch", ylabel="cross-entropy of |z|", title="loss")
    axes[0, 1].set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in axes[0]:
        ax.legend()
    save_figure(figure, args.out / "curves.png")
    return {
        "final_test_accuracy": history[-1]["eval_accuracy"],
        "final_train_loss": history[-1]["train_loss"],
        "history": history,
    }


register(
    "quickstart",
    help="complex MLP (phase-encoded pixels, modReLU) on handwritten digits",
    add_arguments=add_arguments,
    run=run,
    description=__doc__,
)
