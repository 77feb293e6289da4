"""Lowered convolutions (phasor.lowering.conv) against eager phasor on options the module
examples leave out: strides, dilation, padding (ints, tuples, ``"same"``, ``"valid"``), padding
modes, groups, no bias, 3-D, transposed with ``output_padding`` and ``output_size``, real and
unbatched inputs, both kernels."""

from __future__ import annotations

import pytest
import torch

import phasor.nn as P
from phasor.lowering import from_pair, kernel_for, lower, to_pair
from phasor.lowering._core import pair_tensor

TOL = {torch.complex64: 2e-4, torch.complex128: 1e-10}
DTYPES = pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=["c64", "c128"])
KERNELS = pytest.mark.parametrize("kernel", ["stacked", "gauss"])


def assert_lowered_equals_eager(layer, z, kernel, *args) -> None:
    """Output, input gradient and parameter gradients (by name) of ``lower(layer)`` equal eager
    phasor's on ``z`` (complex, or real for ``real_input=True``), with ``args`` passed on."""
    real_input = not z.is_complex()
    z = z.clone().requires_grad_()
    out = layer(z, *args)
    weights = torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(1))
    loss = (torch.view_as_real(out) * torch.view_as_real(weights)).sum()
    params = dict(layer.named_parameters())
    grads = torch.autograd.grad(loss, [z, *params.values()])

    lowered = lower(layer, real_input=real_input, kernel=kernel)
    x = (z.detach() if real_input else to_pair(z.detach())).requires_grad_()
    out_lowered = lowered(x, *args)
    assert not out_lowered.is_complex()
    loss_lowered = (out_lowered * to_pair(weights)).sum()
    params_lowered = dict(lowered.named_parameters())
    assert params_lowered.keys() == params.keys()
    grads_lowered = torch.autograd.grad(loss_lowered, [x, *params_lowered.values()])

    tol = dict(atol=TOL[layer.weight.dtype], rtol=TOL[layer.weight.dtype])
    torch.testing.assert_close(from_pair(out_lowered), out, **tol)
    torch.testing.assert_close(grads_lowered[0], grads[0] if real_input else to_pair(grads[0]))
    for name, got, want in zip(params, grads_lowered[1:], grads[1:], strict=True):
        torch.testing.assert_close(got, pair_tensor(want), **tol, msg=name)


def _input(layer, shape, real: bool, batched: bool = True) -> torch.Tensor:
    dtype = layer.weight.dtype.to_real() if real else layer.weight.dtype
    g = torch.Generator().manual_seed(2)
    z = torch.randn(2, layer.in_channels, *shape, dtype=dtype, generator=g)
    return z if batched else z[0]


CONVS = {
    "1d-stride-dilation": (lambda d: P.Conv1d(4, 6, 3, stride=2, dilation=2, dtype=d), (11,)),
    "1d-same-reflect": (
        lambda d: P.Conv1d(2, 4, 4, padding="same", padding_mode="reflect", dtype=d),
        (9,),
    ),
    "1d-valid-no-bias": (lambda d: P.Conv1d(3, 2, 2, padding="valid", bias=False, dtype=d), (6,)),
    "2d-tuple-padding-groups": (
        lambda d: P.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), groups=2, dtype=d),
        (7, 6),
    ),
    "2d-circular": (
        lambda d: P.Conv2d(2, 3, 3, padding=(2, 1), padding_mode="circular", dtype=d),
        (5, 6),
    ),
    "2d-depthwise-replicate": (
        lambda d: P.Conv2d(3, 3, 3, padding=1, groups=3, padding_mode="replicate", dtype=d),
        (5, 5),
    ),
    "3d-stride-padding": (
        lambda d: P.Conv3d(2, 4, (2, 3, 2), stride=(1, 2, 2), padding=(1, 0, 1), dtype=d),
        (4, 5, 5),
    ),
    "3d-same-dilation": (
        lambda d: P.Conv3d(2, 2, 3, padding="same", dilation=(1, 2, 1), bias=False, dtype=d),
        (3, 5, 4),
    ),
    "3d-reflect-groups": (
        lambda d: P.Conv3d(4, 2, 2, padding=1, groups=2, padding_mode="reflect", dtype=d),
        (3, 3, 4),
    ),
    "3d-circular": (
        lambda d: P.Conv3d(2, 3, 3, padding=(1, 2, 1), padding_mode="circular", dtype=d),
        (3, 4, 3),
    ),
}

TRANSPOSED = {
    "1d-output-padding": (
        lambda d: P.ConvTranspose1d(2, 3, 3, stride=3, padding=1, output_padding=2, dtype=d),
        (5,),
    ),
    "1d-groups-dilation": (
        lambda d: P.ConvTranspose1d(4, 6, 3, stride=2, groups=2, dilation=2, dtype=d),
        (4,),
    ),
    "2d-tuples": (
        lambda d: P.ConvTranspose2d(
            2, 4, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dtype=d
        ),
        (3, 4),
    ),
    "2d-depthwise-no-bias": (
        lambda d: P.ConvTranspose2d(3, 3, 2, stride=2, groups=3, bias=False, dtype=d),
        (3, 3),
    ),
    "3d-stride-output-padding": (
        lambda d: P.ConvTranspose3d(2, 3, 2, stride=(2, 1, 2), output_padding=(1, 0, 0), dtype=d),
        (2, 3, 2),
    ),
    "3d-groups-dilation": (
        lambda d: P.ConvTranspose3d(
            4, 2, (2, 3, 2), padding=(0, 1, 1), groups=2, dilation=(2, 1, 1), dtype=d
        ),
        (3, 3, 3),
    ),
}


@DTYPES
@KERNELS
@pytest.mark.parametrize("real", [False, True], ids=["complex-input", "real-input"])
@pytest.mark.parametrize("case", [*CONVS, *(f"transpose-{k}" for k in TRANSPOSED)])
def test_convolution_options(case, real, kernel, dtype):
    make, shape = (
        TRANSPOSED[case.removeprefix("transpose-")] if "transpose" in case else CONVS[case]
    )
    torch.manual_seed(0)
    layer = make(dtype)
    assert_lowered_equals_eager(layer, _input(layer, shape, real), kernel)


@KERNELS
@pytest.mark.parametrize("real", [False, True], ids=["complex-input", "real-input"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: P.Conv1d(2, 3, 3, padding=1, padding_mode="reflect"),
        lambda: P.Conv2d(2, 4, 2, groups=2),
        lambda: P.Conv3d(2, 3, 2, stride=2),
        lambda: P.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1),
        lambda: P.ConvTranspose3d(2, 2, 2, groups=2),
    ],
)
def test_unbatched_input(make, real, kernel):
    torch.manual_seed(0)
    layer = make()
    shape = (5,) * layer._n
    assert_lowered_equals_eager(layer, _input(layer, shape, real, batched=False), kernel)


@KERNELS
@pytest.mark.parametrize(
    ("batched", "output_size"),
    [(True, (8, 9)), (True, (2, 3, 7, 8)), (False, (3, 8, 7)), (True, torch.Size([7, 9]))],
)
def test_transposed_output_size(batched, output_size, kernel):
    torch.manual_seed(0)
    layer = P.ConvTranspose2d(2, 3, 3, stride=(2, 3), padding=1)
    z = _input(layer, (4, 3), real=False, batched=batched)
    assert_lowered_equals_eager(layer, z, kernel, output_size)


def test_transposed_output_size_out_of_reach_is_refused_as_in_phasor():
    layer = P.ConvTranspose1d(2, 2, 3, stride=2)
    z = _input(layer, (4,), real=False)
    with pytest.raises(ValueError, match="not reachable"):
        layer(z, (12,))
    with pytest.raises(ValueError, match="not reachable"):
        lower(layer)(to_pair(z), (12,))


def test_by_shape_rule_covers_3d_and_transposed_convolutions():
    assert kernel_for(P.Conv3d(4, 8, 1)) == "stacked"
    assert kernel_for(P.ConvTranspose2d(64, 8, 1)) == "gauss"
    assert kernel_for(P.ConvTranspose3d(8, 63, 1)) == "stacked"


def test_compiled_transposed_with_output_size_equals_eager():
    torch.manual_seed(0)
    layer = P.ConvTranspose3d(2, 2, 2, stride=2)
    z = _input(layer, (2, 3, 2), real=False)
    lowered = lower(layer)
    compiled = torch.compile(lower(layer), fullgraph=True, backend="aot_eager")
    x = to_pair(z)
    torch.testing.assert_close(compiled(x, (5, 7, 4)), lowered(x, (5, 7, 4)))
    torch.testing.assert_close(from_pair(lowered(x, (5, 7, 4))), layer(z, (5, 7, 4)))
