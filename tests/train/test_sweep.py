"""Sweeps: per-run folders, parallel workers, resume, shards, mean/std summary."""

from __future__ import annotations

import argparse
import csv
import json
import statistics

import pytest
from _train_helpers import failing_run, sweep_run

from phasor.train import TrainingError, run_sweep, summarize
from phasor.train.sweep import add_sweep_arguments, expand_grid, main, parse_shard, run_id

GRID = {"lr": [0.05, 0.2], "hidden": [4]}


def calls(out):
    return {p.parent.name: p.read_text().count("run") for p in (out / "runs").glob("*/calls.txt")}


def test_parallel_sweep_resume_and_summary(tmp_path):
    result = run_sweep(
        GRID, seeds=[0, 1], run_fn=sweep_run, out_dir=tmp_path, workers=2, progress=False
    )
    assert [r["status"] for r in result.runs] == ["done"] * 4
    assert [(r["config"]["lr"], r["seed"]) for r in result.runs] == [
        (0.05, 0),
        (0.05, 1),
        (0.2, 0),
        (0.2, 1),
    ]
    folders = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert folders == sorted(run_id(r["config"], r["seed"]) for r in result.runs)
    for r in result.runs:  # each run trained into its own folder
        assert (tmp_path / "runs" / r["run_id"] / "metrics.csv").is_file()
        saved = json.loads((tmp_path / "runs" / r["run_id"] / "result.json").read_text())
        assert saved["metrics"] == r["metrics"] and saved["seed"] == r["seed"]

    # the same run in this process gives the same numbers as the worker did
    again = sweep_run({"lr": 0.05, "hidden": 4}, 1, tmp_path / "fresh")
    assert again["train_loss"] == result.runs[1]["metrics"]["train_loss"]

    # summary: mean and sample std over seeds, checked against statistics
    assert len(result.summary) == 2
    for group, lr in zip(result.summary, [0.05, 0.2], strict=True):
        values = [r["metrics"]["train_loss"] for r in result.runs if r["config"]["lr"] == lr]
        assert group["config"] == {"lr": lr, "hidden": 4} and group["n"] == 2
        assert group["mean"]["train_loss"] == pytest.approx(statistics.mean(values))
        assert group["std"]["train_loss"] == pytest.approx(statistics.stdev(values))
        assert "note" not in group["mean"]
    with open(tmp_path / "summary.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert float(rows[1]["train_loss_std"]) == pytest.approx(result.summary[1]["std"]["train_loss"])
    assert json.loads((tmp_path / "summary.json").read_text())["groups"] == result.summary

    # resuming skips finished runs; a deleted result is redone
    victim = result.runs[2]["run_id"]
    (tmp_path / "runs" / victim / "result.json").unlink()
    before = calls(tmp_path)
    again = run_sweep(
        GRID, seeds=[0, 1], run_fn=sweep_run, out_dir=tmp_path, workers=1, progress=False
    )
    assert [r["status"] for r in again.runs] == ["skipped", "skipped", "done", "skipped"]
    after = calls(tmp_path)
    assert {k: after[k] - before[k] for k in after} == {k: int(k == victim) for k in after}
    assert again.summary == result.summary  # the redone run resumed from its checkpoint


def test_failed_runs_are_reported_and_retried(tmp_path):
    grid = [{"a": 1}, {"a": 2}]
    with pytest.raises(TrainingError, match=r"2 of 4 sweep run\(s\) failed.*boom"):
        run_sweep(grid, seeds=2, run_fn=failing_run, out_dir=tmp_path, workers=0, progress=False)
    errors = sorted((tmp_path / "runs").glob("*/error.txt"))
    assert len(errors) == 2 and "RuntimeError: boom" in errors[0].read_text()
    assert [g["n"] for g in summarize(tmp_path)] == [1, 1]  # finished runs are summarised
    (tmp_path / "fixed").touch()
    result = run_sweep(
        grid, seeds=2, run_fn=failing_run, out_dir=tmp_path, workers=0, progress=False
    )
    assert [r["status"] for r in result.runs] == ["skipped", "done", "skipped", "done"]
    assert not list((tmp_path / "runs").glob("*/error.txt"))
    assert [g["mean"]["value"] for g in result.summary] == [10.5, 20.5]
    assert [g["std"]["value"] for g in result.summary] == pytest.approx([0.5**0.5] * 2)


def test_shards_cover_the_sweep_once_and_cli_summarizes(tmp_path, capsys):
    grid = {"a": [1, 2, 3]}
    (tmp_path / "all").mkdir()
    (tmp_path / "all" / "fixed").touch()  # failing_run looks for it in the sweep folder
    whole = run_sweep(
        grid, seeds=2, run_fn=failing_run, out_dir=tmp_path / "all", workers=0, progress=False
    )
    sharded = tmp_path / "sharded"
    sharded.mkdir()
    (sharded / "fixed").touch()
    seen = []
    for i in range(3):
        part = run_sweep(
            grid,
            seeds=2,
            run_fn=failing_run,
            out_dir=sharded,
            workers=0,
            shard=f"{i}/3",
            progress=False,
        )
        seen += [r["index"] for r in part.runs]
    assert sorted(seen) == list(range(6))
    (sharded / "summary.json").unlink()
    main(["summarize", str(sharded)])  # what `python -m phasor.train.sweep summarize` runs
    assert "6 runs in 3 configuration(s)" in capsys.readouterr().out
    assert json.loads((sharded / "summary.json").read_text())["groups"] == whole.summary


def test_grid_and_shard_parsing(tmp_path):
    assert expand_grid({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    assert expand_grid([{"a": 1}]) == [{"a": 1}]
    with pytest.raises(ValueError, match="non-empty list"):
        expand_grid({"a": 3})
    with pytest.raises(ValueError, match="JSON"):
        expand_grid({"a": [object()]})
    assert parse_shard("2/5") == (2, 5)
    with pytest.raises(SystemExit, match="no finished runs"):
        main(["summarize", str(tmp_path)])
    for bad in ("5/5", "a/b", "1"):
        with pytest.raises(ValueError, match="i/n"):
            parse_shard(bad)
    assert run_id({"lr": 0.1, "opt": "a/b"}, 3).startswith("lr=0.1_opt=a-b-")
    assert run_id({"lr": 0.1}, 0) != run_id({"lr": 0.10000001}, 0)


def test_study_flags():
    parser = argparse.ArgumentParser()
    add_sweep_arguments(parser)
    args = parser.parse_args(["--shard", "1/4", "--workers", "3", "--no-resume"])
    assert (args.shard, args.workers, args.resume) == ((1, 4), 3, False)
    args = parser.parse_args([])
    assert (args.shard, args.workers, args.resume) == (None, 2, True)
    with pytest.raises(SystemExit):
        parser.parse_args(["--shard", "4/4"])
