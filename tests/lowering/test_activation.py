"""The lowered activations (phasor.lowering.activation) against eager phasor, on what the
shared examples do not reach: exactly 0 and the axes, large and tiny moduli, NaN and Inf,
options off their defaults, per-channel and shared parameters on other shapes, ONNX export."""

import math

import pytest
import torch
from torch import nn

import phasor.nn as P
from phasor.lowering import from_pair, lower, to_pair

F64 = torch.float64
NAN, INF = float("nan"), float("inf")


def _layers(channels: int) -> dict[str, nn.Module]:
    """Every activation, options off the examples' values, parameters for ``channels``."""
    return {
        "AmpPhaseTanh": P.AmpPhaseTanh(),
        "AmpPhaseTanh-scaled": P.AmpPhaseTanh(saturation=3.0, scale=0.25),
        "CPReLU": P.CPReLU(channels, init=-0.4, dtype=F64),
        "CReLU": P.CReLU(),
        "CSign": P.CSign(),
        "Cardioid": P.Cardioid(),
        "ModReLU": P.ModReLU(channels, bias_init=-0.3, dtype=F64),
        "ModReLU-positive": P.ModReLU(channels, bias_init=0.2, dtype=F64),
        "ModSoftplus": P.ModSoftplus(),
        "ModSoftplus-sharp": P.ModSoftplus(beta=4.0),
        "Modulus": P.Modulus(),
        "ModulusSquared": P.ModulusSquared(),
        "PolarLog": P.PolarLog(),
        "PolarSquash": P.PolarSquash(),
        "RotatedCReLU": P.RotatedCReLU(channels, phase_init=-1.1, dtype=F64),
        "RotatedCReLU-zero": P.RotatedCReLU(channels, dtype=F64),
        "ShiftedCardioid": P.ShiftedCardioid(channels, phase_init=2.5, dtype=F64),
        "SigLog": P.SigLog(),
        "SigLog-scaled": P.SigLog(c=3.0, r=0.5),
        "SplitCELU": P.SplitCELU(-1.5),
        "SplitELU": P.SplitELU(),
        "SplitGELU": P.SplitGELU(),
        "SplitGELU-tanh": P.SplitGELU("tanh"),
        "SplitHardsigmoid": P.SplitHardsigmoid(),
        "SplitHardswish": P.SplitHardswish(),
        "SplitHardtanh": P.SplitHardtanh(),
        "SplitLeakyReLU": P.SplitLeakyReLU(),
        "SplitMish": P.SplitMish(),
        "SplitSELU": P.SplitSELU(),
        "SplitSiLU": P.SplitSiLU(),
        "SplitSigmoid": P.SplitSigmoid(),
        "SplitSoftplus": P.SplitSoftplus(beta=0.5, threshold=1.0),
        "SplitSoftsign": P.SplitSoftsign(),
        "SplitTanh": P.SplitTanh(),
        "ZLeakyReLU": P.ZLeakyReLU(channels, init=-0.7, dtype=F64),
        "ZReLU": P.ZReLU(),
    }


NAMES = list(_layers(1))

# Exactly 0 (both signs), the axes (the kinks of the split and quadrant activations), the
# clipping points of hardtanh, hardsigmoid, hardswish and the softplus threshold, moderate
# values; (N, C) = (4, 3).
SPECIAL = torch.tensor(
    [
        [0, complex(-0.0, 0.0), complex(0.0, -0.0)],
        [2.0, -1.5j, complex(-0.0, 3.0)],
        [3 + 1j, complex(-3, -1), complex(1, -1)],
        [0.3 - 2j, -0.7 + 0.2j, 2 + 5j],
    ],
    dtype=torch.complex128,
)


def _pair_run(module, x):
    """Output, input gradient and parameter gradients (by name) of a fixed linear loss."""
    x = x.clone().requires_grad_()
    out = module(x)
    weights = torch.linspace(-1.3, 2.1, out.numel(), dtype=out.dtype).view_as(out)
    params = dict(module.named_parameters())
    grads = torch.autograd.grad((out * weights).sum(), [x, *params.values()])
    return out, grads[0], dict(zip(params, grads[1:], strict=True))


def _compare(name, layer, z, **tol):
    """Lowered ``layer`` on the pair of ``z`` against eager phasor on ``z``."""
    lowered = lower(layer)
    got, got_grad, got_params = _pair_run(lowered, to_pair(z))
    # The same loss in phasor's layout: the weights act on the pair of its output.
    z = z.clone().requires_grad_()
    out = layer(z)
    pair_out = to_pair(out)
    weights = torch.linspace(-1.3, 2.1, pair_out.numel(), dtype=pair_out.dtype)
    params = dict(layer.named_parameters())
    loss = (pair_out * weights.view_as(pair_out)).sum()
    want_grads = torch.autograd.grad(loss, [z, *params.values()])
    torch.testing.assert_close(got, pair_out, **tol, msg=f"{name}: output")
    torch.testing.assert_close(got_grad, to_pair(want_grads[0]), **tol, msg=f"{name}: grad")
    for (pname, want), got_param in zip(
        zip(params, want_grads[1:], strict=True), got_params.values(), strict=True
    ):
        torch.testing.assert_close(got_param, want, **tol, msg=f"{name}: {pname} grad")


@pytest.mark.parametrize("name", NAMES)
def test_value_and_gradient_at_zero_and_on_the_axes(name):
    _compare(name, _layers(3)[name], SPECIAL, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("scale", [1e3, 1e40, 1e150])
@pytest.mark.parametrize("name", NAMES)
def test_value_and_gradient_at_large_modulus(name, scale):
    g = torch.Generator().manual_seed(3)
    z = scale * torch.randn(4, 3, dtype=torch.complex128, generator=g)
    _compare(name, _layers(3)[name], z, rtol=1e-11, atol=0.0)


def test_gradients_at_zero_are_phasor_s_documented_ones():
    """The stated derivatives at z = 0 themselves (not only equality with eager)."""
    zero = torch.zeros(1, 2, 1, dtype=F64)
    expected = {
        P.AmpPhaseTanh(saturation=3.0, scale=0.25): 12.0,
        P.CSign(): 0.0,
        P.ModSoftplus(beta=2.0): 0.0,
        P.PolarLog(): 1.0,
        P.PolarSquash(): 0.0,
        P.SigLog(c=4.0): 0.25,
        P.ShiftedCardioid(1, phase_init=1.0, dtype=F64): 0.5 * (1 + math.cos(1.0)),
        P.ZLeakyReLU(1, init=0.3, dtype=F64): 1.0,
    }
    for layer, slope in expected.items():
        for part in (0, 1):
            x = zero.clone().requires_grad_()
            out = lower(layer)(x)
            (grad,) = torch.autograd.grad(out[0, part, 0], x)
            want = torch.zeros_like(zero)
            want[0, part, 0] = slope
            torch.testing.assert_close(grad, want, msg=type(layer).__name__)
            torch.testing.assert_close(out, torch.zeros_like(out))


@pytest.mark.parametrize("name", NAMES)
def test_nan_and_inf_propagate_like_eager(name):
    z = torch.tensor(
        [
            [complex(NAN, 1), complex(1, NAN), complex(NAN, NAN)],
            [complex(INF, 1), complex(-INF, -2), complex(1, INF)],
            [complex(INF, INF), complex(-INF, INF), 1 - 1j],
        ],
        dtype=torch.complex128,
    )
    if name == "Cardioid":
        z[1, 2] = 1 - 1j  # phasor's 0.5 * (1 + 0) * (1 + inf i) has NaN * 0 = NaN in Re
    layer = _layers(3)[name]
    want = to_pair(layer(z))
    got = lower(layer)(to_pair(z))
    torch.testing.assert_close(got, want, equal_nan=True, rtol=1e-12, atol=0.0)
    assert torch.isnan(got[:1]).any()


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("CPReLU", (2, 3, 4, 5)),
        ("ZLeakyReLU", (2, 3, 4, 5)),
        ("ShiftedCardioid", (2, 3, 5)),
        ("RotatedCReLU", (2, 3, 4, 5)),
        ("ModReLU", (2, 3, 1)),
    ],
)
def test_per_channel_parameters_on_other_shapes(name, shape):
    layer = _layers(shape[1])[name]
    with torch.no_grad():  # different values per channel
        for p in layer.parameters():
            p.copy_(torch.tensor([-0.4, 0.3, 1.7], dtype=F64))
    z = torch.randn(*shape, dtype=torch.complex128, generator=torch.Generator().manual_seed(5))
    _compare(name, layer, z, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["CPReLU", "ZLeakyReLU", "ShiftedCardioid", "RotatedCReLU"])
@pytest.mark.parametrize("shape", [(6,), (2, 3, 4)])
def test_shared_parameter_on_any_shape(name, shape):
    z = torch.randn(*shape, dtype=torch.complex128, generator=torch.Generator().manual_seed(6))
    _compare(name, _layers(1)[name], z, rtol=1e-12, atol=1e-14)


def test_parameters_keep_their_names_and_train():
    model = nn.Sequential(P.CPReLU(3, dtype=F64), P.ShiftedCardioid(3, dtype=F64))
    lowered = lower(model)
    assert [n for n, _ in lowered.named_parameters()] == ["0.weight", "1.phase"]
    _, _, grads = _pair_run(lowered, to_pair(SPECIAL))
    assert all(g.abs().sum() > 0 for g in grads.values())


def test_real_outputs_feed_real_torch_layers():
    torch.manual_seed(0)
    head = nn.Linear(3, 2, dtype=F64)
    for readout in (P.ModulusSquared(), P.Modulus()):
        model = nn.Sequential(P.SplitGELU(), readout, head)
        torch.testing.assert_close(lower(model)(to_pair(SPECIAL)), model(SPECIAL))


@pytest.mark.parametrize("name", NAMES)
def test_real_input_is_refused(name):
    with pytest.raises(TypeError):
        _layers(1)[name](torch.ones(2, 3))
    with pytest.raises(TypeError, match=f"{name.split('-')[0]}.*real input"):
        lower(nn.Sequential(_layers(1)[name]), real_input=True)


def test_no_complex_tensor_for_any_option(complex_ops):
    lowered = [lower(layer) for layer in _layers(3).values()]
    x = to_pair(SPECIAL)
    with complex_ops() as mode:
        for module in lowered:
            _pair_run(module, x)
    assert mode.seen == []


def test_onnx_export_equals_lowered(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from phasor.export import to_onnx

    z = torch.randn(4, 3, dtype=torch.complex64, generator=torch.Generator().manual_seed(7))
    z[0, 0] = 0
    for name, layer in _layers(3).items():
        layer = layer.float()
        path = tmp_path / f"{name}.onnx"
        lowered = to_onnx(layer, z, path)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = session.run(["output"], {"input": to_pair(z).numpy()})[0]
        want = lowered(to_pair(z)).detach()
        torch.testing.assert_close(torch.from_numpy(got), want, rtol=1e-5, atol=1e-6, msg=name)
        if want.dim() == 3:
            torch.testing.assert_close(from_pair(want), layer(z), rtol=1e-5, atol=1e-6)
