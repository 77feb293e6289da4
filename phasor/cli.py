"""The ``phasor`` command: ``phasor list``, ``phasor run <study> [flags]``, ``phasor download``.

Every study takes the same common flags:

- ``--out DIR``: folder for ``results.json`` (the study's results with its full configuration, versions
  and run time), the CSV files and the PNG figures (default ``runs/STUDY``).
- ``--seed N``: random seed.
- ``--threads N``: CPU threads for PyTorch (default: the cores this process may use, at most 4); OpenMP
  threads sleep rather than spin while they wait, so a busy machine does not slow a run
  down (see `phasor._threads`).
- ``--progress/--no-progress``: progress bars (default: shown when standard error is a terminal).
- ``--resume``: continue an interrupted run in the same ``--out``. Studies that save checkpoints resume
  exactly where they stopped; for the others a finished run with the same settings is not
  redone. A resume with settings that differ from the saved ones stops with a list of them.

A bad flag value stops the command before any work with ``phasor: error: --FLAG ...`` and
exit status 2; so do missing or corrupted data files and diverged training. Ctrl-C prints one
line (and, where the study can resume, the command that continues it) and exits with 130.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shlex
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from phasor import __version__, _threads

__all__ = ["build_parser", "main"]

# Settings that do not change a run's results: a resume may change them freely.
_RUNTIME_FLAGS = ("out", "threads", "progress", "resume", "keep_freed_memory")


def plain_text(text: str) -> str:
    """Docstring text for a terminal: the Markdown of the docstrings made plain.

    ``$e^{i\\theta}$`` -> ``e^{i\\theta}``, ``[`Linear`][phasor.nn.linear.Linear]`` ->
    ``Linear``, a code span in single or double back-quotes -> its text.
    """
    text = re.sub(r"\$(?=\S)([^$\n]+?)(?<=\S)\$(?!\w)", r"\1", text)
    text = re.sub(r"\[`([^`]*)`\]\[[\w.]+\]", r"\1", text)
    return re.sub(r"``?([^`]*)``?", r"\1", text)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's paragraphs; adds each flag's accepted range and default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        from phasor.experiments._flags import describe_type

        text = plain_text(action.help or "")
        if not action.option_strings or isinstance(
            action, (argparse._HelpAction, argparse._VersionAction)
        ):
            return text
        notes = []
        accepted = describe_type(action.type)
        if accepted:
            notes.append(accepted)
        if "default" not in text and action.default not in (None, False, argparse.SUPPRESS):
            default = action.default
            if isinstance(default, (list, tuple)):
                default = " ".join(map(str, default))
            notes.append(f"default: {str(default).replace('%', '%%')}")
        return f"{text} ({'; '.join(notes)})" if notes else text


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors read ``phasor: error: --FLAG ...`` (exit status 2).

    A study's parser also rejects unknown flags itself, so that the usage printed above the
    error is the study's, not the top-level one.
    """

    def __init__(self, *args: Any, rejects_unknown: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rejects_unknown = rejects_unknown

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if self._rejects_unknown and extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras

    def error(self, message: str):
        match = re.match(r"argument ([^:]+): (.*)", message, re.DOTALL)
        if match:
            flag, text = match.groups()
            flag = flag.split("/")[-1]
            message = f"{flag} {text}" if text.startswith("must") else f"{flag}: {text}"
        self.print_usage(sys.stderr)
        self.exit(2, f"phasor: error: {message}\n")


def _add_common_flags(parser: argparse.ArgumentParser, study_name: str) -> None:
    from phasor.experiments._flags import integer, output_dir, positive_int

    common = parser.add_argument_group("common flags (every study)")
    common.add_argument(
        "--out",
        type=output_dir,
        default=Path("runs") / study_name,
        help="folder for results.json, CSV files and figures",
    )
    common.add_argument("--seed", type=integer(0, 2**32 - 1), default=0, help="random seed")
    common.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="CPU threads for PyTorch (default: the cores this process may use, at most "
        f"{_threads.MAX_DEFAULT_THREADS}, or $OMP_NUM_THREADS)",
    )
    common.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress bars (default: when standard error is a terminal)",
    )
    common.add_argument(
        "--keep-freed-memory",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep freed memory for reuse instead of returning it to the system "
        "(phasor.memory.keep_freed_memory; default: on unless $PHASOR_KEEP_FREED_MEMORY=0)",
    )
    common.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out: from its last checkpoint where the study saves "
        "them, otherwise a finished run with the same settings is not redone; different "
        "settings are refused with a list of them",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one ``run`` sub-command per registered study."""
    from phasor import experiments
    from phasor.data import DATASETS

    parser = _Parser(
        prog="phasor",
        description="Complex-valued deep learning for PyTorch: run the studies.",
    )
    parser.add_argument("--version", action="version", version=f"phasor {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    commands.add_parser("list", help="list the studies")
    fetch = commands.add_parser(
        "download", help="fetch a data set's files and verify their SHA-256 (needs a network)"
    )
    fetch.add_argument("dataset", choices=sorted(DATASETS), help="data set to fetch")
    fetch.add_argument(
        "--data-dir", type=Path, default=None, help="target folder (default: $PHASOR_DATA/NAME)"
    )
    run = commands.add_parser("run", help="run a study (phasor run STUDY --help for its flags)")
    studies = run.add_subparsers(dest="study", required=True, metavar="STUDY", parser_class=_Parser)
    for study in experiments.available().values():
        sub = studies.add_parser(
            study.name,
            help=study.help,
            description=plain_text(study.description or study.help),
            formatter_class=_HelpFormatter,
            rejects_unknown=True,
        )
        study.add_arguments(sub)
        _add_common_flags(sub, study.name)
    return parser


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The run's configuration as JSON values (paths as text)."""
    config = {k: v for k, v in vars(args).items() if k != "command"}
    return json.loads(json.dumps(config, default=str))


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    keys = sorted((set(saved) | set(now)) - set(_RUNTIME_FLAGS))
    return [
        f"{key}: {saved.get(key, '(not set)')} in the saved run, {now.get(key, '(not set)')} now"
        for key in keys
        if saved.get(key) != now.get(key)
    ]


def _finished_with_same_settings(out: Path, config: dict[str, Any]) -> bool:
    """For ``--resume`` of a study without checkpoints: is ``out`` already done, identically?"""
    from phasor.experiments._flags import FlagError

    path = out / "results.json"
    if not path.is_file():
        print(f"no finished run in {out}: this study keeps no checkpoints, so it starts anew")
        return False
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))["config"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise FlagError("--resume", f"cannot read the finished run in {path}: {err}") from err
    changed = _differences(saved, config)
    if changed:
        raise FlagError(
            "--resume",
            f"refused: {out} holds a run with other settings ("
            + "; ".join(changed)
            + "); pass the same settings, or choose a new --out",
        )
    print(f"{out} already holds this run with the same settings; nothing to redo")
    return True


def _remove_if_empty(folder: Path) -> None:
    """Delete ``folder`` when it holds no file (only empty sub-folders or nothing)."""
    if folder.is_dir() and not any(p.is_file() for p in folder.rglob("*")):
        shutil.rmtree(folder, ignore_errors=True)


def _run(study, args: argparse.Namespace) -> int:
    import torch

    from phasor import memory
    from phasor.io import write_json

    args.threads = _threads.use_threads(args.threads)
    if args.keep_freed_memory is None:
        args.keep_freed_memory = memory.enabled_by_env()
    kept = memory.keep_freed_memory() if args.keep_freed_memory else None
    if args.progress is None:
        args.progress = sys.stderr.isatty()
    config = _settings(args)
    out: Path = args.out
    if args.resume and not study.checkpoints and _finished_with_same_settings(out, config):
        return 0
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        results = study.run(args)
    except BaseException:
        if created:
            _remove_if_empty(out)
        raise
    record = {
        "study": study.name,
        "config": config,
        "phasor_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 3),
        "freed_memory_kept": kept,
        **results,
    }
    path = write_json(out / "results.json", record)
    print(f"results written to {path}")
    return 0


def _resume_command(argv: list[str]) -> str:
    return "phasor " + shlex.join([*argv, *([] if "--resume" in argv else ["--resume"])])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``phasor`` console command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _threads.prefer_passive_waiting()  # before anything imports torch
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # a piped log shows each line at once

    from phasor import experiments
    from phasor.data import DataError, download
    from phasor.experiments._flags import FlagError
    from phasor.train import TrainingError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        for study in experiments.available().values():
            print(f"{study.name:<24} {study.help}")
        return 0
    study = experiments.get(args.study) if args.command == "run" else None
    try:
        if args.command == "download":
            print(f"{args.dataset} verified in {download(args.dataset, args.data_dir)}")
            return 0
        if study.check is not None:
            study.check(args)
        return _run(study, args)
    except (FlagError, DataError, TrainingError) as err:
        # A rejected flag, missing or corrupted data, a diverged run or a bad checkpoint: the
        # message names the flag, file or batch and what to do; a traceback would only hide it.
        print(f"phasor: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = f"; continue with: {_resume_command(argv)}" if study and study.checkpoints else ""
        print(f"\nphasor: interrupted{hint}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
