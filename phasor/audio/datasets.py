"""Audio data sets by name, split into train and test reproducibly by seed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from phasor.audio.gtzan import GTZAN_GENRES, gtzan_root, scan_gtzan
from phasor.audio.synthetic import GENRES, PHASE_CLASSES, synthetic_genres, synthetic_phase_pairs
from phasor.data import DataError

__all__ = ["AUDIO_DATASETS", "AudioSplits", "load_audio", "stratified_split"]

AUDIO_DATASETS = ("synthetic", "synthetic-phase", "gtzan")


@dataclass
class AudioSplits:
    """Train and test clips of one audio data set.

    Shape:
        - ``train_audio``: :math:`(N, T)` float32, ``train_labels``: :math:`(N,)` int64; the
          same for ``test_*``.
    """

    name: str
    train_audio: torch.Tensor
    train_labels: torch.Tensor
    test_audio: torch.Tensor
    test_labels: torch.Tensor
    classes: tuple[str, ...]
    sample_rate: int
    skipped: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def stratified_split(
    labels: np.ndarray, test_fraction: float, seed: int, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)``: a seeded shuffle of each class, ``test_fraction`` to test.

    With ``groups``, whole groups move together (rows of one group share a split); the groups
    are shuffled instead of rows.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    keys = labels if groups is None else groups
    units = np.unique(keys) if groups is not None else None
    train, test = [], []
    if units is not None:
        order = rng.permutation(units)
        n_test = max(1, round(test_fraction * len(order)))
        test_units = set(order[:n_test].tolist())
        mask = np.array([g in test_units for g in groups])
        return np.flatnonzero(~mask), np.flatnonzero(mask)
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = max(1, round(test_fraction * len(idx)))
        if n_test >= len(idx):
            raise ValueError(f"class {c} has {len(idx)} clip(s), too few to split")
        test.extend(idx[:n_test].tolist())
        train.extend(idx[n_test:].tolist())
    return np.sort(np.asarray(train)), np.sort(np.asarray(test))


def load_audio(
    dataset: str = "synthetic",
    data_dir: str | Path | None = None,
    seed: int = 0,
    clips_per_class: int = 40,
    num_classes: int | None = None,
    test_fraction: float = 0.25,
    sample_rate: int | None = None,
    duration: float | None = None,
) -> AudioSplits:
    """Load an audio data set by name (:data:`AUDIO_DATASETS`) and split it by ``seed``.

    ``synthetic``: ``clips_per_class`` clips of the first ``num_classes`` (default 10)
    :data:`~phasor.audio.synthetic.GENRES` at 8 kHz (default ``duration`` 1.024 s).
    ``synthetic-phase``: ``clips_per_class`` pairs of the two phase classes; a pair never
    straddles the split. ``gtzan``: the files under ``data_dir`` (default
    ``$PHASOR_DATA/gtzan``), at most ``clips_per_class`` per genre (``0`` for all),
    at ``sample_rate`` (default 22,050 Hz), cut to ``duration`` (default 30 s).
    """
    if dataset not in AUDIO_DATASETS:
        raise ValueError(f"unknown audio data set {dataset!r}; choose one of {AUDIO_DATASETS}")
    skipped: list[str] = []
    groups = None
    if dataset == "gtzan":
        rate = sample_rate or 22050
        genres = GTZAN_GENRES[: num_classes or len(GTZAN_GENRES)]
        root, chosen_by = gtzan_root(data_dir)
        clips = scan_gtzan(
            root,
            sample_rate=rate,
            duration=30.0 if duration is None else duration,
            genres=genres,
            max_per_class=clips_per_class or None,
            chosen_by=chosen_by,
        )
        audio, labels, classes = clips.audio, clips.labels, clips.classes
        skipped = [f"{p}: {why}" for p, why in clips.skipped]
        counts = np.bincount(labels, minlength=len(classes))
        few = [f"{g} ({n})" for g, n in zip(classes, counts, strict=True) if n < 2]
        if few:
            raise DataError(
                f"GTZAN folder {root}: every genre needs at least 2 readable clips to split into "
                f"train and test; too few in {', '.join(few)}"
            )
    else:
        rate = sample_rate or 8000
        n_samples = round((1.024 if duration is None else duration) * rate)
        if dataset == "synthetic":
            k = num_classes or len(GENRES)
            audio, labels = synthetic_genres(clips_per_class, seed, k, rate, n_samples)
            classes = GENRES[:k]
        else:
            if num_classes not in (None, 2):
                raise ValueError("synthetic-phase has exactly 2 classes")
            audio, labels = synthetic_phase_pairs(clips_per_class, seed, rate, n_samples)
            classes = PHASE_CLASSES
            groups = np.tile(np.arange(clips_per_class), 2)
    train, test = stratified_split(labels, test_fraction, seed, groups)
    return AudioSplits(
        dataset,
        torch.from_numpy(audio[train]),
        torch.from_numpy(labels[train]),
        torch.from_numpy(audio[test]),
        torch.from_numpy(labels[test]),
        tuple(classes),
        rate,
        skipped,
    )
