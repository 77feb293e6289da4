"""The divergence check shared by the studies' own training loops."""

import math

import pytest

from phasor.train import TrainingError
from phasor.train.checks import DIVERGENCE_FACTOR, check_divergence


def test_finite_values_up_to_the_factor_pass():
    check_divergence(3.0, None, "net", "step 1", "lower --lr")
    check_divergence(DIVERGENCE_FACTOR * 2.0, 2.0, "net", "step 9", "lower --lr")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_values_stop_even_at_the_first_step(value):
    with pytest.raises(TrainingError) as info:
        check_divergence(value, None, "complex model", "epoch 1", "lower --lr (now 5)")
    assert str(info.value) == (
        f"complex model: training diverged at epoch 1: the loss is {value}; lower --lr (now 5)"
    )


def test_growth_past_the_factor_stops_naming_the_quantity():
    with pytest.raises(TrainingError) as info:
        check_divergence(1.5e3, 10.0, "net", "step 4", "lower --lr", quantity="the train MSE")
    assert str(info.value) == (
        "net: training diverged at step 4: the train MSE 1.5e+03 is over 100x its start (10); "
        "lower --lr"
    )
