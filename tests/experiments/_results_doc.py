"""Every key a study writes to results.json is named on the study's docs page."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2] / "docs"

# Written by `phasor run` for every study; documented once, in docs/architecture.md.
COMMON = ("study", "config", "phasor_version", "torch_version", "python_version", "finished_at")
COMMON_WITH_SECONDS = (*COMMON, "seconds", "freed_memory_kept")


def _keys(value: Any, path: str, maps: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if path in maps:  # keyed by names (runs, widths): document the inner keys only
                yield from _keys(item, f"{path}.*", maps)
            else:
                yield child, str(key)
                yield from _keys(item, child, maps)
    elif isinstance(value, list):
        for item in value[:3]:
            yield from _keys(item, f"{path}[]", maps)


def undocumented_keys(
    results: dict[str, Any], page: str, maps: Iterable[str] = (), skip: Iterable[str] = ()
) -> list[str]:
    """Dotted paths of keys in ``results`` whose name is not written as ```key``` (or as a
    part of a dotted ```a.key```) on ``docs/<page>``. ``maps``: dotted paths (``*`` for one name level, ``[]`` for list items)
    of dicts keyed by names, not fields; ``skip``: top-level keys not to inspect (``config``
    and the keys every run has are skipped always)."""
    text = (DOCS / page).read_text(encoding="utf-8")
    documented = set()
    for code in re.findall(r"`([^`\s]+)`", text):  # `key`, or a dotted path `runs.NAME.key`
        documented.update({code, *re.split(r"[.\[\]]+", code)})
    ignore = {*COMMON_WITH_SECONDS, *skip}
    body = {k: v for k, v in results.items() if k not in ignore}
    return sorted({path for path, key in _keys(body, "", tuple(maps)) if key not in documented})
