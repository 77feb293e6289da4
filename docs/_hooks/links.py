"""MkDocs hook: the home page is README.md, whose links point into ``docs/``."""

import re
from pathlib import Path

_README = Path(__file__).resolve().parents[2] / "README.md"
_INTO_DOCS = re.compile(r"\]\(docs/")


def on_page_markdown(markdown, page, **kwargs):
    if page.file.src_uri == "index.md":
        return _INTO_DOCS.sub("](", _README.read_text(encoding="utf-8"))
    return markdown
