#!/usr/bin/env bash
# Set up a local virtual environment and run the whole test suite: lint, format check, the
# documentation site (mkdocs build --strict), tests.
# The same command runs in CI (.ci/run). Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
bash scripts/docs.sh build  # the site, --strict: no warning, no broken link
PHASOR_DOCS_BUILT=1 PHASOR_DATA="${PHASOR_DATA:-$(cd .. && pwd)/shared/data}" \
    .venv/bin/python -m pytest -n 2 -q "$@"
