r"""The real-pair lowering: a phasor model as an equivalent real-valued module.

`lower` turns a model built from phasor's core layers into a module whose every tensor
is real, so that ``torch.compile(lowered, fullgraph=True)`` can fuse it end to end (inductor
generates no code for complex tensors) and [`phasor.export.to_onnx`][phasor.export.to_onnx] can export it (ONNX has
no complex tensors). Eager native complex stays phasor's default and the reference: the lowered
module computes the same function to float tolerance, not bit for bit.

Layout: a complex tensor of shape $(N, C, *)$ is carried as the real tensor
$(N, 2, C, *)$ with the real part at index 0 and the imaginary part at index 1 of the
*pair axis*, dim 1, right after the batch axis (`to_pair`, `from_pair`). Merging the
pair axis with the next one is a free view, so a convolution on $(N, 2C, H, W)$ with the
stacked weight

$$
\begin{pmatrix} A & -B \\ B & A \end{pmatrix}, \qquad W = A + iB,
$$

is one real convolution with no copy; a linear layer on $(N, 2, F)$ is one real GEMM the
same way (``kernel="stacked"``). ``kernel="gauss"`` uses Gauss's three real products instead
($t_1 = A x$, $t_2 = B y$, $t_3 = (A + B)(x + y)$; real part
$t_1 - t_2$, imaginary part $t_3 - t_1 - t_2$). Elementwise layers act on the two
parts, batch norm is its per-channel 2x2 affine map. A real output (after ``Modulus`` or
``Magnitude``) stays a plain real tensor, and with ``real_input=True`` the lowered module takes
the real input of the phasor model as it is (the first linear or convolution layer then
multiplies it by $[A; B]$). Inputs need a batch axis. The default, ``kernel="by-shape"``,
takes the faster of the two per layer by a fixed rule (`kernel_for`).

The lowered module owns real copies of the parameters (``A``, ``B``, and so on), so it trains on
its own; `lower` copies the values at the time of the call. Supported: ``nn.Sequential``
trees (nested) of `SUPPORTED` leaves.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from phasor import nn as pnn
from phasor.functional.normalization import _whitening_matrix

__all__ = ["KERNELS", "SUPPORTED", "from_pair", "kernel_for", "lower", "to_pair"]

KERNELS = ("by-shape", "stacked", "gauss")
"""Real kernels for the complex linear and convolution layers: ``"by-shape"`` picks one of the
other two per layer by `kernel_for`."""


def kernel_for(layer: nn.Module) -> str:
    """The kernel ``kernel="by-shape"`` gives a linear or convolution layer: a fixed rule, so a
    lowered model computes the same way on every run (unlike a timed choice).

    Measured on a 2-core x86-64 CPU, one thread, forward + backward against the native complex
    kernel (issue 16 of the tracker, median of 30 interleaved rounds): a linear layer on batch
    256 takes 0.81-0.87x with Gauss's three GEMMs at 256-4096 features, 1.08-1.40x with one
    GEMM on the stacked weight (whose copy costs more than it saves); a 3x3 convolution on
    32x32 takes 0.52-0.55x stacked and 0.70x Gauss at 16 channels, 0.91x stacked and 0.84x
    Gauss at 64, 0.93x Gauss at 256. Hence: Gauss for linear layers and for convolutions with
    64 or more channels, the stacked weight for narrower convolutions.
    """
    if isinstance(layer, pnn.Linear):
        return "gauss"
    return "stacked" if max(layer.in_channels, layer.out_channels) < 64 else "gauss"


def to_pair(z: torch.Tensor) -> torch.Tensor:
    """Complex ``(N, *)`` to the real pair layout ``(N, 2, *)`` (real part first)."""
    return torch.stack((z.real, z.imag), dim=1)


def from_pair(x: torch.Tensor) -> torch.Tensor:
    """The real pair layout ``(N, 2, *)`` back to complex ``(N, *)``."""
    return torch.complex(x[:, 0], x[:, 1])


def _real(t: torch.Tensor | None) -> nn.Parameter | None:
    return None if t is None else nn.Parameter(t.detach().real.clone())


def _imag(t: torch.Tensor | None) -> nn.Parameter | None:
    return None if t is None else nn.Parameter(t.detach().imag.clone())


def _parts_to_pair(re: torch.Tensor, im: torch.Tensor) -> torch.Tensor:
    return torch.stack((re, im), dim=1)


class _PairLinear(nn.Module):
    """Lowered [`phasor.nn.Linear`][phasor.nn.linear.Linear]: ``(N, 2, *, F_in) -> (N, 2, *, F_out)``."""

    def __init__(self, layer: pnn.Linear, real_input: bool, kernel: str) -> None:
        super().__init__()
        self.real_input, self.kernel = real_input, kernel
        self.weight_re, self.weight_im = _real(layer.weight), _imag(layer.weight)
        self.bias_re, self.bias_im = _real(layer.bias), _imag(layer.bias)

    def _bias(self) -> torch.Tensor | None:
        return None if self.bias_re is None else torch.cat((self.bias_re, self.bias_im))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.weight_re, self.weight_im
        if self.real_input:  # one GEMM on [A; B]
            out = F.linear(x, torch.cat((a, b)), self._bias())
            return out.unflatten(-1, (2, a.shape[0])).movedim(-2, 1)
        if x.dim() == 3 and self.kernel == "stacked":
            # One GEMM of the rows (x_re; x_im) with [A; B]: every product x_p W_q^T, no copy of
            # the input and half the weight copy of the 2x2 block [[A, -B], [B, A]].
            o = a.shape[0]
            prod = F.linear(x.reshape(-1, x.shape[-1]), torch.cat((a, b))).view(-1, 2, 2 * o)
            out_re = prod[:, 0, :o] - prod[:, 1, o:]
            out_im = prod[:, 0, o:] + prod[:, 1, :o]
            if self.bias_re is not None:
                out_re, out_im = out_re + self.bias_re, out_im + self.bias_im
            return _parts_to_pair(out_re, out_im)
        re, im = x[:, 0], x[:, 1]
        br = bi = None
        if self.bias_re is not None:
            br, bi = self.bias_re, self.bias_im
        t1, t2 = F.linear(re, a), F.linear(im, b)
        t3 = F.linear(re + im, a + b)
        out_re, out_im = t1 - t2, t3 - t1 - t2
        if br is not None:
            out_re, out_im = out_re + br, out_im + bi
        return _parts_to_pair(out_re, out_im)


class _PairConv(nn.Module):
    """Lowered [`phasor.nn.Conv1d`][phasor.nn.conv.Conv1d] / ``Conv2d``: ``(N, 2, C_in, *) -> (N, 2, C_out, *)``."""

    def __init__(self, layer, real_input: bool, kernel: str) -> None:
        super().__init__()
        self.real_input, self.kernel = real_input, kernel
        self.weight_re, self.weight_im = _real(layer.weight), _imag(layer.weight)
        self.bias_re, self.bias_im = _real(layer.bias), _imag(layer.bias)
        self.conv = {1: F.conv1d, 2: F.conv2d}[layer._n]
        self.stride, self.dilation, self.groups = layer.stride, layer.dilation, layer.groups
        self.padding, self.padding_mode = layer.padding, layer.padding_mode
        self.explicit = layer._explicit_padding() if layer.padding_mode != "zeros" else None

    def _op(self, x, weight, bias=None):
        padding = self.padding
        if self.explicit is not None:
            x = F.pad(x, self.explicit, mode=self.padding_mode)
            padding = 0
        return self.conv(x, weight, bias, self.stride, padding, self.dilation, self.groups)

    def _bias(self) -> torch.Tensor | None:
        return None if self.bias_re is None else torch.cat((self.bias_re, self.bias_im))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.weight_re, self.weight_im
        c = a.shape[0]
        if self.groups == 1 and self.real_input:  # one convolution with [A; B]
            return self._op(x, torch.cat((a, b)), self._bias()).unflatten(1, (2, c))
        if self.groups == 1 and self.kernel == "stacked":
            stacked = torch.cat((torch.cat((a, -b), 1), torch.cat((b, a), 1)))
            return self._op(x.flatten(1, 2), stacked, self._bias()).unflatten(1, (2, c))
        if self.real_input:
            out_re, out_im = self._op(x, a), self._op(x, b)
        else:
            re, im = x[:, 0], x[:, 1]
            t1, t2 = self._op(re, a), self._op(im, b)
            t3 = self._op(re + im, a + b)
            out_re, out_im = t1 - t2, t3 - t1 - t2
        if self.bias_re is not None:
            shape = (-1,) + (1,) * (x.dim() - 3 + self.real_input)
            out_re = out_re + self.bias_re.view(shape)
            out_im = out_im + self.bias_im.view(shape)
        return _parts_to_pair(out_re, out_im)


def _modulus(x: torch.Tensor) -> torch.Tensor:
    """``|z|`` of a pair tensor; its gradient at 0 is 0, as ``torch.abs`` of a complex tensor.

    Elementwise on the two parts (a norm over the strided pair axis was 10x slower on CPU).
    Unlike ``torch.abs`` of a complex tensor, the squares overflow for ``|z|`` above about
    1.8e19 in float32 (1.3e154 in float64).
    """
    re, im = x[:, 0], x[:, 1]
    squared = re * re + im * im
    nonzero = squared != 0  # NaN stays NaN
    return torch.where(nonzero, torch.sqrt(torch.where(nonzero, squared, 1.0)), 0.0)


def _per_channel(param: torch.Tensor, ndim: int) -> torch.Tensor:
    """A ``(C,)`` or ``(1,)`` parameter broadcast over dim 1 of a complex tensor of ``ndim``."""
    return param.view((-1,) + (1,) * (ndim - 2)) if ndim >= 2 else param


class _Elementwise(nn.Module):
    """Lowered elementwise activations of `phasor.nn.activation`."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.name == "crelu":
            return torch.relu(x)
        if self.name == "tanh":
            return torch.tanh(x)
        if self.name == "sigmoid":
            return torch.sigmoid(x)
        re, im = x[:, 0], x[:, 1]
        if self.name == "zrelu":
            keep = ((re >= 0) & (im >= 0)) | torch.isnan(re) | torch.isnan(im)
            return torch.where(keep.unsqueeze(1), x, torch.zeros_like(x))
        mod = _modulus(x)  # cardioid
        nonzero = mod > 0
        cos_arg = torch.where(nonzero, re / torch.where(nonzero, mod, 1.0), 1.0)
        return x * (0.5 * (1 + cos_arg)).unsqueeze(1)


class _PairModReLU(nn.Module):
    """Lowered [`phasor.nn.ModReLU`][phasor.nn.activation.ModReLU]."""

    def __init__(self, layer: pnn.ModReLU) -> None:
        super().__init__()
        self.bias = nn.Parameter(layer.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mod = _modulus(x)
        b = _per_channel(self.bias, mod.dim())
        nonzero = mod > 0
        scale = torch.relu(mod + b) / torch.where(nonzero, mod, 1.0)
        return x * torch.where(nonzero, scale, (b == 0).to(mod.dtype)).unsqueeze(1)


class _PairModulus(nn.Module):
    """Lowered [`phasor.nn.Modulus`][phasor.nn.activation.Modulus] / ``Magnitude``: a real output."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _modulus(x)


class _Merged(nn.Module):
    """A per-channel real op applied to the pair axis merged with the channel axis."""

    def __init__(self, op) -> None:
        super().__init__()
        self.op = op

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x.flatten(1, 2)).unflatten(1, (2, x.shape[2]))


class _PairMaxPool(nn.Module):
    """Lowered [`phasor.nn.MaxPool1d`][phasor.nn.pooling.MaxPool1d] / ``MaxPool2d``: the element of largest ``|z|``."""

    def __init__(self, layer, spatial: int) -> None:
        super().__init__()
        self.pool = {1: F.max_pool1d, 2: F.max_pool2d}[spatial]
        self.spatial = spatial
        self.args = (layer.kernel_size, layer.stride, layer.padding, layer.dilation)
        self.ceil_mode = layer.ceil_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        key = (x[:, 0] * x[:, 0] + x[:, 1] * x[:, 1]).detach()
        _, index = self.pool(key, *self.args, ceil_mode=self.ceil_mode, return_indices=True)
        flat_index = index.flatten(2).unsqueeze(1).expand(-1, 2, -1, -1)
        return x.flatten(3).gather(3, flat_index).unflatten(3, index.shape[2:])


class _PairDropout(nn.Module):
    """Lowered [`phasor.nn.Dropout`][phasor.nn.dropout.Dropout] / ``Dropout2d``: both parts dropped together."""

    def __init__(self, p: float, channels: bool) -> None:
        super().__init__()
        self.p, self.channels = p, channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        shape = (x.shape[0], 1, *x.shape[2 : 3 if self.channels else None])
        shape = shape + (1,) * (x.dim() - len(shape))
        keep = torch.rand(shape, dtype=x.dtype, device=x.device) >= self.p
        return x * keep.to(x.dtype) / (1 - self.p)


class _PairBatchNorm(nn.Module):
    """Lowered [`phasor.nn.ComplexBatchNorm1d`][phasor.nn.normalization.ComplexBatchNorm1d] / ``2d``: the per-channel 2x2 affine map
    $M (z - \\mu) + \\beta$ with $M = \\Gamma (V + \\epsilon I)^{-1/2}$; in training
    mode from the batch (updating the running statistics as phasor does), else from them."""

    def __init__(self, layer) -> None:
        super().__init__()
        self.eps, self.momentum = layer.eps, layer.momentum
        self.track_running_stats = layer.track_running_stats
        self.weight = None if layer.weight is None else nn.Parameter(layer.weight.detach().clone())
        self.bias_re, self.bias_im = _real(layer.bias), _imag(layer.bias)
        tracked = layer.running_mean is not None
        for name, value in (
            ("running_mean_re", layer.running_mean.real if tracked else None),
            ("running_mean_im", layer.running_mean.imag if tracked else None),
            ("running_cov", layer.running_cov if tracked else None),
            ("num_batches_tracked", layer.num_batches_tracked),
        ):
            self.register_buffer(name, None if value is None else value.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(3) if x.dim() > 3 else x.unsqueeze(-1)  # (N, 2, C, L)
        re, im = flat[:, 0], flat[:, 1]
        batch = self.training or self.running_mean_re is None
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
                    self.running_mean_re.mul_(1 - momentum).add_(mean_re, alpha=momentum)
                    self.running_mean_im.mul_(1 - momentum).add_(mean_im, alpha=momentum)
                    self.running_cov.mul_(1 - momentum).add_(cov, alpha=momentum * n / (n - 1))
                    self.num_batches_tracked.add_(1)
        else:
            cov = self.running_cov
            cr = re - self.running_mean_re[:, None]
            ci = im - self.running_mean_im[:, None]
        (mrr, mri, mir, mii), _ = _whitening_matrix(cov, self.weight, self.eps)
        out_re = mrr[:, None] * cr + mri[:, None] * ci
        out_im = mir[:, None] * cr + mii[:, None] * ci
        if self.bias_re is not None:
            out_re, out_im = out_re + self.bias_re[:, None], out_im + self.bias_im[:, None]
        return _parts_to_pair(out_re, out_im).view_as(x)


class _PairFlatten(nn.Module):
    """Lowered `torch.nn.Flatten` on the complex axes (the pair axis stays dim 1)."""

    def __init__(self, start_dim: int, end_dim: int) -> None:
        super().__init__()
        self.start_dim = start_dim + 1 if start_dim > 0 else start_dim
        self.end_dim = end_dim + 1 if end_dim > 0 else end_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(self.start_dim, self.end_dim)


def _flatten(layer: nn.Flatten, real: bool) -> nn.Module:
    if real:
        return nn.Flatten(layer.start_dim, layer.end_dim)
    if layer.start_dim == 0 or layer.end_dim == 0:
        raise ValueError("lower: a Flatten that merges the batch axis has no real-pair layout")
    return _PairFlatten(layer.start_dim, layer.end_dim)


def _max_pool(layer, spatial: int) -> nn.Module:
    if layer.return_indices:
        raise ValueError(f"lower: {type(layer).__name__}(return_indices=True) is not supported")
    return _PairMaxPool(layer, spatial)


def _merged(op):
    return lambda layer: _Merged(op(layer))


# Leaves of a complex input: class -> builder(layer, real_input, kernel).
_PAIR = {
    pnn.CReLU: lambda m: _Elementwise("crelu"),
    pnn.ZReLU: lambda m: _Elementwise("zrelu"),
    pnn.Cardioid: lambda m: _Elementwise("cardioid"),
    pnn.SplitTanh: lambda m: _Elementwise("tanh"),
    pnn.SplitSigmoid: lambda m: _Elementwise("sigmoid"),
    pnn.ModReLU: _PairModReLU,
    pnn.ComplexBatchNorm1d: _PairBatchNorm,
    pnn.ComplexBatchNorm2d: _PairBatchNorm,
    pnn.MaxPool1d: lambda m: _max_pool(m, 1),
    pnn.MaxPool2d: lambda m: _max_pool(m, 2),
    pnn.AvgPool1d: _merged(
        lambda m: nn.AvgPool1d(m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad)
    ),
    pnn.AvgPool2d: _merged(
        lambda m: nn.AvgPool2d(
            m.kernel_size,
            m.stride,
            m.padding,
            m.ceil_mode,
            m.count_include_pad,
            m.divisor_override,
        )
    ),
    pnn.AdaptiveAvgPool1d: _merged(lambda m: nn.AdaptiveAvgPool1d(m.output_size)),
    pnn.AdaptiveAvgPool2d: _merged(lambda m: nn.AdaptiveAvgPool2d(m.output_size)),
}
_TO_REAL = (pnn.Modulus, pnn.Magnitude)
_LINEAR = {pnn.Linear: _PairLinear, pnn.Conv1d: _PairConv, pnn.Conv2d: _PairConv}
_SHAPE_ONLY = (nn.Identity, nn.Flatten, pnn.Dropout, pnn.Dropout2d)

SUPPORTED: tuple[type, ...] = (nn.Sequential, *_LINEAR, *_PAIR, *_TO_REAL, *_SHAPE_ONLY)
"""The module classes `lower` accepts (``nn.Sequential`` nests the others)."""


def _supported_names() -> str:
    return ", ".join(sorted({c.__name__ for c in SUPPORTED}))


def _lower(module: nn.Module, real: bool, kernel: str, path: str) -> tuple[nn.Module, bool]:
    """The lowered ``module`` and whether its output is real (else a pair)."""
    kind = type(module)
    if kind is nn.Sequential:
        children = []
        for name, child in module.named_children():
            lowered, real = _lower(child, real, kernel, f"{path}.{name}" if path else name)
            children.append(lowered)
        return nn.Sequential(*children), real
    if kind in _LINEAR:
        chosen = kernel_for(module) if kernel == "by-shape" else kernel
        return _LINEAR[kind](module, real, chosen), False
    if kind is nn.Identity:
        return nn.Identity(), real
    if kind is nn.Flatten:
        return _flatten(module, real), real
    if kind in (pnn.Dropout, pnn.Dropout2d):
        if real:
            raise TypeError(
                f"lower: {path or kind.__name__} ({kind.__name__}) gets a real "
                "input, which phasor's layer refuses"
            )
        return _PairDropout(module.p, kind is pnn.Dropout2d), False
    if kind in _PAIR or kind in _TO_REAL:
        if real:
            raise TypeError(
                f"lower: {path or kind.__name__} ({kind.__name__}) gets a real input, which "
                "phasor's layer refuses; only Linear and Conv layers take real input"
            )
        if kind in _TO_REAL:
            return _PairModulus(), True
        return _PAIR[kind](module), False
    raise TypeError(
        f"lower: cannot lower {path or 'the model'} ({kind.__module__}.{kind.__qualname__}); "
        f"supported: {_supported_names()}"
    )


def lower(model: nn.Module, real_input: bool = False, kernel: str = "by-shape") -> nn.Module:
    r"""Return a real-valued module equal to ``model`` to float tolerance.

    Args:
        model: an ``nn.Sequential`` tree (or a single layer) of `SUPPORTED` modules.
        real_input: the model is fed a real tensor (e.g. images), taken as it is; otherwise its
            complex input is passed in the pair layout $(N, 2, C, *)$ (`to_pair`).
        kernel: ``"by-shape"`` (default): per layer by the fixed rule of `kernel_for`;
            ``"stacked"``: one real convolution or GEMM on the stacked weight
            $[[A, -B], [B, A]]$; ``"gauss"``: Gauss's three real products. Grouped
            convolutions, and linear layers on inputs with more than two complex axes, always
            use the three products.

    Returns:
        A module with real parameters copied from ``model`` (in its train/eval mode), whose
        forward maps the pair layout (or the real input) to the pair layout of the output, or to
        the real output where the model's output is real (``Modulus``, ``Magnitude``).

    Raises:
        TypeError: an unsupported module (named, with the supported list), or a layer that
            phasor would refuse a real input reaches one.
        ValueError: an unknown ``kernel``, or a layer option with no lowering.

    Shape:
        - Input: $(N, 2, C, *)$ real, the pair layout of the complex $(N, C, *)$;
          with ``real_input=True`` the model's real input $(N, C, *)$.
        - Output: $(N, 2, *)$ real pair, or the real output $(N, *)$.

    Example:

        >>> import torch, phasor
        >>> from phasor.lowering import from_pair, lower, to_pair
        >>> model = torch.nn.Sequential(phasor.nn.Linear(4, 3), phasor.nn.CReLU())
        >>> z = torch.randn(5, 4, dtype=torch.complex64)
        >>> torch.allclose(from_pair(lower(model)(to_pair(z))), model(z), atol=1e-6)
        True
    """
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; choose one of {', '.join(KERNELS)}")
    lowered, _ = _lower(model, real_input, kernel, "")
    return lowered.train(model.training)
