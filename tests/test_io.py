import csv
import json
import math

import numpy as np
import pytest
import torch

from phasor.io import to_jsonable, write_csv, write_json


def test_json_converts_tensors_arrays_and_non_finite(tmp_path):
    path = write_json(
        tmp_path / "r.json",
        {"t": torch.tensor([1.5, math.nan]), "a": np.arange(2), "s": np.float32(2.5), "z": 1 + 2j},
    )
    loaded = json.loads(path.read_text())
    assert loaded == {"t": [1.5, None], "a": [0, 1], "s": 2.5, "z": {"real": 1.0, "imag": 2.0}}


def test_json_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    write_json(path, {"ok": 1})

    def boom(*args, **kwargs):
        raise RuntimeError("crash mid-write")

    monkeypatch.setattr(json, "dumps", boom)
    with pytest.raises(RuntimeError):
        write_json(path, {"ok": 2})
    assert json.loads(path.read_text()) == {"ok": 1}
    assert list(tmp_path.iterdir()) == [path]


def test_csv_union_of_keys(tmp_path):
    path = write_csv(tmp_path / "c.csv", [{"a": 1, "b": 2.0}, {"a": 3, "c": "x"}])
    rows = list(csv.DictReader(path.open()))
    assert rows == [{"a": "1", "b": "2.0", "c": ""}, {"a": "3", "b": "", "c": "x"}]


def test_to_jsonable_nested():
    assert to_jsonable({"x": (np.int64(3), [float("inf")])}) == {"x": [3, [None]]}


def test_files_get_ordinary_permissions(tmp_path):
    import os
    import stat

    mask = os.umask(0o022)
    try:
        import importlib

        import phasor.io

        importlib.reload(phasor.io)
        json_path = phasor.io.write_json(tmp_path / "r.json", {"a": 1})
        csv_path = phasor.io.write_csv(tmp_path / "c.csv", [{"a": 1}])
    finally:
        os.umask(mask)
    for path in (json_path, csv_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # readable by others, like a PNG
