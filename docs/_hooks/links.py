"""MkDocs hook: pages whose text lives at the repository root.

``index.md`` is README.md (its links into ``docs/`` made relative to the site) and
``changelog.md`` is CHANGELOG.md; the two stand-in files in docs/ only say so.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FROM_ROOT = {"index.md": "README.md", "changelog.md": "CHANGELOG.md"}
_INTO_DOCS = re.compile(r"\]\(docs/")


def on_page_markdown(markdown, page, **kwargs):
    source = FROM_ROOT.get(page.file.src_uri)
    if source is None:
        return markdown
    text = (ROOT / source).read_text(encoding="utf-8")
    return _INTO_DOCS.sub("](", text).replace("](CHANGELOG.md)", "](changelog.md)")
