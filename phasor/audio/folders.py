"""Audio in class folders (``<root>/<class>/<clip>.wav``), and splits that keep groups apart.

The layout of GTZAN and of the drum-hit recordings (``drums/<class>/KIT__INSTRUMENT__LAYER.wav``).
Files are read with ``soundfile`` (libsndfile), stereo is averaged to mono, other sample rates
are resampled with `scipy.signal.resample_poly`, and every clip is cut from its start (or
zero-padded) to one length. A file that cannot be read, or holds no samples, is never used
silently: with ``on_error="skip"`` it is listed by name in `ClassFolderClips.skipped`
(and a warning names it); with ``on_error="raise"`` it raises [`phasor.data.DataError`][phasor.data.idx.DataError].

`group_split` holds whole groups (for the drums: kits, named by the file name's prefix
before ``__``) out for the test side, so a classifier is tested on kits it never heard.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from phasor.data import DataError, resolve_data_dir
from phasor.data.datasets import ENV_VAR

__all__ = [
    "DRUMS_GROUP_PATTERN",
    "ClassFolderClips",
    "drums_root",
    "group_of",
    "group_split",
    "read_wav",
    "scan_class_folders",
]

DRUMS_GROUP_PATTERN = r"^(.+?)__"
"""File-name pattern whose first group names a clip's kit in the drums layout (``KIT__INSTRUMENT__LAYER.wav``)."""


@dataclass
class ClassFolderClips:
    """Clips read from a class-folder layout.

    ``audio`` float32 ``(N, T)`` mono; ``labels`` int64 ``(N,)`` indexing ``classes`` (the
    sorted class folder names); ``paths`` each row's file relative to the root; ``skipped``
    ``"path: reason"`` for every file left out (``on_error="skip"``).

    Shape:
        - ``audio``: $(N, T)$, ``labels``: $(N,)$.
    """

    audio: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    paths: list[Path]
    sample_rate: int
    skipped: list[str] = field(default_factory=list)


def read_wav(path: str | Path, sample_rate: int) -> np.ndarray:
    """Read one audio file as mono float32 at ``sample_rate`` Hz.

    Raises [`phasor.data.DataError`][phasor.data.idx.DataError] naming the file if it cannot be decoded, holds
    no samples or holds non-finite ones.
    """
    try:
        import soundfile
        from scipy.signal import resample_poly
    except ImportError as err:
        raise ImportError(
            "reading audio needs soundfile and scipy: pip install 'phasor-nn[experiments]'"
        ) from err

    path = Path(path)
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError, ValueError) as err:
        raise DataError(f"cannot read audio file {path}: {err}") from err
    if data.shape[0] == 0:
        raise DataError(f"audio file {path} holds no samples")
    mono = data.mean(axis=1)
    if rate != sample_rate:
        g = math.gcd(int(rate), int(sample_rate))
        mono = resample_poly(mono, sample_rate // g, int(rate) // g).astype(np.float32)
    if not np.all(np.isfinite(mono)):
        raise DataError(f"audio file {path} contains non-finite samples")
    return mono


def _fit_length(x: np.ndarray, n: int) -> np.ndarray:
    return x[:n] if x.shape[0] >= n else np.pad(x, (0, n - x.shape[0]))


def scan_class_folders(
    root: str | Path,
    sample_rate: int = 22050,
    clip_samples: int | None = None,
    classes: tuple[str, ...] | None = None,
    on_error: str = "skip",
    pattern: str = "*.wav",
    max_per_class: int | None = None,
) -> ClassFolderClips:
    """Read every ``<root>/<class>/<pattern>`` file (sorted) at ``sample_rate`` Hz.

    ``classes`` default to the sorted sub-folders of ``root`` (hidden ones excluded). Each
    clip is cut from its start or zero-padded at its end to ``clip_samples`` samples (default:
    the longest clip read); ``max_per_class`` keeps the first files of each class (by name).
    ``on_error``: ``"skip"`` (warn and list the file in ``skipped``) or ``"raise"``
    ([`phasor.data.DataError`][phasor.data.idx.DataError]) for a file that cannot be read.

    Raises [`phasor.data.DataError`][phasor.data.idx.DataError] for a missing root or class folder, and for a class
    without one readable file.
    """
    if on_error not in ("skip", "raise"):
        raise ValueError(f"on_error must be 'skip' or 'raise', got {on_error!r}")
    if clip_samples is not None and clip_samples < 1:
        raise ValueError(f"clip_samples must be a positive number of samples, got {clip_samples}")
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"audio folder {root} not found (expected <class>/{pattern} inside)")
    if classes is None:
        classes = tuple(
            sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        )
        if not classes:
            raise DataError(f"audio folder {root} has no class sub-folders")
    classes = tuple(classes)
    missing = [c for c in classes if not (root / c).is_dir()]
    if missing:
        raise DataError(f"audio folder {root} lacks the class folder(s) {', '.join(missing)}")
    return _scan(root, classes, sample_rate, clip_samples, on_error, pattern, max_per_class)[0]


def _scan(
    root: Path,
    classes: tuple[str, ...],
    sample_rate: int,
    clip_samples: int | None,
    on_error: str,
    pattern: str,
    max_per_class: int | None,
) -> tuple[ClassFolderClips, list[tuple[Path, str]]]:
    """`scan_class_folders` after its checks; also ``(full path, reason)`` per skip."""
    clips, labels, paths, skipped = [], [], [], []
    for label, name in enumerate(classes):
        kept = 0
        for path in sorted((root / name).glob(pattern)):
            if max_per_class is not None and kept >= max_per_class:
                break
            try:
                audio = read_wav(path, sample_rate)
            except DataError as err:
                if on_error == "raise":
                    raise
                skipped.append((path, str(err)))
                warnings.warn(f"skipping {path}: {err}", stacklevel=3)
                continue
            clips.append(audio)
            labels.append(label)
            paths.append(path.relative_to(root))
            kept += 1
        if kept == 0:
            raise DataError(f"no readable {pattern} files in {root / name}")
    n = max(len(c) for c in clips) if clip_samples is None else clip_samples
    result = ClassFolderClips(
        np.stack([_fit_length(c, n) for c in clips]).astype(np.float32),
        np.asarray(labels, dtype=np.int64),
        classes,
        paths,
        sample_rate,
        [f"{p.relative_to(root)}: {why}" for p, why in skipped],
    )
    return result, skipped


def group_of(path: str | Path, group_pattern: str = DRUMS_GROUP_PATTERN) -> str:
    """The group of a file: group 1 of ``group_pattern`` matched on its name (for the drums,
    ``KIT__INSTRUMENT__LAYER.wav`` gives ``KIT``).

    Raises `ValueError` naming the file if the pattern does not match.
    """
    name = Path(path).name
    match = re.search(group_pattern, name)
    if match is None:
        raise ValueError(f"file name {name!r} does not match the group pattern {group_pattern!r}")
    return match.group(1)


def _stratified(labels: np.ndarray, test_fraction: float, rng) -> tuple[np.ndarray, np.ndarray]:
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = max(1, round(test_fraction * len(idx)))
        if n_test >= len(idx):
            raise ValueError(f"class {c} has {len(idx)} clip(s), too few to split")
        test.extend(idx[:n_test].tolist())
        train.extend(idx[n_test:].tolist())
    return np.sort(np.asarray(train, dtype=np.int64)), np.sort(np.asarray(test, dtype=np.int64))


def group_split(
    clips: ClassFolderClips,
    test_fraction: float = 0.25,
    group_pattern: str | None = None,
    seed: int = 0,
    tries: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)`` of ``clips``, reproducible by ``seed``.

    Without ``group_pattern``: a stratified split (a seeded shuffle of each class,
    ``round(test_fraction * n)``, at least 1, of each class to test). With it, whole groups
    (`group_of` of each path) go to one side: ``tries`` seeded orders of the groups are
    each filled into the test side until it holds at least ``test_fraction`` of the clips (and on,
    group by group, while a class is missing from a side), and
    the first order with the fewest classes missing from either side, then the test share
    nearest ``test_fraction``, is kept. So every class is on both sides where the groups allow.

    Raises `ValueError` for fewer than two groups, or a class too small to split.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    labels = np.asarray(clips.labels)
    if group_pattern is None:
        return _stratified(labels, test_fraction, rng)
    groups = np.asarray([group_of(p, group_pattern) for p in clips.paths])
    names = np.unique(groups)
    if len(names) < 2:
        raise ValueError(f"{len(names)} group(s) in the clips; a group split needs at least 2")
    classes = np.unique(labels)
    members = {g: groups == g for g in names}
    best_key, best_mask = None, None
    for _ in range(tries):
        mask = np.zeros(len(labels), dtype=bool)
        for g in rng.permutation(names)[:-1]:  # at least one group stays for training
            mask = mask | members[g]
            if mask.sum() < test_fraction * len(labels):
                continue
            missing = len(np.setdiff1d(classes, labels[mask])) + len(
                np.setdiff1d(classes, labels[~mask])
            )
            key = (missing, abs(mask.mean() - test_fraction))
            if best_key is None or key < best_key:
                best_key, best_mask = key, mask
            if missing == 0:  # more groups would only move the share away from test_fraction
                break
    return np.flatnonzero(~best_mask), np.flatnonzero(best_mask)


def drums_root(data_dir: str | Path | None = None) -> tuple[Path, str]:
    """The drum-hits folder and what chose it: ``data_dir`` (the ``--data-dir`` flag), else
    ``$PHASOR_DATA/drums``, else the default ``~/.cache/phasor/drums``.

    Returns ``(folder, chosen_by)``, ``chosen_by`` one of ``"--data-dir"``,
    ``"$PHASOR_DATA"``, ``"default"``.
    """
    root = resolve_data_dir("drums", data_dir)
    if data_dir is not None:
        return root, "--data-dir"
    return root, f"${ENV_VAR}" if os.environ.get(ENV_VAR) else "default"
