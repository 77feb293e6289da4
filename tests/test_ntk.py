"""Tests of phasor.ntk: the torch.func kernel against direct autograd Jacobians, kernels with a
known closed form, and the distances on cases with known answers."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import phasor
import phasor.nn as cnn
from phasor.models.cnn import ComplexSeedCNN
from phasor.ntk import (
    complex_block_parts,
    empirical_ntk,
    kernel_alignment,
    kernel_distance,
    normalized_kernel_distance,
    ntk_matrix,
    real_form_residual,
    real_parameters,
)


def _direct_jacobian(module: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Rows: (sample, real output); columns: every real parameter (Re, Im interleaved as in
    view_as_real). Built with one torch.autograd.grad call per real output."""
    params = list(module.parameters())
    rows = []
    for n in range(inputs.shape[0]):
        out = module(inputs[n : n + 1])[0].reshape(-1)
        parts = [p for o in out for p in ((o.real, o.imag) if o.is_complex() else (o,))]
        for part in parts:
            grads = torch.autograd.grad(part, params, retain_graph=True, allow_unused=True)
            flat = []
            for g, p in zip(grads, params, strict=True):
                g = torch.zeros_like(p) if g is None else g
                # autograd's grad of a real output w.r.t. a complex p is d/dRe p + i d/dIm p
                flat.append(torch.view_as_real(g).reshape(-1) if g.is_complex() else g.reshape(-1))
            rows.append(torch.cat(flat))
    return torch.stack(rows)


class _Square(nn.Module):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * z


def _complex_mlp(activation: nn.Module, outputs: int = 1) -> nn.Module:
    return nn.Sequential(
        cnn.Linear(3, 6, dtype=torch.complex128),
        activation,
        cnn.Linear(6, outputs, dtype=torch.complex128),
    )


@pytest.mark.parametrize(
    "activation",
    [
        cnn.CReLU(),
        cnn.ModReLU(6, bias_init=-0.3, dtype=torch.complex128),
        cnn.Cardioid(),
        cnn.ZReLU(),
        _Square(),
    ],
    ids=["crelu", "modrelu", "cardioid", "zrelu", "square"],
)
def test_complex_ntk_matches_direct_jacobian(activation):
    torch.manual_seed(0)
    module = _complex_mlp(activation, outputs=2)
    x = torch.randn(5, 3, dtype=torch.complex128)
    jac = _direct_jacobian(module, x)
    expected = jac @ jac.T
    kernel = empirical_ntk(module, x)
    assert kernel.shape == (5, 5, 4, 4)
    torch.testing.assert_close(ntk_matrix(kernel), expected, rtol=1e-10, atol=1e-10)


def test_real_ntk_and_cross_kernel_match_direct_jacobian():
    torch.manual_seed(1)
    module = nn.Sequential(nn.Linear(4, 7), nn.Tanh(), nn.Linear(7, 3)).double()
    x1, x2 = torch.randn(3, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    j1, j2 = _direct_jacobian(module, x1), _direct_jacobian(module, x2)
    kernel = empirical_ntk(module, x1, x2)
    assert kernel.shape == (3, 5, 3, 3)
    torch.testing.assert_close(ntk_matrix(kernel), j1 @ j2.T, rtol=1e-10, atol=1e-10)


def test_complex_linear_model_has_the_closed_form_kernel():
    # f(x) = w^T x: d f / d Re w = x, d f / d Im w = i x, so the kernel is the complex number
    # sum_k x_k conj(x'_k) acting by multiplication: a = Re, b = Im, no conjugate-linear part.
    torch.manual_seed(2)
    module = cnn.Linear(4, 1, bias=False, dtype=torch.complex128)
    x = torch.randn(6, 4, dtype=torch.complex128)
    gram = x @ x.conj().T
    parts = complex_block_parts(empirical_ntk(module, x))
    torch.testing.assert_close(parts["a"], gram.real)
    torch.testing.assert_close(parts["b"], gram.imag)
    assert parts["c"].abs().max() < 1e-12 and parts["d"].abs().max() < 1e-12


def test_real_two_output_linear_model_is_in_real_form():
    torch.manual_seed(3)
    module = nn.Linear(5, 2, bias=False).double()
    x = torch.randn(4, 5, dtype=torch.float64)
    kernel = empirical_ntk(module, x)
    torch.testing.assert_close(kernel, (x @ x.T)[..., None, None] * torch.eye(2, dtype=x.dtype))
    assert real_form_residual(kernel)["total"] < 1e-12


def test_holomorphic_network_has_no_conjugate_linear_part():
    # Cauchy-Riemann: d f / d Im theta = i d f / d Re theta for every complex parameter.
    torch.manual_seed(4)
    module = _complex_mlp(_Square())
    kernel = empirical_ntk(module, torch.randn(5, 3, dtype=torch.complex128))
    assert real_form_residual(kernel)["conjugate"] < 1e-12
    # while a non-holomorphic one has one
    assert (
        real_form_residual(
            empirical_ntk(_complex_mlp(cnn.CReLU()), torch.randn(5, 3, dtype=torch.complex128))
        )["conjugate"]
        > 1e-3
    )


def test_real_parameters_are_views_of_real_and_imaginary_parts():
    layer = cnn.Linear(2, 3, dtype=torch.complex128)
    params = real_parameters(layer)
    assert params["weight"].shape == (3, 2, 2) and params["weight"].dtype == torch.float64
    torch.testing.assert_close(params["weight"][..., 1], layer.weight.detach().imag)


def _block(a, b, c, d):
    """Kernel a I + b J + c R + d S from (N, M) parts."""
    return torch.stack([torch.stack([a + c, -b + d], -1), torch.stack([b + d, a - c], -1)], -2)


def test_block_parts_known_answers():
    g = torch.Generator().manual_seed(5)
    a, b, c, d = (torch.randn(3, 3, generator=g, dtype=torch.float64) for _ in range(4))
    parts = complex_block_parts(_block(a, b, c, d))
    for name, value in zip("abcd", (a, b, c, d), strict=True):
        torch.testing.assert_close(parts[name], value)
    zero = torch.zeros_like(a)
    assert real_form_residual(_block(a, zero, zero, zero))["total"] == 0.0
    rot = real_form_residual(_block(zero, b, zero, zero))
    assert rot["total"] == pytest.approx(1.0) and rot["rotation"] == pytest.approx(1.0)
    # equal norms in a and b: the residual is 1/sqrt(2), all of it rotation
    half = real_form_residual(_block(a, a, zero, zero))
    assert half["total"] == pytest.approx(1 / math.sqrt(2)) and half["conjugate"] == 0.0


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 10_000))
def test_residual_parts_are_pythagorean(n, m, seed):
    g = torch.Generator().manual_seed(seed)
    kernel = torch.randn(n, m, 2, 2, generator=g, dtype=torch.float64)
    res = real_form_residual(kernel)
    assert res["total"] ** 2 == pytest.approx(res["rotation"] ** 2 + res["conjugate"] ** 2)
    parts = complex_block_parts(kernel)
    torch.testing.assert_close(_block(*(parts[k] for k in "abcd")), kernel)
    a_only = _block(parts["a"], *(torch.zeros_like(parts["a"]),) * 3)
    assert res["total"] == pytest.approx(kernel_distance(a_only, kernel))


def test_distances_known_answers():
    g = torch.Generator().manual_seed(6)
    k = torch.randn(4, 4, 2, 2, generator=g, dtype=torch.float64)
    assert normalized_kernel_distance(3.5 * k, k) == pytest.approx(0.0, abs=1e-12)
    assert normalized_kernel_distance(-k, k) == pytest.approx(2.0)
    assert kernel_alignment(-k, k) == pytest.approx(-1.0)
    e1 = torch.zeros(2, 2, dtype=torch.float64)
    e2 = torch.zeros(2, 2, dtype=torch.float64)
    e1[0, 0], e2[1, 1] = 2.0, 5.0
    assert normalized_kernel_distance(e1, e2) == pytest.approx(math.sqrt(2))
    assert kernel_alignment(e1, e2) == 0.0
    # relative distance: ||E|| / ||K||
    noise = 0.1 * torch.randn(4, 4, 2, 2, generator=g, dtype=torch.float64)
    assert kernel_distance(k + noise, k) == pytest.approx(float(noise.norm() / k.norm()))
    # normalised distance and alignment agree: d^2 = 2 - 2 cos
    d = normalized_kernel_distance(k + noise, k)
    assert d**2 == pytest.approx(2 - 2 * kernel_alignment(k + noise, k))


def test_errors():
    k = torch.ones(2, 2, 2, 2)
    with pytest.raises(ValueError, match="same shape"):
        kernel_distance(k, torch.ones(3, 3, 2, 2))
    with pytest.raises(ValueError, match="zero"):
        normalized_kernel_distance(torch.zeros_like(k), k)
    with pytest.raises(ValueError, match=r"\(N, M, 2, 2\)"):
        complex_block_parts(torch.ones(2, 2, 4, 4))
    with pytest.raises(ValueError, match="zero"):
        real_form_residual(torch.zeros_like(k))
    with pytest.raises(ValueError, match="no parameters"):
        empirical_ntk(cnn.CReLU(), torch.ones(2, 3, dtype=torch.complex64))
    layer = cnn.Linear(3, 1)
    with pytest.raises(ValueError, match="sample shape"):
        empirical_ntk(
            layer, torch.ones(2, 3, dtype=torch.complex64), torch.ones(2, 4, dtype=torch.complex64)
        )


@pytest.mark.parametrize("backend", ["native", "real", "gauss", "auto"])
def test_kernel_is_the_same_on_every_backend(backend):
    torch.manual_seed(7)
    module = _complex_mlp(cnn.Cardioid())
    x = torch.randn(4, 3, dtype=torch.complex128)
    with phasor.use_backend("native"):
        reference = empirical_ntk(module, x)
    with phasor.use_backend(backend):
        torch.testing.assert_close(empirical_ntk(module, x), reference)


def test_layer_built_on_auto_backend():
    torch.manual_seed(7)
    module = _complex_mlp(cnn.Cardioid())
    x = torch.randn(4, 3, dtype=torch.complex128)
    reference = empirical_ntk(module, x)
    for layer in module.modules():
        if isinstance(layer, cnn.Linear):
            layer.backend = "auto"
    torch.testing.assert_close(empirical_ntk(module, x), reference)


def test_ntk_of_the_seed_cnn_matches_direct_jacobian():
    """The README's CNN (max pooling by magnitude, batch norm in eval mode), small widths."""
    torch.manual_seed(0)
    model = ComplexSeedCNN((2, 2, 3), dtype=torch.complex128).eval()
    images = torch.rand(2, 1, 28, 28, dtype=torch.float64)
    kernel = empirical_ntk(model, images)
    jac = _direct_jacobian(model, images)
    assert kernel.shape == (2, 2, 10, 10)
    torch.testing.assert_close(ntk_matrix(kernel), jac @ jac.T)
