import numpy as np
import pytest
import torch

from phasor.audio import (
    GENRES,
    complex_mfcc,
    mfcc,
    stft,
    synthetic_genres,
    synthetic_phase_pairs,
)


def test_genres_are_deterministic_and_per_clip():
    a, la = synthetic_genres(2, seed=3, num_classes=4)
    b, _ = synthetic_genres(2, seed=3, num_classes=4)
    c, _ = synthetic_genres(3, seed=3, num_classes=4)
    d, _ = synthetic_genres(2, seed=4, num_classes=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:2], c[:2])  # a clip does not depend on the count
    assert not np.allclose(a, d)
    assert a.shape == (8, 8192) and a.dtype == np.float32
    assert la.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert np.all(np.isfinite(a))
    rms = np.sqrt((a**2).mean(axis=1))
    assert np.all((rms > 0.03) & (rms < 0.3))


def test_all_ten_genres_are_told_apart_by_mfcc_statistics():
    audio, labels = synthetic_genres(12, seed=0)
    f = mfcc(torch.from_numpy(audio), 8000, n_fft=256, hop_length=128)
    feats = torch.cat([f.mean(1), f.std(1)], 1).numpy()
    feats = (feats - feats.mean(0)) / feats.std(0)
    centroids = np.stack([feats[labels == g][:8].mean(0) for g in range(len(GENRES))])
    held_out = np.concatenate([feats[labels == g][8:] for g in range(len(GENRES))])
    truth = np.repeat(np.arange(len(GENRES)), 4)
    pred = ((held_out[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
    assert (pred == truth).mean() > 0.5  # nearest centroid from 8 clips; chance is 0.1


def test_phase_pairs_share_magnitudes_and_differ_in_phase():
    audio, labels = synthetic_phase_pairs(6, seed=1)
    assert labels.tolist() == [0] * 6 + [1] * 6
    x = torch.from_numpy(audio).double()
    s0, s1 = stft(x[:6], 256, 128), stft(x[6:], 256, 128)
    scale = float(s0.abs().max())
    assert float((s0.abs() - s1.abs()).abs().max()) < 1e-5 * scale
    assert float((s1 + 1j * s0).abs().max()) < 1e-5 * scale  # class 1 = -i * class 0
    m0, m1 = (
        mfcc(x[:6], 8000, n_fft=256, hop_length=128),
        mfcc(x[6:], 8000, n_fft=256, hop_length=128),
    )
    torch.testing.assert_close(m0, m1, atol=1e-4, rtol=1e-5)
    c0 = complex_mfcc(x[:6], 8000, n_fft=256, hop_length=128)
    c1 = complex_mfcc(x[6:], 8000, n_fft=256, hop_length=128)
    assert float((c0.imag - c1.imag).abs().mean()) > 0.5
    assert not np.allclose(audio[:6], audio[6:])


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_classes"):
        synthetic_genres(2, num_classes=11)
    with pytest.raises(ValueError, match="n_pairs"):
        synthetic_phase_pairs(0)
    with pytest.raises(ValueError, match="hop_length"):
        synthetic_phase_pairs(2, hop_length=8)
