"""Examples of the attention family for the generic transform tests (tests/nn/test_transforms.py)."""

import torch

import phasor.nn as cnn

C64 = torch.complex64


def _complex(g, *shape):
    return torch.randn(*shape, dtype=C64, generator=g)


def _padding(g, n, s):
    """A key padding mask ``(n, s)`` (True = padded) that leaves every sample a key."""
    mask = torch.rand(n, s, generator=g) < 0.4
    mask[:, 0] = False
    return mask


def _layer(**kw):
    return cnn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.2, **kw)


EXAMPLES = {
    "MultiheadAttention": (
        lambda: cnn.MultiheadAttention(4, 2),
        lambda g: (_complex(g, 3, 2, 4), _complex(g, 5, 2, 4), _complex(g, 5, 2, 4)),
    ),
    "MultiheadAttention-magnitude-kdim-dropout": (
        lambda: cnn.MultiheadAttention(
            4, 2, 0.5, kdim=3, vdim=2, batch_first=True, score="magnitude"
        ),
        lambda g: (
            _complex(g, 2, 3, 4),
            _complex(g, 2, 5, 3),
            _complex(g, 2, 5, 2),
            _padding(g, 2, 5),
        ),
    ),
    "MultiheadAttention-split-unbatched": (
        lambda: cnn.MultiheadAttention(4, 1, score="split", bias=False),
        lambda g: (_complex(g, 3, 4), _complex(g, 4, 4), _complex(g, 4, 4)),
    ),
    "TransformerEncoderLayer": (_layer, lambda g: (_complex(g, 3, 2, 4),)),
    "TransformerEncoderLayer-prenorm-split": (
        lambda: _layer(norm_first=True, batch_first=True, score="split", activation=cnn.ModReLU(1)),
        lambda g: (_complex(g, 2, 3, 4), torch.zeros(3, 3, dtype=torch.bool).triu(1)),
    ),
    "TransformerEncoder": (
        lambda: cnn.TransformerEncoder(_layer(batch_first=True), 2, norm=cnn.ComplexLayerNorm(4)),
        lambda g: (_complex(g, 2, 3, 4), -torch.rand(3, 3, generator=g), _padding(g, 2, 3)),
    ),
    "RotaryEmbedding": (
        lambda: cnn.RotaryEmbedding(4, base=100.0),
        lambda g: (_complex(g, 2, 3, 4),),
    ),
    "ComplexPositionalEmbedding": (
        lambda: cnn.ComplexPositionalEmbedding(5, 4),
        lambda g: (_complex(g, 2, 3, 4),),
    ),
}

TRAIN_DEPENDENT = {"MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder"}
