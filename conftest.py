"""Test-session set-up shared by tests/ and the doctests in skcoinmix/."""

import os

# scikit-learn's common check `check_array_api_input` needs SciPy's array API
# mode, which must be switched on before SciPy is first imported; without it
# the check is skipped.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest
from hypothesis import settings

# Property tests (tests/test_properties.py): the default profile "ci" draws the
# same examples on every run (derandomize) and stores nothing; "thorough"
# (SKCOINMIX_HYPOTHESIS_PROFILE=thorough) draws 20 times as many, at random.
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, max_examples=40
)
settings.register_profile("thorough", deadline=None, max_examples=800)
settings.load_profile(os.environ.get("SKCOINMIX_HYPOTHESIS_PROFILE", "ci"))

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


def _run_cli(runs, cwd, timeout=300):
    """Run ``python -m skcoinmix`` with each argument list of ``runs``, all at once.

    From ``cwd``, with this repository first on PYTHONPATH, so that the
    subprocesses import this very package and find its data files there.
    Importing scikit-learn costs seconds per process, hence in parallel.

    Parameters
    ----------
    runs : dict of str to sequence of str
    cwd : path-like
    timeout : float

    Returns
    -------
    results : dict of str to subprocess.CompletedProcess
    """
    import subprocess
    import sys
    from pathlib import Path

    repo_root = str(Path(__file__).resolve().parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [repo_root, *filter(None, [env.get("PYTHONPATH")])]
    )
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-m", "skcoinmix", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=env,
        )
        for name, args in runs.items()
    }
    results = {}
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=timeout)
        results[name] = subprocess.CompletedProcess(
            process.args, process.returncode, stdout, stderr
        )
    return results


@pytest.fixture(scope="session")
def run_cli():
    """``run_cli(runs, cwd)``: ``python -m skcoinmix`` runs in parallel subprocesses."""
    return _run_cli


def _parametrizes(item, name):
    """Whether ``item`` is parametrized directly on ``name`` (overriding a fixture)."""
    for mark in item.iter_markers("parametrize"):
        argnames = mark.args[0]
        if isinstance(argnames, str):
            argnames = [part.strip() for part in argnames.split(",")]
        if name in argnames:
            return True
    return False


def pytest_collection_modifyitems(config, items):
    """Mark ``seeded`` the tests run once per seed of SKCOINMIX_TEST_SEEDS.

    Those are the tests that use the ``seed`` fixture, directly or through
    ``rng``; a test that parametrizes its own ``seed`` does not vary with the
    variable. ``.ci/run`` reruns ``-m seeded`` under further seeds.
    """
    for item in items:
        if "seed" in getattr(item, "fixturenames", ()) and not _parametrizes(
            item, "seed"
        ):
            item.add_marker(pytest.mark.seeded)
