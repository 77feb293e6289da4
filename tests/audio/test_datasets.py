import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phasor.audio import load_audio, stratified_split


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=4, max_size=60), st.integers(0, 100))
def test_stratified_split_is_a_seeded_partition(labels, seed):
    labels = np.asarray(labels)
    counts = np.bincount(labels)
    if counts[counts > 0].min() < 2:
        with pytest.raises(ValueError, match="too few"):
            stratified_split(labels, 0.5, seed)
        return
    train, test = stratified_split(labels, 0.25, seed)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(len(labels)))
    assert set(labels[test]) == set(labels)  # every class is tested
    again = stratified_split(labels, 0.25, seed)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])


def test_synthetic_phase_pairs_never_straddle_the_split():
    data = load_audio("synthetic-phase", clips_per_class=8, seed=2)
    assert data.classes == ("cosine-phase", "sine-phase")
    for audio, labels in (
        (data.train_audio, data.train_labels),
        (data.test_audio, data.test_labels),
    ):
        c, s = audio[labels == 0].double(), audio[labels == 1].double()
        assert len(c) == len(s)
        # the partner of every cosine clip is in the same split, in the same order
        for x, y in zip(c, s, strict=True):
            assert abs(float(x.square().sum() - y.square().sum())) < 1e-3 * float(x.square().sum())


def test_load_audio_synthetic_and_errors():
    data = load_audio("synthetic", clips_per_class=4, num_classes=3, seed=0)
    assert data.num_classes == 3 and data.sample_rate == 8000
    assert data.train_audio.shape[1] == round(1.024 * 8000)
    assert len(data.train_labels) == 9 and len(data.test_labels) == 3
    with pytest.raises(ValueError, match="unknown audio data set"):
        load_audio("esc50")
    with pytest.raises(ValueError, match="exactly 2"):
        load_audio("synthetic-phase", num_classes=4)
