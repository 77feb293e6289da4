"""Every public module of phasor.nn under torch.compile, torch.func.vmap and torch.func.grad.

The modules are enumerated from ``phasor.nn`` itself (each submodule's ``__all__`` is
star-imported there), so a new public module fails ``test_every_public_module_has_an_example``
until it is given an example: below, or in a family's own ``tests/nn/examples_<family>.py``
(a dict ``EXAMPLES`` and, where needed, a set ``TRAIN_DEPENDENT`` and a dict
``RUNNING_STATS``, merged here). Each example builds the module with small shapes and draws
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

C64 = torch.complex64


def _complex(g, *shape):
    return torch.randn(*shape, dtype=C64, generator=g)


def _real(g, *shape):
    return torch.rand(*shape, generator=g)


def _one(shape):
    """Inputs of one complex tensor of ``shape``."""
    return lambda g: (_complex(g, *shape),)


# id -> (module factory, inputs from a torch.Generator); the id up to "-" is the class name.
EXAMPLES = {
    "AmpPhaseTanh": (cnn.AmpPhaseTanh, _one((2, 3))),
    "CPReLU": (lambda: cnn.CPReLU(3, init=0.2, dtype=C64), _one((2, 3, 4))),
    "CReLU": (cnn.CReLU, _one((2, 3))),
    "Cardioid": (cnn.Cardioid, _one((2, 3))),
    "ModReLU": (lambda: cnn.ModReLU(3, bias_init=-0.3, dtype=C64), _one((2, 3, 4))),
    "Modulus": (cnn.Modulus, _one((2, 3))),
    "SplitSigmoid": (cnn.SplitSigmoid, _one((2, 3))),
    "SplitTanh": (cnn.SplitTanh, _one((2, 3))),
    "ZReLU": (cnn.ZReLU, _one((2, 3))),
    "Conv1d": (lambda: cnn.Conv1d(2, 3, 3, padding=1), _one((2, 2, 5))),
    "Conv2d": (lambda: cnn.Conv2d(2, 3, 3), _one((2, 2, 4, 4))),
    "Conv3d": (lambda: cnn.Conv3d(2, 2, 2), _one((2, 2, 3, 3, 3))),
    "ConvTranspose1d": (lambda: cnn.ConvTranspose1d(2, 3, 3, stride=2), _one((2, 2, 4))),
    "ConvTranspose2d": (lambda: cnn.ConvTranspose2d(2, 3, 2), _one((2, 2, 3, 3))),
    "ConvTranspose3d": (lambda: cnn.ConvTranspose3d(2, 2, 2), _one((2, 2, 2, 2, 2))),
    "Dropout": (lambda: cnn.Dropout(0.5), _one((2, 6))),
    "Dropout2d": (lambda: cnn.Dropout2d(0.5), _one((2, 4, 2, 2))),
    "AnalyticSignal": (cnn.AnalyticSignal, lambda g: (torch.randn(2, 8, generator=g),)),
    "PhaseEncode": (cnn.PhaseEncode, lambda g: (_real(g, 2, 4),)),
    "ToComplex": (cnn.ToComplex, lambda g: (torch.randn(2, 4, generator=g),)),
    "DenseGraphConv": (
        lambda: cnn.DenseGraphConv(3, 4),
        lambda g: (_complex(g, 2, 5, 3), _real(g, 2, 5, 5)),
    ),
    "Linear": (lambda: cnn.Linear(4, 3), _one((2, 4))),
    "ComplexCrossEntropyLoss": (
        cnn.ComplexCrossEntropyLoss,
        lambda g: (_complex(g, 4, 5), torch.randint(0, 5, (4,), generator=g)),
    ),
    "ComplexMSELoss": (cnn.ComplexMSELoss, lambda g: (_complex(g, 2, 3), _complex(g, 2, 3))),
    "Magnitude": (cnn.Magnitude, _one((2, 5))),
    "ModLogSoftmax": (cnn.ModLogSoftmax, _one((2, 5))),
    "ModSoftmax": (cnn.ModSoftmax, _one((2, 5))),
    "ComplexBatchNorm1d": (lambda: cnn.ComplexBatchNorm1d(3), _one((4, 3))),
    "ComplexBatchNorm2d": (lambda: cnn.ComplexBatchNorm2d(3), _one((4, 3, 2, 2))),
    "ComplexBatchNorm2d-untracked": (
        lambda: cnn.ComplexBatchNorm2d(3, track_running_stats=False),
        _one((4, 3, 2, 2)),
    ),
    "NaiveComplexBatchNorm1d": (lambda: cnn.NaiveComplexBatchNorm1d(3), _one((4, 3))),
    "NaiveComplexBatchNorm2d": (lambda: cnn.NaiveComplexBatchNorm2d(3), _one((4, 3, 2, 2))),
    "ComplexLayerNorm": (lambda: cnn.ComplexLayerNorm(4), _one((2, 3, 4))),
    "AdaptiveAvgPool1d": (lambda: cnn.AdaptiveAvgPool1d(2), _one((2, 3, 5))),
    "AdaptiveAvgPool2d": (lambda: cnn.AdaptiveAvgPool2d((2, 1)), _one((2, 3, 5, 4))),
    "AvgPool1d": (lambda: cnn.AvgPool1d(2), _one((2, 3, 5))),
    "AvgPool2d": (lambda: cnn.AvgPool2d(2, 1, 1), _one((2, 3, 4, 4))),
    "MaxPool1d": (lambda: cnn.MaxPool1d(2), _one((2, 3, 6))),
    "MaxPool1d-windowed": (lambda: cnn.MaxPool1d(3, 2, 1, dilation=1), _one((2, 3, 7))),
    "MaxPool2d": (lambda: cnn.MaxPool2d(2), _one((2, 3, 4, 4))),
    "MaxPool2d-windowed": (lambda: cnn.MaxPool2d(2, 1), _one((2, 3, 4, 4))),
}

# Modules whose forward pass depends on train mode: dropout draws random numbers (compared
# with the generator reseeded), batch norm uses the batch statistics.
TRAIN_DEPENDENT = {
    "Dropout",
    "Dropout2d",
    "ComplexBatchNorm1d",
    "ComplexBatchNorm2d",
    "NaiveComplexBatchNorm1d",
    "NaiveComplexBatchNorm2d",
}
# The one exclusion: train-mode batch norm with running statistics updates them in place, and
# a batched (vmap) or gradient-tracking (grad) value cannot be written into the module's plain
# buffer. The tests assert that error; without running statistics (the "-untracked" case) the
# same layers pass.
RUNNING_STATS = {
    "ComplexBatchNorm1d": "broadcast shape",
    "ComplexBatchNorm2d": "broadcast shape",
    "NaiveComplexBatchNorm1d": "updated in place",
    "NaiveComplexBatchNorm2d": "updated in place",
}


def _merge_family_examples() -> None:
    """Add the examples of every ``tests/nn/examples_<family>.py``."""
    for path in sorted(Path(__file__).parent.glob("examples_*.py")):
        spec = importlib.util.spec_from_file_location(f"_phasor_{path.stem}", path)
        family = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(family)
        clash = EXAMPLES.keys() & family.EXAMPLES.keys()
        assert not clash, f"{path.name} redefines {sorted(clash)}"
        EXAMPLES.update(family.EXAMPLES)
        TRAIN_DEPENDENT.update(getattr(family, "TRAIN_DEPENDENT", set()))
        RUNNING_STATS.update(getattr(family, "RUNNING_STATS", {}))


_merge_family_examples()


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
