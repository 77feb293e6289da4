import gzip

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from phasor.data.idx import DataError, read_idx, write_idx


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip(tmp_path, suffix):
    array = np.random.default_rng(0).integers(0, 256, size=(7, 5, 3), dtype=np.uint8)
    path = tmp_path / f"images-idx3-ubyte{suffix}"
    write_idx(path, array)
    np.testing.assert_array_equal(read_idx(path), array)


def test_header_matches_reference_layout(tmp_path):
    # The IDX header written by hand, as the format's specification states it.
    labels = np.array([3, 1, 4], dtype=np.uint8)
    path = tmp_path / "labels"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3]) + labels.tobytes())
    np.testing.assert_array_equal(read_idx(path), labels)


def test_truncated_file_names_file(tmp_path):
    path = tmp_path / "images"
    write_idx(path, np.zeros((4, 2, 2), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(DataError, match=r"images: truncated"):
        read_idx(path)


def test_trailing_bytes_rejected(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.zeros(4, dtype=np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(DataError, match="trailing bytes"):
        read_idx(path)


def test_bad_magic_and_broken_gzip(tmp_path):
    path = tmp_path / "junk"
    path.write_bytes(b"hello world")
    with pytest.raises(DataError, match="bad magic"):
        read_idx(path)
    gz = tmp_path / "junk.gz"
    gz.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x02ab")[:-6])
    with pytest.raises(DataError, match=r"junk\.gz: not a valid gzip"):
        read_idx(gz)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_idx(tmp_path / "nope")


@given(
    shape=st.lists(st.integers(0, 5), min_size=1, max_size=3),
    cut=st.integers(1, 50),
    gz=st.booleans(),
)
def test_fuzz_round_trip_and_any_truncation_is_caught(tmp_path_factory, shape, cut, gz):
    directory = tmp_path_factory.mktemp("fuzz")
    array = np.arange(int(np.prod(shape)), dtype=np.uint8).reshape(shape)
    path = directory / ("a.gz" if gz else "a")
    write_idx(path, array)
    np.testing.assert_array_equal(read_idx(path), array)
    plain = directory / "b"
    write_idx(plain, array)
    data = plain.read_bytes()
    plain.write_bytes(data[: max(0, len(data) - cut)])  # cut anywhere, header included
    with pytest.raises(DataError):
        read_idx(plain)
