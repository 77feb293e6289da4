"""The lowered normalisation layers against eager phasor beyond the every-module examples:
several training steps then eval (running statistics, ``momentum=None``), ``affine=False``,
untracked statistics, group counts, unbatched inputs, multi-axis normalised shapes, compile."""

from __future__ import annotations

import pytest
import torch

import phasor.nn as P
from phasor.lowering import from_pair, lower, to_pair
from phasor.lowering._core import pair_tensor

TOL = {torch.complex64: 2e-4, torch.complex128: 1e-9}


def _loss(t: torch.Tensor) -> torch.Tensor:
    """The same real loss of a complex tensor and of its pair."""
    v = torch.view_as_real(t) if t.is_complex() else t
    return (v * v).sum() + v.sum()


def _step(module, x):
    """Output, input gradient, parameter gradients by name, buffers after one call."""
    x = x.clone().requires_grad_()
    out = module(x)
    params = [(n, p) for n, p in module.named_parameters()]
    grads = torch.autograd.grad(_loss(out), [x] + [p for _, p in params])
    param_grads = {n: g for (n, _), g in zip(params, grads[1:], strict=True)}
    buffers = {n: b.clone() for n, b in module.named_buffers()}
    return out, grads[0], param_grads, buffers


def _check_train_then_eval(layer, shape, dtype, steps=3):
    """``steps`` training calls, then two eval calls, of ``layer`` and of its lowering (made
    before the first call) on the same inputs: everything equal at every call."""
    torch.manual_seed(0)
    lowered = lower(layer)
    tol = dict(atol=TOL[dtype], rtol=TOL[dtype])
    for step in range(steps + 2):
        if step == steps:
            layer.eval()
            lowered.eval()
        z = 1.5 * torch.randn(shape, dtype=dtype) + (0.5 - 0.3j) * (step + 1)
        out, grad, param_grads, buffers = _step(layer, z)
        out_l, grad_l, param_grads_l, buffers_l = _step(lowered, to_pair(z))
        torch.testing.assert_close(from_pair(out_l), out, **tol)
        torch.testing.assert_close(grad_l, to_pair(grad), **tol)
        assert param_grads_l.keys() == param_grads.keys()
        for name, g in param_grads.items():
            torch.testing.assert_close(param_grads_l[name], pair_tensor(g), **tol, msg=name)
        assert buffers_l.keys() == buffers.keys()
        for name, b in buffers.items():
            torch.testing.assert_close(buffers_l[name], pair_tensor(b), **tol, msg=name)
    return layer, lowered


def _perturbed(layer):
    """``layer`` with its parameters moved off their (symmetric) initial values."""
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return layer


DTYPES = pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=["c64", "c128"])
OPTIONS = pytest.mark.parametrize(
    ("momentum", "affine", "track"),
    [(0.1, True, True), (None, True, True), (0.3, False, True), (0.1, True, False)],
    ids=["momentum0.1", "momentumNone", "no-affine", "untracked"],
)


@DTYPES
@OPTIONS
@pytest.mark.parametrize(
    ("cls", "shape"),
    [
        (P.ComplexBatchNorm1d, (5, 3)),
        (P.ComplexBatchNorm1d, (4, 3, 6)),
        (P.ComplexBatchNorm2d, (3, 3, 2, 4)),
        (P.ComplexBatchNorm3d, (2, 3, 2, 3, 2)),
        (P.MagnitudeBatchNorm1d, (4, 3, 5)),
        (P.MagnitudeBatchNorm2d, (3, 3, 2, 4)),
        (P.NaiveComplexBatchNorm1d, (5, 3)),
        (P.NaiveComplexBatchNorm2d, (3, 3, 2, 4)),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "x".join(map(str, v)),
)
def test_batch_norms_train_then_eval(cls, shape, momentum, affine, track, dtype):
    layer = cls(3, momentum=momentum, affine=affine, track_running_stats=track, dtype=dtype)
    layer, lowered = _check_train_then_eval(_perturbed(layer), shape, dtype)
    if track:
        assert int(lowered.num_batches_tracked) == int(layer.num_batches_tracked) == 3


@DTYPES
@OPTIONS
@pytest.mark.parametrize(
    ("cls", "shape"),
    [
        (P.ComplexInstanceNorm1d, (3, 3, 5)),
        (P.ComplexInstanceNorm1d, (3, 7)),
        (P.ComplexInstanceNorm2d, (2, 3, 3, 4)),
        (P.ComplexInstanceNorm2d, (3, 2, 5)),
        (P.ComplexInstanceNorm3d, (2, 3, 2, 2, 3)),
        (P.ComplexInstanceNorm3d, (3, 2, 3, 2)),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "x".join(map(str, v)),
)
def test_instance_norms_train_then_eval(cls, shape, momentum, affine, track, dtype):
    layer = cls(3, momentum=momentum, affine=affine, track_running_stats=track, dtype=dtype)
    _check_train_then_eval(_perturbed(layer), shape, dtype)


def test_instance_norm_refuses_one_spatial_element_in_training():
    lowered = lower(P.ComplexInstanceNorm1d(3))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        lowered(torch.randn(4, 2, 3, 1))


@DTYPES
@pytest.mark.parametrize("groups", [1, 2, 3, 6])
@pytest.mark.parametrize("shape", [(4, 6), (2, 6, 5), (2, 6, 2, 3), (2, 6, 2, 2, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_group_counts(groups, shape, affine, dtype):
    layer = _perturbed(P.ComplexGroupNorm(groups, 6, affine=affine, dtype=dtype))
    _check_train_then_eval(layer, shape, dtype, steps=1)


def test_group_norm_with_as_many_groups_as_channels_is_instance_norm():
    torch.manual_seed(1)
    group = _perturbed(P.ComplexGroupNorm(3, 3))
    instance = P.ComplexInstanceNorm2d(3, affine=True)
    instance.load_state_dict(group.state_dict())
    x = to_pair(torch.randn(2, 3, 4, 4, dtype=torch.complex64))
    torch.testing.assert_close(lower(group)(x), lower(instance)(x))


@DTYPES
@pytest.mark.parametrize(
    ("normalized_shape", "shape"),
    [(4, (2, 3, 4)), ((3, 4), (2, 3, 4)), ((3, 4), (5, 2, 3, 4)), (4, (4,)), ((2, 4), (2, 4))],
)
@pytest.mark.parametrize(
    ("affine", "bias"), [(True, True), (True, False), (False, False)], ids=["wb", "w", "none"]
)
def test_layer_norm_shapes_and_options(normalized_shape, shape, affine, bias, dtype):
    layer = P.ComplexLayerNorm(normalized_shape, elementwise_affine=affine, bias=bias, dtype=dtype)
    _check_train_then_eval(_perturbed(layer), shape, dtype, steps=1)


@DTYPES
@pytest.mark.parametrize(
    ("normalized_shape", "shape"),
    [(4, (2, 3, 4)), ((3, 4), (5, 2, 3, 4)), (4, (4,)), ((2, 4), (2, 4))],
)
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm_shapes_and_options(normalized_shape, shape, eps, affine, dtype):
    layer = P.ComplexRMSNorm(normalized_shape, eps=eps, elementwise_affine=affine, dtype=dtype)
    _check_train_then_eval(_perturbed(layer), shape, dtype, steps=1)


def test_rms_norm_default_eps_is_that_of_the_real_dtype():
    """A zero input: the output is 0 times 1 / sqrt(eps), the gradient shows the eps used."""
    for dtype in (torch.complex64, torch.complex128):
        layer = P.ComplexRMSNorm(3, dtype=dtype)
        z = torch.zeros(2, 3, dtype=dtype)
        _, grad, _, _ = _step(layer, z)
        _, grad_l, _, _ = _step(lower(layer), to_pair(z))
        torch.testing.assert_close(grad_l, to_pair(grad))
        eps = torch.finfo(dtype.to_real()).eps
        torch.testing.assert_close(grad_l, torch.full_like(grad_l, eps**-0.5))


@pytest.mark.parametrize(
    "layer",
    [
        P.ComplexBatchNorm2d(3, momentum=None),
        P.ComplexInstanceNorm2d(3, momentum=None, affine=True, track_running_stats=True),
        P.MagnitudeBatchNorm2d(3, momentum=None),
        P.NaiveComplexBatchNorm2d(3, momentum=None),
    ],
    ids=lambda m: type(m).__name__,
)
def test_compile_fullgraph_cumulative_average(layer):
    """``momentum=None`` reads the batch count: still one graph, the same running statistics."""
    lowered = lower(layer)
    compiled_module = lower(layer)
    torch._dynamo.reset()
    try:
        compiled = torch.compile(compiled_module, fullgraph=True, backend="aot_eager")
        for step in range(3):
            x = to_pair(torch.randn(4, 3, 3, 3, dtype=torch.complex64) + step)
            torch.testing.assert_close(compiled(x), lowered(x))
    finally:
        torch._dynamo.reset()
    for name, b in lowered.named_buffers():
        torch.testing.assert_close(dict(compiled_module.named_buffers())[name], b, msg=name)
    assert int(compiled_module.num_batches_tracked) == 3


@pytest.mark.parametrize(
    "layer",
    [
        P.ComplexBatchNorm3d(2),
        P.ComplexGroupNorm(1, 2),
        P.ComplexInstanceNorm1d(2),
        P.ComplexLayerNorm(2),
        P.ComplexRMSNorm(2),
        P.MagnitudeBatchNorm1d(2),
        P.NaiveComplexBatchNorm1d(2),
    ],
    ids=lambda m: type(m).__name__,
)
def test_real_input_is_refused(layer):
    with pytest.raises(TypeError, match="real input"):
        lower(layer, real_input=True)
