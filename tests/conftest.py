"""Test-wide settings: deterministic seeds, one thread per worker, a Hypothesis profile for CI."""

import os

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile(
    "phasor", deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "phasor"))

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
