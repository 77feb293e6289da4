"""Recurrent modules: every layer against a plain step-by-step loop written here (multi-layer,
bidirectional, batch_first, initial states, unbatched, PackedSequence), torch.nn.GRU/LSTM on
real data, gradcheck/gradgradcheck of a short sequence in complex128, exact unitarity of the
unitary RNN after optimiser steps and its norm preservation, dropout, init, dtypes, errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn.utils.rnn import pack_sequence

import phasor.functional as CF
import phasor.nn as cnn

C128 = torch.complex128
LAYERS = [cnn.GRU, cnn.LSTM, cnn.UnitaryRNN]


def _crandn(*shape, dtype=C128):
    return torch.randn(*shape, dtype=dtype)


# Plain references, one sample and one step at a time, with the formulas written out.
def _sig_re(a):
    return torch.sigmoid(a.real)


def _tanh(a):
    return torch.complex(torch.tanh(a.real), torch.tanh(a.imag))


def _ref_gru(p, x, h):
    a = p["weight_ih"] @ x + p["bias_ih"]
    b = p["weight_hh"] @ h + p["bias_hh"]
    n_h = h.shape[0]
    r = _sig_re(a[:n_h] + b[:n_h])
    z = _sig_re(a[n_h : 2 * n_h] + b[n_h : 2 * n_h])
    n = _tanh(a[2 * n_h :] + r * b[2 * n_h :])
    return ((1 - z) * n + z * h,)


def _ref_lstm(p, x, h, c):
    a = p["weight_ih"] @ x + p["bias_ih"] + p["weight_hh"] @ h + p["bias_hh"]
    i, f, g, o = a.chunk(4)
    c = _sig_re(f) * c + _sig_re(i) * _tanh(g)
    return _sig_re(o) * _tanh(c), c


def _ref_unitary(p, x, h):
    s = p["generator_hh"] - p["generator_hh"].conj().T
    pre = p["weight_ih"] @ x + p["bias_ih"] + torch.linalg.matrix_exp(s) @ h
    out = torch.zeros_like(pre)
    for k in range(pre.shape[0]):
        m = pre[k].abs()
        if m > 0:
            out[k] = torch.relu(m + p["modrelu_bias"][k]) * pre[k] / m
    return (out,)


REFS = {cnn.GRU: (_ref_gru, 1), cnn.LSTM: (_ref_lstm, 2), cnn.UnitaryRNN: (_ref_unitary, 1)}


def _params(module, suffix):
    return {n[: -len(suffix)]: p for n, p in module.named_parameters() if n.endswith(suffix)}


def _reference(module, x, states):
    """Loop over layers, directions, samples and time steps; x is (L, N, H_in) time-major,
    states a tuple of (D * layers, N, H). Returns (output, final states)."""
    ref, _ = REFS[type(module)]
    directions = 2 if module.bidirectional else 1
    length, batch = x.shape[:2]
    finals = [torch.zeros_like(s) for s in states]
    layer_in = x
    for layer in range(module.num_layers):
        outs = []
        for d in range(directions):
            p = _params(module, f"_l{layer}" + ("_reverse" if d else ""))
            idx = layer * directions + d
            out = torch.zeros(length, batch, module.hidden_size, dtype=C128)
            for n in range(batch):
                state = tuple(s[idx, n] for s in states)
                for t in reversed(range(length)) if d else range(length):
                    state = ref(p, layer_in[t, n], *state)
                    out[t, n] = state[0]
                for f, s in zip(finals, state, strict=True):
                    f[idx, n] = s
            outs.append(out)
        layer_in = torch.cat(outs, -1)
    return layer_in, finals


def _build(cls, **kw):
    torch.manual_seed(0)
    return cls(3, 4, dtype=C128, **kw)


def _as_tuple(h):
    return h if isinstance(h, tuple) else (h,)


CONFIGS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "batch_first": True},
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(c) or "plain")
@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_layer_matches_loop_reference(cls, config):
    module = _build(cls, **config)
    length, batch = 4, 2
    rows = module.num_layers * (2 if module.bidirectional else 1)
    x = _crandn(length, batch, 3)
    states = tuple(_crandn(rows, batch, 4) for _ in range(REFS[cls][1]))
    want_out, want_states = _reference(module, x, states)
    given = x.transpose(0, 1) if module.batch_first else x
    out, h = module(given, states[0] if len(states) == 1 else states)
    if module.batch_first:
        out = out.transpose(0, 1)
    torch.testing.assert_close(out, want_out)
    torch.testing.assert_close(list(_as_tuple(h)), want_states)
    # Without hx the initial states are zeros.
    zeros = tuple(torch.zeros_like(s) for s in states)
    out0, h0 = module(given)
    want0, want_h0 = _reference(module, x, zeros)
    torch.testing.assert_close(out0.transpose(0, 1) if module.batch_first else out0, want0)
    torch.testing.assert_close(list(_as_tuple(h0)), want_h0)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_unbatched_is_a_batch_of_one(cls):
    module = _build(cls, num_layers=2, bidirectional=True)
    x = _crandn(3, 3)
    states = tuple(_crandn(4, 4) for _ in range(REFS[cls][1]))
    out, h = module(x, states[0] if len(states) == 1 else states)
    batch_states = tuple(s.unsqueeze(1) for s in states)
    out_b, h_b = module(x.unsqueeze(1), batch_states[0] if len(states) == 1 else batch_states)
    torch.testing.assert_close(out, out_b.squeeze(1))
    torch.testing.assert_close([s.squeeze(1) for s in _as_tuple(h_b)], list(_as_tuple(h)))
    assert out.shape == (3, 8)


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_packed_sequence_matches_each_sequence_alone(cls):
    module = _build(cls, num_layers=2, bidirectional=True)
    seqs = [_crandn(n, 3) for n in (2, 5, 3)]
    rows = 4
    states = tuple(_crandn(rows, 3, 4) for _ in range(REFS[cls][1]))
    packed = pack_sequence(seqs, enforce_sorted=False)
    out, h = module(packed, states[0] if len(states) == 1 else states)
    assert torch.equal(out.batch_sizes, packed.batch_sizes)
    unpacked = torch.nn.utils.rnn.unpack_sequence(out)
    for k, seq in enumerate(seqs):
        alone = tuple(s[:, k] for s in states)
        want_out, want_h = module(seq, alone[0] if len(alone) == 1 else alone)
        torch.testing.assert_close(unpacked[k], want_out)
        torch.testing.assert_close([s[:, k] for s in _as_tuple(h)], list(_as_tuple(want_h)))


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", ["GRU", "LSTM"])
def test_real_gates_on_real_data_are_torchs_layer(kind, bidirectional):
    """Real weights and data: Re of every pre-activation is torch's and Im is 0, so the
    sigmoid(Re a) gates and split tanh reproduce torch.nn.GRU/LSTM exactly."""
    torch.manual_seed(1)
    theirs = getattr(torch.nn, kind)(3, 4, 2, batch_first=True, bidirectional=bidirectional)
    theirs = theirs.double()
    ours = getattr(cnn, kind)(3, 4, 2, batch_first=True, bidirectional=bidirectional, dtype=C128)
    with torch.no_grad():
        for name, p in ours.named_parameters():
            p.copy_(getattr(theirs, name).to(C128))
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    out, h = ours(x)
    want_out, want_h = theirs(x)
    torch.testing.assert_close(out, want_out.detach().to(C128))
    for got, want in zip(_as_tuple(h), _as_tuple(want_h), strict=True):
        torch.testing.assert_close(got, want.detach().to(C128))


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_layer_gradcheck(cls):
    """Two steps through both directions; gradgradcheck (costly) w.r.t. the input and the
    recurrent parameter of one direction, the others fixed."""
    torch.manual_seed(0)
    module = cls(1, 2, bidirectional=True, dtype=C128)
    names = [n for n, _ in module.named_parameters()]
    x = _crandn(2, 1, 1).requires_grad_()
    params = [p.detach().clone().requires_grad_() for p in module.parameters()]

    def fn(x, *ps):
        out, h = torch.func.functional_call(module, dict(zip(names, ps, strict=True)), (x,))
        return out, *_as_tuple(h)

    assert torch.autograd.gradcheck(fn, (x, *params))
    rec = next(i for i, n in enumerate(names) if "_hh_l0_reverse" in n)

    def fn_rec(x, p):
        return fn(x, *params[:rec], p, *params[rec + 1 :])

    assert torch.autograd.gradgradcheck(fn_rec, (x, params[rec]))


@pytest.mark.parametrize("cls", [cnn.GRUCell, cnn.LSTMCell, cnn.UnitaryRNNCell])
def test_cell_modules_match_layers_of_one_step(cls):
    layer_cls = {cnn.GRUCell: cnn.GRU, cnn.LSTMCell: cnn.LSTM}.get(cls, cnn.UnitaryRNN)
    torch.manual_seed(0)
    cell = cls(3, 4, dtype=C128)
    layer = layer_cls(3, 4, dtype=C128)
    with torch.no_grad():
        for name, p in cell.named_parameters():
            getattr(layer, f"{name}_l0").copy_(p)
    x = _crandn(2, 3)
    got = _as_tuple(cell(x))
    _, want = layer(x.unsqueeze(0))
    torch.testing.assert_close(list(got), [w[0] for w in _as_tuple(want)])
    assert _as_tuple(cell(x[0]))[0].shape == (4,)


def test_unitary_rnn_stays_unitary_after_optimiser_steps():
    torch.manual_seed(0)
    module = cnn.UnitaryRNN(3, 6, num_layers=2, dtype=C128)
    cell = cnn.UnitaryRNNCell(3, 6, dtype=C128)
    opt = torch.optim.Adam([*module.parameters(), *cell.parameters()], lr=0.1)
    x, eye = _crandn(5, 2, 3), torch.eye(6, dtype=C128)
    before = module.generator_hh_l0.detach().clone()
    for _ in range(10):
        opt.zero_grad()
        loss = module(x)[0].abs().square().sum() + cell(x[0]).real.sum()
        loss.backward()
        opt.step()
    assert (module.generator_hh_l0 - before).abs().max() > 0.1  # the steps moved it
    for a in (module.generator_hh_l0, module.generator_hh_l1, cell.generator_hh):
        w = CF.unitary_matrix(a.detach())
        torch.testing.assert_close(w.mH @ w, eye, rtol=0, atol=1e-12)
    torch.testing.assert_close(cell.weight_hh.mH @ cell.weight_hh, eye, rtol=0, atol=1e-12)


def test_unitary_rnn_preserves_the_norm_without_input():
    """Zero input, no bias, modReLU bias 0: h_t = W^t h_0, so |h_t| = |h_0| for every t."""
    torch.manual_seed(0)
    module = cnn.UnitaryRNN(3, 8, bias=False, dtype=C128)
    h0 = _crandn(1, 2, 8)
    out, _ = module(torch.zeros(50, 2, 3, dtype=C128), h0)
    norms = torch.linalg.vector_norm(out, dim=-1)
    torch.testing.assert_close(norms, torch.linalg.vector_norm(h0[0], dim=-1).expand(50, 2))
    # ... while a GRU's state does not keep its norm.
    gru_out, _ = _build(cnn.GRU, bias=False)(torch.zeros(50, 2, 3, dtype=C128), h0[:, :, :4])
    assert not torch.allclose(torch.linalg.vector_norm(gru_out[-1], dim=-1), norms[-1])


def test_unitary_init_spreads_the_eigenvalues_on_the_circle():
    torch.manual_seed(0)
    cell = cnn.UnitaryRNNCell(2, 64, dtype=C128)
    eig = torch.linalg.eigvals(cell.weight_hh)
    torch.testing.assert_close(eig.abs(), torch.ones(64, dtype=torch.float64))
    phases = torch.sort(eig.angle()).values
    assert phases[0] < -2.5 and phases[-1] > 2.5  # spread over the circle
    assert bool((cell.modrelu_bias == 0).all())


@pytest.mark.parametrize("cls", [cnn.GRU, cnn.LSTMCell, cnn.UnitaryRNN])
def test_init_is_uniform_within_one_over_sqrt_hidden(cls):
    torch.manual_seed(0)
    module = cls(30, 25)
    bound = 1 / math.sqrt(25)
    for name, p in module.named_parameters():
        if "generator" in name or "modrelu" in name:
            continue
        parts = torch.view_as_real(p)
        assert parts.abs().max() <= bound
        assert parts.abs().max() > 0.95 * bound
        sigma = bound / math.sqrt(3)  # of U(-bound, bound)
        assert abs(parts.mean()) < 5 * sigma / math.sqrt(parts.numel())


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_dropout_between_layers(cls):
    module = _build(cls, num_layers=2, dropout=0.5)
    x = _crandn(3, 2, 3)
    plain = _build(cls, num_layers=2)
    plain.load_state_dict(module.state_dict())
    torch.testing.assert_close(module.eval()(x), plain(x))
    module.train()
    torch.manual_seed(5)
    first = module(x)[0]
    torch.manual_seed(5)
    torch.testing.assert_close(module(x)[0], first)
    assert not torch.allclose(first, plain(x)[0])
    # Only between layers: one layer with dropout is the layer without it, and warns.
    with pytest.warns(UserWarning, match="num_layers > 1"):
        single = _build(cls, dropout=0.5)
    torch.testing.assert_close(single.train()(x), _build(cls)(x))


@pytest.mark.parametrize(
    "cls", [cnn.GRU, cnn.LSTM, cnn.UnitaryRNN, cnn.GRUCell, cnn.LSTMCell, cnn.UnitaryRNNCell]
)
def test_dtype_conversion_keeps_complex_and_real_state(cls):
    module = cls(2, 3).double()
    for name, p in module.named_parameters():
        want = torch.float64 if "modrelu" in name else C128
        assert p.dtype == want, name
    x = _crandn(4, 2) if "Cell" in cls.__name__ else _crandn(4, 1, 2)
    assert _as_tuple(module(x))[0].dtype == C128


def test_split_gate_option_reaches_the_cells():
    torch.manual_seed(0)
    real = cnn.GRU(3, 4, dtype=C128)
    split = cnn.GRU(3, 4, dtype=C128, gate="split", activation="amp_phase_tanh")
    split.load_state_dict(real.state_dict())
    x = _crandn(3, 2, 3)
    assert not torch.allclose(real(x)[0], split(x)[0])
    assert "gate='split', activation='amp_phase_tanh'" in repr(split)


def test_errors():
    gru, lstm = cnn.GRU(3, 4, num_layers=2), cnn.LSTM(3, 4)
    x = _crandn(5, 2, 3, dtype=torch.complex64)
    with pytest.raises(ValueError, match=r"input must be 2-D or 3-D \(L, N, H_in\)"):
        gru(x[0, 0])
    with pytest.raises(ValueError, match="input_size=3"):
        gru(x[..., :2])
    with pytest.raises(ValueError, match=r"h_0 must have shape \(2, 2, 4\)"):
        gru(x, _crandn(1, 2, 4, dtype=torch.complex64))
    with pytest.raises(TypeError, match="h_0 must be complex64 or complex128"):
        gru(x, torch.zeros(2, 2, 4))
    with pytest.raises(TypeError, match=r"pair \(h_0, c_0\)"):
        lstm(x, _crandn(1, 2, 4, dtype=torch.complex64))
    with pytest.raises(TypeError, match=r"input has dtype torch\.complex128"):
        gru(x.to(C128))
    with pytest.raises(ValueError, match="unknown gate"):
        cnn.LSTM(3, 4, gate="modulus")
    with pytest.raises(ValueError, match="num_layers must be at least 1"):
        cnn.GRU(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="dropout must be a probability"):
        cnn.UnitaryRNN(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(ValueError, match="input_size and hidden_size must be positive"):
        cnn.GRUCell(0, 4)
    with pytest.raises(TypeError, match=r"dtype must be torch\.complex64 or torch\.complex128"):
        cnn.LSTMCell(3, 4, dtype=torch.float32)
    with pytest.raises(ValueError, match=r"input must be 1-D or 2-D"):
        cnn.GRUCell(3, 4)(x)
