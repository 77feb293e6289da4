"""The real-pair lowering (phasor.lowering): equal outputs and gradients, compile, errors."""

import random

import pytest
import torch
from torch import nn

import phasor.nn as P
from phasor.lowering import SUPPORTED, from_pair, kernel_for, lower, to_pair
from phasor.lowering._core import pair_tensor

DTYPES = (torch.complex64, torch.complex128)
TOL = {torch.complex64: 2e-4, torch.complex128: 1e-10}


def _conv_model(rng: random.Random, dtype, in_ch: int) -> nn.Sequential:
    """A random CNN over (N, in_ch, 8, 8) built from every lowered layer kind."""
    act = [
        lambda c: P.CReLU(),
        lambda c: P.ZReLU(),
        lambda c: P.Cardioid(),
        lambda c: P.SplitTanh(),
        lambda c: P.SplitSigmoid(),
        lambda c: P.ModReLU(c, -0.05, dtype=dtype),
        lambda c: P.ModReLU(1, 0.0, dtype=dtype),
    ]
    pool = [
        lambda: P.MaxPool2d(2),
        lambda: P.AvgPool2d(2),
        lambda: P.MaxPool2d(3, 2, padding=1),
    ]
    width = rng.choice([2, 4])
    groups = rng.choice([1, 2])
    mode = rng.choice(["zeros", "reflect"])
    layers = [
        P.Conv2d(in_ch, width, 3, padding=1, dtype=dtype),
        P.ComplexBatchNorm2d(width, dtype=dtype),
        rng.choice(act)(width),
        rng.choice(pool)(),
        P.Conv2d(width, 4, 3, padding=1, groups=groups, padding_mode=mode, dtype=dtype),
        rng.choice(act)(4),
        P.Dropout(0.3),
        P.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Sequential(P.Linear(16, 6, dtype=dtype), nn.Identity()),
        P.ComplexBatchNorm1d(6, dtype=dtype),
        rng.choice(act)(6),
        P.Linear(6, 3, bias=rng.random() < 0.5, dtype=dtype),
    ]
    if rng.random() < 0.5:
        layers.append(P.Modulus())
    return nn.Sequential(*layers)


def _conv1d_model(dtype) -> nn.Sequential:
    return nn.Sequential(
        P.Conv1d(2, 4, 3, padding="same", dtype=dtype),
        P.ComplexBatchNorm1d(4, dtype=dtype),
        P.CReLU(),
        P.MaxPool1d(2),
        P.AvgPool1d(2),
        P.Dropout2d(0.2),
        P.Linear(3, 2, dtype=dtype),  # on the last axis of (N, C, L): the three-product path
        P.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        P.Magnitude(),
    )


def _pair_params(model: nn.Module, lowered: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(phasor gradient in the pair layout, lowered gradient) for every parameter, by name."""
    lowered_params = dict(lowered.named_parameters())
    assert lowered_params.keys() == dict(model.named_parameters()).keys()
    return [
        (pair_tensor(p.grad), lowered_params[name].grad) for name, p in model.named_parameters()
    ]


def _check_equal(model, x, real_input, kernel, dtype):
    """Outputs, input gradients and parameter gradients of model and its lowering agree."""
    model.zero_grad(set_to_none=True)
    lowered = lower(model, real_input=real_input, kernel=kernel)
    assert not any(t.is_complex() for t in [*lowered.parameters(), *lowered.buffers()])
    x = x.clone().requires_grad_()
    xl = (x.detach() if real_input else to_pair(x.detach())).clone().requires_grad_()
    out = model(x)
    out_l = lowered(xl)
    assert not out_l.is_complex()
    got = out_l if not out.is_complex() else from_pair(out_l)
    tol = TOL[dtype]
    torch.testing.assert_close(got, out, atol=tol, rtol=tol)
    # A real loss of every output part (weights break symmetries between the parts).
    weights = torch.randn(out_l.shape, dtype=out_l.dtype)
    (out_l * weights).sum().backward()
    w = weights if not out.is_complex() else from_pair(weights)
    (out.real * w.real + (out.imag * w.imag if out.is_complex() else 0)).sum().backward()
    gx = xl.grad if real_input else from_pair(xl.grad)
    torch.testing.assert_close(gx, x.grad, atol=tol, rtol=tol)
    for ours, theirs in _pair_params(model, lowered):
        torch.testing.assert_close(theirs, ours, atol=tol, rtol=tol)
    return lowered


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel", ["by-shape", "stacked", "gauss"])
@pytest.mark.parametrize("seed", range(4))
def test_random_cnn_matches_eager_phasor_in_eval_mode(seed, kernel, dtype):
    rng = random.Random(seed)
    real_input = seed % 2 == 1
    torch.manual_seed(seed)
    model = _conv_model(rng, dtype, in_ch=1 if real_input else 2)
    # A few training steps give the batch norms non-trivial running statistics.
    x = torch.randn(6, 1 if real_input else 2, 8, 8, dtype=dtype)
    x = x.real.contiguous() if real_input else x
    with torch.no_grad():
        for _ in range(3):
            model(x * 2 + 1)
    model.eval()
    _check_equal(model, x, real_input, kernel, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_training_mode_batch_norm_and_running_stats(dtype):
    torch.manual_seed(0)
    model = nn.Sequential(
        P.Conv2d(2, 4, 3, dtype=dtype),
        P.ComplexBatchNorm2d(4, momentum=None, dtype=dtype),
        P.ModReLU(4, -0.1, dtype=dtype),
    )
    x = torch.randn(5, 2, 6, 6, dtype=dtype)
    lowered = _check_equal(model, x, False, "stacked", dtype)
    bn, bn_l = model[1], lowered[1]
    tol = TOL[dtype]
    torch.testing.assert_close(bn_l.running_mean, pair_tensor(bn.running_mean), atol=tol, rtol=tol)
    torch.testing.assert_close(bn_l.running_cov, bn.running_cov, atol=tol, rtol=tol)
    assert int(bn_l.num_batches_tracked) == int(bn.num_batches_tracked) == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv1d_and_linear_on_inner_axes(dtype):
    torch.manual_seed(1)
    model = _conv1d_model(dtype).eval()
    _check_equal(model, torch.randn(4, 2, 12, dtype=dtype), False, "stacked", dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp_real_and_complex_input(dtype):
    torch.manual_seed(2)
    model = nn.Sequential(P.Linear(8, 5, dtype=dtype), P.CReLU(), P.Linear(5, 3, dtype=dtype))
    _check_equal(model, torch.randn(7, 8, dtype=dtype), False, "stacked", dtype)
    _check_equal(model, torch.randn(7, 8, dtype=dtype.to_real()), True, "gauss", dtype)


def test_pair_layout_round_trip_and_layout():
    z = torch.randn(3, 4, 5, dtype=torch.complex64)
    pair = to_pair(z)
    assert pair.shape == (3, 2, 4, 5)
    assert torch.equal(pair[:, 0], z.real) and torch.equal(pair[:, 1], z.imag)
    assert torch.equal(from_pair(pair), z)


def test_lowered_training_mode_dropout_drops_both_parts_together():
    torch.manual_seed(3)
    lowered = lower(nn.Sequential(P.Dropout(0.5))).train()
    out = lowered(torch.ones(200, 2, 10))
    assert torch.equal(out[:, 0] == 0, out[:, 1] == 0)
    assert 0.3 < (out[:, 0] == 0).float().mean() < 0.7
    assert set(out.unique().tolist()) == {0.0, 2.0}


def test_unsupported_module_names_it_and_the_supported_list():
    class Custom(nn.Module):
        def forward(self, x):
            return x

    model = nn.Sequential()
    model.add_module("body", nn.Sequential(P.Linear(2, 2), Custom()))
    with pytest.raises(TypeError, match=r"body\.1 \(.*Custom\).*supported: .*Conv2d.*Linear"):
        lower(model)
    assert P.ComplexBatchNorm2d in SUPPORTED and nn.Sequential in SUPPORTED


def test_by_shape_rule_picks_gauss_for_linear_and_wide_convolutions():
    model = nn.Sequential(P.Conv2d(2, 16, 3), P.Conv2d(16, 64, 3), nn.Flatten(), P.Linear(64, 3))
    lowered = lower(model)
    assert [getattr(m, "kernel", None) for m in lowered] == ["stacked", "gauss", None, "gauss"]
    assert kernel_for(P.Conv2d(63, 8, 1)) == "stacked" and kernel_for(P.Linear(8, 8)) == "gauss"


@pytest.mark.parametrize("kernel", ["stacked", "gauss"])
def test_nan_and_zero_propagate_like_eager(kernel):
    z = torch.tensor([[0, 1 + 1j, float("nan"), 3j]], dtype=torch.complex64)
    for layer in (P.ModReLU(4, bias_init=-0.5), P.Cardioid(), P.Modulus()):
        model = nn.Sequential(P.Linear(4, 4), layer)
        want = model(z)
        got = lower(model, kernel=kernel)(to_pair(z))
        got = got if not want.is_complex() else from_pair(got)
        torch.testing.assert_close(got, want, equal_nan=True, atol=1e-6, rtol=1e-5)
        assert torch.isnan(want).any()  # the NaN reached the output in both


def test_real_input_into_an_activation_is_refused_and_bad_options():
    with pytest.raises(TypeError, match=r"CReLU.*real input"):
        lower(nn.Sequential(P.CReLU()), real_input=True)
    with pytest.raises(ValueError, match="kernel"):
        lower(P.Linear(2, 2), kernel="fast")


@pytest.mark.parametrize(
    "pool", [P.MaxPool1d(2, return_indices=True), P.MaxPool2d(2, 1, 1, return_indices=True)]
)
def test_max_pool_with_indices_returns_phasor_indices(pool):
    z = torch.randn(
        2, 3, *(5,) * (2 if isinstance(pool, P.MaxPool2d) else 1), dtype=torch.complex64
    )
    out, index = pool(z)
    out_l, index_l = lower(pool)(to_pair(z))
    torch.testing.assert_close(from_pair(out_l), out)
    assert torch.equal(index_l, index)


def _small_cnn():
    torch.manual_seed(4)
    return nn.Sequential(
        P.Conv2d(1, 4, 3, padding=1),
        P.ComplexBatchNorm2d(4),
        P.ModReLU(4, -0.1),
        P.MaxPool2d(2),
        P.Conv2d(4, 4, 3, padding=1),
        P.CReLU(),
        P.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        P.Linear(4, 3),
        P.Modulus(),
    ).eval()


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_compile_fullgraph_forward_and_backward(backend):
    model = _small_cnn()
    lowered = lower(model)
    torch._dynamo.reset()
    compiled = torch.compile(lowered, fullgraph=True, backend=backend)
    z = torch.randn(4, 1, 8, 8, dtype=torch.complex64)
    x = to_pair(z).requires_grad_(backend == "aot_eager")
    out = compiled(x)
    torch.testing.assert_close(out, model(z), atol=2e-5, rtol=2e-5)
    if backend == "inductor":  # the backward graph too would double the (slow) code generation
        return
    out.sum().backward()
    zz = z.clone().requires_grad_()
    model(zz).sum().backward()
    torch.testing.assert_close(from_pair(x.grad), zz.grad, atol=2e-5, rtol=2e-5)
