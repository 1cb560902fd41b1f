"""Restarts in lockstep: the E-steps of all starts stacked into one kernel call.

On small dense data the engine runs its ``n_init`` starts as coroutines and
evaluates their pending parameters together each round
(:func:`skcoinmix._accelerate.drive_together`,
:func:`skcoinmix._backends.dense.e_step_stacked`). That is a matter of speed
only: each model's products are made on their own, so every start is the very
computation it is alone. The oracle is the same fit with lockstep turned off
(``LOCKSTEP = False``), compared to the bit. Bit for bit is the right
comparison here, unlike between paths that compute differently: both paths
make the very same numpy and BLAS calls, with the same shapes, dtypes and
memory layout, on the same machine, so any difference is a bug (the one
found so far: F-ordered parameters from transposed sums, which BLAS rounds
differently).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import random_problem
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM, BinomialMixtureEM, CategoricalMixtureEM, _em
from skcoinmix._accelerate import drive, drive_together, plain_steps
from skcoinmix._backends import dense
from skcoinmix._bernoulli import BinaryEncoding
from skcoinmix._categorical import OneHotEncoding


def planted_binary(rng, n=120, d=6):
    """uint8 0/1 rows of a random mixture of three components."""
    return random_problem(rng, n, d)[0].astype(np.uint8)


def model_and_data(name, rng):
    X = planted_binary(rng)
    if name == "bernoulli":
        return BernoulliMixtureEM, {}, X
    if name == "bernoulli-missing":
        # Two views (the data and the observed mask): two products a model.
        X = X.astype(np.float64)
        X[rng.uniform(size=X.shape) < 0.1] = np.nan
        return BernoulliMixtureEM, {}, X
    if name == "bernoulli-float32":
        # float32 data: the kernels' rows-first float32 products.
        return BernoulliMixtureEM, {}, X.astype(np.float32)
    if name == "binomial":
        heads = rng.binomial(20, np.array([0.3, 0.5, 0.7])[rng.integers(3, size=120)])
        return BinomialMixtureEM, {"n_trials": 20}, heads[:, np.newaxis]
    return CategoricalMixtureEM, {}, X[:, :3] + X[:, 3:]


def fit_both(cls, X, monkeypatch, sample_weight=None, **params):
    """The same fit with lockstep on and off."""
    common = dict(
        n_components=3, init_params="random", n_init=6, tol=1e-8, random_state=0
    )
    fits = []
    for lockstep in (True, False):
        monkeypatch.setattr(_em, "LOCKSTEP", lockstep)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(cls(**(common | params)).fit(X, sample_weight=sample_weight))
    return fits


def assert_same_fit(lockstep, alone):
    assert lockstep.n_iter_ == alone.n_iter_
    assert lockstep.converged_ == alone.converged_
    assert lockstep.lower_bounds_ == alone.lower_bounds_
    assert_array_equal(lockstep.weights_, alone.weights_)
    # probs_ is a list of per-item arrays; means_ one array.
    got = getattr(lockstep, "probs_", None) or [lockstep.means_]
    want = getattr(alone, "probs_", None) or [alone.means_]
    for got_part, want_part in zip(got, want, strict=True):
        assert_array_equal(got_part, want_part)


MODELS = [
    "bernoulli",
    "bernoulli-missing",
    "bernoulli-float32",
    "binomial",
    "categorical",
]
OPTIONS = [
    {},
    {"accelerate": None},
    {"mixed_precision": True},
    {"n_init_final": 2, "initial_stage_iter": 4},
    {"alpha": 0.5, "fit_weights": False, "weights_init": [0.2, 0.3, 0.5]},
]


@pytest.mark.seeded
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_lockstep_is_bitwise_each_start_alone(rng, monkeypatch, name, options):
    cls, params, X = model_and_data(name, rng)
    if cls is BinomialMixtureEM and "mixed_precision" in options:
        X = X.astype(np.int32)  # counts: the float32 path needs integers
    lockstep, alone = fit_both(cls, X, monkeypatch, **params, **options)
    assert_same_fit(lockstep, alone)


@pytest.mark.seeded
def test_lockstep_with_sample_weight_is_bitwise(rng, monkeypatch):
    X = planted_binary(rng)
    weight = rng.uniform(0.1, 3.0, size=X.shape[0])
    for data in (X, X.astype(np.float32)):
        lockstep, alone = fit_both(
            BernoulliMixtureEM, data, monkeypatch, sample_weight=weight
        )
        assert_same_fit(lockstep, alone)


def test_lockstep_is_used_for_restarts_run_one_after_another(rng, monkeypatch):
    calls = []
    original = _em.BaseMixtureEM._run_lockstep

    def spy(self, *args):
        calls.append(type(self).__name__)
        return original(self, *args)

    monkeypatch.setattr(_em.BaseMixtureEM, "_run_lockstep", spy)
    X = planted_binary(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        BernoulliMixtureEM(2, n_init=3, max_iter=5, tol=0).fit(X)
        assert calls == ["BernoulliMixtureEM"]
        # One start, verbose output (whose messages would interleave),
        # sparse data, and restarts in parallel workers run each start alone.
        BernoulliMixtureEM(2, n_init=1, max_iter=5, tol=0).fit(X)
        BernoulliMixtureEM(2, n_init=3, max_iter=2, tol=0, verbose=1).fit(X)
        BernoulliMixtureEM(2, n_init=3, max_iter=5, tol=0).fit(sp.csr_matrix(X))
        BernoulliMixtureEM(2, n_init=3, max_iter=5, tol=0, n_jobs=2).fit(X)
    assert calls == ["BernoulliMixtureEM"]


def test_lockstep_and_parallel_restarts_agree_to_the_bit(rng):
    X = planted_binary(rng)
    fits = []
    for n_jobs in (1, 2):
        est = BernoulliMixtureEM(3, n_init=4, tol=1e-8, random_state=0, n_jobs=n_jobs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(est.fit(X))
    assert_same_fit(*fits)


def test_many_starts_are_stacked_in_bounded_groups(rng, monkeypatch):
    # More components than one kernel call takes: stacked in groups, the
    # same to the bit.
    monkeypatch.setattr(_em, "MAX_STACKED_COMPONENTS", 7)
    X = planted_binary(rng)
    lockstep, alone = fit_both(BernoulliMixtureEM, X, monkeypatch)
    assert_same_fit(lockstep, alone)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_stacked_e_step_is_each_model_s_e_step(rng, dtype, weighted):
    # The kernel's oracle: e_step on each model alone, to the bit.
    X = planted_binary(rng, n=300, d=5).astype(np.float64)
    X[rng.uniform(size=X.shape) < 0.1] = np.nan
    X = X.astype(dtype)
    encoding = BinaryEncoding(missing=True)
    weight = rng.uniform(0.5, 2.0, size=X.shape[0]) if weighted else None
    models = [
        (
            tuple(rng.normal(size=(4, 5)) for _ in range(2)),
            np.log(rng.dirichlet(np.ones(4))),
        )
        for _ in range(3)
    ]
    coefs = tuple(
        np.concatenate(views) for views in zip(*(c for c, _ in models), strict=True)
    )
    intercept = np.concatenate([i for _, i in models])
    log_likelihood, resp_sum, sums = dense.e_step_stacked(
        X, encoding, coefs, intercept, weight, len(models)
    )
    assert log_likelihood.shape == (3,)
    assert resp_sum.shape == (3, 4)
    assert [total.shape for total in sums] == [(3, 4, 5)] * 2
    for index, (model_coefs, model_intercept) in enumerate(models):
        want = dense.e_step(X, encoding, model_coefs, model_intercept, weight)
        assert log_likelihood[index] == want[0]
        assert_array_equal(resp_sum[index], want[1])
        for total, want_total in zip(sums, want[2], strict=True):
            assert_array_equal(total[index], want_total)


def test_stacked_e_step_on_one_hot_blocks(rng, monkeypatch):
    # Several blocks (a small block size), so that states add up over them.
    codes = rng.integers(3, size=(500, 4)).astype(np.int8)
    encoding = OneHotEncoding(tuple(np.arange(3) for _ in range(4)))
    monkeypatch.setattr(type(encoding), "block_bytes", 64 * 12 * 8)
    models = [(rng.normal(size=(2, 12)), rng.normal(size=2)) for _ in range(4)]
    stacked = dense.e_step_stacked(
        codes,
        encoding,
        (np.concatenate([c for c, _ in models]),),
        np.concatenate([i for _, i in models]),
        None,
        4,
    )
    for index, (coef, intercept) in enumerate(models):
        want = dense.e_step(codes, encoding, (coef,), intercept, None)
        assert stacked[0][index] == want[0]
        assert_array_equal(stacked[2][0][index], want[2][0])


def test_drive_together_gives_each_coroutine_its_own_evaluations():
    # Each coroutine: plain EM on a scalar "parameter" halving toward 0.
    def update(x):
        return -abs(x), x / 2.0

    def steps(start, max_iter):
        return plain_steps(
            start,
            -np.inf,
            max_iter,
            lambda bound, change: abs(change) < 1e-3,
            lambda n_iter, change: None,
        )

    starts = [(1.0, 50), (8.0, 3), (0.5, 0), (-4.0, 50)]
    alone = [drive(steps(x, m), update) for x, m in starts]
    rounds = []

    def update_many(requests):
        rounds.append(len(requests))
        return [update(x) for x in requests]

    together = drive_together([steps(x, m) for x, m in starts], update_many)
    assert together == alone
    # The run of 0 iterations never asks; the others drop out as they end.
    assert rounds[0] == 3
    assert rounds == sorted(rounds, reverse=True)
    assert len(rounds) == max(run["n_iter"] for run in alone)


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_m_steps_return_c_ordered_parameters_from_transposed_sums(rng, alpha):
    # Sparse kernels may return their sums transposed (F order). The layout
    # of the parameters decides how the next products round, so the M-steps
    # return C order whatever the sums' layout: a warm-started update then
    # equals the update of an uninterrupted fit to the bit.
    from skcoinmix._bernoulli import map_means
    from skcoinmix._categorical import item_offsets, map_probs

    ones = np.asfortranarray(rng.uniform(1, 5, size=(3, 4)))
    trials = ones + np.asfortranarray(rng.uniform(1, 5, size=(3, 4)))
    means = map_means(ones, trials, alpha, np.full((3, 4), 0.5))
    assert means.flags.c_contiguous
    offsets = item_offsets([2, 2])
    probs = map_probs(ones, offsets, alpha, np.full((3, 4), 0.5))
    assert probs.flags.c_contiguous
