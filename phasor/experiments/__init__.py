"""The studies: one module per study, each registering itself for ``phasor run``.

A study module calls `register` at import time:

    from phasor.experiments import register

    def add_arguments(parser):          # argparse flags of the study
        parser.add_argument("--epochs", type=int, default=3)

    def run(args) -> dict:              # writes figures/CSV into args.out, returns results
        ...

    register("demo", help="one line", add_arguments=add_arguments, run=run)

``phasor run`` adds the common flags to every study (``--out``, ``--seed``, ``--threads``,
``--progress/--no-progress``, ``--resume``; see `phasor.cli`) and writes
``results.json`` (the returned dict plus the configuration) into ``--out``. Flag values are
checked by the types of `phasor.experiments._flags`; ``check(args)``, when given, rejects
combinations before any work starts by raising `FlagError`.
A study that saves checkpoints (``checkpoints=True``) resumes itself under ``--resume``; for
the others ``--resume`` skips a run whose ``results.json`` already holds the same settings.
Modules are discovered automatically: every module of this package whose name does not
start with ``_``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Study", "available", "get", "register"]


@dataclass(frozen=True)
class Study:
    """A runnable study: its name, one-line help, flag definitions and entry point.

    ``check(args)`` rejects flag combinations (raising ``FlagError``) before any work starts;
    ``checkpoints`` says that ``run`` resumes an interrupted run itself under ``--resume``.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], dict[str, Any]]
    description: str = ""
    check: Callable[[argparse.Namespace], None] | None = None
    checkpoints: bool = False


_REGISTRY: dict[str, Study] = {}


def register(
    name: str,
    *,
    help: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], dict[str, Any]],
    description: str = "",
    check: Callable[[argparse.Namespace], None] | None = None,
    checkpoints: bool = False,
) -> Study:
    """Register a study under ``name`` (used as ``phasor run <name>``)."""
    if name in _REGISTRY and _REGISTRY[name].run is not run:
        raise ValueError(f"a study named {name!r} is already registered")
    study = Study(name, help, add_arguments, run, description, check, checkpoints)
    _REGISTRY[name] = study
    return study


def _discover() -> None:
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


def available() -> dict[str, Study]:
    """Every registered study by name, sorted."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> Study:
    """The study called ``name``; ``KeyError`` lists the known names."""
    studies = available()
    if name not in studies:
        raise KeyError(f"unknown study {name!r}; known studies: {', '.join(studies)}")
    return studies[name]
