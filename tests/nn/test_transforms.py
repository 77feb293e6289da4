"""Every public module of phasor.nn under torch.compile, torch.func.vmap and torch.func.grad.

The modules are enumerated from ``phasor.nn`` itself (each submodule's ``__all__`` is
star-imported there), so a new public module fails ``test_every_public_module_has_an_example``
until it is given an example in a family's ``tests/nn/examples_<family>.py`` (see
``tests/nn/examples.py``, which gathers them). Each example builds the module with small shapes and draws
its inputs from a seeded generator. Outputs may be tensors or (nested) tuples of them, with
``None`` entries (e.g. attention weights not asked for).

- compile: ``torch.compile(module, backend="aot_eager")`` traces with fake tensors and AOT
  autograd like the default backend, without the C++ build; outputs, input and parameter
  gradients and the buffers after the call must equal eager. The default inductor backend runs
  on max pooling and on the seed CNN of :mod:`phasor.models.cnn`.
- vmap: ``torch.func.vmap`` over an extra leading batch of two samples equals a loop.
- grad: ``torch.func.grad`` of a real loss of ``torch.func.functional_call`` equals autograd.
- complex128: ``.double()`` of the module on complex128 inputs gives complex128 outputs equal
  to the complex64 ones to single precision.
- state_dict: saved with ``torch.save``, loaded with ``weights_only=True`` into a module built
  from another seed, gives the same outputs.
"""

from __future__ import annotations

import copy
import importlib.util
import io
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.func import functional_call, grad, vmap
from torch.utils import _pytree as pytree

import phasor.nn as cnn
from phasor.models.cnn import ComplexSeedCNN

_spec = importlib.util.spec_from_file_location(
    "_phasor_nn_examples", Path(__file__).with_name("examples.py")
)
_examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_examples)
EXAMPLES, TRAIN_DEPENDENT, RUNNING_STATS = _examples.load()


def _public_modules() -> set[str]:
    return {
        name
        for name, obj in vars(cnn).items()
        if isinstance(obj, type) and issubclass(obj, nn.Module) and not name.startswith("_")
    }


def test_every_public_module_has_an_example():
    classes = {case.split("-")[0] for case in EXAMPLES}
    assert _public_modules() - classes == set()
    assert classes - _public_modules() == set()


def _build(case: str, seed: int = 0):
    factory, make_inputs = EXAMPLES[case]
    torch.manual_seed(0)
    module = factory()
    return module, make_inputs(torch.Generator().manual_seed(seed))


def _tensors(out) -> list[torch.Tensor]:
    """The tensors of an output: a tensor, or a nested tuple of tensors and ``None``."""
    return [t for t in pytree.tree_leaves(out) if isinstance(t, torch.Tensor)]


def _loss(out) -> torch.Tensor:
    """A real loss with a gradient that differs from element to element."""
    total = 0
    for t in _tensors(out):
        if t.is_complex() or t.is_floating_point():
            v = torch.view_as_real(t) if t.is_complex() else t
            total = total + (v * v).sum() + v.sum()
    return total


def _differentiable(inputs) -> list[int]:
    return [i for i, x in enumerate(inputs) if x.is_floating_point() or x.is_complex()]


def _run(module, inputs):
    """Output, gradients (differentiable inputs, then parameters) and buffers after one call."""
    leaves = [x.clone().requires_grad_(i in _differentiable(inputs)) for i, x in enumerate(inputs)]
    torch.manual_seed(1)
    out = module(*leaves)
    wrt = [leaves[i] for i in _differentiable(inputs)] + list(module.parameters())
    grads = torch.autograd.grad(_loss(out), wrt)
    return out, grads, [b.clone() for b in module.buffers()]


def _assert_compiled_equals_eager(module, inputs, backend):
    eager = _run(copy.deepcopy(module), inputs)
    torch._dynamo.reset()
    try:
        compiled = _run(torch.compile(copy.deepcopy(module), backend=backend), inputs)
    finally:
        torch._dynamo.reset()
    torch.testing.assert_close(compiled, eager)


# Compiling costs about half a second a module: train mode for all, eval mode only where the
# forward pass depends on it.
COMPILE_CASES = [(case, True) for case in EXAMPLES] + [
    (case, False) for case in EXAMPLES if case.split("-")[0] in TRAIN_DEPENDENT
]


@pytest.mark.parametrize(("case", "train"), COMPILE_CASES)
def test_compile_matches_eager(case, train):
    module, inputs = _build(case)
    _assert_compiled_equals_eager(module.train(train), inputs, "aot_eager")


def _seed_cnn():
    torch.manual_seed(0)
    model = ComplexSeedCNN((2, 2, 4), activation="modrelu")
    return model, (torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(0)),)


def test_compile_matches_eager_on_seed_cnn():
    model, images = _seed_cnn()
    _assert_compiled_equals_eager(model, images, "aot_eager")


def test_inductor_matches_eager_on_max_pool():
    module, inputs = _build("MaxPool2d")
    _assert_compiled_equals_eager(module, inputs, "inductor")


def _samples(case: str):
    module, first = _build(case, seed=1)
    second = _build(case, seed=2)[1]
    return module, first, second


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case", EXAMPLES)
def test_vmap_matches_loop(case, train):
    module, first, second = _samples(case)
    module.train(train)
    batched = [torch.stack(pair) for pair in zip(first, second, strict=True)]
    if train and case in RUNNING_STATS:
        with pytest.raises(RuntimeError, match=RUNNING_STATS[case]):
            vmap(module)(*batched)
        return
    torch.manual_seed(1)
    out = vmap(module, randomness="same")(*batched)
    expected = []
    for sample in (first, second):
        torch.manual_seed(1)  # "same": every sample sees the one draw
        expected.append(module(*sample))
    stacked = pytree.tree_map(lambda *ts: torch.stack(ts), *expected)
    torch.testing.assert_close(out, stacked)


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case", EXAMPLES)
def test_func_grad_matches_autograd(case, train):
    module, inputs = _build(case)
    module.train(train)
    diff = _differentiable(inputs)
    params = {name: p.detach() for name, p in module.named_parameters()}

    def loss(params, diff_inputs):
        args = list(inputs)
        for i, x in zip(diff, diff_inputs, strict=True):
            args[i] = x
        return _loss(functional_call(module, params, tuple(args)))

    diff_inputs = tuple(inputs[i] for i in diff)
    if train and case in RUNNING_STATS:
        with pytest.raises(RuntimeError, match="in-place operation"):
            grad(loss, argnums=(0, 1))(params, diff_inputs)
        return
    torch.manual_seed(1)
    got_params, got_inputs = grad(loss, argnums=(0, 1))(params, diff_inputs)
    expected = _run(module, inputs)[1]
    torch.testing.assert_close([*got_inputs, *got_params.values()], list(expected))


PRECISION = {torch.complex64: torch.complex128, torch.float32: torch.float64}


def _double(x: torch.Tensor) -> torch.Tensor:
    return x.to(PRECISION[x.dtype]) if x.dtype in PRECISION else x


@pytest.mark.parametrize("case", EXAMPLES)
def test_complex128_matches_complex64(case):
    module, inputs = _build(case)
    module.eval()
    torch.manual_seed(1)
    single = module(*inputs)
    module.double()
    torch.manual_seed(1)
    double = module(*(_double(x) for x in inputs))
    for got, want in zip(_tensors(double), _tensors(single), strict=True):
        if want.is_complex() or want.is_floating_point():
            assert got.dtype == PRECISION[want.dtype]
        torch.testing.assert_close(got, _double(want), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", EXAMPLES)
def test_state_dict_round_trip_with_weights_only(case):
    module, inputs = _build(case)
    module.eval()
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    buffer.seek(0)
    factory = EXAMPLES[case][0]
    torch.manual_seed(12345)  # another draw of the initial weights
    other = factory().eval()
    other.load_state_dict(torch.load(buffer, weights_only=True))
    torch.manual_seed(1)
    want = module(*inputs)
    torch.manual_seed(1)
    torch.testing.assert_close(other(*inputs), want)
