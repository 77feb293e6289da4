"""Time one training step of the same complex networks in phasor and in its peer libraries.

Models (seed 003 shapes): the complex MLPs 784-512-100-10 and 784-100-10 at batch 256, and the
MNIST complex CNN at batch 64 (conv 1->10 5x5, max-pool, batch norm, conv 10->20 5x5,
max-pool, linear 320->500, linear 500->10), each built from the public layers of

- ``phasor``         phasor.nn (Linear, Conv2d, CReLU, MaxPool2d, ComplexBatchNorm2d) on the
  default backend (``"native"``), fed the real images as they are (phasor's layers take real
  input); ``phasor[complex input]`` fed the images cast to complex like the peers;
  ``phasor[auto]`` etc. on another backend (``--backends``)
- ``complexPyTorch`` ComplexLinear, ComplexConv2d, ComplexReLU, ComplexMaxPool2d,
  ComplexBatchNorm2d
- ``torchcvnn``      torch.nn.Linear / Conv2d with a complex dtype (torchcvnn ships no linear or
  convolution layer and documents PyTorch's), torchcvnn CReLU, MaxPool2d, BatchNorm2d
- ``complextorch``   complextorch.nn Linear, Conv2d, CReLU, MagMaxPool2d, BatchNorm2d
- ``real``           the same-shape real network in plain PyTorch (ReLU, MaxPool2d, BatchNorm2d)

Every complex net has split-ReLU (CReLU) activations, max-pooling by magnitude and 2x2-whitening
batch norm; the loss is the cross entropy of the output magnitudes ``|z|`` (plain logits for the
real net); the optimiser is ``torch.optim.Adam`` (lr 1e-3) for all. The input is a batch of
random images in [0, 1]; the peers take complex input only, so they get it cast to complex (zero
imaginary part) once, before timing. A training step is
forward + backward + optimiser step; an inference step is a forward pass in eval mode under
``torch.no_grad``. All libraries of a model are timed in the same process, interleaved in a
shuffled order every round, and the median over the rounds is reported, after warm-up. Peak
memory is the largest amount of tensor memory live during one step beyond what was allocated
before it (from the PyTorch profiler's allocation events).

The complex-input models of issue 16 (``--suite complex-input``; `complex_input_models.py`:
an STFT CNN, a complex MLP, four conv blocks) are fed random complex input instead, and add the
rows ``phasor[lowered]`` (`phasor.lowering.lower`), ``phasor[compiled]`` (the lowered model under
``torch.compile(fullgraph=True)``, with ``--compile``; its cold compile time is printed) and
``real-pair`` (a hand-written plain-PyTorch model on real and imaginary parts). The allocator
setting is the same for every row of a run (``--keep-freed-memory``, see `phasor.memory`).

Run ``python benchmarks/training_step.py`` (full, a few minutes) or ``--quick`` (< 1 min).
Libraries that are not installed are skipped (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import itertools
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

import complex_input_models as cim
import torch
import torch.nn.functional as F
from torch import nn

from phasor.backend import BACKENDS, get_backend
from phasor.lowering import lower, to_pair
from phasor.memory import keep_freed_memory

LIBRARIES = ("phasor", "complexPyTorch", "torchcvnn", "complextorch")
COMPLEX_INPUT = "phasor[complex input]"
MODELS = {"MLP 784-512-100-10": 256, "MLP 784-100-10": 256, "CNN seed 003": 64}
_COMPLEX = {torch.float32: torch.complex64, torch.float64: torch.complex128}
_SCALE = [1]  # batch divisor of the complex-input models (4 with --quick)


# ----------------------------------------------------------------------------- model builders


def _mlp(widths, linear, act) -> nn.Module:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        layers.append(linear(a, b))
        if i < len(widths) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def _cnn(conv, linear, act, pool, bn) -> nn.Module:
    return nn.Sequential(
        conv(1, 10, 5), act(), pool(), bn(10),
        conv(10, 20, 5), act(), pool(), nn.Flatten(),
        linear(320, 500), act(), linear(500, 10),
    )  # fmt: skip


def _layers(lib: str, real_dtype: torch.dtype):
    """``(linear, conv, act, pool, bn)`` factories of one library for ``real_dtype`` nets."""
    cdtype = _COMPLEX[real_dtype]
    if lib == "real":
        kw = {"dtype": real_dtype}
        return (
            lambda i, o: nn.Linear(i, o, **kw),
            lambda i, o, k: nn.Conv2d(i, o, k, **kw),
            nn.ReLU,
            lambda: nn.MaxPool2d(2, 2),
            lambda c: nn.BatchNorm2d(c, **kw),
        )
    if lib.startswith("phasor"):
        import phasor.nn as pn

        # "phasor" and "phasor[complex input]" run the default backend, "phasor[NAME]" NAME.
        backend = lib[7:-1] if "[" in lib else None
        kw = {"dtype": cdtype, "backend": backend if backend in BACKENDS else None}
        return (
            lambda i, o: pn.Linear(i, o, **kw),
            lambda i, o, k: pn.Conv2d(i, o, k, **kw),
            pn.CReLU,
            lambda: pn.MaxPool2d(2, 2),
            lambda c: pn.ComplexBatchNorm2d(c, dtype=cdtype),
        )
    if lib == "complexPyTorch":
        if cdtype != torch.complex64:
            raise NotImplementedError("complexPyTorch hard-codes complex64 (apply_complex)")
        import complexPyTorch.complexLayers as cl

        return (
            cl.ComplexLinear,
            lambda i, o, k: cl.ComplexConv2d(i, o, k),
            cl.ComplexReLU,
            lambda: cl.ComplexMaxPool2d(2, 2),
            cl.ComplexBatchNorm2d,
        )
    if lib == "torchcvnn":
        import torchcvnn.nn as tn

        kw = {"dtype": cdtype}
        return (
            lambda i, o: nn.Linear(i, o, **kw),
            lambda i, o, k: nn.Conv2d(i, o, k, **kw),
            tn.CReLU,
            lambda: tn.MaxPool2d(2, 2),
            lambda c: tn.BatchNorm2d(c, cdtype=cdtype),
        )
    if lib == "complextorch":
        import complextorch.nn as ct

        kw = {"dtype": cdtype}
        return (
            lambda i, o: ct.Linear(i, o, **kw),
            lambda i, o, k: ct.Conv2d(i, o, k, **kw),
            lambda: ct.CReLU(inplace=False),  # in place, it breaks autograd in these nets
            lambda: ct.MagMaxPool2d(2, 2),
            ct.BatchNorm2d,  # real parameters, in the default dtype
        )
    raise ValueError(lib)


def build(lib: str, model: str, real_dtype: torch.dtype) -> nn.Module:
    linear, conv, act, pool, bn = _layers(lib, real_dtype)
    default = torch.get_default_dtype()
    torch.set_default_dtype(real_dtype)  # real parameters and buffers (e.g. of batch norms)
    try:
        if model.startswith("CNN"):
            return _cnn(conv, linear, act, pool, bn)
        return _mlp([int(w) for w in model.split()[1].split("-")], linear, act)
    finally:
        torch.set_default_dtype(default)


# ----------------------------------------------------------------------------- steps


COMPILE_SECONDS: dict[tuple[str, str], float] = {}
"""(model, dtype name) -> cold compile + first step of ``phasor[compiled]``, in seconds."""


def make_complex_input_step(lib, model, real_dtype, train, scale=1) -> Callable[[], None]:
    """A step of one of the complex-input models (`complex_input_models`)."""
    torch.manual_seed(0)
    cdtype = _COMPLEX[real_dtype]
    net = cim.build(lib, model, cdtype)
    batch, shape = cim.MODELS[model]
    batch = max(1, batch // scale)
    z = torch.randn(batch, *shape, dtype=cdtype)
    y = torch.randint(0, 10, (batch,))
    if not train:
        net.eval()
    x, head = z, torch.abs
    if lib == "real":
        x, head = z.real.contiguous(), (lambda out: out)
    elif lib in ("phasor[lowered]", "phasor[compiled]", "real-pair"):
        x, head = to_pair(z), cim.pair_modulus
        if lib != "real-pair":
            net = lower(net)
    params = list(net.parameters())
    if lib == "phasor[compiled]":
        net = torch.compile(net, fullgraph=True)
    if not train:

        def infer() -> None:
            with torch.no_grad():
                head(net(x))

        step = infer
    else:
        opt = torch.optim.Adam(params, lr=1e-3)

        def step() -> None:
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(head(net(x)), y).backward()
            opt.step()

    if lib == "phasor[compiled]":
        started = time.perf_counter()
        step()
        COMPILE_SECONDS[model, f"{real_dtype}{'' if train else ' inference'}"] = (
            time.perf_counter() - started
        )
    return step


def make_step(lib: str, model: str, real_dtype: torch.dtype, train: bool) -> Callable[[], None]:
    """Build ``lib``'s version of ``model`` and return a closure running one step."""
    if model in cim.MODELS:
        return make_complex_input_step(lib, model, real_dtype, train, _SCALE[0])
    torch.manual_seed(0)
    net = build(lib, model, real_dtype)
    batch = MODELS[model]
    shape = (batch, 1, 28, 28) if model.startswith("CNN") else (batch, 784)
    x = torch.rand(shape, dtype=real_dtype)
    y = torch.randint(0, 10, (batch,))
    # Real images for the real net and phasor; cast to complex (zero imaginary part) for the
    # peers, whose layers take complex input only, and for the "phasor[complex input]" row.
    if lib != "real" and (lib == COMPLEX_INPUT or not lib.startswith("phasor")):
        x = x.to(_COMPLEX[real_dtype])

    def logits() -> torch.Tensor:
        out = net(x)
        return out if lib == "real" else out.abs()

    if not train:
        net.eval()

        def infer() -> None:
            with torch.no_grad():
                logits()

        return infer

    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(logits(), y).backward()
        opt.step()

    return step


def peak_memory(step: Callable[[], None]) -> int:
    """Largest tensor memory (bytes) live during ``step`` beyond what was live before it."""
    from torch.profiler import ProfilerActivity, profile

    saved = os.dup(2)  # silence the profiler's start/stop lines on stderr
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
                step()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    records = sorted(
        (e.start_ns(), e.nbytes())
        for e in prof.profiler.kineto_results.events()
        if e.name() == "[memory]"
    )
    live = peak = 0
    for _, n in records:
        live += n
        peak = max(peak, live)
    return peak


def time_model(model, libs, real_dtype, train, warmup, rounds, rng, clock) -> dict[str, dict]:
    steps, results = {}, {}
    for lib in libs:
        try:
            steps[lib] = make_step(lib, model, real_dtype, train)
        except (ImportError, NotImplementedError) as e:
            results[lib] = {"skip": str(e)}
    for lib, step in steps.items():
        for _ in range(warmup):
            step()
        results[lib] = {"times": [], "peak": peak_memory(step)}
    order = list(steps)
    for _ in range(rounds):
        rng.shuffle(order)
        for lib in order:
            t0 = clock()
            steps[lib]()
            results[lib]["times"].append(clock() - t0)
    for r in results.values():
        if "times" in r:
            r["ms"] = statistics.median(r["times"]) * 1e3
    return results


# ----------------------------------------------------------------------------- report


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = []
    for dist in ("torch", "phasor-nn", "complexPyTorch", "torchcvnn", "complextorch"):
        try:
            versions.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            versions.append(f"{dist} (not installed)")
    load = " ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"{cpu}, {os.cpu_count()} logical cores, torch threads {torch.get_num_threads()}; "
        f"Python {platform.python_version()}; {', '.join(versions)}; load average {load}"
    )


def table(title: str, rows: dict[str, dict[str, dict]], libs) -> str:
    lines = [f"### {title}", ""]
    lines.append("| model | library | ms/step | x real | x phasor | peak MiB |")
    lines.append("|---|---|---:|---:|---:|---:|")
    for model, res in rows.items():
        real = res.get("real", {}).get("ms")
        ref = res.get("phasor", {}).get("ms")
        for lib in ("real", *libs):
            r = res.get(lib)
            if r is None:
                continue
            if "skip" in r:
                lines.append(f"| {model} | {lib} | skipped: {r['skip']} | | | |")
                continue
            ms = r["ms"]
            vs_real = f"{ms / real:.2f}" if real else "-"
            vs_ref = f"{ms / ref:.2f}" if ref else "-"
            mib = r["peak"] / 2**20
            lines.append(f"| {model} | {lib} | {ms:.2f} | {vs_real} | {vs_ref} | {mib:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds, float32 only (< 1 min)")
    parser.add_argument("--rounds", type=int, help="timed rounds per model (default 40, quick 5)")
    parser.add_argument("--warmup", type=int, help="untimed steps per library (default 5)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: elapsed time; cpu: CPU time of this process, which other processes on a "
        "shared machine do not inflate (meaningful with --threads 1)",
    )
    parser.add_argument("--libs", nargs="+", default=list(LIBRARIES), choices=LIBRARIES)
    parser.add_argument(
        "--suite",
        choices=("seed", "complex-input", "all"),
        default="all",
        help="seed: the seed models on real images; complex-input: the three complex-input "
        "models of issue 16 (quarter batches with --quick); all: both (default)",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="add the phasor[compiled] row to the complex-input models (inductor; minutes of "
        "cold compile on a CPU)",
    )
    parser.add_argument(
        "--precision",
        choices=("complex64", "complex128"),
        help="one precision only (default: both; complex64 with --quick)",
    )
    parser.add_argument(
        "--batch-divisor",
        type=int,
        help="divide the complex-input models' batches by this (default 1; 4 with --quick)",
    )
    parser.add_argument(
        "--keep-freed-memory",
        action="store_true",
        help="phasor.memory.keep_freed_memory() before timing (every row alike)",
    )
    parser.add_argument(
        "--backends",
        nargs="*",
        default=["auto"],
        choices=BACKENDS,
        help="extra phasor rows on these backends (default: auto)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.keep_freed_memory:
        keep_freed_memory()
    _SCALE[0] = args.batch_divisor or (4 if args.quick else 1)
    rounds = args.rounds or (5 if args.quick else 40)
    warmup = args.warmup or (1 if args.quick else 5)
    rng = random.Random(0)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    for lib in args.libs:
        if lib != "phasor":
            try:
                importlib.import_module(lib)
            except ImportError:
                print(f"{lib} not installed: skipped (pip install -e '.[bench]')", file=sys.stderr)
    libs = [lib for lib in args.libs if lib == "phasor" or importlib.util.find_spec(lib)]
    if "phasor" in libs:
        extra = [COMPLEX_INPUT, *(f"phasor[{b}]" for b in args.backends if b != get_backend())]
        at = libs.index("phasor") + 1
        libs[at:at] = extra
    print(f"Machine: {machine()}")
    print(f"phasor default backend: {get_backend()}")
    print(f"glibc keeps freed memory: {args.keep_freed_memory}")
    print(
        f"Median {args.clock}-clock time of {rounds} interleaved rounds after {warmup} warm-up "
        "steps per library.\n"
    )
    t0 = time.perf_counter()
    precisions = [args.precision] if args.precision else (["complex64"] if args.quick else None)
    precisions = precisions or ["complex64", "complex128"]
    sections = [
        (name, dtype, train)
        for precision, dtype in (("complex64", torch.float32), ("complex128", torch.float64))
        if precision in precisions
        for name, train in (("training step", True), ("inference", False))
    ]
    peers = [lib for lib in libs if lib in ("torchcvnn", "complextorch")]
    complex_libs = ["phasor", "phasor[lowered]"] + ["phasor[compiled]"] * args.compile
    complex_libs += ["real-pair", *peers]
    suites = []
    if args.suite in ("seed", "all"):
        suites.append(("seed models, real images", list(MODELS), libs))
    if args.suite in ("complex-input", "all"):
        suites.append(("complex-input models", list(cim.MODELS), complex_libs))
    for suite, models, suite_libs in suites:
        for name, dtype, train in sections:
            cname = "complex64" if dtype == torch.float32 else "complex128"
            rname = "float32" if dtype == torch.float32 else "float64"
            rows = {
                m: time_model(m, ["real", *suite_libs], dtype, train, warmup, rounds, rng, clock)
                for m in models
            }
            title = f"{name.capitalize()}, {cname} (real net {rname}), {suite}"
            print(table(title, rows, suite_libs), "\n")
            sys.stdout.flush()
    for (model, dtype), seconds in COMPILE_SECONDS.items():
        print(f"phasor[compiled] {model} ({dtype}): cold compile + first step {seconds:.1f} s")
    print(f"Total benchmark time {time.perf_counter() - t0:.0f} s; load average now "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}")  # fmt: skip


if __name__ == "__main__":
    main()
