"""Wall time of studies on an idle and on a busy machine: the default threads against one.

On a machine where other processes keep every core busy, OpenMP threads that spin while they
wait (the GNU runtime's default) made a 5 s study take minutes. ``phasor run`` now lets them
sleep (``OMP_WAIT_POLICY=PASSIVE``) and uses at most 4 threads; this script checks that the
default stays within 1.5x of one thread when every core is busy, and shows the old setting
(spinning threads, one per core) beside it.

Each setting runs the same command as a subprocess, rounds interleaved, median reported. The
load is one CPU-bound process per core (``while True: pass``), started before and stopped
after each loaded round. A run past ``--timeout`` counts as that many seconds (shown ">").

Run ``python benchmarks/threads_under_load.py [--rounds 3] [--timeout 120]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

WORKLOADS = {
    "wirtinger-regression (defaults)": ["wirtinger-regression"],
    "quickstart, 2 epochs": ["quickstart", "--epochs", "2"],
}

# name -> (extra flags, environment changes); None removes a variable.
SETTINGS = {
    "--threads 1": (["--threads", "1"], {}),
    "default": ([], {}),
    f"old: {CORES} spinning threads": (
        ["--threads", str(CORES)],
        {"OMP_WAIT_POLICY": "ACTIVE"},
    ),
}


def _time(command: list[str], env: dict[str, str], timeout: float) -> float:
    started = time.perf_counter()
    try:
        subprocess.run(command, env=env, check=True, timeout=timeout, stdout=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return timeout
    return time.perf_counter() - started


def _busy_processes(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run at most")
    args = parser.parse_args()

    base_env = {
        k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")
    }
    times: dict[tuple[str, str, bool], list[float]] = {}
    runs = 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for loaded in (False, True):
                load = _busy_processes(CORES) if loaded else []
                try:
                    for workload, study in WORKLOADS.items():
                        for setting, (flags, env_changes) in SETTINGS.items():
                            env = {**base_env, **env_changes}
                            runs += 1
                            out = Path(tmp) / f"run{runs}"  # a fresh folder: no resume
                            command = [
                                sys.executable, "-m", "phasor.cli", "run", *study,
                                "--out", str(out), "--no-progress", *flags,
                            ]  # fmt: skip
                            seconds = _time(command, env, args.timeout)
                            times.setdefault((workload, setting, loaded), []).append(seconds)
                finally:
                    for process in load:
                        process.kill()
                        process.wait()

    print(f"{CORES} cores; median wall seconds of {args.rounds} interleaved rounds; busy = one")
    print("CPU-bound process per core; ratio = time / time of --threads 1 under the same load\n")
    header = f"{'workload':<34}{'setting':<28}{'idle s':>9}{'busy s':>9}{'busy ratio':>12}"
    print(header)
    print("-" * len(header))
    for workload in WORKLOADS:
        single_busy = statistics.median(times[(workload, "--threads 1", True)])
        for setting in SETTINGS:
            idle = statistics.median(times[(workload, setting, False)])
            busy = statistics.median(times[(workload, setting, True)])
            mark = ">" if busy >= args.timeout else ""
            print(
                f"{workload:<34}{setting:<28}{idle:>9.1f}{mark:>1}{busy:>8.1f}"
                f"{busy / single_busy:>11.2f}x"
            )


if __name__ == "__main__":
    main()
