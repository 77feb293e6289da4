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
