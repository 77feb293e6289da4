"""Complex normalisation layers: initial state, train/eval behaviour, bookkeeping, errors."""

import math
import warnings

import numpy as np
import pytest
import torch

import phasor.functional as CF
import phasor.nn as cnn


def correlated(n, channels, *spatial, seed=0, dtype=torch.complex64):
    """Complex data with per-channel means and correlated parts of unequal variance."""
    g = torch.Generator().manual_seed(seed)
    re = torch.randn(n, channels, *spatial, generator=g, dtype=torch.float64)
    im = 0.7 * re + 0.3 * torch.randn(n, channels, *spatial, generator=g, dtype=torch.float64)
    shift = torch.arange(channels, dtype=torch.float64).view(1, -1, *([1] * len(spatial)))
    return torch.complex(2 * re + shift, im - shift).to(dtype)


def per_channel_cov(x):
    """(C, 2, 2) biased covariance of (Re, Im) per channel."""
    a = x.detach().to(torch.complex128).transpose(0, 1).reshape(x.shape[1], -1).numpy()
    return np.stack([np.cov(np.stack([c.real, c.imag]), ddof=0) for c in a])


@pytest.mark.parametrize("cls", [cnn.ComplexBatchNorm1d, cnn.ComplexBatchNorm2d])
@pytest.mark.parametrize("dtype", [None, torch.complex64, torch.complex128])
def test_complex_batch_norm_initial_state_and_dtypes(cls, dtype):
    bn = cls(5, dtype=dtype)
    cdtype = dtype or torch.complex64
    r = 1 / math.sqrt(2)
    assert bn.weight.shape == (5, 3) and bn.weight.dtype == cdtype.to_real()
    torch.testing.assert_close(bn.weight.data, torch.tensor([[r, 0.0, r]] * 5).to(bn.weight))
    assert bn.bias.dtype == cdtype and torch.all(bn.bias == 0)
    assert bn.running_mean.dtype == cdtype and torch.all(bn.running_mean == 0)
    assert bn.running_cov.dtype == cdtype.to_real()
    torch.testing.assert_close(
        bn.running_cov, torch.tensor([[1.0, 0.0, 1.0]] * 5).to(bn.running_cov)
    )
    assert int(bn.num_batches_tracked) == 0


def test_training_output_whitened_then_scaled_by_default_gamma():
    bn = cnn.ComplexBatchNorm2d(3, dtype=torch.complex128)
    x = correlated(16, 3, 4, 4, seed=1, dtype=torch.complex128)
    out = bn(x)
    assert out.dtype == torch.complex128
    torch.testing.assert_close(out.mean((0, 2, 3)), torch.zeros(3, dtype=torch.complex128))
    # gamma = I / sqrt(2): each part has variance 1/2, so E|z|^2 = 1.
    expected = np.broadcast_to(np.eye(2) / 2, (3, 2, 2))
    np.testing.assert_allclose(per_channel_cov(out), expected, atol=1e-3)


def test_eval_mode_uses_running_stats_and_matches_functional():
    bn = cnn.ComplexBatchNorm1d(4, momentum=0.5)
    for seed in range(3):
        bn(correlated(32, 4, 6, seed=seed))
    assert int(bn.num_batches_tracked) == 3
    bn.eval()
    x = correlated(2, 4, 6, seed=10)
    out = bn(x)
    ref = CF.complex_batch_norm(x, bn.running_mean, bn.running_cov, bn.weight, bn.bias)
    torch.testing.assert_close(out, ref)
    # In eval the output of one sample does not depend on the rest of the batch.
    torch.testing.assert_close(bn(x[:1]), out[:1])
    assert int(bn.num_batches_tracked) == 3


def test_running_stats_follow_momentum_updates():
    bn = cnn.ComplexBatchNorm1d(2, momentum=0.25, dtype=torch.complex128)
    x = correlated(20, 2, seed=2, dtype=torch.complex128)
    bn(x)
    mean = x.mean(0)
    torch.testing.assert_close(bn.running_mean, 0.25 * mean)
    cov = per_channel_cov(x) * 20 / 19  # unbiased
    init = np.array([1.0, 0.0, 1.0])
    expected = 0.75 * init + 0.25 * np.stack([cov[:, 0, 0], cov[:, 0, 1], cov[:, 1, 1]], -1)
    np.testing.assert_allclose(bn.running_cov.numpy(), expected)


def test_momentum_none_gives_cumulative_average():
    bn = cnn.ComplexBatchNorm1d(3, momentum=None, dtype=torch.complex128)
    batches = [correlated(10, 3, seed=s, dtype=torch.complex128) for s in range(4)]
    for b in batches:
        bn(b)
    expected = torch.stack([b.mean(0) for b in batches]).mean(0)
    torch.testing.assert_close(bn.running_mean, expected)


def test_running_stats_converge_to_data_statistics():
    bn = cnn.ComplexBatchNorm1d(2, dtype=torch.complex128)
    g = torch.Generator().manual_seed(3)
    for _ in range(120):
        re = torch.randn(256, 2, dtype=torch.float64, generator=g)
        im = 0.5 * re + torch.randn(256, 2, dtype=torch.float64, generator=g)
        bn(torch.complex(re + 1, im - 2))
    # Re ~ N(1, 1), Im = 0.5 Re + noise: Var Im = 1.25, Cov = 0.5.
    torch.testing.assert_close(
        bn.running_mean, torch.full((2,), 1 - 2j, dtype=torch.complex128), atol=0.05, rtol=0
    )
    expected = torch.tensor([[1.0, 0.5, 1.25]] * 2, dtype=torch.float64)
    torch.testing.assert_close(bn.running_cov, expected, atol=0.08, rtol=0)


def test_without_running_stats_uses_batch_stats_in_eval():
    bn = cnn.ComplexBatchNorm2d(3, track_running_stats=False).eval()
    assert bn.running_mean is None and bn.running_cov is None
    x = correlated(8, 3, 2, 2, seed=4)
    torch.testing.assert_close(bn(x), CF.complex_batch_norm(x, None, None, bn.weight, bn.bias))


def test_affine_false_has_no_parameters_and_whitens():
    bn = cnn.ComplexBatchNorm1d(2, affine=False, dtype=torch.complex128)
    assert bn.weight is None and bn.bias is None
    assert list(bn.parameters()) == []
    out = bn(correlated(50, 2, seed=5, dtype=torch.complex128))
    np.testing.assert_allclose(
        per_channel_cov(out), np.broadcast_to(np.eye(2), (2, 2, 2)), atol=1e-3
    )


def test_module_to_complex128_keeps_real_state_real():
    bn = cnn.ComplexBatchNorm2d(3)
    naive = cnn.NaiveComplexBatchNorm2d(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that complex modules are new
        net = torch.nn.Sequential(bn, naive).to(torch.complex128)
    assert bn.weight.dtype == torch.float64 and bn.running_cov.dtype == torch.float64
    assert bn.bias.dtype == torch.complex128 and bn.running_mean.dtype == torch.complex128
    assert naive.weight.dtype == torch.float64 and naive.running_var.dtype == torch.float64
    r = 1 / math.sqrt(2)
    torch.testing.assert_close(bn.weight.data, torch.tensor([[r, 0.0, r]] * 3).double())
    assert isinstance(bn.weight, torch.nn.Parameter) and bn.weight.requires_grad
    out = net(correlated(4, 3, 2, 2, dtype=torch.complex128))
    assert out.dtype == torch.complex128


def test_gradients_reach_parameters():
    bn = cnn.ComplexBatchNorm2d(2)
    out = bn(correlated(4, 2, 3, 3, seed=6))
    (out * torch.randn_like(out)).real.sum().backward()
    assert bn.weight.grad.dtype == torch.float32 and bn.weight.grad.abs().sum() > 0
    assert bn.bias.grad.dtype == torch.complex64 and bn.bias.grad.abs().sum() > 0


def test_state_dict_round_trip():
    a = cnn.ComplexBatchNorm1d(3)
    a(correlated(8, 3, seed=7))
    b = cnn.ComplexBatchNorm1d(3)
    b.load_state_dict(a.state_dict())
    a.eval()
    b.eval()
    x = correlated(2, 3, seed=8)
    torch.testing.assert_close(a(x), b(x))


def test_reset_parameters_restores_initial_state():
    bn = cnn.ComplexBatchNorm1d(2)
    bn(correlated(8, 2, seed=9))
    with torch.no_grad():
        bn.weight.add_(1)
    bn.reset_parameters()
    fresh = cnn.ComplexBatchNorm1d(2)
    for name, value in fresh.state_dict().items():
        torch.testing.assert_close(bn.state_dict()[name], value)


@pytest.mark.parametrize("cls", [cnn.ComplexBatchNorm1d, cnn.NaiveComplexBatchNorm1d])
def test_single_value_per_channel_raises_and_leaves_state(cls):
    bn = cls(3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(torch.ones(1, 3, dtype=torch.complex64))
    assert int(bn.num_batches_tracked) == 0
    bn.eval()
    assert bn(torch.ones(1, 3, dtype=torch.complex64)).shape == (1, 3)


@pytest.mark.parametrize(
    ("cls", "torch_cls", "shape"),
    [
        (cnn.ComplexBatchNorm1d, torch.nn.BatchNorm1d, (0, 3)),
        (cnn.ComplexBatchNorm1d, torch.nn.BatchNorm1d, (0, 3, 5)),
        (cnn.ComplexBatchNorm2d, torch.nn.BatchNorm2d, (0, 3, 4, 4)),
        (cnn.NaiveComplexBatchNorm2d, torch.nn.BatchNorm2d, (0, 3, 4, 4)),
    ],
)
@pytest.mark.parametrize("momentum", [0.1, None])
def test_empty_batch_behaves_like_torch_in_train_and_eval(cls, torch_cls, shape, momentum):
    """Output empty, parameter gradients zero, running statistics unchanged, and the batch
    counted in training exactly as torch.nn.BatchNorm counts it."""
    bn, ref = cls(3, momentum=momentum), torch_cls(3, momentum=momentum)
    bn(correlated(8, 3, *shape[2:]))  # non-trivial running statistics
    ref(torch.randn(8, 3, *shape[2:]))
    for training in (True, False):
        bn.train(training)
        ref.train(training)
        state = {k: v.clone() for k, v in bn.state_dict().items()}
        x = torch.zeros(shape, dtype=torch.complex64, requires_grad=True)
        out = bn(x)
        ref_out = ref(torch.zeros(shape, requires_grad=True))
        assert out.shape == ref_out.shape == shape and out.dtype == torch.complex64
        grads = torch.autograd.grad(out, (x, bn.weight, bn.bias), torch.zeros_like(out))
        assert grads[0].shape == shape
        assert torch.equal(grads[1], torch.zeros_like(bn.weight))
        assert torch.equal(grads[2], torch.zeros_like(bn.bias))
        for name, value in bn.state_dict().items():
            if name != "num_batches_tracked":
                assert torch.equal(value, state[name]), name
        assert int(bn.num_batches_tracked) == int(ref.num_batches_tracked)


@pytest.mark.parametrize(
    "cls",
    [
        cnn.ComplexBatchNorm1d,
        cnn.ComplexBatchNorm2d,
        cnn.NaiveComplexBatchNorm1d,
        cnn.NaiveComplexBatchNorm2d,
    ],
)
def test_bad_inputs_raise(cls):
    bn = cls(3)
    good_rank = 4 if cls.__name__.endswith("2d") else 3
    with pytest.raises(ValueError, match="num_features"):
        bn(correlated(4, 5, *([2] * (good_rank - 2))))
    with pytest.raises(TypeError, match="to_complex"):
        bn(torch.randn(4, 3, *([2] * (good_rank - 2))))
    with pytest.raises(ValueError, match="-D"):
        bn(correlated(4, 3, 2, 2, 2))
    with pytest.raises(TypeError, match="dtype"):
        bn(correlated(4, 3, *([2] * (good_rank - 2)), dtype=torch.complex128))
    with pytest.raises(TypeError, match="complex"):
        cls(3, dtype=torch.float32)


@pytest.mark.parametrize("cls", [cnn.NaiveComplexBatchNorm1d, cnn.NaiveComplexBatchNorm2d])
def test_naive_batch_norm_matches_two_torch_batch_norms(cls):
    torch_cls = torch.nn.BatchNorm1d if cls is cnn.NaiveComplexBatchNorm1d else torch.nn.BatchNorm2d
    spatial = (5,) if cls is cnn.NaiveComplexBatchNorm1d else (3, 3)
    layer = cls(4, momentum=0.3)
    re_bn, im_bn = torch_cls(4, momentum=0.3), torch_cls(4, momentum=0.3)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(2, 4))
        layer.bias.copy_(torch.randn(2, 4))
        re_bn.weight.copy_(layer.weight[0])
        re_bn.bias.copy_(layer.bias[0])
        im_bn.weight.copy_(layer.weight[1])
        im_bn.bias.copy_(layer.bias[1])
    for seed in range(2):
        x = correlated(6, 4, *spatial, seed=seed)
        torch.testing.assert_close(layer(x), torch.complex(re_bn(x.real), im_bn(x.imag)))
    torch.testing.assert_close(
        layer.running_mean, torch.stack([re_bn.running_mean, im_bn.running_mean])
    )
    torch.testing.assert_close(
        layer.running_var, torch.stack([re_bn.running_var, im_bn.running_var])
    )
    for m in (layer, re_bn, im_bn):
        m.eval()
    x = correlated(3, 4, *spatial, seed=5)
    torch.testing.assert_close(layer(x), torch.complex(re_bn(x.real), im_bn(x.imag)))


def test_layer_norm_module():
    ln = cnn.ComplexLayerNorm((3, 4), dtype=torch.complex128)
    assert ln.weight.dtype == torch.complex128 and torch.all(ln.weight == 1)
    assert ln.bias.dtype == torch.complex128 and torch.all(ln.bias == 0)
    with torch.no_grad():
        ln.weight.copy_(torch.randn(3, 4, dtype=torch.complex128))
        ln.bias.copy_(torch.randn(3, 4, dtype=torch.complex128))
    x = correlated(2, 5, 3, 4, dtype=torch.complex128)
    torch.testing.assert_close(ln(x), CF.complex_layer_norm(x, (3, 4), ln.weight, ln.bias))
    # A complex weight of unit modulus rotates the normalised output.
    ln2 = cnn.ComplexLayerNorm(4, bias=False, dtype=torch.complex128)
    assert ln2.bias is None
    with torch.no_grad():
        ln2.weight.fill_(1j)
    torch.testing.assert_close(ln2(x), 1j * CF.complex_layer_norm(x, 4))
    assert list(cnn.ComplexLayerNorm(4, elementwise_affine=False).parameters()) == []
    assert cnn.ComplexLayerNorm(4).weight.dtype == torch.complex64


def test_repr_mentions_configuration():
    assert "momentum=0.1" in repr(cnn.ComplexBatchNorm2d(3))
    assert "(3, 4)" in repr(cnn.ComplexLayerNorm((3, 4)))


# --------------------------------------------------------------- 3-D batch norm, group, instance


def test_batch_norm_3d_matches_functional_and_checks_rank():
    bn = cnn.ComplexBatchNorm3d(2, dtype=torch.complex128)
    x = correlated(3, 2, 2, 2, 3, seed=11, dtype=torch.complex128)
    torch.testing.assert_close(
        bn(x), CF.complex_batch_norm(x, None, None, bn.weight, bn.bias, training=True)
    )
    assert int(bn.num_batches_tracked) == 1 and not torch.all(bn.running_mean == 0)
    with pytest.raises(ValueError, match=r"5-D \(N, C, D, H, W\)"):
        bn(correlated(3, 2, 4, 4, dtype=torch.complex128))


def _randomise(layer):
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape).to(layer.weight))
        layer.bias.copy_(torch.randn(layer.bias.shape, dtype=layer.bias.dtype))
    return layer


@pytest.mark.parametrize(
    ("cls", "spatial"),
    [
        (cnn.ComplexInstanceNorm1d, (6,)),
        (cnn.ComplexInstanceNorm2d, (3, 2)),
        (cnn.ComplexInstanceNorm3d, (2, 2, 2)),
    ],
)
def test_group_norm_with_a_group_per_channel_equals_affine_instance_norm(cls, spatial):
    group = _randomise(cnn.ComplexGroupNorm(4, 4, dtype=torch.complex128))
    instance = cls(4, affine=True, dtype=torch.complex128)
    instance.load_state_dict(group.state_dict())
    x = correlated(3, 4, *spatial, seed=12, dtype=torch.complex128)
    torch.testing.assert_close(group(x), instance(x))


def test_instance_norm_defaults_follow_torch():
    layer, ref = cnn.ComplexInstanceNorm2d(3), torch.nn.InstanceNorm2d(3)
    assert (layer.affine, layer.track_running_stats) == (ref.affine, ref.track_running_stats)
    assert list(layer.parameters()) == [] and list(layer.buffers()) == []
    x = correlated(2, 3, 4, 4, seed=13)
    train = layer(x)
    torch.testing.assert_close(layer.eval()(x), train)
    cov = per_channel_cov(train[1:2])  # one sample: white per channel
    np.testing.assert_allclose(cov, np.broadcast_to(np.eye(2), (3, 2, 2)), atol=1e-3)


@pytest.mark.parametrize(
    ("cls", "spatial"), [(cnn.ComplexInstanceNorm1d, (5,)), (cnn.ComplexInstanceNorm2d, (3, 3))]
)
def test_instance_norm_unbatched_input_as_torch(cls, spatial):
    layer = _randomise(cls(3, affine=True))
    x = correlated(1, 3, *spatial, seed=14)
    torch.testing.assert_close(layer(x[0]), layer(x)[0])
    with pytest.raises(ValueError, match="-D"):
        layer(x[0, 0])


def test_tracked_instance_norm_uses_running_statistics_in_eval():
    layer = cnn.ComplexInstanceNorm1d(2, momentum=0.5, track_running_stats=True)
    assert layer.running_cov.dtype == torch.float32
    for seed in range(3):
        layer(correlated(4, 2, 8, seed=seed))
    assert int(layer.num_batches_tracked) == 3
    layer.eval()
    x = correlated(2, 2, 8, seed=15)
    ref = CF.complex_batch_norm(x, layer.running_mean, layer.running_cov)
    torch.testing.assert_close(layer(x), ref)


def test_group_norm_module_state_and_errors():
    gn = cnn.ComplexGroupNorm(2, 6, dtype=torch.complex128)
    r = 1 / math.sqrt(2)
    assert gn.weight.dtype == torch.float64 and gn.bias.dtype == torch.complex128
    torch.testing.assert_close(gn.weight.data, torch.tensor([[r, 0.0, r]] * 6).double())
    x = correlated(3, 6, 4, seed=16, dtype=torch.complex128)
    torch.testing.assert_close(gn(x), CF.complex_group_norm(x, 2, gn.weight, gn.bias))
    torch.testing.assert_close(gn.eval()(x), gn.train()(x))
    assert list(cnn.ComplexGroupNorm(3, 6, affine=False).parameters()) == []
    with pytest.raises(ValueError, match="divide"):
        cnn.ComplexGroupNorm(4, 6)
    with pytest.raises(ValueError, match="one entry per channel"):
        gn(correlated(3, 4, 4, dtype=torch.complex128))
    with pytest.raises(TypeError, match="dtype"):
        gn(correlated(3, 6, 4))
    assert "2, 6, eps=1e-05, affine=True" in repr(gn)


# --------------------------------------------------------------- RMS norm, magnitude batch norm


def test_rms_norm_module_matches_torch_on_real_values():
    layer = cnn.ComplexRMSNorm((3, 4), dtype=torch.complex128)
    ref = torch.nn.RMSNorm((3, 4), dtype=torch.float64)
    assert layer.weight.dtype == torch.float64 and torch.all(layer.weight == 1)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(3, 4))
        ref.weight.copy_(layer.weight)
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    torch.testing.assert_close(layer(x.to(torch.complex128)), ref(x).to(torch.complex128))
    z = correlated(2, 5, 3, 4, dtype=torch.complex128)
    torch.testing.assert_close(layer(z), CF.complex_rms_norm(z, (3, 4), layer.weight))
    assert list(cnn.ComplexRMSNorm(4, elementwise_affine=False).parameters()) == []
    assert "(3, 4), eps=None" in repr(layer)


@pytest.mark.parametrize(
    ("cls", "torch_cls", "spatial"),
    [
        (cnn.MagnitudeBatchNorm1d, torch.nn.BatchNorm1d, (5,)),
        (cnn.MagnitudeBatchNorm2d, torch.nn.BatchNorm2d, (3, 3)),
    ],
)
def test_magnitude_batch_norm_module_bookkeeping(cls, torch_cls, spatial):
    bn = cls(3, momentum=None, dtype=torch.complex128)
    assert bn.weight.dtype == torch.float64 and torch.all(bn.weight == 1)
    assert bn.running_power.dtype == torch.float64 and torch.all(bn.running_power == 1)
    batches = [correlated(6, 3, *spatial, seed=s, dtype=torch.complex128) for s in range(3)]
    for b in batches:
        out = bn(b)
        torch.testing.assert_close(out.angle(), b.angle())
    # momentum=None: the running mean power is the cumulative average of the batches'.
    expected = torch.stack([(b.abs() ** 2).mean((0, *range(2, b.dim()))) for b in batches])
    torch.testing.assert_close(bn.running_power, expected.mean(0))
    assert int(bn.num_batches_tracked) == 3
    bn.eval()
    x = batches[0][:1]
    torch.testing.assert_close(bn(x), CF.magnitude_batch_norm(x, bn.running_power, bn.weight))
    assert "momentum=None" in repr(bn)
    with pytest.raises(ValueError, match="-D"):
        bn(correlated(6, 3, 2, 2, 2, dtype=torch.complex128))
    untracked = cls(3, track_running_stats=False, affine=False).eval()
    assert untracked.running_power is None and list(untracked.parameters()) == []
    torch.testing.assert_close(untracked(batches[1]), CF.magnitude_batch_norm(batches[1]))
    # An empty batch is counted as torch counts it.
    ref = torch_cls(3)
    bn.train()
    bn(torch.zeros(0, 3, *spatial, dtype=torch.complex128))
    ref(torch.zeros(0, 3, *spatial))
    assert int(bn.num_batches_tracked) == 3 + int(ref.num_batches_tracked)


def test_new_layers_keep_real_state_real_under_conversion():
    layers = [
        cnn.ComplexBatchNorm3d(2),
        cnn.ComplexGroupNorm(1, 2),
        cnn.ComplexInstanceNorm1d(2, affine=True, track_running_stats=True),
        cnn.ComplexRMSNorm(2),
        cnn.MagnitudeBatchNorm1d(2),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that complex modules are new
        for layer in layers:
            layer.to(torch.complex128)
    for layer in layers:
        for name, t in [*layer.named_parameters(), *layer.named_buffers()]:
            if name == "num_batches_tracked":
                continue
            complex_state = name in ("bias", "running_mean")
            assert t.dtype == (torch.complex128 if complex_state else torch.float64), name
