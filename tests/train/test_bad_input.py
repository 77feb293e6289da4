"""Bad data and diverging runs stop training with a clear TrainingError, never a NaN model."""

from __future__ import annotations

import math

import pytest
import torch
from _train_helpers import ComplexMLP, magnitude_ce, toy_data
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.data import TensorDataset

import phasor.nn as pnn
from phasor.train import TrainConfig, Trainer, TrainingError, load_checkpoint
from phasor.train.checks import check_inputs, check_targets


def fit(train, eval_set=None, model=None, loss=magnitude_ce, out_dir=None, **cfg):
    config = TrainConfig(**{"epochs": 1, "batch_size": 8, "progress": False, **cfg})
    return Trainer(model or ComplexMLP(), loss, train, eval_set, config, out_dir).fit()


def with_value(data: TensorDataset, row: int, value, where="x") -> TensorDataset:
    x, y = (t.clone() for t in data.tensors)
    if where == "x":
        x[row, 2] = value
    else:
        y[row] = value
    return TensorDataset(x, y)


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), complex(0, float("-inf")), complex(float("nan"), 0)]
)
def test_non_finite_inputs_name_the_sample(value):
    with pytest.raises(TrainingError, match=r"train_set .*non-finite.*sample\(s\) 13\b"):
        fit(with_value(toy_data(), 13, value))


def test_non_finite_eval_inputs():
    with pytest.raises(TrainingError, match=r"eval_set \(batch 1\).*sample\(s\) 3\b"):
        fit(toy_data(), with_value(toy_data(10), 3, float("nan")))


def test_non_finite_after_train_transform():
    with pytest.raises(TrainingError, match="after train_transform"):
        Trainer(
            ComplexMLP(),
            magnitude_ce,
            toy_data(),
            config=TrainConfig(epochs=1, progress=False),
            train_transform=lambda x: x / 0,
        ).fit()


@pytest.mark.parametrize("label", [3, 7, -1])
def test_labels_out_of_range(label):
    with pytest.raises(
        TrainingError, match=rf"3 outputs .*label\(s\) \[{label}\] in sample\(s\) 5\b"
    ):
        fit(with_value(toy_data(), 5, label, where="y"))


def test_empty_data_sets():
    empty = TensorDataset(
        torch.zeros(0, 6, dtype=torch.complex64), torch.zeros(0, dtype=torch.long)
    )
    with pytest.raises(TrainingError, match="train_set is empty"):
        fit(empty)
    with pytest.raises(TrainingError, match="eval_set is empty"):
        fit(toy_data(), empty)
    with pytest.raises(TrainingError, match="map-style"):
        fit(iter([1, 2]))


def test_wrong_dtypes():
    x, y = toy_data().tensors
    images = (x.real.abs() * 50).to(torch.uint8)
    with pytest.raises(TrainingError, match=r"dtype torch\.uint8.*x\.float\(\) / 255"):
        fit(TensorDataset(images, y))
    with pytest.raises(TrainingError, match=r"torch\.bool; use y\.long\(\)"):
        fit(TensorDataset(x, y > 0))
    with pytest.raises(TrainingError, match="accuracy needs integer class labels"):
        fit(TensorDataset(x, y.float()))
    # integer labels of any width are fine (cast to int64 for the loss)
    assert fit(TensorDataset(x, y.to(torch.int32)))[0]["train_loss"] > 0


class Trimmed(ComplexMLP):
    def forward(self, x):
        return super().forward(x)[1:]


class FirstScore(ComplexMLP):
    def forward(self, x):
        return super().forward(x)[:, 0]


def test_bad_loss_and_shapes():
    with pytest.raises(TrainingError, match="complex tensor"):
        fit(toy_data(), loss=lambda out, y: out.mean())
    with pytest.raises(TrainingError, match="must return a scalar"):
        fit(toy_data(), loss=lambda out, y: out.abs().sum(1))
    with pytest.raises(TrainingError, match="first \\(batch\\) dimensions must agree"):
        fit(toy_data(), model=Trimmed())
    with pytest.raises(TrainingError, match=r"loss_fn failed on outputs of shape \(8, 3\)"):
        fit(toy_data(), loss=lambda out, y: (out.abs() * torch.ones(5)).mean())
    with pytest.raises(TrainingError, match=r"accuracy needs class scores of shape \(N, C"):
        fit(toy_data(), model=FirstScore())
    with pytest.raises(TrainingError, match=r"items must be \(input, target\) pairs"):
        fit(TensorDataset(toy_data().tensors[0]))


def test_model_errors_name_the_batch():
    x, y = toy_data().tensors
    with pytest.raises(TrainingError, match=r"train_set \(epoch 1, batch 1\): the model rejected"):
        fit(TensorDataset(x[:, :4], y))  # 4 features for a 6-feature model


def test_non_finite_regression_targets():
    x, _ = toy_data().tensors
    target = torch.zeros(60, 3)
    target[9, 1] = float("nan")
    mse = lambda out, t: (out.abs() - t).pow(2).mean()  # noqa: E731
    with pytest.raises(TrainingError, match=r"targets contain 1 non-finite.*sample\(s\) 9\b"):
        Trainer(
            ComplexMLP(),
            mse,
            TensorDataset(x, target),
            config=TrainConfig(epochs=1, progress=False, shuffle=False),
            metrics=(),
        ).fit()


def test_diverging_run_stops_and_keeps_last_good_checkpoint(tmp_path):
    torch.manual_seed(0)
    model = ComplexMLP()
    with pytest.raises(TrainingError) as err:
        fit(toy_data(), model=model, out_dir=tmp_path, epochs=50, lr=1e8, checkpoint_every=1)
    path = tmp_path / "checkpoints" / "latest.pt"
    msg = str(err.value)
    assert "training diverged" in msg and f"the last good checkpoint {path} is kept" in msg
    saved = load_checkpoint(path, model)
    assert saved["position"]["global_step"] >= 1
    for name, value in saved["model"].items():
        assert torch.isfinite(torch.view_as_real(value) if value.is_complex() else value).all(), (
            name
        )


def test_max_loss_and_non_finite_gradient():
    with pytest.raises(TrainingError, match=r"exceeds max_loss=0\.001"):
        fit(toy_data(), max_loss=1e-3)

    def nan_grad_loss(out, y):
        # forward value 0, but d/dz sqrt(z) at 0 is inf and inf * 0 = nan in backward
        return magnitude_ce(out, y) + 0 * (out.real * 0).sqrt().sum()

    with pytest.raises(TrainingError, match="the gradient norm is nan"):
        fit(toy_data(), loss=nan_grad_loss)


# ---------------------------------------------------------------- fuzz
DTYPES = [
    torch.float16,
    torch.bfloat16,
    torch.float32,
    torch.float64,
    torch.complex64,
    torch.complex128,
    torch.uint8,
    torch.int8,
    torch.int32,
    torch.int64,
    torch.bool,
]


@given(
    dtype=st.sampled_from(DTYPES),
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    bad=st.one_of(st.none(), st.sampled_from([math.nan, math.inf, -math.inf])),
    data=st.data(),
)
def test_fuzz_input_checks(dtype, shape, bad, data):
    x = torch.ones(shape, dtype=dtype)
    floating = dtype.is_floating_point or dtype.is_complex
    row = None
    if bad is not None and floating:
        flat = data.draw(st.integers(0, x.numel() - 1))
        x.view(-1)[flat] = bad
        row = flat // (x.numel() // shape[0])
    indices = torch.arange(100, 100 + shape[0])
    if not floating:
        with pytest.raises(TrainingError, match=f"dtype {dtype}"):
            check_inputs(x, "fuzz", indices)
    elif row is not None:
        with pytest.raises(TrainingError, match=rf"sample\(s\) {100 + row}\b"):
            check_inputs(x, "fuzz", indices)
    else:
        check_inputs(x, "fuzz", indices)


@given(
    dtype=st.sampled_from(DTYPES),
    classes=st.integers(1, 5),
    labels=st.lists(st.integers(-3, 8), min_size=1, max_size=6),
)
def test_fuzz_target_checks(dtype, classes, labels):
    outputs = torch.zeros(len(labels), classes)
    if dtype == torch.uint8:
        labels = [abs(v) for v in labels]
    y = torch.tensor(labels).to(dtype)
    integer = not (dtype.is_floating_point or dtype.is_complex) and dtype != torch.bool
    if dtype == torch.bool:
        with pytest.raises(TrainingError, match=r"torch\.bool"):
            check_targets(y, outputs, "fuzz", needs_labels=True)
    elif not integer:
        with pytest.raises(TrainingError, match="integer class labels"):
            check_targets(y, outputs, "fuzz", needs_labels=True)
        check_targets(y, outputs, "fuzz", needs_labels=False)  # regression targets are fine
    elif any(not 0 <= v < classes for v in y.tolist()):
        with pytest.raises(TrainingError, match="labels out of range"):
            check_targets(y, outputs, "fuzz", needs_labels=True)
    else:
        check_targets(y, outputs, "fuzz", needs_labels=True)


class FlatComplexLinear(torch.nn.Module):
    def __init__(self, features: int, classes: int, dtype: torch.dtype):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(classes, features, dtype=dtype) * 0.1)

    def forward(self, x):
        return x.flatten(1).to(self.w.dtype) @ self.w.T


@given(
    n=st.integers(1, 12),
    feature_shape=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    classes=st.integers(2, 4),
    x_dtype=st.sampled_from(DTYPES[:6]),
    w_dtype=st.sampled_from([torch.complex64, torch.complex128]),
    batch=st.integers(1, 5),
    poison=st.booleans(),
)
def test_fuzz_training_on_random_shapes_and_dtypes(
    n, feature_shape, classes, x_dtype, w_dtype, batch, poison
):
    """Either training finishes with finite numbers or it raises TrainingError: no other
    exception and no NaN result, whatever the shapes and dtypes."""
    g = torch.Generator().manual_seed(n)
    x = torch.randn(n, *feature_shape, generator=g).to(x_dtype)
    y = torch.randint(0, classes, (n,), generator=g)
    if poison:
        x.view(n, -1)[n // 2, 0] = math.nan
    features = math.prod(feature_shape)
    model = FlatComplexLinear(features, classes, w_dtype)
    cfg = TrainConfig(epochs=2, batch_size=batch, lr=0.05, progress=False)
    trainer = Trainer(model, magnitude_ce, TensorDataset(x, y), TensorDataset(x, y), cfg)
    if poison:
        with pytest.raises(TrainingError, match=rf"sample\(s\) {n // 2}\b"):
            trainer.fit()
        return
    history = trainer.fit()
    assert all(math.isfinite(h[k]) for h in history for k in ("train_loss", "eval_loss"))
    assert torch.isfinite(torch.view_as_real(model.w.detach())).all()


@given(
    n=st.integers(1, 6),
    channels=st.integers(1, 3),
    size=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    kernel=st.integers(1, 3),
    x_dtype=st.sampled_from([torch.float32, torch.float64, torch.complex64, torch.complex128]),
    w_dtype=st.sampled_from([torch.complex64, torch.complex128]),
)
def test_fuzz_phasor_layers_through_the_trainer(n, channels, size, kernel, x_dtype, w_dtype):
    """phasor.nn.Conv2d → CReLU → Linear on random shapes and dtypes: the run finishes with
    finite numbers, or the layer's complaint (dtype mismatch, kernel larger than the image)
    comes back as a TrainingError naming the batch. Real input of the weights' real dtype is
    taken as it is."""
    out_h, out_w = size[0] - kernel + 1, size[1] - kernel + 1
    model = torch.nn.Sequential(
        pnn.Conv2d(channels, 2, kernel, dtype=w_dtype),
        pnn.CReLU(),
        torch.nn.Flatten(),
        pnn.Linear(2 * max(out_h, 1) * max(out_w, 1), 3, dtype=w_dtype),
    )
    g = torch.Generator().manual_seed(n)
    x = torch.randn(n, channels, *size, generator=g).to(x_dtype)
    data = TensorDataset(x, torch.randint(0, 3, (n,), generator=g))
    cfg = TrainConfig(epochs=1, batch_size=4, lr=0.01, progress=False)
    trainer = Trainer(model, pnn.ComplexCrossEntropyLoss(), data, config=cfg)
    accepted = (w_dtype, w_dtype.to_real())
    fits = x_dtype in accepted and out_h >= 1 and out_w >= 1
    if not fits:
        with pytest.raises(TrainingError, match=r"batch 1\): the model rejected"):
            trainer.fit()
        return
    history = trainer.fit()
    assert math.isfinite(history[0]["train_loss"])
    assert all(torch.isfinite(torch.view_as_real(p.detach())).all() for p in model.parameters())
