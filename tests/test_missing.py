"""Missing answers (NaN): full-information maximum likelihood on every path."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import reference_em_update
from numpy.testing import assert_allclose
from scipy.special import logsumexp
from scipy.stats import bernoulli
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM


def with_missing(rng, n_samples=120, n_features=6, n_components=3, rate=0.25):
    means = rng.uniform(0.1, 0.9, size=(n_components, n_features))
    labels = rng.integers(n_components, size=n_samples)
    X = (rng.uniform(size=(n_samples, n_features)) < means[labels]).astype(float)
    X[rng.uniform(size=X.shape) < rate] = np.nan
    X[0] = np.nan  # one row with nothing observed
    return X, means


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("fit_weights", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_update_matches_fiml_reference(rng, tied, fit_weights, alpha, dtype):
    X, means = with_missing(rng)
    if tied:
        means = np.repeat(means[:, :1], X.shape[1], axis=1)
    weights = rng.dirichlet(np.ones(3))
    sample_weight = rng.uniform(0.2, 2.0, size=X.shape[0])
    est = BernoulliMixtureEM(
        3,
        means_init=means,
        weights_init=weights,
        alpha=alpha,
        tie_features=tied,
        fit_weights=fit_weights,
        max_iter=1,
        tol=0.0,
    )
    with pytest.warns(ConvergenceWarning):
        est.fit(X.astype(dtype), sample_weight=sample_weight)
    new_weights, new_means, lower_bound = reference_em_update(
        X, sample_weight, weights, means, alpha, tied, fit_weights
    )
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(est.weights_, new_weights, rtol=rtol)
    assert_allclose(est.means_, new_means, rtol=rtol)
    assert est.lower_bounds_[0] == pytest.approx(lower_bound, rel=rtol)


def test_score_samples_sums_over_observed_entries(rng):
    X, _ = with_missing(rng, n_samples=40)
    est = BernoulliMixtureEM(3, random_state=0).fit(X)
    expected = []
    for x in X:
        seen = ~np.isnan(x)
        expected.append(
            logsumexp(
                [
                    np.log(w) + bernoulli.logpmf(x[seen], theta[seen]).sum()
                    for w, theta in zip(est.weights_, est.means_, strict=True)
                ]
            )
        )
    assert_allclose(est.score_samples(X), expected, rtol=1e-12, atol=1e-12)
    assert est.score_samples(X)[0] == pytest.approx(0.0, abs=1e-12)


def test_row_with_nothing_observed_gets_the_weights(rng):
    X, _ = with_missing(rng)
    est = BernoulliMixtureEM(3, random_state=0).fit(X)
    assert_allclose(est.predict_proba(X[:1])[0], est.weights_, rtol=1e-12)
    assert_allclose(est.predict_proba(np.full((2, 6), np.nan)), [est.weights_] * 2)


@pytest.mark.parametrize(
    "init_params", ["kmeans", "k-means++", "random", "random_from_data"]
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_every_initialisation_and_monotone_lower_bound(rng, init_params):
    X, _ = with_missing(rng, rate=0.4)
    est = BernoulliMixtureEM(
        3, init_params=init_params, tol=1e-10, max_iter=300, random_state=0
    ).fit(X)
    history = np.array(est.lower_bounds_)
    assert np.all(np.isfinite(history))
    assert np.all(np.diff(history) >= -1e-12 * np.abs(history[1:]))
    resp = est.predict_proba(X)
    assert np.all(np.isfinite(resp))
    assert_allclose(resp.sum(axis=1), 1.0)
    assert np.all(np.isfinite(est.means_))


def test_binarize_keeps_missing_entries_missing(rng):
    X, _ = with_missing(rng)
    scores = np.where(np.isnan(X), np.nan, X * rng.uniform(3, 9, size=X.shape))
    binarised = np.where(np.isnan(scores), np.nan, (scores > 2).astype(float))
    common = dict(n_components=2, init_params="random", random_state=0)
    by_threshold = BernoulliMixtureEM(binarize=2.0, **common).fit(scores)
    by_hand = BernoulliMixtureEM(binarize=None, **common).fit(binarised)
    assert_allclose(by_threshold.means_, by_hand.means_, rtol=1e-12)
    assert_allclose(
        by_threshold.predict_proba(scores), by_hand.predict_proba(binarised), rtol=1e-12
    )
    with pytest.raises(ValueError, match=r"found the values 3\.0"):
        BernoulliMixtureEM(binarize=None).fit(np.where(np.isnan(X), np.nan, 3 * X))


def test_sample_weight_equals_repeated_rows_with_missing(rng):
    X, means = with_missing(rng, n_samples=50)
    counts = rng.integers(0, 4, size=X.shape[0])
    counts[1] = 1
    # Up to 2,095 iterations are needed over seeds 0-99 at this tol.
    common = dict(n_components=3, means_init=means, tol=1e-10, max_iter=10_000)
    weighted = BernoulliMixtureEM(**common).fit(X, sample_weight=counts)
    repeated = BernoulliMixtureEM(**common).fit(np.repeat(X, counts, axis=0))
    # A mean on its way to 0 keeps its relative rounding errors (see
    # test_sparse_equals_dense): small ones are compared absolutely.
    assert_allclose(weighted.means_, repeated.means_, rtol=1e-9, atol=1e-12)
    assert weighted.lower_bound_ == pytest.approx(repeated.lower_bound_, rel=1e-12)


def test_runs_of_different_lengths_with_tied_features(rng):
    # Rows padded with NaN are runs of tosses of different lengths.
    lengths = rng.integers(3, 15, size=60)
    coins = rng.integers(2, size=60)
    X = np.full((60, 15), np.nan)
    for row, (length, coin) in enumerate(zip(lengths, coins, strict=True)):
        X[row, :length] = rng.uniform(size=length) < (0.2 if coin else 0.8)
    est = BernoulliMixtureEM(
        2,
        tie_features=True,
        means_init=[[0.4], [0.6]],
        fit_weights=False,
        tol=1e-12,
        max_iter=1000,
    ).fit(X)
    # Coins of p = 0.2 and 0.8: even runs of 3 tosses are mostly told apart.
    same_as_first = est.predict(X) == est.predict(X[:1])
    assert np.mean(same_as_first == (coins == coins[0])) > 0.9
    # One more update: each coin's expected heads over its expected tosses.
    heads = np.nansum(X, axis=1)
    resp = est.predict_proba(X)
    est.set_params(warm_start=True, max_iter=1, tol=0.0)
    with pytest.warns(ConvergenceWarning):
        est.fit(X)
    assert_allclose(est.means_[:, 0], (resp.T @ heads) / (resp.T @ lengths), rtol=1e-12)


def test_warm_start_and_prediction_with_missing(rng):
    X, means = with_missing(rng)
    # Plain EM: five warm fits of 2 updates are a cold fit of 10.
    est = BernoulliMixtureEM(
        3, means_init=means, warm_start=True, max_iter=2, tol=0, accelerate=None
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(5):
            est.fit(X)
    cold = BernoulliMixtureEM(3, means_init=means, max_iter=10, tol=0, accelerate=None)
    with pytest.warns(ConvergenceWarning):
        cold.fit(X)
    assert_allclose(est.means_, cold.means_, rtol=1e-12)
    assert np.isfinite(est.score(X)) and np.isfinite(est.bic(X))


def test_sparse_nan_and_inf_are_errors():
    X = sp.csr_matrix(np.array([[1.0, 0.0], [np.nan, 1.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="Sparse input with NaN"):
        BernoulliMixtureEM(2).fit(X)
    with pytest.raises(ValueError, match="infinity"):
        BernoulliMixtureEM(2).fit(np.array([[1.0, np.inf], [np.nan, 1.0], [0, 0]]))
    fitted = BernoulliMixtureEM(2, random_state=0).fit(np.eye(3))
    with pytest.raises(ValueError, match="infinity"):
        fitted.predict_proba(np.array([[1.0, -np.inf, 0.0]]))


def test_tags_declare_nan_support():
    from sklearn.utils import get_tags

    assert get_tags(BernoulliMixtureEM()).input_tags.allow_nan
