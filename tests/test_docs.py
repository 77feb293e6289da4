"""Every ``python`` code block of the README and of every page in docs/ runs as written.

Each block runs on its own (a fresh namespace, the current folder a temporary one), with
``$PHASOR_DATA`` pointing at the shared data root as in scripts/test.sh. Listings that are
not meant to run belong in ``text`` blocks, commands in ``bash`` blocks.
"""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
DATA_ROOT = os.environ.get("PHASOR_DATA") or str(ROOT.parent / "shared" / "data")


def _blocks():
    for page in PAGES:
        for number, code in enumerate(BLOCK.findall(page.read_text(encoding="utf-8")), 1):
            yield pytest.param(code, id=f"{page.name}-{number}")


@pytest.mark.parametrize("code", list(_blocks()))
def test_code_block_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PHASOR_DATA", DATA_ROOT)
    exec(compile(code, "<docs>", "exec"), {"__name__": "__docs__"})


def test_every_page_is_checked():
    # A page whose python blocks are not found by BLOCK (e.g. indented fences) would slip by.
    fenced = sum(page.read_text(encoding="utf-8").count("```python") for page in PAGES)
    assert fenced == len(list(_blocks())) >= 5
