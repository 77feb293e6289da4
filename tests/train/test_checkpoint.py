"""Checkpoint files: atomic writes, safe loading, checksums, clear errors for unusable
files."""

from __future__ import annotations

import io
import os
import struct

import pytest
import torch
from _train_helpers import ComplexMLP, magnitude_ce, toy_data, train_toy

from phasor.train import CheckpointError, TrainConfig, Trainer, load_checkpoint, save_checkpoint
from phasor.train import checkpoint as ckpt_mod


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    train_toy(out, epochs=1)
    return out / "checkpoints" / "latest.pt"


def resume_with(path, model=None, **cfg):
    """Resume a toy run from the checkpoint at ``path``."""
    out = path.parent.parent
    trainer = Trainer(
        model or ComplexMLP(),
        magnitude_ce,
        toy_data(),
        eval_set=toy_data(30, seed=1),
        config=TrainConfig(
            **{
                "epochs": 2,
                "batch_size": 8,
                "lr": 0.1,
                "scheduler": "cosine",
                "seed": 3,
                "progress": False,
                **cfg,
            }
        ),
        out_dir=out,
    )
    return trainer.fit(resume=True)


def copy_to(src, tmp_path, data: bytes | None = None):
    dst = tmp_path / "run" / "checkpoints" / "latest.pt"
    dst.parent.mkdir(parents=True)
    dst.write_bytes(src.read_bytes() if data is None else data)
    return dst


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.9, 0.999])
def test_truncated_checkpoint_is_named_and_explained(trained, tmp_path, keep):
    raw = trained.read_bytes()
    bad = copy_to(trained, tmp_path, raw[: int(len(raw) * keep)])
    with pytest.raises(CheckpointError) as err:
        resume_with(bad)
    msg = str(err.value)
    assert str(bad) in msg
    assert ("empty" in msg) if keep == 0 else ("truncated or corrupted" in msg)


def test_garbage_and_foreign_files(trained, tmp_path):
    bad = copy_to(trained, tmp_path, b"this is not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_checkpoint(bad)
    torch.save({"weights": torch.ones(2)}, bad)  # a valid torch file, not ours
    with pytest.raises(CheckpointError, match=f"{bad}: not a phasor training checkpoint"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


class Payload:
    """Unpickling this would run code if loading were unsafe."""

    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_safe_loading_refuses_arbitrary_objects(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": ckpt_mod.CHECKPOINT_FORMAT, "version": 1, "x": Payload()}, path)
    with pytest.raises(CheckpointError, match="safe loading") as err:
        load_checkpoint(path)
    assert "GLOBAL posix.system" in str(err.value) and "likely succeed" not in str(err.value)


def test_checkpoint_from_another_model(trained, tmp_path):
    bad = copy_to(trained, tmp_path)
    with pytest.raises(CheckpointError) as err:
        resume_with(bad, model=ComplexMLP(hidden=5))
    msg = str(err.value)
    assert str(bad) in msg and "different model" in msg
    assert "w1 has shape (8, 6), the model (5, 6)" in msg
    with pytest.raises(
        CheckpointError, match=r"dtype torch\.complex64, the model torch\.complex128"
    ):
        resume_with(bad, model=ComplexMLP(dtype=torch.complex128))
    with pytest.raises(
        CheckpointError, match=r"it lacks bias, weight; it has unknown b1, scale, w1, w2"
    ):
        load_checkpoint(bad, torch.nn.Linear(2, 2))


def test_checkpoint_from_another_optimizer(trained, tmp_path):
    bad = copy_to(trained, tmp_path)
    with pytest.raises(CheckpointError, match="optimizer: 'sgd' in the checkpoint, 'adam' now"):
        resume_with(bad, optimizer="adam")
    resume_with(bad, optimizer="SGD")  # names are case-insensitive: the same optimiser


@pytest.mark.parametrize("bit", ["mantissa", "exponent"])
def test_flipped_bit_in_tensor_data_is_reported_as_corruption(trained, tmp_path, bit):
    """A one-bit flip inside the stored weights: the lowest mantissa bit (a silent 1-ulp
    change) or the top exponent bit (a huge weight that would look like divergence)."""
    w1 = load_checkpoint(trained)["model"]["w1"]
    raw = bytearray(trained.read_bytes())
    blob = w1.numpy().tobytes()
    at = raw.find(blob)
    assert at >= 0 and raw.find(blob, at + 1) == -1  # the storage is in the file once
    real = at + (w1.numel() // 2) * w1.element_size()  # real part of the middle element
    before = struct.unpack("<f", raw[real : real + 4])[0]
    if bit == "mantissa":
        raw[real] ^= 0x01
    else:
        raw[real + 3] ^= 0x40  # bit 30 of the little-endian float32
    after = struct.unpack("<f", raw[real : real + 4])[0]
    if bit == "mantissa":
        assert after != before and abs(after - before) <= abs(before) * 2**-22
    else:
        assert abs(after) > 1e30 * abs(before)
    bad = copy_to(trained, tmp_path, bytes(raw))
    with pytest.raises(CheckpointError) as err:
        resume_with(bad)
    msg = str(err.value)
    assert msg.startswith(f"{bad}: ") and "corrupted" in msg and "SHA-256" in msg
    assert bad.read_bytes() == bytes(raw)  # nothing was overwritten
    assert not (bad.parent.parent / "metrics.json").exists()


def test_older_format_version_is_refused(trained, tmp_path):
    """Version-1 files were the payload itself: no checksum, no stored run settings."""
    data = load_checkpoint(trained)
    data["version"] = 1
    old = copy_to(trained, tmp_path)
    torch.save(data, old)
    with pytest.raises(CheckpointError) as err:
        resume_with(old)
    msg = str(err.value)
    assert msg.startswith(f"{old}: written by an older checkpoint format (version 1)")
    assert "Start a fresh run" in msg


def test_newer_format_version(trained, tmp_path):
    data = load_checkpoint(trained)
    data["version"] = ckpt_mod.CHECKPOINT_VERSION + 1
    bad = tmp_path / "run" / "checkpoints" / "latest.pt"
    bad.parent.mkdir(parents=True)
    torch.save(data, bad)
    with pytest.raises(CheckpointError, match=f"{bad}: written by a newer checkpoint format"):
        resume_with(bad)


def test_incomplete_checkpoint(trained, tmp_path):
    data = load_checkpoint(trained)
    del data["position"]
    path = save_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt", data)
    with pytest.raises(CheckpointError, match="incomplete or inconsistent"):
        resume_with(path)


def test_crash_during_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "c.pt", {"value": torch.tensor([1.0])})
    real_save = torch.save

    def crashing_save(obj, fh):
        real_save(obj, fh)
        if isinstance(fh, io.BytesIO):  # serialising the payload in memory
            return
        fh.seek(0)
        fh.truncate(100)  # half-written file...
        raise KeyboardInterrupt  # ...then the process is interrupted

    monkeypatch.setattr(ckpt_mod.torch, "save", crashing_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"value": torch.tensor([2.0])})
    monkeypatch.undo()
    assert load_checkpoint(path)["value"].item() == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left behind


def test_rng_state_round_trip():
    import random

    import numpy as np

    state = ckpt_mod.get_rng_state()
    first = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    ckpt_mod.set_rng_state(state)
    second = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    assert torch.equal(first[0], second[0])
    assert np.array_equal(first[1], second[1]) and first[2] == second[2]
