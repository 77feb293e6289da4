"""Time each backend of phasor's linear and convolution ops on the layers of the seed models.

For every layer of the models in ``training_step.py`` (same shapes, same ``requires_grad`` of the
input as in those networks) this prints the time of the forward pass alone and of forward +
backward on each concrete backend (``native``, ``real``, ``gauss``), for the first layers also on
the real images as they are (``real input``: one real op on the stacked weight, whatever the
backend), the same real-valued op for comparison, the ratio of the best complex kernel to the
real op, and the backend that ``"auto"`` picks for a complex input. The best of the interleaved rounds is reported (``--clock cpu`` by default: CPU time of
this process, robust on a shared machine; use ``--threads 1`` with it).

Run ``python benchmarks/kernels.py [--rounds 25] [--threads 1] [--clock cpu|wall]``.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time

import torch
import torch.nn.functional as F

from phasor import _autotune
from phasor.backend import KERNELS
from phasor.functional.linear import complex_bilinear

# name, real op, input shape, weight shape, spatial dims, input requires grad
LAYERS = [
    ("MLP-512 fc1", F.linear, (256, 784), (512, 784), 0, False),
    ("MLP-512 fc2", F.linear, (256, 512), (100, 512), 0, True),
    ("MLP-512 fc3", F.linear, (256, 100), (10, 100), 0, True),
    ("MLP-100 fc1", F.linear, (256, 784), (100, 784), 0, False),
    ("CNN conv1", functools.partial(F.conv2d), (64, 1, 28, 28), (10, 1, 5, 5), 2, False),
    ("CNN conv2", functools.partial(F.conv2d), (64, 10, 12, 12), (20, 10, 5, 5), 2, True),
    ("CNN fc1", F.linear, (64, 320), (500, 320), 0, True),
    ("CNN fc2", F.linear, (64, 500), (10, 500), 0, True),
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="cpu")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    print(f"torch threads {torch.get_num_threads()}, {args.clock} clock, best of {args.rounds}")
    print("ms, complex64 (real op float32); train = forward + backward\n")
    cols = [*KERNELS, "real input", "real op"]
    head = "| layer | pass | " + " | ".join(cols) + " | best / real op | auto picks |"
    print(head)
    print("|---|---|" + "---:|" * (len(cols) + 1) + "---|")
    for name, op, xs, ws, sd, x_grad in LAYERS:
        x = torch.randn(xs, dtype=torch.complex64, requires_grad=x_grad)
        w = torch.randn(ws, dtype=torch.complex64)
        if op is F.linear:  # stored transposed, as phasor.nn.Linear stores its weight
            w = w.t().contiguous().t()
        w.requires_grad_()
        xr = torch.randn(xs, requires_grad=x_grad)
        wr = torch.randn(ws, requires_grad=True)
        fns = {k: functools.partial(complex_bilinear, op, x, w, backend=k, spatial_dims=sd)
               for k in KERNELS}  # fmt: skip
        if not x_grad:  # a first layer: the images themselves are real
            fns["real input"] = functools.partial(
                complex_bilinear, op, xr.detach(), w, spatial_dims=sd
            )
        fns["real op"] = functools.partial(op, xr, wr)
        for train in (False, True):
            best = dict.fromkeys(fns, float("inf"))
            for _ in range(args.rounds):
                for k, f in fns.items():
                    with torch.set_grad_enabled(train):
                        start = clock()
                        out = f()
                        if train:
                            out.backward(torch.ones_like(out))
                        best[k] = min(best[k], clock() - start)
            _autotune.clear_cache()
            with torch.set_grad_enabled(train):
                complex_bilinear(op, x, w, backend="auto", spatial_dims=sd)
            (picked,) = _autotune.cache().values()
            fastest = min(best[k] for k in fns if k != "real op")
            row = " | ".join(f"{best[k] * 1e3:.2f}" if k in fns else "-" for k in cols)
            ratio = fastest / best["real op"]
            print(f"| {name} | {'train' if train else 'infer'} | {row} | {ratio:.2f} | {picked} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
