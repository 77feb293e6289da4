r"""Study ``approximation``: error of one-hidden-layer complex networks against the number of
neurons, next to the rate $m^{-k/(2n)}$ of seed 002 (Geuchen, Jahn & Voigtlaender,
"Optimal approximation using complex-valued neural networks").

**Targets** on $[-1, 1]^{2n} \subset \mathbb{C}^n$ (real and imaginary parts of every
coordinate in $[-1, 1]$), with $r = \|z\|$ and $s = \sum_j \Im z_j$:

- ``kink1`` $f(z) = |r - \tfrac12|\, e^{i s}$: Lipschitz, not $C^1$ (smoothness
  $k = 1$), a kink on the sphere $r = 1/2$;
- ``kink3`` $f(z) = |r - \tfrac12|^3\, e^{i s}$: $C^{2}$ with Lipschitz second
  derivatives, not $C^3$ ($k = 3$);
- ``smooth`` $f(z) = e^{-r^2/2}\, e^{2 i s}$: analytic in the real coordinates
  ($k = \infty$: the theorem then gives any polynomial rate).

None of them is holomorphic.

**Networks.** $\hat f(z) = \sum_{j=1}^m c_j\, \phi(w_j^\top z + b_j) + c_0$ with complex
$w_j \in \mathbb{C}^n$, $b_j, c_j, c_0 \in \mathbb{C}$ ([`phasor.nn.Linear`][phasor.nn.linear.Linear],
He initialisation, hidden biases drawn $\mathcal{CN}(0, 1)$ so that the neurons start
spread over the domain) and $\phi$ = modReLU (learnable per-neuron bias, initial
$-0.5$) or cardioid.

**Training** ("to convergence" within a fixed budget): full batch on ``--train-points``
uniform samples, Adam, learning rate ``--lr`` with cosine decay to 1 % over ``--steps`` steps,
loss $\operatorname{mean}|\hat f - f|^2$. Errors are taken on ``--test-points`` fresh
samples at the end: relative $L^2$ error $\|\hat f - f\|_2 / \|f\|_2$ (what is
plotted) and the sup error $\max |\hat f - f|$ over the test points (the theorem's norm,
estimated on samples). For every $m$ the *best* error over ``--seeds`` runs is kept and a
line is fitted to $\log \text{error}$ against $\log m$.

Writes ``approximation.csv`` (one row per run) and ``approximation.png`` (one panel per
$n$ and target; best error against $m$, log-log, with the fitted slope and the
theory rate $m^{-k/(2n)}$ drawn through the first point).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

import phasor.nn as cnn
from phasor.experiments import register
from phasor.experiments._flags import FlagError, integer, positive_float, positive_int
from phasor.io import write_csv
from phasor.plotting import new_figure, readable_log_axis, save_figure
from phasor.train.checks import check_divergence

__all__ = ["SMOOTHNESS", "ShallowComplexNet", "check", "fit", "sample_domain", "target"]

SMOOTHNESS = {"kink1": 1.0, "kink3": 3.0, "smooth": math.inf}
"""Smoothness $k$ of each target (in the sense of the theorem's $C^k$ classes)."""


def sample_domain(num: int, n: int, generator: torch.Generator) -> torch.Tensor:
    """``num`` points uniform on $[-1, 1]^{2n}$, as complex128 of shape ``(num, n)``."""
    parts = 2 * torch.rand(num, n, 2, generator=generator, dtype=torch.float64) - 1
    return torch.view_as_complex(parts)


def target(name: str, z: torch.Tensor) -> torch.Tensor:
    """The target ``name`` (a key of `SMOOTHNESS`) at ``z`` of shape ``(N, n)``."""
    r = torch.linalg.vector_norm(z, dim=1)
    phase = torch.polar(torch.ones_like(r), z.imag.sum(dim=1))
    if name == "kink1":
        return (r - 0.5).abs() * phase
    if name == "kink3":
        return (r - 0.5).abs().pow(3) * phase
    if name == "smooth":
        return torch.exp(-r.pow(2) / 2) * phase * phase
    raise ValueError(f"unknown target {name!r}; choose from {', '.join(SMOOTHNESS)}")


class ShallowComplexNet(nn.Module):
    r"""One hidden layer of ``m`` complex neurons: $\sum_j c_j \phi(w_j^\top z + b_j) + c_0$.

    Shape:
        - Input: $(N, n)$ complex. Output: $(N,)$ complex.
    """

    def __init__(self, n: int, m: int, activation: str, dtype: torch.dtype = torch.complex64):
        super().__init__()
        self.hidden = cnn.Linear(n, m, init="he", dtype=dtype)
        with torch.no_grad():
            self.hidden.bias.copy_(torch.randn_like(self.hidden.bias))
        if activation == "modrelu":
            self.activation: nn.Module = cnn.ModReLU(m, bias_init=-0.5, dtype=dtype)
        elif activation == "cardioid":
            self.activation = cnn.Cardioid()
        else:
            raise ValueError(f"activation must be 'modrelu' or 'cardioid', got {activation!r}")
        self.out = cnn.Linear(m, 1, dtype=dtype)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.activation(self.hidden(z))).squeeze(-1)


def fit(
    model: nn.Module,
    z: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    lr: float,
    where: str = "network",
) -> list[float]:
    """Full-batch Adam on ``mean |model(z) - y|^2`` with cosine decay of the learning rate
    from ``lr`` to ``lr / 100``; returns the training loss of every step.

    Raises:
        TrainingError: the loss is not finite or exceeds ``DIVERGENCE_FACTOR`` times its first value;
            the message starts with ``where`` and names the step and ``--lr``.
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr / 100)
    losses: list[float] = []
    for step in range(1, steps + 1):
        loss = (model(z) - y).abs().pow(2).mean()
        value = float(loss.detach())
        start = losses[0] if losses else None
        check_divergence(value, start, where, f"step {step}", f"lower --lr (now {lr:g})")
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(value)
    return losses


UNITS = {
    "best_rel_l2": "relative L2 error ||f_hat - f|| / ||f|| on the test points (0 = exact)",
    "best_sup": "largest |f_hat - f| on the test points, in units of f (|f| <= 1)",
    "fitted_slope": "d log(error) / d log(m), dimensionless",
    "theory_slope": "d log(error) / d log(m), dimensionless",
    "neurons": "hidden units m",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dims",
        nargs="+",
        type=positive_int,
        default=[1, 2],
        metavar="N",
        help="complex input dimensions n (one figure row each)",
    )
    parser.add_argument(
        "--targets",
        nargs="+",
        default=list(SMOOTHNESS),
        choices=list(SMOOTHNESS),
        help="target functions: kink1 (k = 1), kink3 (k = 3), smooth (k = infinity)",
    )
    parser.add_argument(
        "--activations",
        nargs="+",
        default=["modrelu", "cardioid"],
        choices=["modrelu", "cardioid"],
        help="activations of the hidden layer (one line each)",
    )
    parser.add_argument(
        "--neurons",
        nargs="+",
        type=positive_int,
        default=[4, 8, 16, 32],
        metavar="M",
        help="hidden-layer sizes m to train (at least two different ones, to fit a slope)",
    )
    parser.add_argument(
        "--seeds", type=positive_int, default=1, help="runs per m (the best is kept)"
    )
    parser.add_argument(
        "--steps", type=positive_int, default=400, help="full-batch Adam steps of every network"
    )
    parser.add_argument(
        "--lr",
        type=positive_float,
        default=0.03,
        help="initial Adam learning rate (cosine decay to 1%% of it over --steps)",
    )
    parser.add_argument(
        "--train-points",
        type=integer(2),
        default=1024,
        metavar="N",
        help="uniform training samples of the domain",
    )
    parser.add_argument(
        "--test-points",
        type=integer(2),
        default=2048,
        metavar="N",
        help="fresh uniform samples the errors are measured on",
    )


def check(args: argparse.Namespace) -> None:
    """Reject flag combinations before any work: a slope needs two different ``--neurons``."""
    if len(set(args.neurons)) < 2:
        given = " ".join(map(str, args.neurons))
        raise FlagError(
            "--neurons", f"needs at least two different values to fit a slope, got {given}"
        )


def run(args: argparse.Namespace) -> dict[str, Any]:
    neurons = sorted(set(args.neurons))
    dims, targets, activations = (
        list(dict.fromkeys(v)) for v in (args.dims, args.targets, args.activations)
    )
    rows: list[dict[str, Any]] = []
    combos = [(n, t, a) for n in dims for t in targets for a in activations]
    bar = tqdm(
        total=len(combos) * len(neurons) * args.seeds,
        desc="approximation",
        disable=not args.progress,
    )
    for n, name, act in combos:
        gen = torch.Generator().manual_seed(args.seed * 7919 + n)
        z_train = sample_domain(args.train_points, n, gen).to(torch.complex64)
        z_test = sample_domain(args.test_points, n, gen).to(torch.complex64)
        y_train, y_test = target(name, z_train), target(name, z_test)
        for m in neurons:
            for s in range(args.seeds):
                torch.manual_seed(1000 * args.seed + s)
                model = ShallowComplexNet(n, m, act)
                where = f"network n = {n}, {name}, {act}, m = {m}, seed {s}"
                losses = fit(model, z_train, y_train, args.steps, args.lr, where)
                with torch.no_grad():
                    err = model(z_test) - y_test
                rows.append(
                    {
                        "n": n,
                        "target": name,
                        "k": SMOOTHNESS[name],
                        "activation": act,
                        "neurons": m,
                        "seed": s,
                        "train_mse": losses[-1],
                        "rel_l2": float(err.abs().norm() / y_test.abs().norm()),
                        "sup": float(err.abs().max()),
                    }
                )
                bar.update()
    bar.close()
    write_csv(args.out / "approximation.csv", rows)
    summary = _summarise(rows, neurons)
    _plot(summary, args, dims, targets, neurons)
    _headline(summary, neurons)
    return {"neurons": neurons, "summary": summary, "units": UNITS}


def _headline(summary: list[dict], neurons: list[int]) -> None:
    print(
        f"fitted slope of the best relative L2 error against m = {neurons[0]}..{neurons[-1]};\n"
        "  theory: the worst-case rate -k/(2n). Expect negative slopes, about as steep as theory\n"
        "  for kink1 and hardly steeper for the smoother targets (the training budget limits them):"
    )
    for e in summary:
        theory = "-" if e["theory_slope"] is None else f"{e['theory_slope']:+.2f}"
        print(
            f"  n = {e['n']} {e['target']:<6} {e['activation']:<8} slope {e['fitted_slope']:+.2f}"
            f" (theory {theory}), error at m = {neurons[-1]}: {e['best_rel_l2'][-1]:.3f}"
        )


def _summarise(rows: list[dict], neurons: list[int]) -> list[dict]:
    summary = []
    for n, name, act in dict.fromkeys((r["n"], r["target"], r["activation"]) for r in rows):
        sel = [r for r in rows if (r["n"], r["target"], r["activation"]) == (n, name, act)]
        best = [min(r["rel_l2"] for r in sel if r["neurons"] == m) for m in neurons]
        best_sup = [min(r["sup"] for r in sel if r["neurons"] == m) for m in neurons]
        k = SMOOTHNESS[name]
        summary.append(
            {
                "n": n,
                "target": name,
                "k": k,
                "activation": act,
                "best_rel_l2": best,
                "best_sup": best_sup,
                "fitted_slope": float(np.polyfit(np.log(neurons), np.log(best), 1)[0]),
                "fitted_slope_sup": float(np.polyfit(np.log(neurons), np.log(best_sup), 1)[0]),
                "theory_slope": -k / (2 * n) if math.isfinite(k) else None,
            }
        )
    return summary


_FORMULAS = {
    "kink1": r"$|r - \frac{1}{2}|\, e^{is}$",
    "kink3": r"$|r - \frac{1}{2}|^3 e^{is}$",
    "smooth": r"$e^{-r^2/2}\, e^{2is}$",
}
_STYLES = {"modrelu": {"marker": "o", "ls": "-"}, "cardioid": {"marker": "s", "ls": "-."}}


def _plot(
    summary: list[dict],
    args: argparse.Namespace,
    dims: list[int],
    targets: list[str],
    neurons: list[int],
) -> None:
    from matplotlib.ticker import NullFormatter

    fig, axes = new_figure(
        len(dims), len(targets), size=(4.8 * len(targets), 3.9 * len(dims) + 0.6)
    )
    ms = np.array(neurons, dtype=float)
    for row, n in enumerate(dims):
        for col, name in enumerate(targets):
            ax = axes[row, col]
            entries = [e for e in summary if e["n"] == n and e["target"] == name]
            for e in entries:
                ax.plot(
                    ms,
                    e["best_rel_l2"],
                    ms=5,
                    **_STYLES[e["activation"]],
                    label=f"{e['activation']} (fitted slope {e['fitted_slope']:.2f})",
                )
            k = SMOOTHNESS[name]
            if math.isfinite(k) and entries:
                start = max(e["best_rel_l2"][0] for e in entries)
                ax.plot(
                    ms,
                    start * (ms / ms[0]) ** (-k / (2 * n)),
                    "k--",
                    label=f"theory rate $m^{{-{k:g}/{2 * n}}}$",
                )
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("neurons m", fontsize=10)
            ax.set_ylabel("best relative L2 error", fontsize=10)
            smooth = "k = inf" if not math.isfinite(k) else f"k = {k:g}"
            ax.set_title(f"n = {n}: {name}, f = {_FORMULAS[name]} ({smooth})", fontsize=10)
            ax.set_xticks(ms, [str(m) for m in neurons])
            ax.xaxis.set_minor_formatter(NullFormatter())
            readable_log_axis(ax, "y")
            ax.legend(fontsize=8)
    seeds = "1 seed" if args.seeds == 1 else f"best of {args.seeds} seeds"
    fig.suptitle(
        "Approximation by one-hidden-layer complex networks on [-1, 1]^(2n): error on "
        f"{args.test_points} test points vs neurons\n(Adam, {args.steps} steps, "
        f"{args.train_points} training points, {seeds}; r = |z|, s = sum Im z_j)",
        fontsize=11,
    )
    save_figure(fig, args.out / "approximation.png")


register(
    "approximation",
    help="error of shallow complex networks against width, vs the m^(-k/(2n)) rate (seed 002)",
    add_arguments=add_arguments,
    run=run,
    description=__doc__.split("\n\n")[0] if __doc__ else "",
    check=check,
)
