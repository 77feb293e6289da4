import json

from phasor import cli


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
