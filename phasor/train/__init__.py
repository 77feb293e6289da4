"""The training engine shared by every study.

Examples:
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from phasor.train import Trainer, TrainConfig
    >>> data = TensorDataset(torch.randn(32, 4), torch.randint(0, 3, (32,)))
    >>> cfg = TrainConfig(epochs=2, batch_size=8, progress=False)
    >>> trainer = Trainer(torch.nn.Linear(4, 3), torch.nn.functional.cross_entropy, data, config=cfg)
    >>> history = trainer.fit()
    >>> [h["epoch"] for h in history]
    [1, 2]

See docs/training.md for checkpoints, resuming, torchrun and sweeps.
"""

from phasor.train.checkpoint import load_checkpoint, save_checkpoint
from phasor.train.errors import CheckpointError, TrainingError
from phasor.train.sweep import SweepResult, run_sweep, summarize
from phasor.train.trainer import (
    TrainConfig,
    Trainer,
    build_optimizer,
    build_scheduler,
    seed_everything,
)

__all__ = [
    "CheckpointError",
    "SweepResult",
    "TrainConfig",
    "Trainer",
    "TrainingError",
    "build_optimizer",
    "build_scheduler",
    "load_checkpoint",
    "run_sweep",
    "save_checkpoint",
    "seed_everything",
    "summarize",
]
