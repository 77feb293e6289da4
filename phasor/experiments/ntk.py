r"""Study ``ntk``: does real-valued back-propagation turn a wide complex MLP into a real one?
(seed 002, Tan et al., NeurIPS 2022).

**Networks** (NTK parametrisation, no biases except modReLU's). The *complex* MLP maps
:math:`x \in \mathbb{C}^n` to one complex output through ``depth`` hidden layers of width
:math:`m`, :math:`h^{l+1} = W^{l+1} \phi(h^l) / \sqrt{\text{fan-in}}` with entries
:math:`W \sim \mathcal{CN}(0, 1)` (real and imaginary parts :math:`\mathcal N(0, 1/2)`),
built from :class:`phasor.nn.Linear` and the :mod:`phasor.nn` activations. Its *real
counterpart* is the same network with the complex weight tying removed: an ordinary real MLP on
:math:`\tilde x = (\Re x, \Im x) \in \mathbb{R}^{2n}` with hidden width :math:`2m`, i.i.d.
:math:`\mathcal N(0, 1)` weights, two real outputs read as :math:`(\Re f, \Im f)`, and the same
activation applied to consecutive unit pairs :math:`(u_{2j}, u_{2j+1})` read as
:math:`u_{2j} + i u_{2j+1}` (for CReLU this is plain ReLU). Both networks have the same
pre-activation variance in every layer.

**Kernels.** :func:`phasor.ntk.empirical_ntk` (real-valued back-propagation: each complex
parameter is two real ones) on ``--num-inputs`` fixed inputs, as ``(N, N, 2, 2)`` block kernels.
Two input sets: ``complex`` (:math:`x \sim \mathcal{CN}(0, I_n)` rescaled to
:math:`\|x\|^2 = n`) and ``real`` (real Gaussian inputs, same norm, imaginary part zero — the
usual case of real data fed to a complex network).

**Measured, per width, seed, activation, depth and input set:**

- ``d_real``: :func:`~phasor.ntk.normalized_kernel_distance` between the complex network's
  kernel and its real counterpart's (independent draws with the same seed index). If the complex
  NTK reduces to the real network's NTK as width grows (up to a constant factor, which the
  scale-free distance ignores; we measure it: ``scale``), ``d_real`` decays to 0 (like
  :math:`m^{-1/2}`, the finite-width fluctuation); a positive limit shows up as a plateau.
- ``residual`` / ``rotation`` / ``conjugate``: :func:`~phasor.ntk.real_form_residual` of the
  complex kernel, the distance to the form :math:`\Theta \otimes I_2` that a real two-output
  network's limit kernel has, split into its rotation part (complex-linear, imaginary) and
  conjugate-linear part.
- ``d_limit``: normalised distance to the seed-averaged complex kernel at the largest width
  (a proxy for the infinite-width kernel), i.e. how fast the empirical NTK concentrates.
- ``movement`` (``--train-steps`` > 0): relative change :math:`\|K_T - K_0\|_F / \|K_0\|_F` of
  the complex network's NTK after ``T`` full-batch gradient steps (learning rate
  :math:`N / \lambda_{\max}(K_0)`) on the squared error to fixed :math:`\mathcal{CN}(0, 1)`
  targets at the same inputs.

Writes ``ntk.csv`` (one row per kernel), ``movement.csv``, ``ntk-distance.png`` (log-log
``d_real`` against width, one panel per input set and depth, one line per activation: median
over seeds, band min-max), ``ntk-parts.png`` (rotation and conjugate parts against width) and
``ntk-movement.png``.
"""

from __future__ import annotations

import argparse
import itertools
import math
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

import phasor.nn as cnn
from phasor.experiments import register
from phasor.io import write_csv
from phasor.ntk import (
    empirical_ntk,
    normalized_kernel_distance,
    ntk_matrix,
    real_form_residual,
)
from phasor.plotting import new_figure, save_figure
from phasor.train import TrainingError

__all__ = ["ACTIVATIONS", "ComplexMLP", "RealCounterpart", "make_inputs", "ntk_movement"]

ACTIVATIONS = ("crelu", "modrelu", "cardioid", "zrelu", "square")
HOLOMORPHIC = ("square",)


class _Square(nn.Module):
    """The holomorphic activation :math:`z \\mapsto z^2` (the exception to test)."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * z


def _activation(name: str, units: int, modrelu_bias: float) -> nn.Module:
    if name == "crelu":
        return cnn.CReLU()
    if name == "modrelu":
        return cnn.ModReLU(units, bias_init=modrelu_bias)
    if name == "cardioid":
        return cnn.Cardioid()
    if name == "zrelu":
        return cnn.ZReLU()
    if name == "square":
        return _Square()
    raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")


class ComplexMLP(nn.Module):
    r"""Complex MLP in NTK parametrisation: ``depth`` hidden layers of ``width`` complex units,
    one complex output, weights :math:`\mathcal{CN}(0, 1)`, each layer's input divided by
    :math:`\sqrt{\text{fan-in}}`.

    Shape:
        - Input: :math:`(N, n)` complex. Output: :math:`(N, 1)` complex.
    """

    def __init__(
        self, in_features: int, width: int, depth: int, activation: str, modrelu_bias: float = -0.5
    ) -> None:
        super().__init__()
        dims = [in_features] + [width] * depth + [1]
        self.layers = nn.ModuleList(
            cnn.Linear(a, b, bias=False) for a, b in itertools.pairwise(dims)
        )
        self.activations = nn.ModuleList(
            _activation(activation, width, modrelu_bias) for _ in range(depth)
        )
        with torch.no_grad():
            for layer in self.layers:
                layer.weight.copy_(torch.randn_like(layer.weight))  # CN(0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x / math.sqrt(layer.in_features))
            if i < len(self.activations):
                x = self.activations[i](x)
        return x


class RealCounterpart(nn.Module):
    r"""The complex MLP with the weight tying removed: a real MLP on
    :math:`(\Re x, \Im x)`, ``2 * width`` real units per hidden layer, :math:`\mathcal N(0, 1)`
    weights (NTK parametrisation), two real outputs, the complex activation applied to unit pairs
    :math:`u_{2j} + i u_{2j+1}`.

    Shape:
        - Input: :math:`(N, n)` complex. Output: :math:`(N, 2)` real, :math:`(\Re f, \Im f)`.
    """

    def __init__(
        self, in_features: int, width: int, depth: int, activation: str, modrelu_bias: float = -0.5
    ) -> None:
        super().__init__()
        dims = [2 * in_features] + [2 * width] * depth + [2]
        self.layers = nn.ModuleList(
            nn.Linear(a, b, bias=False) for a, b in itertools.pairwise(dims)
        )
        self.activations = nn.ModuleList(
            _activation(activation, width, modrelu_bias) for _ in range(depth)
        )
        with torch.no_grad():
            for layer in self.layers:
                layer.weight.normal_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = torch.cat([x.real, x.imag], dim=-1)
        for i, layer in enumerate(self.layers):
            u = layer(u / math.sqrt(layer.in_features))
            if i < len(self.activations):
                pairs = u.unflatten(-1, (-1, 2))
                z = self.activations[i](torch.complex(pairs[..., 0], pairs[..., 1]))
                u = torch.stack([z.real, z.imag], dim=-1).flatten(-2)
        return u


def make_inputs(kind: str, num: int, features: int, generator: torch.Generator) -> torch.Tensor:
    """``num`` inputs in :math:`\\mathbb{C}^{features}` with :math:`\\|x\\|^2 =` ``features``:
    ``"complex"`` circular Gaussian directions, ``"real"`` real Gaussian directions."""
    if kind == "complex":
        x = torch.randn(num, features, dtype=torch.complex64, generator=generator)
    elif kind == "real":
        x = torch.randn(num, features, generator=generator).to(torch.complex64)
    else:
        raise ValueError(f"inputs must be 'complex' or 'real', got {kind!r}")
    return x * math.sqrt(features) / torch.linalg.vector_norm(x, dim=1, keepdim=True)


def ntk_movement(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int
) -> tuple[float, float, float]:
    r"""Train ``model`` for ``steps`` full-batch gradient steps on
    :math:`L = \frac{1}{2N}\sum_n |f(x_n) - y_n|^2` with learning rate
    :math:`N / \lambda_{\max}(K_0)`; return ``(movement, initial loss, final loss)`` with
    movement :math:`\|K_T - K_0\|_F / \|K_0\|_F`."""
    k0 = empirical_ntk(model, x)
    lr = x.shape[0] / float(torch.linalg.eigvalsh(ntk_matrix(k0).double()).max())
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for step in range(steps + 1):
        loss = 0.5 * (model(x)[:, 0] - y).abs().pow(2).mean()
        if not torch.isfinite(loss):
            raise TrainingError(f"non-finite loss at step {step}")
        losses.append(float(loss.detach()))
        if step == steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    kt = empirical_ntk(model, x)
    move = float(torch.linalg.vector_norm(kt - k0) / torch.linalg.vector_norm(k0))
    return move, losses[0], losses[-1]


def _loglog_slope(widths: list[int], values: list[float]) -> float:
    return float(np.polyfit(np.log(widths), np.log(values), 1)[0])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--activations", nargs="+", default=list(ACTIVATIONS), choices=ACTIVATIONS)
    parser.add_argument("--widths", nargs="+", type=int, default=[64, 128, 256, 512, 1024])
    parser.add_argument("--depths", nargs="+", type=int, default=[1], help="hidden layers")
    parser.add_argument("--seeds", type=int, default=3, help="network draws per configuration")
    parser.add_argument(
        "--inputs", nargs="+", default=["complex", "real"], choices=["complex", "real"]
    )
    parser.add_argument("--num-inputs", type=int, default=8)
    parser.add_argument("--in-features", type=int, default=4, help="complex input dimension n")
    parser.add_argument("--modrelu-bias", type=float, default=-0.5)
    parser.add_argument("--train-steps", type=int, default=50, help="0 skips the movement test")


def _check_args(args: argparse.Namespace) -> None:
    if min(args.widths) < 1 or min(args.depths) < 1:
        raise ValueError("widths and depths must be positive")
    if args.seeds < 2:
        raise ValueError(f"--seeds must be at least 2 (spread across seeds), got {args.seeds}")
    if args.num_inputs < 2 or args.in_features < 1:
        raise ValueError("--num-inputs must be >= 2 and --in-features >= 1")
    if args.train_steps < 0:
        raise ValueError(f"--train-steps must be >= 0, got {args.train_steps}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    _check_args(args)
    widths = sorted(set(args.widths))
    gen = torch.Generator().manual_seed(args.seed)
    inputs = {k: make_inputs(k, args.num_inputs, args.in_features, gen) for k in args.inputs}
    targets = torch.randn(args.num_inputs, dtype=torch.complex64, generator=gen)

    configs = [(i, d, a) for i in args.inputs for d in args.depths for a in args.activations]
    rows: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    bar = tqdm(total=len(configs) * len(widths) * args.seeds, desc="ntk")
    for kind, depth, act in configs:
        x = inputs[kind]
        kernels: dict[int, list[torch.Tensor]] = {}
        for width in widths:
            for s in range(args.seeds):
                seed = 1000 * args.seed + s
                torch.manual_seed(seed)
                net = ComplexMLP(args.in_features, width, depth, act, args.modrelu_bias)
                torch.manual_seed(seed + 500)
                real = RealCounterpart(args.in_features, width, depth, act, args.modrelu_bias)
                kc, kr = empirical_ntk(net, x), empirical_ntk(real, x)
                kernels.setdefault(width, []).append(kc)
                res, res_real = real_form_residual(kc), real_form_residual(kr)
                rows.append(
                    {
                        "inputs": kind,
                        "depth": depth,
                        "activation": act,
                        "width": width,
                        "seed": s,
                        "d_real": normalized_kernel_distance(kc, kr),
                        "scale": float(torch.linalg.vector_norm(kc) / torch.linalg.vector_norm(kr)),
                        "residual": res["total"],
                        "rotation": res["rotation"],
                        "conjugate": res["conjugate"],
                        "residual_real_net": res_real["total"],
                    }
                )
                if args.train_steps and depth == args.depths[0]:
                    move, l0, lt = ntk_movement(net, x, targets, args.train_steps)
                    moves.append(
                        {
                            "inputs": kind,
                            "depth": depth,
                            "activation": act,
                            "width": width,
                            "seed": s,
                            "movement": move,
                            "loss_start": l0,
                            "loss_end": lt,
                        }
                    )
                bar.update()
        limit = torch.stack(kernels[widths[-1]]).mean(0)
        for row in rows:
            if (row["inputs"], row["depth"], row["activation"]) == (kind, depth, act):
                k = kernels[row["width"]][row["seed"]]
                row["d_limit"] = normalized_kernel_distance(k, limit)
    bar.close()

    write_csv(args.out / "ntk.csv", rows)
    if moves:
        write_csv(args.out / "movement.csv", moves)
    summary = _summarise(rows, moves, widths)
    _plot(rows, moves, args, widths)
    return {"widths": widths, "summary": summary}


def _select(rows: list[dict], **keys: Any) -> list[dict]:
    return [r for r in rows if all(r[k] == v for k, v in keys.items())]


def _stats(rows: list[dict], key: str, widths: list[int]) -> tuple[list[float], ...]:
    med, lo, hi = [], [], []
    for w in widths:
        vals = [r[key] for r in rows if r["width"] == w]
        med.append(float(np.median(vals)))
        lo.append(float(np.min(vals)))
        hi.append(float(np.max(vals)))
    return med, lo, hi


def _summarise(rows: list[dict], moves: list[dict], widths: list[int]) -> list[dict]:
    summary = []
    for kind, depth, act in dict.fromkeys((r["inputs"], r["depth"], r["activation"]) for r in rows):
        sel = _select(rows, inputs=kind, depth=depth, activation=act)
        d_med, d_lo, d_hi = _stats(sel, "d_real", widths)
        entry = {
            "inputs": kind,
            "depth": depth,
            "activation": act,
            "holomorphic": act in HOLOMORPHIC,
            "d_real_median": d_med,
            "d_real_min": d_lo,
            "d_real_max": d_hi,
            "d_real_slope": _loglog_slope(widths, d_med),
            "rotation_median": _stats(sel, "rotation", widths)[0],
            "conjugate_median": _stats(sel, "conjugate", widths)[0],
            "scale_median": _stats(sel, "scale", widths)[0],
        }
        if len(widths) > 2:
            d_lim = _stats(sel, "d_limit", widths[:-1])[0]
            entry["d_limit_median"] = d_lim
            entry["d_limit_slope"] = _loglog_slope(widths[:-1], d_lim)
        mv = _select(moves, inputs=kind, depth=depth, activation=act)
        if mv:
            m_med = _stats(mv, "movement", widths)[0]
            entry["movement_median"] = m_med
            entry["movement_slope"] = _loglog_slope(widths, m_med)
        summary.append(entry)
    return summary


def _plot(rows: list[dict], moves: list[dict], args: argparse.Namespace, widths: list[int]) -> None:
    panels = [(k, d) for k in args.inputs for d in args.depths]
    fig, axes = new_figure(1, len(panels))
    fig_p, axes_p = new_figure(2, len(panels))
    for col, (kind, depth) in enumerate(panels):
        ax, ax_rot, ax_conj = axes[0, col], axes_p[0, col], axes_p[1, col]
        for act in args.activations:
            sel = _select(rows, inputs=kind, depth=depth, activation=act)
            med, lo, hi = _stats(sel, "d_real", widths)
            style = "--" if act in HOLOMORPHIC else "-"
            (line,) = ax.plot(widths, med, style, marker="o", ms=3, label=act)
            ax.fill_between(widths, lo, hi, color=line.get_color(), alpha=0.2)
            ax_rot.plot(
                widths, _stats(sel, "rotation", widths)[0], style, marker="o", ms=3, label=act
            )
            ax_conj.plot(
                widths, _stats(sel, "conjugate", widths)[0], style, marker="o", ms=3, label=act
            )
        ref = np.array(widths, dtype=float)
        ax.plot(ref, 0.5 * (ref / ref[0]) ** -0.5, ":", color="gray", label=r"$\propto m^{-1/2}$")
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="width m",
            ylabel="normalised distance complex vs real NTK",
            title=f"{kind} inputs, depth {depth}",
        )
        ax_rot.set(
            xscale="log",
            yscale="log",
            xlabel="width m",
            ylabel="rotation part",
            title=f"{kind} inputs, depth {depth}",
        )
        ax_conj.set(xscale="log", yscale="log", xlabel="width m", ylabel="conjugate-linear part")
        ax.legend(fontsize=7)
        ax_rot.legend(fontsize=7)
    save_figure(fig, args.out / "ntk-distance.png")
    save_figure(fig_p, args.out / "ntk-parts.png")
    if moves:
        fig_m, axes_m = new_figure(1, len(args.inputs))
        for col, kind in enumerate(args.inputs):
            ax = axes_m[0, col]
            for act in args.activations:
                sel = _select(moves, inputs=kind, activation=act)
                med, lo, hi = _stats(sel, "movement", widths)
                (line,) = ax.plot(widths, med, marker="o", ms=3, label=act)
                ax.fill_between(widths, lo, hi, color=line.get_color(), alpha=0.2)
            ax.set(
                xscale="log",
                yscale="log",
                xlabel="width m",
                ylabel=r"$\|K_T - K_0\| / \|K_0\|$",
                title=f"NTK movement, {args.train_steps} GD steps, {kind} inputs",
            )
            ax.legend(fontsize=7)
        save_figure(fig_m, args.out / "ntk-movement.png")


register(
    "ntk",
    help="empirical NTK of complex vs real MLPs against width (seed 002)",
    add_arguments=add_arguments,
    run=run,
    description=__doc__.split("\n\n")[0] if __doc__ else "",
)
