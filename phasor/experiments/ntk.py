r"""Study ``ntk``: does real-valued back-propagation turn a wide complex MLP into a real one?
(seed 002, Tan et al., NeurIPS 2022).

**Networks** (NTK parametrisation, no biases except modReLU's). The *complex* MLP maps
$x \in \mathbb{C}^n$ to one complex output through ``depth`` hidden layers of width
$m$, $h^{l+1} = W^{l+1} \phi(h^l) / \sqrt{\text{fan-in}}$ with entries
$W \sim \mathcal{CN}(0, 1)$ (real and imaginary parts $\mathcal N(0, 1/2)$),
built from [`phasor.nn.Linear`][phasor.nn.linear.Linear] and the `phasor.nn` activations. Its *real
counterpart* is the same network with the complex weight tying removed: an ordinary real MLP on
$\tilde x = (\Re x, \Im x) \in \mathbb{R}^{2n}$ with hidden width $2m$, i.i.d.
$\mathcal N(0, 1)$ weights, two real outputs read as $(\Re f, \Im f)$, and the same
activation applied to consecutive unit pairs $(u_{2j}, u_{2j+1})$ read as
$u_{2j} + i u_{2j+1}$ (for CReLU this is plain ReLU). Both networks have the same
pre-activation variance in every layer.

**Kernels.** [`phasor.ntk.empirical_ntk`][phasor.ntk.empirical_ntk] (real-valued back-propagation: each complex
parameter is two real ones) on ``--num-inputs`` fixed inputs, as ``(N, N, 2, 2)`` block kernels.
Two input sets: ``complex`` ($x \sim \mathcal{CN}(0, I_n)$ rescaled to
$\|x\|^2 = n$) and ``real`` (real Gaussian inputs, same norm, imaginary part zero — the
usual case of real data fed to a complex network).

**Measured, per width, seed, activation, depth and input set:**

- ``d_real``: [`normalized_kernel_distance`][phasor.ntk.normalized_kernel_distance] between the complex network's
  kernel and its real counterpart's (independent draws with the same seed index). If the complex
  NTK reduces to the real network's NTK as width grows (up to a constant factor, which the
  scale-free distance ignores; we measure it: ``scale``), ``d_real`` decays to 0 (like
  $m^{-1/2}$, the finite-width fluctuation); a positive limit shows up as a plateau.
- ``residual`` / ``rotation`` / ``conjugate``: [`real_form_residual`][phasor.ntk.real_form_residual] of the
  complex kernel, the distance to the form $\Theta \otimes I_2$ that a real two-output
  network's limit kernel has, split into its rotation part (complex-linear, imaginary) and
  conjugate-linear part.
- ``d_limit``: normalised distance to the seed-averaged complex kernel at the largest width
  (a proxy for the infinite-width kernel), i.e. how fast the empirical NTK concentrates.
- ``movement`` (``--train-steps`` > 0): relative change $\|K_T - K_0\|_F / \|K_0\|_F$ of
  the complex network's NTK after ``T`` full-batch gradient steps (learning rate
  $N / \lambda_{\max}(K_0)$) on the squared error to fixed $\mathcal{CN}(0, 1)$
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
from phasor.experiments._flags import (
    FlagError,
    integer,
    nonnegative_int,
    positive_int,
    real,
)
from phasor.io import write_csv
from phasor.ntk import (
    empirical_ntk,
    normalized_kernel_distance,
    ntk_matrix,
    real_form_residual,
)
from phasor.plotting import new_figure, readable_log_axis, save_figure
from phasor.train.checks import check_divergence

__all__ = [
    "ACTIVATIONS",
    "ComplexMLP",
    "RealCounterpart",
    "check",
    "make_inputs",
    "ntk_movement",
]

ACTIVATIONS = ("crelu", "modrelu", "cardioid", "zrelu", "square")
HOLOMORPHIC = ("square",)


class _Square(nn.Module):
    """The holomorphic activation $z \\mapsto z^2$ (the exception to test)."""

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
    one complex output, weights $\mathcal{CN}(0, 1)$, each layer's input divided by
    $\sqrt{\text{fan-in}}$.

    Shape:
        - Input: $(N, n)$ complex. Output: $(N, 1)$ complex.
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
    $(\Re x, \Im x)$, ``2 * width`` real units per hidden layer, $\mathcal N(0, 1)$
    weights (NTK parametrisation), two real outputs, the complex activation applied to unit pairs
    $u_{2j} + i u_{2j+1}$.

    Shape:
        - Input: $(N, n)$ complex. Output: $(N, 2)$ real, $(\Re f, \Im f)$.
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
    """``num`` inputs in $\\mathbb{C}^{features}$ with $\\|x\\|^2 =$ ``features``:
    ``"complex"`` circular Gaussian directions, ``"real"`` real Gaussian directions."""
    if kind == "complex":
        x = torch.randn(num, features, dtype=torch.complex64, generator=generator)
    elif kind == "real":
        x = torch.randn(num, features, generator=generator).to(torch.complex64)
    else:
        raise ValueError(f"inputs must be 'complex' or 'real', got {kind!r}")
    return x * math.sqrt(features) / torch.linalg.vector_norm(x, dim=1, keepdim=True)


def ntk_movement(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, where: str = "network"
) -> tuple[float, float, float]:
    r"""Train ``model`` for ``steps`` full-batch gradient steps on
    $L = \frac{1}{2N}\sum_n |f(x_n) - y_n|^2$ with learning rate
    $N / \lambda_{\max}(K_0)$; return ``(movement, initial loss, final loss)`` with
    movement $\|K_T - K_0\|_F / \|K_0\|_F$.

    Raises:
        TrainingError: the loss is not finite or exceeds ``DIVERGENCE_FACTOR`` times its start; the
            message starts with ``where``.
    """
    k0 = empirical_ntk(model, x)
    lr = x.shape[0] / float(torch.linalg.eigvalsh(ntk_matrix(k0).double()).max())
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses: list[float] = []
    for step in range(steps + 1):
        loss = 0.5 * (model(x)[:, 0] - y).abs().pow(2).mean()
        value = float(loss.detach())
        check_divergence(
            value,
            losses[0] if losses else None,
            where,
            f"step {step}",
            f"the step size N / lambda_max(K_0) = {lr:.3g} is set by the kernel: use fewer "
            "--train-steps or wider --widths",
        )
        losses.append(value)
        if step == steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    kt = empirical_ntk(model, x)
    move = float(torch.linalg.vector_norm(kt - k0) / torch.linalg.vector_norm(k0))
    return move, losses[0], losses[-1]


def _loglog_slope(widths: list[int], values: list[float]) -> float | None:
    """Slope of log(values) against log(widths); ``None`` from a single point."""
    if len(widths) < 2:
        return None
    return float(np.polyfit(np.log(widths), np.log(values), 1)[0])


UNITS = {
    "d_real": "normalised Frobenius distance between unit-norm kernels, dimensionless, 0-2",
    "d_limit": "normalised Frobenius distance between unit-norm kernels, dimensionless, 0-2",
    "rotation": "fraction of the kernel's Frobenius norm, 0-1",
    "conjugate": "fraction of the kernel's Frobenius norm, 0-1",
    "scale": "ratio of Frobenius norms, dimensionless",
    "movement": "relative Frobenius change of the kernel, dimensionless",
    "d_real_slope": "d log(value) / d log(width), dimensionless",
    "d_limit_slope": "d log(value) / d log(width), dimensionless",
    "movement_slope": "d log(value) / d log(width), dimensionless",
    "widths": "hidden units per layer (complex units for the complex network)",
}

# Conjugate-linear parts below this are float32 rounding (exactly 0 for holomorphic
# activations): the figure draws them on this line instead of spending decades on noise.
CONJUGATE_FLOOR = 1e-4
_FLOOR_TEXT = "1e-4"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--activations",
        nargs="+",
        default=list(ACTIVATIONS),
        choices=ACTIVATIONS,
        help="complex activations to compare (square is the holomorphic z^2)",
    )
    parser.add_argument(
        "--widths",
        nargs="+",
        type=positive_int,
        default=[64, 128, 256, 512, 1024],
        metavar="M",
        help="hidden widths m, complex units per layer (at least two different ones; the "
        "seed-averaged kernel at the largest is the reference for d_limit)",
    )
    parser.add_argument(
        "--depths",
        nargs="+",
        type=positive_int,
        default=[1],
        metavar="D",
        help="numbers of hidden layers",
    )
    parser.add_argument(
        "--seeds",
        type=integer(2),
        default=3,
        help="network draws per configuration (the figures show their spread)",
    )
    parser.add_argument(
        "--inputs",
        nargs="+",
        default=["complex", "real"],
        choices=["complex", "real"],
        help="input sets: circular complex Gaussian directions, or real ones (imaginary part 0)",
    )
    parser.add_argument(
        "--num-inputs",
        type=integer(2),
        default=8,
        metavar="N",
        help="input points the kernels are evaluated at",
    )
    parser.add_argument(
        "--in-features",
        type=positive_int,
        default=4,
        metavar="n",
        help="complex input dimension n",
    )
    parser.add_argument(
        "--modrelu-bias", type=real(), default=-0.5, metavar="B", help="initial bias of modReLU"
    )
    parser.add_argument(
        "--train-steps",
        type=nonnegative_int,
        default=50,
        metavar="T",
        help="gradient steps of the NTK movement test; 0 skips it",
    )


def check(args: argparse.Namespace) -> None:
    """Reject flag combinations before any work: a slope against width needs two widths."""
    if len(set(args.widths)) < 2:
        given = " ".join(map(str, args.widths))
        raise FlagError("--widths", f"needs at least two different widths, got {given}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    widths = sorted(set(args.widths))
    kinds, depths, acts = (
        list(dict.fromkeys(v)) for v in (args.inputs, args.depths, args.activations)
    )
    gen = torch.Generator().manual_seed(args.seed)
    inputs = {k: make_inputs(k, args.num_inputs, args.in_features, gen) for k in kinds}
    targets = torch.randn(args.num_inputs, dtype=torch.complex64, generator=gen)

    configs = [(i, d, a) for i in kinds for d in depths for a in acts]
    rows: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    bar = tqdm(total=len(configs) * len(widths) * args.seeds, desc="ntk", disable=not args.progress)
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
                if args.train_steps and depth == depths[0]:
                    where = f"{act} network, width {width}, seed {s}, {kind} inputs"
                    move, l0, lt = ntk_movement(net, x, targets, args.train_steps, where)
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
    _plot(rows, moves, args, kinds, depths, acts, widths)
    _headline(summary, widths)
    return {
        "widths": widths,
        "d_limit_widths": widths[:-1],
        "summary": summary,
        "units": UNITS,
    }


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
        # d_limit at the largest width compares a kernel with an average that includes it
        d_lim = _stats(sel, "d_limit", widths[:-1])[0]
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
            "d_limit_median": d_lim,
            "d_limit_slope": _loglog_slope(widths[:-1], d_lim),
        }
        mv = _select(moves, inputs=kind, depth=depth, activation=act)
        if mv:
            m_med = _stats(mv, "movement", widths)[0]
            entry["movement_median"] = m_med
            entry["movement_slope"] = _loglog_slope(widths, m_med)
        summary.append(entry)
    return summary


def _headline(summary: list[dict], widths: list[int]) -> None:
    expect = {
        "complex": "expect about 0: a plateau",
        "real": "expect about -0.5: it reduces",
    }
    print(
        f"slope of d_real (complex vs real-counterpart NTK) against width {widths[0]}..{widths[-1]}:"
    )
    for kind, depth in dict.fromkeys((e["inputs"], e["depth"]) for e in summary):
        slopes = ", ".join(
            f"{e['activation']} {e['d_real_slope']:+.2f}"
            for e in summary
            if (e["inputs"], e["depth"]) == (kind, depth)
        )
        print(f"  {kind} inputs, depth {depth} ({expect[kind]}): {slopes}")
    moving = [e for e in summary if "movement_slope" in e]
    if moving:
        print("slope of the NTK movement during training against width (expect below 0: lazy):")
        for kind in dict.fromkeys(e["inputs"] for e in moving):
            slopes = ", ".join(
                f"{e['activation']} {e['movement_slope']:+.2f}"
                for e in moving
                if e["inputs"] == kind
            )
            print(f"  {kind} inputs: {slopes}")


def _width_axis(ax, widths: list[int]) -> None:
    """Log x axis with one labelled tick per width (thinned to at most 8 labels)."""
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    step = math.ceil(len(widths) / 8)
    shown = widths[::step] if widths[-1] in widths[::step] else [*widths[::step], widths[-1]]
    ax.set_xticks(shown, [str(w) for w in shown])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("width m (complex units per hidden layer)", fontsize=10)


_MARKERS = dict(zip(ACTIVATIONS, ("o", "s", "^", "D", "v"), strict=True))


def _style(act: str) -> dict[str, Any]:
    """The same colour, marker and line style for an activation in every figure and run."""
    return {
        "color": f"C{ACTIVATIONS.index(act)}",
        "ls": "--" if act in HOLOMORPHIC else "-",
        "marker": _MARKERS[act],
        "ms": 5,
    }


def _plot_conjugate(ax, widths: list[int], curves: dict[str, list[float]]) -> str:
    """Draw the conjugate-linear parts; return a note for the panel's title.

    A log axis spans the curves that reach ``CONJUGATE_FLOOR``; curves entirely below it
    (float32 rounding; exactly 0 for holomorphic activations) are named in the note instead
    of drawn decades below the rest. If every curve is below it, a linear axis shows them."""
    above = [a for a, v in curves.items() if max(v) >= CONJUGATE_FLOOR]
    if not above:
        for act, values in curves.items():
            ax.plot(widths, values, **_style(act), label=act)
        return f"all below {_FLOOR_TEXT}: float32 rounding (linear axis)"
    ax.set_yscale("log")
    for act in above:
        ax.plot(widths, np.maximum(curves[act], CONJUGATE_FLOOR), **_style(act), label=act)
    hidden = [a for a in curves if a not in above]
    if not hidden:
        return ""
    return f"not drawn, below {_FLOOR_TEXT} (float32 rounding): {', '.join(hidden)}"


def _outside_legend(ax) -> None:
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)


def _plot(
    rows: list[dict],
    moves: list[dict],
    args: argparse.Namespace,
    kinds: list[str],
    depths: list[int],
    acts: list[str],
    widths: list[int],
) -> None:
    panels = [(k, d) for k in kinds for d in depths]
    setup = f"{args.num_inputs} inputs in C^{args.in_features}, median of {args.seeds} seeds"
    fig, axes = new_figure(1, len(panels), size=(5.2 * len(panels), 4.4))
    fig_p, axes_p = new_figure(2, len(panels), size=(5.2 * len(panels), 8.2))
    for col, (kind, depth) in enumerate(panels):
        ax, ax_rot, ax_conj = axes[0, col], axes_p[0, col], axes_p[1, col]
        conj_curves = {}
        for act in acts:
            sel = _select(rows, inputs=kind, depth=depth, activation=act)
            med, lo, hi = _stats(sel, "d_real", widths)
            (line,) = ax.plot(widths, med, **_style(act), label=act)
            ax.fill_between(widths, lo, hi, color=line.get_color(), alpha=0.15)
            ax_rot.plot(widths, _stats(sel, "rotation", widths)[0], **_style(act), label=act)
            conj_curves[act] = _stats(sel, "conjugate", widths)[0]
        note = _plot_conjugate(ax_conj, widths, conj_curves)
        ref = np.array(widths, dtype=float)
        ax.plot(ref, 0.5 * (ref / ref[0]) ** -0.5, ":", color="gray", label=r"$\propto m^{-1/2}$")
        ax.set_yscale("log")
        ax.set_ylabel("distance of complex and real-counterpart NTK", fontsize=10)
        ax.set_title(
            f"complex vs real NTK, {kind} inputs, depth {depth}\n{setup} (band: min-max)",
            fontsize=10,
        )
        ax_rot.set_yscale("log")
        ax_rot.set_ylabel("rotation part of the complex NTK", fontsize=10)
        ax_rot.set_title(f"rotation part, {kind} inputs, depth {depth}\n{setup}", fontsize=10)
        ax_conj.set_ylabel("conjugate-linear part of the complex NTK", fontsize=10)
        ax_conj.set_title(
            f"conjugate-linear part, {kind} inputs, depth {depth}" + (f"\n{note}" if note else ""),
            fontsize=10,
        )
        for a in (ax, ax_rot, ax_conj):
            _width_axis(a, widths)
            if a.get_yscale() == "log":
                readable_log_axis(a, "y")
        if col == len(panels) - 1:  # one legend per figure, outside the last panels
            _outside_legend(ax)
            _outside_legend(ax_rot)
    save_figure(fig, args.out / "ntk-distance.png")
    save_figure(fig_p, args.out / "ntk-parts.png")
    if moves:
        fig_m, axes_m = new_figure(1, len(kinds), size=(5.2 * len(kinds), 4.4))
        for col, kind in enumerate(kinds):
            ax = axes_m[0, col]
            for act in acts:
                sel = _select(moves, inputs=kind, activation=act)
                med, lo, hi = _stats(sel, "movement", widths)
                (line,) = ax.plot(widths, med, **_style(act), label=act)
                ax.fill_between(widths, lo, hi, color=line.get_color(), alpha=0.15)
            ax.set_yscale("log")
            ax.set_ylabel(r"NTK movement $\|K_T - K_0\| / \|K_0\|$", fontsize=10)
            ax.set_title(
                f"NTK movement over {args.train_steps} gradient steps, {kind} inputs, depth "
                f"{depths[0]}\n{setup} (band: min-max)",
                fontsize=10,
            )
            _width_axis(ax, widths)
            readable_log_axis(ax, "y")
            if col == len(kinds) - 1:
                _outside_legend(ax)
        save_figure(fig_m, args.out / "ntk-movement.png")


register(
    "ntk",
    help="empirical NTK of complex vs real MLPs against width (seed 002)",
    add_arguments=add_arguments,
    run=run,
    description=__doc__.split("\n\n")[0] if __doc__ else "",
    check=check,
)
