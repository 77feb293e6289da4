"""Data-parallel helpers around `torch.distributed`.

The [`Trainer`][phasor.train.trainer.Trainer] calls `init_distributed` itself, so a training
script runs unchanged under ``torchrun``:

    torchrun --nproc_per_node=2 train.py            # one machine, 2 processes
    torchrun --nnodes=2 --nproc_per_node=4 --rdzv-backend=c10d \\
             --rdzv-endpoint=HOST:29500 train.py     # two machines

The backend is ``gloo`` on CPU and ``nccl`` when CUDA is used. Complex parameters work
with `DistributedDataParallel` as they are (gradients are
all-reduced as their real view).
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import sys

import torch
import torch.distributed as dist

__all__ = [
    "all_reduce_sum",
    "barrier",
    "broadcast_object",
    "gather_objects",
    "get_rank",
    "get_world_size",
    "init_distributed",
    "is_distributed",
    "is_main_process",
    "launched_by_torchrun",
    "local_rank",
]


def launched_by_torchrun() -> bool:
    """True when the environment of ``torchrun`` asks for more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def init_distributed(backend: str | None = None, device: str = "cpu") -> bool:
    """Join the process group described by the ``torchrun`` environment, once.

    ``backend`` defaults to ``"nccl"`` for a CUDA ``device`` and ``"gloo"`` otherwise.
    Returns True when running with more than one process.
    """
    if is_distributed():
        return True
    if not launched_by_torchrun() or not dist.is_available():
        return False
    use_cuda = device.startswith("cuda")
    if backend is None:
        backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(local_rank())
    # torch._dynamo, when first imported after the group exists (building any optimiser does
    # it), keeps a reference to the group that destroy_process_group cannot drop; gloo's
    # threads then outlive the group and abort the process as the interpreter exits
    # ("terminate called without an active exception"). Imported first, it holds none.
    importlib.import_module("torch._dynamo")
    dist.init_process_group(backend=backend)
    atexit.register(_destroy)
    return True


def _destroy() -> None:
    """Leave the process group before the interpreter is torn down (an ``atexit`` hook).

    Waits for every process first (no rank frees a group another still talks to; skipped
    after an uncaught error, when the others may be gone), destroys the group and collects
    garbage, so that gloo's threads are joined while the interpreter is whole: threads left
    to the interpreter's teardown abort a finished job now and then (SIGABRT).
    """
    if not dist.is_initialized():
        return
    if sys.exc_info()[0] is None and getattr(sys, "last_value", None) is None:
        dist.barrier()
    dist.destroy_process_group()
    gc.collect()


def is_distributed() -> bool:
    """True inside an initialised process group with more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def get_rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def get_world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main_process() -> bool:
    return get_rank() == 0


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def all_reduce_sum(values: torch.Tensor) -> torch.Tensor:
    """Sum ``values`` over all processes (in place; identity without a process group)."""
    if is_distributed():
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def gather_objects(obj: object) -> list[object]:
    """Every process's ``obj``, in rank order (``[obj]`` without a process group)."""
    if not is_distributed():
        return [obj]
    out: list[object] = [None] * get_world_size()
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: object, src: int = 0) -> object:
    """Rank ``src``'s ``obj`` on every process."""
    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]
