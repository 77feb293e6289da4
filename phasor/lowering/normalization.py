r"""Lowering of the normalisation layers of [`phasor.nn.normalization`][phasor.nn.normalization].

Every lowered layer works on the two parts ``re, im = x[:, 0], x[:, 1]`` of its pair input,
each of the complex input's shape, so the channel axis and the normalised axes are where
phasor has them (also for unbatched inputs, whose pair axis is dim 1 too). The whitening
norms apply per channel (or per sample and group) the 2x2 map

$$
\text{out} = \Gamma\, (V + \epsilon I)^{-1/2} (x - \mu) + \beta,
\qquad x = (\Re z, \Im z)^T,
$$

with phasor's closed-form inverse square root (`_whitening_matrix`); running statistics are
updated as phasor does (``momentum=None``: cumulative average; covariance unbiased).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from phasor import nn as pnn
from phasor.functional.normalization import _scaled_rsqrt, _whitening_matrix
from phasor.lowering._core import Context, adopt, pair, register

Parts = tuple[torch.Tensor, torch.Tensor]


def _flat_parts(x: torch.Tensor) -> Parts:
    """The parts of a pair $(N, 2, C, *)$ as two real $(N, C, L)$ tensors."""
    re, im = x[:, 0], x[:, 1]
    if re.dim() == 2:
        return re.unsqueeze(-1), im.unsqueeze(-1)
    return re.flatten(2), im.flatten(2)  # no sizes read: the batch axis stays dynamic (ONNX)


def _matrix_times(m: tuple[torch.Tensor, ...], re: torch.Tensor, im: torch.Tensor) -> Parts:
    """$M (\\Re z, \\Im z)^T$ with the entries ``(m_rr, m_ri, m_ir, m_ii)`` of $M$ broadcast
    over the last axis of the parts."""
    m_rr, m_ri, m_ir, m_ii = (t[..., None] for t in m)
    return m_rr * re + m_ri * im, m_ir * re + m_ii * im


def _plus_bias(out: Parts, bias: torch.Tensor | None) -> Parts:
    """``out + bias`` for a pair-layout $(2, C)$ bias, on parts $(N, C, L)$."""
    if bias is None:
        return out
    return out[0] + bias[0][:, None], out[1] + bias[1][:, None]


def _centred_covariance(
    re: torch.Tensor, im: torch.Tensor, dims: tuple[int, ...]
) -> tuple[Parts, Parts, torch.Tensor]:
    """Means over ``dims`` (which include the last axis), the centred parts and the biased
    covariance ``(..., 3)`` as ``(V_rr, V_ri, V_ii)``."""
    mean_re, mean_im = re.mean(dims), im.mean(dims)
    cr, ci = re - mean_re[..., None], im - mean_im[..., None]
    cov = torch.stack(((cr * cr).mean(dims), (cr * ci).mean(dims), (ci * ci).mean(dims)), -1)
    return (mean_re, mean_im), (cr, ci), cov


def _whitened_by_running_stats(module: nn.Module, re: torch.Tensor, im: torch.Tensor) -> Parts:
    """Eval-mode whitening of $(N, C, L)$ parts by ``running_mean`` $(2, C)$ and
    ``running_cov`` $(C, 3)$, with the module's ``weight`` and ``bias``."""
    cr, ci = re - module.running_mean[0][:, None], im - module.running_mean[1][:, None]
    m, _ = _whitening_matrix(module.running_cov, module.weight, module.eps)
    return _plus_bias(_matrix_times(m, cr, ci), module.bias)


class _PairRunningStats(nn.Module):
    """The running-statistics bookkeeping of phasor's batch norms, on the adopted state."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.eps, self.momentum = layer.eps, layer.momentum
        self.track_running_stats = layer.track_running_stats
        adopt(self, layer)

    def _update_momentum(self) -> float | None:
        """This call's weight of the batch statistic in the running ones (``None``: no update)
        and, when there is one, the batch counted, as in phasor."""
        if not (self.training and self.track_running_stats):
            return None
        momentum = self.momentum
        if momentum is None:  # cumulative moving average over the batches seen so far
            momentum = 1.0 / float(self.num_batches_tracked + 1)
        self.num_batches_tracked.add_(1)
        return momentum


class PairBatchNorm(_PairRunningStats):
    """Lowered [`phasor.nn.ComplexBatchNorm1d`][phasor.nn.normalization.ComplexBatchNorm1d] /
    ``2d`` / ``3d``: the per-channel 2x2 affine map $M (z - \\mu) + \\beta$ with
    $M = \\Gamma (V + \\epsilon I)^{-1/2}$; in training mode from the batch (updating the
    running statistics as phasor does), else from them.

    ``running_mean`` is $(2, C)$, ``bias`` $(2, C)$; ``weight`` $(C, 3)$ and ``running_cov``
    $(C, 3)$ are real as in phasor.

    Shape:
        - Input: $(N, 2, C, *)$, the pair of a complex $(N, C, *)$.
        - Output: same shape.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        re, im = _flat_parts(x)
        momentum = self._update_momentum()
        if self.training or self.running_mean is None:
            (mean_re, mean_im), centred, cov = _centred_covariance(re, im, (0, 2))
            m, _ = _whitening_matrix(cov, self.weight, self.eps)
            out = _plus_bias(_matrix_times(m, *centred), self.bias)
            n = re.shape[0] * re.shape[2]
            if momentum is not None and n > 0:  # an empty batch leaves the statistics as they are
                with torch.no_grad():
                    mean = torch.stack((mean_re, mean_im))
                    self.running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
                    self.running_cov.mul_(1 - momentum).add_(cov, alpha=momentum * n / (n - 1))
        else:
            out = _whitened_by_running_stats(self, re, im)
        return pair(*out).view_as(x)


class PairInstanceNorm(_PairRunningStats):
    """Lowered [`phasor.nn.ComplexInstanceNorm1d`][phasor.nn.normalization.ComplexInstanceNorm1d]
    / ``2d`` / ``3d``: each sample's channels whitened by their own mean and covariance, then
    $\\Gamma x + \\beta$; with ``track_running_stats`` the running statistics take the batch
    average of the per-instance ones in training (covariance unbiased, $L / (L - 1)$ times the
    biased one) and normalise in eval, as in phasor. State as in `PairBatchNorm`.

    Shape:
        - Input: $(N, 2, C, *)$ or unbatched $(C, 2, *)$, the pair of a complex $(N, C, *)$
          or $(C, *)$.
        - Output: same shape.
    """

    def __init__(self, layer: nn.Module) -> None:
        super().__init__(layer)
        self.unbatched_ndim = layer._ndims[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        unbatched = x.dim() - 1 == self.unbatched_ndim
        batched = x.unsqueeze(0).transpose(1, 2) if unbatched else x  # (1, 2, C, *)
        re, im = _flat_parts(batched)
        momentum = self._update_momentum()
        if self.training or self.running_mean is None:
            length = re.shape[2]
            if length == 1:
                raise ValueError(
                    "Expected more than 1 spatial element when training, "
                    f"got a pair input of size {tuple(x.shape)}"
                )
            (mean_re, mean_im), centred, cov = _centred_covariance(re, im, (2,))
            m, _ = _whitening_matrix(cov, None, self.eps)
            white = _matrix_times(m, *centred)
            if self.weight is not None:
                gamma_rr, gamma_ri, gamma_ii = self.weight.unbind(-1)
                white = _matrix_times((gamma_rr, gamma_ri, gamma_ri, gamma_ii), *white)
            out = _plus_bias(white, self.bias)
            if momentum is not None and re.numel() > 0:
                with torch.no_grad():
                    mean = torch.stack((mean_re.mean(0), mean_im.mean(0)))
                    self.running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
                    unbiased = momentum * length / (length - 1)
                    self.running_cov.mul_(1 - momentum).add_(cov.mean(0), alpha=unbiased)
        else:
            out = _whitened_by_running_stats(self, re, im)
        out = pair(*out).view_as(batched)
        return out.transpose(1, 2).squeeze(0) if unbatched else out


class PairGroupNorm(nn.Module):
    """Lowered [`phasor.nn.ComplexGroupNorm`][phasor.nn.normalization.ComplexGroupNorm]: each
    sample's groups of consecutive channels whitened by their own mean and covariance, then
    $\\Gamma x + \\beta$ per channel. ``weight`` $(C, 3)$ real, ``bias`` $(2, C)$.

    Shape:
        - Input: $(N, 2, C, *)$, the pair of a complex $(N, C, *)$.
        - Output: same shape.
    """

    def __init__(self, layer: pnn.ComplexGroupNorm) -> None:
        super().__init__()
        self.num_groups, self.eps = layer.num_groups, layer.eps
        adopt(self, layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        re, im = _flat_parts(x)
        re_g, im_g = (t.unflatten(1, (self.num_groups, -1)).flatten(2) for t in (re, im))
        _, centred, cov = _centred_covariance(re_g, im_g, (2,))
        m, _ = _whitening_matrix(cov, None, self.eps)
        white = tuple(t.reshape_as(re) for t in _matrix_times(m, *centred))
        if self.weight is not None:
            gamma_rr, gamma_ri, gamma_ii = self.weight.unbind(-1)
            white = _matrix_times((gamma_rr, gamma_ri, gamma_ri, gamma_ii), *white)
        return pair(*_plus_bias(white, self.bias)).view_as(x)


class PairMagnitudeBatchNorm(_PairRunningStats):
    """Lowered [`phasor.nn.MagnitudeBatchNorm1d`][phasor.nn.normalization.MagnitudeBatchNorm1d]
    / ``2d``: both parts scaled by $\\gamma / \\sqrt{\\mathbb{E}|z|^2 + \\epsilon}$ per channel,
    from the batch in training (updating ``running_power``, uncentred, as phasor does), else
    from ``running_power``. ``weight`` and ``running_power`` are real $(C,)$ as in phasor.

    Shape:
        - Input: $(N, 2, C, *)$, the pair of a complex $(N, C, *)$.
        - Output: same shape.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        re, im = _flat_parts(x)
        momentum = self._update_momentum()
        if self.training or self.running_power is None:
            power = (re * re + im * im).mean((0, 2))
            if momentum is not None and re.numel() > 0:
                with torch.no_grad():
                    self.running_power.mul_(1 - momentum).add_(power, alpha=momentum)
        else:
            power = self.running_power
        scale = _scaled_rsqrt(power + self.eps)
        if self.weight is not None:
            scale = scale * self.weight
        return pair(re * scale[:, None], im * scale[:, None]).view_as(x)


class PairNaiveBatchNorm(_PairRunningStats):
    """Lowered [`phasor.nn.NaiveComplexBatchNorm1d`][phasor.nn.normalization.NaiveComplexBatchNorm1d]
    / ``2d``: `torch.nn.functional.batch_norm` of the $2C$ channels of the pair input viewed
    as $(N, 2C, *)$ (real parts first), which is what phasor normalises; the $(2, C)$ state is
    phasor's, viewed as $(2C,)$. The running statistics are updated here, as torch does (mean,
    unbiased variance), so that a ``momentum`` read from the batch count under
    ``torch.compile`` need not be a Python number.

    Shape:
        - Input: $(N, 2, C, *)$, the pair of a complex $(N, C, *)$.
        - Output: same shape.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1, 2)
        momentum = self._update_momentum()
        batch = self.training or self.running_mean is None

        running_mean = None if batch else self.running_mean.view(-1)
        running_var = None if batch else self.running_var.view(-1)
        weight = None if self.weight is None else self.weight.view(-1)
        bias = None if self.bias is None else self.bias.view(-1)
        out = F.batch_norm(flat, running_mean, running_var, weight, bias, batch, 0.0, self.eps)
        if momentum is not None and flat.numel() > 0:
            dims = (0, *range(2, flat.dim()))
            with torch.no_grad():
                mean, var = flat.mean(dims), flat.var(dims)
                self.running_mean.view(-1).mul_(1 - momentum).add_(mean, alpha=momentum)
                self.running_var.view(-1).mul_(1 - momentum).add_(var, alpha=momentum)
        return out.view_as(x)


class PairLayerNorm(nn.Module):
    """Lowered [`phasor.nn.ComplexLayerNorm`][phasor.nn.normalization.ComplexLayerNorm]:
    $(z - \\mathbb{E}z) / \\sqrt{\\mathbb{E}|z - \\mathbb{E}z|^2 + \\epsilon} \\cdot w + b$
    over the trailing ``normalized_shape`` axes, the complex product with $w$ written on the
    parts. ``weight`` and ``bias`` are $(2, *S)$.

    Shape:
        - Input: the pair of a complex $(*, S)$.
        - Output: same shape.
    """

    def __init__(self, layer: pnn.ComplexLayerNorm) -> None:
        super().__init__()
        self.normalized_shape, self.eps = layer.normalized_shape, layer.eps
        adopt(self, layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        re, im = x[:, 0], x[:, 1]
        dims = tuple(range(-len(self.normalized_shape), 0))
        cr = re - re.mean(dims, keepdim=True)
        ci = im - im.mean(dims, keepdim=True)
        scale = torch.rsqrt((cr * cr + ci * ci).mean(dims, keepdim=True) + self.eps)
        re, im = cr * scale, ci * scale
        if self.weight is not None:
            w_re, w_im = self.weight[0], self.weight[1]
            re, im = re * w_re - im * w_im, re * w_im + im * w_re
        if self.bias is not None:
            re, im = re + self.bias[0], im + self.bias[1]
        return pair(re, im)


class PairRMSNorm(nn.Module):
    """Lowered [`phasor.nn.ComplexRMSNorm`][phasor.nn.normalization.ComplexRMSNorm]: both parts
    times $w / \\sqrt{\\mathbb{E}|z|^2 + \\epsilon}$ over the trailing ``normalized_shape``
    axes (``eps=None``: the real dtype's machine epsilon). ``weight`` is real $S$ as in phasor.

    Shape:
        - Input: the pair of a complex $(*, S)$.
        - Output: same shape.
    """

    def __init__(self, layer: pnn.ComplexRMSNorm) -> None:
        super().__init__()
        self.normalized_shape, self.eps = layer.normalized_shape, layer.eps
        adopt(self, layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        re, im = x[:, 0], x[:, 1]
        eps = torch.finfo(x.dtype).eps if self.eps is None else self.eps
        dims = tuple(range(-len(self.normalized_shape), 0))
        scale = _scaled_rsqrt((re * re + im * im).mean(dims, keepdim=True) + eps)
        if self.weight is not None:
            scale = scale * self.weight
        return pair(re * scale, im * scale)


_LOWERED = {
    pnn.ComplexBatchNorm1d: PairBatchNorm,
    pnn.ComplexBatchNorm2d: PairBatchNorm,
    pnn.ComplexBatchNorm3d: PairBatchNorm,
    pnn.ComplexInstanceNorm1d: PairInstanceNorm,
    pnn.ComplexInstanceNorm2d: PairInstanceNorm,
    pnn.ComplexInstanceNorm3d: PairInstanceNorm,
    pnn.ComplexGroupNorm: PairGroupNorm,
    pnn.MagnitudeBatchNorm1d: PairMagnitudeBatchNorm,
    pnn.MagnitudeBatchNorm2d: PairMagnitudeBatchNorm,
    pnn.NaiveComplexBatchNorm1d: PairNaiveBatchNorm,
    pnn.NaiveComplexBatchNorm2d: PairNaiveBatchNorm,
    pnn.ComplexLayerNorm: PairLayerNorm,
    pnn.ComplexRMSNorm: PairRMSNorm,
}


@register(*_LOWERED)
def _normalization(layer, ctx: Context) -> tuple[nn.Module, bool]:
    ctx.refuse_real_input(layer)  # every phasor norm refuses a real input
    return _LOWERED[type(layer)](layer), False
