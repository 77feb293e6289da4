"""Lowered recurrent cells and layers (phasor.lowering.recurrent) against eager phasor, on the
options the every-module examples leave out: stacked bidirectional layers, batch first,
unbatched and packed inputs, initial states, both gates and activations, no bias, real input,
dropout in train and eval mode."""

from __future__ import annotations

import functools

import pytest
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence
from torch.utils import _pytree as pytree

import phasor.nn as P
from phasor.functional.recurrent import unitary_matrix
from phasor.lowering import lower, to_pair
from phasor.lowering._core import pair_tensor
from phasor.lowering.recurrent import _unitary_stacked

C128 = torch.complex128
TOL = dict(atol=1e-9, rtol=1e-9)


def _complex(*shape) -> torch.Tensor:
    return torch.randn(*shape, dtype=C128)


def _leaves(tree) -> list[torch.Tensor]:
    """The tensors of an argument or output tree (the data of a PackedSequence included)."""
    if isinstance(tree, PackedSequence):
        return [tree.data]
    return [t for t in pytree.tree_leaves(tree) if isinstance(t, torch.Tensor)]


def _paired(tree):
    """An argument or output tree with every complex tensor in the pair layout (detached)."""
    if isinstance(tree, PackedSequence):
        return tree._replace(data=to_pair(tree.data.detach()))
    return pytree.tree_map(
        lambda t: to_pair(t.detach()) if isinstance(t, torch.Tensor) else t, tree
    )


def _loss(out) -> torch.Tensor:
    total = 0
    for t in _leaves(out):
        v = torch.view_as_real(t) if t.is_complex() else t
        total = total + (v * v).sum() + v.sum()
    return total


def _run(module, args, seed: int = 1):
    """Output, gradients of the tensor arguments, parameter gradients by name."""
    wrt = [t for a in args for t in _leaves(a)]
    for t in wrt:
        t.requires_grad_()
    torch.manual_seed(seed)
    out = module(*args)
    params = dict(module.named_parameters())
    grads = torch.autograd.grad(_loss(out), wrt + list(params.values()))
    return out, grads[: len(wrt)], dict(zip(params, grads[len(wrt) :], strict=True))


@pytest.fixture
def check(complex_ops):
    """`_check` with the dispatch mode that records complex ops."""
    return functools.partial(_check, complex_ops)


def _check(complex_ops, module, args, real_input: bool = False):
    """The lowered ``module`` equals it on ``args`` (outputs, all gradients), and creates no
    complex tensor."""
    lowered = lower(module, real_input=real_input)
    out, input_grads, param_grads = _run(module, args)
    pair_args = [_paired(a) for a in args]
    with complex_ops() as mode:
        out_l, input_grads_l, param_grads_l = _run(lowered, pair_args)
    assert mode.seen == []
    torch.testing.assert_close(_leaves(out_l), _leaves(_paired(out)), **TOL)
    if isinstance(out, PackedSequence):
        torch.testing.assert_close(out_l.batch_sizes, out.batch_sizes)
    torch.testing.assert_close(list(input_grads_l), [to_pair(g) for g in input_grads], **TOL)
    assert param_grads_l.keys() == param_grads.keys()
    for name, g in param_grads.items():
        torch.testing.assert_close(param_grads_l[name], pair_tensor(g), **TOL, msg=name)
    return out_l


LAYERS = {
    "GRU": lambda **kw: P.GRU(3, 4, dtype=C128, **kw),
    "LSTM": lambda **kw: P.LSTM(3, 4, dtype=C128, **kw),
    "UnitaryRNN": lambda **kw: P.UnitaryRNN(3, 4, dtype=C128, **kw),
}
GATED = ("GRU", "LSTM")


def _hx(kind: str, rows: int, *batch: int):
    h = _complex(rows, *batch, 4)
    return (h, _complex(rows, *batch, 4)) if kind == "LSTM" else h


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_two_bidirectional_layers(kind, with_hx, batch_first, check):
    torch.manual_seed(0)
    layer = LAYERS[kind](num_layers=2, bidirectional=True, batch_first=batch_first)
    x = _complex(2, 5, 3) if batch_first else _complex(5, 2, 3)
    args = (x, _hx(kind, 4, 2)) if with_hx else (x,)
    out = check(layer, args)
    assert out[0].shape == ((2, 2, 5, 8) if batch_first else (5, 2, 2, 8))


@pytest.mark.parametrize("gate", ["real", "split"])
@pytest.mark.parametrize("activation", ["split_tanh", "amp_phase_tanh"])
@pytest.mark.parametrize("kind", GATED)
def test_gates_and_activations(kind, gate, activation, check):
    torch.manual_seed(0)
    layer = LAYERS[kind](num_layers=2, gate=gate, activation=activation)
    check(layer, (_complex(4, 3, 3), _hx(kind, 2, 3)))


@pytest.mark.parametrize("kind", list(LAYERS))
def test_unbatched_input_and_state(kind, check):
    torch.manual_seed(0)
    layer = LAYERS[kind](num_layers=2, bidirectional=True, batch_first=True)
    out = check(layer, (_complex(5, 3), _hx(kind, 4)))
    assert out[0].shape == (5, 2, 8)  # (L, 2, D * H): the pair axis at dim 1


@pytest.mark.parametrize("kind", list(LAYERS))
def test_no_bias(kind, check):
    torch.manual_seed(0)
    check(LAYERS[kind](bias=False, bidirectional=True), (_complex(4, 2, 3),))


@pytest.mark.parametrize("kind", list(LAYERS))
def test_real_input(kind, check):
    torch.manual_seed(0)
    layer = LAYERS[kind](num_layers=2, batch_first=True)
    check(layer, (torch.randn(2, 4, 3, dtype=torch.float64), _hx(kind, 2, 2)), real_input=True)


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_dropout_between_layers(kind, train, check):
    """Train mode: the same masks as phasor's (same draws); eval mode: no dropout."""
    torch.manual_seed(0)
    layer = LAYERS[kind](num_layers=3, dropout=0.4, bidirectional=True).train(train)
    x = _complex(4, 3, 3)
    check(layer, (x,))
    lowered = lower(layer)
    first = _run(lowered, (to_pair(x),), seed=1)[0][0]
    second = _run(lowered, (to_pair(x),), seed=2)[0][0]
    assert torch.equal(first, second) is not train  # masks redrawn only in train mode


@pytest.mark.parametrize("kind", list(LAYERS))
def test_packed_sequence(kind, check):
    torch.manual_seed(0)
    layer = LAYERS[kind](num_layers=2, bidirectional=True)
    packed = pack_padded_sequence(_complex(5, 3, 3), torch.tensor([3, 5, 2]), enforce_sorted=False)
    check(layer, (packed, _hx(kind, 4, 3)))


@pytest.mark.parametrize("kind", list(LAYERS))
def test_compile_fullgraph_unbatched_with_state(kind):
    torch.manual_seed(0)
    layer = LAYERS[kind](num_layers=2, bidirectional=True).float()
    lowered = lower(layer)
    args = (to_pair(_complex(4, 3).to(torch.complex64)), _paired(_hx(kind, 4)))
    args = pytree.tree_map(lambda t: t.float(), args)
    torch._dynamo.reset()
    try:
        compiled = torch.compile(lowered, fullgraph=True, backend="aot_eager")
        torch.testing.assert_close(compiled(*args), lowered(*args))
    finally:
        torch._dynamo.reset()


CELLS = {
    "GRUCell": lambda **kw: P.GRUCell(3, 4, dtype=C128, **kw),
    "LSTMCell": lambda **kw: P.LSTMCell(3, 4, dtype=C128, **kw),
    "UnitaryRNNCell": lambda **kw: P.UnitaryRNNCell(3, 4, dtype=C128, **kw),
}


def _cell_hx(kind: str, *batch: int):
    h = _complex(*batch, 4)
    return (h, _complex(*batch, 4)) if kind == "LSTMCell" else h


@pytest.mark.parametrize("batch", [(2,), ()], ids=["batched", "unbatched"])
@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("kind", list(CELLS))
def test_cells(kind, with_hx, batch, check):
    torch.manual_seed(0)
    x = _complex(*batch, 3)
    out = check(CELLS[kind](), (x, _cell_hx(kind, *batch)) if with_hx else (x,))
    h = out[0] if kind == "LSTMCell" else out
    assert h.shape == ((2, 2, 4) if batch else (4, 2))  # the pair of a 1-D tensor is (H, 2)


@pytest.mark.parametrize("gate", ["real", "split"])
@pytest.mark.parametrize("activation", ["split_tanh", "amp_phase_tanh"])
@pytest.mark.parametrize("kind", ["GRUCell", "LSTMCell"])
def test_cell_gates_without_bias(kind, gate, activation, check):
    torch.manual_seed(0)
    cell = CELLS[kind](gate=gate, activation=activation, bias=False)
    check(cell, (_complex(2, 3), _cell_hx(kind, 2)))


@pytest.mark.parametrize("batch", [(2,), ()], ids=["batched", "unbatched"])
@pytest.mark.parametrize("kind", list(CELLS))
def test_cells_real_input(kind, batch, check):
    torch.manual_seed(0)
    x = torch.randn(*batch, 3, dtype=torch.float64)
    check(CELLS[kind](), (x, _cell_hx(kind, *batch)), real_input=True)


def test_unitary_stacked_is_the_real_form_of_phasors_matrix():
    torch.manual_seed(0)
    generator = _complex(5, 5)
    w = unitary_matrix(generator)
    stacked = _unitary_stacked(pair_tensor(generator))
    expected = torch.cat((torch.cat((w.real, -w.imag), 1), torch.cat((w.imag, w.real), 1)), 0)
    torch.testing.assert_close(stacked, expected, atol=1e-12, rtol=1e-12)
