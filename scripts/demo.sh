#!/usr/bin/env bash
# Set up a local virtual environment and run the main demo on the embedded digits: the
# "phase matters more" study (seed 000), a complex MLP evaluated with only one kind of weight
# information kept.
# Results and figures go to runs/demo/. Usage: bash scripts/demo.sh [extra flags of the study]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh experiments
.venv/bin/phasor run phase-pruning --out runs/demo "$@"
