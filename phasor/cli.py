"""The ``phasor`` command: ``phasor list``, ``phasor run <study> [flags]``, ``phasor download``.

Every run writes into ``--out DIR``: ``results.json`` (the study's results with its full
configuration, versions and run time) next to the CSV files and PNG figures the study makes.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from phasor import __version__, experiments
from phasor.data import DATASETS, DataError, download
from phasor.io import write_json
from phasor.train import TrainingError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one ``run`` sub-command per registered study."""
    parser = argparse.ArgumentParser(
        prog="phasor",
        description="Complex-valued deep learning for PyTorch: run the studies.",
    )
    parser.add_argument("--version", action="version", version=f"phasor {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="list the studies")
    fetch = commands.add_parser(
        "download", help="fetch a data set's files and verify their SHA-256 (needs a network)"
    )
    fetch.add_argument("dataset", choices=sorted(DATASETS), help="data set to fetch")
    fetch.add_argument(
        "--data-dir", type=Path, default=None, help="target folder (default: $PHASOR_DATA/NAME)"
    )
    run = commands.add_parser("run", help="run a study (phasor run STUDY --help for its flags)")
    studies = run.add_subparsers(dest="study", required=True, metavar="STUDY")
    for study in experiments.available().values():
        sub = studies.add_parser(
            study.name,
            help=study.help,
            description=study.description or study.help,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        sub.add_argument(
            "--out",
            type=Path,
            default=Path("runs") / study.name,
            help="folder for results and figures",
        )
        sub.add_argument("--seed", type=int, default=0, help="random seed")
        study.add_arguments(sub)
    return parser


def _run(args: argparse.Namespace) -> int:
    study = experiments.get(args.study)
    args.out.mkdir(parents=True, exist_ok=True)
    config = {k: v for k, v in vars(args).items() if k != "command"}
    started = time.perf_counter()
    results = study.run(args)
    record = {
        "study": study.name,
        "config": config,
        "phasor_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 3),
        **results,
    }
    path = write_json(args.out / "results.json", record)
    print(f"results written to {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``phasor`` console command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        for study in experiments.available().values():
            print(f"{study.name:<24} {study.help}")
        return 0
    try:
        if args.command == "download":
            print(f"{args.dataset} verified in {download(args.dataset, args.data_dir)}")
            return 0
        return _run(args)
    except (DataError, TrainingError) as err:
        # Missing or corrupted data, a diverged run or a bad checkpoint: the message names the
        # file or batch and what to do; a traceback would only hide it.
        print(f"phasor: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
