"""The training loop: history, files, determinism, optimisers, schedules, stopping."""

from __future__ import annotations

import copy
import csv
import json
import math
import time

import pytest
import torch
from _train_helpers import ComplexMLP, drop_seconds, magnitude_ce, params_of, toy_data
from torch.utils.data import Dataset, TensorDataset

from phasor.train import TrainConfig, Trainer, load_checkpoint


def quiet(**kw) -> TrainConfig:
    return TrainConfig(**{"progress": False, **kw})


class ConstantModel(torch.nn.Module):
    """Its loss cannot change: the parameter is multiplied by zero."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(3, dtype=torch.complex64))

    def forward(self, x):
        return self.w * 0 + torch.tensor([1.0, 2.0, 3.0], dtype=torch.complex64).expand(len(x), 3)


def test_history_files_and_checkpoint(tmp_path):
    torch.manual_seed(0)
    model = ComplexMLP()
    trainer = Trainer(
        model,
        magnitude_ce,
        toy_data(),
        eval_set=toy_data(20, seed=1),
        config=quiet(epochs=3, batch_size=16, lr=0.05),
        out_dir=tmp_path,
    )
    history = trainer.fit()
    assert [h["epoch"] for h in history] == [1, 2, 3]
    keys = {"epoch", "train_loss", "train_accuracy", "eval_loss", "eval_accuracy", "lr", "seconds"}
    assert all(set(h) == keys for h in history)
    with open(tmp_path / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["train_loss"]) for r in rows] == [h["train_loss"] for h in history]
    assert [float(r["eval_accuracy"]) for r in rows] == [h["eval_accuracy"] for h in history]
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["history"] == history
    assert saved["config"]["batch_size"] == 16
    ckpt = load_checkpoint(tmp_path / "checkpoints" / "latest.pt", model)
    assert ckpt["finished"] and ckpt["position"]["epoch"] == 3
    for k, v in model.state_dict().items():
        assert torch.equal(ckpt["model"][k], v)
    # the last eval metrics are those of the final model
    assert trainer.evaluate(toy_data(20, seed=1)) == {
        "loss": pytest.approx(history[-1]["eval_loss"]),
        "accuracy": history[-1]["eval_accuracy"],
    }


def test_training_reduces_loss():
    torch.manual_seed(0)
    history = Trainer(
        ComplexMLP(), magnitude_ce, toy_data(120), config=quiet(epochs=12, batch_size=16, lr=0.1)
    ).fit()
    assert history[-1]["train_loss"] < 0.6 * history[0]["train_loss"]
    assert history[-1]["train_accuracy"] > 0.7


def test_evaluate_matches_reference_computation():
    torch.manual_seed(1)
    model = ComplexMLP()
    data = toy_data(37)  # not a multiple of the batch size
    transform = lambda x: 2 * x  # noqa: E731
    trainer = Trainer(
        model, magnitude_ce, data, config=quiet(batch_size=8), eval_transform=transform
    )
    got = trainer.evaluate(data)
    x, y = data.tensors
    with torch.no_grad():
        out = model(2 * x)
    assert got["loss"] == pytest.approx(float(magnitude_ce(out, y)), rel=1e-5)
    assert got["accuracy"] == pytest.approx(float((out.abs().argmax(1) == y).double().mean()))
    assert model.training  # mode restored


def test_matches_a_hand_written_loop():
    """Shuffling from torch.Generator(seed), per-epoch schedule, plain optimiser steps."""
    seed, epochs, bs, lr = 5, 3, 7, 0.05
    torch.manual_seed(0)
    model = ComplexMLP()
    ref = copy.deepcopy(model)
    data = toy_data(30)
    cfg = quiet(
        epochs=epochs, batch_size=bs, optimizer="adam", lr=lr, scheduler="cosine", seed=seed
    )
    history = Trainer(model, magnitude_ce, data, config=cfg).fit()

    opt = torch.optim.Adam(ref.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    gen = torch.Generator().manual_seed(seed)
    x, y = data.tensors
    for epoch in range(epochs):
        assert history[epoch]["lr"] == pytest.approx(
            lr * (1 + math.cos(math.pi * epoch / epochs)) / 2
        )
        total = 0.0
        for idx in torch.randperm(len(x), generator=gen).split(bs):
            opt.zero_grad()
            loss = magnitude_ce(ref(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        sched.step()
        assert history[epoch]["train_loss"] == pytest.approx(total / len(x), rel=1e-6)
    for k, v in ref.state_dict().items():
        torch.testing.assert_close(model.state_dict()[k], v, rtol=0, atol=0)


def test_same_seed_same_run_different_seed_differs():
    def run(seed):
        torch.manual_seed(0)
        model = ComplexMLP(dropout=0.3)
        h = Trainer(model, magnitude_ce, toy_data(), config=quiet(epochs=2, seed=seed)).fit()
        return params_of(model), drop_seconds(h)

    (p1, h1), (p2, h2), (p3, _) = run(1), run(1), run(2)
    assert h1 == h2
    assert all(torch.equal(p1[k], p2[k]) for k in p1)
    assert not all(torch.equal(p1[k], p3[k]) for k in p1)


@pytest.mark.parametrize(
    "name", ["sgd", "adam", "AdamW", "rmsprop", "adagrad", "adamax", "nadam", "radam", "asgd"]
)
def test_torch_optimisers_on_complex_parameters(name):
    """Each optimiser, given by name, equals the same optimiser driven by hand."""
    torch.manual_seed(0)
    model = ComplexMLP()
    ref = copy.deepcopy(model)
    data = toy_data(16)
    cfg = quiet(epochs=2, batch_size=16, optimizer=name, lr=0.01, shuffle=False)
    Trainer(model, magnitude_ce, data, config=cfg).fit()
    kwargs = {"lr": 0.01, "weight_decay": 0.0}
    cls = {k.lower(): v for k, v in vars(torch.optim).items()}[name.lower()]
    if name.lower() in ("sgd", "rmsprop"):
        kwargs["momentum"] = 0.9
    opt = cls(ref.parameters(), **kwargs)
    x, y = data.tensors
    for _ in range(2):
        opt.zero_grad()
        magnitude_ce(ref(x), y).backward()
        opt.step()
    changed = False
    for k, v in ref.state_dict().items():
        torch.testing.assert_close(model.state_dict()[k], v)
        changed |= not torch.equal(v, ComplexMLP().state_dict()[k])
    assert changed


def test_gradient_clipping_matches_manual_clip():
    torch.manual_seed(0)
    model = ComplexMLP()
    w0 = params_of(model)
    data = toy_data(16)
    cfg = quiet(epochs=1, batch_size=16, momentum=0.0, lr=0.5, max_grad_norm=0.01)
    Trainer(model, magnitude_ce, data, config=cfg).fit()
    ref = ComplexMLP()
    ref.load_state_dict(w0)
    magnitude_ce(ref(data.tensors[0]), data.tensors[1]).backward()
    grads = {k: p.grad for k, p in ref.named_parameters()}
    norm = torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(g) for g in grads.values()])
    )
    assert norm > 0.01  # clipping is active
    for k, g in grads.items():
        torch.testing.assert_close(model.state_dict()[k], w0[k] - 0.5 * g * (0.01 / norm))


def test_transforms_apply_to_their_own_split():
    seen = {"train": 0, "eval": 0}

    def train_tf(x):
        seen["train"] += len(x)
        return torch.zeros_like(x)

    def eval_tf(x):
        seen["eval"] += len(x)
        return x

    torch.manual_seed(0)
    model = ComplexMLP()
    w0 = params_of(model)
    data = toy_data(20)
    cfg = quiet(epochs=2, batch_size=8)
    h = Trainer(
        model, magnitude_ce, data, data, cfg, train_transform=train_tf, eval_transform=eval_tf
    ).fit()
    assert seen == {"train": 40, "eval": 40}
    # zero inputs give zero gradients (split ReLU at 0), so training changed nothing...
    assert all(torch.equal(model.state_dict()[k], w0[k]) for k in w0)
    # ...while evaluation saw the untouched inputs
    x, y = data.tensors
    with torch.no_grad():
        assert h[-1]["eval_loss"] == pytest.approx(float(magnitude_ce(model(x), y)), rel=1e-6)
        assert h[-1]["train_loss"] == pytest.approx(
            float(magnitude_ce(model(torch.zeros_like(x)), y)), rel=1e-6
        )


def test_step_and_plateau_schedules_and_early_stopping():
    data = TensorDataset(torch.randn(8, 2), torch.zeros(8, dtype=torch.long))
    h = Trainer(
        ConstantModel(),
        magnitude_ce,
        data,
        config=quiet(epochs=5, lr=1.0, scheduler="step", scheduler_kwargs={"step_size": 2}),
    ).fit()
    assert [r["lr"] for r in h] == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01])
    h = Trainer(
        ConstantModel(),
        magnitude_ce,
        data,
        config=quiet(epochs=5, lr=1.0, scheduler="plateau", scheduler_kwargs={"patience": 1}),
    ).fit()
    assert [r["lr"] for r in h] == pytest.approx([1.0, 1.0, 1.0, 0.1, 0.1])
    h = Trainer(
        ConstantModel(),
        magnitude_ce,
        data,
        data,
        config=quiet(epochs=10, early_stopping_patience=2),
    ).fit()
    assert len(h) == 3


def test_early_stopping_monitors_eval_loss(tmp_path):
    torch.manual_seed(0)
    # eval labels are noise, so eval loss stops improving while training improves
    noisy = TensorDataset(toy_data(30, seed=1).tensors[0], torch.randint(0, 3, (30,)))
    cfg = quiet(epochs=40, lr=0.2, early_stopping_patience=3)
    h = Trainer(ComplexMLP(), magnitude_ce, toy_data(), noisy, cfg, out_dir=tmp_path).fit()
    assert len(h) < 40
    best = min(range(len(h)), key=lambda i: h[i]["eval_loss"])
    assert len(h) == best + 1 + 3
    assert load_checkpoint(tmp_path / "checkpoints" / "latest.pt")["early_stopping"]["stopped"]


def test_generic_dataset_and_regression_without_metrics():
    class Pairs(Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            x = torch.full((2,), float(i), dtype=torch.complex128)
            return x, x.sum().reshape(1) * (1 - 1j)

    model = torch.nn.Linear(2, 1, dtype=torch.complex128)
    mse = lambda out, y: (out - y).abs().pow(2).mean()  # noqa: E731
    h = Trainer(
        model, mse, Pairs(), config=quiet(epochs=30, lr=0.002, batch_size=5), metrics=()
    ).fit()
    assert set(h[0]) == {"epoch", "train_loss", "eval_loss", "lr", "seconds"}
    assert h[-1]["train_loss"] < 0.05 * h[0]["train_loss"]


def test_progress_bar(tmp_path, capsys):
    torch.manual_seed(0)
    cfg = quiet(epochs=2, batch_size=20, progress=True)
    slow = lambda x: time.sleep(0.12) or x  # noqa: E731  (let tqdm refresh)
    Trainer(
        ComplexMLP(), magnitude_ce, toy_data(), config=cfg, out_dir=tmp_path, train_transform=slow
    ).fit()
    out = capsys.readouterr()
    assert "epoch 2/2: train_loss=" in out.out
    assert "acc=" in out.err and "loss=" in out.err


def test_tensorboard(tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard=True needs the tensorboard extra")
    torch.manual_seed(0)
    cfg = quiet(epochs=2, batch_size=20, tensorboard=True)
    Trainer(ComplexMLP(), magnitude_ce, toy_data(), config=cfg, out_dir=tmp_path).fit()
    events = list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, r"^TrainConfig\.epochs must be a positive integer, got 0$"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"optimizer": "nope"}, "unknown optimizer"),
        ({"optimizer": "lbfgs"}, "closure"),
        ({"scheduler": "linear"}, "scheduler"),
        ({"lr": float("nan")}, "lr"),
        ({"checkpoint_every": -1}, "checkpoint_every"),
        ({"max_grad_norm": 0}, "max_grad_norm"),
        ({"checkpoint_every": True}, r"checkpoint_every must be an integer >= 0, got True"),
        ({"seed": -1}, r"seed must be an integer >= 0, got -1"),
        ({"lr": True}, r"lr must be a finite number >= 0, got True"),
        ({"momentum": -0.5}, r"momentum must be a finite number >= 0, got -0.5"),
        ({"weight_decay": float("nan")}, r"weight_decay must be a finite number >= 0, got nan"),
        ({"early_stopping_min_delta": -1e-3}, r"early_stopping_min_delta must be a finite"),
        ({"max_grad_norm": "1"}, r"max_grad_norm must be a finite number > 0, got '1'"),
        ({"max_grad_norm": float("inf")}, r"max_grad_norm must be a finite number > 0, got inf"),
        ({"max_loss": float("nan")}, r"max_loss must be a finite number, got nan"),
        ({"device": "gpu"}, r"TrainConfig.device must be .* got 'gpu'"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_run_settings_must_be_json_like_and_outside_train_config(tmp_path):
    def make(settings):
        return Trainer(
            ComplexMLP(), magnitude_ce, toy_data(), config=quiet(), run_settings=settings
        )

    with pytest.raises(
        TypeError, match=r"run_settings\['data_dir'\] must be JSON-like .* PosixPath"
    ):
        make({"data_dir": tmp_path})
    with pytest.raises(ValueError, match=r"run_settings\['noise'\]\[1\] must be finite"):
        make({"noise": (0.1, float("nan"))})
    with pytest.raises(ValueError, match=r"run_settings \['epochs', 'lr'\] are TrainConfig fields"):
        make({"lr": 0.1, "epochs": 3, "dataset": "mnist"})
    trainer = make({"sizes": (1, 2), "dataset": "mnist"})
    assert trainer.run_settings == {"sizes": [1, 2], "dataset": "mnist"}


def test_options_that_need_out_dir():
    with pytest.raises(ValueError, match="out_dir"):
        Trainer(ComplexMLP(), magnitude_ce, toy_data(), config=quiet(checkpoint_every=2))
    with pytest.raises(ValueError, match="out_dir"):
        Trainer(ComplexMLP(), magnitude_ce, toy_data(), config=quiet()).fit(resume=True)
    with pytest.raises(ValueError, match="metric"):
        Trainer(ComplexMLP(), magnitude_ce, toy_data(), metrics=("f1",))
