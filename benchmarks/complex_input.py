"""Training steps of complex-input models: phasor eager vs the real-pair lowering (issue 16).

Models (complex input, loss: cross entropy of the output magnitudes, ``torch.optim.Adam``):

- ``STFT CNN``: 1x128x128 complex spectrogram, batch 32; conv 1-16-32-64 3x3, CReLU, whitening
  batch norm, max pool by magnitude, global mean, linear 64-10.
- ``MLP``: 512-1024-1024-10, CReLU, batch 256.
- ``4 conv blocks``: 64 channels, 64x64, batch 16, whitening batch norm, modReLU.

Variants: ``phasor eager`` (native complex kernels), ``lowered eager``
(:func:`phasor.lowering.lower`, stacked real kernels), ``lowered compiled``
(``torch.compile(..., fullgraph=True)``, inductor). Each is timed first with glibc's default
allocator settings, then after :func:`phasor.memory.keep_freed_memory` (which cannot be undone
in a process, so that half runs second). The median CPU time (``time.process_time``: user +
system, so the page faults count, and other processes on a loaded machine do not) over
interleaved rounds in a shuffled order, after warm-up, one thread. The cold compile time is
printed. Run ``python benchmarks/complex_input.py`` (``--quick``: quarter batches).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

import phasor.nn as P
from phasor.lowering import lower, to_pair
from phasor.memory import keep_freed_memory


def stft_cnn() -> nn.Sequential:
    layers, c = [], 1
    for w in (16, 32, 64):
        layers += [P.Conv2d(c, w, 3, padding=1), P.CReLU(), P.ComplexBatchNorm2d(w), P.MaxPool2d(2)]
        c = w
    return nn.Sequential(
        *layers, P.AdaptiveAvgPool2d(1), nn.Flatten(), P.Linear(64, 10), P.Modulus()
    )


def mlp() -> nn.Sequential:
    return nn.Sequential(
        P.Linear(512, 1024),
        P.CReLU(),
        P.Linear(1024, 1024),
        P.CReLU(),
        P.Linear(1024, 10),
        P.Modulus(),
    )


def conv_blocks() -> nn.Sequential:
    layers, c = [], 1
    for _ in range(4):
        layers += [P.Conv2d(c, 64, 3, padding=1), P.ComplexBatchNorm2d(64), P.ModReLU(64, -0.01)]
        c = 64
    return nn.Sequential(
        *layers, P.AdaptiveAvgPool2d(1), nn.Flatten(), P.Linear(64, 10), P.Modulus()
    )


MODELS = {
    "STFT CNN 1x128x128 b32": (stft_cnn, (32, 1, 128, 128)),
    "MLP 512-1024-1024-10 b256": (mlp, (256, 512)),
    "4 conv blocks 64ch 64x64 b16": (conv_blocks, (16, 1, 64, 64)),
}


def _step(model, optimizer, x, target):
    def run():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), target).backward()
        optimizer.step()

    return run


def _variants(build, shape, compile: bool):
    torch.manual_seed(0)
    model = build()
    z = torch.randn(shape, dtype=torch.complex64)
    target = torch.randint(0, 10, (shape[0],))
    lowered = lower(model)
    pair = to_pair(z)
    steps = {
        "phasor eager": _step(model, torch.optim.Adam(model.parameters()), z, target),
        "lowered eager": _step(lowered, torch.optim.Adam(lowered.parameters()), pair, target),
    }
    if not compile:
        return steps, None
    compiled_model = lower(model)
    compiled = torch.compile(compiled_model, fullgraph=True)
    steps["lowered compiled"] = _step(
        compiled, torch.optim.Adam(compiled_model.parameters()), pair, target
    )
    started = time.perf_counter()
    steps["lowered compiled"]()
    return steps, time.perf_counter() - started


def _time(steps, rounds):
    for step in steps.values():
        step()  # warm-up
    times = {name: [] for name in steps}
    for _ in range(rounds):
        order = list(steps)
        random.shuffle(order)
        for name in order:
            started = time.process_time()
            steps[name]()
            times[name].append(time.process_time() - started)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="quarter batches")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="skip the compiled variant (minutes of cold compile)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    random.seed(0)
    variants = {}
    for name, (build, shape) in MODELS.items():
        if args.quick:
            shape = (max(1, shape[0] // 4), *shape[1:])
        steps, cold = _variants(build, shape, not args.no_compile)
        variants[name] = steps
        if cold is not None:
            print(f"{name}: cold compile + first step {cold:.1f} s")
    results = {}
    for kept in (False, True):
        if kept:
            keep_freed_memory()
        for name, steps in variants.items():
            results[name, kept] = _time(steps, args.rounds)
    print("\nCPU seconds per training step (median), ratio to phasor eager, default allocator")
    columns = [("phasor eager", True), ("lowered eager", True), ("lowered eager", False)]
    if not args.no_compile:
        columns += [("lowered compiled", True), ("lowered compiled", False)]
    header = ["phasor eager"] + [f"{v}{', kept' if k else ''}" for v, k in columns]
    print(
        "| model | "
        + " | ".join(header).replace("phasor eager, kept", "phasor, memory kept")
        + " |"
    )
    print("|---|" + "---:|" * len(header))
    for name in MODELS:
        base = results[name, False]["phasor eager"]
        row = [f"{base:.3f} s"] + [f"{results[name, k][v] / base:.2f}" for v, k in columns]
        print(f"| {name} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
