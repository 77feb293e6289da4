"""The GTZAN music-genre layout: ``<root>/<genre>/<clip>.wav``, 10 genres, 22,050 Hz, 30 s.

A thin layer over `phasor.audio.folders` (the class-folder reader) with GTZAN's genre
names and its advice on where the folder should be. GTZAN cannot be downloaded by phasor;
point ``--data-dir`` (or ``$PHASOR_DATA/gtzan/``) at an existing copy (`gtzan_root` says
which of the two, or the default, chose the folder). WAV files are read with ``soundfile``
(libsndfile), stereo is averaged to mono, other sample rates are resampled with `scipy.signal.resample_poly`, and every
clip is cut (or zero-padded) to the same length. A file that cannot be read, or holds no
samples, is never used silently: with ``on_error="skip"`` it is listed by name in
`GTZANClips.skipped` (and a warning names it); with ``on_error="raise"`` it raises
[`phasor.data.DataError`][phasor.data.idx.DataError]. (The common GTZAN copy has one such file,
``jazz.00054.wav``.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from phasor.audio.folders import _scan, read_wav
from phasor.data import DataError, resolve_data_dir
from phasor.data.datasets import ENV_VAR

__all__ = ["GTZAN_GENRES", "GTZANClips", "gtzan_root", "read_wav", "scan_gtzan"]

GTZAN_GENRES = (
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
)
"""GTZAN's ten genre folders, in label order."""


@dataclass
class GTZANClips:
    """Clips read from a GTZAN-layout folder.

    ``audio`` float32 ``(N, T)``; ``labels`` int64 ``(N,)`` indexing ``classes``; ``files`` the
    path of every row; ``skipped`` ``(path, reason)`` for every file left out.
    """

    audio: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    sample_rate: int
    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def gtzan_root(data_dir: str | Path | None = None) -> tuple[Path, str]:
    """The GTZAN folder and what chose it: ``data_dir`` (the ``--data-dir`` flag), else
    ``$PHASOR_DATA/gtzan``, else the default ``~/.cache/phasor/gtzan``.

    Returns ``(folder, chosen_by)``, ``chosen_by`` one of ``"--data-dir"``,
    ``"$PHASOR_DATA"``, ``"default"`` (as `scan_gtzan` takes it).
    """
    root = resolve_data_dir("gtzan", data_dir)
    if data_dir is not None:
        return root, "--data-dir"
    return root, f"${ENV_VAR}" if os.environ.get(ENV_VAR) else "default"


def _where_to_put(root: Path, chosen_by: str | None) -> str:
    """What to do when ``root``, chosen by ``chosen_by``, holds no usable GTZAN copy."""
    layout = "one sub-folder per genre (blues/, classical/, ...) of .wav files"
    if chosen_by == "--data-dir":
        return f"--data-dir chose it: it must name the GTZAN folder itself, with {layout}"
    if chosen_by == f"${ENV_VAR}":
        return (
            f"${ENV_VAR} chose it: it is a data root with one folder per data set, so put "
            f"GTZAN's genre folders in {root}, or pass --data-dir FOLDER with {layout}"
        )
    if chosen_by == "default":
        return (
            f"the default chose it (no --data-dir, ${ENV_VAR} unset): pass --data-dir FOLDER "
            f"with {layout}, or set ${ENV_VAR} to a data root holding a gtzan/ folder"
        )
    return f"pass --data-dir FOLDER with {layout}, or set ${ENV_VAR} to a data root"


def scan_gtzan(
    root: str | Path,
    sample_rate: int = 22050,
    duration: float = 30.0,
    genres: tuple[str, ...] | None = None,
    max_per_class: int | None = None,
    on_error: str = "skip",
    chosen_by: str | None = None,
) -> GTZANClips:
    """Read every ``<root>/<genre>/*.wav`` (sorted) for the given genres (default: all ten).

    Each clip is cut or zero-padded to ``round(duration * sample_rate)`` samples;
    ``max_per_class`` keeps the first files of each genre (sorted by name). ``chosen_by``
    (from `gtzan_root`) says in the error for a missing or incomplete folder which of
    ``--data-dir``, ``$PHASOR_DATA`` or the default chose ``root``.
    """
    if on_error not in ("skip", "raise"):
        raise ValueError(f"on_error must be 'skip' or 'raise', got {on_error!r}")
    root = Path(root)
    if not root.is_dir():
        raise DataError(
            f"GTZAN folder {root} not found; {_where_to_put(root, chosen_by)} "
            "(GTZAN cannot be fetched by `phasor download`)"
        )
    genres = GTZAN_GENRES if genres is None else tuple(genres)
    missing = [g for g in genres if not (root / g).is_dir()]
    if missing:
        raise DataError(
            f"GTZAN folder {root} lacks the genre folder(s) {', '.join(missing)}; "
            + _where_to_put(root, chosen_by)
        )
    clips, skipped = _scan(
        root,
        genres,
        sample_rate,
        round(duration * sample_rate),
        on_error,
        "*.wav",
        max_per_class,
    )
    return GTZANClips(
        clips.audio,
        clips.labels,
        genres,
        sample_rate,
        [root / p for p in clips.paths],
        skipped,
    )
