"""How many CPU threads the ``phasor`` command gives PyTorch, and how they wait.

PyTorch's OpenMP threads spin while they wait for work (``OMP_WAIT_POLICY=ACTIVE`` is the GNU
runtime's default). When another process keeps the cores busy, a spinning thread burns the
time slice its team-mates need, and a run that takes seconds alone can take minutes. The
command therefore

* asks OpenMP to sleep instead of spinning (``OMP_WAIT_POLICY=PASSIVE``), unless the
  environment already says otherwise; this must happen before torch is imported, which is
  why `prefer_passive_waiting` imports nothing heavy;
* uses ``--threads N`` threads, by default `default_threads`: the cores this process
  may run on, at most 4 (the studies' models are small; more threads only add overhead).

``benchmarks/threads_under_load.py`` measures the effect with every core kept busy.
"""

from __future__ import annotations

import os

__all__ = ["MAX_DEFAULT_THREADS", "default_threads", "prefer_passive_waiting", "use_threads"]

MAX_DEFAULT_THREADS = 4


def prefer_passive_waiting() -> bool:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless it is set already; ``True`` when it was set here.

    Takes effect only if torch has not been imported yet in this process.
    """
    if "OMP_WAIT_POLICY" in os.environ:
        return False
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return True


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_threads() -> int:
    """``min(available cores, MAX_DEFAULT_THREADS)``, or ``$OMP_NUM_THREADS`` when it is set."""
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(available_cores(), MAX_DEFAULT_THREADS))


def use_threads(threads: int | None) -> int:
    """Give torch ``threads`` intra-op threads (``None``: `default_threads`); returns it."""
    import torch

    n = default_threads() if threads is None else threads
    if n < 1:
        raise ValueError(f"threads must be a positive integer, got {n}")
    torch.set_num_threads(n)
    return n
