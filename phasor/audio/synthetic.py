"""Deterministic synthetic music-genre clips built from oscillators (the embedded default).

GTZAN cannot be downloaded here, so the audio studies default to two generated data sets:

``synthetic`` (`synthetic_genres`)
    Ten "genres" that differ in timbre (harmonic recipes), rhythm (gating at a tempo) and
    harmony (chords, arpeggios, inharmonic partials); every clip draws its own pitch, tempo,
    partial phases, gain and noise level, so no two clips are equal.
``synthetic-phase`` (`synthetic_phase_pairs`)
    Two classes with *equal magnitude spectrograms* that differ only in phase: a sum of partials
    in cosine phase (class 0) and the same partials in sine phase (class 1, the Hilbert
    transform of class 0). Every partial completes a whole number of cycles per hop and lies on
    a DFT bin, so with the generator's frame grid (``n_fft`` a multiple of ``hop_length``) and
    a periodic Hann, Hamming or rectangular window, each frame's spectrum of class 1 is exactly
    ``-i`` times that of class 0: magnitudes agree to float rounding, real MFCCs cannot tell
    the classes apart, and the phase of every band is shifted by ``-pi/2``.

Each clip is generated from its own random stream ``numpy.random.default_rng([seed, class,
index])``, so a clip does not depend on how many others are generated.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["GENRES", "PHASE_CLASSES", "synthetic_genres", "synthetic_phase_pairs"]

GENRES = (
    "drone",
    "pulse",
    "major",
    "minor",
    "clarinet",
    "drums",
    "arpeggio",
    "vibrato",
    "bass-beat",
    "bell",
)
"""The synthetic genres' names, in label order."""
PHASE_CLASSES = ("cosine-phase", "sine-phase")
"""The two classes of the phase-only pairs (same magnitude spectrum, different phase)."""

_MAJOR = (1.0, 5 / 4, 3 / 2)
_MINOR = (1.0, 6 / 5, 3 / 2)
_BELL = (1.0, 2.76, 5.40, 8.93)


def _tone(t, f0, ratios, amps, rng, freq_mod=None):
    """Sum of partials ``a_k cos(2 pi f0 r_k t + theta_k)`` with random phases, below Nyquist."""
    out = np.zeros_like(t)
    for r, a in zip(ratios, amps, strict=True):
        phase = rng.uniform(0, 2 * math.pi)
        inst = 2 * math.pi * f0 * r * (t if freq_mod is None else freq_mod)
        out += a * np.cos(inst + phase)
    return out


def _beats(t, tempo, decay, rng):
    """Percussive envelope: an exponential decay restarted on every beat, random offset."""
    offset = rng.uniform(0, 1 / tempo)
    since = np.mod(t - offset, 1 / tempo)
    return np.exp(-since / decay)


def _harmonics(n, odd_only=False):
    ks = np.arange(1, 2 * n, 2) if odd_only else np.arange(1, n + 1)
    return ks.astype(float), 1.0 / ks


def _genre_clip(genre: int, rng: np.random.Generator, sample_rate: int, n_samples: int):
    t = np.arange(n_samples) / sample_rate
    f0 = float(np.exp(rng.uniform(math.log(110), math.log(330))))
    tempo = rng.uniform(2.0, 4.0)
    name = GENRES[genre]
    if name in ("drone", "pulse"):
        ks, amps = _harmonics(8)
        x = _tone(t, f0, ks, amps, rng)
        if name == "pulse":
            x *= _beats(t, tempo, 0.08, rng)
    elif name in ("major", "minor"):
        chord = _MAJOR if name == "major" else _MINOR
        x = sum(_tone(t, f0 * c, (1, 2, 3), (1, 0.5, 0.25), rng) for c in chord)
    elif name == "clarinet":
        ks, amps = _harmonics(5, odd_only=True)
        x = _tone(t, f0, ks, amps, rng)
    elif name == "drums":
        x = rng.standard_normal(n_samples) * _beats(t, tempo, 0.03, rng)
    elif name == "arpeggio":
        note = np.floor(t * tempo * 2).astype(int) % 3
        x = np.zeros(n_samples)
        for i, c in enumerate(_MAJOR):
            x += (note == i) * _tone(t, f0 * c, (1, 2), (1, 0.3), rng)
    elif name == "vibrato":
        rate, depth = rng.uniform(5, 7), rng.uniform(0.02, 0.04)
        mod = t + depth / (2 * math.pi * rate) * np.sin(2 * math.pi * rate * t)
        ks, amps = _harmonics(6)
        x = _tone(t, f0, ks, amps, rng, freq_mod=mod)
    elif name == "bass-beat":
        ks, amps = _harmonics(4)
        x = _tone(t, f0 / 3, ks, amps, rng)
        x = x / np.abs(x).max() + rng.standard_normal(n_samples) * _beats(t, tempo, 0.03, rng)
    else:  # bell
        onset = rng.uniform(0, 0.3 * t[-1])
        env = np.where(t >= onset, np.exp(-(t - onset) / rng.uniform(0.2, 0.5)), 0.0)
        x = _tone(t, f0 * 2, _BELL, (1, 0.6, 0.4, 0.25), rng) * env
    x = x / (np.sqrt(np.mean(x**2)) + 1e-12)
    snr_db = rng.uniform(15, 30)
    x = x + rng.standard_normal(n_samples) * 10 ** (-snr_db / 20)
    return (0.1 * rng.uniform(0.5, 1.5) * x).astype(np.float32)


def synthetic_genres(
    n_per_class: int,
    seed: int = 0,
    num_classes: int = len(GENRES),
    sample_rate: int = 8000,
    n_samples: int = 8192,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n_per_class`` clips of each of the first ``num_classes`` `GENRES`.

    Returns ``(audio, labels)``: ``audio`` float32 of shape ``(num_classes * n_per_class,
    n_samples)`` (RMS about 0.1), ``labels`` int64 in class-major order.
    """
    if not 2 <= num_classes <= len(GENRES):
        raise ValueError(f"num_classes must be in [2, {len(GENRES)}], got {num_classes}")
    if n_per_class < 1:
        raise ValueError(f"n_per_class must be positive, got {n_per_class}")
    clips, labels = [], []
    for genre in range(num_classes):
        for index in range(n_per_class):
            rng = np.random.default_rng([seed, genre, index])
            clips.append(_genre_clip(genre, rng, sample_rate, n_samples))
            labels.append(genre)
    return np.stack(clips), np.asarray(labels, dtype=np.int64)


def synthetic_phase_pairs(
    n_pairs: int,
    seed: int = 0,
    sample_rate: int = 8000,
    n_samples: int = 8192,
    hop_length: int = 128,
    max_partials: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n_pairs`` clips of each phase class, pair ``i`` sharing all its parameters.

    Clip ``i`` of class 0 is ``sum_k a_k cos(2 pi f_k t)`` and clip ``i`` of class 1 is
    ``sum_k a_k sin(2 pi f_k t)``, with 2 to ``max_partials`` partials at distinct multiples
    ``f_k = j_k * sample_rate / hop_length`` (``j_k >= 2`` and ``f_k <= 0.4 * sample_rate``)
    and log-uniform amplitudes. Returns ``(audio, labels)``: ``audio`` float32 of shape
    ``(2 * n_pairs, n_samples)`` with the pairs at rows ``i`` and ``n_pairs + i``.
    """
    if n_pairs < 1:
        raise ValueError(f"n_pairs must be positive, got {n_pairs}")
    base = sample_rate / hop_length
    top = int(0.4 * sample_rate / base)
    if top < 2 + max_partials:
        raise ValueError(
            f"hop_length={hop_length} leaves too few frame-synchronous partials below "
            f"0.4 * sample_rate; use a larger hop_length"
        )
    t = np.arange(n_samples) / sample_rate
    pairs = []
    for index in range(n_pairs):
        rng = np.random.default_rng([seed, 1_000_003, index])
        count = int(rng.integers(max_partials // 4, max_partials + 1))
        freqs = base * rng.choice(np.arange(2, top + 1), size=count, replace=False)
        amps = np.exp(rng.uniform(math.log(0.2), 0.0, size=count))
        arg = 2 * math.pi * freqs[:, None] * t[None, :]
        scale = 0.1 / math.sqrt(0.5 * float(np.sum(amps**2)))
        pairs.append((scale * (amps @ np.cos(arg)), scale * (amps @ np.sin(arg))))
    audio = np.stack([p[0] for p in pairs] + [p[1] for p in pairs]).astype(np.float32)
    labels = np.repeat(np.arange(2, dtype=np.int64), n_pairs)
    return audio, labels
