"""Sweeps: a grid of configurations × seeds, run in parallel worker processes.

Every run writes into its own folder ``out_dir/runs/<run_id>/``:

* ``config.json`` — the configuration, the seed and the run's index in the sweep;
* ``result.json`` — the metrics ``run_fn`` returned, written atomically when it finishes
  (its presence marks the run as done, so an interrupted sweep skips it on the next call);
* ``error.txt`` — the traceback, when the run failed (failed runs are retried next time);
* ``.lock`` — held (``flock``) by the process training the run, so two sweeps sharing
  ``out_dir`` never train one run at the same time: the second one skips it with status
  ``"locked"``. The kernel releases the lock when that process dies.

Worker processes die with the sweep's process, even when it is killed with SIGKILL (on
Linux through ``PR_SET_PDEATHSIG``, elsewhere through a thread that watches the parent's
pid), so no orphan goes on training a run that a resumed sweep starts again.

At the end `summarize` writes ``runs.csv`` (one row per run), ``summary.csv`` and
``summary.json`` (per configuration: number of seeds, mean and sample standard deviation
of every numeric metric).

Across machines, shard the same sweep with a job array: task ``i`` of ``n`` runs
``run_sweep(..., shard=(i, n))`` into a shared ``out_dir``, and a last job calls
``python -m phasor.train.sweep summarize OUT_DIR`` (see docs/training.md).
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import fcntl
import hashlib
import io
import itertools
import json
import math
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from phasor.train.errors import TrainingError

__all__ = [
    "SweepResult",
    "add_sweep_arguments",
    "expand_grid",
    "main",
    "parse_shard",
    "run_id",
    "run_sweep",
    "summarize",
]

LOCK_NAME = ".lock"

RunFn = Callable[[dict[str, Any], int, Path], Mapping[str, Any]]


@dataclass
class SweepResult:
    """What `run_sweep` did.

    Attributes:
        runs: one dict per run of this call (``run_id``, ``config``, ``seed``, ``status`` in
            ``"done" | "skipped" | "failed" | "locked"``, ``metrics`` or ``error``,
            ``dir``). ``"locked"``: another process was training the run, so this call
            left it alone.
        summary: per-configuration aggregates over seeds, as written to ``summary.json``.
    """

    runs: list[dict[str, Any]] = field(default_factory=list)
    summary: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["status"] == "failed"]

    @property
    def locked(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["status"] == "locked"]


def expand_grid(
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Configurations of a sweep: the Cartesian product of a ``{name: values}`` mapping (in
    key order, last key fastest) or an explicit list of configuration dicts."""
    if isinstance(grid, Mapping):
        for name, values in grid.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
                raise ValueError(
                    f"grid[{name!r}] must be a non-empty list of values, got {values!r}"
                )
        names = list(grid)
        configs = [
            dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())
        ]
    else:
        configs = [dict(c) for c in grid]
        if not configs or not all(isinstance(c, Mapping) for c in grid):
            raise ValueError("grid must be a mapping of lists or a non-empty list of dicts")
    for c in configs:
        try:
            json.dumps(c, sort_keys=True)
        except TypeError as exc:
            raise ValueError(f"configuration {c!r} is not JSON-serialisable: {exc}") from exc
    return configs


def run_id(config: Mapping[str, Any], seed: int) -> str:
    """Folder name of a run: readable ``key=value`` pairs, a short hash, the seed."""
    canon = json.dumps(config, sort_keys=True)
    slug = "_".join(f"{k}={v}" for k, v in config.items())
    slug = re.sub(r"[^A-Za-z0-9._=+-]+", "-", slug)[:60].strip("-") or "run"
    return f"{slug}-{hashlib.sha1(canon.encode()).hexdigest()[:8]}-seed{seed}"


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` → ``(i, n)`` with ``0 <= i < n`` (e.g. from ``$SLURM_ARRAY_TASK_ID``)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not int(m[1]) < int(m[2]):
        raise ValueError(f"shard must look like 'i/n' with 0 <= i < n, got {text!r}")
    return int(m[1]), int(m[2])


def add_sweep_arguments(parser: argparse.ArgumentParser, workers: int = 2) -> None:
    """Add the flags a study's sweep needs: ``--workers N``, ``--shard i/n`` (one task of a
    job array) and ``--no-resume``. Pass them on as
    ``run_sweep(..., workers=args.workers, shard=args.shard, resume=args.resume)``."""
    parser.add_argument(
        "--workers",
        type=int,
        default=workers,
        help=f"parallel worker processes (default {workers}; 1 = in-process)",
    )
    parser.add_argument(
        "--shard",
        type=parse_shard,
        default=None,
        metavar="I/N",
        help="run only task I of N, e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT",
    )
    parser.add_argument(
        "--no-resume", dest="resume", action="store_false", help="rerun runs that already finished"
    )


def run_sweep(
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    seeds: Sequence[int] | int,
    run_fn: RunFn,
    out_dir: str | os.PathLike,
    workers: int = 2,
    shard: tuple[int, int] | str | None = None,
    resume: bool = True,
    threads_per_worker: int | None = None,
    progress: bool = True,
) -> SweepResult:
    """Run ``run_fn(config, seed, run_dir)`` for every configuration of ``grid`` and seed.

    Args:
        grid: ``{name: [values]}`` (Cartesian product) or a list of configuration dicts;
            values must be JSON-serialisable.
        seeds: list of seeds, or ``n`` for ``range(n)``.
        run_fn: returns a mapping of metrics (numbers are aggregated). With ``workers > 1``
            it must be picklable: a module-level function. ``run_dir`` is the run's own
            folder; pass it as the Trainer's ``out_dir`` and call ``fit(resume=True)`` so a
            run cut off mid-training continues from its checkpoint.
        out_dir: the sweep's folder.
        workers: parallel processes (spawned); ``0`` or ``1`` runs in this process.
        shard: ``(i, n)`` or ``"i/n"``: only runs whose index ``k`` has ``k % n == i``
            (one task of a job array).
        resume: skip runs that already have a ``result.json``; False reruns everything.
            Either way a run that another process is training (its ``.lock`` is held) is
            skipped with status ``"locked"`` and a warning.
        threads_per_worker: torch threads in each worker (default: cores // workers).
        progress: show a progress bar over runs.

    Returns a `SweepResult`; the summary covers every finished run in ``out_dir``
    (all shards so far; a locked run counts once its other process has finished it).
    Raises `TrainingError` after writing the summary if any run failed.
    """
    out = Path(out_dir)
    configs = expand_grid(grid)
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise ValueError("seeds must not be empty")
    i_shard, n_shard = parse_shard(shard) if isinstance(shard, str) else (shard or (0, 1))
    if not 0 <= i_shard < n_shard:
        raise ValueError(f"shard must satisfy 0 <= i < n, got {(i_shard, n_shard)}")
    jobs = []
    for k, (config, seed) in enumerate(itertools.product(configs, seed_list)):
        if k % n_shard != i_shard:
            continue
        rid = run_id(config, seed)
        run_dir = out / "runs" / rid
        jobs.append(
            {"index": k, "run_id": rid, "config": config, "seed": seed, "dir": str(run_dir)}
        )

    result = SweepResult()
    todo = []
    for job in jobs:
        done = Path(job["dir"]) / "result.json"
        if resume and done.is_file():
            metrics = json.loads(done.read_text())["metrics"]
            result.runs.append({**job, "status": "skipped", "metrics": metrics})
        else:
            todo.append(job)

    threads = threads_per_worker or max(1, (os.cpu_count() or 1) // max(1, workers))
    bar = tqdm(total=len(todo), desc="sweep", disable=not progress, dynamic_ncols=True)
    try:
        if workers <= 1:
            for job in todo:
                result.runs.append(_finish(job, _execute(run_fn, job, resume, None)))
                bar.update(1)
        else:
            ctx = multiprocessing.get_context("spawn")
            # The workers are started from this thread, which outlives them (the with block
            # joins them): PR_SET_PDEATHSIG fires when the creating thread ends.
            with ProcessPoolExecutor(
                max_workers=workers,
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(os.getpid(),),
            ) as pool:
                futures = [
                    (job, pool.submit(_execute, run_fn, job, resume, threads)) for job in todo
                ]
                for job, fut in futures:
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool as exc:
                        outcome = {"status": "failed", "error": f"worker process died: {exc}"}
                    result.runs.append(_finish(job, outcome))
                    bar.update(1)
    finally:
        bar.close()
    result.runs.sort(key=lambda r: r["index"])
    result.summary = summarize(out)
    if result.locked:
        names = ", ".join(r["run_id"] for r in result.locked[:5])
        warnings.warn(
            f"{len(result.locked)} run(s) skipped because another process is training them "
            f"({names}); rerun the sweep after it finishes to include them",
            stacklevel=2,
        )
    if result.failed:
        lines = "; ".join(
            f"{r['run_id']}: {r['error'].splitlines()[-1]}" for r in result.failed[:5]
        )
        raise TrainingError(
            f"{len(result.failed)} of {len(jobs)} sweep run(s) failed ({lines}); tracebacks are in "
            f"{out / 'runs'}/<run_id>/error.txt. Rerun the sweep to retry them"
        )
    return result


def _finish(job: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
    return {**job, **outcome}


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _init_worker(parent_pid: int) -> None:
    """Make this worker process die with the sweep's process ``parent_pid``."""
    if not _die_with_parent_linux():
        _watch_parent(parent_pid)
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def _die_with_parent_linux() -> bool:
    """Ask the kernel for SIGKILL when the parent ends (Linux ``prctl``); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Portable fallback: a daemon thread that ends this process once its parent has gone
    (the process is then re-parented, so ``os.getppid()`` changes)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="sweep-parent-watch", daemon=True).start()


def _execute(
    run_fn: RunFn, job: dict[str, Any], resume: bool, threads: int | None
) -> dict[str, Any]:
    """Run one job (in a worker process when ``threads`` is set) and record its outcome,
    holding the run folder's lock throughout."""
    if threads is not None:
        torch.set_num_threads(threads)
    run_dir = Path(job["dir"])
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / LOCK_NAME, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return {
                "status": "locked",
                "error": f"{run_dir} is being trained by another process (it holds "
                f"{run_dir / LOCK_NAME}); skipped",
            }
        done = run_dir / "result.json"
        if resume and done.is_file():  # finished by another sweep meanwhile
            return {"status": "skipped", "metrics": json.loads(done.read_text())["metrics"]}
        return _train(run_fn, job, run_dir)


def _train(run_fn: RunFn, job: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """Call ``run_fn`` in ``run_dir`` and write ``result.json`` or ``error.txt``."""
    (run_dir / "result.json").unlink(missing_ok=True)
    meta = {
        "index": job["index"],
        "run_id": job["run_id"],
        "config": job["config"],
        "seed": job["seed"],
    }
    _write_json(run_dir / "config.json", meta)
    try:
        metrics = run_fn(dict(job["config"]), job["seed"], run_dir)
        if not isinstance(metrics, Mapping):
            raise TypeError(
                f"run_fn must return a mapping of metrics, got {type(metrics).__name__}"
            )
        metrics = {str(k): v for k, v in metrics.items()}
        json.dumps(metrics)
    except Exception:
        error = traceback.format_exc()
        (run_dir / "error.txt").write_text(error)
        return {"status": "failed", "error": error}
    (run_dir / "error.txt").unlink(missing_ok=True)
    _write_json(run_dir / "result.json", {**meta, "metrics": metrics})
    return {"status": "done", "metrics": metrics}


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def summarize(out_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Aggregate every finished run under ``out_dir/runs`` and write ``runs.csv``,
    ``summary.csv`` and ``summary.json``.

    Runs are grouped by configuration; each group gets ``n`` (seeds), ``seeds`` and for every
    numeric metric ``mean`` and ``std`` (sample standard deviation, 0 for one seed).
    Returns the groups in sweep order.
    """
    out = Path(out_dir)
    finished = []
    for path in sorted((out / "runs").glob("*/result.json")):
        finished.append(json.loads(path.read_text()))
    finished.sort(key=lambda r: r["index"])
    groups: dict[str, dict[str, Any]] = {}
    for run in finished:
        key = json.dumps(run["config"], sort_keys=True)
        g = groups.setdefault(key, {"config": run["config"], "seeds": [], "values": {}})
        g["seeds"].append(run["seed"])
        for name, value in run["metrics"].items():
            if _is_number(value):
                g["values"].setdefault(name, []).append(float(value))
    summary = []
    for g in groups.values():
        mean = {k: math.fsum(v) / len(v) for k, v in g["values"].items()}
        std = {
            k: math.sqrt(math.fsum((x - mean[k]) ** 2 for x in v) / (len(v) - 1))
            if len(v) > 1
            else 0.0
            for k, v in g["values"].items()
        }
        summary.append(
            {
                "config": g["config"],
                "seeds": g["seeds"],
                "n": len(g["seeds"]),
                "mean": mean,
                "std": std,
            }
        )
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "summary.json", {"groups": summary})
    config_keys = _ordered_keys(r["config"] for r in finished)
    metric_keys = _ordered_keys(r["metrics"] for r in finished)
    _write_csv(
        out / "runs.csv",
        ["run_id", *config_keys, "seed", *metric_keys],
        [
            {"run_id": r["run_id"], **r["config"], "seed": r["seed"], **r["metrics"]}
            for r in finished
        ],
    )
    stat_keys = _ordered_keys(g["mean"] for g in summary)
    _write_csv(
        out / "summary.csv",
        [*config_keys, "n", *(f"{m}_{s}" for m in stat_keys for s in ("mean", "std"))],
        [
            {
                **g["config"],
                "n": g["n"],
                **{f"{m}_mean": g["mean"][m] for m in g["mean"]},
                **{f"{m}_std": g["std"][m] for m in g["std"]},
            }
            for g in summary
        ],
    )
    return summary


def _ordered_keys(dicts) -> list[str]:
    keys: list[str] = []
    for d in dicts:
        keys += [k for k in d if k not in keys]
    return keys


def _write_csv(path: Path, fields: list[str], rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in row.items()})
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(buf.getvalue())
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m phasor.train.sweep summarize OUT_DIR``: aggregate a (sharded) sweep."""
    parser = argparse.ArgumentParser(prog="python -m phasor.train.sweep", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("summarize", help="write summary.csv/json from every finished run")
    p.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    if not list((args.out_dir / "runs").glob("*/result.json")):
        raise SystemExit(f"no finished runs under {args.out_dir / 'runs'}")
    summary = summarize(args.out_dir)
    print(
        f"{sum(g['n'] for g in summary)} runs in {len(summary)} configuration(s) -> "
        f"{args.out_dir / 'summary.csv'}"
    )


if __name__ == "__main__":
    main()
