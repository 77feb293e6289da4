"""The documentation site (mkdocs.yml, docs/reference/): every public name has a reference entry.

The reference pages are ``::: module`` directives of mkdocstrings. Static checks: every family
of :mod:`phasor.nn` and :mod:`phasor.functional`, every documented package and every study has
its directive. After ``bash scripts/docs.sh build`` (scripts/test.sh runs it first and sets
``PHASOR_DOCS_BUILT=1``), the built inventory ``site/objects.inv`` must hold every public name.
"""

from __future__ import annotations

import importlib
import os
import re
import zlib
from pathlib import Path

import pytest

import phasor.experiments
import phasor.functional
import phasor.nn

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"
INVENTORY = ROOT / "site" / "objects.inv"
DIRECTIVE = re.compile(r"^::: ([\w.]+)", re.MULTILINE)

#: Packages documented as a whole: page -> package.
PACKAGES = {
    "init.md": "phasor.nn.init",
    "train.md": "phasor.train",
    "data.md": "phasor.data",
    "audio.md": "phasor.audio",
    "weights.md": "phasor.weights",
    "ntk.md": "phasor.ntk",
    "models.md": "phasor.models",
    "backend.md": "phasor.backend",
    "lowering.md": "phasor.lowering",
    "export.md": "phasor.export",
    "memory.md": "phasor.memory",
    "studies.md": "phasor.experiments",
}


def _directives(page: str) -> set[str]:
    return set(DIRECTIVE.findall((REFERENCE / page).read_text(encoding="utf-8")))


def _functional_families() -> list[str]:
    """Every module of phasor/functional (each a family of phasor.functional.FAMILIES)."""
    folder = ROOT / "phasor" / "functional"
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def _study_modules() -> set[str]:
    """The module of each of phasor's studies (a package's, for a study in a package); studies
    registered elsewhere (the docs' example, run by tests/test_docs.py) are not phasor's."""
    modules = {s.run.__module__ for s in phasor.experiments.available().values()}
    return {m.removesuffix(".study") for m in modules if m.startswith("phasor.experiments.")}


def test_every_layer_family_has_its_reference_section():
    assert set(phasor.functional.FAMILIES) == set(_functional_families())
    assert {f"phasor.nn.{f}" for f in phasor.nn.FAMILIES} <= _directives("nn.md")
    assert {f"phasor.functional.{f}" for f in _functional_families()} <= _directives(
        "functional.md"
    )


def test_every_documented_package_and_study_has_its_page():
    for page, package in PACKAGES.items():
        assert package in _directives(page), page
    assert _study_modules() <= _directives("studies.md")


def _public_paths() -> dict[str, set[str]]:
    """Each public name -> the inventory paths that would document it."""
    wanted: dict[str, set[str]] = {}

    def add(package: str, modules: list[str]) -> None:
        pkg = importlib.import_module(package)
        for name in pkg.__all__:
            obj = getattr(pkg, name)
            paths = {f"{package}.{name}"} | {f"{m}.{name}" for m in modules}
            if hasattr(obj, "__qualname__") and hasattr(obj, "__module__"):
                paths.add(f"{obj.__module__}.{obj.__qualname__}")
            wanted[f"{package}.{name}"] = paths

    add("phasor.nn", [f"phasor.nn.{f}" for f in phasor.nn.FAMILIES])
    add("phasor.functional", [f"phasor.functional.{f}" for f in _functional_families()])
    for package in PACKAGES.values():
        add(package, [])
    for module in _study_modules():
        wanted[f"{module}.run"] = {f"{module}.run", f"{module}.study.run"}
    return wanted


def _inventory() -> set[str]:
    data = INVENTORY.read_bytes().split(b"\n", 4)[4]
    return {line.split(" ", 1)[0] for line in zlib.decompress(data).decode().splitlines()}


def test_built_site_documents_every_public_name():
    if not INVENTORY.exists():
        if os.environ.get("PHASOR_DOCS_BUILT"):
            pytest.fail(f"{INVENTORY} is missing although the site was built")
        pytest.skip("the site is not built (bash scripts/docs.sh build)")
    inventory = _inventory()
    missing = sorted(name for name, paths in _public_paths().items() if not paths & inventory)
    assert missing == []
