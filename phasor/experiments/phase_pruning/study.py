"""The "phase-pruning" study: seed 000's Figures 1 and 3, in the probe or projected regime."""

from __future__ import annotations

import argparse
import copy
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from phasor.data import load_images
from phasor.experiments.phase_pruning.numpy_mlp import NumpyMLP, encode_inputs, init_weights
from phasor.experiments.phase_pruning.torch_mlp import TorchMLP
from phasor.io import write_csv
from phasor.plotting import new_figure, save_figure
from phasor.train.errors import TrainingError
from phasor.weights import PAPER_SCALES, project, random_half_mask

__all__ = ["PRESETS", "add_arguments", "run"]

#: Curves of the complex and of the real network, in the paper's plotting order.
COMPLEX_CURVES = ("origin", "half", "phase", "amplitude", "real", "imag")
REAL_CURVES = ("origin", "half", "sign", "magnitude")

#: The paper's protocols (seed 000 and its public code). Flags given explicitly win.
PRESETS: dict[str, dict] = {
    "fig1-left": {
        "hidden": ["100"], "real": False, "lr": 0.1, "steps": 2000, "train_size": 30000,
        "test_size": 10000, "eval_every": 100, "dataset": "mnist",
    },
    "fig1-right": {
        "hidden": ["512,100"], "real": True, "lr": 0.2, "steps": 2000, "train_size": 30000,
        "test_size": 10000, "eval_every": 100, "dataset": "mnist",
    },
    "fig3": {
        "hidden": ["512", "20", "512,100", "50,20"], "real": False, "lr": 0.1, "steps": 2000,
        "train_size": 30000, "test_size": 10000, "eval_every": 100, "dataset": "mnist",
    },
}  # fmt: skip

#: Values used when neither a flag nor a preset sets them (about a minute on embedded data).
DEFAULTS = {
    "hidden": ["100"], "real": False, "steps": 400, "train_size": 1000, "test_size": None,
    "eval_every": 25, "dataset": "embedded",
}  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The study's flags; ``None`` defaults are filled from ``--preset`` or :data:`DEFAULTS`."""
    parser.add_argument("--preset", choices=sorted(PRESETS), help="the paper's protocol")
    parser.add_argument(
        "--hidden",
        action="append",
        metavar="WIDTHS",
        help="hidden widths, comma-separated (e.g. 100 or 512,100); repeat for several "
        f"networks (default {DEFAULTS['hidden'][0]})",
    )
    parser.add_argument(
        "--real",
        action="store_true",
        default=None,
        help="real network (ReLU after the first hidden layer, later hidden layers linear, "
        "softmax of z) with sign/magnitude curves instead of the complex one",
    )
    parser.add_argument(
        "--regime",
        choices=("probe", "projected"),
        default="probe",
        help="probe: train unpruned, evaluate projected copies at checkpoints (the paper's code); "
        "projected: one run per curve, weights replaced by their projection after every step",
    )
    parser.add_argument("--steps", type=int, help=f"gradient steps (default {DEFAULTS['steps']})")
    parser.add_argument("--lr", type=float, help="learning rate (default 0.1 complex, 0.2 real)")
    parser.add_argument(
        "--train-size",
        type=int,
        help=f"first N training images (default {DEFAULTS['train_size']})",
    )
    parser.add_argument("--test-size", type=int, help="first N test images (default: all)")
    parser.add_argument(
        "--eval-every",
        type=int,
        help=f"steps between checkpoints (default {DEFAULTS['eval_every']})",
    )
    parser.add_argument("--dataset", help="embedded (default), mnist, ...")
    parser.add_argument("--data-dir", help="folder of the data set's IDX files")
    parser.add_argument(
        "--half-draws", type=int, default=10, help="random halves averaged per checkpoint (probe)"
    )
    parser.add_argument(
        "--scale",
        choices=("paper", "1", "mean"),
        default="paper",
        help="amplitude of projected weights: the paper's constants (phase 0.01, amplitude/sign/"
        "magnitude 0.1), 1, or each layer's mean magnitude",
    )
    parser.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default="float64",
        help="float64/complex128 (the paper's NumPy precision) or float32/complex64",
    )
    parser.add_argument(
        "--impl", choices=("numpy", "torch"), default="numpy",
        help="from-scratch NumPy network (hand-written gradients) or phasor layers + autograd",
    )  # fmt: skip


def _resolve(args: argparse.Namespace) -> argparse.Namespace:
    """Fill unset flags from the preset, then from the defaults; check the values."""
    cfg = copy.copy(args)
    preset = PRESETS.get(args.preset, {})
    for key, default in DEFAULTS.items():
        if getattr(cfg, key, None) is None:
            setattr(cfg, key, preset.get(key, default))
    if cfg.lr is None:
        cfg.lr = preset.get("lr", 0.2 if cfg.real else 0.1)
    for key in ("steps", "eval_every", "half_draws"):
        if getattr(cfg, key) < 1:
            raise ValueError(
                f"--{key.replace('_', '-')} must be at least 1, got {getattr(cfg, key)}"
            )
    cfg.widths = [_parse_widths(h) for h in cfg.hidden]
    return cfg


def _parse_widths(text: str) -> list[int]:
    try:
        widths = [int(v) for v in str(text).split(",")]
    except ValueError:
        raise ValueError(f"--hidden must be comma-separated integers, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise ValueError(f"--hidden widths must be positive, got {text!r}")
    return widths


def _scale(kind: str, scale: str) -> float | str:
    if kind in ("origin", "half"):
        return 1.0
    return {"paper": PAPER_SCALES[kind], "1": 1.0, "mean": "mean"}[scale]


@dataclass
class _Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class _Net:
    """One network behind a common interface for both implementations."""

    def __init__(self, weights, activations, impl, dtype, data: _Data):
        self.impl = impl
        self.data = data
        if impl == "numpy":
            self.model = NumpyMLP(weights, activations, dtype)
        else:
            self.model = TorchMLP(weights, activations, dtype)
            self.tensors = {
                k: torch.from_numpy(getattr(data, k))
                for k in ("x_train", "y_train", "x_test", "y_test")
            }

    def step(self, lr: float) -> float:
        if self.impl == "numpy":
            return self.model.step(self.data.x_train, self.data.y_train, lr)
        return self.model.step(self.tensors["x_train"], self.tensors["y_train"], lr)

    def weights(self) -> list[torch.Tensor]:
        if self.impl == "numpy":
            return [torch.from_numpy(w) for w in self.model.weights]
        return [m.weight.data for m in self.model.net if hasattr(m, "weight")]

    def accuracy(self, weights: list[torch.Tensor] | None = None) -> float:
        """Test accuracy (%) with the current weights or with ``weights`` (a projection)."""
        if self.impl == "numpy":
            w = None if weights is None else [t.numpy() for t in weights]
            pred = self.model.predict(self.data.x_test, w)
            return 100.0 * float((pred == self.data.y_test).mean())
        model = self.model
        if weights is not None:
            model = copy.deepcopy(self.model)
            with torch.no_grad():
                for param, w in zip(
                    (m.weight for m in model.net if hasattr(m, "weight")), weights, strict=False
                ):
                    param.copy_(w)
        pred = model.predict(self.tensors["x_test"])
        return 100.0 * float((pred == self.tensors["y_test"]).double().mean())

    def set_weights_(self, weights: list[torch.Tensor]) -> None:
        with torch.no_grad():
            for current, new in zip(self.weights(), weights, strict=True):
                current.copy_(new)


def _variant(weights, curve, scale, masks):
    """The weights of one curve: projected (phase, ...) or with hidden units masked (half)."""
    if curve == "origin":
        return weights
    if curve == "half":
        out = [w.clone() for w in weights]
        for k, keep in masks.items():
            out[k][~keep] = 0
            out[k + 1][:, ~keep] = 0
        return out
    return [project(w, curve, _scale(curve, scale)) for w in weights]


def _checkpoints(steps: int, every: int) -> list[int]:
    points = list(range(every, steps + 1, every))
    return points if points and points[-1] == steps else [*points, steps]


def _train(net, cfg, checkpoints, bar, evaluate, after_step=None):
    """Train ``cfg.steps`` steps, calling ``evaluate(step)`` at checkpoints; returns the
    training losses and the step at which the run diverged (``None`` if it did not)."""
    losses = []
    for step in range(1, cfg.steps + 1):
        try:
            loss = net.step(cfg.lr)
        except TrainingError as err:
            tqdm.write(f"phasor: run stopped at step {step}: {err}", file=sys.stderr)
            bar.update(cfg.steps - step + 1)
            return losses, step
        if after_step is not None:
            after_step()
        losses.append(loss)
        bar.update(1)
        if step in checkpoints:
            evaluate(step)
    return losses, None


def _run_probe(cfg, weights, activations, data, curves, bar, gen):
    net = _Net(weights, activations, cfg.impl, cfg.dtype, data)
    acc = {c: [] for c in curves}
    steps: list[int] = []
    hidden_sizes = [w.shape[0] for w in weights[:-1]]

    def evaluate(step):
        current = net.weights()
        steps.append(step)
        for curve in curves:
            if curve == "half":
                draws = []
                for _ in range(cfg.half_draws):
                    masks = {k: random_half_mask(n, gen) for k, n in enumerate(hidden_sizes)}
                    draws.append(net.accuracy(_variant(current, "half", cfg.scale, masks)))
                acc[curve].append(float(np.mean(draws)))
            else:
                w = None if curve == "origin" else _variant(current, curve, cfg.scale, None)
                acc[curve].append(net.accuracy(w))

    losses, diverged = _train(net, cfg, set(_checkpoints(cfg.steps, cfg.eval_every)), bar, evaluate)
    return {c: (steps, acc[c], diverged) for c in curves}, losses


def _run_projected(cfg, weights, activations, data, curves, bar, gen):
    out, losses_by_curve = {}, {}
    hidden_sizes = [w.shape[0] for w in weights[:-1]]
    for curve in curves:
        net = _Net(weights, activations, cfg.impl, cfg.dtype, data)
        masks = {k: random_half_mask(n, gen) for k, n in enumerate(hidden_sizes)}

        def constrain(net=net, curve=curve, masks=masks):
            net.set_weights_(_variant(net.weights(), curve, cfg.scale, masks))

        constrain()
        steps, acc = [], []

        def evaluate(step, net=net, steps=steps, acc=acc):
            steps.append(step)
            acc.append(net.accuracy())

        checkpoints = set(_checkpoints(cfg.steps, cfg.eval_every))
        losses, diverged = _train(net, cfg, checkpoints, bar, evaluate, constrain)
        out[curve] = (steps, acc, diverged)
        losses_by_curve[curve] = losses
    return out, losses_by_curve


def _label(widths: list[int], real: bool) -> str:
    return f"{'real' if real else 'complex'}-{'-'.join(map(str, widths))}"


def _plot(runs: dict, cfg, path) -> None:
    n = len(runs)
    ncols = 1 if n == 1 else 2
    nrows = (n + ncols - 1) // ncols
    fig, axes = new_figure(nrows, ncols, size=(6.2 * ncols, 3.6 * nrows))
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, (label, run) in zip(axes.flat, runs.items(), strict=False):
        for name, curve in run["curves"].items():
            shown = name if name in ("origin", "half") else f"only {name}"
            ax.plot(curve["steps"], curve["accuracy"], marker=".", label=shown)
        for step in sorted(set(run["diverged"].values())):
            names = [c for c, d in run["diverged"].items() if d == step]
            who = "" if len(names) == len(run["curves"]) else ", ".join(names) + " "
            ax.axvline(step, color="k", ls=":", label=f"{who}diverged")
        widths = label.split("-", 1)[1].replace("-", ", ")
        ax.set_title(f"{label.split('-')[0]} net, hidden {widths} ({cfg.regime})")
        ax.set_xlabel("iteration")
        ax.set_ylabel("test accuracy (%)")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    save_figure(fig, path)


def run(args: argparse.Namespace) -> dict:
    """Train the configured networks, evaluate every curve, write CSV + PNG, return results."""
    cfg = _resolve(args)
    images = load_images(
        cfg.dataset, cfg.data_dir, train_size=cfg.train_size, test_size=cfg.test_size
    )
    train_x, train_y = images.train_images.numpy(), images.train_labels.numpy()
    test_x, test_y = images.test_images.numpy(), images.test_labels.numpy()
    curves = REAL_CURVES if cfg.real else COMPLEX_CURVES
    data = _Data(
        encode_inputs(train_x, not cfg.real, cfg.dtype),
        train_y,
        encode_inputs(test_x, not cfg.real, cfg.dtype),
        test_y,
    )
    n_train = cfg.steps * len(cfg.widths) * (len(curves) if cfg.regime == "projected" else 1)
    runs: dict[str, dict] = {}
    with tqdm(total=n_train, desc="phase-pruning", unit="step") as bar:
        for widths in cfg.widths:
            label = _label(widths, cfg.real)
            bar.set_postfix_str(label)
            sizes = [data.x_train.shape[1], *widths, images.num_classes]
            weights = init_weights(sizes, not cfg.real, np.random.default_rng(cfg.seed))
            if cfg.real:  # the paper's real net: ReLU after the first hidden layer only
                activations = ["relu"] + ["identity"] * (len(widths) - 1)
            else:
                activations = ["relu"] * len(widths)
            gen = torch.Generator().manual_seed(cfg.seed)
            started = time.perf_counter()
            fn = _run_probe if cfg.regime == "probe" else _run_projected
            result, losses = fn(cfg, weights, activations, data, curves, bar, gen)
            run_info = {
                "hidden": widths,
                "real": bool(cfg.real),
                "curves": {},
                "train_loss": losses,
            }
            diverged = {c: d for c, (_, _, d) in result.items() if d is not None}
            run_info["diverged_at_step"] = min(diverged.values()) if diverged else None
            run_info["diverged"] = diverged
            for curve, (steps, acc, _) in result.items():
                best = int(np.argmax(acc)) if acc else None
                run_info["curves"][curve] = {
                    "steps": steps,
                    "accuracy": acc,
                    "final": acc[-1] if acc and curve not in diverged else None,
                    "best": acc[best] if acc else None,
                    "best_step": steps[best] if acc else None,
                }
            run_info["seconds"] = round(time.perf_counter() - started, 2)
            runs[label] = run_info

    rows = [
        {"run": label, "regime": cfg.regime, "curve": curve, "step": s, "accuracy": a}
        for label, r in runs.items()
        for curve, c in r["curves"].items()
        for s, a in zip(c["steps"], c["accuracy"], strict=True)
    ]
    write_csv(cfg.out / "curves.csv", rows)
    name = cfg.preset or "custom"
    figure = cfg.out / f"phase-pruning-{name}-{cfg.regime}.png"
    _plot(runs, cfg, figure)
    return {
        "resolved": {
            "hidden": cfg.widths, "real": bool(cfg.real), "regime": cfg.regime, "lr": cfg.lr,
            "steps": cfg.steps, "eval_every": cfg.eval_every, "dataset": cfg.dataset,
            "train_size": len(data.y_train), "test_size": len(data.y_test),
            "half_draws": cfg.half_draws, "scale": cfg.scale, "dtype": cfg.dtype, "impl": cfg.impl,
        },
        "final_accuracy": {
            f"{label}/{c}": v["final"] for label, r in runs.items() for c, v in r["curves"].items()
        },
        "best_accuracy": {
            f"{label}/{c}": v["best"] for label, r in runs.items() for c, v in r["curves"].items()
        },
        "runs": runs,
        "figure": figure.name,
    }  # fmt: skip
