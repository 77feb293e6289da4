"""Training steps of complex-input models: phasor eager vs the real-pair lowering (issue 16).

Models: the phasor versions of `complex_input_models` (an STFT CNN, a complex MLP, four conv
blocks; complex input; loss: cross entropy of the output magnitudes, ``torch.optim.Adam``).
The peers, the real net and a hand-written real-pair model are timed beside them by
``training_step.py --suite complex-input``.

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

import complex_input_models as cim
import torch
import torch.nn.functional as F
from torch import nn

import phasor.nn as P
from phasor.lowering import lower, to_pair
from phasor.memory import keep_freed_memory


def _with_modulus(name: str):
    """The phasor model ``name`` of `complex_input_models`, with ``Modulus`` as its head."""
    return lambda: nn.Sequential(cim.build("phasor", name, torch.complex64), P.Modulus())


MODELS = {
    f"{name} b{batch}": (_with_modulus(name), (batch, *shape))
    for name, (batch, shape) in cim.MODELS.items()
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
