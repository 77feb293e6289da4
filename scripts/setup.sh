#!/usr/bin/env bash
# Create .venv and install phasor with the given extras (default: experiments).
# torch is pinned to 2.13.0 here (constraints.txt), a release inside pyproject's range whose CPU wheel
# installs quickly; a different PyTorch release is fine for users who install phasor-nn themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-experiments}"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt torch
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[${extras}]"
