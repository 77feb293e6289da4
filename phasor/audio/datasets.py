"""Audio data sets by name, split into train and test reproducibly by seed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from phasor.audio.folders import (
    DRUMS_GROUP_PATTERN,
    ClassFolderClips,
    _stratified,
    drums_root,
    group_of,
    group_split,
    scan_class_folders,
)
from phasor.audio.gtzan import GTZAN_GENRES, gtzan_root, scan_gtzan
from phasor.audio.synthetic import GENRES, PHASE_CLASSES, synthetic_genres, synthetic_phase_pairs
from phasor.data import DataError

__all__ = [
    "AUDIO_DATASETS",
    "DRUMS_CLASSES",
    "HOLDOUTS",
    "AudioSplits",
    "load_audio",
    "load_audio_seeds",
    "stratified_split",
]

AUDIO_DATASETS = ("synthetic", "synthetic-phase", "gtzan", "drums")
"""Names accepted by `load_audio` (and the audio studies' ``--dataset``)."""
# kick and snare first: the binary task of the studies (the first two classes) is kick vs snare
DRUMS_CLASSES = ("kick", "snare", "hihat", "tom", "cymbal", "percussion", "clap")
"""The drum hits' classes in label order; kick and snare first, so the studies' binary task (the first two classes) is kick vs snare."""
HOLDOUTS = ("kits", "clips")
"""How a split holds clips out: whole kits (groups of `DRUMS_GROUP_PATTERN`) or single clips."""


@dataclass
class AudioSplits:
    """Train and test clips of one audio data set, split by ``seed``; ``test_groups`` the groups
    (drum kits) held out for the test side under ``holdout="kits"``.

    Shape:
        - ``train_audio``: $(N, T)$ float32, ``train_labels``: $(N,)$ int64; the
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
    seed: int = 0
    test_groups: list[str] = field(default_factory=list)

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
    if groups is None:
        return _stratified(labels, test_fraction, rng)
    order = rng.permutation(np.unique(groups))
    n_test = max(1, round(test_fraction * len(order)))
    mask = np.isin(groups, order[:n_test])
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def _drums_where_to_put(root: Path, chosen_by: str) -> str:
    layout = "one sub-folder per class (kick/, snare/, ...) of KIT__INSTRUMENT__LAYER.wav files"
    if chosen_by == "--data-dir":
        return f"--data-dir chose it: it must name the drums folder itself, with {layout}"
    if chosen_by == "$PHASOR_DATA":
        return (
            f"$PHASOR_DATA chose it: it is a data root with one folder per data set, so put "
            f"the class folders in {root}, or pass --data-dir FOLDER with {layout}"
        )
    return (
        f"the default chose it (no --data-dir, $PHASOR_DATA unset): pass --data-dir FOLDER "
        f"with {layout}, or set $PHASOR_DATA to a data root holding a drums/ folder"
    )


def _read_folders(
    dataset: str,
    data_dir: str | Path | None,
    clips_per_class: int,
    num_classes: int | None,
    rate: int,
    duration: float | None,
    on_error: str,
) -> ClassFolderClips:
    """The clips of ``gtzan`` or ``drums``, every class with at least 2 readable clips."""
    if dataset == "gtzan":
        root, chosen_by = gtzan_root(data_dir)
        genres = GTZAN_GENRES[: num_classes or len(GTZAN_GENRES)]
        found = scan_gtzan(
            root,
            sample_rate=rate,
            duration=30.0 if duration is None else duration,
            genres=genres,
            max_per_class=clips_per_class or None,
            on_error=on_error,
            chosen_by=chosen_by,
        )
        clips = ClassFolderClips(
            found.audio,
            found.labels,
            found.classes,
            [p.relative_to(root) for p in found.files],
            rate,
            [f"{p}: {why}" for p, why in found.skipped],
        )
        what = "genre"
    else:
        root, chosen_by = drums_root(data_dir)
        classes = DRUMS_CLASSES[: num_classes or len(DRUMS_CLASSES)]
        if not root.is_dir() or any(not (root / c).is_dir() for c in classes):
            raise DataError(
                f"drums folder {root} not found or lacks a class folder of "
                f"{', '.join(classes)}; {_drums_where_to_put(root, chosen_by)}"
            )
        clips = scan_class_folders(
            root,
            sample_rate=rate,
            clip_samples=None if duration is None else round(duration * rate),
            classes=classes,
            on_error=on_error,
            max_per_class=clips_per_class or None,
        )
        what = "class"
    counts = np.bincount(clips.labels, minlength=len(clips.classes))
    few = [f"{g} ({n})" for g, n in zip(clips.classes, counts, strict=True) if n < 2]
    if few:
        raise DataError(
            f"{dataset} folder {root}: every {what} needs at least 2 readable clips to split "
            f"into train and test; too few in {', '.join(few)}"
        )
    return clips


def load_audio(
    dataset: str = "synthetic",
    data_dir: str | Path | None = None,
    seed: int = 0,
    clips_per_class: int = 40,
    num_classes: int | None = None,
    test_fraction: float = 0.25,
    sample_rate: int | None = None,
    duration: float | None = None,
    on_error: str = "skip",
    holdout: str | None = None,
) -> AudioSplits:
    """Load an audio data set by name and split it by ``seed``: `load_audio_seeds` for
    one seed (the same arguments)."""
    return load_audio_seeds(
        dataset,
        [seed],
        data_dir,
        clips_per_class,
        num_classes,
        test_fraction,
        sample_rate,
        duration,
        on_error,
        holdout,
    )[0]


def load_audio_seeds(
    dataset: str = "synthetic",
    seeds: Sequence[int] = (0,),
    data_dir: str | Path | None = None,
    clips_per_class: int = 40,
    num_classes: int | None = None,
    test_fraction: float = 0.25,
    sample_rate: int | None = None,
    duration: float | None = None,
    on_error: str = "skip",
    holdout: str | None = None,
) -> list[AudioSplits]:
    """Load an audio data set by name (`AUDIO_DATASETS`), split once per seed.

    ``synthetic``: ``clips_per_class`` clips of the first ``num_classes`` (default 10)
    `GENRES` at 8 kHz (default ``duration`` 1.024 s), drawn anew
    for each seed. ``synthetic-phase``: ``clips_per_class`` pairs of the two phase classes; a
    pair never straddles the split. ``gtzan``: the files under ``data_dir`` (default
    ``$PHASOR_DATA/gtzan``), at most ``clips_per_class`` per genre (``0`` for all), at
    ``sample_rate`` (default 22,050 Hz), cut to ``duration`` (default 30 s). ``drums``: the
    drum hits under ``data_dir`` (default ``$PHASOR_DATA/drums``), classes
    `DRUMS_CLASSES` (the first ``num_classes``), at most ``clips_per_class`` per class
    (``0`` for all), at ``sample_rate`` (default 22,050 Hz), cut or padded to ``duration``
    (default: the longest clip, 1 s). Folders are read once for all seeds; ``on_error``
    (``"skip"`` or ``"raise"``) is what an unreadable file does.

    ``holdout``: ``"kits"`` (the default for ``drums``) puts whole kits on the test side
    ([`group_split`][phasor.audio.folders.group_split]), ``"clips"`` (the default otherwise) splits
    the clips of each class (`stratified_split`).
    """
    if dataset not in AUDIO_DATASETS:
        raise ValueError(f"unknown audio data set {dataset!r}; choose one of {AUDIO_DATASETS}")
    holdout = holdout or ("kits" if dataset == "drums" else "clips")
    if holdout not in HOLDOUTS:
        raise ValueError(f"holdout must be one of {HOLDOUTS}, got {holdout!r}")
    if holdout == "kits" and dataset != "drums":
        raise ValueError(f"holdout 'kits' needs the drums data set, not {dataset!r}")
    if dataset in ("gtzan", "drums"):
        rate = sample_rate or 22050
        clips = _read_folders(
            dataset, data_dir, clips_per_class, num_classes, rate, duration, on_error
        )
        out = []
        for seed in seeds:
            pattern = DRUMS_GROUP_PATTERN if holdout == "kits" else None
            train, test = group_split(clips, test_fraction, pattern, seed)
            kits = sorted({group_of(clips.paths[i]) for i in test}) if pattern else []
            out.append(_splits(dataset, clips.audio, clips.labels, train, test, clips, seed, kits))
        return out
    rate = sample_rate or 8000
    n_samples = round((1.024 if duration is None else duration) * rate)
    out = []
    for seed in seeds:
        groups = None
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
        info = ClassFolderClips(audio, labels, tuple(classes), [], rate)
        out.append(_splits(dataset, audio, labels, train, test, info, seed, []))
    return out


def _splits(dataset, audio, labels, train, test, clips: ClassFolderClips, seed, kits):
    return AudioSplits(
        dataset,
        torch.from_numpy(audio[train]),
        torch.from_numpy(labels[train]),
        torch.from_numpy(audio[test]),
        torch.from_numpy(labels[test]),
        tuple(clips.classes),
        clips.sample_rate,
        list(clips.skipped),
        seed,
        kits,
    )
