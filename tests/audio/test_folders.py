import math
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import example, given, settings
from hypothesis import strategies as st

from phasor.audio import ClassFolderClips, drums_root, group_of, group_split, scan_class_folders
from phasor.data import DataError

SR = 22050


def _tone(freq, sr, seconds, channels=1):
    t = np.arange(int(sr * seconds)) / sr
    x = 0.3 * np.sin(2 * math.pi * freq * t)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


@pytest.fixture
def drums(tmp_path):
    """A drums layout: 3 classes, 4 kits, every kit with every class, plus bad files."""
    root = tmp_path / "drums"
    for c, name in enumerate(("kick", "snare", "tom")):
        (root / name).mkdir(parents=True)
        for k in range(4):
            for layer in range(2):
                x = _tone(100 * (c + 1) + 10 * k + layer, SR, 0.1 + 0.05 * layer)
                soundfile.write(root / name / f"Kit{k}__{name.title()}__{layer}.wav", x, SR)
    # stereo at another rate, 0.2 s: mixed down and resampled to 0.2 s at 22,050 Hz
    soundfile.write(root / "tom" / "Kit0__Floor__9.wav", _tone(440, 11025, 0.2, 2), 11025)
    soundfile.write(root / "snare" / "Kit1__Snare__7.wav", np.zeros(0), SR)  # empty
    (root / "kick" / "Kit2__Kick__8.wav").write_bytes(b"RIFF\x00\x01garbage" * 10)  # corrupt
    (root / "kick" / "notes.txt").write_text("not a clip")
    return root


def test_scan_reads_mono_pads_to_the_longest_and_skips_bad_files(drums):
    with pytest.warns(UserWarning) as record:
        clips = scan_class_folders(drums)
    warned = sorted(
        Path(str(w.message).split(":")[0].removeprefix("skipping ")).name for w in record
    )
    assert warned == ["Kit1__Snare__7.wav", "Kit2__Kick__8.wav"]
    assert isinstance(clips, ClassFolderClips)
    assert clips.classes == ("kick", "snare", "tom") and clips.sample_rate == SR
    assert clips.audio.dtype == np.float32 and clips.labels.dtype == np.int64
    # longest clip: the 0.2 s stereo file at 11,025 Hz, resampled
    assert clips.audio.shape == (25, round(0.2 * SR))
    assert clips.labels.tolist() == [0] * 8 + [1] * 8 + [2] * 9
    assert all(
        not p.is_absolute() and p.parts[0] == clips.classes[y]
        for p, y in zip(clips.paths, clips.labels, strict=True)
    )
    assert sorted(s.split(":")[0] for s in clips.skipped) == [
        str(Path("kick/Kit2__Kick__8.wav")),
        str(Path("snare/Kit1__Snare__7.wav")),
    ]
    assert "no samples" in next(s for s in clips.skipped if "Snare__7" in s)
    # a 0.1 s clip is zero after its end; the resampled stereo file keeps its 440 Hz tone
    short = clips.paths.index(Path("kick/Kit0__Kick__0.wav"))
    assert np.all(clips.audio[short, round(0.1 * SR) :] == 0)
    stereo = clips.audio[clips.paths.index(Path("tom/Kit0__Floor__9.wav"))]
    peak = np.argmax(np.abs(np.fft.rfft(stereo))) * SR / len(stereo)
    assert abs(peak - 440) < 6 and 0.25 < np.abs(stereo).max() < 0.35


def test_scan_crops_from_the_start_and_chooses_classes_and_rate(drums):
    clips = scan_class_folders(drums, sample_rate=8000, clip_samples=400, classes=("tom",))
    assert clips.classes == ("tom",) and clips.audio.shape == (9, 400)
    # cropped from the start: the 300 Hz tone from phase 0 (away from the resampler's edge)
    n = np.arange(50, 350)
    np.testing.assert_allclose(
        clips.audio[clips.paths.index(Path("tom/Kit0__Tom__0.wav")), n],
        0.3 * np.sin(2 * math.pi * 300 * n / 8000),
        atol=0.02,
    )


def test_scan_raises_on_a_bad_file_when_asked(drums):
    with pytest.raises(DataError, match=r"Kit2__Kick__8\.wav"):
        scan_class_folders(drums, classes=("kick",), on_error="raise")
    with pytest.raises(DataError, match=r"Kit1__Snare__7\.wav.*no samples"):
        scan_class_folders(drums, classes=("snare",), on_error="raise")
    with pytest.raises(ValueError, match="on_error"):
        scan_class_folders(drums, on_error="ignore")


def test_scan_errors_name_the_folder(tmp_path, drums):
    with pytest.raises(DataError, match="not found"):
        scan_class_folders(tmp_path / "nowhere")
    with pytest.raises(DataError, match="cymbal"):
        scan_class_folders(drums, classes=("kick", "cymbal"))
    (tmp_path / "empty" / "clap").mkdir(parents=True)
    with pytest.raises(DataError, match=r"no readable \*\.wav files in .*clap"):
        scan_class_folders(tmp_path / "empty")


def test_group_of_reads_the_kit():
    assert group_of("snare/BJA-Pacific__Snare__3.wav") == "BJA-Pacific"
    assert group_of(Path("x/a__b__c__d.wav")) == "a"
    assert group_of("g7-take2.wav", r"^(g\d+)-") == "g7"
    with pytest.raises(ValueError, match=r"no_kit\.wav"):
        group_of("no_kit.wav")


def _clips(kits_per_class: dict[str, list[int]], per_kit: int = 3) -> ClassFolderClips:
    paths, labels = [], []
    for c, (name, kits) in enumerate(kits_per_class.items()):
        for k in kits:
            for layer in range(per_kit):
                paths.append(Path(name) / f"K{k}__{name}__{layer}.wav")
                labels.append(c)
    n = len(labels)
    return ClassFolderClips(
        np.zeros((n, 4), np.float32), np.asarray(labels), tuple(kits_per_class), paths, SR
    )


def test_group_split_keeps_kits_apart_and_covers_classes(drums):
    with pytest.warns(UserWarning):
        clips = scan_class_folders(drums)
    for seed in range(5):
        train, test = group_split(clips, 0.25, r"^(.+?)__", seed=seed)
        assert sorted([*train, *test]) == list(range(len(clips.labels)))
        kits = [{group_of(clips.paths[i]) for i in side} for side in (train, test)]
        assert not kits[0] & kits[1] and len(kits[1]) == 1  # one of four kits is a quarter
        assert set(clips.labels[train]) == set(clips.labels[test]) == {0, 1, 2}
    # a class that only two kits have: one of them goes to test, one stays for training
    clips = _clips({"kick": [0, 1, 2, 3, 4, 5], "clap": [4, 5]})
    for seed in range(10):
        train, test = group_split(clips, 0.25, r"^(.+?)__", seed=seed)
        assert {1} <= set(clips.labels[test]) and {1} <= set(clips.labels[train])
    assert len({tuple(group_split(clips, 0.25, r"^(.+?)__", seed=s)[1]) for s in range(10)}) > 1


def test_group_split_without_a_pattern_is_stratified():
    clips = _clips({"a": [0, 1], "b": [2, 3, 4, 5]}, per_kit=2)
    train, test = group_split(clips, 0.25, seed=1)
    assert np.bincount(clips.labels[test]).tolist() == [1, 2]
    assert sorted([*train, *test]) == list(range(12))
    with pytest.raises(ValueError, match="at least 2"):
        group_split(_clips({"a": [0]}), 0.25, r"^(.+?)__")
    with pytest.raises(ValueError, match="test_fraction"):
        group_split(clips, 1.0)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(0, 7), min_size=1, max_size=5, unique=True), min_size=2, max_size=4
    ),
    st.integers(0, 50),
    st.floats(0.1, 0.5),
)
# Found by Hypothesis: a small fraction is met by one kit, but only two kits cover every class.
@example([[0, 1], [0, 3], [1, 2]], 0, 0.125)
def test_group_split_is_a_seeded_partition_of_whole_groups(kits, seed, fraction):
    clips = _clips({f"c{i}": k for i, k in enumerate(kits)}, per_kit=2)
    groups = np.asarray([group_of(p) for p in clips.paths])
    if len(set(groups)) < 2:
        return
    train, test = group_split(clips, fraction, r"^(.+?)__", seed=seed)
    assert sorted([*train, *test]) == list(range(len(groups))) and len(train) and len(test)
    assert not set(groups[train]) & set(groups[test])
    again = group_split(clips, fraction, r"^(.+?)__", seed=seed)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    # every class on both sides whenever some choice of test kits allows it
    classes = set(clips.labels.tolist())
    names = sorted(set(groups))
    possible = False
    for bits in range(1, 2 ** len(names) - 1):
        chosen = {g for i, g in enumerate(names) if bits >> i & 1}
        mask = np.isin(groups, list(chosen))
        if set(clips.labels[mask]) == set(clips.labels[~mask]) == classes:
            possible = True
            break
    if possible:
        assert set(clips.labels[test]) == set(clips.labels[train]) == classes


def test_drums_root_says_what_chose_it(tmp_path, monkeypatch):
    monkeypatch.delenv("PHASOR_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert drums_root() == (tmp_path / "home" / ".cache" / "phasor" / "drums", "default")
    monkeypatch.setenv("PHASOR_DATA", str(tmp_path / "root"))
    assert drums_root() == (tmp_path / "root" / "drums", "$PHASOR_DATA")
    assert drums_root(tmp_path / "d") == (tmp_path / "d", "--data-dir")
