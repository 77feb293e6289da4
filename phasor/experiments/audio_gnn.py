"""Study ``audio-gnn``: a graph network over the time frames of a clip, edges weighted by phase
(seed 003, exp. 3).

Each clip is a graph: node ``t`` is frame ``t`` (its standardised real MFCC vector) and frames
at most ``--radius`` apart are joined. The edge weight is one of

- ``no-phase``: 1 (the same graph without phase);
- ``phase-coherence``: the *inter-frame phase coherence* ``|c_ij|``, where
  ``c_ij = sum_m a_im a_jm exp(i (phi_im - phi_jm)) / sum_m a_im a_jm`` and
  ``Z_t[m] = a_tm exp(i phi_tm)`` is mel band ``m`` of frame ``t`` (the mel filter bank
  applied to the complex STFT). It is the mean of the band-wise phase differences as unit
  phasors, each band weighted by its magnitude in both frames (so empty bands, whose phase
  is noise, do not count). ``|c_ij| = 1`` exactly when every band with energy moves by the
  same angle from frame ``i`` to frame ``j``, whatever the magnitudes; it is small for
  unrelated phases;
- ``complex-phase``: ``c_ij`` itself (a Hermitian complex adjacency), in a complex graph network whose
  node features are the real MFCCs as complex numbers.

The first two use a real two-layer GCN, the third its complex twin (same width rule as
``audio-mfcc``); readout is the mean over nodes and a linear head. With ``--seeds`` every
variant runs once per seed (its own split) and ``results.json`` holds the mean, spread and
paired differences. Writes ``results.json``, ``seeds.csv``, ``summary.csv``,
``<task>_curves.png/.csv`` and ``<task>_confusion.png``.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

import phasor.nn as cnn
from phasor.audio import complex_mel_spectrum
from phasor.experiments import register
from phasor.experiments._audio_common import (
    UNITS,
    add_audio_arguments,
    check_audio_flags,
    compare_over_seeds,
    frames_per_clip,
    standardize,
)
from phasor.experiments._flags import FlagError, integer, positive_int
from phasor.nn.graph import DenseGraphConv

VARIANTS = ("no-phase", "phase-coherence", "complex-phase")
# the paired differences results.json reports: each way of adding phase vs the same graph
# without it
COMPARISONS = (("phase-coherence", "no-phase"), ("complex-phase", "no-phase"))
EXPECT = {
    "synthetic": "no-phase and phase-coherence about equal (about 0.9 on 10 classes at the "
    "default flags), complex-phase lower (about 0.7); with few clips or epochs, lower",
    "synthetic-phase": "every variant at chance (0.5): edges built from phase differences "
    "between frames cannot see a global phase shift",
}

__all__ = ["GraphNet", "phase_coherence", "window_mask"]


def phase_coherence(band_sum: torch.Tensor) -> torch.Tensor:
    r"""Complex inter-frame phase coherence
    $c_{ij} = \langle Z_i, Z_j\rangle / \langle |Z_i|, |Z_j|\rangle
    = \sum_m a_{i,m} a_{j,m} e^{i(\phi_{i,m} - \phi_{j,m})} / \sum_m a_{i,m} a_{j,m}$
    (0 where a frame has no energy).

    Shape:
        - Input: complex band sums $(*, T_f, M)$.
        - Output: $(*, T_f, T_f)$ complex, Hermitian, $|c_{ij}| \le 1$.
    """
    mag = band_sum.abs()
    inner = band_sum @ band_sum.conj().transpose(-1, -2)
    weight = mag @ mag.transpose(-1, -2)
    return torch.where(weight > 0, inner / weight.clamp_min(1e-30), torch.zeros_like(inner))


def window_mask(n: int, radius: int) -> torch.Tensor:
    """Boolean ``(n, n)``: frames at most ``radius`` apart, without the diagonal."""
    idx = torch.arange(n)
    d = (idx[:, None] - idx[None, :]).abs()
    return (d <= radius) & (d > 0)


class GraphNet(nn.Module):
    """Two dense graph convolutions with an activation, mean over nodes, linear head.

    Shape: input ``(x, adj)`` with ``x`` $(B, N, F)$ and ``adj`` $(B, N, N)$;
    output $(B, K)$ (complex for a complex net).
    """

    def __init__(self, in_features: int, width: int, num_classes: int, complex_net: bool):
        super().__init__()
        dtype = torch.complex64 if complex_net else torch.float32
        self.gc1 = DenseGraphConv(in_features, width, dtype=dtype)
        self.gc2 = DenseGraphConv(width, width, dtype=dtype)
        self.act = cnn.CReLU() if complex_net else nn.ReLU()
        self.head = cnn.Linear(width, num_classes) if complex_net else nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        h = self.act(self.gc1(x, adj))
        h = self.act(self.gc2(h, adj))
        return self.head(h.mean(dim=-2))


class _Packed(nn.Module):
    """Adapter for the trainer: one tensor ``[x | adj]`` along the feature axis."""

    def __init__(self, net: GraphNet, n_features: int):
        super().__init__()
        self.net, self.n_features = net, n_features

    def forward(self, packed: torch.Tensor) -> torch.Tensor:
        return self.net(packed[..., : self.n_features], packed[..., self.n_features :])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_audio_arguments(parser, epochs=30, lr=3e-3)
    parser.add_argument(
        "--width",
        type=positive_int,
        default=32,
        help="hidden size of the real nets; the complex net uses round(width / sqrt(2))",
    )
    parser.add_argument(
        "--radius",
        type=positive_int,
        default=4,
        help="edges join the kept frames at most this many places apart",
    )
    parser.add_argument(
        "--max-frames",
        type=integer(2),
        default=64,
        help="keep at most this many evenly spaced frames (nodes) per clip",
    )


def check(args: argparse.Namespace) -> None:
    """Reject bad flag combinations before any work (`FlagError`)."""
    check_audio_flags(args)
    frames = frames_per_clip(args)
    if frames < 2:
        raise FlagError(
            "--duration",
            f"must give clips of at least 2 STFT frames for a graph with an edge, got "
            f"{frames}; raise --duration, or lower --n-fft or --hop-length",
        )


def _graphs(args, data, audio: torch.Tensor, n_frames: int) -> torch.Tensor:
    _, band_sum = complex_mel_spectrum(
        audio, data.sample_rate, n_fft=args.n_fft, hop_length=args.hop_length, n_mels=args.n_mels
    )
    keep = torch.linspace(0, band_sum.shape[-2] - 1, n_frames).round().long()
    return phase_coherence(band_sum[..., keep, :]) * window_mask(n_frames, args.radius)


def run(args: argparse.Namespace) -> dict[str, Any]:
    def prepare(data, train_c: torch.Tensor, test_c: torch.Tensor):
        n_frames = min(args.max_frames, train_c.shape[1])
        keep = torch.linspace(0, train_c.shape[1] - 1, n_frames).round().long()
        x_tr, x_te = standardize(train_c.real[:, keep], test_c.real[:, keep])
        coh_tr = _graphs(args, data, data.train_audio, n_frames)
        coh_te = _graphs(args, data, data.test_audio, n_frames)
        mask = window_mask(n_frames, args.radius).float()
        adjacency = {
            "no-phase": (mask.expand(len(x_tr), -1, -1), mask.expand(len(x_te), -1, -1)),
            "phase-coherence": (coh_tr.abs(), coh_te.abs()),
            "complex-phase": (coh_tr, coh_te),
        }
        q = x_tr.shape[-1]
        coherence = {
            c: float(
                coh_tr.abs()[data.train_labels == i].sum()
                / mask.sum()
                / (data.train_labels == i).sum()
            )
            for i, c in enumerate(data.classes)
        }

        def build(variant: str, tr: torch.Tensor, te: torch.Tensor, k: int):
            complex_net = variant == "complex-phase"
            a_tr, a_te = adjacency[variant]
            dtype = torch.complex64 if complex_net else torch.float32
            pack_tr = torch.cat([x_tr[tr].to(dtype), a_tr[tr].to(dtype)], dim=-1)
            pack_te = torch.cat([x_te[te].to(dtype), a_te[te].to(dtype)], dim=-1)
            width = max(1, round(args.width / math.sqrt(2))) if complex_net else args.width
            model = _Packed(GraphNet(q, width, k, complex_net), q)
            loss_fn = cnn.ComplexCrossEntropyLoss() if complex_net else nn.functional.cross_entropy
            train_set = TensorDataset(pack_tr, data.train_labels[tr])
            return model, loss_fn, train_set, TensorDataset(pack_te, data.test_labels[te])

        return build, {"nodes_per_graph": n_frames, "mean_edge_coherence": coherence}

    results = compare_over_seeds(args, VARIANTS, prepare, "audio-gnn", EXPECT, COMPARISONS)
    extras = results.pop("extras")
    results["nodes_per_graph"] = extras[0]["nodes_per_graph"]
    results["radius"] = args.radius
    results["mean_edge_coherence"] = {
        c: float(np.mean([e["mean_edge_coherence"][c] for e in extras])) for c in results["classes"]
    }
    results["units"] = {
        **UNITS,
        "mean_edge_coherence": "|c_ij| between 0 and 1 (mean over the seeds)",
    }
    return results


register(
    "audio-gnn",
    help="graph network over the frames of a clip, with and without phase-weighted edges",
    add_arguments=add_arguments,
    run=run,
    description=__doc__,
    check=check,
)
