"""Pick the fastest backend for one complex bilinear op by measuring it (the ``"auto"`` backend).

The first time an op meets a new *signature* (the op and its options, the shapes of input and
weight, dtype, device, and which operands need gradients), every concrete backend is run on
random tensors of that signature: forward, plus backward when gradients are being recorded.
Backends are interleaved, the best of a few repetitions after one warm-up is kept, and the
winner is cached for the rest of the process. The first candidate is the reference and keeps
the op unless another is clearly faster (`MARGIN`), so that near-ties do not make the
choice, and with it the rounding of the results, depend on timing noise. On the CPU the CPU
time of the process is measured (robust to other processes on a busy machine), on
accelerators the synchronised wall clock. Measurements use a private random generator, so the
global random state (and hence training reproducibility) is untouched; the chosen backend only
changes floating-point rounding (all backends agree to float tolerance).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Hashable

import torch

__all__ = ["cache", "choose", "clear_cache"]

REPEATS = 5
"""Timed repetitions per backend; the fastest one counts."""

MARGIN = 0.9
"""Another backend replaces the first candidate (the reference, ``"native"``) only if its time
is below ``MARGIN`` times the reference's: near-ties, where timing noise could flip the choice
from run to run, stay on the reference."""

_cache: dict[Hashable, str] = {}


def cache() -> dict[Hashable, str]:
    """A copy of the cache: signature -> chosen backend name."""
    return dict(_cache)


def clear_cache() -> None:
    """Forget every choice (the next call of each signature measures again)."""
    _cache.clear()


def _op_key(op: Callable) -> Hashable:
    if isinstance(op, functools.partial):
        options = tuple(sorted((k, repr(v)) for k, v in op.keywords.items()))
        return (_op_key(op.func), repr(op.args), options)
    return getattr(op, "__qualname__", repr(op))


def signature(op: Callable, input: torch.Tensor, weight: torch.Tensor, grad: bool) -> Hashable:
    """The cache key of one call: everything the speed of the backends depends on."""
    return (
        _op_key(op),
        tuple(input.shape),
        tuple(weight.shape),
        input.dtype,
        input.device,
        grad and input.requires_grad,
        grad and weight.requires_grad,
    )


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _measure(
    run: Callable[[str, torch.Tensor, torch.Tensor], torch.Tensor],
    candidates: tuple[str, ...],
    input: torch.Tensor,
    weight: torch.Tensor,
    grad: bool,
) -> str:
    gen = torch.Generator(device=input.device).manual_seed(0)

    def rand(t: torch.Tensor, requires_grad: bool) -> torch.Tensor:
        r = torch.randn(t.shape, dtype=t.dtype, device=t.device, generator=gen)
        return r.requires_grad_(requires_grad)

    x = rand(input, grad and input.requires_grad)
    w = rand(weight, grad and weight.requires_grad)
    leaves = [t for t in (x, w) if t.requires_grad]

    # On the CPU, count the CPU time of this process: unlike elapsed time, other processes on
    # a busy machine do not inflate it. Accelerators are timed by the clock, synchronised.
    clock = time.process_time if x.device.type == "cpu" else time.perf_counter

    def once(name: str) -> float:
        _sync(x.device)
        start = clock()
        with torch.set_grad_enabled(bool(leaves)):
            out = run(name, x, w)
            if leaves:
                torch.autograd.grad(out, leaves, torch.ones_like(out))
        _sync(x.device)
        return clock() - start

    best = dict.fromkeys(candidates, float("inf"))
    for name in candidates:  # warm-up (first-call allocations, kernel selection)
        once(name)
    for _ in range(REPEATS):
        for name in candidates:
            best[name] = min(best[name], once(name))
    fastest = min(candidates, key=best.__getitem__)
    return fastest if best[fastest] < MARGIN * best[candidates[0]] else candidates[0]


def choose(
    op: Callable,
    input: torch.Tensor,
    weight: torch.Tensor,
    run: Callable[[str, torch.Tensor, torch.Tensor], torch.Tensor],
    candidates: tuple[str, ...],
) -> str:
    """Return the fastest of ``candidates`` for ``op`` at this signature, measuring once.

    Args:
        op: the real bilinear op (its options are part of the signature).
        input: the operands of the call; only their shapes, dtype, device and
            ``requires_grad`` flags are used.
        weight: the operands of the call; only their shapes, dtype, device and
            ``requires_grad`` flags are used.
        run: ``run(backend, input, weight)`` computes the op on one backend.
        candidates: the backends to compare; the first is the reference (see `MARGIN`).
    """
    if torch.compiler.is_compiling():
        return candidates[0]  # a timing loop must not be traced into the compiled graph
    grad = torch.is_grad_enabled()
    key = signature(op, input, weight, grad)
    name = _cache.get(key)
    if name is None:
        try:
            name = _cache[key] = _measure(run, candidates, input, weight, grad)
        except RuntimeError:
            # Under torch.func transforms (vmap forbids the random test data) nothing can be
            # timed: run the reference kernel and measure again outside the transform.
            return candidates[0]
    return name
