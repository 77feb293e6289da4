r"""Complex normalisation: 2x2 whitening batch norm, split ("naive") batch norm, layer norm.

Complex batch norm (Trabelsi et al., *Deep Complex Networks*, 2018) treats each channel's
values as 2-D real vectors :math:`(\Re z, \Im z)` and whitens them with the inverse square
root of their 2x2 covariance, so the normalised distribution is circular (equal variance in
both parts, no correlation) rather than merely centred and scaled part by part.

Conventions used by all functions here:

- The channel dimension is dim 1; statistics are taken over every other dimension.
- The covariance used for whitening is the biased (population) one; the running covariance
  is updated with the unbiased one, ``n / (n - 1)`` times larger, like ``torch.nn.BatchNorm``.
- Running statistics are updated in place:
  ``running = (1 - momentum) * running + momentum * batch_statistic``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from phasor._validation import check_complex, check_ndim

__all__ = ["complex_batch_norm", "complex_layer_norm", "naive_batch_norm"]

_BATCH_SHAPE = "(N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W)"
_BATCH_NDIMS = (2, 3, 4, 5)


_CHANNEL_HINT = "the input's dim 1 must equal the layer's num_features"


def _check_state(
    tensor: torch.Tensor | None,
    name: str,
    shape: tuple[int, ...],
    dtype: torch.dtype,
    hint: str = _CHANNEL_HINT,
) -> None:
    """Check a parameter or buffer against the shape and dtype that the input needs."""
    if tensor is None:
        return
    if tuple(tensor.shape) != shape:
        raise ValueError(
            f"{name} has shape {tuple(tensor.shape)} but the input needs {shape}: {hint}"
        )
    if tensor.dtype != dtype:
        raise TypeError(
            f"{name} has dtype {tensor.dtype} but the input needs {dtype}; convert the layer "
            f"or the input so that they match"
        )


def _check_batch_size(input: torch.Tensor) -> None:
    if input.numel() // input.shape[1] <= 1:
        raise ValueError(
            "Expected more than 1 value per channel when training, "
            f"got input size {tuple(input.shape)}"
        )


def _per_channel(t: torch.Tensor, ndim: int) -> torch.Tensor:
    """Reshape a ``(C,)`` tensor so that it broadcasts along dim 1 of an ``ndim``-D input."""
    return t.reshape(1, -1, *([1] * (ndim - 2)))


def _inverse_sqrt_2x2(
    vrr: torch.Tensor, vri: torch.Tensor, vii: torch.Tensor, eps: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Entries ``(w_rr, w_ri, w_ii)`` of :math:`(V + \epsilon I)^{-1/2}` for SPD 2x2 ``V``.

    Closed form: with :math:`s = \sqrt{\det}` and :math:`t = \sqrt{\operatorname{tr} + 2s}`,
    :math:`(V + \epsilon I)^{-1/2} = \frac{1}{st}\begin{pmatrix} V_{ii} + \epsilon + s &
    -V_{ri} \\ -V_{ri} & V_{rr} + \epsilon + s\end{pmatrix}`.
    """
    # det(V + eps I) = det V + eps tr V + eps^2. det V >= 0 in exact arithmetic; clamping it
    # keeps rounding in a (near-)degenerate channel from making the square root NaN.
    det_v = (vrr * vii - vri * vri).clamp_min(0.0)
    s = torch.sqrt(det_v + eps * (vrr + vii) + eps * eps)
    vrr = vrr + eps
    vii = vii + eps
    t = torch.sqrt(vrr + vii + 2.0 * s)
    inv_st = 1.0 / (s * t)
    return (vii + s) * inv_st, -vri * inv_st, (vrr + s) * inv_st


def complex_batch_norm(
    input: torch.Tensor,
    running_mean: torch.Tensor | None = None,
    running_cov: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> torch.Tensor:
    r"""Complex batch normalisation by 2x2 whitening (Trabelsi et al., 2018).

    Per channel, with :math:`x = (\Re z, \Im z)^T`:

    .. math::
        \tilde x = (V + \epsilon I)^{-1/2} (x - \mathbb{E}[x]), \qquad
        V = \begin{pmatrix} V_{rr} & V_{ri} \\ V_{ri} & V_{ii} \end{pmatrix}, \qquad
        \text{out} = \begin{pmatrix} \gamma_{rr} & \gamma_{ri} \\ \gamma_{ri} & \gamma_{ii}
        \end{pmatrix} \tilde x + \beta

    where :math:`V_{rr} = \operatorname{Var}(\Re z)`, :math:`V_{ii} = \operatorname{Var}(\Im z)`,
    :math:`V_{ri} = \operatorname{Cov}(\Re z, \Im z)`, and the inverse square root is taken in
    closed form. In training (or when no running statistics are given) the mean and biased
    covariance of the batch are used; with ``training=True`` the running statistics, if
    given, are updated in place with the batch mean and the *unbiased* covariance. Otherwise
    the running statistics are used.

    Args:
        input: complex tensor, channels in dim 1.
        running_mean: complex ``(C,)`` running mean, or ``None``.
        running_cov: real ``(C, 3)`` running covariance ``(V_rr, V_ri, V_ii)``, or ``None``.
        weight: real ``(C, 3)`` symmetric :math:`\gamma` as ``(γ_rr, γ_ri, γ_ii)``, or ``None``
            (identity).
        bias: complex ``(C,)`` :math:`\beta`, or ``None`` (zero).
        training: use (and record) batch statistics.
        momentum: weight of the batch statistic in the running update.
        eps: added to the diagonal of the covariance before whitening.

    Shape:
        - Input: :math:`(N, C, *)` with up to three trailing dimensions, complex.
        - Output: same shape and dtype.
    """
    check_complex(input)
    check_ndim(input, _BATCH_NDIMS, shape=_BATCH_SHAPE)
    if (running_mean is None) != (running_cov is None):
        raise ValueError("running_mean and running_cov must be given together or both None")
    channels = input.shape[1]
    real_dtype = input.real.dtype
    _check_state(running_mean, "running_mean", (channels,), input.dtype)
    _check_state(running_cov, "running_cov", (channels, 3), real_dtype)
    _check_state(weight, "weight", (channels, 3), real_dtype)
    _check_state(bias, "bias", (channels,), input.dtype)

    ndim = input.dim()
    dims = [0, *range(2, ndim)]
    xr, xi = input.real, input.imag
    if training or running_mean is None:
        if training:
            _check_batch_size(input)
        mean_r, mean_i = xr.mean(dims), xi.mean(dims)
        cr = xr - _per_channel(mean_r, ndim)
        ci = xi - _per_channel(mean_i, ndim)
        vrr, vri, vii = (cr * cr).mean(dims), (cr * ci).mean(dims), (ci * ci).mean(dims)
        if training and running_mean is not None:
            n = input.numel() // channels
            with torch.no_grad():
                running_mean.mul_(1.0 - momentum).add_(torch.complex(mean_r, mean_i) * momentum)
                batch_cov = torch.stack((vrr, vri, vii), dim=-1) * (n / (n - 1))
                running_cov.mul_(1.0 - momentum).add_(batch_cov * momentum)
    else:
        cr = xr - _per_channel(running_mean.real, ndim)
        ci = xi - _per_channel(running_mean.imag, ndim)
        vrr, vri, vii = running_cov.unbind(-1)

    wrr, wri, wii = (_per_channel(w, ndim) for w in _inverse_sqrt_2x2(vrr, vri, vii, eps))
    out_r = wrr * cr + wri * ci
    out_i = wri * cr + wii * ci
    if weight is not None:
        grr, gri, gii = (_per_channel(g, ndim) for g in weight.unbind(-1))
        out_r, out_i = grr * out_r + gri * out_i, gri * out_r + gii * out_i
    if bias is not None:
        out_r = out_r + _per_channel(bias.real, ndim)
        out_i = out_i + _per_channel(bias.imag, ndim)
    return torch.complex(out_r, out_i)


def naive_batch_norm(
    input: torch.Tensor,
    running_mean: torch.Tensor | None = None,
    running_var: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> torch.Tensor:
    r"""Batch normalisation of the real and imaginary parts separately ("naive" complex BN).

    .. math::
        \text{out} = \operatorname{BN}_{\Re}(\Re z) + i \operatorname{BN}_{\Im}(\Im z)

    with :func:`torch.nn.functional.batch_norm` for each part; the two parts are not
    decorrelated (compare :func:`complex_batch_norm`). Every state tensor is real with shape
    ``(2, C)``: row 0 belongs to the real part, row 1 to the imaginary part. Running statistics
    follow torch (biased variance to normalise, unbiased to update).

    Shape:
        - Input: :math:`(N, C, *)` with up to three trailing dimensions, complex.
        - Output: same shape and dtype.
    """
    check_complex(input)
    check_ndim(input, _BATCH_NDIMS, shape=_BATCH_SHAPE)
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must be given together or both None")
    channels = input.shape[1]
    real_dtype = input.real.dtype
    for name, tensor in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        _check_state(tensor, name, (2, channels), real_dtype)
    if training:
        _check_batch_size(input)

    def flat(t: torch.Tensor | None) -> torch.Tensor | None:
        # A view of the (2, C) state, so that torch updates running statistics in place.
        return None if t is None else t.view(2 * channels)

    stacked = torch.cat((input.real, input.imag), dim=1)
    out = F.batch_norm(
        stacked,
        flat(running_mean),
        flat(running_var),
        flat(weight),
        flat(bias),
        training,
        momentum,
        eps,
    )
    return torch.complex(out[:, :channels], out[:, channels:])


def complex_layer_norm(
    input: torch.Tensor,
    normalized_shape: int | Sequence[int],
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    r"""Complex layer normalisation over the trailing ``normalized_shape`` dimensions.

    .. math::
        \mu = \mathbb{E}[z], \qquad \sigma^2 = \mathbb{E}\big[|z - \mu|^2\big], \qquad
        \text{out} = \frac{z - \mu}{\sqrt{\sigma^2 + \epsilon}} \cdot w + b

    with expectations over the normalised dimensions of each sample. :math:`\sigma^2` is the
    (biased) complex variance :math:`\operatorname{Var}(\Re z) + \operatorname{Var}(\Im z)`,
    so the output has unit mean squared modulus; unlike :func:`complex_batch_norm` it does not
    decorrelate the two parts. ``weight`` and ``bias`` are complex of shape
    ``normalized_shape``; a complex weight scales and rotates.

    Shape:
        - Input: :math:`(*, \text{normalized\_shape})`, complex.
        - Output: same shape and dtype.
    """
    check_complex(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[-k:]) != shape:
        raise ValueError(
            f"input's trailing dimensions must equal normalized_shape {shape}, "
            f"got input shape {tuple(input.shape)}"
        )
    hint = "weight and bias must have shape normalized_shape"
    _check_state(weight, "weight", shape, input.dtype, hint)
    _check_state(bias, "bias", shape, input.dtype, hint)
    dims = tuple(range(-k, 0))
    centred = input - input.mean(dims, keepdim=True)
    power = (centred.real.square() + centred.imag.square()).mean(dims, keepdim=True)
    out = centred * torch.rsqrt(power + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out
