"""The examples of every public module of phasor.nn, gathered from ``examples_*.py`` here.

Each ``examples_<family>.py`` has a dict ``EXAMPLES`` (id -> (module factory, inputs from a
``torch.Generator``); the id up to ``"-"`` is the class name) and, where needed, a set
``TRAIN_DEPENDENT`` (forward depends on train mode) and a dict ``RUNNING_STATS`` (train-mode
running statistics that transforms cannot write; value: the error expected). Used by the
transform tests (tests/nn/test_transforms.py) and the lowering tests (tests/lowering/).
Loaded by path: tests/ is not a package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def load() -> tuple[dict, set, dict]:
    """``(EXAMPLES, TRAIN_DEPENDENT, RUNNING_STATS)`` merged over every family file."""
    examples, train_dependent, running_stats = {}, set(), {}
    for path in sorted(Path(__file__).parent.glob("examples_*.py")):
        spec = importlib.util.spec_from_file_location(f"_phasor_{path.stem}", path)
        family = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(family)
        clash = examples.keys() & family.EXAMPLES.keys()
        assert not clash, f"{path.name} redefines {sorted(clash)}"
        examples.update(family.EXAMPLES)
        train_dependent.update(getattr(family, "TRAIN_DEPENDENT", set()))
        running_stats.update(getattr(family, "RUNNING_STATS", {}))
    return examples, train_dependent, running_stats
