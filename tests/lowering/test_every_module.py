"""Every public module of phasor.nn lowered (phasor.lowering): outputs, input and parameter
gradients and buffers equal to eager phasor, in complex64 and complex128, in train mode (and in
eval mode where the forward depends on it); no complex tensor anywhere in the lowered forward
or backward pass; ``torch.compile(fullgraph=True)`` of the lowered module equals it.

The modules and their inputs are the transform-test examples (tests/nn/examples.py), so a new
public module is covered here as soon as it has an example; it then needs a lowering rule.
"""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils import _pytree as pytree

import phasor.nn as cnn
from phasor.lowering import SUPPORTED, lower, to_pair
from phasor.lowering._core import pair_tensor

_spec = importlib.util.spec_from_file_location(
    "_phasor_nn_examples", Path(__file__).parents[1] / "nn" / "examples.py"
)
_examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_examples)
EXAMPLES, TRAIN_DEPENDENT, _ = _examples.load()
_calls_spec = importlib.util.spec_from_file_location(
    "_phasor_lowering_calls", Path(__file__).with_name("calls.py")
)
_calls = importlib.util.module_from_spec(_calls_spec)
_calls_spec.loader.exec_module(_calls)

TOL = {torch.complex64: 2e-4, torch.complex128: 1e-9}
DOUBLE = {torch.float32: torch.float64, torch.complex64: torch.complex128}

# Examples whose input has no pair layout, each with the reason.
NOT_LOWERED: dict[str, str] = {}

CASES = [(case, True) for case in EXAMPLES if case not in NOT_LOWERED] + [
    (case, False)
    for case in EXAMPLES
    if case.split("-")[0] in TRAIN_DEPENDENT and case not in NOT_LOWERED
]


def test_every_public_module_has_a_rule():
    public = {
        obj
        for name, obj in vars(cnn).items()
        if isinstance(obj, type) and issubclass(obj, nn.Module) and not name.startswith("_")
    }
    missing = sorted(cls.__name__ for cls in public - set(SUPPORTED))
    assert missing == []


def _build(case, dtype):
    factory, make_inputs = EXAMPLES[case]
    torch.manual_seed(0)
    module = factory()
    inputs = make_inputs(torch.Generator().manual_seed(0))
    if dtype == torch.complex128:
        module = module.double()
        inputs = tuple(
            x.to(DOUBLE[x.dtype]) if isinstance(x, torch.Tensor) and x.dtype in DOUBLE else x
            for x in inputs
        )
    return module, inputs


def _as_pair(out):
    """An eager output tree with every complex tensor in the pair layout."""
    return pytree.tree_map(lambda t: to_pair(t) if isinstance(t, torch.Tensor) else t, out)


def _run(module, inputs, pair: bool):
    """Output, input gradients, parameter gradients (by name) and buffers after one call."""
    return _calls.run(module, inputs, pair)


def _lowered(module, inputs):
    first = inputs[0]
    real_input = isinstance(first, torch.Tensor) and not first.is_complex()
    return lower(module, real_input=real_input)


def _pair_or_none(t):
    return None if t is None else pair_tensor(t)


def _unwrapped(named: dict) -> dict:
    """Names of a compiled module's parameters or buffers as in the module itself."""
    return {k.removeprefix("_orig_mod."): v for k, v in named.items()}


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128], ids=["c64", "c128"])
@pytest.mark.parametrize(("case", "train"), CASES)
def test_lowered_equals_eager(case, train, dtype):
    module, inputs = _build(case, dtype)
    module.train(train)
    lowered = _lowered(module, inputs)
    assert lowered.training == train
    assert dict(lowered.named_parameters()).keys() == dict(module.named_parameters()).keys()
    for name, p in module.named_parameters():
        torch.testing.assert_close(dict(lowered.named_parameters())[name], pair_tensor(p))
    out, input_grads, param_grads, buffers = _run(module, inputs, pair=False)
    out_l, input_grads_l, param_grads_l, buffers_l = _run(lowered, inputs, pair=True)
    tol = dict(atol=TOL[dtype], rtol=TOL[dtype])
    torch.testing.assert_close(out_l, _as_pair(out), **tol)
    torch.testing.assert_close(
        input_grads_l, [None if g is None else to_pair(g) for g in input_grads], **tol
    )
    assert param_grads_l.keys() == param_grads.keys()
    for name, g in param_grads.items():
        torch.testing.assert_close(param_grads_l[name], _pair_or_none(g), **tol, msg=name)
    assert buffers_l.keys() == buffers.keys()
    for name, b in buffers.items():
        torch.testing.assert_close(buffers_l[name], pair_tensor(b), **tol, msg=name)


@pytest.mark.parametrize(("case", "train"), CASES)
def test_lowered_pass_creates_no_complex_tensor(case, train, complex_ops):
    module, inputs = _build(case, torch.complex64)
    lowered = _lowered(module.train(train), inputs)
    pair_inputs = [to_pair(x) if isinstance(x, torch.Tensor) else x for x in inputs]
    with complex_ops() as mode:
        _run(lowered, pair_inputs, pair=False)
    assert mode.seen == []


@pytest.mark.parametrize("case", [case for case, train in CASES if train])
def test_compile_fullgraph_equals_lowered_eager(case):
    module, inputs = _build(case, torch.complex64)
    lowered = _lowered(module.train(), inputs)
    eager = _run(copy.deepcopy(lowered), inputs, pair=True)
    torch._dynamo.reset()
    try:
        compiled = torch.compile(copy.deepcopy(lowered), fullgraph=True, backend="aot_eager")
        got = _run(compiled, inputs, pair=True)
    finally:
        torch._dynamo.reset()
    torch.testing.assert_close(got[:2], eager[:2])
    torch.testing.assert_close(_unwrapped(got[2]), eager[2])
    torch.testing.assert_close(_unwrapped(got[3]), eager[3])
