"""Test-session set-up shared by tests/ and the doctests in skcoinmix/."""

import os

# scikit-learn's common check `check_array_api_input` needs SciPy's array API
# mode, which must be switched on before SciPy is first imported; without it
# the check is skipped.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest

# SKCOINMIX_TEST_SEEDS="0-9" (or "3" or "all") runs the seeded tests under
# several seeds, as scikit-learn's global_random_seed does.
_SEEDS = os.environ.get("SKCOINMIX_TEST_SEEDS", "0")
if _SEEDS == "all":
    _SEEDS = "0-99"
if "-" in _SEEDS:
    _low, _high = (int(part) for part in _SEEDS.split("-"))
    SEEDS = list(range(_low, _high + 1))
else:
    SEEDS = [int(part) for part in _SEEDS.split(",")]


@pytest.fixture(params=SEEDS)
def seed(request):
    """A random seed; several with SKCOINMIX_TEST_SEEDS."""
    return request.param


@pytest.fixture
def rng(seed):
    """A numpy random generator seeded by ``seed``."""
    return np.random.default_rng(seed)
