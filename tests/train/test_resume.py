"""Resuming: mid-epoch and after SIGKILL, the result equals an uninterrupted run bit for bit;
a checkpoint written with other settings is refused, allowed changes are recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch
from _train_helpers import drop_seconds, params_of, toy_trainer, train_toy
from torch.utils.data import TensorDataset

import phasor.nn as pnn
from phasor.train import CheckpointError, TrainConfig, Trainer, load_checkpoint


class Interrupt(Exception):
    pass


def interrupt_at(step: int):
    """A train_transform that raises when the given (1-based) global step starts."""
    count = {"n": 0}

    def transform(x):
        count["n"] += 1
        if count["n"] == step:
            raise Interrupt
        return x

    return transform


def assert_same_run(a, b):
    (model_a, hist_a), (model_b, hist_b) = a, b
    assert drop_seconds(hist_a) == drop_seconds(hist_b)
    pa, pb = params_of(model_a), params_of(model_b)
    assert pa.keys() == pb.keys()
    for k in pa:
        assert torch.equal(pa[k], pb[k]), k


def test_resume_mid_epoch_is_exact(tmp_path):
    # 60 samples / batch 8 = 8 steps per epoch; checkpoints at steps 3, 6, 8 (epoch end), 9...
    reference = train_toy(None, dropout=0.25)
    with pytest.raises(Interrupt):
        train_toy(tmp_path, dropout=0.25, checkpoint_every=3, train_transform=interrupt_at(14))
    ckpt = load_checkpoint(tmp_path / "checkpoints" / "latest.pt")
    assert ckpt["position"] | {"sampler": None} == {
        "epoch": 1,
        "step_in_epoch": 4,
        "global_step": 12,
        "sampler": None,
        "elapsed": ckpt["position"]["elapsed"],
    }
    assert not ckpt["finished"]
    resumed = train_toy(tmp_path, resume=True, dropout=0.25, checkpoint_every=3)
    assert_same_run(reference, resumed)


def test_resume_at_epoch_boundary_and_more_epochs(tmp_path):
    reference = train_toy(None, epochs=3, scheduler=None)
    train_toy(tmp_path, epochs=2, scheduler=None)
    resumed = train_toy(tmp_path, resume=True, epochs=3, scheduler=None)
    assert_same_run(reference, resumed)


def test_resume_finished_run_returns_saved_history(tmp_path):
    model, history = train_toy(tmp_path)
    again_model, again = train_toy(tmp_path, resume=True)
    assert again == history  # seconds included: nothing was retrained
    assert all(torch.equal(v, params_of(again_model)[k]) for k, v in params_of(model).items())


def test_resume_without_checkpoint_starts_fresh(tmp_path):
    assert_same_run(train_toy(None), train_toy(tmp_path / "new", resume=True))


def snapshot(out):
    """Bytes of every file a run wrote."""
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_resume_with_other_settings_is_refused_and_lists_them(tmp_path):
    """The issue's case: a finished run resumed with fewer epochs, a smaller training set
    (and here also another learning rate and study setting) must not report old results."""
    settings = {"dataset": "mnist", "net": "small"}
    train_toy(tmp_path, run_settings=settings)
    before = snapshot(tmp_path)
    with pytest.raises(CheckpointError) as err:
        train_toy(
            tmp_path,
            resume=True,
            epochs=1,
            n_train=40,
            lr=0.05,
            progress=True,  # presentational: may change, so not listed
            run_settings={"dataset": "fashion", "net": "small", "variant": "phase"},
        )
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path / 'checkpoints' / 'latest.pt'}: cannot resume")
    listed = [line.strip() for line in msg.splitlines() if line.startswith("  ")]
    assert listed == [
        "epochs: 3 in the checkpoint, 1 now (it cannot be lowered below 3: 3 epoch(s) are done)",
        "lr: 0.1 in the checkpoint, 0.05 now",
        "train_set size: 60 in the checkpoint, 40 now",
        "dataset: 'mnist' in the checkpoint, 'fashion' now",
        "variant: not set in the checkpoint, 'phase' now",
    ]
    assert "start a fresh run" in msg and "pass the settings it was started with" in msg
    assert snapshot(tmp_path) == before  # nothing was written


def test_mid_epoch_resume_cannot_drop_the_epoch_in_progress(tmp_path):
    # 8 steps per epoch: interrupted in epoch 2 after the checkpoint at step 12
    with pytest.raises(Interrupt):
        train_toy(tmp_path, checkpoint_every=3, train_transform=interrupt_at(14))
    with pytest.raises(
        CheckpointError,
        match=r"epochs: 3 in the checkpoint, 1 now \(it cannot be "
        r"lowered below 2: 1 epoch\(s\) are done and epoch 2 is in progress\)",
    ):
        train_toy(tmp_path, resume=True, checkpoint_every=3, epochs=1)


def test_allowed_changes_are_recorded(tmp_path):
    def resume(**kw):
        _, trainer = toy_trainer(tmp_path, scheduler=None, **kw)
        trainer.fit(resume=True)
        saved = load_checkpoint(trainer.checkpoint_path)["resumes"]
        shown = json.loads((tmp_path / "metrics.json").read_text())["resumes"]
        assert saved == shown == trainer.resumes
        return trainer.resumes

    assert resume(epochs=2) == []  # a fresh run
    first = {"at_epoch": 2, "changed": {"epochs": [2, 3], "deterministic": [True, False]}}
    assert resume(epochs=3, deterministic=False, progress=True, checkpoint_every=5) == [first]
    assert resume(epochs=3, deterministic=False) == [first]  # finished, nothing changed
    second = {"at_epoch": 3, "changed": {"epochs": [3, 4]}}
    assert resume(epochs=4, deterministic=False, check_data=False) == [first, second]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2, 3, 4]
    assert metrics["config"]["epochs"] == 4


def test_restart_without_resume_warns_and_starts_over(tmp_path):
    train_toy(tmp_path, epochs=1)
    with pytest.warns(UserWarning, match="starting over"):
        _, history = train_toy(tmp_path, epochs=2)
    assert len(history) == 2


SCRIPT = textwrap.dedent(
    """
    import sys, time
    import torch
    torch.set_num_threads(1)
    from _train_helpers import train_toy

    def slow(x):
        time.sleep(0.04)
        return x

    train_toy(sys.argv[1], dropout=0.25, checkpoint_every=2, train_transform=slow)
    print("finished")
    """
)


def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    out = tmp_path / "run"
    ckpt = out / "checkpoints" / "latest.pt"
    proc = subprocess.Popen([sys.executable, str(script), str(out)], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        step = 0
        while step < 5:  # wait for a mid-run checkpoint (steps 2, 4, 6, 8, ...)
            assert proc.poll() is None, "the training process ended before it was killed"
            assert time.monotonic() < deadline, "no checkpoint appeared"
            if ckpt.exists():
                step = load_checkpoint(ckpt)["position"]["global_step"]
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    killed_at = load_checkpoint(ckpt)
    assert not killed_at["finished"] and killed_at["position"]["global_step"] < 24
    resumed = train_toy(out, resume=True, dropout=0.25, checkpoint_every=2)
    assert_same_run(train_toy(None, dropout=0.25), resumed)


def test_resume_phasor_cnn_with_batch_norm_and_dropout(tmp_path):
    """phasor.nn layers with buffers (batch-norm statistics) and dropout resume exactly."""

    g = torch.Generator().manual_seed(0)
    x = torch.randn(24, 1, 6, 6, dtype=torch.complex64, generator=g)
    data = TensorDataset(x, (x.real.mean(dim=(1, 2, 3)) > 0).long())

    def run(out_dir, transform=None, resume=False):
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            pnn.Conv2d(1, 3, 3),
            pnn.ComplexBatchNorm2d(3),
            pnn.CReLU(),
            pnn.Dropout(0.3),
            torch.nn.Flatten(),
            pnn.Linear(3 * 4 * 4, 2),
        )
        cfg = TrainConfig(
            epochs=2,
            batch_size=5,
            optimizer="adam",
            lr=0.01,
            seed=1,
            checkpoint_every=2,
            progress=False,
        )
        trainer = Trainer(
            model,
            pnn.ComplexCrossEntropyLoss(),
            data,
            data,
            cfg,
            out_dir=out_dir,
            train_transform=transform,
        )
        return model, trainer.fit(resume=resume)

    reference = run(tmp_path / "ref")
    with pytest.raises(Interrupt):
        run(tmp_path / "cut", transform=interrupt_at(8))
    assert_same_run(reference, run(tmp_path / "cut", resume=True))
