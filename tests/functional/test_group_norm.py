"""Complex group and instance norm (and batch norm on 5-D input) against NumPy references:
explicit 2x2 covariances per sample and group, inverse square roots by eigendecomposition."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import phasor.functional as CF

torch.set_num_threads(1)


def correlated(n, channels, *spatial, seed=0, dtype=torch.complex128):
    """Complex data whose channels have different means and correlated, unequal parts."""
    g = torch.Generator().manual_seed(seed)
    real = dtype.to_real()
    white = torch.randn(2, n, channels, *spatial, dtype=real, generator=g)
    mix = torch.randn(channels, 2, 2, dtype=real, generator=g) + 1.5 * torch.eye(2, dtype=real)
    mean = torch.randn(channels, 2, dtype=real, generator=g) * 3
    parts = torch.einsum("cij,jnc...->inc...", mix, white)
    shape = (1, channels) + (1,) * len(spatial)
    return torch.complex(parts[0] + mean[:, 0].view(shape), parts[1] + mean[:, 1].view(shape))


def random_affine(channels, seed=1, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    weight = torch.randn(channels, 3, dtype=dtype, generator=g)
    bias = torch.randn(channels, dtype=dtype.to_complex(), generator=g)
    return weight, bias


def inv_sqrt(cov, eps):
    w, u = np.linalg.eigh(cov + eps * np.eye(2))
    return u @ np.diag(w**-0.5) @ u.T


def ref_group_norm(x, groups, weight=None, bias=None, eps=1e-5, stats=None):
    """Loops over samples and groups: the (2, M) vectors of the group's channels and spatial
    positions, whitened with their own mean and covariance (or ``stats = (mean, cov)`` per
    channel, 2x2), then the affine map of each channel."""
    a = x.detach().numpy()
    n, channels = a.shape[:2]
    per = channels // groups
    out = np.empty_like(a)
    for i in range(n):
        for g in range(groups):
            block = a[i, g * per : (g + 1) * per]
            v = np.stack([block.real.ravel(), block.imag.ravel()])
            if stats is None:
                mean, cov = v.mean(1, keepdims=True), np.cov(v, ddof=0)
            else:
                mean = np.array([[stats[0][g].real], [stats[0][g].imag]])
                cov = stats[1][g]
            y = (inv_sqrt(cov, eps) @ (v - mean)).reshape(2, *block.shape)
            for j in range(per):
                c = g * per + j
                yc = y[:, j].reshape(2, -1)
                if weight is not None:
                    grr, gri, gii = weight[c].tolist()
                    yc = np.array([[grr, gri], [gri, gii]]) @ yc
                if bias is not None:
                    yc = yc + np.array([[bias[c].real], [bias[c].imag]]).astype(float)
                out[i, c] = (yc[0] + 1j * yc[1]).reshape(block.shape[1:])
    return torch.from_numpy(out)


def group_stats(out, groups):
    """Means (N, G) and biased 2x2 covariances (N, G, 2, 2) per sample and group."""
    a = out.detach().numpy()
    n = a.shape[0]
    blocks = a.reshape(n, groups, -1)
    v = np.stack([blocks.real, blocks.imag], axis=2)  # (N, G, 2, M)
    mean = v.mean(-1)
    centred = v - mean[..., None]
    return mean, np.einsum("ngim,ngjm->ngij", centred, centred) / v.shape[-1]


# --------------------------------------------------------------------------- group norm


@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize("spatial", [(), (5,), (3, 2), (2, 2, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_reference(groups, spatial, affine):
    x = correlated(3, 4, *spatial, seed=1)
    weight, bias = random_affine(4, seed=2) if affine else (None, None)
    out = CF.complex_group_norm(x, groups, weight, bias)
    ref = ref_group_norm(x, groups, weight, bias)
    assert out.shape == x.shape and out.dtype == x.dtype
    torch.testing.assert_close(out, ref)


def test_group_norm_complex64_matches_reference():
    x = correlated(4, 6, 3, 3, seed=3, dtype=torch.complex64)
    weight, bias = random_affine(6, seed=4, dtype=torch.float32)
    out = CF.complex_group_norm(x, 3, weight, bias, eps=1e-3)
    assert out.dtype == torch.complex64
    ref = ref_group_norm(
        x.to(torch.complex128), 3, weight.double(), bias.to(torch.complex128), 1e-3
    )
    torch.testing.assert_close(out.to(torch.complex128), ref, rtol=1e-4, atol=1e-4)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 3),
    per_group=st.integers(1, 3),
    groups=st.integers(1, 3),
    spatial=st.lists(st.integers(1, 4), min_size=1, max_size=2),
    scale=st.floats(-3, 3),
    seed=st.integers(0, 10_000),
)
def test_group_norm_output_is_white_per_sample_and_group(
    n, per_group, groups, spatial, scale, seed
):
    assume(per_group * int(np.prod(spatial)) >= 6)  # enough values for a full-rank covariance
    x = correlated(n, per_group * groups, *spatial, seed=seed) * 10**scale
    _, cov_in = group_stats(x, groups)
    assume(np.linalg.eigvalsh(cov_in).min() > 1e-3 * 10 ** (2 * scale))
    out = CF.complex_group_norm(x, groups, eps=1e-14 * 10 ** (2 * scale))
    mean, cov = group_stats(out, groups)
    np.testing.assert_allclose(mean, 0, atol=1e-9)
    np.testing.assert_allclose(cov, np.broadcast_to(np.eye(2), cov.shape), atol=1e-7)


@pytest.mark.parametrize("check", [torch.autograd.gradcheck, torch.autograd.gradgradcheck])
def test_group_norm_gradcheck_complex128(check):
    x = correlated(1, 4, 2, seed=5).requires_grad_()
    weight, bias = random_affine(4, seed=6)
    assert check(
        lambda x, w, b: CF.complex_group_norm(x, 2, w, b),
        (x, weight.requires_grad_(), bias.requires_grad_()),
    )


def test_group_norm_with_one_group_per_channel_is_instance_norm():
    x = correlated(3, 4, 2, 3, seed=7)
    weight, bias = random_affine(4, seed=8)
    torch.testing.assert_close(
        CF.complex_group_norm(x, 4, weight, bias),
        CF.complex_instance_norm(x, None, None, weight, bias),
    )


def test_group_norm_does_not_depend_on_other_samples():
    x = correlated(4, 4, 5, seed=9)
    torch.testing.assert_close(CF.complex_group_norm(x, 2)[1:2], CF.complex_group_norm(x[1:2], 2))


# Powers of two scale exactly; the determinant of the covariance (order 2^(4k)) overflows.
HUGE = [(torch.complex64, 50), (torch.complex128, 500)]


@pytest.mark.parametrize(("dtype", "k"), HUGE)
@pytest.mark.parametrize("which", ["group", "instance"])
def test_huge_inputs_match_exactly_scaled_input(dtype, k, which):
    """Norm of 2^k x with eps is norm of x with eps / 4^k: outputs equal, input gradients
    2^-k times, parameter gradients equal."""
    x = correlated(3, 4, 6, seed=10)
    weight, bias = random_affine(4, seed=11)
    g = torch.randn(x.shape, dtype=x.dtype, generator=torch.Generator().manual_seed(12))

    def run(x, eps, dtype):
        leaves = [
            x.to(dtype).requires_grad_(),
            weight.to(dtype.to_real()).requires_grad_(),
            bias.to(dtype).requires_grad_(),
        ]
        if which == "group":
            out = CF.complex_group_norm(leaves[0], 2, leaves[1], leaves[2], eps)
        else:
            out = CF.complex_instance_norm(leaves[0], None, None, leaves[1], leaves[2], eps=eps)
        grads = torch.autograd.grad(out, leaves, g.to(dtype))
        return [t.to(torch.complex128 if t.is_complex() else torch.float64) for t in (out, *grads)]

    big = run(x * 2.0**k, 1e-5, dtype)
    unit = run(x, 1e-5 / 4.0**k, torch.complex128)
    big[1] = big[1] * 2.0**k
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == torch.complex64 else {}
    assert all(torch.isfinite(torch.view_as_real(t) if t.is_complex() else t).all() for t in big)
    for got, want in zip(big, unit, strict=True):
        scale = want.abs().max()
        torch.testing.assert_close(got / scale, want / scale, **tol)


def test_constant_group_stays_finite_and_gives_the_bias():
    x = torch.full((2, 2, 4), 3 - 4j, dtype=torch.complex64)
    weight, bias = random_affine(2, seed=13, dtype=torch.float32)
    out = CF.complex_group_norm(x, 1, weight, bias)
    torch.testing.assert_close(out, bias[None, :, None].expand(2, 2, 4))
    # One value per group ((N, C) input, one group per channel): the bias as well.
    out = CF.complex_group_norm(x[:, :, 0], 2, weight, bias)
    torch.testing.assert_close(out, bias.expand(2, 2))


@pytest.mark.parametrize("shape", [(0, 4), (0, 4, 3), (2, 4, 0), (0, 4, 2, 2, 2)])
def test_group_norm_empty_input_gives_empty_output_and_zero_gradients(shape):
    x = torch.zeros(shape, dtype=torch.complex128, requires_grad=True)
    weight, bias = random_affine(4, seed=14)
    weight.requires_grad_()
    bias.requires_grad_()
    out = CF.complex_group_norm(x, 2, weight, bias)
    assert out.shape == x.shape and out.dtype == x.dtype
    grads = torch.autograd.grad(out, (x, weight, bias), torch.zeros_like(out))
    assert grads[0].shape == x.shape
    assert torch.equal(grads[1], torch.zeros_like(weight))
    assert torch.equal(grads[2], torch.zeros_like(bias))


def test_group_norm_bad_inputs_raise():
    x = correlated(2, 4, 3, seed=15)
    with pytest.raises(ValueError, match="divide"):
        CF.complex_group_norm(x, 3)
    with pytest.raises(ValueError, match="positive"):
        CF.complex_group_norm(x, 0)
    with pytest.raises(TypeError, match="to_complex"):
        CF.complex_group_norm(x.real, 2)
    with pytest.raises(ValueError, match="-D"):
        CF.complex_group_norm(x[0, 0], 1)
    with pytest.raises(ValueError, match="one entry per channel"):
        CF.complex_group_norm(x, 2, torch.ones(3, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match="dtype"):
        CF.complex_group_norm(x, 2, bias=torch.zeros(4, dtype=torch.complex64))


# --------------------------------------------------------------------------- instance norm


@pytest.mark.parametrize("spatial", [(5,), (3, 2), (2, 2, 2)])
def test_instance_norm_matches_reference(spatial):
    x = correlated(3, 2, *spatial, seed=16)
    weight, bias = random_affine(2, seed=17)
    torch.testing.assert_close(CF.complex_instance_norm(x), ref_group_norm(x, 2))
    torch.testing.assert_close(
        CF.complex_instance_norm(x, None, None, weight, bias), ref_group_norm(x, 2, weight, bias)
    )


def test_instance_norm_updates_running_statistics_with_averaged_unbiased_instances():
    x = correlated(4, 3, 6, seed=18)
    running_mean = torch.tensor([1 + 1j, 0, -2j], dtype=torch.complex128)
    running_cov = torch.tensor([[1.0, 0.0, 1.0], [2.0, 0.5, 3.0], [0.5, -0.2, 0.5]]).double()
    init_mean, init_cov = running_mean.numpy().copy(), running_cov.numpy().copy()
    m = 0.3
    out = CF.complex_instance_norm(x, running_mean, running_cov, momentum=m)
    torch.testing.assert_close(out, ref_group_norm(x, 3))  # the instances' own statistics
    a = x.numpy()
    means = a.mean(-1).mean(0)
    covs = np.zeros((3, 3))
    for i in range(4):
        for c in range(3):
            cov = np.cov(np.stack([a[i, c].real, a[i, c].imag]), ddof=1)
            covs[c] += np.array([cov[0, 0], cov[0, 1], cov[1, 1]]) / 4
    np.testing.assert_allclose(running_mean.numpy(), (1 - m) * init_mean + m * means)
    np.testing.assert_allclose(running_cov.numpy(), (1 - m) * init_cov + m * covs)


def test_instance_norm_without_input_stats_uses_running_statistics():
    x = correlated(3, 2, 5, seed=19)
    running_mean = torch.tensor([0.5 - 1j, 2.0], dtype=torch.complex128)
    running_cov = torch.tensor([[2.0, 0.5, 1.0], [0.3, -0.1, 4.0]], dtype=torch.float64)
    saved = running_mean.clone(), running_cov.clone()
    weight, bias = random_affine(2, seed=20)
    out = CF.complex_instance_norm(x, running_mean, running_cov, weight, bias, False)
    t = running_cov.numpy()
    covs = [np.array([[r[0], r[1]], [r[1], r[2]]]) for r in t]
    # Per-channel statistics: the reference's "groups" are the channels of one sample each.
    ref = torch.cat(
        [
            ref_group_norm(x[i : i + 1], 2, weight, bias, stats=(running_mean.numpy(), covs))
            for i in range(3)
        ]
    )
    torch.testing.assert_close(out, ref)
    assert torch.equal(running_mean, saved[0]) and torch.equal(running_cov, saved[1])
    with pytest.raises(ValueError, match="use_input_stats"):
        CF.complex_instance_norm(x, use_input_stats=False)


@pytest.mark.parametrize("check", [torch.autograd.gradcheck, torch.autograd.gradgradcheck])
@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_gradcheck_complex128(check, use_input_stats):
    x = correlated(1, 2, 3, seed=21).requires_grad_()
    weight, bias = random_affine(2, seed=22)
    running_mean = torch.tensor([0.3 + 0.1j, -1j], dtype=torch.complex128)
    running_cov = torch.tensor([[1.5, 0.4, 0.7], [0.9, -0.2, 2.0]], dtype=torch.float64)
    assert check(
        lambda x, w, b: CF.complex_instance_norm(
            x, running_mean.clone(), running_cov.clone(), w, b, use_input_stats
        ),
        (x, weight.requires_grad_(), bias.requires_grad_()),
    )


@pytest.mark.parametrize("shape", [(2, 3, 1), (1, 3, 1, 1)])
def test_instance_norm_single_spatial_element_raises(shape):
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        CF.complex_instance_norm(torch.ones(shape, dtype=torch.complex64))
    # torch says the same for real input.
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        torch.nn.functional.instance_norm(torch.ones(shape))


@pytest.mark.parametrize("shape", [(0, 3, 4), (0, 3, 2, 2), (2, 3, 0)])
def test_instance_norm_empty_input_leaves_running_statistics(shape):
    x = torch.zeros(shape, dtype=torch.complex128, requires_grad=True)
    running_mean = torch.randn(3, dtype=torch.complex128)
    running_cov = torch.tensor([[2.0, 0.5, 1.0]] * 3, dtype=torch.float64)
    saved = running_mean.clone(), running_cov.clone()
    weight, bias = random_affine(3, seed=23)
    weight.requires_grad_()
    out = CF.complex_instance_norm(x, running_mean, running_cov, weight, bias)
    assert out.shape == shape
    grads = torch.autograd.grad(out, (x, weight), torch.zeros_like(out))
    assert torch.equal(grads[1], torch.zeros_like(weight))
    assert torch.equal(running_mean, saved[0]) and torch.equal(running_cov, saved[1])


def test_instance_norm_bad_inputs_raise():
    x = correlated(2, 3, 4, seed=24)
    with pytest.raises(ValueError, match="-D"):
        CF.complex_instance_norm(x[:, :, 0])
    with pytest.raises(ValueError, match="num_features"):
        CF.complex_instance_norm(x, weight=torch.ones(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="together"):
        CF.complex_instance_norm(x, running_mean=torch.zeros(3, dtype=torch.complex128))
    with pytest.raises(TypeError, match="to_complex"):
        CF.complex_instance_norm(x.real)


# --------------------------------------------------------------------------- batch norm, 5-D


def test_batch_norm_on_volumes_whitens_over_batch_and_space():
    x = correlated(3, 2, 2, 3, 2, seed=25)
    weight, bias = random_affine(2, seed=26)
    out = CF.complex_batch_norm(x, None, None, weight, bias, training=True)
    # Batch norm of (N, C, D, H, W) is group norm (one group per channel) of the batch seen as
    # one sample: (1, C, N D H W).
    as_one = x.transpose(0, 1).reshape(1, 2, -1)
    ref = ref_group_norm(as_one, 2, weight, bias).reshape(2, 3, 2, 3, 2).transpose(0, 1)
    torch.testing.assert_close(out, ref)
