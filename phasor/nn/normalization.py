"""Complex normalisation layers over `phasor.functional.normalization`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from phasor._validation import check_complex, check_ndim
from phasor.functional.normalization import (
    complex_batch_norm,
    complex_group_norm,
    complex_instance_norm,
    complex_layer_norm,
    complex_rms_norm,
    magnitude_batch_norm,
    naive_batch_norm,
)
from phasor.nn._real_state import KeepsRealState

__all__ = [
    "ComplexBatchNorm1d",
    "ComplexBatchNorm2d",
    "ComplexBatchNorm3d",
    "ComplexGroupNorm",
    "ComplexInstanceNorm1d",
    "ComplexInstanceNorm2d",
    "ComplexInstanceNorm3d",
    "ComplexLayerNorm",
    "ComplexRMSNorm",
    "MagnitudeBatchNorm1d",
    "MagnitudeBatchNorm2d",
    "NaiveComplexBatchNorm1d",
    "NaiveComplexBatchNorm2d",
]


def _complex_dtype(dtype: torch.dtype | None) -> torch.dtype:
    """The complex dtype for the layer's state: ``dtype``, or the default dtype made complex."""
    if dtype is None:
        return torch.get_default_dtype().to_complex()
    if not dtype.is_complex:
        raise TypeError(f"dtype must be complex (torch.complex64 or torch.complex128), got {dtype}")
    return dtype


def _whitening_affine(
    module: nn.Module, num_features: int, affine: bool, device, cdtype: torch.dtype
) -> None:
    """Register the whitening norms' real ``(C, 3)`` weight and complex ``(C,)`` bias."""
    if affine:
        real = {"device": device, "dtype": cdtype.to_real()}
        module.weight = nn.Parameter(torch.empty(num_features, 3, **real))
        module.bias = nn.Parameter(torch.empty(num_features, device=device, dtype=cdtype))
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_whitening_affine(module: nn.Module) -> None:
    r"""$\gamma = I/\sqrt{2}$ (unit mean squared modulus out), $\beta = 0$."""
    if module.weight is not None:
        with torch.no_grad():
            r = 1.0 / math.sqrt(2.0)
            module.weight.copy_(module.weight.new_tensor([r, 0.0, r]))
            module.bias.zero_()


class _BatchNormBase(KeepsRealState):
    """Running-statistics bookkeeping shared by the batch-norm layers (as in torch.nn)."""

    _ndims: tuple[int, ...]
    _shape: str
    _running_stat = "running_mean"  # None when the layer keeps no running statistics

    def __init__(
        self,
        num_features: int,
        eps: float,
        momentum: float | None,
        affine: bool,
        track_running_stats: bool,
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats

    def _register_stats(self, stats: dict[str, torch.Tensor | None], device) -> None:
        for name, tensor in stats.items():
            self.register_buffer(name, tensor)
        tracked = torch.tensor(0, dtype=torch.long, device=device)
        self.register_buffer("num_batches_tracked", tracked if self.track_running_stats else None)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        check_complex(input)
        check_ndim(input, self._ndims, shape=self._shape)
        momentum = self.momentum
        count_batch = self.training and self.track_running_stats
        if count_batch and momentum is None:
            # Cumulative moving average over all batches seen so far.
            momentum = 1.0 / float(self.num_batches_tracked + 1)
        use_batch_stats = self.training or getattr(self, self._running_stat) is None
        track = not self.training or self.track_running_stats
        out = self._normalize(input, use_batch_stats, track, 0.0 if momentum is None else momentum)
        if count_batch:
            self.num_batches_tracked.add_(1)
        return out

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class _ComplexBatchNorm(_BatchNormBase):
    _real_state = ("weight", "running_cov")

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats)
        cdtype = _complex_dtype(dtype)
        real = {"device": device, "dtype": cdtype.to_real()}
        cplx = {"device": device, "dtype": cdtype}
        _whitening_affine(self, num_features, affine, device, cdtype)
        tracking = track_running_stats
        self._register_stats(
            {
                "running_mean": torch.zeros(num_features, **cplx) if tracking else None,
                "running_cov": torch.empty(num_features, 3, **real) if tracking else None,
            },
            device,
        )
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running covariance the identity, batch count 0."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_cov.copy_(self.running_cov.new_tensor([1.0, 0.0, 1.0]))
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        r"""$\gamma = I/\sqrt{2}$ (unit mean squared modulus out), $\beta = 0$."""
        self.reset_running_stats()
        _reset_whitening_affine(self)

    def _normalize(self, input, use_batch_stats, track, momentum):
        return complex_batch_norm(
            input,
            self.running_mean if track else None,
            self.running_cov if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
        )


class ComplexBatchNorm1d(_ComplexBatchNorm):
    r"""Complex batch normalisation by 2x2 whitening over a 2-D or 3-D input.

    See [`phasor.functional.complex_batch_norm`][phasor.functional.normalization.complex_batch_norm] for the formula. Arguments as in
    `torch.nn.BatchNorm1d`; ``momentum=None`` gives a cumulative average.

    Attributes:
        weight: real ``(C, 3)`` symmetric $\gamma$ as ``(γ_rr, γ_ri, γ_ii)``, initialised
            to $(1/\sqrt2, 0, 1/\sqrt2)$.
        bias: complex ``(C,)`` $\beta$, initialised to 0.
        running_mean: complex ``(C,)``, initialised to 0.
        running_cov: real ``(C, 3)`` as ``(V_rr, V_ri, V_ii)`` (unbiased), initialised to the
            identity ``(1, 0, 1)``.

    Shape:
        - Input: $(N, C)$ or $(N, C, L)$, complex.
        - Output: same shape and dtype.
    """

    _ndims = (2, 3)
    _shape = "(N, C) or (N, C, L)"


class ComplexBatchNorm2d(_ComplexBatchNorm):
    r"""Complex batch normalisation by 2x2 whitening over a 4-D input.

    See [`phasor.functional.complex_batch_norm`][phasor.functional.normalization.complex_batch_norm] for the formula and
    `ComplexBatchNorm1d` for the parameters and buffers. Arguments as in
    `torch.nn.BatchNorm2d`.

    Shape:
        - Input: $(N, C, H, W)$, complex.
        - Output: same shape and dtype.
    """

    _ndims = (4,)
    _shape = "(N, C, H, W)"


class ComplexBatchNorm3d(_ComplexBatchNorm):
    r"""Complex batch normalisation by 2x2 whitening over a 5-D input.

    See [`phasor.functional.complex_batch_norm`][phasor.functional.normalization.complex_batch_norm] for the formula and
    `ComplexBatchNorm1d` for the parameters and buffers. Arguments as in
    `torch.nn.BatchNorm3d`.

    Shape:
        - Input: $(N, C, D, H, W)$, complex.
        - Output: same shape and dtype.
    """

    _ndims = (5,)
    _shape = "(N, C, D, H, W)"


class _ComplexInstanceNorm(_ComplexBatchNorm):
    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        check_complex(input)
        if input.dim() == self._ndims[0]:  # unbatched (C, *), as torch.nn.InstanceNorm takes
            return super().forward(input.unsqueeze(0)).squeeze(0)
        return super().forward(input)

    def _normalize(self, input, use_batch_stats, track, momentum):
        return complex_instance_norm(
            input,
            self.running_mean if track else None,
            self.running_cov if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
        )


class ComplexInstanceNorm1d(_ComplexInstanceNorm):
    r"""Complex instance normalisation by 2x2 whitening per sample and channel, 1-D signals.

    See [`phasor.functional.complex_instance_norm`][phasor.functional.normalization.complex_instance_norm] for the formula. Arguments as in
    `torch.nn.InstanceNorm1d`: by default no affine map (``affine=False``) and no
    running statistics (``track_running_stats=False``), so train and eval agree. With
    ``affine=True`` the parameters are those of `ComplexBatchNorm1d` ($\gamma$
    real ``(C, 3)`` initialised to $I/\sqrt2$, $\beta$ complex ``(C,)``); with
    ``track_running_stats=True`` its buffers, updated with the batch average of the
    per-instance statistics and used in eval.

    Shape:
        - Input: $(N, C, L)$ or $(C, L)$, complex.
        - Output: same shape and dtype.
    """

    _ndims = (2, 3)
    _shape = "(C, L) or (N, C, L)"


class ComplexInstanceNorm2d(_ComplexInstanceNorm):
    r"""Complex instance normalisation by 2x2 whitening per sample and channel, images.

    See [`phasor.functional.complex_instance_norm`][phasor.functional.normalization.complex_instance_norm] and `ComplexInstanceNorm1d`.

    Shape:
        - Input: $(N, C, H, W)$ or $(C, H, W)$, complex.
        - Output: same shape and dtype.
    """

    _ndims = (3, 4)
    _shape = "(C, H, W) or (N, C, H, W)"


class ComplexInstanceNorm3d(_ComplexInstanceNorm):
    r"""Complex instance normalisation by 2x2 whitening per sample and channel, volumes.

    See [`phasor.functional.complex_instance_norm`][phasor.functional.normalization.complex_instance_norm] and `ComplexInstanceNorm1d`.

    Shape:
        - Input: $(N, C, D, H, W)$ or $(C, D, H, W)$, complex.
        - Output: same shape and dtype.
    """

    _ndims = (4, 5)
    _shape = "(C, D, H, W) or (N, C, D, H, W)"


class ComplexGroupNorm(KeepsRealState):
    r"""Complex group normalisation by 2x2 whitening per sample and group of channels.

    See [`phasor.functional.complex_group_norm`][phasor.functional.normalization.complex_group_norm] for the formula. Arguments as in
    `torch.nn.GroupNorm`; ``num_groups`` must divide ``num_channels``. No running
    statistics. ``ComplexGroupNorm(C, C, affine=True)`` computes what
    ``ComplexInstanceNorm*d(C, affine=True)`` does.

    Attributes:
        weight: real ``(C, 3)`` symmetric $\gamma$ per channel as ``(γ_rr, γ_ri, γ_ii)``,
            initialised to $(1/\sqrt2, 0, 1/\sqrt2)$.
        bias: complex ``(C,)`` $\beta$, initialised to 0.

    Shape:
        - Input: $(N, C, *)$ with up to three trailing dimensions, complex.
        - Output: same shape and dtype.
    """

    _real_state = ("weight",)

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"num_groups={num_groups} must divide num_channels={num_channels}")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _whitening_affine(self, num_channels, affine, device, _complex_dtype(dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""$\gamma = I/\sqrt{2}$, $\beta = 0$."""
        _reset_whitening_affine(self)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return complex_group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _MagnitudeBatchNorm(_BatchNormBase):
    _real_state = ("weight", "running_power")
    _running_stat = "running_power"

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats)
        real = {"device": device, "dtype": _complex_dtype(dtype).to_real()}
        self.register_parameter(
            "weight", nn.Parameter(torch.ones(num_features, **real)) if affine else None
        )
        power = torch.ones(num_features, **real) if track_running_stats else None
        self._register_stats({"running_power": power}, device)

    def reset_running_stats(self) -> None:
        """Running mean power 1, batch count 0."""
        if self.track_running_stats:
            self.running_power.fill_(1.0)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        r"""$\gamma = 1$."""
        self.reset_running_stats()
        if self.affine:
            nn.init.ones_(self.weight)

    def _normalize(self, input, use_batch_stats, track, momentum):
        return magnitude_batch_norm(
            input,
            self.running_power if track else None,
            self.weight,
            use_batch_stats,
            momentum,
            self.eps,
        )


class MagnitudeBatchNorm1d(_MagnitudeBatchNorm):
    r"""Magnitude-only batch normalisation, 2-D or 3-D input: phases kept exactly.

    $$
    \text{out} = z \cdot \gamma / \sqrt{\mathbb{E}|z|^2 + \epsilon}
    $$

    per channel. See [`phasor.functional.magnitude_batch_norm`][phasor.functional.normalization.magnitude_batch_norm]. Arguments as in
    `torch.nn.BatchNorm1d`; ``momentum=None`` gives a cumulative average.

    Attributes:
        weight: real ``(C,)`` $\gamma$, initialised to 1.
        running_power: real ``(C,)`` running $\mathbb{E}|z|^2$, initialised to 1.

    Shape:
        - Input: $(N, C)$ or $(N, C, L)$, complex.
        - Output: same shape and dtype.
    """

    _ndims = (2, 3)
    _shape = "(N, C) or (N, C, L)"


class MagnitudeBatchNorm2d(_MagnitudeBatchNorm):
    r"""Magnitude-only batch normalisation over a 4-D input: phases kept exactly.

    See [`phasor.functional.magnitude_batch_norm`][phasor.functional.normalization.magnitude_batch_norm] and `MagnitudeBatchNorm1d`.

    Shape:
        - Input: $(N, C, H, W)$, complex.
        - Output: same shape and dtype.
    """

    _ndims = (4,)
    _shape = "(N, C, H, W)"


class _NaiveComplexBatchNorm(_BatchNormBase):
    _real_state = ("weight", "bias", "running_mean", "running_var")

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats)
        real = {"device": device, "dtype": _complex_dtype(dtype).to_real()}
        if affine:
            self.weight = nn.Parameter(torch.empty(2, num_features, **real))
            self.bias = nn.Parameter(torch.empty(2, num_features, **real))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        tracking = track_running_stats
        self._register_stats(
            {
                "running_mean": torch.zeros(2, num_features, **real) if tracking else None,
                "running_var": torch.ones(2, num_features, **real) if tracking else None,
            },
            device,
        )
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running means 0, running variances 1, batch count 0."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Scales 1 and shifts 0 for both parts."""
        self.reset_running_stats()
        if self.affine:
            nn.init.ones_(self.weight)
            nn.init.zeros_(self.bias)

    def _normalize(self, input, use_batch_stats, track, momentum):
        return naive_batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
        )


class NaiveComplexBatchNorm1d(_NaiveComplexBatchNorm):
    r"""Batch normalisation of the real and imaginary parts separately, 2-D or 3-D input.

    See [`phasor.functional.naive_batch_norm`][phasor.functional.normalization.naive_batch_norm]. State tensors are real ``(2, C)``: row 0
    for the real part, row 1 for the imaginary part.

    Shape:
        - Input: $(N, C)$ or $(N, C, L)$, complex.
        - Output: same shape and dtype.
    """

    _ndims = (2, 3)
    _shape = "(N, C) or (N, C, L)"


class NaiveComplexBatchNorm2d(_NaiveComplexBatchNorm):
    r"""Batch normalisation of the real and imaginary parts separately, 4-D input.

    See [`phasor.functional.naive_batch_norm`][phasor.functional.normalization.naive_batch_norm] and `NaiveComplexBatchNorm1d`.

    Shape:
        - Input: $(N, C, H, W)$, complex.
        - Output: same shape and dtype.
    """

    _ndims = (4,)
    _shape = "(N, C, H, W)"


class ComplexLayerNorm(KeepsRealState):
    r"""Complex layer normalisation over the trailing ``normalized_shape`` dimensions.

    $$
    \text{out} = \frac{z - \mathbb{E}[z]}{\sqrt{\mathbb{E}|z - \mathbb{E}[z]|^2 + \epsilon}}
    \cdot w + b
    $$

    See [`phasor.functional.complex_layer_norm`][phasor.functional.normalization.complex_layer_norm]. ``weight`` (complex, initialised to 1)
    and ``bias`` (complex, initialised to 0) have shape ``normalized_shape``.

    Shape:
        - Input: $(*, \text{normalized\_shape})$, complex.
        - Output: same shape and dtype.
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        factory = {"device": device, "dtype": _complex_dtype(dtype)}
        with_weight = elementwise_affine
        with_bias = elementwise_affine and bias
        self.register_parameter(
            "weight",
            nn.Parameter(torch.ones(self.normalized_shape, **factory)) if with_weight else None,
        )
        self.register_parameter(
            "bias",
            nn.Parameter(torch.zeros(self.normalized_shape, **factory)) if with_bias else None,
        )

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return complex_layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class ComplexRMSNorm(KeepsRealState):
    r"""Complex RMS normalisation over the trailing ``normalized_shape`` dimensions.

    $$
    \text{out} = \frac{z}{\sqrt{\mathbb{E}|z|^2 + \epsilon}} \cdot w
    $$

    See [`phasor.functional.complex_rms_norm`][phasor.functional.normalization.complex_rms_norm]. Arguments as in `torch.nn.RMSNorm`:
    ``eps=None`` is ``torch.finfo`` of the real dtype; ``weight`` is real (as torch's, it
    scales each feature without rotating it), of shape ``normalized_shape``, initialised to 1.

    Shape:
        - Input: $(*, \text{normalized\_shape})$, complex.
        - Output: same shape and dtype.
    """

    _real_state = ("weight",)

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        real = {"device": device, "dtype": _complex_dtype(dtype).to_real()}
        weight = nn.Parameter(torch.ones(self.normalized_shape, **real))
        self.register_parameter("weight", weight if elementwise_affine else None)

    def reset_parameters(self) -> None:
        """Weight 1."""
        if self.weight is not None:
            nn.init.ones_(self.weight)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return complex_rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
