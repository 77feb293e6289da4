r"""Study ``wirtinger-regression``: one complex weight vs the split-real baseline (seed 001).

**Linear task** (the seed's). Inputs :math:`x_k = (k/N)(1 + i)`, :math:`k = 0..N-1`, targets
:math:`y = 5x + \epsilon`; the first 80% train, the last 20% validate (the seed's unshuffled
split). Two models start at zero and take plain gradient steps with the same learning rate:

- *complex*: :math:`\hat y = w x` with one complex weight, loss
  :math:`L = \operatorname{mean}|y - w x|^2`, step
  :math:`w \leftarrow w - \eta\, 2\,\partial L / \partial \bar w` (the Wirtinger gradient;
  ``w.grad`` of PyTorch autograd is exactly :math:`2\,\partial L/\partial \bar w`, which is
  gradient descent on :math:`(\Re w, \Im w)`).
- *split*: two real weights fitted separately, :math:`\hat y_r = w_r x_r`,
  :math:`\hat y_i = w_i x_i`, loss :math:`L_r + L_i` (the same quantity, mean squared modulus).
- *split, 2x lr*: a control (see below).

Every epoch reshuffles the training set; with the default full batch (one step per epoch, as
in the seed) the order does not change the step, with ``--batch-size`` it does.

An epoch count to converge is the first epoch after which the training MSE stays within
``--tol`` (relative) of the model's own least-squares optimum, computed in closed form.

Noise: ``--noise gaussian`` (default) adds zero-mean complex Gaussian noise with standard
deviation ``--noise-std`` per part, so the optimum is :math:`w = 5` up to noise;
``--noise seed`` adds the seed's ``random.random()`` (uniform on [0, 1), mean 0.5) to each part,
whose offset moves the no-bias optimum away from 5 (to about 5.94 with this split).

**Nonlinear task** (ours): :math:`f(z) = z^2` for :math:`z` uniform on
:math:`[-1, 1]^2`, small noise, random 80/20 split, one hidden layer of ``--hidden`` units
in three models of (about) equal real parameter count, trained full batch with Adam:
a complex MLP (complex linear, ``--activation``, complex linear), the split model (two real
MLPs, :math:`\Re z \to \Re f` and :math:`\Im z \to \Im f`) and a stacked real MLP
(:math:`(\Re z, \Im z) \to (\Re f, \Im f)`).

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
from phasor.io import write_csv
from phasor.models.cnn import count_parameters
from phasor.plotting import new_figure, save_figure
from phasor.train import TrainingError

__all__ = [
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


def _check_finite(loss: torch.Tensor, model: str, epoch: int) -> None:
    if not torch.isfinite(loss):
        raise TrainingError(f"{model}: non-finite loss at epoch {epoch}; lower --lr")


def _descend(
    w: torch.Tensor,
    mse: Callable[[torch.Tensor, str, torch.Tensor | None], torch.Tensor],
    n: int,
    lr: float,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    name: str,
) -> tuple[list[float], list[float]]:
    """Plain gradient descent ``w -= lr * w.grad`` on ``mse(w, "train", batch)``; after each
    epoch's steps, record ``mse(w, split, None)`` over the whole train and validation sets."""
    train, val = [], []
    for epoch in tqdm(range(1, epochs + 1), desc=name, leave=False):
        for idx in _batches(n, batch_size, generator):
            loss = mse(w, "train", idx)
            _check_finite(loss, name, epoch)
            (grad,) = torch.autograd.grad(loss, w)
            with torch.no_grad():
                w -= lr * grad
        with torch.no_grad():
            train.append(float(mse(w, "train", None)))
            val.append(float(mse(w, "val", None)))
    return train, val


def train_complex(
    x: torch.Tensor,
    y: torch.Tensor,
    vx: torch.Tensor,
    vy: torch.Tensor,
    lr: float,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
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
    train, val = _descend(w, mse, len(x), lr, epochs, batch_size, generator, "complex")
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
    train, val = _descend(w, mse, len(x), lr, epochs, batch_size, generator, "split")
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


def _train_nonlinear(model, z, y, vz, vy, lr, epochs, name) -> tuple[list[float], list[float]]:
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    train, val = [], []
    for epoch in tqdm(range(1, epochs + 1), desc=name, leave=False):
        opt.zero_grad()
        loss = (model(z) - y).abs().pow(2).mean()
        _check_finite(loss, name, epoch)
        loss.backward()
        opt.step()
        with torch.no_grad():
            train.append(float((model(z) - y).abs().pow(2).mean()))
            val.append(float((model(vz) - vy).abs().pow(2).mean()))
    return train, val


# ---------------------------------------------------------------------- the study


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate of both models")
    parser.add_argument("--epochs", type=int, default=150, help="epochs of both models")
    parser.add_argument("--batch-size", type=int, default=0, help="0: full batch (the seed's)")
    parser.add_argument("--noise", choices=("gaussian", "seed"), default="gaussian")
    parser.add_argument(
        "--noise-std",
        type=float,
        default=1 / math.sqrt(12),
        help="per-part std of the Gaussian noise (default: that of U(0,1))",
    )
    parser.add_argument(
        "--tol",
        type=float,
        default=0.01,
        help="convergence: train MSE within this relative tolerance of the optimum",
    )
    parser.add_argument("--nonlinear-samples", type=int, default=1000)
    parser.add_argument("--nonlinear-epochs", type=int, default=1500)
    parser.add_argument("--nonlinear-lr", type=float, default=0.01)
    parser.add_argument("--nonlinear-noise-std", type=float, default=0.05)
    parser.add_argument(
        "--hidden", type=int, default=16, help="hidden units of the nonlinear models"
    )
    parser.add_argument(
        "--activation",
        choices=("crelu", "cardioid", "split_tanh"),
        default="split_tanh",
        help="activation of the complex MLP",
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    gen = torch.Generator().manual_seed(args.seed)
    x, y = linear_data(args.samples, args.noise, args.noise_std, gen)
    cut = int(0.8 * args.samples)
    tx, ty, vx, vy = x[:cut], y[:cut], x[cut:], y[cut:]
    optimum = _least_squares(tx, ty)
    common = (tx, ty, vx, vy)
    w_c, tr_c, va_c = train_complex(*common, args.lr, args.epochs, args.batch_size, gen)
    w_s, tr_s, va_s = train_split(*common, args.lr, args.epochs, args.batch_size, gen)
    w_s2, tr_s2, va_s2 = train_split(*common, 2 * args.lr, args.epochs, args.batch_size, gen)
    linear = {
        "complex": {
            "weight": [w_c.real, w_c.imag],
            "train": tr_c,
            "val": va_c,
            "optimum": optimum["complex_mse"],
            "parameters": 2,
        },
        "split": {
            "weight": list(w_s),
            "train": tr_s,
            "val": va_s,
            "optimum": optimum["split_mse"],
            "parameters": 2,
        },
        "split-2lr": {
            "weight": list(w_s2),
            "train": tr_s2,
            "val": va_s2,
            "optimum": optimum["split_mse"],
            "parameters": 2,
        },
    }
    linear_results = {}
    for name, r in linear.items():
        linear_results[name] = {
            "final_weight": r["weight"],
            "epochs_to_converge": epochs_to_converge(r["train"], r["optimum"], args.tol),
            "final_train_mse": r["train"][-1],
            "final_val_mse": r["val"][-1],
            "least_squares_train_mse": r["optimum"],
            "real_parameters": r["parameters"],
        }
    linear_results["least_squares"] = {
        "complex_w": [optimum["complex_w"].real, optimum["complex_w"].imag],
        "split_w": list(optimum["split_w"]),
    }
    write_csv(
        args.out / "linear.csv",
        [
            {"model": name, "epoch": e + 1, "train_mse": r["train"][e], "val_mse": r["val"][e]}
            for name, r in linear.items()
            for e in range(args.epochs)
        ],
    )

    torch.manual_seed(args.seed)
    z, f = nonlinear_data(args.nonlinear_samples, args.nonlinear_noise_std, gen)
    perm = torch.randperm(len(z), generator=gen)
    cut = int(0.8 * len(z))
    tz, tf, vz, vf = z[perm[:cut]], f[perm[:cut]], z[perm[cut:]], f[perm[cut:]]
    curves, nonlinear_results = {}, {}
    for name, model in nonlinear_models(args.hidden, args.activation).items():
        train, val = _train_nonlinear(
            model, tz, tf, vz, vf, args.nonlinear_lr, args.nonlinear_epochs, name
        )
        curves[name] = (train, val)
        nonlinear_results[name] = {
            "real_parameters": count_parameters(model),
            "final_train_mse": train[-1],
            "final_val_mse": val[-1],
        }
    nonlinear_results["noise_floor_mse"] = 2 * args.nonlinear_noise_std**2
    write_csv(
        args.out / "nonlinear.csv",
        [
            {"model": name, "epoch": e + 1, "train_mse": tr[e], "val_mse": va[e]}
            for name, (tr, va) in curves.items()
            for e in range(len(tr))
        ],
    )

    fig, axes = new_figure(1, 2, size=(12, 4.5))
    ax = axes[0, 0]
    styles = (("C0", 4.0, 0.4), ("C1", 1.5, 1.0), ("C2", 1.5, 1.0))  # complex drawn wide:
    for (name, r), (color, lw, alpha) in zip(linear.items(), styles, strict=True):  # split-2lr
        epochs = np.arange(1, args.epochs + 1)  # lies exactly on it
        ax.plot(epochs, r["train"], color=color, lw=lw, alpha=alpha, label=f"{name} train")
        ax.plot(
            epochs, r["val"], color=color, lw=lw, alpha=alpha, ls="--", label=f"{name} validation"
        )
    ax.set(
        yscale="log",
        xlabel="epoch",
        ylabel="MSE (mean |error|^2)",
        title=f"f(z) = 5z + noise, lr {args.lr}",
    )
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    for (name, (tr, va)), color in zip(curves.items(), ("C0", "C1", "C3"), strict=True):
        epochs = np.arange(1, len(tr) + 1)
        ax.plot(epochs, tr, color=color, label=f"{name} train")
        ax.plot(epochs, va, color=color, ls="--", label=f"{name} validation")
    ax.axhline(nonlinear_results["noise_floor_mse"], color="k", lw=0.8, ls=":", label="noise floor")
    ax.set(
        yscale="log",
        xlabel="epoch",
        ylabel="MSE (mean |error|^2)",
        title=f"f(z) = z^2, {args.hidden} hidden units, Adam",
    )
    ax.legend(fontsize=8)
    save_figure(fig, args.out / "wirtinger.png")

    for name, r in linear_results.items():
        if name != "least_squares":
            print(
                f"linear {name:<10} w={r['final_weight']} epochs to converge="
                f"{r['epochs_to_converge']} train={r['final_train_mse']:.4f} "
                f"val={r['final_val_mse']:.4f}"
            )
    for name, r in nonlinear_results.items():
        if name != "noise_floor_mse":
            print(
                f"nonlinear {name:<12} params={r['real_parameters']} "
                f"train={r['final_train_mse']:.4f} val={r['final_val_mse']:.4f}"
            )
    return {"linear": linear_results, "nonlinear": nonlinear_results}


register(
    "wirtinger-regression",
    help="one complex weight (Wirtinger gradient) vs split real weights on f(z) = 5z, and f(z) = z^2",
    add_arguments=add_arguments,
    run=run,
    description=__doc__,
)
