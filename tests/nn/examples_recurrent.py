"""Examples of the recurrent family for the generic transform tests (test_transforms.py)."""

from __future__ import annotations

import torch

import phasor.nn as cnn

C64 = torch.complex64


def _complex(g, *shape):
    return torch.randn(*shape, dtype=C64, generator=g)


def _seq(*shape):
    return lambda g: (_complex(g, *shape),)


EXAMPLES = {
    "GRUCell": (lambda: cnn.GRUCell(3, 4), lambda g: (_complex(g, 2, 3), _complex(g, 2, 4))),
    "GRUCell-split": (lambda: cnn.GRUCell(3, 4, gate="split"), _seq(2, 3)),
    "LSTMCell": (lambda: cnn.LSTMCell(3, 4, activation="amp_phase_tanh"), _seq(2, 3)),
    "UnitaryRNNCell": (
        lambda: cnn.UnitaryRNNCell(3, 4),
        lambda g: (_complex(g, 2, 3), _complex(g, 2, 4)),
    ),
    "GRU": (
        lambda: cnn.GRU(3, 4, bidirectional=True, batch_first=True),
        lambda g: (_complex(g, 2, 3, 3), _complex(g, 2, 2, 4)),
    ),
    "GRU-dropout": (lambda: cnn.GRU(3, 4, num_layers=2, dropout=0.5), _seq(3, 2, 3)),
    "LSTM": (lambda: cnn.LSTM(3, 4, num_layers=2, bidirectional=True), _seq(3, 2, 3)),
    "LSTM-dropout": (
        lambda: cnn.LSTM(3, 4, num_layers=2, dropout=0.5, gate="split"),
        _seq(3, 2, 3),
    ),
    "UnitaryRNN": (
        lambda: cnn.UnitaryRNN(3, 4, bidirectional=True),
        lambda g: (_complex(g, 3, 2, 3), _complex(g, 2, 2, 4)),
    ),
    "UnitaryRNN-dropout": (lambda: cnn.UnitaryRNN(3, 4, num_layers=2, dropout=0.5), _seq(3, 2, 3)),
}

# Dropout between layers draws random numbers in train mode.
TRAIN_DEPENDENT = {"GRU", "LSTM", "UnitaryRNN"}
