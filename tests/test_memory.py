import json
import os
import subprocess
import sys
import textwrap

import pytest

from phasor import cli, experiments, memory


class _FakeLibc:
    def __init__(self, result=1):
        self.calls = []
        self.result = result

        def mallopt(param, value):
            self.calls.append((param, value))
            return self.result

        self.mallopt = mallopt


@pytest.fixture
def fake_libc(monkeypatch):
    libc = _FakeLibc()
    monkeypatch.setattr(memory, "_libc", lambda: libc)
    monkeypatch.setattr(memory, "_applied", None)
    return libc


def test_sets_both_glibc_thresholds(fake_libc):
    assert memory.keep_freed_memory(12345) == {"mmap_threshold": 12345, "trim_threshold": 12345}
    # M_MMAP_THRESHOLD is -3 and M_TRIM_THRESHOLD is -1 in glibc's malloc.h.
    assert sorted(fake_libc.calls) == [(-3, 12345), (-1, 12345)]


def test_is_idempotent(fake_libc):
    first = memory.keep_freed_memory()
    assert memory.keep_freed_memory() == first
    assert len(fake_libc.calls) == 2
    memory.keep_freed_memory(2**20)  # another value is applied
    assert len(fake_libc.calls) == 4


def test_non_glibc_is_a_no_op(monkeypatch):
    monkeypatch.setattr(memory, "_libc", lambda: None)
    monkeypatch.setattr(memory, "_applied", None)
    assert memory.keep_freed_memory() is None


def test_refusal_and_range(fake_libc):
    with pytest.raises(ValueError, match="threshold"):
        memory.keep_freed_memory(0)
    with pytest.raises(ValueError, match="threshold"):
        memory.keep_freed_memory(2**31)
    fake_libc.result = 0
    with pytest.raises(OSError, match="M_MMAP_THRESHOLD"):
        memory.keep_freed_memory()


@pytest.fixture
def toy_study():
    study = experiments.register(
        "toy-memory", help="a toy study", add_arguments=lambda p: None, run=lambda a: {}
    )
    yield study
    experiments._REGISTRY.pop("toy-memory")


@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        ([], None, True),
        (["--no-keep-freed-memory"], None, False),
        ([], "0", False),
        (["--keep-freed-memory"], "0", True),
    ],
)
def test_cli_calls_it_and_records_it(toy_study, tmp_path, monkeypatch, flags, env, expected):
    calls = []
    kept = {"mmap_threshold": 1, "trim_threshold": 1}
    monkeypatch.setattr(memory, "keep_freed_memory", lambda: calls.append(1) or kept)
    if env is None:
        monkeypatch.delenv(memory.ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(memory.ENV_VAR, env)
    out = tmp_path / "run"
    assert cli.main(["run", "toy-memory", "--out", str(out), *flags]) == 0
    results = json.loads((out / "results.json").read_text())
    assert len(calls) == int(expected)
    assert results["freed_memory_kept"] == (kept if expected else None)
    assert results["config"]["keep_freed_memory"] is expected


_FAULTS = textwrap.dedent(
    """
    import resource, sys, torch
    from phasor.memory import keep_freed_memory

    def faults():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(8):
            t = torch.ones(16 * 2**20)  # 64 MiB, every page touched
            del t
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    faults()  # warm-up: libraries, first allocations
    plain = faults()
    applied = keep_freed_memory()
    kept = min(faults() for _ in range(3))  # the heap grows to the working set once
    print(plain, kept, applied is not None)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc page-fault counts")
def test_page_faults_drop_after_the_call():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", _FAULTS], capture_output=True, text=True, env=env, check=True
    )
    plain, kept, glibc = done.stdout.split()
    if glibc != "True":
        pytest.skip("not glibc")
    # 8 x 16384 pages faulted in without the call; none once the heap holds the block.
    assert int(plain) > 8 * 16384 * 0.9
    assert int(kept) < 16384
