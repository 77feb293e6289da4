"""Sweeps and processes: workers die with a killed sweep; a run folder is trained once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from phasor.train import run_sweep

# A sweep whose runs record their pid, then wait (for the file 'go' in the sweep folder,
# or 60 s) before they finish.
SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from phasor.train import run_sweep

    def slow_run(config, seed, run_dir):
        (run_dir / "pid").write_text(str(os.getpid()))
        go = run_dir.parent.parent / "go"
        for _ in range(600):
            if go.exists():
                break
            time.sleep(0.1)
        return {"value": 1.0}

    if __name__ == "__main__":
        run_sweep({"a": [1, 2]}, seeds=1, run_fn=slow_run, out_dir=sys.argv[1],
                  workers=int(sys.argv[2]), progress=False)
    """
)


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # Linux: the state field of /proc/PID/stat
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return not Path("/proc/self").is_dir()  # reaped meanwhile, or no procfs


def wait_for(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def start_sweep(tmp_path: Path, out: Path, workers: int) -> subprocess.Popen:
    script = tmp_path / "slow_sweep.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(script), str(out), str(workers)], env=env)


def run_pids(out: Path) -> list[int]:
    return [int(p.read_text() or 0) for p in (out / "runs").glob("*/pid")]


def test_workers_die_with_a_killed_sweep(tmp_path):
    out = tmp_path / "sweep"
    parent = start_sweep(tmp_path, out, workers=2)
    pids: list[int] = []
    try:
        assert wait_for(lambda: len(run_pids(out)) == 2 and all(run_pids(out)))
        pids = run_pids(out)
        assert parent.pid not in pids and all(map(alive, pids))
        parent.send_signal(signal.SIGKILL)  # the parent alone, not its process group
        parent.wait()
        assert wait_for(lambda: not any(map(alive, pids)), seconds=10)
        assert not list((out / "runs").glob("*/result.json"))
    finally:
        parent.kill()
        for pid in filter(alive, pids):
            os.kill(pid, signal.SIGKILL)


def test_the_parent_watch_ends_an_orphan(tmp_path):
    """The fallback where prctl is missing: a thread sees the parent go and exits."""
    code = textwrap.dedent(
        """
        import os, subprocess, sys, time
        child = '''
        import os, sys, time
        from phasor.train.sweep import _watch_parent
        _watch_parent(os.getppid(), interval=0.05)
        print(os.getpid(), flush=True)
        time.sleep(60)
        '''
        proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
        print(proc.stdout.readline().strip(), flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    orphan = 0
    try:
        orphan = int(parent.stdout.readline())
        assert alive(orphan)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert wait_for(lambda: not alive(orphan), seconds=10)
    finally:
        parent.kill()
        if orphan and alive(orphan):
            os.kill(orphan, signal.SIGKILL)


def record_run(config, seed, run_dir):
    with open(run_dir / "calls.txt", "a") as fh:
        fh.write("run\n")
    return {"value": float(config["a"])}


def test_a_locked_run_is_not_trained_by_a_second_sweep(tmp_path):
    out = tmp_path / "sweep"
    first = start_sweep(tmp_path, out, workers=1)  # trains a=1, then a=2, in-process
    try:
        assert wait_for(lambda: len(run_pids(out)) == 1 and all(run_pids(out)))
        (busy,) = [p.parent for p in (out / "runs").glob("*/pid")]
        with pytest.warns(UserWarning, match="1 run\\(s\\) skipped because another process"):
            second = run_sweep(
                {"a": [1, 2]}, seeds=1, run_fn=record_run, out_dir=out, workers=0, progress=False
            )
        status = {r["run_id"]: r["status"] for r in second.runs}
        assert status.pop(busy.name) == "locked"
        assert list(status.values()) == ["done"]
        assert not (busy / "calls.txt").exists()  # the second sweep never ran it
        assert "being trained by another process" in second.locked[0]["error"]
        (out / "go").touch()
        assert first.wait(timeout=60) == 0
    finally:
        first.kill()
    # the first sweep finished the busy run and found the other one done meanwhile
    again = run_sweep(
        {"a": [1, 2]}, seeds=1, run_fn=record_run, out_dir=out, workers=0, progress=False
    )
    assert [r["status"] for r in again.runs] == ["skipped", "skipped"]
    assert [g["mean"]["value"] for g in again.summary] == [1.0, 2.0]
