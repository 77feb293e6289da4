"""Study ``wirtinger-regression``: one complex weight vs the split-real baseline (seed 001).

**Linear task** (the seed's). Inputs ``x_k = (k/N)(1 + i)``, ``k = 0..N-1``, targets
``y = 5x + noise``; the first 80% train, the last 20% validate (the seed's unshuffled split).
Two models start at zero and take plain gradient steps with the same learning rate:

- *complex*: ``y_hat = w x`` with one complex weight, loss ``L = mean |y - w x|^2``, step
  ``w <- w - lr * 2 dL/d conj(w)`` (the Wirtinger gradient; ``w.grad`` of PyTorch autograd
  is exactly ``2 dL/d conj(w)``, which is gradient descent on ``(Re w, Im w)``).
- *split*: two real weights fitted separately, ``Re y_hat = w_r Re x``,
  ``Im y_hat = w_i Im x``, loss ``L_r + L_i`` (the same quantity, mean squared modulus).
- *split-2lr*: the split model at twice the learning rate, a control (see the docs page).

Every epoch reshuffles the training set; with the default full batch (one step per epoch, as
in the seed) the order does not change the step, with ``--batch-size`` it does.

Epochs to converge: the first epoch after which the training MSE stays within ``--tol``
(relative) of the model's own least-squares optimum, computed in closed form.

Noise: ``--noise gaussian`` (default) adds zero-mean complex Gaussian noise with standard
deviation ``--noise-std`` per part, so the optimum is ``w = 5`` up to noise;
``--noise seed`` adds the seed's ``random.random()`` (uniform on [0, 1), mean 0.5) to each
part, whose offset moves the no-bias optimum away from 5 (to about 5.94 with this split).

**Nonlinear task** (ours): ``f(z) = z^2`` for ``z`` uniform on ``[-1, 1]^2``, small noise,
random 80/20 split, one hidden layer of ``--hidden`` units in three models of (about) equal
real parameter count, trained full batch with Adam: a complex MLP (complex linear,
``--activation``, complex linear), the split model (two real MLPs, ``Re z -> Re f`` and
``Im z -> Im f``) and a stacked real MLP (``(Re z, Im z) -> (Re f, Im f)``).

A run whose training MSE becomes non-finite or grows past 100 times its starting value stops
with a ``TrainingError`` that names the model, the epoch and the learning rate to lower.

Writes ``linear.csv`` and ``nonlinear.csv`` (per-epoch train/validation MSE of every model) and
``wirtinger.png`` (both tasks' loss curves).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

import phasor.nn as cnn
from phasor.experiments import register
from phasor.experiments._flags import (
    integer,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
)
from phasor.io import write_csv
from phasor.models.cnn import count_parameters
from phasor.plotting import new_figure, save_figure
from phasor.train.checks import check_divergence

__all__ = [
    "check_progress",
    "epochs_to_converge",
    "linear_data",
    "nonlinear_data",
    "nonlinear_models",
    "train_complex",
    "train_split",
]

TRUE_WEIGHT = 5.0


def linear_data(
    num_samples: int, noise: str, noise_std: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """The seed's data: ``x_k = (k/N)(1+i)``, ``y = 5x + noise`` (complex128, shape ``(N,)``)."""
    if num_samples < 5:
        raise ValueError(f"num_samples must be at least 5, got {num_samples}")
    t = torch.arange(num_samples, dtype=torch.float64) / num_samples
    x = torch.complex(t, t)
    if noise == "gaussian":
        eps = (
            torch.complex(
                torch.randn(num_samples, generator=generator, dtype=torch.float64),
                torch.randn(num_samples, generator=generator, dtype=torch.float64),
            )
            * noise_std
        )
    elif noise == "seed":
        eps = torch.complex(
            torch.rand(num_samples, generator=generator, dtype=torch.float64),
            torch.rand(num_samples, generator=generator, dtype=torch.float64),
        )
    else:
        raise ValueError(f"noise must be 'gaussian' or 'seed', got {noise!r}")
    return x, TRUE_WEIGHT * x + eps


def epochs_to_converge(losses: list[float], optimum: float, tol: float) -> int | None:
    """First epoch (1-based) after which every loss is within ``tol`` (relative) of
    ``optimum``; ``None`` if the last loss is not."""
    bound = optimum * (1.0 + tol) + 1e-12
    converged = None
    for epoch, loss in enumerate(losses, start=1):
        if loss <= bound:
            converged = converged or epoch
        else:
            converged = None
    return converged


def _batches(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    order = torch.randperm(n, generator=generator)  # reshuffled every epoch
    return list(order.split(batch_size if batch_size > 0 else n))


def check_progress(loss: float, start: float, where: str, epoch: int, lr_hint: str) -> None:
    """Stop a diverging run: [`check_divergence`][phasor.train.checks.check_divergence] of the train MSE
    against ``start`` (the loss before the first step)."""
    check_divergence(loss, start, where, f"epoch {epoch}", lr_hint, quantity="the train MSE")


def _descend(
    w: torch.Tensor,
    mse: Callable[[torch.Tensor, str, torch.Tensor | None], torch.Tensor],
    n: int,
    lr: float,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    name: str,
    progress: bool,
    lr_hint: str,
) -> tuple[list[float], list[float]]:
    """Plain gradient descent ``w -= lr * w.grad`` on ``mse(w, "train", batch)``; after each
    epoch's steps, record ``mse(w, split, None)`` over the whole train and validation sets.
    A diverging run stops with [`TrainingError`][phasor.train.errors.TrainingError] (see `check_progress`)."""
    where = f"linear task, {name} model"
    with torch.no_grad():
        start = float(mse(w, "train", None))
    train, val = [], []
    for epoch in tqdm(range(1, epochs + 1), desc=name, leave=False, disable=not progress):
        for idx in _batches(n, batch_size, generator):
            loss = mse(w, "train", idx)
            check_progress(float(loss.detach()), start, where, epoch, lr_hint)
            (grad,) = torch.autograd.grad(loss, w)
            with torch.no_grad():
                w -= lr * grad
        with torch.no_grad():
            train.append(float(mse(w, "train", None)))
            val.append(float(mse(w, "val", None)))
        check_progress(train[-1], start, where, epoch, lr_hint)
    return train, val


def _lr_hint(lr: float, flag: str = "--lr", factor: float = 1.0) -> str:
    scaled = f"; this model steps with {factor:g} x {flag}" if factor != 1 else ""
    return f"lower {flag} (now {lr:g}{scaled})"


def train_complex(
    x: torch.Tensor,
    y: torch.Tensor,
    vx: torch.Tensor,
    vy: torch.Tensor,
    lr: float,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    *,
    progress: bool = False,
    lr_hint: str | None = None,
) -> tuple[complex, list[float], list[float]]:
    """Gradient descent on one complex weight ``w`` (zero init) with ``w.grad``
    (= 2 dL/d conj(w)). Returns ``(w, train MSE per epoch, validation MSE per epoch)``;
    the MSE is taken after each epoch's steps, over the whole set."""
    data = {"train": (x, y), "val": (vx, vy)}

    def mse(w: torch.Tensor, split: str, idx: torch.Tensor | None) -> torch.Tensor:
        xs, ys = data[split]
        if idx is not None:
            xs, ys = xs[idx], ys[idx]
        return (ys - w * xs).abs().pow(2).mean()

    w = torch.zeros((), dtype=torch.complex128, requires_grad=True)
    hint = lr_hint or _lr_hint(lr)
    train, val = _descend(
        w, mse, len(x), lr, epochs, batch_size, generator, "complex", progress, hint
    )
    return complex(w.detach()), train, val


def train_split(
    x: torch.Tensor,
    y: torch.Tensor,
    vx: torch.Tensor,
    vy: torch.Tensor,
    lr: float,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    *,
    progress: bool = False,
    lr_hint: str | None = None,
    name: str = "split",
) -> tuple[tuple[float, float], list[float], list[float]]:
    """The split-kernel baseline: ``w_r`` fits ``Re y`` from ``Re x``, ``w_i`` fits ``Im y``
    from ``Im x`` (zero init, same learning rate). Returns ``((w_r, w_i), train, val)`` with
    the MSE as the sum of both parts' MSEs (= mean squared modulus)."""
    data = {
        "train": (torch.stack([x.real, x.imag]), torch.stack([y.real, y.imag])),
        "val": (torch.stack([vx.real, vx.imag]), torch.stack([vy.real, vy.imag])),
    }

    def mse(w: torch.Tensor, split: str, idx: torch.Tensor | None) -> torch.Tensor:
        xs, ys = data[split]
        if idx is not None:
            xs, ys = xs[:, idx], ys[:, idx]
        # sum of the two parts' MSEs: each weight only sees its own part's gradient
        return (ys - w[:, None] * xs).pow(2).mean(dim=1).sum()

    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    hint = lr_hint or _lr_hint(lr)
    train, val = _descend(w, mse, len(x), lr, epochs, batch_size, generator, name, progress, hint)
    return (float(w.detach()[0]), float(w.detach()[1])), train, val


def _least_squares(x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
    w = complex((y * x.conj()).sum() / (x.abs() ** 2).sum())
    wr = float((y.real * x.real).sum() / (x.real**2).sum())
    wi = float((y.imag * x.imag).sum() / (x.imag**2).sum())
    mse_c = float((y - w * x).abs().pow(2).mean())
    mse_s = float((y.real - wr * x.real).pow(2).mean() + (y.imag - wi * x.imag).pow(2).mean())
    return {"complex_w": w, "split_w": (wr, wi), "complex_mse": mse_c, "split_mse": mse_s}


# ---------------------------------------------------------------------- nonlinear task


def nonlinear_data(
    num_samples: int, noise_std: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``z`` uniform on ``[-1, 1]^2``, target ``z^2`` plus complex Gaussian noise (complex64)."""
    z = torch.complex(
        2 * torch.rand(num_samples, generator=generator) - 1,
        2 * torch.rand(num_samples, generator=generator) - 1,
    )
    noise = torch.complex(
        torch.randn(num_samples, generator=generator), torch.randn(num_samples, generator=generator)
    )
    return z, z * z + noise_std * noise


class _ComplexMLP(nn.Module):
    def __init__(self, hidden: int, activation: str) -> None:
        super().__init__()
        acts = {"crelu": cnn.CReLU, "cardioid": cnn.Cardioid, "split_tanh": cnn.SplitTanh}
        if activation not in acts:
            raise ValueError(f"activation must be one of {', '.join(acts)}, got {activation!r}")
        self.net = nn.Sequential(cnn.Linear(1, hidden), acts[activation](), cnn.Linear(hidden, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, None])[:, 0]


class _SplitMLP(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.re = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.im = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.complex(self.re(z.real[:, None])[:, 0], self.im(z.imag[:, None])[:, 0])


class _StackedMLP(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.net(torch.stack([z.real, z.imag], dim=1))
        return torch.complex(out[:, 0], out[:, 1])


def nonlinear_models(hidden: int, activation: str) -> dict[str, nn.Module]:
    """Complex MLP (``6H + 2`` real parameters), split MLPs (``6H + 2``) and a stacked real MLP
    with ``round(6H/5)`` hidden units (``5K + 2``, the closest count)."""
    return {
        "complex": _ComplexMLP(hidden, activation),
        "split": _SplitMLP(hidden),
        "stacked-real": _StackedMLP(round(6 * hidden / 5)),
    }


def _train_nonlinear(
    model: nn.Module,
    z: torch.Tensor,
    y: torch.Tensor,
    vz: torch.Tensor,
    vy: torch.Tensor,
    lr: float,
    epochs: int,
    name: str,
    progress: bool = False,
) -> tuple[list[float], list[float]]:
    """Full-batch Adam on ``mean |model(z) - y|^2``; train and validation MSE after each step.
    A diverging run stops with [`TrainingError`][phasor.train.errors.TrainingError]."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    where, hint = f"nonlinear task, {name} model", _lr_hint(lr, "--nonlinear-lr")
    with torch.no_grad():
        start = float((model(z) - y).abs().pow(2).mean())
    train, val = [], []
    for epoch in tqdm(range(1, epochs + 1), desc=name, leave=False, disable=not progress):
        opt.zero_grad()
        loss = (model(z) - y).abs().pow(2).mean()
        check_progress(float(loss.detach()), start, where, epoch, hint)
        loss.backward()
        opt.step()
        with torch.no_grad():
            train.append(float((model(z) - y).abs().pow(2).mean()))
            val.append(float((model(vz) - vy).abs().pow(2).mean()))
        check_progress(train[-1], start, where, epoch, hint)
    return train, val


# ---------------------------------------------------------------------- the study

UNITS = {
    "final_train_mse": "mean |y - prediction|^2 over the training set (y is unitless)",
    "final_val_mse": "mean |y - prediction|^2 over the validation set",
    "least_squares_train_mse": "mean |y - prediction|^2 over the training set",
    "nonlinear_noise_floor_mse": "mean |noise|^2, the lowest expected MSE",
    "epochs_to_converge": "epochs (one full-batch step each by default)",
    "real_parameters": "count of real numbers (a complex weight counts 2)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--samples",
        type=integer(5),
        default=1000,
        metavar="N",
        help="samples of the linear task (the first 80%% train, the rest validate)",
    )
    parser.add_argument(
        "--lr", type=positive_float, default=0.1, help="learning rate of the linear models"
    )
    parser.add_argument(
        "--epochs", type=positive_int, default=150, help="epochs of the linear models"
    )
    parser.add_argument(
        "--batch-size",
        type=nonnegative_int,
        default=0,
        metavar="B",
        help="minibatch size of the linear task; 0 (the default): full batch, as in the seed",
    )
    parser.add_argument(
        "--noise",
        choices=("gaussian", "seed"),
        default="gaussian",
        help="noise of the linear task: zero-mean complex Gaussian, or the seed's U(0, 1) per "
        "part (mean 0.5, which moves the optimum off w = 5)",
    )
    parser.add_argument(
        "--noise-std",
        type=nonnegative_float,
        default=1 / math.sqrt(12),
        metavar="S",
        help="per-part std of the Gaussian noise (default: 0.2887, that of U(0, 1))",
    )
    parser.add_argument(
        "--tol",
        type=nonnegative_float,
        default=0.01,
        help="convergence: train MSE within this relative tolerance of the least-squares optimum",
    )
    parser.add_argument(
        "--nonlinear-samples",
        type=integer(2),
        default=1000,
        metavar="N",
        help="samples of the z^2 task (random 80/20 train/validation split)",
    )
    parser.add_argument(
        "--nonlinear-epochs",
        type=positive_int,
        default=1500,
        metavar="E",
        help="full-batch Adam steps of the z^2 models",
    )
    parser.add_argument(
        "--nonlinear-lr",
        type=positive_float,
        default=0.01,
        metavar="LR",
        help="Adam learning rate of the z^2 models",
    )
    parser.add_argument(
        "--nonlinear-noise-std",
        type=nonnegative_float,
        default=0.05,
        metavar="S",
        help="per-part std of the Gaussian noise of the z^2 task",
    )
    parser.add_argument(
        "--hidden", type=positive_int, default=16, help="hidden units of the z^2 models"
    )
    parser.add_argument(
        "--activation",
        choices=("crelu", "cardioid", "split_tanh"),
        default="split_tanh",
        help="activation of the complex MLP",
    )


def _linear_task(args: argparse.Namespace, gen: torch.Generator) -> tuple[dict, dict]:
    x, y = linear_data(args.samples, args.noise, args.noise_std, gen)
    cut = int(0.8 * args.samples)
    tx, ty, vx, vy = x[:cut], y[:cut], x[cut:], y[cut:]
    ls = _least_squares(tx, ty)
    common = (tx, ty, vx, vy)
    opts = {"progress": args.progress}
    w_c, tr_c, va_c = train_complex(*common, args.lr, args.epochs, args.batch_size, gen, **opts)
    w_s, tr_s, va_s = train_split(*common, args.lr, args.epochs, args.batch_size, gen, **opts)
    w_s2, tr_s2, va_s2 = train_split(
        *common,
        2 * args.lr,
        args.epochs,
        args.batch_size,
        gen,
        lr_hint=_lr_hint(args.lr, factor=2),
        name="split-2lr",
        **opts,
    )
    curves = {"complex": (tr_c, va_c), "split": (tr_s, va_s), "split-2lr": (tr_s2, va_s2)}
    optimum = {"complex": ls["complex_mse"], "split": ls["split_mse"], "split-2lr": ls["split_mse"]}
    results: dict[str, dict[str, Any]] = {
        # [Re w, Im w] of the one complex weight; [w_r, w_i] of the two real weights
        "complex": {
            "final_w_re_im": [w_c.real, w_c.imag],
            "least_squares_w_re_im": [ls["complex_w"].real, ls["complex_w"].imag],
        },
        "split": {"final_w_r_w_i": list(w_s), "least_squares_w_r_w_i": list(ls["split_w"])},
        "split-2lr": {"final_w_r_w_i": list(w_s2), "least_squares_w_r_w_i": list(ls["split_w"])},
    }
    for name, (train, val) in curves.items():
        results[name].update(
            {
                "epochs_to_converge": epochs_to_converge(train, optimum[name], args.tol),
                "final_train_mse": train[-1],
                "final_val_mse": val[-1],
                "least_squares_train_mse": optimum[name],
                "real_parameters": 2,
            }
        )
    return results, curves


def _nonlinear_task(args: argparse.Namespace, gen: torch.Generator) -> tuple[dict, dict]:
    torch.manual_seed(args.seed)
    z, f = nonlinear_data(args.nonlinear_samples, args.nonlinear_noise_std, gen)
    perm = torch.randperm(len(z), generator=gen)
    cut = int(0.8 * len(z))
    tz, tf, vz, vf = z[perm[:cut]], f[perm[:cut]], z[perm[cut:]], f[perm[cut:]]
    curves, results = {}, {}
    for name, model in nonlinear_models(args.hidden, args.activation).items():
        train, val = _train_nonlinear(
            model, tz, tf, vz, vf, args.nonlinear_lr, args.nonlinear_epochs, name, args.progress
        )
        curves[name] = (train, val)
        results[name] = {
            "real_parameters": count_parameters(model),
            "final_train_mse": train[-1],
            "final_val_mse": val[-1],
        }
    return results, curves


def _curve_rows(curves: dict[str, tuple[list[float], list[float]]]) -> list[dict[str, Any]]:
    return [
        {"model": name, "epoch": e + 1, "train_mse": tr[e], "val_mse": va[e]}
        for name, (tr, va) in curves.items()
        for e in range(len(tr))
    ]


def _plot(args, linear_curves, nonlinear_curves, optimum: float, noise_floor: float) -> None:
    from matplotlib.ticker import MaxNLocator

    fig, axes = new_figure(1, 2, size=(13, 5))
    n_train = int(0.8 * args.samples)
    # the complex model is drawn wide and pale: split-2lr lies exactly on it
    styles = {
        "complex": {"color": "C0", "lw": 5.0, "alpha": 0.35, "ms": 11},
        "split": {"color": "C1", "lw": 1.6},
        "split-2lr": {"color": "C2", "lw": 1.6},
    }
    labels = {"split-2lr": "split, 2x lr (lies on complex)"}
    panels = (
        (
            axes[0, 0],
            linear_curves,
            styles,
            f"linear task f(z) = 5z + noise: {n_train} train / {args.samples - n_train} "
            f"validation samples\nplain gradient descent from w = 0, lr {args.lr:g}",
            args.epochs,
            (optimum, "least-squares train MSE"),
        ),
        (
            axes[0, 1],
            nonlinear_curves,
            {"complex": {"color": "C0"}, "split": {"color": "C1"}, "stacked-real": {"color": "C3"}},
            f"nonlinear task f(z) = z^2 + noise: {args.nonlinear_samples} samples (80/20)\n"
            f"{args.hidden} hidden units, full-batch Adam, lr {args.nonlinear_lr:g}",
            args.nonlinear_epochs,
            (noise_floor, "noise floor 2 std^2"),
        ),
    )
    for ax, curves, style, title, epochs, (level, level_label) in panels:
        few = epochs <= 30  # short runs: mark every epoch (a 1-epoch run is one point each)
        for name, (train, val) in curves.items():
            x = np.arange(1, len(train) + 1)
            kw = {"ms": 6, **style[name]}
            label = labels.get(name, name)
            ax.plot(x, train, **kw, marker="o" if few else None, label=f"{label}, train")
            ax.plot(
                x, val, **kw, ls="--", marker="^" if few else None, label=f"{label}, validation"
            )
        ax.axhline(level, color="k", lw=0.8, ls=":", label=level_label)
        ax.set_yscale("log")
        ax.set_xlabel("epoch" + (" (one point per epoch)" if few else ""), fontsize=11)
        ax.set_ylabel("MSE, mean |y - prediction|^2", fontsize=11)
        ax.set_title(title, fontsize=11)
        if epochs <= 10:
            ax.set_xticks(range(1, epochs + 1))
            ax.set_xlim(0.5, epochs + 0.5)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=9)
    save_figure(fig, args.out / "wirtinger.png")


def _headline(linear: dict, nonlinear: dict, noise_floor: float) -> None:
    c, s, s2 = (linear[k] for k in ("complex", "split", "split-2lr"))
    re, im = c["final_w_re_im"]
    steps = ", ".join(
        f"{name} {r['epochs_to_converge'] or 'not within --epochs'}"
        for name, r in (("complex", c), ("split", s), ("split-2lr", s2))
    )
    print(f"linear task f(z) = 5z, epochs to converge: {steps}")
    print(
        "  (expect split about 2x complex and split-2lr = complex: the speed-up is the step size)"
    )
    print(
        f"  final w: complex {re:.3f}{im:+.3f}i, split ({s['final_w_r_w_i'][0]:.3f}, "
        f"{s['final_w_r_w_i'][1]:.3f}); validation MSE complex {c['final_val_mse']:.4f}, "
        f"split {s['final_val_mse']:.4f}"
    )
    val = ", ".join(f"{name} {r['final_val_mse']:.4f}" for name, r in nonlinear.items())
    print(
        f"nonlinear task f(z) = z^2: validation MSE {val} (noise floor {noise_floor:.4f}; "
        "expect split far above the others: it cannot represent Im z^2 = 2 Re z Im z)"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    gen = torch.Generator().manual_seed(args.seed)
    linear, linear_curves = _linear_task(args, gen)
    nonlinear, nonlinear_curves = _nonlinear_task(args, gen)
    write_csv(args.out / "linear.csv", _curve_rows(linear_curves))
    write_csv(args.out / "nonlinear.csv", _curve_rows(nonlinear_curves))
    noise_floor = 2 * args.nonlinear_noise_std**2
    _plot(
        args,
        linear_curves,
        nonlinear_curves,
        linear["complex"]["least_squares_train_mse"],
        noise_floor,
    )
    _headline(linear, nonlinear, noise_floor)
    return {
        "linear": linear,
        "nonlinear": nonlinear,
        "nonlinear_noise_floor_mse": noise_floor,
        "units": UNITS,
    }


register(
    "wirtinger-regression",
    help="one complex weight (Wirtinger gradient) vs split real weights on f(z) = 5z, and f(z) = z^2",
    add_arguments=add_arguments,
    run=run,
    description=__doc__,
)
