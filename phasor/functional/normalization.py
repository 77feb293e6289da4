r"""Complex normalisation: 2x2 whitening (batch, group and instance norm), split ("naive")
batch norm, magnitude-only batch norm, layer norm and RMS norm.

Complex batch norm (Trabelsi et al., *Deep Complex Networks*, 2018) treats each channel's
values as 2-D real vectors $(\Re z, \Im z)$ and whitens them with the inverse square
root of their 2x2 covariance, so the normalised distribution is circular (equal variance in
both parts, no correlation) rather than merely centred and scaled part by part.

Conventions used by all functions here:

- The channel dimension is dim 1. Batch norms take statistics over every other dimension,
  instance norm per sample and channel, group norm per sample and group of channels.
- The covariance used for whitening is the biased (population) one; the running covariance
  is updated with the unbiased one, ``n / (n - 1)`` times larger, like ``torch.nn.BatchNorm``.
- Running statistics are updated in place:
  ``running = (1 - momentum) * running + momentum * batch_statistic``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch.autograd import forward_ad

from phasor._validation import check_complex, check_ndim

__all__ = [
    "complex_batch_norm",
    "complex_group_norm",
    "complex_instance_norm",
    "complex_layer_norm",
    "complex_rms_norm",
    "magnitude_batch_norm",
    "naive_batch_norm",
]

_BATCH_SHAPE = "(N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W)"
_BATCH_NDIMS = (2, 3, 4, 5)
_INSTANCE_SHAPE = "(N, C, L), (N, C, H, W) or (N, C, D, H, W)"
_INSTANCE_NDIMS = (3, 4, 5)


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


def _normalized_shape(input: torch.Tensor, normalized_shape) -> tuple[int, ...]:
    """``normalized_shape`` as a tuple; ``ValueError`` unless it is ``input``'s trailing shape."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[-k:]) != shape:
        raise ValueError(
            f"input's trailing dimensions must equal normalized_shape {shape}, "
            f"got input shape {tuple(input.shape)}"
        )
    return shape


def _check_whitening_state(input, running_mean, running_cov, weight, bias) -> None:
    """Raise unless the whitening norms' optional state fits ``input``'s channels and dtype:
    running mean (complex ``(C,)``) and covariance (real ``(C, 3)``) together or neither,
    ``weight`` real ``(C, 3)``, ``bias`` complex ``(C,)``."""
    if (running_mean is None) != (running_cov is None):
        raise ValueError("running_mean and running_cov must be given together or both None")
    channels = input.shape[1]
    real_dtype = input.dtype.to_real()
    _check_state(running_mean, "running_mean", (channels,), input.dtype)
    _check_state(running_cov, "running_cov", (channels, 3), real_dtype)
    _check_state(weight, "weight", (channels, 3), real_dtype)
    _check_state(bias, "bias", (channels,), input.dtype)


def _check_batch_size(input: torch.Tensor) -> None:
    """Raise, as torch does, if training would see exactly one value per channel (an empty
    batch is allowed: it has no statistics to take and gives an empty output)."""
    if math.prod(input.shape[:1] + input.shape[2:]) == 1:
        raise ValueError(
            "Expected more than 1 value per channel when training, "
            f"got input size {tuple(input.shape)}"
        )


def _empty_batch(
    flat: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None
) -> torch.Tensor:
    """The output of batch statistics on an ``(N, C, L)`` input without values: empty like
    ``flat``, yet computed from ``weight`` and ``bias`` so that their gradients exist (as zeros),
    as in `torch.nn.functional.batch_norm`."""
    out = flat.clone()
    if weight is not None:  # (C,) or (C, 3)
        out = out * weight.reshape(weight.shape[0], -1)[:, :1]
    if bias is not None:
        out = out + bias[:, None]
    return out


def _whitening_matrix(
    cov: torch.Tensor, weight: torch.Tensor | None, eps: float
) -> tuple[tuple[torch.Tensor, ...], tuple]:
    r"""Entries ``(m_rr, m_ri, m_ir, m_ii)`` of $M = \Gamma (V + \epsilon I)^{-1/2}$ per
    channel, and the intermediates that `_whitening_matrix_backward` needs.

    Closed form, scale-invariant: with $k = \operatorname{tr}(V + \epsilon I)$,
    $U = (V + \epsilon I) / k$ (entries at most 1), $s = \sqrt{\det U}$ and
    $t = \sqrt{\operatorname{tr} U + 2s}$,

    $$
    (V + \epsilon I)^{-1/2} = \frac{1}{\sqrt{k}\, s t}
    \begin{pmatrix} U_{ii} + s & -U_{ri} \\ -U_{ri} & U_{rr} + s\end{pmatrix}.
    $$

    The identity holds for any constant $k > 0$, so $k$ is held constant (detached):
    its derivatives, of order $k^{-2}$, would overflow as the determinant would
    (order $|z|^4$) without the normalisation. The result, and its derivatives of any
    order, stay finite wherever the covariance is. Plain differentiable ops on ``(C,)`` tensors.
    """
    vrr, vri, vii = cov.unbind(-1)
    k = (vrr + vii + 2.0 * eps).detach()
    a, b, c, e = vrr / k, vri / k, vii / k, eps / k
    # det U = a c - b^2 + e (a + c) + e^2 with a c - b^2 = det(V) / k^2 >= 0 in exact
    # arithmetic; clamping it keeps rounding in a (near-)degenerate channel from making the
    # square root NaN.
    raw_det = a * c - b * b
    s = torch.sqrt(raw_det.clamp_min(0.0) + e * (a + c) + e * e)
    t = torch.sqrt(a + c + 2.0 * (e + s))
    q = torch.rsqrt(k) / (s * t)
    wrr, wri, wii = (c + e + s) * q, -b * q, (a + e + s) * q
    if weight is None:
        m = (wrr, wri, wri, wii)
    else:
        grr, gri, gii = weight.unbind(-1)
        m = (
            grr * wrr + gri * wri,
            grr * wri + gri * wii,
            gri * wrr + gii * wri,
            gri * wri + gii * wii,
        )
    return m, (k, a, b, c, e, weight, raw_det, s, t, q, wrr, wri, wii)


def _whitening_matrix_backward(
    saved: tuple, g_m: tuple[torch.Tensor, ...]
) -> tuple[tuple[torch.Tensor, ...], torch.Tensor | None]:
    """Backward of `_whitening_matrix` by hand (the chain rule through its few dozen
    ops on ``(C,)`` tensors, without an autograd graph of them): the gradients of
    ``(V_rr, V_ri, V_ii)`` and of ``weight`` from those of the entries of ``M``. The
    intermediates are of the order of the normalised quantities; ``k`` (a constant) enters
    once, at the end."""
    k, a, b, c, e, weight, raw_det, s, t, q, wrr, wri, wii = saved
    g_mrr, g_mri, g_mir, g_mii = g_m
    if weight is None:
        g_wrr, g_wri, g_wii, g_weight = g_mrr, g_mri + g_mir, g_mii, None
    else:
        grr, gri, gii = weight.unbind(-1)
        g_weight = torch.stack(
            (
                g_mrr * wrr + g_mri * wri,
                g_mrr * wri + g_mri * wii + g_mir * wrr + g_mii * wri,
                g_mir * wri + g_mii * wii,
            ),
            dim=-1,
        )
        g_wrr = g_mrr * grr + g_mir * gri
        g_wri = g_mrr * gri + g_mri * grr + g_mir * gii + g_mii * gri
        g_wii = g_mri * gri + g_mii * gii
    # w = n q with numerators n = (c + e + s, -b, a + e + s) and q = k^(-1/2) / (s t):
    # h = dL/dn = g_w q, and h_log = dL/d(log q) = sum of g_w w.
    h_rr, h_ri, h_ii = g_wrr * q, g_wri * q, g_wii * q
    h_log = h_rr * (c + e + s) - h_ri * b + h_ii * (a + e + s)
    # log q = -log s - log t + const, t^2 = a + c + 2 e + 2 s
    g_tt = -h_log / (2.0 * t * t)  # dL/d(t^2)
    g_s = h_rr + h_ii - h_log / s + 2.0 * g_tt
    g_inner = g_s / (2.0 * s)  # s^2 = clamp(a c - b^2) + e (a + c) + e^2
    g_det = torch.where(raw_det >= 0.0, g_inner, 0.0)
    g_a = h_ii + g_tt + g_det * c + g_inner * e
    g_c = h_rr + g_tt + g_det * a + g_inner * e
    g_b = -h_ri - 2.0 * g_det * b
    return (g_a / k, g_b / k, g_c / k), g_weight


def _covariance(centred: torch.Tensor, scratch: torch.Tensor | None = None) -> torch.Tensor:
    """Biased ``(C, 3)`` covariance ``(V_rr, V_ri, V_ii)`` of a centred ``(N, C, L)`` tensor.

    Two full-size products, each with one reduction: ``centred ** 2`` has imaginary part
    ``2 x_r x_i``, and the squared real view, read as complex, is ``x_r^2 + i x_i^2``. With
    ``scratch`` (a tensor like ``centred``, outside autograd) both products are written there.
    """
    n = centred.shape[0] * centred.shape[2]
    cross = torch.mul(centred, centred, out=scratch).sum((0, 2)).imag
    parts = torch.view_as_real(centred)
    squares = torch.square(parts, out=None if scratch is None else torch.view_as_real(scratch))
    diag = torch.view_as_complex(squares).sum((0, 2))
    return torch.stack((diag.real, 0.5 * cross, diag.imag), dim=-1) / n


def _matrix_factors(
    m_rr: torch.Tensor, m_ri: torch.Tensor, m_ir: torch.Tensor, m_ii: torch.Tensor, length: int
) -> torch.Tensor:
    """Factors ``f`` of shape ``(2, C, L, 2)`` that apply per-channel 2x2 matrices to the real
    view ``v = (x_r, x_i)`` of an ``(N, C, L)`` tensor: ``M v = v * f[0] + u * f[1]`` with
    ``u = view_as_real(1j * z) = (-x_i, x_r)``.

    Each output part is a sum of two products, as in the matrix product, so an anisotropic
    ``M`` loses no precision (``alpha z + beta conj(z)`` would cancel). The factors are repeated
    along ``L`` so that the full-size products run on contiguous memory; each pair is copied
    as one complex number, which broadcasts fast.
    """
    pairs = torch.stack((m_rr, m_ii, -m_ri, m_ir), dim=-1).view(-1, 2, 2).transpose(0, 1)
    pairs = torch.view_as_complex(pairs)[:, :, None]
    return torch.view_as_real(pairs.expand(-1, -1, length).contiguous())


def _apply_matrix(
    x: torch.Tensor,
    factors: torch.Tensor,
    bias: torch.Tensor | None,
    scratch: torch.Tensor | None = None,
) -> torch.Tensor:
    """``M x + bias`` per channel on a complex ``(N, C, L)`` tensor (see `_matrix_factors`).

    With ``scratch`` (a tensor like ``x``, outside autograd) the result is written over ``x``:
    two full-size buffers instead of five.
    """
    if scratch is None:
        mixed = torch.view_as_real(x) * factors[0] + torch.view_as_real(x * 1j) * factors[1]
        out = torch.view_as_complex(mixed)
        return out if bias is None else out + bias[:, None]
    torch.view_as_real(torch.mul(x, 1j, out=scratch)).mul_(factors[1])
    torch.view_as_real(x).mul_(factors[0])
    out = x.add_(scratch)
    return out if bias is None else out.add_(bias[:, None])


def _batch_whitening(
    flat: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None, eps: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training-mode batch norm of ``(N, C, L)`` in plain differentiable ops: out, mean, cov."""
    mean = flat.mean((0, 2))
    centred = flat - mean[:, None]
    cov = _covariance(centred)
    m, _ = _whitening_matrix(cov, weight, eps)
    return _apply_matrix(centred, _matrix_factors(*m, flat.shape[2]), bias), mean, cov


class _BatchWhitening(torch.autograd.Function):
    """`_batch_whitening` with a hand-written backward.

    Per channel the map is affine, ``out = M (z - mu) + bias`` on the real parts, so the
    gradient of the input is too: ``M^T g + Q (z - mu) + c``, where the symmetric ``Q`` carries
    the gradient of the covariance and the constant ``c`` that of the mean. Three reductions
    and about a dozen full-size passes in two buffers replace the autograd graph of the plain
    ops. Only the input and per-channel tensors are saved (the centred input is recomputed,
    as in ``torch.nn``). A double backward (``create_graph=True``) differentiates
    `_batch_whitening` instead.
    """

    @staticmethod
    def forward(ctx, flat, weight, bias, eps):
        # The values of _batch_whitening, in two full-size buffers: fewer passes over memory.
        mean = flat.mean((0, 2))
        centred = flat - mean[:, None]
        scratch = torch.empty_like(centred)
        cov = _covariance(centred, scratch)
        m, saved = _whitening_matrix(cov, weight, eps)
        out = _apply_matrix(centred, _matrix_factors(*m, flat.shape[2]), bias, scratch)
        ctx.eps = eps
        ctx.matrix = m, saved
        ctx.save_for_backward(flat, weight, bias, mean)
        ctx.mark_non_differentiable(mean, cov)
        return out, mean, cov

    @staticmethod
    def backward(ctx, grad, _grad_mean, _grad_cov):
        flat, weight, bias, mean = ctx.saved_tensors
        needs = ctx.needs_input_grad[:3]
        if torch.is_grad_enabled():
            wanted = [t for t, need in zip((flat, weight, bias), needs, strict=True) if need]
            out = _batch_whitening(flat, weight, bias, ctx.eps)[0]
            grads = iter(torch.autograd.grad(out, wanted, grad, create_graph=True))
            return (*(next(grads) if need else None for need in needs), None)

        (m_rr, m_ri, m_ir, m_ii), saved = ctx.matrix
        n, length = flat.shape[0] * flat.shape[2], flat.shape[2]
        centred = flat - mean[:, None]
        scratch = torch.empty_like(centred)
        parts, scratch_parts = torch.view_as_real(centred), torch.view_as_real(scratch)
        grad = grad.resolve_conj().resolve_neg()  # view_as_real needs plain storage
        grad_parts = torch.view_as_real(grad)
        # dL/dM = sum over samples of g (x_r, x_i)^T, read off as two complex sums of products:
        # (g_r x_r, g_i x_i), and (g_r (-x_i), g_i x_r) from the real view of 1j zc.
        diag = torch.view_as_complex(torch.mul(grad_parts, parts, out=scratch_parts)).sum((0, 2))
        torch.mul(centred, 1j, out=scratch)
        off = torch.view_as_complex(scratch_parts.mul_(grad_parts)).sum((0, 2))
        g_sum = grad.sum((0, 2))
        g_cov, g_weight = _whitening_matrix_backward(
            saved, (diag.real, -off.real, off.imag, diag.imag)
        )
        grad_input = None
        if needs[0]:
            # cov = mean over samples of v v^T: the matrix (2 g_rr, g_ri; g_ri, 2 g_ii) / n on zc.
            g_rr, g_ri, g_ii = (g / n for g in g_cov)
            cov_part = _matrix_factors(2.0 * g_rr, g_ri, g_ri, 2.0 * g_ii, length)
            grad_input = _apply_matrix(centred, cov_part, None, scratch)
            # M^T g, and through the mean: minus its sample mean.
            transposed = _matrix_factors(m_rr, m_ir, m_ri, m_ii, length)
            torch.view_as_real(torch.mul(grad, 1j, out=scratch)).mul_(transposed[1])
            grad_input.add_(scratch)
            torch.view_as_real(grad_input).addcmul_(grad_parts, transposed[0])
            g_mean_r, g_mean_i = g_sum.real / n, g_sum.imag / n
            shift = torch.complex(
                -(m_rr * g_mean_r + m_ir * g_mean_i), -(m_ri * g_mean_r + m_ii * g_mean_i)
            )
            grad_input.add_(shift[:, None])
        return grad_input, g_weight if needs[1] else None, g_sum if needs[2] else None, None


def _needs_traceable_ops() -> bool:
    """Whether the call runs under a transform that a custom autograd Function would block.

    ``torch.func`` transforms (vmap, jacrev, ...), forward-mode AD and ``torch.compile`` get
    `_batch_whitening`, whose plain ops they all support. (The first two flags are
    private; torch checks them the same way, e.g. in ``torch.autograd.function``.)
    """
    # Looked up defensively: should a later torch drop a private flag, the custom Function
    # still runs, and a transform would then report that it cannot trace it.
    functorch_active = getattr(torch._C, "_are_functorch_transforms_active", lambda: False)
    return (
        functorch_active()
        or getattr(forward_ad, "_current_level", -1) >= 0
        or torch.compiler.is_compiling()
    )


def _whiten(
    flat: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None, eps: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`_batch_whitening` of ``(N, C, L)``, by the hand-written backward of
    `_BatchWhitening` unless a transform needs plain ops."""
    if _needs_traceable_ops():
        return _batch_whitening(flat, weight, bias, eps)
    return _BatchWhitening.apply(flat, weight, bias, eps)


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

    Per channel, with $x = (\Re z, \Im z)^T$:

    $$
    \tilde x = (V + \epsilon I)^{-1/2} (x - \mathbb{E}[x]), \qquad
    V = \begin{pmatrix} V_{rr} & V_{ri} \\ V_{ri} & V_{ii} \end{pmatrix}, \qquad
    \text{out} = \begin{pmatrix} \gamma_{rr} & \gamma_{ri} \\ \gamma_{ri} & \gamma_{ii}
    \end{pmatrix} \tilde x + \beta
    $$

    where $V_{rr} = \operatorname{Var}(\Re z)$, $V_{ii} = \operatorname{Var}(\Im z)$,
    $V_{ri} = \operatorname{Cov}(\Re z, \Im z)$, and the inverse square root is taken in
    closed form. In training (or when no running statistics are given) the mean and biased
    covariance of the batch are used; with ``training=True`` the running statistics, if
    given, are updated in place with the batch mean and the *unbiased* covariance. Otherwise
    the running statistics are used.

    $\epsilon$ is added to the covariance itself, in the units of $|z|^2$; the
    inverse square root is then computed from $(V + \epsilon I)$ divided by its trace
    (the same value, in exact arithmetic), so it stays finite for any input whose covariance
    is finite, e.g. $|z| \sim 10^{15}$ in complex64. A batch without values (``N = 0``
    or an empty spatial size) gives an empty output and leaves the running statistics
    unchanged, as in `torch.nn.functional.batch_norm`.

    Args:
        input: complex tensor, channels in dim 1.
        running_mean: complex ``(C,)`` running mean, or ``None``.
        running_cov: real ``(C, 3)`` running covariance ``(V_rr, V_ri, V_ii)``, or ``None``.
        weight: real ``(C, 3)`` symmetric $\gamma$ as ``(γ_rr, γ_ri, γ_ii)``, or ``None``
            (identity).
        bias: complex ``(C,)`` $\beta$, or ``None`` (zero).
        training: use (and record) batch statistics.
        momentum: weight of the batch statistic in the running update.
        eps: added to the diagonal of the covariance before whitening.

    Shape:
        - Input: $(N, C, *)$ with up to three trailing dimensions, complex.
        - Output: same shape and dtype.
    """
    check_complex(input)
    check_ndim(input, _BATCH_NDIMS, shape=_BATCH_SHAPE)
    _check_whitening_state(input, running_mean, running_cov, weight, bias)

    # Per channel the whole map is affine in (Re z, Im z): out = M (x - mean) + beta with the
    # 2x2 M = gamma W, applied to an (N, C, L) view of the input.
    flat = input.reshape(*input.shape[:2], math.prod(input.shape[2:]))
    if training or running_mean is None:
        if training:
            _check_batch_size(input)
        if flat.numel() == 0:
            return _empty_batch(flat, weight, bias).reshape(input.shape)
        out, mean, cov = _whiten(flat, weight, bias, eps)
        if training and running_mean is not None:
            n = flat.shape[0] * flat.shape[2]
            with torch.no_grad():
                running_mean.mul_(1.0 - momentum).add_(mean, alpha=momentum)
                running_cov.mul_(1.0 - momentum).add_(cov, alpha=momentum * n / (n - 1))
    else:
        m, _ = _whitening_matrix(running_cov, weight, eps)
        centred = flat - running_mean[:, None]
        in_place = not torch.is_grad_enabled() and not _needs_traceable_ops()
        scratch = torch.empty_like(centred) if in_place else None
        out = _apply_matrix(centred, _matrix_factors(*m, flat.shape[2]), bias, scratch)
    return out.reshape(input.shape)


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

    $$
    \text{out} = \operatorname{BN}_{\Re}(\Re z) + i \operatorname{BN}_{\Im}(\Im z)
    $$

    with `torch.nn.functional.batch_norm` for each part; the two parts are not
    decorrelated (compare `complex_batch_norm`). Every state tensor is real with shape
    ``(2, C)``: row 0 belongs to the real part, row 1 to the imaginary part. Running statistics
    follow torch (biased variance to normalise, unbiased to update).

    Shape:
        - Input: $(N, C, *)$ with up to three trailing dimensions, complex.
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

    $$
    \mu = \mathbb{E}[z], \qquad \sigma^2 = \mathbb{E}\big[|z - \mu|^2\big], \qquad
    \text{out} = \frac{z - \mu}{\sqrt{\sigma^2 + \epsilon}} \cdot w + b
    $$

    with expectations over the normalised dimensions of each sample. $\sigma^2$ is the
    (biased) complex variance $\operatorname{Var}(\Re z) + \operatorname{Var}(\Im z)$,
    so the output has unit mean squared modulus; unlike `complex_batch_norm` it does not
    decorrelate the two parts. ``weight`` and ``bias`` are complex of shape
    ``normalized_shape``; a complex weight scales and rotates.

    Shape:
        - Input: $(*, \text{normalized\_shape})$, complex.
        - Output: same shape and dtype.
    """
    check_complex(input)
    shape = _normalized_shape(input, normalized_shape)
    k = len(shape)
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


def _instance_whitening(
    input: torch.Tensor, groups: int, eps: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Whitening of each sample's ``groups`` groups of consecutive channels, for a non-empty
    ``(N, C, *)`` input: the whitened ``(N, C, L)`` tensor, the means ``(N, G)`` and the biased
    covariances ``(N, G, 3)``.

    The ``N G`` groups are the channels of a batch of one for the batch-norm helpers, so the
    whitening is the same closed form, scale-invariant, with the same hand-written backward.
    """
    n, channels = input.shape[:2]
    length = math.prod(input.shape[2:])
    flat = input.reshape(1, n * groups, channels // groups * length)
    out, mean, cov = _whiten(flat, None, None, eps)
    return out.reshape(n, channels, length), mean.view(n, groups), cov.view(n, groups, 3)


def _affine(x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None):
    r"""``Γ x + β`` per channel of a complex ``(N, C, L)`` tensor, with the real ``(C, 3)``
    symmetric $\Gamma$ as ``(γ_rr, γ_ri, γ_ii)`` and the complex ``(C,)`` $\beta$."""
    if weight is not None:
        grr, gri, gii = weight.unbind(-1)
        x = _apply_matrix(x, _matrix_factors(grr, gri, gri, gii, x.shape[2]), None)
    return x if bias is None else x + bias[:, None]


def complex_group_norm(
    input: torch.Tensor,
    num_groups: int,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    r"""Complex group normalisation by 2x2 whitening per sample and group of channels.

    The ``C`` channels are split into ``num_groups`` groups of consecutive channels. For each
    sample and group, with $x = (\Re z, \Im z)^T$ over the group's channels and all
    spatial positions:

    $$
    \tilde x = (V + \epsilon I)^{-1/2} (x - \mathbb{E}[x]), \qquad
    \text{out}_c = \begin{pmatrix} \gamma_{rr} & \gamma_{ri} \\ \gamma_{ri} & \gamma_{ii}
    \end{pmatrix}_c \tilde x_c + \beta_c
    $$

    with the biased 2x2 covariance $V$ of the group, inverted as in
    `complex_batch_norm` (closed form, finite wherever $V$ is), and the affine map
    per channel $c$. No running statistics: train and eval agree. With
    ``num_groups = C`` it is `complex_instance_norm`; with ``num_groups = 1`` each
    sample is whitened as a whole. An empty input gives an empty output (and zero parameter
    gradients).

    Args:
        input: complex tensor, channels in dim 1.
        num_groups: number of groups; must divide ``C``.
        weight: real ``(C, 3)`` symmetric $\gamma$ as ``(γ_rr, γ_ri, γ_ii)``, or ``None``
            (identity).
        bias: complex ``(C,)`` $\beta$, or ``None`` (zero).
        eps: added to the diagonal of each covariance before whitening.

    Shape:
        - Input: $(N, C, *)$ with up to three trailing dimensions, complex.
        - Output: same shape and dtype.
    """
    check_complex(input)
    check_ndim(input, _BATCH_NDIMS, shape=_BATCH_SHAPE)
    channels = input.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups < 1:
        raise ValueError(f"num_groups must be a positive integer, got {num_groups!r}")
    if channels % num_groups:
        raise ValueError(
            f"num_groups={num_groups} must divide the input's {channels} channels (dim 1)"
        )
    hint = "weight and bias need one entry per channel (the input's dim 1)"
    _check_state(weight, "weight", (channels, 3), input.dtype.to_real(), hint)
    _check_state(bias, "bias", (channels,), input.dtype, hint)
    if input.numel() == 0:
        flat = input.reshape(input.shape[0], channels, math.prod(input.shape[2:]))
        return _empty_batch(flat, weight, bias).reshape(input.shape)
    white = _instance_whitening(input, num_groups, eps)[0]
    return _affine(white, weight, bias).reshape(input.shape)


def complex_instance_norm(
    input: torch.Tensor,
    running_mean: torch.Tensor | None = None,
    running_cov: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> torch.Tensor:
    r"""Complex instance normalisation by 2x2 whitening per sample and channel.

    For each sample and channel, over the spatial positions, with $x = (\Re z, \Im z)^T$:

    $$
    \text{out} = \begin{pmatrix} \gamma_{rr} & \gamma_{ri} \\ \gamma_{ri} & \gamma_{ii}
    \end{pmatrix} (V + \epsilon I)^{-1/2} (x - \mathbb{E}[x]) + \beta
    $$

    as `complex_group_norm` with ``num_groups = C``. With ``use_input_stats`` (the
    default) each instance's own mean and biased covariance are used and the running
    statistics, if given, are updated in place with their average over the batch (the
    covariance unbiased, ``L / (L - 1)`` times the biased one for ``L`` spatial positions),
    as `torch.nn.functional.instance_norm` does. With ``use_input_stats=False`` the
    running statistics are used, as in `complex_batch_norm` in eval.

    Args:
        input: complex tensor, channels in dim 1, at least one spatial dimension.
        running_mean: complex ``(C,)`` running mean, or ``None``.
        running_cov: real ``(C, 3)`` running covariance ``(V_rr, V_ri, V_ii)``, or ``None``.
        weight: real ``(C, 3)`` symmetric $\gamma$ as ``(γ_rr, γ_ri, γ_ii)``, or ``None``
            (identity).
        bias: complex ``(C,)`` $\beta$, or ``None`` (zero).
        use_input_stats: normalise with each instance's statistics (and record them).
        momentum: weight of the batch statistic in the running update.
        eps: added to the diagonal of the covariance before whitening.

    Shape:
        - Input: $(N, C, L)$, $(N, C, H, W)$ or $(N, C, D, H, W)$, complex.
        - Output: same shape and dtype.
    """
    check_complex(input)
    check_ndim(input, _INSTANCE_NDIMS, shape=_INSTANCE_SHAPE)
    _check_whitening_state(input, running_mean, running_cov, weight, bias)
    channels = input.shape[1]
    if not use_input_stats:
        if running_mean is None:
            raise ValueError("use_input_stats=False needs running_mean and running_cov")
        return complex_batch_norm(input, running_mean, running_cov, weight, bias, False, eps=eps)
    length = math.prod(input.shape[2:])
    if length == 1:
        raise ValueError(
            "Expected more than 1 spatial element when training, "
            f"got input size {tuple(input.shape)}"
        )
    if input.numel() == 0:
        flat = input.reshape(input.shape[0], channels, length)
        return _empty_batch(flat, weight, bias).reshape(input.shape)
    white, mean, cov = _instance_whitening(input, channels, eps)
    if running_mean is not None:
        with torch.no_grad():
            running_mean.mul_(1.0 - momentum).add_(mean.mean(0), alpha=momentum)
            unbiased = momentum * length / (length - 1)
            running_cov.mul_(1.0 - momentum).add_(cov.mean(0), alpha=unbiased)
    return _affine(white, weight, bias).reshape(input.shape)


def _scaled_rsqrt(total: torch.Tensor) -> torch.Tensor:
    r"""$1 / \sqrt{t}$ of a positive real tensor, computed as
    $k^{-1/2} (t / k)^{-1/2}$ with the constant (detached) $k = t$.

    The value is the same; the derivative of the inverse square root is then taken near 1
    rather than at $t$, where it is of order $t^{-3/2}$ and underflows (e.g. in
    float32 for $|z| \sim 2^{50}$, $t \sim 2^{100}$). Derivatives of any order
    stay finite wherever $t$ is.
    """
    k = total.detach()
    return torch.rsqrt(k) * torch.rsqrt(total / k)


def _power(z: torch.Tensor) -> torch.Tensor:
    """$|z|^2$ without a square root."""
    return z.real.square() + z.imag.square()


def magnitude_batch_norm(
    input: torch.Tensor,
    running_power: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> torch.Tensor:
    r"""Magnitude-only batch normalisation: each channel scaled to unit mean power, phase kept.

    $$
    \text{out} = z \cdot \frac{\gamma}{\sqrt{\mathbb{E}\big[|z|^2\big] + \epsilon}}
    $$

    per channel, with the expectation over the batch and spatial positions. The factor is
    real and positive (for $\gamma > 0$), so $\arg(\text{out}) = \arg(z)$
    exactly and the magnitudes $|z|$ are scaled, never shifted: no bias, no centring
    (a shift of $|z|$ would need a clamp at 0, and a centred mean would rotate the
    phases). With $\gamma = 1$ the output has $\mathbb{E}|\text{out}|^2 \approx 1$
    per channel; a negative $\gamma$ flips the phase by $\pi$.

    In training (or without running statistics) the batch's mean power is used; with
    ``training=True`` the running mean power, if given, is updated in place with it
    (uncentred, so without the ``n / (n - 1)`` correction of a variance). Otherwise the
    running mean power is used. An empty batch gives an empty output and leaves the running
    statistic unchanged.

    Args:
        input: complex tensor, channels in dim 1.
        running_power: real ``(C,)`` running $\mathbb{E}|z|^2$, or ``None``.
        weight: real ``(C,)`` $\gamma$, or ``None`` (one).
        training: use (and record) batch statistics.
        momentum: weight of the batch statistic in the running update.
        eps: added to the mean power, in the units of $|z|^2$.

    Shape:
        - Input: $(N, C, *)$ with up to three trailing dimensions, complex.
        - Output: same shape and dtype.
    """
    check_complex(input)
    check_ndim(input, _BATCH_NDIMS, shape=_BATCH_SHAPE)
    channels = input.shape[1]
    real_dtype = input.dtype.to_real()
    _check_state(running_power, "running_power", (channels,), real_dtype)
    _check_state(weight, "weight", (channels,), real_dtype)
    flat = input.reshape(input.shape[0], channels, math.prod(input.shape[2:]))
    if training or running_power is None:
        if training:
            _check_batch_size(input)
        if flat.numel() == 0:
            return _empty_batch(flat, weight, None).reshape(input.shape)
        power = _power(flat).mean((0, 2))
        if training and running_power is not None:
            with torch.no_grad():
                running_power.mul_(1.0 - momentum).add_(power, alpha=momentum)
    else:
        power = running_power
    scale = _scaled_rsqrt(power + eps)
    if weight is not None:
        scale = scale * weight
    return (flat * scale[:, None]).reshape(input.shape)


def complex_rms_norm(
    input: torch.Tensor,
    normalized_shape: int | Sequence[int],
    weight: torch.Tensor | None = None,
    eps: float | None = None,
) -> torch.Tensor:
    r"""Complex RMS normalisation over the trailing ``normalized_shape`` dimensions.

    $$
    \text{out} = \frac{z}{\sqrt{\mathbb{E}\big[|z|^2\big] + \epsilon}} \cdot w
    $$

    with the expectation over the normalised dimensions of each sample, as
    `torch.nn.functional.rms_norm` with $|z|^2$ for $x^2$: no centring, so
    phases are kept. ``weight`` is real, of shape ``normalized_shape`` (as torch's, it scales
    each feature; a rotation belongs to the next complex layer). ``eps=None`` means
    ``torch.finfo`` of the real dtype (float32 or float64), as in torch.

    Shape:
        - Input: $(*, \text{normalized\_shape})$, complex.
        - Output: same shape and dtype.
    """
    check_complex(input)
    shape = _normalized_shape(input, normalized_shape)
    k = len(shape)
    real_dtype = input.dtype.to_real()
    _check_state(weight, "weight", shape, real_dtype, "weight must have shape normalized_shape")
    if eps is None:
        eps = torch.finfo(real_dtype).eps
    power = _power(input).mean(tuple(range(-k, 0)), keepdim=True)
    out = input * _scaled_rsqrt(power + eps)
    return out if weight is None else out * weight
