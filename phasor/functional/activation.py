"""Complex activation functions.

Every function takes a complex64 or complex128 tensor, returns a tensor of the same dtype
(``modulus`` and ``modulus_squared`` return the matching real dtype) and raises
``TypeError`` for real input. The family, by construction:

- split (Type-A): a real activation on ``Re z`` and ``Im z`` separately (``crelu``,
  ``cprelu``, ``split_*``);
- polar (Type-B): a function of ``|z|`` times the phase ``z / |z|`` (``modrelu``,
  ``amp_phase_tanh``, ``siglog``, ``polar_squash``, ``polar_log``, ``mod_softplus``,
  ``csign``);
- phase-dependent gains: ``zrelu``, ``z_leaky_relu``, ``cardioid``, ``shifted_cardioid``,
  ``rotated_crelu``;
- real read-outs: ``modulus``, ``modulus_squared``.

Functions that divide by ``|z|`` define the phase ``z / |z|`` as ``0`` at ``z = 0`` (the
convention of `torch.sgn`) and evaluate it with a safe denominator, so forward and
backward stay finite at ``z = 0`` and at tiny ``|z|`` such as ``1e-30`` or ``1e-300``. Where a function is
differentiable at ``z = 0`` the gradient there is the true derivative; where it is not, the
value at ``z = 0`` and the gradient used there are stated in the docstring.

NaN and Inf propagate as in ``torch.nn``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from phasor._validation import check_complex

__all__ = [
    "amp_phase_tanh",
    "cardioid",
    "cprelu",
    "crelu",
    "csign",
    "mod_softplus",
    "modrelu",
    "modulus",
    "modulus_squared",
    "polar_log",
    "polar_squash",
    "rotated_crelu",
    "shifted_cardioid",
    "siglog",
    "split_celu",
    "split_elu",
    "split_gelu",
    "split_hardsigmoid",
    "split_hardswish",
    "split_hardtanh",
    "split_leaky_relu",
    "split_mish",
    "split_selu",
    "split_sigmoid",
    "split_silu",
    "split_softplus",
    "split_softsign",
    "split_tanh",
    "z_leaky_relu",
    "zrelu",
]


def _safe_modulus(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return ``(|z|, |z| > 0, denominator)``; the denominator is ``|z|``, or 1 where ``z = 0``.

    Dividing by the denominator inside ``torch.where(nonzero, ..., ...)`` keeps both the
    forward values and the backward pass free of ``0 / 0``.
    """
    mod = torch.abs(z)
    nonzero = mod > 0
    return mod, nonzero, torch.where(nonzero, mod, torch.ones_like(mod))


def _per_channel(param: torch.Tensor, z: torch.Tensor, name: str) -> torch.Tensor:
    """Shape a real 1-D per-channel parameter to broadcast over dim 1 of ``z``.

    Follows ``torch.nn.PReLU``: one entry is shared by every element; ``C`` entries need an
    input of shape ``(N, C, *)``.
    """
    if not isinstance(param, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(param).__name__}")
    real_dtype = z.dtype.to_real()
    if param.dtype != real_dtype:
        raise TypeError(
            f"{name} must be a real tensor of dtype {real_dtype} to match input of dtype "
            f"{z.dtype}, got {param.dtype}"
        )
    if param.dim() != 1 or param.numel() == 0:
        raise ValueError(f"{name} must be a non-empty 1-D tensor, got shape {tuple(param.shape)}")
    count = param.numel()
    if count == 1:
        return param.reshape(())
    if z.dim() < 2 or z.shape[1] != count:
        raise ValueError(
            f"{name} has {count} entries, one per channel, so input must have shape "
            f"(N, {count}, *), got shape {tuple(z.shape)}"
        )
    return param.reshape((count,) + (1,) * (z.dim() - 2))


def _check_positive(value: float, name: str) -> None:
    """Raise ``ValueError`` unless the hyperparameter ``value`` is a finite number above 0."""
    if not (isinstance(value, (int, float)) and 0 < value < float("inf")):
        raise ValueError(f"{name} must be a finite number above 0, got {value!r}")


def _split(fn, z: torch.Tensor) -> torch.Tensor:
    """Apply the real function ``fn`` to the real and imaginary parts of ``z`` separately."""
    check_complex(z)
    # One call over the interleaved (re, im) pairs: a single kernel and no re-assembly copy.
    return torch.view_as_complex(fn(torch.view_as_real(z.resolve_conj())))


def _rotation(phase: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``exp(i phase)`` for a real per-channel ``phase``, shaped to broadcast over ``z``."""
    theta = _per_channel(phase, z, "phase")
    return torch.complex(torch.cos(theta), torch.sin(theta))


def crelu(z: torch.Tensor) -> torch.Tensor:
    r"""CReLU: ReLU applied to the real and imaginary parts separately.

    $$
    \mathrm{CReLU}(z) = \mathrm{relu}(\Re z) + i\,\mathrm{relu}(\Im z)
    $$

    At ``z = 0`` the value is ``0``; on the kinks (``Re z = 0`` or ``Im z = 0``) the gradient
    uses ``relu'(0) = 0`` as `torch.relu` does.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    # One relu over the interleaved (re, im) pairs: a single kernel and no re-assembly copy.
    return torch.view_as_complex(torch.relu(torch.view_as_real(z.resolve_conj())))


def zrelu(z: torch.Tensor) -> torch.Tensor:
    r"""zReLU (Guberman 2016): pass ``z`` where its phase lies in the first quadrant.

    $$
    \mathrm{zReLU}(z) = \begin{cases} z & \arg z \in [0, \pi/2]
    \text{ (i.e. } \Re z \ge 0 \text{ and } \Im z \ge 0) \\ 0 & \text{otherwise} \end{cases}
    $$

    Both axes bounding the first quadrant are included, so ``zrelu(0) = 0`` with gradient 1
    (the identity) at ``z = 0`` and on the boundary. An input with a NaN part has no phase
    and passes unchanged, so NaN propagates.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    keep = ((z.real >= 0) & (z.imag >= 0)) | torch.isnan(z)
    return torch.where(keep, z, torch.zeros_like(z))


def modrelu(z: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    r"""modReLU (Arjovsky et al. 2016): shrink the modulus by a learnable real bias, keep the phase.

    $$
    \mathrm{modReLU}(z) = \mathrm{relu}(|z| + b)\,\frac{z}{|z|}
    $$

    Inputs with ``|z| <= -b`` map to 0; for ``b = 0`` the function is the identity.
    At ``z = 0`` the value is ``0`` for every ``b`` (the phase ``z / |z|`` is taken as 0 there;
    for ``b > 0`` the function has no limit at 0). The gradient at ``z = 0`` is the identity
    for ``b = 0`` and zero otherwise, which is the true derivative for ``b <= 0``.

    Args:
        z: complex input.
        bias: real tensor of shape ``(1,)`` (shared by all elements) or ``(C,)`` (one per
            channel, dim 1 of an ``(N, C, *)`` input), of the real dtype matching ``z``
            (float32 for complex64, float64 for complex128).

    Shape:
        - Input: ``(*)`` with a shared bias, ``(N, C, *)`` with a per-channel bias.
        - Output: same shape and dtype as the input.
    """
    check_complex(z)
    b = _per_channel(bias, z, "bias")
    mod, nonzero, denom = _safe_modulus(z)
    scaled = torch.relu(mod + b) * (z / denom)
    at_zero = z * (b == 0).to(mod.dtype)
    return torch.where(nonzero, scaled, at_zero)


def cardioid(z: torch.Tensor) -> torch.Tensor:
    r"""Cardioid (Virtue et al. 2017): scale ``z`` by a phase-dependent gain in ``[0, 1]``.

    $$
    \mathrm{cardioid}(z) = \tfrac12\,\bigl(1 + \cos(\arg z)\bigr)\,z,
    \qquad \cos(\arg z) = \Re z / |z|
    $$

    On the real axis it equals ``relu``. At ``z = 0`` the value is ``0``; the function is
    continuous there but not differentiable (it is positively homogeneous and not linear),
    and the gradient used at ``z = 0`` takes ``arg 0 = 0`` as `torch.angle` does,
    giving the identity.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    _, nonzero, denom = _safe_modulus(z)
    cos_arg = torch.where(nonzero, z.real / denom, torch.ones_like(denom))
    return 0.5 * (1 + cos_arg) * z


def split_sigmoid(z: torch.Tensor) -> torch.Tensor:
    r"""Split sigmoid: the logistic sigmoid of the real and imaginary parts separately.

    $$
    \sigma(\Re z) + i\,\sigma(\Im z), \qquad \sigma(x) = 1 / (1 + e^{-x})
    $$

    Smooth everywhere; at ``z = 0`` the value is ``0.5 + 0.5i``.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    return torch.complex(torch.sigmoid(z.real), torch.sigmoid(z.imag))


def split_tanh(z: torch.Tensor) -> torch.Tensor:
    r"""Split tanh: the hyperbolic tangent of the real and imaginary parts separately.

    $$
    \tanh(\Re z) + i\,\tanh(\Im z)
    $$

    Smooth everywhere; at ``z = 0`` the value is ``0``.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    return torch.complex(torch.tanh(z.real), torch.tanh(z.imag))


def amp_phase_tanh(z: torch.Tensor, saturation: float = 1.0, scale: float = 1.0) -> torch.Tensor:
    r"""Amplitude-phase tanh (Hirose 1992): squash the modulus, keep the phase.

    $$
    m \tanh(|z| / s)\,\frac{z}{|z|}
    $$

    with saturation ``m`` (the output modulus lies in ``[0, m)``) and input scale ``s``;
    ``m = s = 1`` is Hirose's amplitude-phase activation (A. Hirose, "Continuous complex-valued
    back-propagation learning", Electronics Letters 28(20), 1992). Since ``tanh(r) / r`` is
    smooth and even in ``r``, the function is smooth at ``z = 0``: its value there is ``0``
    and its derivative is ``m / s`` times the identity, which is what the backward pass
    returns. Other amplitude functions of the same family: `siglog` (softsign, the
    amplitude ``r / (c + r / r_0)``), `polar_squash`, `polar_log`; a logistic
    amplitude ``2 sigmoid(r) - 1`` is ``tanh(r / 2)``, i.e. ``scale=2``.

    Args:
        z: complex input.
        saturation: ``m > 0``, the supremum of the output modulus.
        scale: ``s > 0``; the modulus is divided by it before the tanh.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    _check_positive(saturation, "saturation")
    _check_positive(scale, "scale")
    mod, nonzero, denom = _safe_modulus(z)
    scaled = (saturation * torch.tanh(mod / scale)) * (z / denom)
    return torch.where(nonzero, scaled, z * (saturation / scale))


def cprelu(z: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    r"""Complex PReLU: PReLU applied to the real and imaginary parts separately.

    $$
    \mathrm{PReLU}_a(\Re z) + i\,\mathrm{PReLU}_a(\Im z),
    \qquad \mathrm{PReLU}_a(x) = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases}
    $$

    The slope ``a`` is shared by the real and imaginary parts (one slope per channel, or one
    for all). At ``z = 0`` the value is ``0``; on the kinks the gradient uses the slope ``a``,
    as `torch.nn.functional.prelu` does.

    Args:
        z: complex input.
        weight: real slopes of shape ``(1,)`` or ``(C,)`` (channel dim 1 of ``(N, C, *)``), of
            the real dtype matching ``z``.

    Shape:
        - Input: ``(*)`` with a shared slope, ``(N, C, *)`` with per-channel slopes.
        - Output: same shape and dtype as the input.
    """
    check_complex(z)
    a = _per_channel(weight, z, "weight")
    re, im = z.real, z.imag
    return torch.complex(torch.where(re > 0, re, a * re), torch.where(im > 0, im, a * im))


def modulus(z: torch.Tensor) -> torch.Tensor:
    r"""Modulus ``|z|`` as a real tensor, e.g. to feed a real-valued head.

    $$
    |z| = \sqrt{(\Re z)^2 + (\Im z)^2}
    $$

    At ``z = 0`` the value is ``0`` and the gradient is ``0`` (``torch.sgn(0) = 0``).

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real (float32 for complex64, float64 for complex128).
    """
    check_complex(z)
    return torch.abs(z)


# ---------------------------------------------------------------- split (Type-A) activations
# A real activation g applied to the real and imaginary parts separately,
# g(Re z) + i g(Im z): the "Type-A" construction of Kuroe, Yoshida & Mori (ICANN/ICONIP 2003),
# used with the logistic sigmoid by Nitta (Neural Networks 10, 1997).


def split_elu(z: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    r"""Split ELU (Clevert, Unterthiner & Hochreiter, ICLR 2016) on the real and imaginary parts.

    $$
    \mathrm{ELU}(\Re z) + i\,\mathrm{ELU}(\Im z), \qquad
    \mathrm{ELU}(x) = \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases}
    $$

    At ``z = 0`` the value is ``0``; for ``alpha = 1`` the function is differentiable there
    with the identity as derivative. On the kinks the gradient is that of
    `torch.nn.functional.elu`.

    Args:
        z: complex input.
        alpha: ``alpha`` of `torch.nn.functional.elu`.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    return _split(lambda x: F.elu(x, alpha), z)


def split_celu(z: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    r"""Split CELU (Barron 2017, arXiv:1704.07483) on the real and imaginary parts.

    $$
    \mathrm{CELU}(\Re z) + i\,\mathrm{CELU}(\Im z), \qquad
    \mathrm{CELU}(x) = \max(0, x) + \min\bigl(0, \alpha (e^{x / \alpha} - 1)\bigr)
    $$

    Continuously differentiable for every ``alpha != 0``; at ``z = 0`` the value is ``0``
    and the derivative the identity.

    Args:
        z: complex input.
        alpha: ``alpha`` of `torch.nn.functional.celu` (not 0).

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    return _split(lambda x: F.celu(x, alpha), z)


def split_selu(z: torch.Tensor) -> torch.Tensor:
    r"""Split SELU (Klambauer et al., NeurIPS 2017) on the real and imaginary parts.

    $$
    \mathrm{SELU}(\Re z) + i\,\mathrm{SELU}(\Im z), \qquad
    \mathrm{SELU}(x) = \lambda \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0
    \end{cases}
    $$

    with ``lambda = 1.0507...`` and ``alpha = 1.6733...`` as in `torch.nn.functional.selu`.
    At ``z = 0`` the value is ``0``; the kinks at ``Re z = 0`` and ``Im z = 0`` take the
    gradient of torch's SELU there.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    return _split(F.selu, z)


def split_gelu(z: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    r"""Split GELU (Hendrycks & Gimpel 2016, arXiv:1606.08415) on the real and imaginary parts.

    $$
    \mathrm{GELU}(\Re z) + i\,\mathrm{GELU}(\Im z), \qquad
    \mathrm{GELU}(x) = x\,\Phi(x)
    $$

    with ``Phi`` the standard normal distribution function (``approximate="tanh"`` uses the
    tanh approximation of `torch.nn.functional.gelu`). Smooth; at ``z = 0`` the value
    is ``0`` and the derivative ``0.5`` times the identity.

    Args:
        z: complex input.
        approximate: ``"none"`` or ``"tanh"``, as in `torch.nn.functional.gelu`.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    return _split(lambda x: F.gelu(x, approximate=approximate), z)


def split_silu(z: torch.Tensor) -> torch.Tensor:
    r"""Split SiLU / swish (Elfwing, Uchibe & Doya, Neural Networks 2018) on both parts.

    $$
    \mathrm{SiLU}(\Re z) + i\,\mathrm{SiLU}(\Im z), \qquad
    \mathrm{SiLU}(x) = x\,\sigma(x)
    $$

    Smooth; at ``z = 0`` the value is ``0`` and the derivative ``0.5`` times the identity.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    return _split(F.silu, z)


def split_mish(z: torch.Tensor) -> torch.Tensor:
    r"""Split Mish (Misra 2019, arXiv:1908.08681) on the real and imaginary parts.

    $$
    \mathrm{Mish}(\Re z) + i\,\mathrm{Mish}(\Im z), \qquad
    \mathrm{Mish}(x) = x \tanh\bigl(\log(1 + e^x)\bigr)
    $$

    Smooth; at ``z = 0`` the value is ``0`` and the derivative ``tanh(log 2) = 0.6`` times
    the identity.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    return _split(F.mish, z)


def split_leaky_relu(z: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    r"""Split leaky ReLU (Maas, Hannun & Ng 2013) on the real and imaginary parts.

    $$
    \mathrm{LReLU}(\Re z) + i\,\mathrm{LReLU}(\Im z), \qquad
    \mathrm{LReLU}(x) = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases}
    $$

    with the fixed slope ``a = negative_slope`` (`cprelu` learns it). At ``z = 0`` the
    value is ``0``; on the kinks the gradient uses the slope ``a``, as
    `torch.nn.functional.leaky_relu` does.

    Args:
        z: complex input.
        negative_slope: the slope ``a`` for negative parts.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    return _split(lambda x: F.leaky_relu(x, negative_slope), z)


def split_hardtanh(z: torch.Tensor, min_val: float = -1.0, max_val: float = 1.0) -> torch.Tensor:
    r"""Split hardtanh (Collobert 2004, as `torch.nn.Hardtanh`): clip both parts.

    $$
    \mathrm{clip}(\Re z, a, b) + i\,\mathrm{clip}(\Im z, a, b)
    $$

    with ``a = min_val`` and ``b = max_val``: the output lies in the square
    ``[a, b] x [a, b]``. At ``z = 0`` (inside, for ``a < 0 < b``) the derivative is the
    identity; on the clipping lines the gradient is that of torch's hardtanh.

    Args:
        z: complex input.
        min_val: lower clip ``a``.
        max_val: upper clip ``b``.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    return _split(lambda x: F.hardtanh(x, min_val, max_val), z)


def split_hardsigmoid(z: torch.Tensor) -> torch.Tensor:
    r"""Split hard sigmoid (Howard et al., "Searching for MobileNetV3", ICCV 2019) on both parts.

    $$
    h(\Re z) + i\,h(\Im z), \qquad h(x) = \mathrm{clip}(x / 6 + 1 / 2, 0, 1)
    $$

    A piecewise-linear `split_sigmoid`; at ``z = 0`` the value is ``0.5 + 0.5i`` and the
    derivative ``1 / 6`` times the identity.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    # clamp rather than F.hardsigmoid, whose backward has no derivative (no gradgrad)
    return _split(lambda x: torch.clamp(x / 6 + 0.5, 0, 1), z)


def split_hardswish(z: torch.Tensor) -> torch.Tensor:
    r"""Split hard swish (Howard et al., "Searching for MobileNetV3", ICCV 2019) on both parts.

    $$
    h(\Re z) + i\,h(\Im z), \qquad h(x) = x\,\mathrm{clip}(x + 3, 0, 6) / 6
    $$

    A piecewise-quadratic `split_silu`; at ``z = 0`` the value is ``0`` and the
    derivative ``0.5`` times the identity.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    return _split(F.hardswish, z)


def split_softplus(z: torch.Tensor, beta: float = 1.0, threshold: float = 20.0) -> torch.Tensor:
    r"""Split softplus (Dugas et al., NeurIPS 2001) on the real and imaginary parts.

    $$
    s(\Re z) + i\,s(\Im z), \qquad s(x) = \tfrac{1}{\beta} \log(1 + e^{\beta x})
    $$

    with ``s(x) = x`` where ``beta x > threshold``, as in `torch.nn.functional.softplus`.
    Smooth; at ``z = 0`` the value is ``(log 2 / beta)(1 + i)`` and the derivative ``0.5``
    times the identity.

    Args:
        z: complex input.
        beta: sharpness ``beta``.
        threshold: above ``beta x > threshold`` the linear branch is used.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    return _split(lambda x: F.softplus(x, beta, threshold), z)


def split_softsign(z: torch.Tensor) -> torch.Tensor:
    r"""Split softsign (Bergstra et al. 2009; Turian, Bergstra & Bengio 2009) on both parts.

    $$
    \frac{\Re z}{1 + |\Re z|} + i\,\frac{\Im z}{1 + |\Im z|}
    $$

    Continuously differentiable; at ``z = 0`` the value is ``0`` and the derivative the
    identity. Compare `siglog`, the softsign of the modulus.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    return _split(F.softsign, z)


# ---------------------------------------------------------------- polar (Type-B) activations


def siglog(z: torch.Tensor, c: float = 1.0, r: float = 1.0) -> torch.Tensor:
    r"""Georgiou & Koutsougeras (1992) activation: a softsign of the modulus, phase kept.

    $$
    \frac{z}{c + |z| / r}
    $$

    (G. M. Georgiou and C. Koutsougeras, "Complex domain backpropagation", IEEE Trans.
    Circuits and Systems II 39(5), 1992, eq. (20); "SigLog" in complextorch). The output
    modulus ``|z| / (c + |z| / r)`` rises from 0 with slope ``1 / c`` towards ``r``. At
    ``z = 0`` the value is ``0`` and the derivative ``1 / c`` times the identity (``z |z|``
    has derivative 0 there).

    Args:
        z: complex input.
        c: ``c > 0``, the inverse slope at 0.
        r: ``r > 0``, the supremum of the output modulus.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    _check_positive(c, "c")
    _check_positive(r, "r")
    return z / (c + torch.abs(z) / r)


def polar_squash(z: torch.Tensor) -> torch.Tensor:
    r"""Polar squash (Hayakawa, Masuko & Fujimura, APSIPA 2018): modulus ``r^2 / (1 + r^2)``.

    $$
    \frac{|z|^2}{1 + |z|^2}\,\frac{z}{|z|} = \frac{|z|}{1 + |z|^2}\,z
    $$

    The output modulus lies in ``[0, 1)`` and is quadratic near 0, so small inputs are
    suppressed. Differentiable everywhere: at ``z = 0`` the value and the derivative are
    ``0``. The ratio ``|z| / (1 + |z|^2)`` is evaluated as ``1 / (|z| + 1 / |z|)`` above
    ``|z| = 1``, so it does not overflow for large inputs.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    mod = torch.abs(z)
    small = mod <= 1
    low = torch.where(small, mod, torch.zeros_like(mod))
    high = torch.where(small, torch.ones_like(mod), mod)
    ratio = torch.where(small, low / (1 + low * low), 1 / (high + 1 / high))
    return ratio * z


def polar_log(z: torch.Tensor) -> torch.Tensor:
    r"""Polar log (Hayakawa, Masuko & Fujimura, APSIPA 2018): modulus ``log(1 + r)``.

    $$
    \log(1 + |z|)\,\frac{z}{|z|}
    $$

    Unbounded but slowly growing. ``log(1 + r) / r`` tends to 1 at ``r = 0``, so at
    ``z = 0`` the value is ``0`` and the derivative the identity, which the backward pass
    returns.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    mod, nonzero, denom = _safe_modulus(z)
    return torch.where(nonzero, (torch.log1p(mod) / denom) * z, z)


def mod_softplus(z: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    r"""Phase-preserving softplus: softplus of the modulus, phase kept.

    $$
    \tfrac{1}{\beta} \log\bigl(1 + e^{\beta |z|}\bigr)\,\frac{z}{|z|}
    $$

    A smooth counterpart of `modrelu` with ``b = 0`` in the Type-B (modulus/phase)
    construction of Kuroe, Yoshida & Mori (2003) with the softplus of Dugas et al. (2001).
    The output modulus never drops below ``log 2 / beta``, so the function has no limit at
    ``z = 0``; the value used there is ``0`` with gradient ``0``, as `modrelu` does for
    ``b > 0``. Near 0 the gradient grows like ``log 2 / (beta |z|)``: finite for every
    nonzero input.

    Args:
        z: complex input.
        beta: ``beta > 0``, the sharpness of the softplus.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    _check_positive(beta, "beta")
    mod, nonzero, denom = _safe_modulus(z)
    return torch.where(nonzero, F.softplus(mod, beta) * (z / denom), z * 0)


def csign(z: torch.Tensor) -> torch.Tensor:
    r"""Complex sign: the unit phasor of ``z``, the continuous multi-valued neuron activation.

    $$
    \mathrm{csign}(z) = \frac{z}{|z|} = e^{i \arg z}
    $$

    Aizenberg's continuous MVN activation (I. Aizenberg, "Complex-Valued Neural Networks
    with Multi-Valued Neurons", Springer 2011; the discrete MVN rounds ``arg z`` to
    one of ``k`` sectors and has zero gradient almost everywhere, so it is left out). It
    keeps only the phase. At ``z = 0`` the value is ``0`` with gradient ``0`` (as
    `torch.sgn`); near 0 the gradient grows like ``1 / |z|``: finite for every nonzero
    input.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, same shape and dtype.
    """
    check_complex(z)
    _, nonzero, denom = _safe_modulus(z)
    return torch.where(nonzero, z / denom, z * 0)


def modulus_squared(z: torch.Tensor) -> torch.Tensor:
    r"""Squared modulus ``|z|^2`` (power, the square-law detector) as a real tensor.

    $$
    |z|^2 = (\Re z)^2 + (\Im z)^2
    $$

    The intensity read out by square-law detectors, e.g. at the output of optical neural
    networks (Lin et al., "All-optical machine learning using diffractive deep neural
    networks", Science 2018). Smooth: at ``z = 0`` the value and the gradient are ``0``.

    Shape:
        - Input: ``(*)``, complex.
        - Output: ``(*)``, real (float32 for complex64, float64 for complex128).
    """
    check_complex(z)
    return z.real.square() + z.imag.square()


# ---------------------------------------------------------------- learnable phase and slope


def shifted_cardioid(z: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
    r"""Cardioid with a learnable phase offset: the pass direction turns by ``phi``.

    $$
    \tfrac12\,\bigl(1 + \cos(\arg z - \varphi)\bigr)\,z,
    \qquad \cos(\arg z - \varphi) = \Re\bigl(z e^{-i\varphi}\bigr) / |z|
    $$

    `cardioid` (Virtue, Yu & Lustig, ICIP 2017) passes ``z`` fully along the positive
    real axis; here the fully passed direction is ``arg z = phi`` (``phi = 0`` is the
    cardioid), learnable per channel. At ``z = 0`` the value is ``0``; the function is not
    differentiable there, and the gradient used takes ``arg 0 = 0`` as `cardioid`
    does, giving ``(1 + cos phi) / 2`` times the identity.

    Args:
        z: complex input.
        phase: real offsets ``phi`` (radians) of shape ``(1,)`` or ``(C,)`` (channel dim 1 of
            ``(N, C, *)``), of the real dtype matching ``z``.

    Shape:
        - Input: ``(*)`` with a shared offset, ``(N, C, *)`` with per-channel offsets.
        - Output: same shape and dtype as the input.
    """
    check_complex(z)
    rotation = _rotation(phase, z)
    _, nonzero, denom = _safe_modulus(z)
    cos_shift = torch.where(nonzero, (z * rotation.conj()).real / denom, rotation.real)
    return 0.5 * (1 + cos_shift) * z


def rotated_crelu(z: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
    r"""CReLU in a learnably rotated frame: rotate by ``phi``, CReLU, rotate back.

    $$
    e^{-i\varphi}\,\mathrm{CReLU}\bigl(e^{i\varphi} z\bigr)
    $$

    `crelu` keeps the quadrant ``Re z, Im z >= 0`` fully and zeroes the opposite one;
    its result depends on the arbitrary orientation of the real and imaginary axes. Here
    that orientation is a learnable phase ``phi`` per channel (``phi = 0`` is CReLU); the
    kept quadrant is ``arg z in [-phi, pi / 2 - phi]``. This variant is phasor's own. At
    ``z = 0`` the value is ``0``; on the kinks the gradient uses ``relu'(0) = 0``.

    Args:
        z: complex input.
        phase: real rotations ``phi`` (radians) of shape ``(1,)`` or ``(C,)`` (channel dim 1
            of ``(N, C, *)``), of the real dtype matching ``z``.

    Shape:
        - Input: ``(*)`` with a shared rotation, ``(N, C, *)`` with per-channel rotations.
        - Output: same shape and dtype as the input.
    """
    check_complex(z)
    rotation = _rotation(phase, z)
    return rotation.conj() * crelu(z * rotation)


def z_leaky_relu(z: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    r"""Leaky zReLU: ``z`` in the first quadrant, ``a z`` elsewhere, with learnable ``a``.

    $$
    \begin{cases} z & \Re z \ge 0 \text{ and } \Im z \ge 0 \\ a z & \text{otherwise}
    \end{cases}
    $$

    The leaky form of `zrelu` (Guberman 2016), ``a = 0`` being zReLU ("zLeakyReLU"
    in torchcvnn). The first quadrant includes its axes as in `zrelu`, so at ``z = 0``
    the value is ``0`` and the gradient the identity; NaN propagates.

    Args:
        z: complex input.
        weight: real slopes ``a`` of shape ``(1,)`` or ``(C,)`` (channel dim 1 of
            ``(N, C, *)``), of the real dtype matching ``z``.

    Shape:
        - Input: ``(*)`` with a shared slope, ``(N, C, *)`` with per-channel slopes.
        - Output: same shape and dtype as the input.
    """
    check_complex(z)
    a = _per_channel(weight, z, "weight")
    keep = (z.real >= 0) & (z.imag >= 0)
    return torch.where(keep, z, a * z)
