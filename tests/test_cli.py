import json
import os
import re

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


# --- The common command line of every study -------------------------------------------------

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from phasor.experiments._flags import FlagError, NumberType  # noqa: E402

STUDIES = sorted(experiments.available())
COMMON_FLAGS = ("--out", "--seed", "--threads", "--progress", "--resume")


def _study_parser(name: str) -> argparse.ArgumentParser:
    parser = cli.build_parser()
    run = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    studies = next(
        a for a in run.choices["run"]._actions if isinstance(a, argparse._SubParsersAction)
    )
    return studies.choices[name]


def _flags(parser: argparse.ArgumentParser):
    return [
        a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)
    ]


@pytest.mark.parametrize("name", STUDIES)
def test_every_study_has_the_common_flags_and_helps_every_flag(name):
    parser = _study_parser(name)
    options = {s for a in _flags(parser) for s in a.option_strings}
    assert set(COMMON_FLAGS) <= options
    assert [a.dest for a in _flags(parser) if not (a.help or "").strip()] == []
    text = parser.format_help()
    assert not re.search(r":(math|func|class|mod|meth|attr):|``|`\]\[|\(default: None\)", text), (
        text
    )
    assert not re.search(r"\(default \S+\) \(default", text)


@pytest.mark.parametrize("name", STUDIES)
def test_every_numeric_flag_states_its_range(name):
    # A bare int/float type accepts 0, -1 or nan silently: every number needs a NumberType.
    bare = [a.dest for a in _flags(_study_parser(name)) if a.type in (int, float)]
    assert bare == []


def _bad_value(kind: NumberType) -> str:
    if kind.minimum is not None:
        return str(kind.minimum if kind.open_min else kind.minimum - 1)
    if kind.maximum is not None:
        return str(kind.maximum if kind.open_max else kind.maximum + 1)
    return "nan"


def _numeric_flags():
    for name in STUDIES:
        for action in _flags(_study_parser(name)):
            if isinstance(action.type, NumberType):
                yield pytest.param(name, action, id=f"{name}{action.option_strings[-1]}")


@pytest.mark.parametrize(("name", "action"), list(_numeric_flags()))
def test_bad_numbers_stop_the_parser_before_any_work(name, action, tmp_path, capsys):
    out = tmp_path / "out"
    flag = action.option_strings[-1]
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", name, "--out", str(out), flag, _bad_value(action.type)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"phasor: error: {flag} must be {action.type.describe()}" in err
    assert f"usage: phasor run {name}" in err
    assert not out.exists()


def test_number_types_accept_exactly_their_range():
    from phasor.experiments import _flags

    assert _flags.positive_int("3") == 3 and _flags.real(0, 1, open_max=True)("0") == 0.0
    for kind, bad in (
        (_flags.positive_int, "0"),
        (_flags.positive_int, "2.5"),
        (_flags.nonnegative_int, "-1"),
        (_flags.positive_float, "0"),
        (_flags.positive_float, "inf"),
        (_flags.nonnegative_float, "nan"),
        (_flags.real(0, 1, open_max=True), "1"),
        (_flags.integer(5), "4"),
    ):
        with pytest.raises(
            argparse.ArgumentTypeError, match=re.escape(f"must be {kind.describe()}")
        ):
            kind(bad)


def test_unknown_flag_shows_the_study_usage(toy_study, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", "toy-test", "--no-such-flag", "1"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "usage: phasor run toy-test" in err and "unrecognized arguments: --no-such-flag" in err


def test_out_naming_a_file_is_refused(toy_study, tmp_path, capsys):
    existing = tmp_path / "file.txt"
    existing.write_text("keep me")
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", "toy-test", "--out", str(existing)])
    assert stop.value.code == 2
    assert "phasor: error: --out must name a folder" in capsys.readouterr().err
    assert existing.read_text() == "keep me"


def _register(name, run, **kwargs):
    experiments.register(name, help="x", add_arguments=lambda p: None, run=run, **kwargs)


@pytest.mark.parametrize("checkpoints", [False, True])
def test_ctrl_c_prints_one_line_and_how_to_continue(tmp_path, capsys, checkpoints):
    def run(args):
        (args.out / "partial.csv").write_text("x\n")
        raise KeyboardInterrupt

    _register("interrupted-test", run, checkpoints=checkpoints)
    try:
        code = cli.main(["run", "interrupted-test", "--out", str(tmp_path / "o"), "--seed", "3"])
    finally:
        experiments._REGISTRY.pop("interrupted-test")
    assert code == 130
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phasor: interrupted")
    resume = f"phasor run interrupted-test --out {tmp_path / 'o'} --seed 3 --resume"
    assert (resume in lines[0]) is checkpoints


def test_failed_run_removes_the_empty_out_it_created(tmp_path):
    def run(args):
        (args.out / "sub").mkdir()
        raise FlagError("--size", "must be even, got 3")

    _register("fails-test", run)
    try:
        assert cli.main(["run", "fails-test", "--out", str(tmp_path / "new")]) == 2
        kept = tmp_path / "kept"
        kept.mkdir()
        assert cli.main(["run", "fails-test", "--out", str(kept)]) == 2
    finally:
        experiments._REGISTRY.pop("fails-test")
    assert not (tmp_path / "new").exists()
    assert kept.is_dir()  # a folder the user made is never removed


def test_check_hook_runs_before_the_out_folder_exists(tmp_path, capsys):
    def check(args):
        raise FlagError("--seed", "must be even for this study, got 1")

    _register("checked-test", lambda args: {}, check=check)
    try:
        assert cli.main(["run", "checked-test", "--out", str(tmp_path / "o"), "--seed", "1"]) == 2
    finally:
        experiments._REGISTRY.pop("checked-test")
    assert "phasor: error: --seed must be even" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_resume_without_checkpoints_skips_an_identical_run_and_refuses_another(
    toy_study, tmp_path, capsys
):
    _, calls = toy_study
    out = str(tmp_path / "run")
    assert cli.main(["run", "toy-test", "--out", out, "--size", "4"]) == 0
    assert (
        cli.main(["run", "toy-test", "--out", out, "--size", "4", "--resume", "--threads", "1"])
        == 0
    )
    assert len(calls) == 1  # nothing redone; --threads does not change results
    assert "nothing to redo" in capsys.readouterr().out
    assert cli.main(["run", "toy-test", "--out", out, "--size", "9", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "size: 4 in the saved run, 9 now" in err and len(calls) == 1
    assert json.loads((tmp_path / "run" / "results.json").read_text())["value"] == 8


def test_threads_flag_sets_torch_threads_and_is_recorded(toy_study, tmp_path):
    import torch

    before = torch.get_num_threads()
    try:
        assert cli.main(["run", "toy-test", "--out", str(tmp_path / "r"), "--threads", "2"]) == 0
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    config = json.loads((tmp_path / "r" / "results.json").read_text())["config"]
    assert config["threads"] == 2 and config["progress"] is False


def test_default_threads_follow_affinity_and_omp_num_threads(monkeypatch):
    from phasor import _threads

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(_threads, "available_cores", lambda: 64)
    assert _threads.default_threads() == _threads.MAX_DEFAULT_THREADS
    monkeypatch.setattr(_threads, "available_cores", lambda: 1)
    assert _threads.default_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _threads.default_threads() == 3


def test_command_sets_passive_waiting_before_torch_loads():
    # OpenMP reads OMP_WAIT_POLICY once, when torch loads it: importing the command must not
    # load torch, and main() must set the policy (unless the user set one) before it does.
    code = (
        "import os, sys\n"
        "from phasor import cli\n"
        "assert 'torch' not in sys.modules, 'importing phasor.cli loaded torch'\n"
        "cli.main(['list'])\n"
        "assert 'torch' in sys.modules\n"
        "print(os.environ['OMP_WAIT_POLICY'], sys.stdout.line_buffering)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "PASSIVE True"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "OMP_WAIT_POLICY": "ACTIVE"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip().splitlines()[-1] == "ACTIVE True"


def test_help_text_is_plain():
    text = "$e^{i\\theta}$ via [`Linear`][phasor.nn.linear.Linear], ``x`` and `y`"
    assert cli.plain_text(text) == "e^{i\\theta} via Linear, x and y"
    env = "$PHASOR_DATA/mnist, else $HOME/data"  # not a formula
    assert cli.plain_text(env) == env
