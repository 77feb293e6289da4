"""The lowered heads and losses against eager phasor: every reduction and option, targets of
every kind, and the gradient at $|z| = 0$ (inputs with zeros, equal elements, silent signals)."""

import functools

import pytest
import torch

import phasor.nn as P
from phasor.lowering import lower, to_pair

REDUCTIONS = ("mean", "sum", "none")
C128 = torch.complex128


def _output_and_grads(module, inputs):
    """Output and the gradients of a weighted sum of it w.r.t. every floating input."""
    leaves = [
        x.clone().requires_grad_() if x.is_floating_point() or x.is_complex() else x for x in inputs
    ]
    out = module(*leaves)
    weights = torch.linspace(-1.0, 2.0, out.numel(), dtype=out.dtype).view(out.shape)
    wrt = [x for x in leaves if x.requires_grad]
    return out, torch.autograd.grad((out * weights).sum(), wrt)


@pytest.fixture
def check_lowered(complex_ops):
    """`_check_lowered` with the dispatch mode that records complex ops."""
    return functools.partial(_check_lowered, complex_ops)


def _check_lowered(complex_ops, module, *inputs, tol=1e-10):
    """The lowered module gives phasor's real output and input gradients (complex ones as
    pairs), with no complex tensor in its forward and backward pass."""
    lowered = lower(module, real_input=not inputs[0].is_complex())
    out, grads = _output_and_grads(module, inputs)
    pairs = [to_pair(x) for x in inputs]
    with complex_ops() as seen:
        out_l, grads_l = _output_and_grads(lowered, pairs)
    assert seen.seen == []
    assert not out.is_complex() and out_l.dtype == out.dtype
    torch.testing.assert_close(out_l, out, atol=tol, rtol=tol)
    assert all(torch.isfinite(g).all() for g in grads_l)
    torch.testing.assert_close(list(grads_l), [to_pair(g) for g in grads], atol=tol, rtol=tol)


def _randn(*shape, dtype=C128, seed=0):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def _with_zeros(z: torch.Tensor, every: int = 3) -> torch.Tensor:
    """``z`` with every ``every``-th element 0."""
    z = z.clone()
    z.view(-1)[::every] = 0
    return z


def _pair_with_ties(*shape, target_zeros_every=5):
    """Input and target with zeros in one, in the other and in both (only in both for
    ``target_zeros_every=3``), and some elements equal (a zero difference)."""
    x = _with_zeros(_randn(*shape))
    y = _with_zeros(_randn(*shape, seed=1), every=target_zeros_every)
    y.view(-1)[1::4] = x.view(-1)[1::4]
    return x, y


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("mode", ["modulus", "split"])
@pytest.mark.parametrize("cls", [P.ComplexMSELoss, P.ComplexL1Loss])
def test_distance_losses(cls, mode, reduction, check_lowered):
    check_lowered(cls(reduction, mode=mode), *_pair_with_ties(3, 4, 5))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_magnitude_loss(p, reduction, check_lowered):
    x, y = _pair_with_ties(4, 6)
    y.view(-1)[2::5] = x.view(-1)[2::5] * 1j  # equal magnitudes, other phases
    check_lowered(P.MagnitudeLoss(p=p, reduction=reduction), x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", ["cosine", "squared"])
def test_phase_loss(kind, reduction, check_lowered):
    # eager "squared" is pi^2, not its documented 0, at some x = 0 with y != 0 (the signed
    # zeros of 0 * conj(y) give angle -pi): the lowered loss keeps the 0, tested below
    every = 3 if kind == "squared" else 5
    inputs = _pair_with_ties(4, 6, target_zeros_every=every)
    check_lowered(P.PhaseLoss(kind, reduction=reduction), *inputs)


def test_phase_loss_squared_is_zero_without_a_phase():
    """Where one argument is 0 the element is 0 with a zero gradient (phasor's docstring)."""
    y = torch.tensor([1 + 1j, -1 + 1j, -1 - 1j, 1 - 1j, 0], dtype=C128)
    x = torch.tensor([0, 0, 0, 0, 1j], dtype=C128)
    lowered = lower(P.PhaseLoss("squared", reduction="none"))
    for a, b in ((x, y), (y, x)):
        a, b = to_pair(a).requires_grad_(), to_pair(b).requires_grad_()
        loss = lowered(a, b)
        torch.testing.assert_close(loss, torch.zeros(5, dtype=torch.float64))
        grads = torch.autograd.grad(loss.sum(), (a, b))
        torch.testing.assert_close(grads, (torch.zeros(5, 2, dtype=torch.float64),) * 2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("eps", [1e-7, 0.5])
def test_log_magnitude_loss(eps, reduction, check_lowered):
    check_lowered(P.LogMagnitudeLoss(eps=eps, reduction=reduction), *_pair_with_ties(4, 6))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [torch.float64, C128])
@pytest.mark.parametrize(
    ("dim", "shape"), [(-1, (3, 2, 16)), (1, (3, 7, 4)), ((-2, -1), (3, 5, 6))]
)
def test_si_sdr_loss(dim, shape, dtype, reduction, check_lowered):
    x, y = _randn(*shape, dtype=dtype), _randn(*shape, dtype=dtype, seed=1)
    x = x + 0.5 * y
    silent = (0,) * (len(shape) - 1) if dim == -1 else (0,)
    x[silent] = 0  # a silent estimate: counts as 0 after scaling, with a zero gradient
    check_lowered(P.SISDRLoss(dim=dim, reduction=reduction), x, y, tol=1e-9)


def test_si_sdr_loss_identical_signals_eps_zero(check_lowered):
    x = _randn(2, 3, 8)
    check_lowered(P.SISDRLoss(eps=1e-3), x, 2j * x, tol=1e-9)


@pytest.mark.parametrize("mode", ["real", "modulus"])
@pytest.mark.parametrize(("dim", "eps"), [(1, 1e-8), (0, 1e-8), (-1, 0.7)])
def test_cosine_similarity(dim, eps, mode, check_lowered):
    x1, x2 = _randn(4, 5, 3), _randn(4, 5, 3, seed=1)
    x1[(slice(None),) * (dim % 3) + (0,)] = 0  # a zero vector along ``dim``
    x2[(slice(None),) * ((dim + 1) % 3) + (1,)] = 0
    check_lowered(P.ComplexCosineSimilarity(dim=dim, eps=eps, mode=mode), x1, x2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("real_map", ["magnitude", "squared_magnitude", "real"])
@pytest.mark.parametrize(
    ("logits_shape", "target_shape"),
    [((6, 4), (6,)), ((3, 4, 2, 5), (3, 2, 5)), ((4,), ())],
    ids=["batch", "spatial", "unbatched"],
)
def test_cross_entropy(logits_shape, target_shape, real_map, reduction, check_lowered):
    logits = _with_zeros(_randn(*logits_shape))
    target = torch.randint(0, 4, target_shape, generator=torch.Generator().manual_seed(2))
    check_lowered(P.ComplexCrossEntropyLoss(real_map, reduction), logits, target)


@pytest.mark.parametrize("cls", [P.ModSoftmax, P.ModLogSoftmax])
@pytest.mark.parametrize(("dim", "shape"), [(-1, (3, 5)), (0, (3, 5)), (1, (2, 4, 3)), (0, (5,))])
def test_mod_softmax(cls, dim, shape, check_lowered):
    check_lowered(cls(dim=dim), _with_zeros(_randn(*shape)))


def test_complex64_tolerance(check_lowered):
    """The float32 path, on a loss with square roots and a phase."""
    x, y = (t.to(torch.complex64) for t in _pair_with_ties(5, 7, target_zeros_every=3))
    check_lowered(P.PhaseLoss("squared"), x, y, tol=2e-5)


_TWO = (torch.randn(3, 4), torch.randn(3, 4))


_REFUSING = [
    (P.ComplexMSELoss(), _TWO),
    (P.ComplexL1Loss(), _TWO),
    (P.MagnitudeLoss(), _TWO),
    (P.PhaseLoss(), _TWO),
    (P.LogMagnitudeLoss(), _TWO),
    (P.ComplexCosineSimilarity(), _TWO),
    (P.ComplexCrossEntropyLoss(), (torch.randn(3, 4), torch.zeros(3, dtype=torch.long))),
    (P.ModSoftmax(), _TWO[:1]),
    (P.ModLogSoftmax(), _TWO[:1]),
    (P.Magnitude(), _TWO[:1]),
]


@pytest.mark.parametrize(
    ("module", "real_args"), [pytest.param(*c, id=type(c[0]).__name__) for c in _REFUSING]
)
def test_real_input_is_refused_as_in_phasor(module, real_args):
    with pytest.raises(TypeError):
        module(*real_args)
    with pytest.raises(TypeError, match="real input"):
        lower(module, real_input=True)


@pytest.mark.parametrize(
    ("module", "inputs"),
    [
        (P.PhaseLoss("squared", reduction="none"), _pair_with_ties(3, 4, target_zeros_every=3)),
        (P.SISDRLoss(dim=(-2, -1)), (_randn(2, 3, 5), _randn(2, 3, 5, seed=1))),
        (P.SISDRLoss(), (_randn(2, 9, dtype=torch.float64), _randn(2, 9, dtype=torch.float64))),
        (P.ComplexCosineSimilarity(mode="modulus"), (_randn(2, 4, 3), _randn(2, 4, 3, seed=1))),
        (P.ComplexCrossEntropyLoss(), (_randn(4, 5), torch.tensor([0, 4, 2, 2]))),
        (P.ModLogSoftmax(), (_randn(3, 5),)),
    ],
    ids=["phase", "sisdr-spectrogram", "sisdr-real", "cosine", "cross-entropy", "log-softmax"],
)
def test_onnx_export_equals_eager(module, inputs, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from phasor.export import to_onnx

    inputs = tuple(x.to(torch.complex64) if x.is_complex() else x for x in inputs)
    inputs = tuple(x.float() if x.is_floating_point() else x for x in inputs)
    path = tmp_path / "loss.onnx"
    to_onnx(module, inputs, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {f"input_{i}": to_pair(x).numpy() for i, x in enumerate(inputs)}
    (got,) = session.run(None, feed)
    torch.testing.assert_close(torch.from_numpy(got), module(*inputs), atol=2e-5, rtol=1e-4)
