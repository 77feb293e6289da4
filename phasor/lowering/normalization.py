"""Lowering of the normalisation layers of [`phasor.nn.normalization`][phasor.nn.normalization]."""

from __future__ import annotations

import torch
from torch import nn

from phasor import nn as pnn
from phasor.functional.normalization import _whitening_matrix
from phasor.lowering._core import Context, adopt, pair, register


class PairBatchNorm(nn.Module):
    """Lowered [`phasor.nn.ComplexBatchNorm1d`][phasor.nn.normalization.ComplexBatchNorm1d] /
    ``2d``: the per-channel 2x2 affine map $M (z - \\mu) + \\beta$ with
    $M = \\Gamma (V + \\epsilon I)^{-1/2}$; in training mode from the batch (updating the
    running statistics as phasor does), else from them.

    ``running_mean`` is $(2, C)$, ``bias`` $(2, C)$; ``weight`` $(C, 3)$ and ``running_cov``
    $(C, 3)$ are real as in phasor."""

    def __init__(self, layer) -> None:
        super().__init__()
        self.eps, self.momentum = layer.eps, layer.momentum
        self.track_running_stats = layer.track_running_stats
        adopt(self, layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(3) if x.dim() > 3 else x.unsqueeze(-1)  # (N, 2, C, L)
        re, im = flat[:, 0], flat[:, 1]
        batch = self.training or self.running_mean is None
        if batch:
            mean_re, mean_im = re.mean((0, 2)), im.mean((0, 2))
            cr, ci = re - mean_re[:, None], im - mean_im[:, None]
            cov = torch.stack(
                ((cr * cr).mean((0, 2)), (cr * ci).mean((0, 2)), (ci * ci).mean((0, 2))), -1
            )
            if self.training and self.track_running_stats:
                momentum = self.momentum
                if momentum is None:
                    momentum = 1.0 / float(self.num_batches_tracked + 1)
                n = flat.shape[0] * flat.shape[3]
                with torch.no_grad():
                    mean = torch.stack((mean_re, mean_im))
                    self.running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
                    self.running_cov.mul_(1 - momentum).add_(cov, alpha=momentum * n / (n - 1))
                    self.num_batches_tracked.add_(1)
        else:
            cov = self.running_cov
            cr = re - self.running_mean[0][:, None]
            ci = im - self.running_mean[1][:, None]
        (mrr, mri, mir, mii), _ = _whitening_matrix(cov, self.weight, self.eps)
        out_re = mrr[:, None] * cr + mri[:, None] * ci
        out_im = mir[:, None] * cr + mii[:, None] * ci
        if self.bias is not None:
            out_re, out_im = out_re + self.bias[0][:, None], out_im + self.bias[1][:, None]
        return pair(out_re, out_im).view_as(x)


@register(pnn.ComplexBatchNorm1d, pnn.ComplexBatchNorm2d)
def _batch_norm(layer, ctx: Context) -> tuple[nn.Module, bool]:
    ctx.refuse_real_input(layer)
    return PairBatchNorm(layer), False
