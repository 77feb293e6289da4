"""The "phase-pruning" study: seed 000's Figures 1 and 3, in the probe or projected regime."""

from __future__ import annotations

import argparse
import copy
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from phasor.data import image_dataset_names, load_images
from phasor.experiments._flags import FlagError, positive_float, positive_int
from phasor.experiments.phase_pruning.numpy_mlp import (
    ACTIVATIONS,
    NumpyMLP,
    encode_inputs,
    init_weights,
)
from phasor.experiments.phase_pruning.torch_mlp import TorchMLP
from phasor.io import write_csv
from phasor.plotting import line_style, new_figure, save_figure
from phasor.train.errors import TrainingError
from phasor.weights import PAPER_SCALES, project, random_half_mask

__all__ = [
    "DEFAULTS",
    "PRESETS",
    "UNITS",
    "activation_list",
    "add_arguments",
    "check",
    "hidden_activations",
    "run",
    "widths",
]

#: Curves of the complex and of the real network, in the paper's plotting order.
COMPLEX_CURVES = ("origin", "half", "phase", "amplitude", "real", "imag")
REAL_CURVES = ("origin", "half", "sign", "magnitude")

#: The paper's protocols (seed 000 and its public code). Flags given explicitly win.
PRESETS: dict[str, dict] = {
    "fig1-left": {
        "hidden": [[100]], "real": False, "lr": 0.1, "steps": 2000, "train_size": 30000,
        "test_size": 10000, "eval_every": 100, "dataset": "mnist",
    },
    "fig1-right": {
        "hidden": [[512, 100]], "real": True, "lr": 0.2, "steps": 2000, "train_size": 30000,
        "test_size": 10000, "eval_every": 100, "dataset": "mnist",
    },
    "fig3": {
        "hidden": [[512], [20], [512, 100], [50, 20]], "real": False, "lr": 0.1, "steps": 2000,
        "train_size": 30000, "test_size": 10000, "eval_every": 100, "dataset": "mnist",
    },
}  # fmt: skip

# The authors' published multi-layer code (Phase-in-NN, Mnist_realNN_multilayer-final.py)
# applies no activation after the second hidden layer: fig3 with that architecture.
PRESETS["fig3-published"] = {
    **PRESETS["fig3"], "hidden": [[512, 100], [50, 20]], "activations": [["relu", "identity"]],
}  # fmt: skip

#: Values used when neither a flag nor a preset sets them (the demo: embedded digits).
DEFAULTS = {
    "hidden": [[100]], "real": False, "steps": 400, "train_size": 1000, "test_size": None,
    "eval_every": 25, "dataset": "embedded", "activations": None,
}  # fmt: skip

#: The units of results.json, written there as ``"units"`` (docs/phase-pruning.md).
UNITS = {
    "accuracy": "fraction of the test images classified right, 0-1",
    "final": "fraction of the test images classified right, 0-1",
    "best": "fraction of the test images classified right, 0-1",
    "final_accuracy": "fraction of the test images classified right, 0-1",
    "best_accuracy": "fraction of the test images classified right, 0-1",
    "steps": "full-batch gradient steps",
    "best_step": "full-batch gradient steps",
    "train_loss": "mean cross-entropy per training image, nats",
    "seconds": "wall-clock seconds",
}

#: A run has diverged when its loss grows past this multiple of its first value (ln 10 for
#: the paper's tiny initialisation; a working descent never climbs that far) ...
LOSS_GROWTH = 10.0
#: ... or a weight magnitude exceeds this (the weights start near 0.01; trained ones stay
#: below 10 in every run of docs/phase-pruning.md).
MAX_WEIGHT = 1e4

_DATA_NAMES = {
    "embedded": "the embedded digits",
    "mnist": "MNIST",
    "kmnist": "KMNIST",
    "fashion-mnist": "Fashion-MNIST",
}


def widths(text: str) -> list[int]:
    """Flag type of ``--hidden``: ``"512,100"`` -> ``[512, 100]`` (positive integers)."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"must be positive integers separated by commas (e.g. 512,100), got {text!r}"
        )
    return values


def activation_list(text: str) -> list[str]:
    """Flag type of ``--activations``: ``"relu,identity"`` -> ``["relu", "identity"]``."""
    values = text.split(",")
    if any(v not in ACTIVATIONS for v in values):
        raise argparse.ArgumentTypeError(
            f"must be {' or '.join(ACTIVATIONS)} per hidden layer, separated by commas "
            f"(e.g. relu,identity), got {text!r}"
        )
    return values


def hidden_activations(hidden: list[int], real: bool, given: list[list[str]] | None, k: int):
    """The activation after each hidden layer of the ``k``-th network.

    Default: the paper's real net has ReLU after the first hidden layer and none after the
    others (its published code); the complex nets ReLU (CReLU) everywhere. ``given`` holds one
    list per network, or a single list for every network of that depth.
    """
    if given:
        chosen = given[k] if len(given) > 1 else given[0]
        if len(chosen) == len(hidden):
            return chosen
        if len(given) > 1:
            raise FlagError(
                "--activations",
                f"needs one entry per hidden layer of {hidden}, got {','.join(chosen)}",
            )
    if real:
        return ["relu"] + ["identity"] * (len(hidden) - 1)
    return ["relu"] * len(hidden)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The study's flags; ``None`` defaults are filled from ``--preset`` or `DEFAULTS`."""
    steps, train, every = DEFAULTS["steps"], DEFAULTS["train_size"], DEFAULTS["eval_every"]
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="the paper's protocol: MNIST, first 30000 training and all 10000 test images, "
        "2000 steps, checkpoints every 100; fig1-left: complex 100, fig1-right: real 512,100, "
        "fig3: complex 512; 20; 512,100; 50,20; fig3-published: the two-layer nets of fig3 "
        "with no activation after the second hidden layer (flags given explicitly win)",
    )
    parser.add_argument(
        "--hidden",
        action="append",
        type=widths,
        metavar="WIDTHS",
        help="hidden widths of one network, comma-separated (e.g. 100 or 512,100); repeat for "
        "several networks (default: 100, or the preset's)",
    )
    parser.add_argument(
        "--real",
        action="store_true",
        default=None,
        help="real network (ReLU after the first hidden layer, later hidden layers linear, "
        "softmax of z) with sign/magnitude curves instead of the complex one "
        "(default: complex, or the preset's)",
    )
    parser.add_argument(
        "--activations",
        action="append",
        type=activation_list,
        metavar="ACTS",
        help="activation after each hidden layer, comma-separated relu or identity (e.g. "
        "relu,identity, the authors' published multi-layer code); once for every network of "
        "that depth, or once per --hidden in order (default: complex relu everywhere, real "
        "relu then identity; fig3-published: relu,identity for the two-layer nets)",
    )
    parser.add_argument(
        "--regime",
        choices=("probe", "projected"),
        default="probe",
        help="probe: train unpruned, evaluate projected copies at checkpoints (the paper's code); "
        "projected: one run per curve, weights replaced by their projection after every step",
    )
    parser.add_argument(
        "--steps",
        type=positive_int,
        help=f"full-batch gradient steps (default: {steps}, or the preset's 2000)",
    )
    parser.add_argument(
        "--lr",
        type=positive_float,
        help="learning rate of gradient descent (default: 0.1 for the complex net, 0.2 for the "
        "real one, as in the presets)",
    )
    parser.add_argument(
        "--train-size",
        type=positive_int,
        help=f"train on the first N training images, at most the data set's (default: {train}, "
        "or the preset's 30000)",
    )
    parser.add_argument(
        "--test-size",
        type=positive_int,
        help="evaluate on the first N test images, at most the data set's (default: all)",
    )
    parser.add_argument(
        "--eval-every",
        type=positive_int,
        help=f"steps between checkpoints, at most --steps (default: {every}, or the preset's 100)",
    )
    parser.add_argument(
        "--dataset",
        choices=image_dataset_names(),
        help="image data set (default: embedded, the 4000 + 1000 digits shipped with phasor; "
        "the presets use mnist)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="folder of the data set's IDX files (default: $PHASOR_DATA/NAME)",
    )
    parser.add_argument(
        "--half-draws",
        type=positive_int,
        default=10,
        help="random halves of the hidden units averaged per checkpoint (probe regime)",
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
    """Fill unset flags from the preset, then from the defaults."""
    cfg = copy.copy(args)
    preset = PRESETS.get(args.preset, {})
    for key, default in DEFAULTS.items():
        if getattr(cfg, key, None) is None:
            setattr(cfg, key, preset.get(key, default))
    if cfg.lr is None:
        cfg.lr = preset.get("lr", 0.2 if cfg.real else 0.1)
    return cfg


def check(args: argparse.Namespace) -> None:
    """Reject flag combinations before any work (``FlagError``)."""
    cfg = _resolve(args)
    if cfg.eval_every > cfg.steps:
        raise FlagError(
            "--eval-every", f"must be at most --steps ({cfg.steps}), got {cfg.eval_every}"
        )
    given = cfg.activations
    if given and len(given) > 1 and len(given) != len(cfg.hidden):
        raise FlagError(
            "--activations",
            f"give it once, or once per --hidden ({len(cfg.hidden)}), got {len(given)}",
        )
    if given and len(given) == 1 and all(len(h) != len(given[0]) for h in cfg.hidden):
        depths = sorted({len(h) for h in cfg.hidden})
        raise FlagError(
            "--activations",
            f"{','.join(given[0])} has {len(given[0])} entries but no network has that many "
            f"hidden layers (they have {' or '.join(map(str, depths))})",
        )
    for k, hidden in enumerate(cfg.hidden):
        hidden_activations(hidden, cfg.real, given, k)


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
        """Test accuracy (fraction, 0-1) with the current weights or with ``weights``."""
        if self.impl == "numpy":
            w = None if weights is None else [t.numpy() for t in weights]
            pred = self.model.predict(self.data.x_test, w)
            return float((pred == self.data.y_test).mean())
        model = self.model
        if weights is not None:
            model = copy.deepcopy(self.model)
            with torch.no_grad():
                for param, w in zip(
                    (m.weight for m in model.net if hasattr(m, "weight")), weights, strict=True
                ):
                    param.copy_(w)
        pred = model.predict(self.tensors["x_test"])
        return float((pred == self.tensors["y_test"]).double().mean())

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
    return points if points[-1] == steps else [*points, steps]


def _diverged(where: str, step: int, what: str, cfg) -> TrainingError:
    fixes = [f"lower --lr (now {cfg.lr:g})"]
    if cfg.dtype == "float32":
        fixes.append("use --dtype float64")
    if cfg.regime == "projected" and cfg.scale == "mean":
        fixes.append("use --scale paper")
    return TrainingError(
        f"{where}: training diverged at step {step}: {what}; no results were written; "
        + ", or ".join(fixes)
    )


def _train(net, cfg, where, checkpoints, bar, evaluate, after_step=None) -> list[float]:
    """Train ``cfg.steps`` steps, calling ``evaluate(step)`` at checkpoints; returns the
    training losses. A non-finite loss or gradient, a loss above `LOSS_GROWTH` times
    its first value or a weight above `MAX_WEIGHT` stops the run (``TrainingError``)."""
    losses: list[float] = []
    for step in range(1, cfg.steps + 1):
        try:
            loss = net.step(cfg.lr)  # refuses to update with a non-finite loss or gradient
        except TrainingError as err:
            raise _diverged(
                where, step, str(err).removeprefix("training diverged: "), cfg
            ) from None
        if losses and loss > LOSS_GROWTH * losses[0]:
            what = f"the loss {loss:.4g} is over {LOSS_GROWTH:g}x its first value {losses[0]:.4g}"
            raise _diverged(where, step, what, cfg)
        if after_step is not None:
            after_step()
        largest = max(float(w.abs().max()) for w in net.weights())
        if not largest <= MAX_WEIGHT:  # also catches NaN
            what = f"a weight magnitude reached {largest:.3g} (limit {MAX_WEIGHT:g}; start ~0.01)"
            raise _diverged(where, step, what, cfg)
        losses.append(loss)
        bar.update(1)
        if step in checkpoints:
            evaluate(step)
    return losses


def _run_probe(cfg, label, weights, activations, data, curves, bar, gen):
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

    checkpoints = set(_checkpoints(cfg.steps, cfg.eval_every))
    losses = _train(net, cfg, f"{label} (probe regime)", checkpoints, bar, evaluate)
    return {c: (steps, acc[c]) for c in curves}, {"origin": losses}


def _run_projected(cfg, label, weights, activations, data, curves, bar, gen):
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
        where = f"{label} (projected regime, only-{curve} run)"
        losses_by_curve[curve] = _train(net, cfg, where, checkpoints, bar, evaluate, constrain)
        out[curve] = (steps, acc)
    return out, losses_by_curve


def _label(widths: list[int], real: bool, activations: list[str]) -> str:
    """``complex-512-100``; ``-linear2`` marks a complex net whose second hidden layer has no
    activation (and so on per layer), the real net's default identity layers unmarked."""
    label = f"{'real' if real else 'complex'}-{'-'.join(map(str, widths))}"
    default = hidden_activations(widths, real, None, 0)
    for k, (act, usual) in enumerate(zip(activations, default, strict=True), 1):
        if act != usual:
            label += f"-{'linear' if act == 'identity' else 'relu'}{k}"
    return label


def _curve_name(curve: str) -> str:
    return {"origin": "unpruned", "half": "random half of units"}.get(curve, f"only {curve}")


def _plot(runs: dict, cfg, sizes: dict, path: Path) -> None:
    """One panel per network: test accuracy (%) of every curve at every checkpoint, with the
    chance level; bars instead of lines when the run has a single checkpoint."""
    from matplotlib.ticker import MaxNLocator

    n = len(runs)
    ncols = 1 if n == 1 else 2
    nrows = (n + ncols - 1) // ncols
    fig, axes = new_figure(nrows, ncols, size=(7.4 * ncols, 4.3 * nrows + 0.5))
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    chance = 100.0 / sizes["classes"]
    for k, (ax, info) in enumerate(zip(axes.flat, runs.values(), strict=False)):
        curves = info["curves"]
        single = all(len(c["steps"]) == 1 for c in curves.values())
        for i, (name, curve) in enumerate(curves.items()):
            values = [100 * a for a in curve["accuracy"]]
            if single:
                bar = ax.bar(i, values[0], color=f"C{i}", label=_curve_name(name))
                ax.bar_label(bar, fmt="%.1f", fontsize=9)
            else:
                style = line_style(i, len(curves))
                ax.plot(curve["steps"], values, label=_curve_name(name), **style)
        chance_line = ax.axhline(
            chance, color="0.4", ls="--", lw=1, label=f"chance ({chance:.0f} %)", zorder=1
        )
        layers = "-".join(map(str, [sizes["inputs"], *info["hidden"], sizes["classes"]]))
        title = f"{'real' if info['real'] else 'complex'} net {layers}"
        linear = [j + 1 for j, a in enumerate(info["activations"]) if a == "identity"]
        if linear and not info["real"]:
            title += f" (no activation after hidden layer {', '.join(map(str, linear))})"
        if single:
            step = next(iter(curves.values()))["steps"][0]
            title += f", one checkpoint: step {step}"
            names = [_curve_name(c) for c in curves]
            ax.set_xticks(range(len(curves)), names, rotation=20, ha="right")
            ax.legend(handles=[chance_line], fontsize=9, loc="upper right")
        else:
            ax.set_xlabel("gradient step (full batch)", fontsize=11)
            ax.set_xlim(0, cfg.steps * 1.02)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 2.5, 5, 10]))
            if k == ncols - 1:  # every panel has the same curves: one legend, top right
                ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1))
        ax.set_title(title, fontsize=11)
        ax.set_ylabel("test accuracy (%)", fontsize=11)
        ax.set_ylim(0, 100)
        ax.tick_params(labelsize=10)
        ax.grid(alpha=0.3)
    fig.suptitle(
        f"Test accuracy with one kind of weight information kept ({cfg.regime} regime)\n"
        f"{_DATA_NAMES.get(cfg.dataset, cfg.dataset)}: {sizes['train']} training, "
        f"{sizes['test']} test images, learning rate {cfg.lr:g}",
        fontsize=12,
    )
    save_figure(fig, path)


def _load(cfg) -> tuple:
    """The data set, cut to ``--train-size``/``--test-size`` (``FlagError`` if too large)."""
    images = load_images(cfg.dataset, cfg.data_dir)
    parts = {}
    for split, flag, size in (
        ("train", "--train-size", cfg.train_size),
        ("test", "--test-size", cfg.test_size),
    ):
        x, y = getattr(images, f"{split}_images"), getattr(images, f"{split}_labels")
        if size is not None and size > len(y):
            raise FlagError(
                flag,
                f"must be at most {len(y)} ({cfg.dataset} has {len(y)} {split} images), got {size}",
            )
        parts[split] = (x[:size].numpy(), y[:size].numpy())
    return parts["train"], parts["test"], images.num_classes


#: What a reader of the console should expect, by (regime, real network).
_EXPECT = {
    ("probe", False): "only phase stays far above only amplitude (near chance); only real and "
    "only imag end close to each other; all lie below the unpruned net, which first has to "
    "leave a loss plateau (before ~250 steps at the default settings every curve is near "
    "chance)",
    ("probe", True): "only sign keeps most of the unpruned accuracy with binary weights; only "
    "magnitude stays near chance",
    ("projected", False): "each curve is its own training, projected after every step: the "
    "random half and only real train almost as well as the unpruned net; only phase, only "
    "amplitude and only imag barely leave chance",
    ("projected", True): "each curve is its own training, projected after every step: the "
    "random half trains almost as well as the unpruned net; only sign and only magnitude "
    "stay near chance (a step never flips a sign)",
}


def _headline(runs: dict, cfg, sizes: dict, figure: Path) -> None:
    """Print what a reader should look at: every curve's final test accuracy, one column per
    network, and what to expect."""
    data = _DATA_NAMES.get(cfg.dataset, cfg.dataset)
    print(
        f"Test accuracy at step {cfg.steps} ({cfg.regime} regime; {sizes['test']} test images "
        f"of {data}; chance {100 / sizes['classes']:.0f} %):"
    )
    labels = list(runs)
    width = max(12, *map(len, labels))
    print(" " * 24 + "".join(f"{label:>{width + 2}}" for label in labels))
    for curve in next(iter(runs.values()))["curves"]:
        row = "".join(
            f"{100 * runs[label]['curves'][curve]['final']:>{width}.1f} %" for label in labels
        )
        print(f"  {_curve_name(curve):<22}{row}")
    for real in sorted({info["real"] for info in runs.values()}):
        print(f"Expect: {_EXPECT[cfg.regime, real]}.")
    print(f"Figure: {figure}")


def run(args: argparse.Namespace) -> dict:
    """Train the configured networks, evaluate every curve, write CSV + PNG, return results."""
    cfg = _resolve(args)
    (train_x, train_y), (test_x, test_y), num_classes = _load(cfg)
    curves = REAL_CURVES if cfg.real else COMPLEX_CURVES
    data = _Data(
        encode_inputs(train_x, not cfg.real, cfg.dtype),
        train_y,
        encode_inputs(test_x, not cfg.real, cfg.dtype),
        test_y,
    )
    sizes = {
        "inputs": data.x_train.shape[1], "classes": num_classes, "train": len(train_y),
        "test": len(test_y),
    }  # fmt: skip
    n_train = cfg.steps * len(cfg.hidden) * (len(curves) if cfg.regime == "projected" else 1)
    runs: dict[str, dict] = {}
    with tqdm(total=n_train, desc="phase-pruning", unit="step", disable=not args.progress) as bar:
        for k, hidden in enumerate(cfg.hidden):
            activations = hidden_activations(hidden, cfg.real, cfg.activations, k)
            label = _label(hidden, cfg.real, activations)
            bar.set_postfix_str(label)
            layer_sizes = [sizes["inputs"], *hidden, num_classes]
            weights = init_weights(layer_sizes, not cfg.real, np.random.default_rng(cfg.seed))
            gen = torch.Generator().manual_seed(cfg.seed)
            started = time.perf_counter()
            fn = _run_probe if cfg.regime == "probe" else _run_projected
            result, losses = fn(cfg, label, weights, activations, data, curves, bar, gen)
            run_info = {
                "hidden": hidden,
                "activations": activations,
                "real": bool(cfg.real),
                "curves": {},
                "train_loss": losses,
            }
            for curve, (steps, acc) in result.items():
                best = int(np.argmax(acc))
                run_info["curves"][curve] = {
                    "steps": steps,
                    "accuracy": acc,
                    "final": acc[-1],
                    "best": acc[best],
                    "best_step": steps[best],
                }
            run_info["seconds"] = time.perf_counter() - started
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
    _plot(runs, cfg, sizes, figure)
    _headline(runs, cfg, sizes, figure)
    return {
        "resolved": {
            "hidden": cfg.hidden, "activations": cfg.activations, "real": bool(cfg.real),
            "regime": cfg.regime, "lr": cfg.lr,
            "steps": cfg.steps, "eval_every": cfg.eval_every, "dataset": cfg.dataset,
            "train_size": sizes["train"], "test_size": sizes["test"],
            "half_draws": cfg.half_draws, "scale": cfg.scale, "dtype": cfg.dtype, "impl": cfg.impl,
        },
        "units": UNITS,
        "final_accuracy": {
            f"{label}/{c}": v["final"] for label, r in runs.items() for c, v in r["curves"].items()
        },
        "best_accuracy": {
            f"{label}/{c}": v["best"] for label, r in runs.items() for c, v in r["curves"].items()
        },
        "runs": runs,
        "figure": figure.name,
    }  # fmt: skip
