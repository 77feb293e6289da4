"""Complex normalisation against NumPy references (eigendecomposition whitening, loops) and,
for the fused complex batch norm, a plain autograd reference."""

import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch.autograd import forward_ad

import phasor.functional as CF


def correlated(n, channels, *spatial, seed=0, dtype=torch.complex128):
    """Complex data whose channels have different means and correlated, unequal parts."""
    g = torch.Generator().manual_seed(seed)
    real_dtype = dtype.to_real()
    white = torch.randn(2, n, channels, *spatial, dtype=real_dtype, generator=g)
    mix = torch.randn(channels, 2, 2, dtype=real_dtype, generator=g) + 1.5 * torch.eye(
        2, dtype=real_dtype
    )
    mean = torch.randn(channels, 2, dtype=real_dtype, generator=g) * 3
    parts = torch.einsum("cij,jnc...->inc...", mix, white)
    shape = (1, channels) + (1,) * len(spatial)
    return torch.complex(parts[0] + mean[:, 0].view(shape), parts[1] + mean[:, 1].view(shape))


def channel_vectors(x):
    """(C, 2, M) array of the (Re, Im) vectors of each channel."""
    a = x.detach().numpy()
    a = np.moveaxis(a, 1, 0).reshape(a.shape[1], -1)
    return np.stack([a.real, a.imag], axis=1)


def batch_stats(x, ddof=0):
    v = channel_vectors(x)
    mean = v.mean(-1)
    cov = np.stack([np.cov(vc, ddof=ddof) for vc in v])
    return mean[:, 0] + 1j * mean[:, 1], cov


def ref_batch_norm(x, mean, cov, weight=None, bias=None, eps=1e-5):
    """Whitening with (cov + eps I)^{-1/2} from an eigendecomposition, then affine."""
    v = channel_vectors(x)
    out = np.empty_like(v)
    for c in range(v.shape[0]):
        w, u = np.linalg.eigh(cov[c] + eps * np.eye(2))
        inv_sqrt = u @ np.diag(w**-0.5) @ u.T
        y = inv_sqrt @ (v[c] - np.array([[mean[c].real], [mean[c].imag]]))
        if weight is not None:
            grr, gri, gii = weight[c]
            y = np.array([[grr, gri], [gri, gii]]) @ y
        if bias is not None:
            y = y + np.array([[bias[c].real], [bias[c].imag]])
        out[c] = y
    z = out[:, 0] + 1j * out[:, 1]
    channels_first = z.reshape((x.shape[1], x.shape[0], *x.shape[2:]))
    return torch.from_numpy(np.moveaxis(channels_first, 0, 1))


def cov_as_triplet(cov):
    return np.stack([cov[:, 0, 0], cov[:, 0, 1], cov[:, 1, 1]], axis=-1)


def triplet_as_cov(t):
    t = np.asarray(t)
    return np.stack([np.stack([t[:, 0], t[:, 1]], -1), np.stack([t[:, 1], t[:, 2]], -1)], -2)


def random_affine(channels, seed=1, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    weight = torch.randn(channels, 3, dtype=dtype, generator=g)
    bias = torch.randn(channels, dtype=dtype.to_complex(), generator=g)
    return weight, bias


# --------------------------------------------------------------------------- complex batch norm


@settings(max_examples=25, deadline=None)
@given(
    mix=st.lists(st.floats(-3, 3), min_size=4, max_size=4),
    mean=st.tuples(st.floats(-5, 5), st.floats(-5, 5)),
    seed=st.integers(0, 10_000),
)
def test_training_output_is_white_per_channel(mix, mean, seed):
    a = np.array(mix).reshape(2, 2)
    assume(abs(np.linalg.det(a)) > 0.3)
    g = np.random.default_rng(seed)
    v = a @ g.standard_normal((2, 2 * 3 * 50)) + np.array(mean)[:, None]
    # Channel 1 gets a different distribution: parts swapped and scaled.
    x = torch.from_numpy((v[0] + 1j * v[1]).reshape(2, 3, 50)).clone()
    x[:, 1] = x[:, 1].imag * 0.2 + 1j * x[:, 1].real * 4
    out = CF.complex_batch_norm(x, training=True, eps=1e-12)
    mean_out, cov_out = batch_stats(out)
    np.testing.assert_allclose(mean_out, 0, atol=1e-8)
    np.testing.assert_allclose(cov_out, np.broadcast_to(np.eye(2), (3, 2, 2)), atol=1e-6)


def test_training_with_identity_gamma_and_default_eps_is_white():
    x = correlated(64, 4, 5, seed=2)
    identity = torch.tensor([[1.0, 0.0, 1.0]] * 4, dtype=torch.float64)
    out = CF.complex_batch_norm(x, weight=identity, training=True)
    mean_out, cov_out = batch_stats(out)
    np.testing.assert_allclose(mean_out, 0, atol=1e-10)
    # eps = 1e-5 shrinks each eigenvalue lambda to lambda / (lambda + eps).
    np.testing.assert_allclose(cov_out, np.broadcast_to(np.eye(2), (4, 2, 2)), atol=1e-3)
    # The parts were correlated and unequal before.
    _, cov_in = batch_stats(x)
    assert np.abs(cov_in[:, 0, 1]).max() > 0.1


@pytest.mark.parametrize("spatial", [(), (5,), (3, 4), (2, 2, 3)])
def test_training_matches_eigendecomposition_reference(spatial):
    x = correlated(16, 3, *spatial, seed=3)
    weight, bias = random_affine(3)
    out = CF.complex_batch_norm(x, None, None, weight, bias, training=True)
    mean, cov = batch_stats(x)
    ref = ref_batch_norm(x, mean, cov, weight.numpy(), bias.numpy())
    torch.testing.assert_close(out, ref)


def test_eval_uses_running_statistics():
    x = correlated(8, 3, 4, seed=4)
    running_mean = torch.tensor([0.5 - 1j, 2.0 + 0j, -1 + 3j], dtype=torch.complex128)
    running_cov = torch.tensor([[2.0, 0.5, 1.0], [0.3, -0.1, 4.0], [1.0, 0.0, 1.0]]).double()
    weight, bias = random_affine(3, seed=5)
    saved = running_mean.clone(), running_cov.clone()
    out = CF.complex_batch_norm(x, running_mean, running_cov, weight, bias, training=False)
    ref = ref_batch_norm(
        x, running_mean.numpy(), triplet_as_cov(running_cov.numpy()), weight.numpy(), bias.numpy()
    )
    torch.testing.assert_close(out, ref)
    assert torch.equal(running_mean, saved[0])
    assert torch.equal(running_cov, saved[1])


def test_eval_single_sample_is_allowed():
    out = CF.complex_batch_norm(
        correlated(1, 3, seed=6),
        torch.zeros(3, dtype=torch.complex128),
        torch.tensor([[1.0, 0.0, 1.0]] * 3, dtype=torch.float64),
    )
    assert out.shape == (1, 3)


def test_training_step_updates_running_statistics_with_unbiased_covariance():
    x = correlated(10, 3, 4, seed=7)
    running_mean = torch.tensor([1 + 1j, 0, -2j], dtype=torch.complex128)
    running_cov = torch.tensor([[1.0, 0.0, 1.0], [2.0, 0.5, 3.0], [0.5, -0.2, 0.5]]).double()
    init_mean, init_cov = running_mean.numpy().copy(), running_cov.numpy().copy()
    m = 0.3
    CF.complex_batch_norm(x, running_mean, running_cov, training=True, momentum=m)
    mean, cov = batch_stats(x, ddof=1)
    np.testing.assert_allclose(running_mean.numpy(), (1 - m) * init_mean + m * mean)
    np.testing.assert_allclose(running_cov.numpy(), (1 - m) * init_cov + m * cov_as_triplet(cov))


def test_running_statistics_converge_to_population():
    g = torch.Generator().manual_seed(8)
    a = torch.tensor([[1.2, 0.0], [0.9, 0.6]], dtype=torch.float64)  # cov = a a^T
    mu = torch.tensor([2.0, -1.0], dtype=torch.float64)
    running_mean = torch.zeros(2, dtype=torch.complex128)
    running_cov = torch.tensor([[1.0, 0.0, 1.0]] * 2, dtype=torch.float64)
    for _ in range(150):
        v = torch.einsum("ij,njc->nic", a, torch.randn(256, 2, 2, dtype=torch.float64, generator=g))
        v = v + mu.view(1, 2, 1)
        x = torch.complex(v[:, 0], v[:, 1])  # (N, C=2), same distribution per channel
        CF.complex_batch_norm(x, running_mean, running_cov, training=True, momentum=0.1)
    pop = (a @ a.T).numpy()
    for c in range(2):
        np.testing.assert_allclose(complex(running_mean[c]), complex(2, -1), atol=0.05)
        np.testing.assert_allclose(
            running_cov[c].numpy(), [pop[0, 0], pop[0, 1], pop[1, 1]], atol=0.1
        )


@pytest.mark.parametrize("check", [torch.autograd.gradcheck, torch.autograd.gradgradcheck])
def test_gradcheck_training_complex128(check):
    """First and second derivatives (the hand-written backward, and its own derivative)."""
    x = correlated(5, 2, 3, seed=9).requires_grad_()
    weight, bias = random_affine(2, seed=10)
    weight.requires_grad_()
    bias.requires_grad_()
    assert check(
        lambda x, w, b: CF.complex_batch_norm(x, None, None, w, b, training=True),
        (x, weight, bias),
    )


def test_gradcheck_training_with_running_stats_complex128():
    x = correlated(4, 2, 3, seed=11).requires_grad_()
    running_mean = torch.zeros(2, dtype=torch.complex128)
    running_cov = torch.tensor([[1.0, 0.0, 1.0]] * 2, dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda x: CF.complex_batch_norm(x, running_mean, running_cov, training=True), (x,)
    )


def test_gradcheck_eval_complex128():
    x = correlated(4, 2, 3, seed=12).requires_grad_()
    running_mean = torch.tensor([0.3 + 0.1j, -1j], dtype=torch.complex128)
    running_cov = torch.tensor([[1.5, 0.4, 0.7], [0.9, -0.2, 2.0]], dtype=torch.float64)
    weight, bias = random_affine(2, seed=13)
    weight.requires_grad_()
    bias.requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x, w, b: CF.complex_batch_norm(x, running_mean, running_cov, w, b, training=False),
        (x, weight, bias),
    )


def test_complex64_matches_complex128():
    x = correlated(16, 3, 4, seed=14)
    weight, bias = random_affine(3, seed=15)
    out64 = CF.complex_batch_norm(
        x.to(torch.complex64), None, None, weight.float(), bias.to(torch.complex64), training=True
    )
    assert out64.dtype == torch.complex64
    out128 = CF.complex_batch_norm(x, None, None, weight, bias, training=True)
    torch.testing.assert_close(out64, out128.to(torch.complex64), rtol=1e-4, atol=1e-4)


def test_degenerate_channels_stay_finite():
    g = torch.Generator().manual_seed(16)
    re = torch.randn(32, dtype=torch.float32, generator=g) * 100
    x = torch.stack(
        [
            torch.complex(re, 2 * re),  # rank-1 covariance: Im is a multiple of Re
            torch.full((32,), 3 - 4j, dtype=torch.complex64),  # constant channel
        ],
        dim=1,
    )
    bias = torch.tensor([0j, 1 + 1j], dtype=torch.complex64)
    out = CF.complex_batch_norm(x, bias=bias, training=True)
    assert torch.isfinite(torch.view_as_real(out)).all()
    torch.testing.assert_close(out[:, 1], bias[1].expand(32))


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1), (1, 2, 1, 1)])
def test_single_value_per_channel_in_training_raises(shape):
    x = torch.ones(shape, dtype=torch.complex64)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        CF.complex_batch_norm(x, training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        CF.naive_batch_norm(x, training=True)


def test_wrong_channel_count_raises():
    x = correlated(4, 3, seed=17)
    with pytest.raises(ValueError, match="num_features"):
        CF.complex_batch_norm(
            x, torch.zeros(4, dtype=torch.complex128), torch.zeros(4, 3, dtype=torch.float64)
        )
    with pytest.raises(ValueError, match="num_features"):
        CF.complex_batch_norm(x, weight=torch.zeros(2, 3, dtype=torch.float64), training=True)
    with pytest.raises(ValueError, match="num_features"):
        CF.naive_batch_norm(x, weight=torch.ones(2, 4, dtype=torch.float64), training=True)


def test_bad_inputs_raise():
    with pytest.raises(TypeError, match="to_complex"):
        CF.complex_batch_norm(torch.randn(4, 3), training=True)
    with pytest.raises(TypeError, match="to_complex"):
        CF.naive_batch_norm(torch.randn(4, 3), training=True)
    with pytest.raises(ValueError, match="-D"):
        CF.complex_batch_norm(torch.ones(4, dtype=torch.complex64), training=True)
    with pytest.raises(TypeError, match="dtype"):
        CF.complex_batch_norm(
            correlated(4, 3, dtype=torch.complex64), bias=torch.zeros(3, dtype=torch.complex128)
        )
    with pytest.raises(ValueError, match="together"):
        CF.complex_batch_norm(correlated(4, 3), running_mean=torch.zeros(3, dtype=torch.complex128))


# ------------------------------------------------ complex batch norm: against a plain reference


def plain_batch_norm(
    x,
    running_mean=None,
    running_cov=None,
    weight=None,
    bias=None,
    training=False,
    momentum=0.1,
    eps=1e-5,
):
    """Straightforward autograd reference (the library's earlier formulation): the parts
    x.real, x.imag per channel, the closed-form (V + eps I)^{-1/2}, then gamma and beta, with
    the running statistics updated as documented."""
    dims = [0, *range(2, x.dim())]
    shape = (1, -1) + (1,) * (x.dim() - 2)
    xr, xi = x.real, x.imag
    if training or running_mean is None:
        mr, mi = xr.mean(dims), xi.mean(dims)
        cr, ci = xr - mr.view(shape), xi - mi.view(shape)
        vrr, vri, vii = (cr * cr).mean(dims), (cr * ci).mean(dims), (ci * ci).mean(dims)
        if training and running_mean is not None:
            n = x.numel() // x.shape[1]
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(torch.complex(mr, mi) * momentum)
                unbiased = torch.stack((vrr, vri, vii), -1) * (n / (n - 1))
                running_cov.mul_(1 - momentum).add_(unbiased * momentum)
    else:
        cr, ci = xr - running_mean.real.view(shape), xi - running_mean.imag.view(shape)
        vrr, vri, vii = running_cov.unbind(-1)
    s = torch.sqrt((vrr * vii - vri * vri).clamp_min(0) + eps * (vrr + vii) + eps * eps)
    s_t = s * torch.sqrt(vrr + vii + 2 * eps + 2 * s)
    w = [(vii + eps + s) / s_t, -vri / s_t, -vri / s_t, (vrr + eps + s) / s_t]
    if weight is not None:
        grr, gri, gii = weight.unbind(-1)
        w = [
            grr * w[0] + gri * w[2],
            grr * w[1] + gri * w[3],
            gri * w[0] + gii * w[2],
            gri * w[1] + gii * w[3],
        ]
    mrr, mri, mir, mii = (m.view(shape) for m in w)
    out_r, out_i = mrr * cr + mri * ci, mir * cr + mii * ci
    if bias is not None:
        out_r, out_i = out_r + bias.real.view(shape), out_i + bias.imag.view(shape)
    return torch.complex(out_r, out_i)


def test_plain_reference_matches_eigendecomposition():
    x = correlated(16, 3, 5, seed=29)
    weight, bias = random_affine(3, seed=30)
    mean, cov = batch_stats(x)
    ref = ref_batch_norm(x, mean, cov, weight.numpy(), bias.numpy())
    torch.testing.assert_close(plain_batch_norm(x, None, None, weight, bias, True), ref)


# name: (training, with running statistics)
MODES = {
    "train_running": (True, True),
    "train_batch_only": (True, False),
    "eval_running": (False, True),
    "eval_batch_stats": (False, False),
}
STATE_NAMES = ("running_mean", "running_cov", "weight", "bias")


def batch_norm_case(spatial, affine, mode, dtype, seed=40):
    """Data, parameters and running state (a dict in STATE_NAMES), mode and a cotangent."""
    training, running = MODES[mode]
    real = dtype.to_real()
    x = correlated(6, 3, *spatial, seed=seed).to(dtype)
    weight, bias = random_affine(3, seed=seed + 1) if affine else (None, None)
    params = dict.fromkeys(STATE_NAMES)
    if affine:
        params |= {"weight": weight.to(real), "bias": bias.to(dtype)}
    if running:
        params["running_mean"] = torch.tensor([0.5 - 1j, 2.0, -1 + 3j], dtype=dtype)
        params["running_cov"] = torch.tensor(
            [[2.0, 0.5, 1.0], [0.3, -0.1, 4.0], [1.0, 0.2, 0.5]], dtype=real
        )
    g = torch.Generator().manual_seed(seed + 2)
    return x, params, training, torch.randn(x.shape, dtype=dtype, generator=g)


def run_batch_norm(fn, x, params, training, cotangent, grad_of=("x", "weight", "bias")):
    """Output, gradients of the leaves named in ``grad_of`` and the running state after one
    call of ``fn`` on copies of the inputs."""
    x = x.detach().clone().requires_grad_("x" in grad_of)
    state = {
        k: None if v is None else v.detach().clone().requires_grad_(k in grad_of)
        for k, v in params.items()
    }
    out = fn(x, *(state[k] for k in STATE_NAMES), training, 0.3)
    leaves = [t for t in (x, state["weight"], state["bias"]) if t is not None and t.requires_grad]
    grads = torch.autograd.grad(out, leaves, cotangent)
    return out.detach(), grads, (state["running_mean"], state["running_cov"])


def upcast(t):
    return None if t is None else t.to(torch.complex128 if t.is_complex() else torch.float64)


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("spatial", [(), (5,), (3, 4), (2, 2, 3)])
def test_outputs_gradients_and_state_match_plain_reference(spatial, affine, mode, dtype):
    x, params, training, cotangent = batch_norm_case(spatial, affine, mode, dtype)
    out, grads, running = run_batch_norm(CF.complex_batch_norm, x, params, training, cotangent)
    # The reference runs in float64 on the same values.
    params64 = {k: upcast(v) for k, v in params.items()}
    ref_out, ref_grads, ref_running = run_batch_norm(
        plain_batch_norm, upcast(x), params64, training, upcast(cotangent)
    )
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == torch.complex64 else {}
    assert out.dtype == dtype and out.shape == x.shape
    torch.testing.assert_close(upcast(out), ref_out, **tol)
    assert len(grads) == (3 if affine else 1)
    for got, want in zip(grads, ref_grads, strict=True):
        assert got.dtype == (dtype if want.is_complex() else dtype.to_real())
        scale = want.abs().max()
        torch.testing.assert_close(upcast(got) / scale, want / scale, **tol)
    for got, want in zip(running, ref_running, strict=True):
        if want is not None:
            torch.testing.assert_close(upcast(got), want, **tol)


@pytest.mark.parametrize("mode", ["eval_running", "eval_batch_stats", "train_running"])
def test_no_grad_forward_matches_plain_reference(mode):
    # Without autograd the result is written over internal buffers; the input stays intact.
    x, params, training, _ = batch_norm_case((3, 4), True, mode, torch.complex64)
    saved = x.clone()
    with torch.no_grad():
        out = CF.complex_batch_norm(x, *(params[k] for k in STATE_NAMES), training)
        params64 = [upcast(params[k]) for k in STATE_NAMES]
        ref = plain_batch_norm(upcast(x), *params64, training)
    torch.testing.assert_close(upcast(out), ref, rtol=1e-4, atol=1e-4)
    assert torch.equal(x, saved)


@pytest.mark.parametrize(
    "grad_of", [("x",), ("weight",), ("bias",), ("x", "weight"), ("x", "bias"), ("weight", "bias")]
)
def test_gradients_of_any_subset_of_inputs_match_reference(grad_of):
    x, params, training, cotangent = batch_norm_case((4,), True, "train_running", torch.complex128)
    _, grads, _ = run_batch_norm(CF.complex_batch_norm, x, params, training, cotangent, grad_of)
    _, ref, _ = run_batch_norm(plain_batch_norm, x, params, training, cotangent, grad_of)
    assert len(grads) == len(grad_of)
    for got, want in zip(grads, ref, strict=True):
        torch.testing.assert_close(got, want)


def test_training_backward_leaves_input_and_cotangent_untouched():
    x = correlated(8, 3, 2, 3, seed=31).to(torch.complex64).requires_grad_()
    weight, bias = random_affine(3, seed=32, dtype=torch.float32)
    g = torch.randn(x.shape, dtype=torch.complex64)
    x_saved, g_saved = x.detach().clone(), g.clone()
    CF.complex_batch_norm(x, None, None, weight, bias, training=True).backward(g)
    assert torch.equal(x.detach(), x_saved)
    assert torch.equal(g, g_saved)


def test_non_contiguous_input_and_lazily_conjugated_cotangent():
    x = correlated(4, 5, 3, 6, seed=33).transpose(1, 2).requires_grad_()  # not contiguous
    g = torch.randn(x.shape, dtype=torch.complex128).conj()  # conjugate bit set
    assert not x.is_contiguous() and g.is_conj()
    out = CF.complex_batch_norm(x, training=True)
    ref = plain_batch_norm(x, training=True)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(
        torch.autograd.grad(out, x, g)[0], torch.autograd.grad(ref, x, g.resolve_conj())[0]
    )


def test_real_valued_channels_keep_float32_precision():
    # Real data cast to complex (V_ii = 0) on a large scale makes M very anisotropic: applied as
    # alpha z + beta conj(z) it would lose ~1e-3 here. Errors must stay at float32 rounding.
    g = torch.Generator().manual_seed(34)
    pixels = torch.rand(64, 3, 6, 6, dtype=torch.float64, generator=g) * 255
    x = torch.complex(pixels, torch.zeros_like(pixels))
    weight, bias = random_affine(3, seed=35)
    cotangent = torch.randn(x.shape, dtype=torch.complex128, generator=g)
    params = dict.fromkeys(STATE_NAMES) | {"weight": weight, "bias": bias}
    params32 = {
        k: v if v is None else v.to(torch.float32 if k == "weight" else torch.complex64)
        for k, v in params.items()
    }
    out, grads, _ = run_batch_norm(
        CF.complex_batch_norm, x.to(torch.complex64), params32, True, cotangent.to(torch.complex64)
    )
    ref_out, ref_grads, _ = run_batch_norm(plain_batch_norm, x, params, True, cotangent)
    for got, want in zip((out, *grads), (ref_out, *ref_grads), strict=True):
        assert (upcast(got) - want).abs().max() < 2e-6 * want.abs().max()


# Forward-mode AD loads torch's own jvp decompositions through torch.jit, which warns.
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torch_func_and_forward_mode_match_reference():
    x = correlated(6, 2, 4, seed=38)
    weight, _ = random_affine(2, seed=39)
    tangent = torch.randn_like(weight)
    stacked = torch.stack([weight, 2 * weight, -weight])

    def ours(w):
        return torch.view_as_real(CF.complex_batch_norm(x, None, None, w, training=True))

    def ref(w):
        return torch.view_as_real(plain_batch_norm(x, None, None, w, training=True))

    torch.testing.assert_close(torch.func.vmap(ours)(stacked), torch.func.vmap(ref)(stacked))
    torch.testing.assert_close(torch.func.jacrev(ours)(weight), torch.func.jacrev(ref)(weight))
    ref_jvp = torch.func.jvp(ref, (weight,), (tangent,))[1]
    torch.testing.assert_close(torch.func.jvp(ours, (weight,), (tangent,))[1], ref_jvp)
    with forward_ad.dual_level():
        dual_out = ours(forward_ad.make_dual(weight, tangent))
        torch.testing.assert_close(forward_ad.unpack_dual(dual_out).tangent, ref_jvp)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(3, 5),
    channels=st.integers(1, 3),
    spatial=st.lists(st.integers(1, 3), max_size=3),
    offset=st.floats(-50, 50),
    log_scale=st.floats(-3, 3),
    seed=st.integers(0, 10_000),
)
def test_property_training_matches_reference(n, channels, spatial, offset, log_scale, seed):
    x = correlated(n, channels, *spatial, seed=seed) * 10**log_scale + complex(offset, -offset)
    weight, bias = random_affine(channels, seed=seed + 1)
    g = torch.randn(x.shape, dtype=x.dtype, generator=torch.Generator().manual_seed(seed + 2))
    params = dict.fromkeys(STATE_NAMES) | {"weight": weight, "bias": bias}
    out, grads, _ = run_batch_norm(CF.complex_batch_norm, x, params, True, g)
    ref_out, ref_grads, _ = run_batch_norm(plain_batch_norm, x, params, True, g)
    torch.testing.assert_close(out, ref_out, rtol=1e-7, atol=1e-7)
    for got, want in zip(grads, ref_grads, strict=True):
        scale = want.abs().max()
        torch.testing.assert_close(got / scale, want / scale, rtol=1e-6, atol=1e-6)


# ------------------------------------------------ complex batch norm: far from unit scale

# (dtype, k): inputs of order 2^k, about 1e15 in complex64 and 1e150 in complex128, where the
# determinant of the covariance (order 2^(4k)) overflows. Powers of two scale exactly.
HUGE = [(torch.complex64, 50), (torch.complex128, 500)]


@pytest.mark.parametrize(("dtype", "k"), HUGE)
@pytest.mark.parametrize("mode", list(MODES))
def test_huge_inputs_match_exactly_scaled_reference(dtype, k, mode):
    """Batch norm of 2^k x (running statistics scaled alike) with eps is batch norm of x with
    eps / 4^k: outputs equal, input gradients 2^-k times, running statistics scaled."""
    x, params, training, cotangent = batch_norm_case((3, 4), True, mode, torch.complex128)
    powers = {"running_mean": 1, "running_cov": 2}  # of 2^k, in the units of each tensor

    def big(name, t):
        t = t * 2.0 ** (k * powers.get(name, 0))
        return t.to(dtype if t.is_complex() else dtype.to_real())

    def unit(name, t):  # the value the layer saw, scaled back exactly
        return upcast(t) / 2.0 ** (k * powers.get(name, 0))

    big_x, cotangent = (x * 2.0**k).to(dtype), cotangent.to(dtype)
    big_params = {name: t if t is None else big(name, t) for name, t in params.items()}
    unit_params = {name: t if t is None else unit(name, t) for name, t in big_params.items()}
    out, grads, running = run_batch_norm(
        CF.complex_batch_norm, big_x, big_params, training, cotangent
    )
    ref_fn = functools.partial(plain_batch_norm, eps=1e-5 / 4.0**k)
    ref_out, ref_grads, ref_running = run_batch_norm(
        ref_fn, upcast(big_x) / 2.0**k, unit_params, training, upcast(cotangent)
    )
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == torch.complex64 else {}
    assert torch.isfinite(torch.view_as_real(out)).all()
    torch.testing.assert_close(upcast(out), ref_out, **tol)
    grads = (upcast(grads[0]) * 2.0**k, *(upcast(g) for g in grads[1:]))
    for got, want in zip(grads, ref_grads, strict=True):
        scale = want.abs().max()
        torch.testing.assert_close(got / scale, want / scale, **tol)
    for name, got, want in zip(powers, running, ref_running, strict=True):
        if want is not None:
            torch.testing.assert_close(unit(name, got), want, **tol)


@pytest.mark.parametrize("check", [torch.autograd.gradcheck, torch.autograd.gradgradcheck])
@pytest.mark.parametrize("training", [True, False])
def test_gradcheck_at_huge_scale_complex128(check, training):
    """First and second derivatives where the input is of order 1e150 (input scaled inside,
    so that the finite differences stay meaningful)."""
    scale = 2.0**500
    x = correlated(5, 2, 3, seed=41).requires_grad_()
    weight, bias = random_affine(2, seed=42)
    running_mean = torch.tensor([0.3 + 0.1j, -1j], dtype=torch.complex128) * scale
    running_cov = torch.tensor([[1.5, 0.4, 0.7], [0.9, -0.2, 2.0]], dtype=torch.float64) * scale**2
    assert check(
        lambda x, w, b: CF.complex_batch_norm(
            x * scale, running_mean.clone(), running_cov.clone(), w, b, training=training
        ),
        (x, weight.requires_grad_(), bias.requires_grad_()),
    )


# --------------------------------------------------------------------------- empty batches


EMPTY = [(0, 3), (0, 3, 4), (0, 3, 2, 2), (0, 3, 1, 2, 2)]
EMPTY_CASES = [
    *((fn, shape, True) for fn in (CF.complex_batch_norm, CF.naive_batch_norm) for shape in EMPTY),
    (CF.complex_batch_norm, (2, 3, 0), True),
    *((CF.complex_batch_norm, shape, False) for shape in EMPTY),  # torch's eval path copes
]


@pytest.mark.parametrize(("fn", "shape", "training"), EMPTY_CASES)
def test_empty_batch_gives_empty_output_and_zero_gradients(fn, shape, training):
    """As torch.nn.functional.batch_norm: empty output, zero parameter gradients, running
    statistics untouched, in training and in eval."""
    naive = fn is CF.naive_batch_norm
    x = torch.zeros(shape, dtype=torch.complex128, requires_grad=True)
    state_shape = (2, 3) if naive else (3,)
    running_mean = torch.randn(state_shape, dtype=torch.float64 if naive else torch.complex128)
    running_stat = torch.rand(2, 3, dtype=torch.float64) + 1 if naive else None
    if not naive:
        running_stat = torch.tensor([[2.0, 0.5, 1.0]] * 3, dtype=torch.float64)
    weight = torch.randn((2, 3) if naive else (3, 3), dtype=torch.float64, requires_grad=True)
    bias = torch.randn(state_shape, dtype=weight.dtype if naive else torch.complex128)
    bias.requires_grad_()
    saved = running_mean.clone(), running_stat.clone()
    out = fn(x, running_mean, running_stat, weight, bias, training=training)
    ref = F.batch_norm(torch.zeros(shape), None, None, training=True)
    assert out.shape == ref.shape == x.shape and out.dtype == x.dtype
    grads = torch.autograd.grad(out, (x, weight, bias), torch.zeros_like(out))
    assert grads[0].shape == x.shape
    assert torch.equal(grads[1], torch.zeros_like(weight))
    assert torch.equal(grads[2], torch.zeros_like(bias))
    assert torch.equal(running_mean, saved[0]) and torch.equal(running_stat, saved[1])


# --------------------------------------------------------------------------- naive batch norm


@pytest.mark.parametrize("training", [True, False])
def test_naive_batch_norm_matches_torch_per_part(training):
    x = correlated(8, 3, 4, seed=18)
    weight = torch.randn(2, 3, dtype=torch.float64)
    bias = torch.randn(2, 3, dtype=torch.float64)
    running_mean = torch.randn(2, 3, dtype=torch.float64)
    running_var = torch.rand(2, 3, dtype=torch.float64) + 0.5
    ref_mean, ref_var = running_mean.clone(), running_var.clone()
    out = CF.naive_batch_norm(x, running_mean, running_var, weight, bias, training, 0.2, 1e-5)
    ref_re = F.batch_norm(x.real, ref_mean[0], ref_var[0], weight[0], bias[0], training, 0.2)
    ref_im = F.batch_norm(x.imag, ref_mean[1], ref_var[1], weight[1], bias[1], training, 0.2)
    torch.testing.assert_close(out, torch.complex(ref_re, ref_im))
    torch.testing.assert_close(running_mean, ref_mean)
    torch.testing.assert_close(running_var, ref_var)
    if training:
        assert not torch.equal(running_mean, torch.zeros_like(running_mean))


def test_naive_batch_norm_normalises_each_part_but_keeps_correlation():
    x = correlated(200, 2, seed=19)
    out = CF.naive_batch_norm(x, training=True, eps=1e-9)
    _, cov = batch_stats(out)
    np.testing.assert_allclose(cov[:, 0, 0], 1, atol=1e-6)
    np.testing.assert_allclose(cov[:, 1, 1], 1, atol=1e-6)
    _, cov_in = batch_stats(x)
    corr_in = cov_in[:, 0, 1] / np.sqrt(cov_in[:, 0, 0] * cov_in[:, 1, 1])
    np.testing.assert_allclose(cov[:, 0, 1], corr_in, atol=1e-6)


def test_naive_batch_norm_gradcheck_complex128():
    x = correlated(4, 2, 3, seed=20).requires_grad_()
    weight = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x, w, b: CF.naive_batch_norm(x, None, None, w, b, training=True),
        (x, weight, bias),
    )


# --------------------------------------------------------------------------- layer norm


def ref_layer_norm(x, k, weight=None, bias=None, eps=1e-5):
    a = x.detach().numpy()
    lead = a.shape[: a.ndim - k]
    flat = a.reshape(*lead, -1)
    out = np.empty_like(flat)
    for idx in np.ndindex(*lead):
        z = flat[idx]
        c = z - z.mean()
        out[idx] = c / np.sqrt(np.mean(np.abs(c) ** 2) + eps)
    out = out.reshape(a.shape)
    if weight is not None:
        out = out * weight.numpy()
    if bias is not None:
        out = out + bias.numpy()
    return torch.from_numpy(out)


@pytest.mark.parametrize("normalized_shape", [5, (5,), (4, 5)])
def test_layer_norm_matches_reference(normalized_shape):
    x = correlated(3, 2, 4, 5, seed=21)
    k = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    shape = x.shape[-k:]
    g = torch.Generator().manual_seed(22)
    weight = torch.randn(shape, dtype=torch.complex128, generator=g)
    bias = torch.randn(shape, dtype=torch.complex128, generator=g)
    torch.testing.assert_close(CF.complex_layer_norm(x, normalized_shape), ref_layer_norm(x, k))
    torch.testing.assert_close(
        CF.complex_layer_norm(x, normalized_shape, weight, bias),
        ref_layer_norm(x, k, weight, bias),
    )


def test_layer_norm_output_has_zero_mean_unit_power():
    x = correlated(6, 8, seed=23) * 7
    out = CF.complex_layer_norm(x, 8, eps=1e-12)
    torch.testing.assert_close(out.mean(-1), torch.zeros(6, dtype=torch.complex128))
    torch.testing.assert_close(out.abs().square().mean(-1), torch.ones(6, dtype=torch.float64))


def test_layer_norm_gradcheck_complex128():
    x = correlated(3, 4, seed=24).requires_grad_()
    weight = torch.randn(4, dtype=torch.complex128, requires_grad=True)
    bias = torch.randn(4, dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x, w, b: CF.complex_layer_norm(x, 4, w, b), (x, weight, bias)
    )


def test_layer_norm_bad_inputs_raise():
    x = correlated(3, 4, seed=25)
    with pytest.raises(ValueError, match="normalized_shape"):
        CF.complex_layer_norm(x, 5)
    with pytest.raises(ValueError, match="normalized_shape"):
        CF.complex_layer_norm(x, (2, 3, 4))
    with pytest.raises(TypeError, match="to_complex"):
        CF.complex_layer_norm(torch.randn(3, 4), 4)
    with pytest.raises(TypeError, match="dtype"):
        CF.complex_layer_norm(x, 4, torch.ones(4, dtype=torch.complex64))
    with pytest.raises(ValueError, match="weight and bias"):
        CF.complex_layer_norm(x, 4, torch.ones(3, dtype=torch.complex128))
