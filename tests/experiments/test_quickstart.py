import functools
import json

import pytest

from phasor import cli
from phasor.experiments import quickstart


@pytest.fixture(scope="module", autouse=True)
def _load_once():
    """Decoding the embedded digits takes seconds: once for all the runs of this file."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(quickstart, "load_images", functools.cache(quickstart.load_images))
        yield


def test_quickstart_learns_digits_and_writes_outputs(tmp_path):
    out = tmp_path / "quickstart"
    code = cli.main(
        ["run", "quickstart", "--out", str(out), "--epochs", "2", "--hidden", "32", "--lr", "3e-3"]
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["final_test_accuracy"] > 0.8  # chance is 0.1
    assert len(results["history"]) == 2
    assert (out / "curves.png").stat().st_size > 1000
    assert (out / "metrics.csv").is_file()
    assert set(results["units"]) == {"accuracy", "loss", "seconds", "lr"}
    assert "resumes" not in results


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--epochs", "0"], "--epochs must be a positive integer, got 0"),
        (["--hidden", "0"], "--hidden must be a positive integer, got 0"),
        (["--batch-size", "-4"], "--batch-size must be a positive integer, got -4"),
        (["--lr", "-1"], "--lr must be a positive number, got -1"),
    ],
)
def test_bad_flags_exit_2_before_any_work(tmp_path, capsys, flags, message):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", "quickstart", "--out", str(out), *flags])
    assert stop.value.code == 2
    assert f"phasor: error: {message}" in capsys.readouterr().err
    assert not out.exists()


def test_resume_adds_epochs_and_refuses_other_settings(tmp_path, capsys):
    out = tmp_path / "q"
    base = ["run", "quickstart", "--out", str(out), "--no-progress"]
    assert cli.main([*base, "--hidden", "16", "--epochs", "1"]) == 0
    first = json.loads((out / "results.json").read_text())["history"]
    assert cli.main([*base, "--hidden", "16", "--epochs", "2", "--resume"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["history"][0] == first[0]  # read back from the checkpoint, not retrained
    assert len(results["history"]) == 2
    assert results["resumes"] == [{"at_epoch": 1, "changed": {"epochs": [1, 2]}}]
    capsys.readouterr()
    assert cli.main([*base, "--hidden", "16", "--lr", "0.01", "--epochs", "2", "--resume"]) == 2
    assert "lr: 0.001 in the checkpoint, 0.01 now" in capsys.readouterr().err
    assert cli.main([*base, "--hidden", "8", "--epochs", "2", "--resume"]) == 2
    assert "the model (8, 784)" in capsys.readouterr().err  # another width: other shapes


def test_one_epoch_curves_are_bars_not_single_dots(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(quickstart, "save_figure", lambda figure, path: drawn.append(figure))
    row = {"epoch": 1, "train_loss": 0.8, "train_accuracy": 0.7, "eval_loss": 0.5}
    quickstart._plot([{**row, "eval_accuracy": 0.85}], tmp_path / "curves.png", "title")
    axes = drawn[0].axes
    assert [len(ax.patches) for ax in axes] == [2, 2]  # train and test bars per panel
    assert all(len(line.get_xdata()) > 1 for ax in axes for line in ax.lines)  # no lone dots
    heights = [bar.get_height() for bar in axes[1].patches]
    assert heights == [0.7, 0.85]


def test_every_key_of_results_json_is_documented(tmp_path):
    from _results_doc import undocumented_keys

    out = tmp_path / "q"
    base = ["run", "quickstart", "--out", str(out), "--no-progress", "--hidden", "8"]
    assert cli.main([*base, "--epochs", "1"]) == 0
    assert cli.main([*base, "--epochs", "2", "--resume"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert "resumes" in results
    assert undocumented_keys(results, "library.md", maps=("resumes[].changed",)) == []
