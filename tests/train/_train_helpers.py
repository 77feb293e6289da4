"""Shared pieces of the trainer tests: a small complex model and a toy data set.

Kept importable by plain ``import _train_helpers`` so subprocesses (the SIGKILL test, the
distributed test, sweep workers) use exactly the same model and data.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import TensorDataset

from phasor.train import TrainConfig, Trainer


class ComplexMLP(torch.nn.Module):
    """Two complex dense layers with a split ReLU (and optional dropout), raw complex
    nn.Parameters.

    Deliberately not built from phasor.nn, so the engine is tested on any module with
    complex parameters. Outputs are complex scores; their magnitude is the class score.
    """

    def __init__(
        self, n_in: int = 6, hidden: int = 8, n_out: int = 3, dtype=torch.complex64, dropout=0.0
    ):
        super().__init__()
        self.dropout = dropout
        real = torch.empty(0, dtype=dtype).real.dtype
        self.w1 = torch.nn.Parameter(torch.randn(hidden, n_in, dtype=dtype) / n_in**0.5)
        self.b1 = torch.nn.Parameter(torch.zeros(hidden, dtype=dtype))
        self.w2 = torch.nn.Parameter(torch.randn(n_out, hidden, dtype=dtype) / hidden**0.5)
        self.scale = torch.nn.Parameter(torch.ones((), dtype=real))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.to(self.w1.dtype) @ self.w1.T + self.b1
        h = torch.complex(torch.relu(h.real), torch.relu(h.imag))
        if self.training and self.dropout:  # draws from the global RNG: tests RNG checkpoints
            h = h * (torch.rand(h.shape) >= self.dropout) / (1 - self.dropout)
        return self.scale * (h @ self.w2.T)


def magnitude_ce(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy on the magnitudes of complex scores."""
    return torch.nn.functional.cross_entropy(outputs.abs(), targets)


def toy_data(n: int = 60, n_in: int = 6, n_out: int = 3, seed: int = 0) -> TensorDataset:
    """Complex inputs whose class is decided by which of the first parts is largest."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_in, dtype=torch.complex64, generator=g)
    y = x.real[:, :n_out].argmax(dim=1)
    return TensorDataset(x, y)


def params_of(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def drop_seconds(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


def toy_trainer(
    out_dir: Path | None,
    dropout: float = 0.0,
    train_transform=None,
    n_train: int = 60,
    run_settings=None,
    **overrides,
) -> tuple[ComplexMLP, Trainer]:
    """The seeded toy run used by the resume and distributed tests, before ``fit``."""
    settings = dict(
        epochs=3,
        batch_size=8,
        optimizer="sgd",
        lr=0.1,
        momentum=0.9,
        seed=3,
        scheduler="cosine",
        progress=False,
    )
    settings.update(overrides)
    torch.manual_seed(settings["seed"])
    model = ComplexMLP(dropout=dropout)
    trainer = Trainer(
        model,
        magnitude_ce,
        toy_data(n_train),
        eval_set=toy_data(30, seed=1),
        config=TrainConfig(**settings),
        out_dir=out_dir,
        train_transform=train_transform,
        run_settings=run_settings,
    )
    return model, trainer


def train_toy(out_dir: Path | None, resume: bool = False, **kwargs) -> tuple[ComplexMLP, list]:
    """Train the toy run of :func:`toy_trainer` (same keyword arguments)."""
    model, trainer = toy_trainer(out_dir, **kwargs)
    return model, trainer.fit(resume=resume)


def sweep_run(config: dict, seed: int, run_dir: Path) -> dict:
    """A sweep's run function: trains the toy model, returns final metrics."""
    torch.manual_seed(seed)
    cfg = TrainConfig(epochs=2, batch_size=10, lr=config["lr"], seed=seed, progress=False)
    trainer = Trainer(
        ComplexMLP(hidden=config["hidden"]), magnitude_ce, toy_data(40), config=cfg, out_dir=run_dir
    )
    history = trainer.fit(resume=True)
    (run_dir / "calls.txt").open("a").write("run\n")
    return {
        "train_loss": history[-1]["train_loss"],
        "train_accuracy": history[-1]["train_accuracy"],
        "note": "text values are kept but not averaged",
    }


def failing_run(config: dict, seed: int, run_dir: Path) -> dict:
    """Fails for seed 1 unless the file 'fixed' exists in the sweep folder."""
    if seed == 1 and not (run_dir.parent.parent / "fixed").exists():
        raise RuntimeError(f"boom in {config}")
    return {"value": float(config["a"] * 10 + seed)}
