import json

import pytest

from phasor import cli, experiments


@pytest.fixture
def toy_study():
    calls = []

    def add_arguments(parser):
        parser.add_argument("--size", type=int, default=3)

    def run(args):
        calls.append(args)
        (args.out / "curve.csv").write_text("step,value\n0,1\n")
        return {"value": args.size * 2}

    study = experiments.register(
        "toy-test", help="a toy study", add_arguments=add_arguments, run=run
    )
    yield study, calls
    experiments._REGISTRY.pop("toy-test")


def test_list_shows_registered(toy_study, capsys):
    assert cli.main(["list"]) == 0
    assert "toy-test" in capsys.readouterr().out


def test_run_writes_results_with_config(toy_study, tmp_path):
    out = tmp_path / "run"
    assert cli.main(["run", "toy-test", "--out", str(out), "--size", "5", "--seed", "7"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["value"] == 10
    assert results["config"]["size"] == 5 and results["config"]["seed"] == 7
    assert results["study"] == "toy-test" and "torch_version" in results


def test_unknown_study_and_help(toy_study, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "no-such-study"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "toy-test", "--help"])
    assert exit_info.value.code == 0
    assert "--size" in capsys.readouterr().out


def test_duplicate_registration_rejected(toy_study):
    with pytest.raises(ValueError, match="already registered"):
        experiments.register("toy-test", help="x", add_arguments=lambda p: None, run=lambda a: {})


def test_missing_data_is_one_clear_line(tmp_path, capsys):
    def run(args):
        from phasor.data import load_images

        load_images("mnist", data_dir=tmp_path / "empty")
        return {}

    experiments.register("needs-data-test", help="x", add_arguments=lambda p: None, run=run)
    try:
        assert cli.main(["run", "needs-data-test", "--out", str(tmp_path / "o")]) == 2
    finally:
        experiments._REGISTRY.pop("needs-data-test")
    err = capsys.readouterr().err
    assert err.startswith("phasor: error:") and "not found" in err


def test_diverged_training_is_one_clear_line(tmp_path, capsys):
    from phasor.train import TrainingError

    def run(args):
        raise TrainingError("epoch 1, batch 3: loss is nan; last good checkpoint kept at X")

    experiments.register("diverges-test", help="x", add_arguments=lambda p: None, run=run)
    try:
        assert cli.main(["run", "diverges-test", "--out", str(tmp_path / "o")]) == 2
    finally:
        experiments._REGISTRY.pop("diverges-test")
    assert "loss is nan" in capsys.readouterr().err


def test_download_command_fetches_and_verifies(monkeypatch, tmp_path, capsys):
    import dataclasses
    import hashlib

    import numpy as np

    from phasor.data import datasets
    from phasor.data.idx import write_idx

    source = tmp_path / "mirror"
    source.mkdir()
    sums = {}
    for name in datasets.DATASETS["mnist"].files:
        write_idx(source / name, np.zeros((2, 28, 28) if "images" in name else 2, np.uint8))
        sums[name] = hashlib.sha256((source / name).read_bytes()).hexdigest()
        write_idx(source / f"{name}.gz", np.zeros((2, 28, 28) if "images" in name else 2, np.uint8))
    spec = dataclasses.replace(
        datasets.DATASETS["mnist"], files=sums, mirrors=(source.as_uri() + "/",)
    )
    monkeypatch.setitem(datasets.DATASETS, "mnist", spec)
    target = tmp_path / "data"
    assert cli.main(["download", "mnist", "--data-dir", str(target)]) == 0
    assert len(list(target.glob("*.gz"))) == 4
    assert "verified" in capsys.readouterr().out
    # A mirror serving the wrong bytes: one clear line, nothing half-written.
    monkeypatch.setitem(
        datasets.DATASETS, "mnist", dataclasses.replace(spec, files=dict.fromkeys(sums, "0" * 64))
    )
    assert cli.main(["download", "mnist", "--data-dir", str(tmp_path / "other")]) == 2
    assert "does not match" in capsys.readouterr().err
    assert list((tmp_path / "other").iterdir()) == []
