"""Complex recurrent cells: gru_cell, lstm_cell and unitary_rnn_cell against plain NumPy
references for both gate conventions and both candidate nonlinearities, gradcheck and
gradgradcheck in complex128, torch's real cells for real data, exact unitarity of
unitary_matrix, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.linalg import expm
from scipy.special import expit

import phasor.functional as CF

C128 = torch.complex128
GATES = ["real", "split"]
ACTIVATIONS = ["split_tanh", "amp_phase_tanh"]


def _np_gate(a, gate):
    if gate == "real":
        return expit(a.real)
    return expit(a.real) + 1j * expit(a.imag)


def _np_act(a, activation):
    if activation == "split_tanh":
        return np.tanh(a.real) + 1j * np.tanh(a.imag)
    mod = np.abs(a)
    return np.where(mod > 0, np.tanh(mod) * a / np.where(mod > 0, mod, 1), a)


def _np_gru(x, h, w_ih, w_hh, b_ih, b_hh, gate, activation):
    """One GRU step, one sample at a time, each gate written out."""
    hidden = h.shape[-1]
    out = np.empty_like(h)
    for k in range(x.shape[0]):
        gi = w_ih @ x[k] + b_ih
        gh = w_hh @ h[k] + b_hh
        r = _np_gate(gi[:hidden] + gh[:hidden], gate)
        z = _np_gate(gi[hidden : 2 * hidden] + gh[hidden : 2 * hidden], gate)
        n = _np_act(gi[2 * hidden :] + r * gh[2 * hidden :], activation)
        out[k] = (1 - z) * n + z * h[k]
    return out


def _np_lstm(x, h, c, w_ih, w_hh, b_ih, b_hh, gate, activation):
    hidden = h.shape[-1]
    h_out, c_out = np.empty_like(h), np.empty_like(c)
    for k in range(x.shape[0]):
        a = w_ih @ x[k] + b_ih + w_hh @ h[k] + b_hh
        i, f, g, o = (a[j * hidden : (j + 1) * hidden] for j in range(4))
        c_out[k] = _np_gate(f, gate) * c[k] + _np_gate(i, gate) * _np_act(g, activation)
        h_out[k] = _np_gate(o, gate) * _np_act(c_out[k], activation)
    return h_out, c_out


def _np_modrelu(z, b):
    mod = np.abs(z)
    return np.where(mod > 0, np.maximum(mod + b, 0) * z / np.where(mod > 0, mod, 1), 0)


def _crandn(*shape, dtype=C128):
    return torch.randn(*shape, dtype=dtype)


def _cell_args(gates, batch=3, n_in=4, hidden=5, dtype=C128):
    return (
        _crandn(batch, n_in, dtype=dtype),
        _crandn(batch, hidden, dtype=dtype),
        _crandn(gates * hidden, n_in, dtype=dtype) / 2,
        _crandn(gates * hidden, hidden, dtype=dtype) / 2,
        _crandn(gates * hidden, dtype=dtype),
        _crandn(gates * hidden, dtype=dtype),
    )


def _np(*ts):
    return [t.detach().numpy() for t in ts]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("gate", GATES)
def test_gru_cell_matches_numpy(gate, activation):
    x, h, w_ih, w_hh, b_ih, b_hh = _cell_args(3)
    got = CF.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh, gate=gate, activation=activation)
    want = _np_gru(*_np(x, h, w_ih, w_hh, b_ih, b_hh), gate, activation)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("gate", GATES)
def test_lstm_cell_matches_numpy(gate, activation):
    x, h, w_ih, w_hh, b_ih, b_hh = _cell_args(4)
    c = _crandn(*h.shape)
    got_h, got_c = CF.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh, gate, activation)
    want_h, want_c = _np_lstm(*_np(x, h, c, w_ih, w_hh, b_ih, b_hh), gate, activation)
    np.testing.assert_allclose(got_h.numpy(), want_h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_c.numpy(), want_c, rtol=1e-12, atol=1e-12)


def test_cells_without_bias_and_unbatched():
    x, h, w_ih, w_hh, _, _ = _cell_args(3)
    zeros = np.zeros(w_ih.shape[0], dtype=np.complex128)
    got = CF.gru_cell(x[0], h[0], w_ih, w_hh)
    want = _np_gru(*_np(x[:1], h[:1], w_ih, w_hh), zeros, zeros, "real", "split_tanh")[0]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


def test_unitary_rnn_cell_matches_numpy():
    x, h = _crandn(3, 4), _crandn(3, 5)
    w_ih, a, b_ih = _crandn(5, 4), _crandn(5, 5), _crandn(5)
    bias = torch.linspace(-1.0, 0.5, 5, dtype=torch.float64)
    got = CF.unitary_rnn_cell(x, h, w_ih, a, bias, b_ih)
    xn, hn, wn, an, bn = _np(x, h, w_ih, a, b_ih)
    w = expm(an - an.conj().T)
    want = _np_modrelu(xn @ wn.T + bn + hn @ w.T, bias.numpy())
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
    one = CF.unitary_rnn_cell(x[0], h[0], w_ih, a, bias, b_ih)  # unbatched
    np.testing.assert_allclose(one.numpy(), want[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("gate", GATES)
def test_gru_cell_gradcheck(gate):
    args = [t.requires_grad_() for t in _cell_args(3, batch=2, n_in=2, hidden=2)]

    def fn(*a):
        return CF.gru_cell(*a, gate=gate, activation="amp_phase_tanh")

    assert torch.autograd.gradcheck(fn, args)
    assert torch.autograd.gradgradcheck(fn, args)


@pytest.mark.parametrize("gate", GATES)
def test_lstm_cell_gradcheck(gate):
    x, h, w_ih, w_hh, b_ih, b_hh = _cell_args(4, batch=2, n_in=2, hidden=2)
    c = _crandn(*h.shape)
    args = [t.requires_grad_() for t in (x, h, c, w_ih, w_hh, b_ih, b_hh)]

    def fn(x, h, c, *w):
        return CF.lstm_cell(x, (h, c), *w, gate=gate)

    assert torch.autograd.gradcheck(fn, args)
    assert torch.autograd.gradgradcheck(fn, args)


def test_unitary_rnn_cell_gradcheck():
    x, h, w_ih, a, b_ih = _crandn(2, 2), _crandn(2, 3), _crandn(3, 2), _crandn(3, 3), _crandn(3)
    bias = torch.tensor([-0.2, 0.1, -0.4], dtype=torch.float64)
    args = [t.requires_grad_() for t in (x, h, w_ih, a, bias, b_ih)]
    assert torch.autograd.gradcheck(CF.unitary_rnn_cell, args)
    assert torch.autograd.gradgradcheck(CF.unitary_rnn_cell, args)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_real_gate_on_real_data_is_torchs_cell(dtype):
    """With real weights, input and state, Re of every pre-activation is torch's, Im is 0,
    so sigmoid(Re a) gates and split tanh give torch's cells exactly."""
    torch.manual_seed(3)
    gru, lstm = torch.nn.GRUCell(4, 5, dtype=dtype), torch.nn.LSTMCell(4, 5, dtype=dtype)
    x, h, c = (torch.randn(3, n, dtype=dtype) for n in (4, 5, 5))
    cplx = dtype.to_complex()

    def w(cell):
        return [p.detach().to(cplx) for p in (cell.weight_ih, cell.weight_hh)] + [
            p.detach().to(cplx) for p in (cell.bias_ih, cell.bias_hh)
        ]

    got = CF.gru_cell(x.to(cplx), h.to(cplx), *w(gru))
    torch.testing.assert_close(got, gru(x, h).detach().to(cplx))
    got_h, got_c = CF.lstm_cell(x.to(cplx), (h.to(cplx), c.to(cplx)), *w(lstm))
    want_h, want_c = lstm(x, (h, c))
    torch.testing.assert_close(got_h, want_h.detach().to(cplx))
    torch.testing.assert_close(got_c, want_c.detach().to(cplx))
    # A real input of the weights' real dtype is accepted and means the same.
    torch.testing.assert_close(CF.gru_cell(x, h.to(cplx), *w(gru)), got)


def test_split_gate_on_real_data_is_not_torchs_cell():
    """The split sigmoid of a real pre-activation has imaginary part sigmoid(0) = 1/2."""
    x, h, w_ih, w_hh, b_ih, b_hh = (t.real.to(C128) for t in _cell_args(3))
    real = CF.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh, gate="real")
    split = CF.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh, gate="split")
    assert real.imag.abs().max() == 0
    assert split.imag.abs().max() > 0.01


def test_real_gates_keep_the_gru_state_bounded():
    """sigmoid(Re a) gates make h' a convex combination of n and h per unit."""
    x, h, w_ih, w_hh, b_ih, b_hh = _cell_args(3, batch=64)
    h = 3 * h
    new = CF.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)
    n_bound = np.sqrt(2)  # |split_tanh| < sqrt 2
    assert bool((new.abs() <= torch.clamp(h.abs(), min=n_bound) + 1e-12).all())


@given(st.integers(1, 6), st.integers(0, 2**31 - 1), st.floats(0.01, 30.0))
def test_unitary_matrix_is_unitary(size, seed, scale):
    g = torch.Generator().manual_seed(seed)
    a = scale * torch.randn(size, size, dtype=C128, generator=g)
    w = CF.unitary_matrix(a)
    eye = torch.eye(size, dtype=C128)
    torch.testing.assert_close(w.mH @ w, eye, rtol=0, atol=1e-12)
    h = torch.randn(size, dtype=C128, generator=g)
    torch.testing.assert_close(torch.linalg.vector_norm(w @ h), torch.linalg.vector_norm(h))


def test_unitary_matrix_reaches_a_given_unitary():
    """Any unitary U = V diag(e^{i t}) V^H is exp(A - A^H) for A = V diag(i t / 2) V^H."""
    q, _ = torch.linalg.qr(_crandn(4, 4))
    t = torch.tensor([-3.0, -1.0, 0.5, 2.5], dtype=torch.float64)
    u = (q * torch.exp(1j * t)) @ q.mH
    a = (q * (0.5j * t)) @ q.mH
    torch.testing.assert_close(CF.unitary_matrix(a), u)


def test_unitary_matrix_gradcheck():
    a = _crandn(3, 3).requires_grad_()
    assert torch.autograd.gradcheck(CF.unitary_matrix, (a,))
    assert torch.autograd.gradgradcheck(CF.unitary_matrix, (a,))


def test_complex64_stays_complex64():
    x, h, w_ih, w_hh, b_ih, b_hh = _cell_args(3, dtype=torch.complex64)
    assert CF.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh).dtype == torch.complex64
    hc = CF.lstm_cell(x, (h, h), *_cell_args(4, dtype=torch.complex64)[2:])
    assert [t.dtype for t in hc] == [torch.complex64] * 2


def test_errors():
    x, h, w_ih, w_hh, _, _ = _cell_args(3)
    with pytest.raises(ValueError, match="unknown gate 'sigmoid'; choose one of real, split"):
        CF.gru_cell(x, h, w_ih, w_hh, gate="sigmoid")
    with pytest.raises(ValueError, match="unknown activation"):
        CF.gru_cell(x, h, w_ih, w_hh, activation="tanh")
    with pytest.raises(TypeError, match="hx must be complex64 or complex128"):
        CF.gru_cell(x, h.real, w_ih, w_hh)
    with pytest.raises(TypeError, match=r"hx has dtype torch\.complex64"):
        CF.gru_cell(x, h.to(torch.complex64), w_ih, w_hh)
    with pytest.raises(ValueError, match=r"hx must have shape \(3, 5\)"):
        CF.gru_cell(x, h[:2], w_ih, w_hh)
    with pytest.raises(ValueError, match=r"w_hh of a GRU cell must have shape \(3 \* hidden"):
        CF.gru_cell(x, h, w_ih, w_hh[:5])
    with pytest.raises(ValueError, match=r"w_ih of a LSTM cell must have shape \(20, input"):
        CF.lstm_cell(x, (h, h), w_ih, _crandn(20, 5))
    with pytest.raises(TypeError, match=r"pair \(h, c\)"):
        CF.lstm_cell(x, h, _crandn(20, 4), _crandn(20, 5))
    with pytest.raises(ValueError, match="input must have shape"):
        CF.gru_cell(x[:, :3], h, w_ih, w_hh)
    with pytest.raises(ValueError, match="square matrix"):
        CF.unitary_matrix(_crandn(2, 3))
    with pytest.raises(TypeError, match="a must be complex64"):
        CF.unitary_matrix(torch.randn(2, 2))
