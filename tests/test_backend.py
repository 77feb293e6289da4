"""The backend switch, the measured ``"auto"`` backend and the fixed ``"by-shape"`` rule."""

from __future__ import annotations

import time

import pytest
import torch
import torch.nn.functional as F

import phasor
import phasor.nn as cnn
from phasor import _autotune
from phasor.backend import BACKENDS, KERNELS, get_backend, resolve, set_backend, use_backend
from phasor.functional import conv2d, conv_transpose1d, linear


@pytest.fixture(autouse=True)
def _fresh_cache():
    _autotune.clear_cache()
    yield
    _autotune.clear_cache()


def _c(*shape, seed=0, requires_grad=False):
    g = torch.Generator().manual_seed(seed)
    t = torch.randn(*shape, dtype=torch.complex128, generator=g)
    return t.requires_grad_(requires_grad)


def test_names():
    assert set(KERNELS) == {"native", "real", "gauss"}
    assert set(BACKENDS) == {*KERNELS, "auto", "by-shape"}
    assert resolve("auto") == "auto"
    with pytest.raises(ValueError, match="unknown backend 'fast'"):
        resolve("fast")


def test_default_is_the_deterministic_reference():
    assert get_backend() == "native"


def test_auto_under_vmap_runs_the_reference():
    import phasor.functional as CF

    w = _c(3, 4, seed=1)
    xs = _c(5, 4, seed=2)
    with use_backend("auto"):
        batched = torch.func.vmap(lambda x: CF.linear(x, w))(xs)
    torch.testing.assert_close(batched, CF.linear(xs, w, backend="native"))
    assert _autotune.cache() == {}  # nothing was timed inside the transform


def test_set_and_use_backend_restore():
    before = get_backend()
    with use_backend("auto"):
        assert get_backend() == "auto"
    assert get_backend() == before
    set_backend("auto")
    try:
        assert phasor.get_backend() == "auto"
    finally:
        set_backend(before)


def _burn(seconds):
    """Spend ``seconds`` of CPU time (the autotuner's clock on the CPU)."""
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass


def test_choose_picks_the_fastest_candidate():
    x, w = _c(3, 4), _c(2, 4)

    def run(name, x, w):
        if name != "quick":
            _burn(0.01)
        return F.linear(x, w)

    assert _autotune.choose(F.linear, x, w, run, ("slow1", "quick", "slow2")) == "quick"
    _autotune.clear_cache()
    assert _autotune.choose(F.linear, x, w, run, ("quick", "slow1")) == "quick"


def test_near_ties_stay_on_the_reference():
    x, w = _c(3, 4), _c(2, 4)
    delays = {"reference": 0.02, "close": 0.02 * (_autotune.MARGIN + 1) / 2}

    def run(name, x, w):
        _burn(delays[name])
        return F.linear(x, w)

    assert _autotune.choose(F.linear, x, w, run, ("reference", "close")) == "reference"
    delays["close"] = 0.02 * _autotune.MARGIN / 2
    _autotune.clear_cache()
    assert _autotune.choose(F.linear, x, w, run, ("reference", "close")) == "close"


def test_choice_is_cached_per_signature(monkeypatch):
    calls = []

    def fake_measure(run, candidates, input, weight, grad):
        calls.append((tuple(input.shape), grad))
        return "gauss"

    monkeypatch.setattr(_autotune, "_measure", fake_measure)
    w = _c(2, 4, requires_grad=True)
    linear(_c(3, 4), w, backend="auto")
    linear(_c(3, 4, seed=1), w, backend="auto")  # same signature: no new measurement
    assert calls == [((3, 4), True)]
    linear(_c(5, 4), w, backend="auto")  # new shape
    with torch.no_grad():
        linear(_c(3, 4), w, backend="auto")  # no gradients recorded: another signature
    assert calls == [((3, 4), True), ((5, 4), True), ((3, 4), False)]
    assert set(_autotune.cache().values()) == {"gauss"}


def test_options_are_part_of_the_signature():
    x, w = _c(1, 2, 6, 6), _c(3, 2, 3, 3)
    conv2d(x, w, stride=1, backend="auto")
    conv2d(x, w, stride=2, backend="auto")
    assert len(_autotune.cache()) == 2
    assert set(_autotune.cache().values()) <= set(KERNELS)


def test_auto_leaves_global_random_state_alone():
    state = torch.get_rng_state()
    linear(_c(4, 3), _c(2, 3, requires_grad=True), backend="auto")
    assert torch.equal(torch.get_rng_state(), state)


def test_auto_does_not_touch_gradients_of_the_call():
    x, w = _c(4, 3, requires_grad=True), _c(2, 3, requires_grad=True)
    out = linear(x, w, backend="auto")
    assert x.grad is None and w.grad is None
    out.abs().sum().backward()
    ref_x, ref_w = x.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()
    linear(ref_x, ref_w, backend="native").abs().sum().backward()
    torch.testing.assert_close(x.grad, ref_x.grad)
    torch.testing.assert_close(w.grad, ref_w.grad)


@pytest.mark.parametrize("kernel", KERNELS)
def test_auto_matches_each_kernel(kernel, monkeypatch):
    # Force each possible choice and compare with the plain complex reference.
    monkeypatch.setattr(_autotune, "_measure", lambda *args: kernel)
    x, w, b = _c(2, 3, 7, seed=1), _c(3, 4, 2, seed=2), _c(4, seed=3)
    got = conv_transpose1d(x, w, b, stride=2, backend="auto")
    ref = torch.complex(
        F.conv_transpose1d(x.real, w.real, stride=2) - F.conv_transpose1d(x.imag, w.imag, stride=2),
        F.conv_transpose1d(x.real, w.imag, stride=2) + F.conv_transpose1d(x.imag, w.real, stride=2),
    ) + b.reshape(-1, 1)
    torch.testing.assert_close(got, ref)
    assert set(_autotune.cache().values()) == {kernel}


def test_auto_gradcheck():
    x, w, b = _c(2, 3, requires_grad=True), _c(4, 3, requires_grad=True), _c(4, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: linear(x, w, b, backend="auto"), (x, w, b))


@pytest.mark.parametrize("backend", KERNELS)
def test_conjugate_views_are_resolved(backend):
    # x.conj() is a lazy view; the real-pair kernels must see its values, not its storage.
    x, w = _c(3, 1, 5, seed=4), _c(2, 1, 3, seed=5)
    got = phasor.functional.conv1d(x.conj(), w.conj(), backend=backend)
    want = phasor.functional.conv1d(x.conj().resolve_conj(), w.conj().resolve_conj())
    torch.testing.assert_close(got, want)
    v, m = x[:, 0], _c(2, 5, seed=6)
    got = linear(v.conj(), m.conj(), backend=backend)
    torch.testing.assert_close(got, linear(v.conj().resolve_conj(), m.conj().resolve_conj()))


BY_SHAPE = [  # (layer, input shape, the kernel the rule picks)
    (lambda: cnn.Linear(256, 512), (4, 256), "gauss"),
    (lambda: cnn.Linear(64, 512), (4, 64), "native"),
    (lambda: cnn.Conv2d(16, 32, 3), (2, 16, 8, 8), "real"),
    (lambda: cnn.Conv2d(64, 64, 3), (2, 64, 6, 6), "gauss"),
    (lambda: cnn.Conv2d(16, 32, 3, groups=2), (2, 16, 8, 8), "native"),
    (lambda: cnn.ConvTranspose2d(16, 8, 3), (2, 16, 5, 5), "real"),
]


@pytest.mark.parametrize(("factory", "shape", "kernel"), BY_SHAPE)
def test_by_shape_runs_the_kernel_of_its_rule_bit_for_bit(factory, shape, kernel):
    torch.manual_seed(0)
    layer = factory()
    x = torch.randn(shape, dtype=torch.complex64)
    with use_backend("by-shape"):
        got = layer(x)
    with use_backend(kernel):
        want = layer(x)
    assert torch.equal(got, want)  # the very same kernel, not only close
    others = [k for k in KERNELS if k != kernel]
    for other in others:  # and the kernels differ in their rounding, so the test can fail
        with use_backend(other):
            if not torch.equal(layer(x), want):
                break
    else:
        pytest.fail("every kernel gave identical bits: the comparison proves nothing")
