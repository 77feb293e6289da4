"""The training loop shared by every study.

`Trainer` trains any `torch.nn.Module` (complex parameters included) on a
map-style data set of ``(input, target)`` pairs. It is seeded and deterministic, writes
per-epoch metrics, checkpoints atomically and resumes mid-epoch exactly, refuses bad data
and diverging losses with a clear [`TrainingError`][phasor.train.errors.TrainingError], and runs
data-parallel under ``torchrun`` without code changes.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import random
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset, default_collate
from tqdm import tqdm

from phasor.io import write_csv, write_json
from phasor.train import distributed as dist_utils
from phasor.train.checkpoint import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from phasor.train.checks import check_dataset, check_inputs, check_loss, check_targets
from phasor.train.errors import CheckpointError, TrainingError

__all__ = [
    "SCHEDULERS",
    "TrainConfig",
    "Trainer",
    "build_optimizer",
    "build_scheduler",
    "seed_everything",
]

SCHEDULERS = ("cosine", "step", "exponential", "plateau")
METRICS = ("accuracy",)
# Resume rule (docs/training.md, "Resuming with other settings"): every setting stored in
# the checkpoint must be the same now, except
#   - these TrainConfig fields, which cannot change a number the run produces (free);
_FREE_FIELDS = ("progress", "tensorboard", "check_data", "checkpoint_every")
#   - these, which say where the run executes: allowed, and recorded in Trainer.resumes;
_RECORDED_FIELDS = ("device", "deterministic")
#   - epochs: raised freely, lowered not below the epochs done (recorded as well).
_MISSING = object()


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a training run.

    Args:
        epochs: passes over the training set.
        batch_size: samples per optimiser step (the *global* batch under ``torchrun``).
        optimizer: name of any `torch.optim` optimiser (``"sgd"``, ``"adam"``,
            ``"adamw"``, ``"rmsprop"``, ...; case-insensitive) or an optimiser class.
        lr: passed to the optimiser (``momentum`` only to those
            that take it, e.g. SGD and RMSprop).
        momentum: passed to the optimiser (``momentum`` only to those
            that take it, e.g. SGD and RMSprop).
        weight_decay: passed to the optimiser (``momentum`` only to those
            that take it, e.g. SGD and RMSprop).
        scheduler: ``None``, ``"cosine"`` (to 0 over ``epochs``), ``"step"`` (×``gamma``
            = 0.1 every ``step_size`` = ``max(1, epochs // 3)`` epochs), ``"exponential"``
            (×0.95 per epoch) or ``"plateau"`` (×0.1 after 2 epochs without improvement of
            the monitored loss). Stepped once per epoch; override the defaults with
            ``scheduler_kwargs``.
        seed: seeds torch, numpy, ``random`` and the shuffling generator.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, or ``"auto"`` (CUDA when available).
        checkpoint_every: also checkpoint every this many optimiser steps (0: only at the
            end of each epoch). Needs ``out_dir``.
        early_stopping_patience: stop after this many epochs without improvement of the
            eval loss (the training loss without an eval set) by more than
            ``early_stopping_min_delta``; ``None`` disables.
        progress: show a tqdm progress bar with the running loss and accuracy.
        tensorboard: also log per-epoch scalars to ``out_dir/tensorboard``.
        max_grad_norm: clip the global gradient norm to this value (``None``: no clipping).
        max_loss: stop with a `TrainingError` when a batch loss exceeds this (a
            diverging run); non-finite losses, gradients and weights always stop training.
        eval_batch_size: batch size for evaluation (default ``batch_size``).
        drop_last: drop the last incomplete training batch of each epoch.
        shuffle: reshuffle the training set every epoch.
        check_data: run the data checks on every batch (non-finite values, dtypes, label
            range); they cost one pass over each batch.
        deterministic: on CUDA, force deterministic cuDNN kernels (CPU training is always
            deterministic).
    """

    epochs: int = 10
    batch_size: int = 64
    optimizer: str | type = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0
    scheduler: str | None = None
    seed: int = 0
    device: str = "cpu"
    checkpoint_every: int = 0
    early_stopping_patience: int | None = None
    progress: bool = True
    tensorboard: bool = False
    max_grad_norm: float | None = None
    max_loss: float | None = None
    optimizer_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    scheduler_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    early_stopping_min_delta: float = 0.0
    eval_batch_size: int | None = None
    drop_last: bool = False
    shuffle: bool = True
    check_data: bool = True
    deterministic: bool = True

    def __post_init__(self) -> None:
        def integer(name: str, low: int, what: str) -> None:
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < low:
                raise ValueError(f"TrainConfig.{name} must be {what}, got {v!r}")

        def number(name: str, what: str, ok: Callable[[float], bool]) -> None:
            v = getattr(self, name)
            good = isinstance(v, (int, float)) and not isinstance(v, bool)
            if not (good and math.isfinite(v) and ok(v)):
                raise ValueError(f"TrainConfig.{name} must be {what}, got {v!r}")

        integer("epochs", 1, "a positive integer")
        integer("batch_size", 1, "a positive integer")
        if self.eval_batch_size is not None:
            integer("eval_batch_size", 1, "a positive integer")
        if self.early_stopping_patience is not None:
            integer("early_stopping_patience", 1, "a positive integer")
        integer("checkpoint_every", 0, "an integer >= 0")
        integer("seed", 0, "an integer >= 0")
        number("lr", "a finite number >= 0", lambda v: v >= 0)
        number("momentum", "a finite number >= 0", lambda v: v >= 0)
        number("weight_decay", "a finite number >= 0", lambda v: v >= 0)
        number("early_stopping_min_delta", "a finite number >= 0", lambda v: v >= 0)
        if self.max_grad_norm is not None:
            number("max_grad_norm", "a finite number > 0", lambda v: v > 0)
        if self.max_loss is not None:
            number("max_loss", "a finite number", lambda v: True)
        if self.scheduler is not None and self.scheduler not in SCHEDULERS:
            raise ValueError(
                f"TrainConfig.scheduler must be None or one of {SCHEDULERS}, got {self.scheduler!r}"
            )
        if self.device != "auto":
            try:
                torch.device(self.device)
            except (RuntimeError, TypeError) as exc:
                raise ValueError(
                    "TrainConfig.device must be 'cpu', 'cuda', 'cuda:N' (or another torch "
                    f"device) or 'auto', got {self.device!r}"
                ) from exc
        _optimizer_class(self.optimizer)  # fail early on unknown names

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly copy (an optimiser class is stored by name)."""
        out = dataclasses.asdict(self)
        if isinstance(self.optimizer, type):
            out["optimizer"] = self.optimizer.__name__
        return out


def _optimizer_class(spec: str | type) -> type:
    if isinstance(spec, type):
        if not issubclass(spec, torch.optim.Optimizer):
            raise ValueError(f"optimizer must be a torch.optim.Optimizer subclass, got {spec}")
        cls = spec
    else:
        table = {
            name.lower(): obj
            for name, obj in vars(torch.optim).items()
            if isinstance(obj, type)
            and issubclass(obj, torch.optim.Optimizer)
            and obj is not torch.optim.Optimizer
        }
        if not isinstance(spec, str) or spec.lower() not in table:
            raise ValueError(f"unknown optimizer {spec!r}; choose one of {sorted(table)}")
        cls = table[spec.lower()]
    if cls is torch.optim.LBFGS:
        raise ValueError("LBFGS needs a closure and is not supported by the Trainer")
    return cls


def build_optimizer(config: TrainConfig, params) -> torch.optim.Optimizer:
    """The optimiser named by ``config`` over ``params`` (complex parameters supported)."""
    cls = _optimizer_class(config.optimizer)
    accepted = inspect.signature(cls.__init__).parameters
    kwargs: dict[str, Any] = {"lr": config.lr}
    if "weight_decay" in accepted:
        kwargs["weight_decay"] = config.weight_decay
    elif config.weight_decay:
        raise ValueError(f"{cls.__name__} takes no weight_decay")
    if "momentum" in accepted:
        kwargs["momentum"] = config.momentum
    kwargs.update(config.optimizer_kwargs)
    return cls(params, **kwargs)


def build_scheduler(config: TrainConfig, optimizer: torch.optim.Optimizer):
    """The per-epoch learning-rate schedule named by ``config.scheduler`` (or None)."""
    s, kw = config.scheduler, dict(config.scheduler_kwargs)
    sched = torch.optim.lr_scheduler
    if s is None:
        return None
    if s == "cosine":
        return sched.CosineAnnealingLR(optimizer, **{"T_max": config.epochs, **kw})
    if s == "step":
        return sched.StepLR(
            optimizer, **{"step_size": max(1, config.epochs // 3), "gamma": 0.1, **kw}
        )
    if s == "exponential":
        return sched.ExponentialLR(optimizer, **{"gamma": 0.95, **kw})
    return sched.ReduceLROnPlateau(optimizer, **{"factor": 0.1, "patience": 2, **kw})


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy's global generator and ``random``."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002
    random.seed(seed)


def _resolve_device(spec: str) -> torch.device:
    if spec == "auto":
        spec = "cuda" if torch.cuda.is_available() else "cpu"
    if spec == "cuda" and dist_utils.is_distributed():
        spec = f"cuda:{dist_utils.local_rank()}"
    return torch.device(spec)


class _Running:
    """Sums of the current epoch's metrics (global over processes)."""

    def __init__(self, state: dict[str, float] | None = None) -> None:
        s = state or {}
        self.loss_sum = float(s.get("loss_sum", 0.0))
        self.samples = float(s.get("samples", 0.0))
        self.correct = float(s.get("correct", 0.0))
        self.labels = float(s.get("labels", 0.0))

    def state(self) -> dict[str, float]:
        return dict(
            loss_sum=self.loss_sum, samples=self.samples, correct=self.correct, labels=self.labels
        )

    def loss(self) -> float:
        return self.loss_sum / self.samples if self.samples else float("nan")

    def accuracy(self) -> float:
        return self.correct / self.labels if self.labels else float("nan")


class Trainer:
    """Train ``model`` on ``train_set`` with ``loss_fn``.

    Args:
        model: any module; complex parameters are fine.
        loss_fn: ``loss_fn(outputs, targets)`` → real scalar tensor (mean over the batch).
        train_set: map-style data sets of ``(input, target)`` pairs
            (`TensorDataset` is fastest).
        eval_set: map-style data sets of ``(input, target)`` pairs
            (`TensorDataset` is fastest).
        config: a `TrainConfig` (default: ``TrainConfig()``).
        out_dir: folder for ``metrics.csv``, ``metrics.json``, ``checkpoints/latest.pt`` and
            ``tensorboard/``; ``None`` writes nothing (and cannot resume).
        train_transform: ``callable(batch_x)`` applied to training batches only.
        eval_transform: ``callable(batch_x)`` applied to evaluation batches.
        metrics: ``("accuracy",)`` or ``()``. Accuracy takes the argmax over dimension 1 of
            the outputs (of ``|z|`` for complex outputs) and needs integer labels.
        run_settings: JSON-like settings outside `TrainConfig` that define the run
            (data set, training-set size, model variant, ...), stored in the checkpoint and
            ``metrics.json``. ``fit(resume=True)`` refuses a checkpoint whose settings
            differ (see `fit`).

    After `fit`, ``resumes`` lists the resumes that changed an allowed setting,
    over the run's whole life: ``[{"at_epoch": 8, "changed": {"epochs": [8, 12]}}]``
    (epochs completed before that resume; old and new value); empty for a run never
    resumed with a change.

    Under ``torchrun`` the process group is joined automatically, the model is wrapped in
    `DistributedDataParallel`, each global batch of
    ``batch_size`` is split over the processes and only rank 0 writes files.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        train_set: Dataset,
        eval_set: Dataset | None = None,
        config: TrainConfig | None = None,
        out_dir: str | os.PathLike | None = None,
        train_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        eval_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        metrics: Sequence[str] = ("accuracy",),
        run_settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config if config is not None else TrainConfig()
        cfg = self.config
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; available: {METRICS}")
        self.metrics = tuple(metrics)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        if self.out_dir is None and (cfg.tensorboard or cfg.checkpoint_every):
            raise ValueError("tensorboard and checkpoint_every need an out_dir")
        self.train_size = check_dataset(train_set, "train_set")
        eval_size = check_dataset(eval_set, "eval_set") if eval_set is not None else None
        self.run_settings = _check_run_settings(run_settings)
        # What the engine itself knows defines the run too (a smaller training set must
        # never resume a run trained on a larger one).
        self._trainer_settings = {
            "train_set size": self.train_size,
            "eval_set size": eval_size,
            "metrics": list(self.metrics),
        }
        self.resumes: list[dict[str, Any]] = []
        self.train_set, self.eval_set = train_set, eval_set
        self.loss_fn = loss_fn
        self.train_transform, self.eval_transform = train_transform, eval_transform

        dist_utils.init_distributed(device="cuda" if cfg.device.startswith("cuda") else "cpu")
        self.rank, self.world_size = dist_utils.get_rank(), dist_utils.get_world_size()
        self.device = _resolve_device(cfg.device)
        if self.device.type == "cuda" and cfg.deterministic:
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        self.model = model.to(self.device)
        self._forward_model: torch.nn.Module = self.model  # DDP-wrapped during fit()
        self.optimizer = build_optimizer(cfg, self.model.parameters())
        self.scheduler = build_scheduler(cfg, self.optimizer)
        self._sampler = torch.Generator()
        self._warned_small_batch = False
        self.history: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ paths
    @property
    def checkpoint_path(self) -> Path | None:
        """``out_dir/checkpoints/latest.pt`` (None without ``out_dir``)."""
        return self.out_dir / "checkpoints" / "latest.pt" if self.out_dir is not None else None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # ------------------------------------------------------------------ data
    def _fetch(self, dataset: Dataset, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(dataset, TensorDataset):
            batch = [t[idx] for t in dataset.tensors]
        else:
            batch = default_collate([dataset[i] for i in idx.tolist()])
        if not isinstance(batch, (list, tuple)) or len(batch) != 2:
            raise TrainingError(
                f"data set items must be (input, target) pairs, got {type(batch).__name__}"
                + (f" of length {len(batch)}" if isinstance(batch, (list, tuple)) else "")
            )
        x, y = batch
        if isinstance(x, torch.Tensor):
            x = x.to(self.device, non_blocking=True)
        if isinstance(y, torch.Tensor):
            y = y.to(self.device, non_blocking=True)
        return x, y

    def _epoch_batches(self) -> list[torch.Tensor]:
        """Global batches (index tensors) of this epoch, from the sampler's current state."""
        if self.config.shuffle:
            order = torch.randperm(self.train_size, generator=self._sampler)
        else:
            order = torch.arange(self.train_size)
        batches = list(order.split(self.config.batch_size))
        if self.config.drop_last and len(batches) > 1 and len(batches[-1]) < self.config.batch_size:
            batches.pop()
        if self.world_size > 1 and len(batches[-1]) < self.world_size:
            if not self._warned_small_batch and self.is_main:
                warnings.warn(
                    f"the last batch has {len(batches[-1])} sample(s), fewer than the "
                    f"{self.world_size} processes; it is dropped every epoch",
                    stacklevel=3,
                )
            self._warned_small_batch = True
            batches.pop()
            if not batches:
                raise TrainingError(
                    f"train_set has {self.train_size} samples, "
                    f"fewer than {self.world_size} processes"
                )
        return batches

    def _batch_step(
        self, x: torch.Tensor, y: torch.Tensor, idx: torch.Tensor, where: str
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[float, float]]:
        """Forward pass and checks; returns (outputs, loss, (correct, labels))."""
        if self.config.check_data:
            check_inputs(x, where, idx)
        if self.train_transform is not None:
            x = self.train_transform(x)
            if self.config.check_data:
                check_inputs(x, where + " after train_transform", idx)
        outputs = _forward(self._forward_model, x, where)
        if not isinstance(outputs, torch.Tensor):
            raise TrainingError(
                f"{where}: the model must return a tensor, got {type(outputs).__name__}"
            )
        if self.config.check_data:
            check_targets(y, outputs, where, "accuracy" in self.metrics, idx)
        if not (y.is_floating_point() or y.is_complex()) and y.dtype != torch.int64:
            y = y.long()
        loss = _call_loss(self.loss_fn, outputs, y, where)
        return outputs, loss.reshape(()), self._accuracy_counts(outputs, y)

    def _accuracy_counts(self, outputs: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        if "accuracy" not in self.metrics or outputs.dim() < 2:
            return 0.0, 0.0
        scores = outputs.detach()
        scores = scores.abs() if scores.is_complex() else scores
        return float((scores.argmax(dim=1) == y).sum()), float(y.numel())

    # ------------------------------------------------------------------ training
    def fit(self, resume: bool = False) -> list[dict[str, Any]]:
        """Train for ``config.epochs`` epochs and return the per-epoch history.

        Each entry holds ``epoch`` (1-based), ``train_loss``, ``train_accuracy``,
        ``eval_loss``, ``eval_accuracy`` (None without an eval set), ``lr`` (the rate used in
        that epoch) and ``seconds``. With ``resume=True`` training continues from
        ``out_dir/checkpoints/latest.pt`` when it exists (a finished run returns its history
        at once) and starts fresh otherwise.

        Resuming needs the settings the run was started with: the checkpoint's
        `TrainConfig`, ``run_settings``, training- and eval-set sizes and metrics
        must equal the current ones, except ``progress``, ``tensorboard``, ``check_data``
        and ``checkpoint_every`` (they change no number), ``device`` and
        ``deterministic`` (recorded in ``resumes``), and ``epochs``, which may be raised
        (training continues to the new count, also for a finished run) or lowered, but
        not below the epochs already done (recorded too).

        Raises:
            TrainingError: bad data, non-finite or exploding loss, gradients or weights.
                Nothing is saved after the fault: the last good checkpoint stays.
            CheckpointError: the checkpoint to resume from cannot be used, or was written
                with other settings (the message lists each one). Nothing is written.
        """
        cfg = self.config
        state = self._start(resume)
        writer = self._tensorboard()
        if self.world_size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self._forward_model = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=ids
            )
        try:
            while state["epoch"] < cfg.epochs and not state["stopped_early"]:
                self._train_epoch(state, writer)
        finally:
            # Drop the DDP wrapper: its reducer holds the process group, which must be free
            # to go when the process leaves it (see phasor.train.distributed._destroy).
            self._forward_model = self.model
            if writer is not None:
                writer.close()
        if not state["finished"]:
            state["finished"] = True
            self._save(state)
        return [dict(h) for h in self.history]

    def _start(self, resume: bool) -> dict[str, Any]:
        path = self.checkpoint_path
        if resume and self.out_dir is None:
            raise ValueError("resume=True needs an out_dir with a checkpoint to resume from")
        if path is not None and path.exists() and not resume and self.is_main:
            warnings.warn(
                f"{path} exists; starting over (pass resume=True to continue)", stacklevel=3
            )
        if resume and path is not None and path.exists():
            return self._restore(path)
        seed_everything(self.config.seed + self.rank)
        self._sampler.manual_seed(self.config.seed)
        self.history = []
        self.resumes = []
        return {
            "epoch": 0,
            "step_in_epoch": 0,
            "global_step": 0,
            "elapsed": 0.0,
            "sampler": self._sampler.get_state(),
            "running": _Running(),
            "best": math.inf,
            "bad_epochs": 0,
            "stopped_early": False,
            "finished": False,
        }

    def _train_epoch(self, state: dict[str, Any], writer) -> None:
        cfg = self.config
        epoch = state["epoch"]
        if state["step_in_epoch"] == 0:
            state["sampler"] = self._sampler.get_state()
            state["running"] = _Running()
            state["elapsed"] = 0.0
        else:
            self._sampler.set_state(state["sampler"])
        batches = self._epoch_batches()
        running: _Running = state["running"]
        lr = self.optimizer.param_groups[0]["lr"]
        started = time.perf_counter() - state["elapsed"]
        self.model.train()
        bar = tqdm(
            total=len(batches),
            initial=state["step_in_epoch"],
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            disable=not (cfg.progress and self.is_main),
            leave=False,
            dynamic_ncols=True,
        )
        try:
            for b in range(state["step_in_epoch"], len(batches)):
                self._train_step(
                    batches[b], state, where=f"train_set (epoch {epoch + 1}, batch {b + 1})"
                )
                state["step_in_epoch"] = b + 1
                state["global_step"] += 1
                postfix = {"loss": f"{running.loss():.4g}"}
                if "accuracy" in self.metrics:
                    postfix["acc"] = f"{running.accuracy():.3f}"
                bar.set_postfix(postfix, refresh=False)
                bar.update(1)
                if (
                    cfg.checkpoint_every
                    and state["global_step"] % cfg.checkpoint_every == 0
                    and state["step_in_epoch"] < len(batches)
                ):
                    state["elapsed"] = time.perf_counter() - started
                    self._save(state)
        finally:
            bar.close()

        record: dict[str, Any] = {"epoch": epoch + 1, "train_loss": running.loss()}
        if "accuracy" in self.metrics:
            record["train_accuracy"] = running.accuracy()
        if self.eval_set is not None:
            ev = self._evaluate(self.eval_set, "eval_set")
            record["eval_loss"] = ev["loss"]
            if "accuracy" in self.metrics:
                record["eval_accuracy"] = ev["accuracy"]
        else:
            record["eval_loss"] = None
            if "accuracy" in self.metrics:
                record["eval_accuracy"] = None
        record["lr"] = lr
        monitored = record["eval_loss"] if record["eval_loss"] is not None else record["train_loss"]
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self.scheduler.step(monitored)
        elif self.scheduler is not None:
            self.scheduler.step()
        if monitored < state["best"] - cfg.early_stopping_min_delta:
            state["best"], state["bad_epochs"] = monitored, 0
        else:
            state["bad_epochs"] += 1
        if (
            cfg.early_stopping_patience is not None
            and state["bad_epochs"] >= cfg.early_stopping_patience
        ):
            state["stopped_early"] = True
        record["seconds"] = time.perf_counter() - started
        self.history.append(record)
        state["epoch"] = epoch + 1
        state["step_in_epoch"] = 0
        state["sampler"] = self._sampler.get_state()  # ready to draw the next epoch's order
        state["running"] = _Running()
        state["elapsed"] = 0.0
        state["finished"] = state["stopped_early"] or state["epoch"] >= cfg.epochs
        self._log_epoch(record, writer, stopped=state["stopped_early"])
        self._save(state)

    def _train_step(self, idx_global: torch.Tensor, state: dict[str, Any], where: str) -> None:
        cfg = self.config
        running: _Running = state["running"]
        idx = (
            torch.tensor_split(idx_global, self.world_size)[self.rank]
            if self.world_size > 1
            else idx_global
        )
        error: TrainingError | None = None
        loss = None
        try:
            x, y = self._fetch(self.train_set, idx)
            _, loss, (correct, labels) = self._batch_step(x, y, idx, where)
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):
                raise TrainingError(self._diverged(where, f"the loss is {loss_value}"))
            if cfg.max_loss is not None and loss_value > cfg.max_loss:
                raise TrainingError(
                    self._diverged(
                        where, f"the loss {loss_value:.4g} exceeds max_loss={cfg.max_loss:g}"
                    )
                )
        except TrainingError as exc:
            if self.world_size == 1:
                raise
            error, loss_value, correct, labels = exc, 0.0, 0.0, 0.0
        n = float(len(idx))
        if self.world_size > 1:
            # One small all-reduce agrees on faults (so no process hangs in backward) and
            # sums this step's metrics over the processes.
            sums = torch.tensor(
                [float(error is not None), loss_value * n, n, correct, labels], dtype=torch.float64
            )
            dist_utils.all_reduce_sum(sums)
            if sums[0] > 0:
                messages = dist_utils.gather_objects(str(error) if error is not None else None)
                first = next((r, m) for r, m in enumerate(messages) if m is not None)
                raise TrainingError(f"process {first[0]}: {first[1]}")
            loss_total, n_total, correct, labels = (float(v) for v in sums[1:])
            # Each process holds a mean over its shard; weight it so that the averaged
            # gradient equals the gradient of the mean over the global batch.
            loss = loss * (n * self.world_size / n_total)
        else:
            loss_total, n_total = loss_value * n, n
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = self._grad_norm()
        if not math.isfinite(grad_norm):
            raise TrainingError(self._diverged(where, f"the gradient norm is {grad_norm}"))
        self.optimizer.step()
        running.loss_sum += loss_total
        running.samples += n_total
        running.correct += correct
        running.labels += labels

    def _grad_norm(self) -> float:
        params = [p for p in self.model.parameters() if p.grad is not None]
        if not params:
            return 0.0
        if self.config.max_grad_norm is not None:
            return float(torch.nn.utils.clip_grad_norm_(params, self.config.max_grad_norm))
        norms = torch.stack([torch.linalg.vector_norm(p.grad) for p in params])
        return float(torch.linalg.vector_norm(norms))

    def _diverged(self, where: str, what: str) -> str:
        path = self.checkpoint_path
        kept = (
            f"the last good checkpoint {path} is kept"
            if path is not None and path.exists()
            else "no checkpoint was written yet"
        )
        return (
            f"{where}: training diverged: {what}. Stopped before updating the weights; {kept}. "
            "Lower the learning rate, set max_grad_norm, or check the data"
        )

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, dataset: Dataset) -> dict[str, float]:
        """Mean loss (and accuracy, if asked for) of the model on ``dataset``.

        Runs in eval mode without gradients, applies ``eval_transform``, and restores the
        model's previous mode. Under ``torchrun`` the data set is split over processes
        and the result is the global mean, identical on every process.
        """
        check_dataset(dataset, "dataset")
        return self._evaluate(dataset, "dataset")

    def _evaluate(self, dataset: Dataset, name: str) -> dict[str, float]:
        n = len(dataset)
        shard = torch.tensor_split(torch.arange(n), self.world_size)[self.rank]
        size = self.config.eval_batch_size or self.config.batch_size
        was_training = self.model.training
        self.model.eval()
        sums = torch.zeros(4, dtype=torch.float64)  # loss_sum, samples, correct, labels
        message: str | None = None
        try:
            with torch.no_grad():
                for k, idx in enumerate(shard.split(size)):
                    where = f"{name} (batch {k + 1})"
                    x, y = self._fetch(dataset, idx)
                    if self.config.check_data:
                        check_inputs(x, where, idx)
                    if self.eval_transform is not None:
                        x = self.eval_transform(x)
                    outputs = _forward(self.model, x, where)
                    if self.config.check_data:
                        check_targets(y, outputs, where, "accuracy" in self.metrics, idx)
                    if not (y.is_floating_point() or y.is_complex()) and y.dtype != torch.int64:
                        y = y.long()
                    loss = _call_loss(self.loss_fn, outputs, y, where)
                    correct, labels = self._accuracy_counts(outputs, y)
                    sums += torch.tensor(
                        [float(loss) * len(idx), len(idx), correct, labels], dtype=torch.float64
                    )
        except TrainingError as exc:
            if self.world_size == 1:
                raise
            message = str(exc)
        finally:
            self.model.train(was_training)
        if self.world_size > 1:
            flagged = torch.cat(
                [torch.tensor([float(message is not None)], dtype=torch.float64), sums]
            )
            dist_utils.all_reduce_sum(flagged)
            if flagged[0] > 0:
                messages = dist_utils.gather_objects(message)
                raise TrainingError(next(m for m in messages if m is not None))
            sums = flagged[1:]
        loss_sum, samples, correct, labels = (float(v) for v in sums)
        out = {"loss": loss_sum / samples}
        if "accuracy" in self.metrics:
            out["accuracy"] = correct / labels if labels else float("nan")
        return out

    # ------------------------------------------------------------------ checkpoints
    def _save(self, state: dict[str, Any]) -> None:
        path = self.checkpoint_path
        if path is None:
            return
        for name, p in self.model.named_parameters():
            bad = ~torch.isfinite(torch.view_as_real(p.detach()) if p.is_complex() else p.detach())
            if bool(bad.any()):
                raise TrainingError(
                    self._diverged(
                        f"after step {state['global_step']}",
                        f"parameter {name!r} holds non-finite values",
                    )
                )
        rng = dist_utils.gather_objects(get_rng_state())
        if self.is_main:
            save_checkpoint(
                path,
                {
                    "model": self.model.state_dict(),
                    "model_class": type(self.model).__name__,
                    "optimizer": self.optimizer.state_dict(),
                    "optimizer_class": type(self.optimizer).__name__,
                    "scheduler": self.scheduler.state_dict()
                    if self.scheduler is not None
                    else None,
                    "rng": rng,
                    "world_size": self.world_size,
                    "position": {
                        "epoch": state["epoch"],
                        "step_in_epoch": state["step_in_epoch"],
                        "global_step": state["global_step"],
                        "sampler": state["sampler"],
                        "elapsed": state["elapsed"],
                    },
                    "running": state["running"].state(),
                    "history": self.history,
                    "early_stopping": {
                        "best": state["best"],
                        "bad_epochs": state["bad_epochs"],
                        "stopped": state["stopped_early"],
                    },
                    "finished": state["finished"],
                    "config": _jsonable(self.config.to_dict()),
                    "run_settings": self.run_settings,
                    "trainer_settings": self._trainer_settings,
                    "resumes": self.resumes,
                },
            )
        dist_utils.barrier()

    def _restore(self, path: Path) -> dict[str, Any]:
        data = load_checkpoint(path, self.model, map_location="cpu")
        try:
            done, in_epoch = int(data["position"]["epoch"]), int(data["position"]["step_in_epoch"])
            stored = {
                "config": dict(data["config"]),
                "trainer": dict(data["trainer_settings"]),
                "run": dict(data["run_settings"]),
            }
            past = [dict(r) for r in data["resumes"]]
            world_size = int(data["world_size"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: incomplete or inconsistent checkpoint ({exc})") from exc
        changed = self._setting_changes(path, stored, done, in_epoch)
        if world_size != self.world_size:
            changed["world_size"] = [world_size, self.world_size]
        try:
            self.model.load_state_dict(data["model"])
            self.optimizer.load_state_dict(data["optimizer"])
            if self.scheduler is not None and data["scheduler"] is not None:
                self.scheduler.load_state_dict(data["scheduler"])
            pos, es = data["position"], data["early_stopping"]
            rng = data["rng"]
            if world_size == self.world_size:
                set_rng_state(rng[self.rank])
            else:
                if self.is_main:
                    warnings.warn(
                        f"{path} was written by {world_size} process(es), this run has "
                        f"{self.world_size}; random states are reseeded",
                        stacklevel=3,
                    )
                seed_everything(self.config.seed + self.rank + pos["global_step"])
            self._sampler.set_state(pos["sampler"])
            state = {
                "epoch": int(pos["epoch"]),
                "step_in_epoch": int(pos["step_in_epoch"]),
                "global_step": int(pos["global_step"]),
                "elapsed": float(pos["elapsed"]),
                "sampler": pos["sampler"],
                "running": _Running(data["running"]),
                "best": float(es["best"]),
                "bad_epochs": int(es["bad_epochs"]),
                "stopped_early": bool(es["stopped"]),
                "finished": bool(data["finished"]),
            }
            self.history = [dict(h) for h in data["history"]]
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{path}: incomplete or inconsistent checkpoint ({exc})") from exc
        if state["finished"] and state["epoch"] < self.config.epochs and not state["stopped_early"]:
            state["finished"] = False  # more epochs were asked for
        # A change is recorded when training goes on under it (a finished run that trains
        # no further is returned as it was).
        self.resumes = past + (
            [{"at_epoch": done, "changed": changed}] if changed and not state["finished"] else []
        )
        return state

    def _setting_changes(
        self, path: Path, stored: dict[str, dict[str, Any]], done: int, in_epoch: int
    ) -> dict[str, list[Any]]:
        """Compare the checkpoint's settings with the current ones (the resume rule of
        `fit`). Returns the allowed changes as ``{name: [old, new]}``; raises
        `CheckpointError` listing every refused one."""
        now = {
            "config": _jsonable(self.config.to_dict()),
            "trainer": self._trainer_settings,
            "run": self.run_settings,
        }
        refused: list[str] = []
        changed: dict[str, list[Any]] = {}
        for group in ("config", "trainer", "run"):
            old_group, new_group = stored[group], now[group]
            for name in [*old_group, *(k for k in new_group if k not in old_group)]:
                old, new = old_group.get(name, _MISSING), new_group.get(name, _MISSING)
                if group == "config" and name in _FREE_FIELDS:
                    continue
                if group == "config" and name == "optimizer":  # names are case-insensitive
                    old, new = str(old).lower(), str(new).lower()
                if _same(old, new):
                    continue
                line = f"{name}: {_show(old)} in the checkpoint, {_show(new)} now"
                if group == "config" and name == "epochs" and isinstance(new, int):
                    least = done + (1 if in_epoch else 0)
                    if new >= least:
                        changed[name] = [old, new]
                        continue
                    line += f" (it cannot be lowered below {least}: {done} epoch(s) are done" + (
                        f" and epoch {least} is in progress)" if in_epoch else ")"
                    )
                elif group == "config" and name in _RECORDED_FIELDS:
                    changed[name] = [old, new]
                    continue
                refused.append(line)
        if refused:
            raise CheckpointError(
                f"{path}: cannot resume: the run in this checkpoint was started with other "
                "settings, and continuing it would report its results as those of the new "
                "settings:\n  "
                + "\n  ".join(refused)
                + "\nTo train with the new settings, start a fresh run (a new output folder, "
                "e.g. another --out, or fit() without resume=True, which starts over); to "
                "continue this run, pass the settings it was started with."
            )
        return changed

    # ------------------------------------------------------------------ logging
    def _tensorboard(self):
        if not (self.config.tensorboard and self.is_main):
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:
            raise TrainingError(
                "tensorboard=True needs the tensorboard package: "
                "pip install 'phasor-nn[tensorboard]'"
            ) from exc
        return SummaryWriter(log_dir=str(self.out_dir / "tensorboard"))

    def _log_epoch(self, record: dict[str, Any], writer, stopped: bool) -> None:
        if not self.is_main:
            return
        if writer is not None:
            for key, value in record.items():
                if key != "epoch" and value is not None:
                    writer.add_scalar(key.replace("_", "/", 1), value, record["epoch"])
            writer.flush()
        if self.config.progress:
            parts = [
                f"{k}={v:.4g}" for k, v in record.items() if k != "epoch" and isinstance(v, float)
            ]
            tqdm.write(
                f"epoch {record['epoch']}/{self.config.epochs}: "
                + " ".join(parts)
                + (" (early stop)" if stopped else "")
            )
        if self.out_dir is not None:
            self._write_metrics()

    def _write_metrics(self) -> None:
        write_csv(self.out_dir / "metrics.csv", self.history)
        payload = {
            "config": _jsonable(self.config.to_dict()),
            "run_settings": self.run_settings,
            "resumes": self.resumes,
            "history": self.history,
        }
        write_json(self.out_dir / "metrics.json", payload)


def _forward(model: torch.nn.Module, x: torch.Tensor, where: str) -> Any:
    """Run the model; an error it raises on this batch becomes a TrainingError that says
    which batch and keeps the model's own message (e.g. a dtype or shape mismatch)."""
    try:
        return model(x)
    except TrainingError:
        raise
    except (TypeError, ValueError, RuntimeError, IndexError) as exc:
        raise TrainingError(
            f"{where}: the model rejected a batch of shape {tuple(x.shape)} and dtype {x.dtype}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _call_loss(loss_fn: Callable, outputs: torch.Tensor, y: torch.Tensor, where: str):
    """``loss_fn(outputs, y)``, checked to be a real scalar; its errors name the batch."""
    try:
        loss = loss_fn(outputs, y)
    except (TypeError, ValueError, RuntimeError, IndexError) as exc:
        raise TrainingError(
            f"{where}: loss_fn failed on outputs of shape {tuple(outputs.shape)} "
            f"({outputs.dtype}) and targets of shape {tuple(y.shape)} ({y.dtype}): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    check_loss(loss, where)
    return loss


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if isinstance(obj, type):
        return obj.__name__
    return repr(obj)


def _check_run_settings(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """A JSON-like copy of ``settings`` (tuples become lists); clear errors otherwise."""
    if settings is None:
        return {}
    if not isinstance(settings, Mapping):
        raise TypeError(f"run_settings must be a mapping, got {type(settings).__name__}")
    fields = {f.name for f in dataclasses.fields(TrainConfig)}

    def plain(value: Any, where: str) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{where} must be finite (JSON has no NaN or Inf), got {value!r}")
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        if isinstance(value, (list, tuple)):
            return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                if not isinstance(k, str):
                    raise TypeError(f"{where} keys must be strings, got {k!r}")
                out[k] = plain(v, f"{where}[{k!r}]")
            return out
        raise TypeError(
            f"{where} must be JSON-like (str, int, float, bool, None, or lists and dicts of "
            f"those), got {type(value).__name__}; e.g. pass str(path) for a path"
        )

    out = plain(settings, "run_settings")
    shared = sorted(fields & set(out))
    if shared:
        raise ValueError(
            f"run_settings {shared} are TrainConfig fields, which the checkpoint stores and "
            "compares already; leave them out of run_settings"
        )
    return out


def _same(a: Any, b: Any) -> bool:
    """Equality of JSON-like values that tells True from 1 and 1 from [1]."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (bool, dict, list, tuple)) or isinstance(b, (bool, dict, list, tuple)):
        return type(a) is type(b) and a == b
    return a == b


def _show(value: Any) -> str:
    return "not set" if value is _MISSING else repr(value)
