"""Mixed precision (``mixed_precision=True``): float32 iterations, then float64 to the end.

The kernels' ``dtype`` override is checked against the same kernels on data
converted up front (the data are exact in float32, so only the arithmetic
may differ, and here it is the same arithmetic); the fits against float64
fits from the same start.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import random_problem
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM, BinomialMixtureEM, CategoricalMixtureEM
from skcoinmix._backends import dense, sparse
from skcoinmix._bernoulli import BinaryEncoding


def fit_quietly(estimator, X, sample_weight=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, sample_weight=sample_weight)


def e_step_args(rng):
    X, _, means = random_problem(rng, n_samples=300, n_features=7)
    coef = np.log(means) - np.log1p(-means)
    intercept = np.log1p(-means).sum(axis=1) + np.log(np.full(3, 1 / 3))
    return X, (coef,), intercept


@pytest.mark.parametrize("backend", [dense, sparse])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_dtype_override_equals_converted_data(rng, backend, dtype):
    # uint8 data computed in float32 is float32 data computed in float32,
    # and float32 data computed in float64 is float64 data: the same
    # products on the same values, bitwise.
    X, coefs, intercept = e_step_args(rng)
    weights = rng.uniform(0.5, 2, size=X.shape[0])
    stored = X.astype(np.uint8 if dtype == np.float32 else np.float32)
    converted = X.astype(dtype)
    if backend is sparse:
        stored, converted = sp.csr_matrix(stored), sp.csr_matrix(converted)
    encoding = BinaryEncoding()
    got = backend.e_step(stored, encoding, coefs, intercept, weights, dtype)
    want = backend.e_step(converted, encoding, coefs, intercept, weights)
    assert got[0] == want[0]
    assert_array_equal(got[1], want[1])
    assert_array_equal(got[2][0], want[2][0])


def test_dask_kernel_dtype_override_equals_converted_data(rng):
    da = pytest.importorskip("dask.array")
    from skcoinmix._backends import dask as dask_backend

    X, coefs, intercept = e_step_args(rng)
    encoding = BinaryEncoding()
    stored = da.from_array(X.astype(np.uint8), chunks=(50, -1))
    converted = da.from_array(X.astype(np.float32), chunks=(50, -1))
    got = dask_backend.e_step(stored, encoding, coefs, intercept, None, np.float32)
    want = dask_backend.e_step(converted, encoding, coefs, intercept, None)
    assert got[0] == want[0]
    assert_array_equal(got[2][0], want[2][0])


def problem(rng, model):
    X, _, means = random_problem(rng, n_samples=400, n_features=8, n_components=2)
    start = rng.uniform(0.3, 0.7, size=means.shape)
    if model == "categorical":
        X = X.astype(np.int8)
        X[rng.uniform(size=X.shape) < 0.1] = 2  # a third, uninformative answer
        return X, {"random_state": 0}
    if model == "binomial":
        X = X.astype(np.int32) + (rng.uniform(size=X.shape) < means[0]).astype(int)
        return X, {"means_init": start}
    return X.astype(np.uint8), {"means_init": start}


MODELS = {
    "bernoulli": lambda **kw: BernoulliMixtureEM(n_components=2, **kw),
    "binomial": lambda **kw: BinomialMixtureEM(n_components=2, n_trials=2, **kw),
    "categorical": lambda **kw: CategoricalMixtureEM(n_components=2, **kw),
}


@pytest.mark.parametrize("accelerate", [None, "squarem"])
@pytest.mark.parametrize("model", MODELS)
def test_mixed_precision_equals_the_float64_fit(rng, model, accelerate):
    X, start = problem(rng, model)
    tol = 1e-12
    fits = {}
    for mixed in [False, True]:
        est = MODELS[model](
            tol=tol,
            max_iter=3000,
            accelerate=accelerate,
            mixed_precision=mixed,
            **start,
        )
        fits[mixed] = est.fit(X)
    exact, mixed = fits[False], fits[True]
    assert mixed.converged_
    # The same maximum. Each fit stops once its float64 bound changes by
    # less than tol, which leaves it up to tol rho / (1 - rho) below the
    # maximum (rho: EM's rate, about 0.9 here): at tol = 1e-12 both are within
    # 1e-11 of it, so they agree to 1e-10, the tolerance of published
    # analyses (checked for seeds 0-9).
    assert mixed.lower_bound_ == pytest.approx(exact.lower_bound_, abs=1e-10)
    # Parameters: bounds within 1e-11 of the maximum leave the parameters
    # within about sqrt(1e-11 / curvature) ~ 1e-5 of it; 1e-4 for safety
    # (checked for seeds 0-9).
    key = "probs_" if model == "categorical" else "means_"
    assert_allclose(
        np.hstack(getattr(mixed, key)), np.hstack(getattr(exact, key)), atol=1e-4
    )
    assert_allclose(mixed.weights_, exact.weights_, atol=1e-4)
    bounds = np.array(mixed.lower_bounds_)
    assert np.all(np.diff(bounds) >= -1e-12 * np.abs(bounds[1:]))


def test_float32_phase_then_float64(rng, monkeypatch):
    # The kernels are called in float32 first, then in float64 only; only
    # the float64 phase's bounds are recorded.
    X, start = problem(rng, "bernoulli")
    calls = []
    original = dense.e_step

    def recording(*args):
        calls.append(args[-1])
        return original(*args)

    monkeypatch.setattr(dense, "e_step", recording)
    est = BernoulliMixtureEM(
        2, tol=1e-10, max_iter=500, mixed_precision=True, accelerate=None, **start
    )
    fit_quietly(est, X)
    assert calls[0] == np.float32 and calls[-1] == np.float64
    switch = calls.index(np.float64)
    assert set(calls[switch:]) == {np.float64}
    assert set(calls[:switch]) == {np.float32}
    assert len(calls) == est.n_iter_
    assert len(est.lower_bounds_) == est.n_iter_ - switch


@pytest.mark.parametrize("max_iter", [1, 2])
def test_two_updates_or_fewer_are_float64(rng, max_iter):
    # Single-iteration warm starts and other tiny budgets are unchanged.
    X, start = problem(rng, "bernoulli")
    fits = [
        fit_quietly(
            BernoulliMixtureEM(2, max_iter=max_iter, mixed_precision=m, **start), X
        )
        for m in [False, True]
    ]
    assert fits[1].lower_bounds_ == fits[0].lower_bounds_
    assert_array_equal(fits[1].means_, fits[0].means_)


def test_float64_data_are_unchanged(rng):
    X, start = problem(rng, "bernoulli")
    X = X.astype(np.float64)
    fits = [
        BernoulliMixtureEM(2, tol=1e-8, mixed_precision=m, **start).fit(X)
        for m in [False, True]
    ]
    assert fits[1].lower_bounds_ == fits[0].lower_bounds_
    assert_array_equal(fits[1].means_, fits[0].means_)


def test_float32_data_finish_in_float64(rng):
    # float32 data are computed in float32 without the option; with it, they
    # end in float64: as the float64 fit of the same values.
    X, start = problem(rng, "bernoulli")
    kw = dict(tol=1e-12, max_iter=3000, **start)
    exact = BernoulliMixtureEM(2, **kw).fit(X.astype(np.float64))
    mixed = BernoulliMixtureEM(2, mixed_precision=True, **kw).fit(X.astype(np.float32))
    # As in test_mixed_precision_equals_the_float64_fit.
    assert mixed.lower_bound_ == pytest.approx(exact.lower_bound_, abs=1e-10)
    assert_allclose(mixed.means_, exact.means_, atol=1e-4)
