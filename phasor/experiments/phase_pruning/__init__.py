"""Seed 000, "Neural network is heterogeneous: phase matters more" (Nie and Yuan).

A network is trained by full-batch gradient descent; at checkpoints, copies of its weights
that keep only their phase, amplitude, real or imaginary part (sign or magnitude for a real
network), or with a random half of the hidden units removed, are evaluated on the test set
("probe" regime, the paper's code). The "projected" regime instead trains each variant with
its projection applied after every step. The run writes results.json, curves.csv (test
accuracy of every curve at every checkpoint) and a figure in the style of the paper's
Figure 1; docs/phase-pruning.md has the paper's protocol and our results.
"""

from phasor.experiments import register
from phasor.experiments.phase_pruning.study import PRESETS, add_arguments, check, run

__all__ = ["PRESETS", "add_arguments", "check", "run"]

register(
    "phase-pruning",
    help="seed 000: keep only the phase / amplitude / real / imag (sign / magnitude) of weights",
    add_arguments=add_arguments,
    run=run,
    description=__doc__,
    check=check,
)
