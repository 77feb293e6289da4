"""Data-parallel training under torchrun (gloo, 2 CPU processes) equals one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from _train_helpers import ComplexMLP, magnitude_ce, toy_data

from phasor.train import TrainConfig, Trainer, load_checkpoint

# 50 samples in global batches of 15: shards of 8 and 7, the last batch (5) splits 3 + 2,
# so the loss weighting of unequal shards is exercised; the eval set (31) splits 16 + 15.
SETTINGS = dict(
    epochs=2,
    batch_size=15,
    lr=0.1,
    momentum=0.9,
    scheduler="cosine",
    seed=4,
    progress=False,
    checkpoint_every=2,
)

SCRIPT = textwrap.dedent(
    """
    import glob, json, sys
    import torch
    torch.set_num_threads(1)
    import torch.distributed as dist
    from torch.utils.data import TensorDataset
    from _train_helpers import ComplexMLP, magnitude_ce, toy_data
    from phasor.train import TrainConfig, Trainer, TrainingError

    out, settings = sys.argv[1], json.loads(sys.argv[2])
    wrapped = []  # the trainer wraps the model in DDP during fit() only
    ddp_init = torch.nn.parallel.DistributedDataParallel.__init__
    def counting_init(self, *args, **kwargs):
        wrapped.append(type(self).__name__)
        ddp_init(self, *args, **kwargs)
    torch.nn.parallel.DistributedDataParallel.__init__ = counting_init
    torch.manual_seed(0)
    model = ComplexMLP()
    trainer = Trainer(model, magnitude_ce, toy_data(50), toy_data(31, seed=1),
                      TrainConfig(**settings), out_dir=out + "/run")
    history = trainer.fit()
    rank = dist.get_rank()
    report = {"world": dist.get_world_size(), "backend": dist.get_backend(),
              "ddp": list(wrapped), "history": history}

    # A NaN in the samples of one process only: every process must stop (no hang).
    x, y = toy_data(50).tensors
    x[1, 0] = float("nan")
    bad = Trainer(ComplexMLP(), magnitude_ce, TensorDataset(x, y),
                  config=TrainConfig(epochs=1, batch_size=50, shuffle=False, progress=False))
    try:
        bad.fit()
    except TrainingError as exc:
        report["error"] = str(exc)
    # Leaving the group must stop gloo's threads while the interpreter is whole (the trainer
    # above is still alive): threads left to the teardown aborted finished jobs (SIGABRT).
    from phasor.train import distributed
    distributed._destroy()
    report["threads_after_leaving"] = sorted(
        open(task + "/comm").read().strip() for task in glob.glob("/proc/self/task/*")
    )
    with open(f"{out}/rank{rank}.json", "w") as fh:
        json.dump(report, fh)
    """
)


@pytest.fixture(scope="module")
def torchrun_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    script = out / "train_ddp.py"
    script.write_text(SCRIPT)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(script),
        str(out),
        json.dumps(SETTINGS),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    reports = [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]
    return out, reports


def test_torchrun_matches_single_process_training(torchrun_result):
    out, reports = torchrun_result
    assert [r["world"] for r in reports] == [2, 2]
    assert reports[0]["backend"] == "gloo" and reports[0]["ddp"] == ["DistributedDataParallel"]
    for report in reports:
        assert [t for t in report["threads_after_leaving"] if "gloo" in t] == []
    torch.manual_seed(0)
    model = ComplexMLP()
    history = Trainer(
        model,
        magnitude_ce,
        toy_data(50),
        toy_data(31, seed=1),
        TrainConfig(**{**SETTINGS, "checkpoint_every": 0}),
    ).fit()
    saved = load_checkpoint(out / "run" / "checkpoints" / "latest.pt", model)
    assert saved["world_size"] == 2 and saved["finished"]
    assert len(saved["rng"]) == 2  # each process's random state is kept
    for name, value in model.state_dict().items():
        torch.testing.assert_close(saved["model"][name], value, rtol=1e-5, atol=1e-6)
    for rep in reports:  # both processes report the same, global metrics
        for got, want in zip(rep["history"], history, strict=True):
            for key in ("train_loss", "train_accuracy", "eval_loss", "eval_accuracy", "lr"):
                assert got[key] == pytest.approx(want[key], rel=1e-5), key


def test_bad_sample_on_one_process_stops_all(torchrun_result):
    _, reports = torchrun_result
    for rep in reports:
        assert rep["error"].startswith("process 0: train_set (epoch 1, batch 1)")
        assert "sample(s) 1" in rep["error"]


def test_single_process_resume_of_a_torchrun_checkpoint(torchrun_result, tmp_path):
    """Mid-epoch position is global, so a 2-process checkpoint resumes in one process."""
    out, _ = torchrun_result
    (tmp_path / "checkpoints").mkdir()
    data = load_checkpoint(out / "run" / "checkpoints" / "latest.pt")
    assert data["position"]["global_step"] == 8  # 4 batches per epoch
    torch.manual_seed(0)
    model = ComplexMLP()
    settings = {**SETTINGS, "epochs": 3, "checkpoint_every": 0}
    with pytest.warns(UserWarning, match="written by 2 process"):
        (tmp_path / "checkpoints" / "latest.pt").write_bytes(
            (out / "run" / "checkpoints" / "latest.pt").read_bytes()
        )
        history = Trainer(
            model,
            magnitude_ce,
            toy_data(50),
            toy_data(31, seed=1),
            TrainConfig(**settings),
            out_dir=tmp_path,
        ).fit(resume=True)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
