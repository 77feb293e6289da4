"""Complex-plane portraits of every activation in phasor.functional.activation.

For each activation two panels over Re z, Im z in [-3, 3]: the modulus |f(z)| (its own colour
bar) and the phase arg f(z) (the cyclic colour map, one bar per figure; black where f(z) = 0,
whose phase is undefined). One grid figure per family, written to
docs/figures/activations/<family>.png:

    .venv/bin/python scripts/plot_activations.py [--out docs/figures/activations]

110 s measured on one busy shared core of the development machine.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch

import phasor.functional as CF
from phasor.plotting import new_figure


def _param(value: float) -> torch.Tensor:
    return torch.tensor([value], dtype=torch.float64)


# family -> [(title, function of z)]; learnable parameters at the values in the titles.
FAMILIES = {
    "split": [
        ("crelu", CF.crelu),
        ("cprelu (a = 0.25)", lambda z: CF.cprelu(z, _param(0.25))),
        ("split_sigmoid", CF.split_sigmoid),
        ("split_tanh", CF.split_tanh),
        ("split_elu", CF.split_elu),
        ("split_celu", CF.split_celu),
        ("split_selu", CF.split_selu),
        ("split_gelu", CF.split_gelu),
        ("split_silu", CF.split_silu),
        ("split_mish", CF.split_mish),
        ("split_leaky_relu (0.1)", lambda z: CF.split_leaky_relu(z, 0.1)),
        ("split_hardtanh", CF.split_hardtanh),
        ("split_hardsigmoid", CF.split_hardsigmoid),
        ("split_hardswish", CF.split_hardswish),
        ("split_softplus", CF.split_softplus),
        ("split_softsign", CF.split_softsign),
    ],
    "polar": [
        ("modrelu (b = -0.5)", lambda z: CF.modrelu(z, _param(-0.5))),
        ("amp_phase_tanh", CF.amp_phase_tanh),
        ("siglog (c = 1, r = 1)", CF.siglog),
        ("polar_squash", CF.polar_squash),
        ("polar_log", CF.polar_log),
        ("mod_softplus", CF.mod_softplus),
        ("csign", CF.csign),
    ],
    "phase-gain": [
        ("zrelu", CF.zrelu),
        ("z_leaky_relu (a = 0.2)", lambda z: CF.z_leaky_relu(z, _param(0.2))),
        ("cardioid", CF.cardioid),
        ("shifted_cardioid (phi = pi/4)", lambda z: CF.shifted_cardioid(z, _param(math.pi / 4))),
        ("rotated_crelu (phi = pi/4)", lambda z: CF.rotated_crelu(z, _param(math.pi / 4))),
    ],
    "readout": [
        ("modulus", CF.modulus),
        ("modulus_squared", CF.modulus_squared),
    ],
}
PAIRS_PER_ROW = 3
EXTENT = 3.0


def _grid(points: int = 241) -> torch.Tensor:
    axis = torch.linspace(-EXTENT, EXTENT, points, dtype=torch.float64)
    im, re = torch.meshgrid(axis, axis, indexing="ij")  # row = Im z, column = Re z
    return torch.complex(re, im)


def plot_family(family: str, entries, out: Path) -> Path:
    z = _grid()
    rows = math.ceil(len(entries) / PAIRS_PER_ROW)
    cols = 2 * min(len(entries), PAIRS_PER_ROW)
    # constrained layout (not save_figure's tight_layout) places the figure-wide phase bar
    fig, axes = new_figure(rows, cols, size=(3.4 * cols, 3.3 * rows), layout="constrained")
    extent = (-EXTENT, EXTENT, -EXTENT, EXTENT)
    phase_image = None
    for k, (title, fn) in enumerate(entries):
        with torch.no_grad():
            w = fn(z)
        w = w.to(torch.complex128) if not w.is_complex() else w
        mod = w.abs().numpy()
        phase = np.ma.masked_where(mod == 0, torch.angle(w).numpy())
        ax_mod, ax_arg = axes[
            k // PAIRS_PER_ROW, 2 * (k % PAIRS_PER_ROW) : 2 * (k % PAIRS_PER_ROW) + 2
        ]
        image = ax_mod.imshow(mod, origin="lower", extent=extent, cmap="viridis")
        fig.colorbar(image, cax=ax_mod.inset_axes([1.04, 0.0, 0.06, 1.0]))
        ax_mod.set_title(f"{title}\n|f(z)|", fontsize=9)
        ax_arg.set_facecolor("black")
        phase_image = ax_arg.imshow(
            phase, origin="lower", extent=extent, cmap="twilight", vmin=-math.pi, vmax=math.pi
        )
        ax_arg.set_title(f"{title}\narg f(z)", fontsize=9)
        for ax in (ax_mod, ax_arg):
            ax.set_xlabel("Re z", fontsize=8)
            ax.set_ylabel("Im z", fontsize=8)
            ax.tick_params(labelsize=7)
    for k in range(len(entries), rows * PAIRS_PER_ROW):
        for ax in axes[k // PAIRS_PER_ROW, 2 * (k % PAIRS_PER_ROW) : 2 * (k % PAIRS_PER_ROW) + 2]:
            ax.axis("off")
    bar = fig.colorbar(phase_image, ax=axes, shrink=0.6, aspect=40)
    bar.set_ticks([-math.pi, -math.pi / 2, 0, math.pi / 2, math.pi])
    bar.set_ticklabels(["-π", "-π/2", "0", "π/2", "π"])
    bar.set_label("arg f(z) (black: f(z) = 0)")
    fig.suptitle(f"{family} activations on Re z, Im z in [-3, 3]", fontsize=12)
    return _save(fig, out / f"{family}.png")


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(__file__).resolve().parents[1] / "docs" / "figures" / "activations"
    parser.add_argument("--out", type=Path, default=default, help="folder of the PNGs")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    plotted = {title.split(" ")[0] for entries in FAMILIES.values() for title, _ in entries}
    missing = set(CF.activation.__all__) - plotted
    if missing:
        raise SystemExit(f"activations without a plot: {sorted(missing)}")
    for family, entries in FAMILIES.items():
        print(plot_family(family, entries, args.out))


if __name__ == "__main__":
    main()
