import math

import numpy as np
import pytest
import soundfile
import torch

from phasor.audio import load_audio, read_wav, scan_gtzan
from phasor.data import DataError


def _tone(freq, sr, seconds, channels=1):
    t = np.arange(int(sr * seconds)) / sr
    x = 0.3 * np.sin(2 * math.pi * freq * t)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


@pytest.fixture
def gtzan(tmp_path):
    root = tmp_path / "gtzan"
    for g, genre in enumerate(("blues", "classical")):
        (root / genre).mkdir(parents=True)
        for i in range(4):
            soundfile.write(
                root / genre / f"{genre}.{i:05d}.wav", _tone(200 + 100 * g + i, 22050, 0.5), 22050
            )
    soundfile.write(root / "blues" / "blues.00010.wav", _tone(300, 11025, 0.5, channels=2), 11025)
    soundfile.write(root / "blues" / "blues.00011.wav", np.zeros(0), 22050)  # empty
    (root / "classical" / "classical.00012.wav").write_bytes(b"RIFF\x00\x01garbage" * 10)
    return root


def test_read_wav_resamples_and_mixes_down(gtzan):
    x = read_wav(gtzan / "blues" / "blues.00010.wav", 22050)
    assert x.dtype == np.float32 and x.ndim == 1
    assert abs(len(x) - 11025) <= 1
    spectrum = np.abs(np.fft.rfft(x))
    assert abs(np.argmax(spectrum) * 22050 / len(x) - 300) < 3


def test_scan_reports_and_skips_bad_files(gtzan):
    with pytest.warns(UserWarning, match=r"blues\.00011\.wav"):
        clips = scan_gtzan(gtzan, duration=0.25, genres=("blues", "classical"))
    names = sorted(p.name for p, _ in clips.skipped)
    assert names == ["blues.00011.wav", "classical.00012.wav"]
    assert "no samples" in dict((p.name, r) for p, r in clips.skipped)["blues.00011.wav"]
    assert clips.audio.shape == (9, round(0.25 * 22050))
    assert clips.labels.tolist() == [0] * 5 + [1] * 4
    assert all("00011" not in p.name and "00012" not in p.name for p in clips.files)


def test_scan_can_reject_bad_files(gtzan):
    with pytest.raises(DataError, match=r"blues\.00011\.wav"):
        scan_gtzan(gtzan, duration=0.25, genres=("blues",), on_error="raise")
    with pytest.raises(DataError, match=r"classical\.00012\.wav"):
        scan_gtzan(gtzan, duration=0.25, genres=("classical",), on_error="raise")


def test_short_clips_are_zero_padded(gtzan):
    clips = scan_gtzan(gtzan, duration=1.0, genres=("classical",), max_per_class=2)
    assert clips.audio.shape == (2, 22050)
    assert np.all(clips.audio[:, 11025:] == 0) and np.any(clips.audio[:, :11025] != 0)


def test_missing_data_is_a_clear_error(tmp_path, gtzan):
    with pytest.raises(DataError, match="--data-dir"):
        scan_gtzan(tmp_path / "nowhere")
    with pytest.raises(DataError, match="rock"):
        scan_gtzan(gtzan, genres=("blues", "rock"))


def test_load_audio_gtzan_split_is_seeded_and_stratified(gtzan, monkeypatch):
    monkeypatch.setenv("PHASOR_DATA", str(gtzan.parent))
    kw = {"num_classes": 2, "duration": 0.25, "test_fraction": 0.25}
    with pytest.warns(UserWarning):
        a = load_audio("gtzan", seed=0, **kw)
    with pytest.warns(UserWarning):
        b = load_audio("gtzan", data_dir=gtzan, seed=0, **kw)
    with pytest.warns(UserWarning):
        c = load_audio("gtzan", seed=5, **kw)
    torch.testing.assert_close(a.test_audio, b.test_audio)
    assert a.classes == ("blues", "classical") and a.sample_rate == 22050
    assert len(a.skipped) == 2
    assert sorted(a.test_labels.tolist()) == [0, 1]
    assert len(a.train_labels) + len(a.test_labels) == 9
    splits = [torch.cat([s.train_audio, s.test_audio]).sum(1).sort().values for s in (a, c)]
    torch.testing.assert_close(splits[0], splits[1])  # same clips, ...
    assert not torch.equal(a.test_audio, c.test_audio)  # ... another split


def test_missing_folder_says_what_chose_it(tmp_path, monkeypatch):
    monkeypatch.delenv("PHASOR_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(DataError, match="the default chose it"):
        load_audio("gtzan")
    monkeypatch.setenv("PHASOR_DATA", str(tmp_path / "root"))
    with pytest.raises(DataError, match=r"\$PHASOR_DATA chose it.*root/gtzan"):
        load_audio("gtzan")
    with pytest.raises(DataError, match="--data-dir chose it"):
        load_audio("gtzan", data_dir=tmp_path / "elsewhere")


def test_a_genre_with_one_readable_clip_is_named(gtzan):
    for i in range(1, 4):  # left in classical/: one good file and one that cannot be read
        (gtzan / "classical" / f"classical.{i:05d}.wav").unlink()
    with pytest.warns(UserWarning), pytest.raises(DataError, match=r"too few in classical \(1\)"):
        load_audio("gtzan", data_dir=gtzan, num_classes=2, duration=0.25)
