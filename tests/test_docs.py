"""Every ``python`` code block of the README and the library page runs as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "docs" / "library.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _blocks():
    for page in PAGES:
        for number, code in enumerate(BLOCK.findall(page.read_text(encoding="utf-8")), 1):
            yield pytest.param(code, id=f"{page.name}-{number}")


@pytest.mark.parametrize("code", list(_blocks()))
def test_code_block_runs(code):
    exec(compile(code, "<docs>", "exec"), {"__name__": "__docs__"})


def test_pages_have_blocks():
    assert len(list(_blocks())) >= 5
