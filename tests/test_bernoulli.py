"""Tests of BernoulliMixtureEM: published numbers, oracles and properties."""

import pickle
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import (
    brute_force_log_likelihood,
    random_problem,
    reference_em_update,
)
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import betaln
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Binarizer

from skcoinmix import BernoulliMixtureEM
from skcoinmix._bernoulli import MEAN_BOUND

# The seed notebook's printed 10 x 20 tosses and coins
# (../shared/seed/coin_em_notebook.md, cells In [5] and In [7]).
NOTEBOOK_COINS = np.array(list("BBBABBABBB"))
NOTEBOOK_TOSSES = np.array(
    [
        [1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1],
        [1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0],
        [1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0],
        [0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0],
        [1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1],
        [0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1],
        [1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1],
        [0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1],
        [0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1],
    ]
)

# Do & Batzoglou (2008), Nature Biotechnology 26:897, Figure 1: five sets of
# ten tosses (H = 1).
PAPER_TOSSES = np.array(
    [
        [1 if c == "H" else 0 for c in row]
        for row in [
            "HTTTHHTHTH",
            "HHHHTHHHHH",
            "HTHHHHHTHH",
            "HTHTTTHHTT",
            "THHHTHHHTH",
        ]
    ]
)


def coin_em(X, start, n_updates):
    """EM on the coin data as the paper and the notebook do it: tied, fixed 1/2."""
    est = BernoulliMixtureEM(
        n_components=2,
        tie_features=True,
        fit_weights=False,
        means_init=np.array(start)[:, None],
        max_iter=n_updates,
        tol=0.0,
        accelerate=None,  # the published counts are plain EM updates
    )
    with pytest.warns(ConvergenceWarning):
        return est.fit(X)


# ------------------------------------------------------ published examples
def test_notebook_em_result():
    # The seed notebook prints 0.441741912054951 0.7529957227878182 after one
    # update and 100 more from (0.4, 0.6) (coin_em_notebook.md, In [15]).
    est = coin_em(NOTEBOOK_TOSSES, [0.4, 0.6], n_updates=101)
    assert est.n_iter_ == 101
    assert_allclose(
        est.means_[:, 0], [0.441741912054951, 0.7529957227878182], rtol=0, atol=1e-9
    )
    assert_allclose(est.weights_, [0.5, 0.5])
    assert est.means_.shape == (2, 20)
    assert np.all(est.means_ == est.means_[:, :1])


def test_notebook_known_coin_estimates():
    # The notebook's complete-data estimates print as 0.375 0.74375 (In [9]):
    # with the labels known, the estimator's M-step is the plain proportion.
    for coin, expected in [("A", 0.375), ("B", 0.74375)]:
        rows = NOTEBOOK_TOSSES[coin == NOTEBOOK_COINS]
        est = BernoulliMixtureEM(tie_features=True)
        est.fit(rows)
        assert est.means_[0, 0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "n_updates, expected",
    # Do & Batzoglou (2008), Figure 1b: from (0.60, 0.50), the first update
    # gives (0.71, 0.58) and ten give (0.80, 0.52), printed to 2 decimals.
    [(1, [0.71, 0.58]), (10, [0.80, 0.52])],
)
def test_paper_figure_1b(n_updates, expected):
    est = coin_em(PAPER_TOSSES, [0.6, 0.5], n_updates)
    assert_allclose(est.means_[:, 0], expected, atol=0.005)


def test_paper_figure_1a_complete_data():
    # Figure 1a: coins B, A, A, B, A give the estimates 0.80 (A) and 0.45 (B).
    coins = np.array(list("BAABA"))
    for coin, expected in [("A", 0.80), ("B", 0.45)]:
        est = BernoulliMixtureEM(tie_features=True)
        est.fit(PAPER_TOSSES[coins == coin])
        assert est.means_[0, 0] == pytest.approx(expected, abs=1e-12)


# ---------------------------------------------------------------- oracles
@pytest.mark.parametrize("sparse_format", [None, "csr", "csc"])
def test_score_samples_matches_scipy_bernoulli(rng, sparse_format):
    X, _, _ = random_problem(rng, n_samples=30, n_features=6)
    est = BernoulliMixtureEM(n_components=3, random_state=0).fit(X)
    data = X if sparse_format is None else sp.csr_matrix(X).asformat(sparse_format)
    expected = brute_force_log_likelihood(X, est.weights_, est.means_)
    assert_allclose(est.score_samples(data), expected, rtol=1e-12)
    assert est.score(data) == pytest.approx(expected.mean(), rel=1e-12)


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("fit_weights", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 2.0])
def test_one_update_matches_reference(rng, tied, fit_weights, alpha):
    X, _, means = random_problem(rng, n_samples=60, n_features=5, n_components=3)
    if tied:
        means = np.repeat(means[:, :1], X.shape[1], axis=1)
    weights = rng.dirichlet(np.ones(3))
    sample_weight = rng.uniform(0.1, 3.0, size=X.shape[0])
    est = BernoulliMixtureEM(
        n_components=3,
        means_init=means,
        weights_init=weights,
        alpha=alpha,
        tie_features=tied,
        fit_weights=fit_weights,
        max_iter=1,
        tol=0.0,
    )
    with pytest.warns(ConvergenceWarning):
        est.fit(X, sample_weight=sample_weight)
    new_weights, new_means, lower_bound = reference_em_update(
        X, sample_weight, weights, means, alpha, tied, fit_weights
    )
    assert_allclose(est.weights_, new_weights, rtol=1e-12)
    assert_allclose(est.means_, new_means, rtol=1e-12)
    assert est.lower_bounds_ == [pytest.approx(lower_bound, rel=1e-12)]


def test_lower_bound_is_penalised_mean_log_likelihood(rng):
    # lower_bounds_[t] is the objective at the parameters before the t-th M-step.
    X, _, means = random_problem(rng)
    est = BernoulliMixtureEM(
        3, means_init=means, alpha=1.0, max_iter=3, tol=0, accelerate=None
    )
    with pytest.warns(ConvergenceWarning):
        est.fit(X)
    previous = clone(est).set_params(max_iter=2)
    with pytest.warns(ConvergenceWarning):
        previous.fit(X)
    free = previous.means_
    log_prior = (np.log(free) + np.log1p(-free)).sum() - free.size * betaln(2, 2)
    expected = previous.score(X) + log_prior / X.shape[0]
    assert est.lower_bounds_[2] == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------- properties
@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lower_bound_never_decreases(seed, alpha, tied):
    rng = np.random.default_rng(seed)
    for _ in range(20):
        n_components = int(rng.integers(1, 5))
        X, _, _ = random_problem(
            rng, int(rng.integers(10, 100)), int(rng.integers(1, 15)), n_components
        )
        sample_weight = rng.uniform(0, 2, size=X.shape[0])
        est = BernoulliMixtureEM(
            n_components,
            alpha=alpha,
            tie_features=tied,
            init_params="random",
            tol=1e-10,
            max_iter=300,
            random_state=int(rng.integers(1000)),
        ).fit(X, sample_weight=sample_weight)
        history = np.array(est.lower_bounds_)
        assert np.all(np.isfinite(history))
        assert np.all(np.diff(history) >= -1e-12 * np.abs(history[1:]))


def test_lower_bound_never_decreases_warm_started(rng):
    X, _, _ = random_problem(rng, n_samples=100, n_features=10, n_components=4)
    est = BernoulliMixtureEM(
        4,
        max_iter=1,
        warm_start=True,
        init_params="random",
        random_state=0,
        accelerate=None,  # single-update warm starts: plain EM
    )
    bounds = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(600):
            est.fit(X)
            bounds.append(est.lower_bound_)
            assert est.n_iter_ == 1
    assert np.all(np.diff(bounds) >= -1e-12 * np.abs(bounds[1:]))
    assert bounds[-1] > bounds[0]


def test_warm_start_continues_from_fitted_parameters(rng):
    X, _, means = random_problem(rng)
    # Plain EM: 4 + 6 updates are 10 updates (an accelerated run restarts
    # its extrapolation at the warm start).
    common = dict(n_components=3, means_init=means, tol=0.0, accelerate=None)
    with pytest.warns(ConvergenceWarning):
        cold = BernoulliMixtureEM(max_iter=10, **common).fit(X)
    warm = BernoulliMixtureEM(max_iter=4, warm_start=True, **common)
    with pytest.warns(ConvergenceWarning):
        warm.fit(X)
    with pytest.warns(ConvergenceWarning):
        warm.set_params(max_iter=6).fit(X)
    assert_allclose(warm.means_, cold.means_, rtol=1e-12)
    assert_allclose(warm.weights_, cold.weights_, rtol=1e-12)


@pytest.mark.parametrize(
    "init_params", ["kmeans", "k-means++", "random", "random_from_data"]
)
def test_responsibilities_sum_to_one(rng, init_params):
    X, _, _ = random_problem(rng)
    est = BernoulliMixtureEM(3, init_params=init_params, random_state=0).fit(X)
    resp = est.predict_proba(X)
    assert resp.shape == (X.shape[0], 3)
    assert np.all((resp >= 0) & (resp <= 1))
    assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-12)
    assert_array_equal(est.predict(X), resp.argmax(axis=1))
    assert_allclose(est.transform(X), resp)


def test_permuting_rows_changes_nothing(rng):
    X, _, means = random_problem(rng)
    perm = rng.permutation(X.shape[0])
    # Run to convergence (the fixed point), not to max_iter: up to 1,220
    # iterations are needed over seeds 0-99 at this tol.
    common = dict(n_components=3, means_init=means, tol=1e-8, max_iter=10_000)
    est = BernoulliMixtureEM(**common).fit(X)
    est_perm = BernoulliMixtureEM(**common).fit(X[perm])
    assert_allclose(est_perm.means_, est.means_, rtol=1e-9)
    assert_allclose(est_perm.weights_, est.weights_, rtol=1e-9)
    # A mean within 1e-10 of 1 is stored to 1e-16, so log(1 - mean), and a
    # posterior it makes tiny, carry relative errors up to 1e-6 (seed 14):
    # posteriors are compared absolutely below 1e-12.
    assert_allclose(
        est_perm.predict_proba(X), est.predict_proba(X), rtol=1e-8, atol=1e-12
    )


def test_relabelling_components_changes_nothing(rng):
    X, _, means = random_problem(rng)
    weights = np.array([0.2, 0.3, 0.5])
    perm = np.array([2, 0, 1])
    # Up to 1,135 iterations are needed over seeds 0-99 at this tol.
    common = dict(n_components=3, tol=1e-8, max_iter=10_000)
    est = BernoulliMixtureEM(means_init=means, weights_init=weights, **common).fit(X)
    relabelled = BernoulliMixtureEM(
        means_init=means[perm], weights_init=weights[perm], **common
    ).fit(X)
    assert_allclose(relabelled.means_, est.means_[perm], rtol=1e-9)
    assert_allclose(relabelled.weights_, est.weights_[perm], rtol=1e-9)
    # Tiny posteriors absolutely, as in test_permuting_rows_changes_nothing.
    assert_allclose(
        relabelled.predict_proba(X), est.predict_proba(X)[:, perm], atol=1e-12
    )
    assert relabelled.lower_bound_ == pytest.approx(est.lower_bound_, rel=1e-12)


@pytest.mark.parametrize("sparse_format", ["csr", "csc"])
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("init_params", ["random", "random_from_data", "k-means++"])
def test_sparse_equals_dense(rng, sparse_format, tied, init_params):
    # k-means itself breaks the many ties of binary data differently on sparse
    # and dense input, so the "kmeans" start may differ; every other start and
    # every EM update are the same.
    X, _, _ = random_problem(rng, n_samples=150, n_features=12)
    X[:, 3] = 0  # an all-zero column
    common = dict(
        n_components=3,
        tie_features=tied,
        random_state=1,
        # Run on towards the fixed point, where the paths' rounding differences
        # are damped: tol=1e-6 could stop while EM leaves a saddle point,
        # where they grow (3e-9 for seed 76). Up to 2,043 iterations over
        # seeds 0-99.
        tol=1e-8,
        max_iter=10_000,
        init_params=init_params,
        # Plain EM: the paths are compared update by update (SQUAREM's
        # accept/reject decisions could differ by rounding).
        accelerate=None,
    )
    dense = BernoulliMixtureEM(**common).fit(X)
    sparse_X = sp.csr_matrix(X).asformat(sparse_format)
    sparse = BernoulliMixtureEM(**common).fit(sparse_X)
    # The two paths round differently (1e-16), and EM amplifies that where it
    # leaves a saddle point (seed 76: 9e-10 in a lower bound on the way,
    # 2e-10 left in a mean at convergence), then damps it: the means and the
    # path are compared at 1e-8; the final lower bound, second order in the
    # parameters at the fixed point, at 1e-12. A mean on its way to 0
    # shrinks by a factor each iteration, so its relative rounding errors add
    # up instead of being damped (4.7e-9 at 9e-6 for seed 1): small means are
    # compared absolutely, at 1e-12 (as the responsibilities below).
    assert_allclose(sparse.means_, dense.means_, rtol=1e-8, atol=1e-12)
    assert_allclose(sparse.weights_, dense.weights_, rtol=1e-8)
    assert_allclose(sparse.predict_proba(sparse_X), dense.predict_proba(X), atol=1e-12)
    assert sparse.n_iter_ == dense.n_iter_
    assert sparse.lower_bounds_ == pytest.approx(dense.lower_bounds_, rel=1e-8)
    assert sparse.lower_bound_ == pytest.approx(dense.lower_bound_, rel=1e-12)


def test_sparse_binarize_threshold(rng):
    X = rng.uniform(0, 4, size=(40, 6)) * (rng.uniform(size=(40, 6)) < 0.5)
    common = dict(n_components=2, binarize=1.5, init_params="random", random_state=0)
    dense = BernoulliMixtureEM(**common).fit(X)
    sparse = BernoulliMixtureEM(**common).fit(sp.csr_matrix(X))
    assert_allclose(sparse.means_, dense.means_, rtol=1e-10)
    with pytest.raises(ValueError, match=re.escape("binarize=-1.0 < 0")):
        BernoulliMixtureEM(binarize=-1.0).fit(sp.csr_matrix(X))


def test_sample_weight_equals_repeated_rows(rng):
    X, _, means = random_problem(rng, n_samples=40)
    counts = rng.integers(0, 4, size=X.shape[0])
    counts[0] = 1
    # Up to 697 iterations are needed over seeds 0-99 at this tol.
    common = dict(n_components=3, means_init=means, tol=1e-10, max_iter=5000)
    weighted = BernoulliMixtureEM(**common).fit(X, sample_weight=counts)
    repeated = BernoulliMixtureEM(**common).fit(np.repeat(X, counts, axis=0))
    # Small means absolutely, as in test_sparse_equals_dense (seed 56: 1.9e-8
    # relative at 6e-10).
    assert_allclose(weighted.means_, repeated.means_, rtol=1e-9, atol=1e-12)
    assert_allclose(weighted.weights_, repeated.weights_, rtol=1e-9)
    assert weighted.lower_bound_ == pytest.approx(repeated.lower_bound_, rel=1e-12)
    assert weighted.bic(X, sample_weight=counts) == pytest.approx(
        repeated.bic(np.repeat(X, counts, axis=0)), rel=1e-12
    )
    assert weighted.score(X, sample_weight=counts) == pytest.approx(
        repeated.score(np.repeat(X, counts, axis=0)), rel=1e-12
    )


def test_parameter_recovery(seed):
    from skcoinmix.datasets import make_bernoulli_mixture

    weights = np.array([0.5, 0.3, 0.2])
    means = np.array(
        [
            [0.9, 0.9, 0.1, 0.1, 0.5, 0.8],
            [0.1, 0.2, 0.9, 0.8, 0.5, 0.2],
            [0.8, 0.1, 0.8, 0.1, 0.9, 0.1],
        ]
    )
    X, y = make_bernoulli_mixture(20_000, weights, means, random_state=seed)
    est = BernoulliMixtureEM(3, n_init=3, tol=1e-8, max_iter=500, random_state=seed)
    est.fit(X)
    order = [int(np.argmin(np.abs(est.means_ - m).sum(axis=1))) for m in means]
    assert sorted(order) == [0, 1, 2]
    # Standard errors are about sqrt(0.25 / (0.2 * 20000)) = 0.008.
    assert_allclose(est.means_[order], means, atol=0.04)
    assert_allclose(est.weights_[order], weights, atol=0.02)
    agreement = np.mean(np.asarray(order)[y] == est.predict(X))
    assert agreement > 0.9


def test_many_features_stay_finite(rng):
    # The notebook's linear-space products underflow to 0 / 0 = NaN here.
    n_features = 5000
    coins = rng.integers(2, size=50)
    X = rng.uniform(size=(50, n_features)) < np.where(coins, 0.7, 0.3)[:, None]
    with np.errstate(all="ignore"):
        p_a = 0.4 ** X.sum(1) * 0.6 ** (1.0 - X).sum(1)
        p_b = 0.6 ** X.sum(1) * 0.4 ** (1.0 - X).sum(1)
        naive = p_a * 0.5 / (p_a * 0.5 + p_b * 0.5)
    assert np.all(np.isnan(naive))
    for tied in [False, True]:
        est = BernoulliMixtureEM(2, tie_features=tied, random_state=0).fit(X)
        resp = est.predict_proba(X)
        assert np.all(np.isfinite(resp))
        assert np.all(np.isfinite(est.score_samples(X)))
        assert np.all(np.isfinite(est.lower_bounds_))
        assert (
            max(np.mean(est.predict(X) == coins), np.mean(est.predict(X) != coins))
            == 1.0
        )


def test_extreme_data_never_gives_nan():
    # All-zero and all-one columns and rows, alpha = 0: probabilities would hit
    # exactly 0 and 1 without the bound.
    X = np.array([[0, 0, 1], [0, 0, 1], [1, 0, 1], [1, 0, 1], [1, 0, 1]])
    est = BernoulliMixtureEM(2, random_state=0, init_params="random").fit(X)
    assert np.all(est.means_ >= MEAN_BOUND) and np.all(est.means_ <= 1 - MEAN_BOUND)
    assert np.all(np.isfinite(est.score_samples(X)))
    assert np.all(np.isfinite(est.score_samples(1 - X)))
    assert np.all(np.isfinite(est.predict_proba(1 - X)))


def test_emptied_component_stays_finite():
    # Component 1 is so unlike every row that its responsibilities underflow
    # to exactly 0: its weight becomes 0, its probabilities stay as they were.
    X = np.zeros((20, 2000))
    means = np.vstack([np.full(2000, 0.1), np.full(2000, 0.9)])
    est = BernoulliMixtureEM(2, means_init=means, max_iter=5).fit(X)
    assert_array_equal(est.weights_, [1.0, 0.0])
    assert_allclose(est.means_[1], 0.9)
    assert np.all(np.isfinite(est.score_samples(X)))
    assert_allclose(est.predict_proba(X), np.tile([1.0, 0.0], (20, 1)))
    _, y_sample = est.sample(10)
    assert_array_equal(y_sample, 0)


def test_fit_predict_equals_fit_then_predict(seed):
    rng = np.random.default_rng(seed)
    X, _, _ = random_problem(rng)
    for max_iter in [1, 2, 100]:
        est = BernoulliMixtureEM(3, max_iter=max_iter, tol=0, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            labels = est.fit_predict(X)
        assert_array_equal(labels, est.predict(X))


def test_fit_skips_the_final_e_step_and_fits_the_same(seed, monkeypatch):
    # fit_predict's final E-step only makes labels: fit leaves it out and
    # its fitted attributes are those of fit_predict.
    rng = np.random.default_rng(seed)
    X, _, _ = random_problem(rng)
    calls = []
    original = BernoulliMixtureEM._log_resp

    def counting(self, data, params):
        calls.append(data)
        return original(self, data, params)

    monkeypatch.setattr(BernoulliMixtureEM, "_log_resp", counting)
    fitted = BernoulliMixtureEM(3, n_init=2, random_state=seed).fit(X)
    assert calls == []
    other = BernoulliMixtureEM(3, n_init=2, random_state=seed)
    other.fit_predict(X)
    assert len(calls) == 1
    for name in ["weights_", "means_", "lower_bound_", "n_iter_", "converged_"]:
        assert_array_equal(getattr(fitted, name), getattr(other, name))


def test_random_state_reproducible(rng):
    X, _, _ = random_problem(rng)
    for init in ["kmeans", "k-means++", "random", "random_from_data"]:
        first = BernoulliMixtureEM(3, init_params=init, n_init=3, random_state=7)
        second = clone(first)
        assert_array_equal(first.fit(X).means_, second.fit(X).means_)
        assert first.lower_bounds_ == second.lower_bounds_
        assert_array_equal(first.sample(20)[0], second.sample(20)[0])


def test_n_init_never_worse_than_one(seed):
    rng = np.random.default_rng(seed)
    X, _, _ = random_problem(rng, n_components=4)
    one = BernoulliMixtureEM(4, n_init=1, init_params="random", random_state=seed)
    five = clone(one).set_params(n_init=5)
    assert five.fit(X).lower_bound_ >= one.fit(X).lower_bound_


def test_pickle_round_trip(rng):
    X, _, _ = random_problem(rng)
    for data in [X, sp.csr_matrix(X)]:
        est = BernoulliMixtureEM(3, random_state=0).fit(data)
        restored = pickle.loads(pickle.dumps(est))
        assert_array_equal(restored.predict_proba(data), est.predict_proba(data))
        assert restored.get_params() == est.get_params()


def test_pipeline_and_grid_search(rng):
    # Binarised "images", with the mixture as a step and as a transformer.
    labels = rng.integers(2, size=120)
    images = rng.uniform(0, 16, size=(120, 16)) * np.where(
        labels[:, None] == 1,
        np.r_[np.ones(8), np.zeros(8)],
        np.r_[np.zeros(8), np.ones(8)],
    )
    pipe = make_pipeline(Binarizer(threshold=8), BernoulliMixtureEM(2, random_state=0))
    resp = pipe.fit(images).predict_proba(images)
    assert_allclose(resp.sum(axis=1), 1)
    classifier = make_pipeline(
        BernoulliMixtureEM(2, binarize=8, random_state=0), LogisticRegression()
    ).fit(images, labels)
    assert classifier.score(images, labels) > 0.9
    assert list(classifier[0].get_feature_names_out()) == [
        "bernoullimixtureem0",
        "bernoullimixtureem1",
    ]

    X, _, _ = random_problem(rng, n_samples=150, n_components=4)
    search = GridSearchCV(
        BernoulliMixtureEM(4, random_state=0),
        {"n_init": [1, 5], "n_components": [2, 4, 8]},
        cv=3,
    ).fit(X)
    assert search.best_params_["n_components"] in (2, 4, 8)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.n_init in (1, 5)


def test_score_sample_weight_routed_in_grid_search(rng):
    X, _, _ = random_problem(rng, n_samples=90)
    sample_weight = rng.uniform(0.5, 2, size=X.shape[0])
    with config_context(enable_metadata_routing=True):
        est = BernoulliMixtureEM(3, random_state=0)
        est.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        search = GridSearchCV(est, {"alpha": [0.0, 1.0]}, cv=3).fit(
            X, sample_weight=sample_weight
        )
        unweighted = GridSearchCV(
            BernoulliMixtureEM(3, random_state=0), {"alpha": [0.0, 1.0]}, cv=3
        ).fit(X)
    assert not np.allclose(
        search.cv_results_["mean_test_score"], unweighted.cv_results_["mean_test_score"]
    )


def test_information_criteria(rng):
    X, _, _ = random_problem(rng, n_samples=100, n_features=7, n_components=3)
    n, d, K = X.shape[0], X.shape[1], 3
    for kwargs, n_params in [
        ({}, K * d + K - 1),
        ({"tie_features": True}, K + K - 1),
        ({"fit_weights": False}, K * d),
        ({"tie_features": True, "fit_weights": False}, K),
    ]:
        est = BernoulliMixtureEM(K, random_state=0, **kwargs).fit(X)
        log_likelihood = est.score(X) * n
        assert est.bic(X) == pytest.approx(-2 * log_likelihood + n_params * np.log(n))
        assert est.aic(X) == pytest.approx(-2 * log_likelihood + 2 * n_params)


def test_sample(rng):
    means = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.5]])
    est = BernoulliMixtureEM(2, means_init=means, weights_init=[0.7, 0.3], max_iter=0)
    est.fit(rng.integers(2, size=(10, 3)))
    assert_allclose(est.means_, means)
    X, y = BernoulliMixtureEM.sample(est.set_params(random_state=0), 20_000)
    assert X.shape == (20_000, 3) and y.shape == (20_000,)
    assert set(np.unique(X)) == {0.0, 1.0}
    assert np.mean(y == 0) == pytest.approx(0.7, abs=0.015)
    assert_allclose(X[y == 0].mean(axis=0), means[0], atol=0.02)
    assert_allclose(X[y == 1].mean(axis=0), means[1], atol=0.02)
    for bad in [0, -1, 2.5, "3", True]:
        with pytest.raises(ValueError, match="n_samples"):
            est.sample(bad)


def test_max_iter_zero_keeps_initial_parameters(rng):
    X, _, means = random_problem(rng)
    est = BernoulliMixtureEM(3, means_init=means, max_iter=0).fit(X)
    assert_allclose(est.means_, means)
    assert est.n_iter_ == 0 and est.lower_bounds_ == [] and not est.converged_


def test_fixed_weights_are_kept(rng):
    X, _, _ = random_problem(rng)
    weights = np.array([0.6, 0.3, 0.1])
    est = BernoulliMixtureEM(3, fit_weights=False, weights_init=weights, random_state=0)
    assert_array_equal(est.fit(X).weights_, weights)
    uniform = BernoulliMixtureEM(3, fit_weights=False, random_state=0).fit(X)
    assert_array_equal(uniform.weights_, np.full(3, 1 / 3))


def test_means_init_with_tied_features_accepts_one_column(rng):
    X, _, _ = random_problem(rng)
    column = BernoulliMixtureEM(2, tie_features=True, means_init=[[0.3], [0.6]])
    full = BernoulliMixtureEM(
        2, tie_features=True, means_init=np.repeat([[0.3], [0.6]], 8, axis=1)
    )
    assert_allclose(column.fit(X).means_, full.fit(X).means_, rtol=1e-12)


def test_convergence_warning_and_verbose(rng, capsys):
    X, _, _ = random_problem(rng)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        BernoulliMixtureEM(3, max_iter=2, tol=0, random_state=0).fit(X)
    BernoulliMixtureEM(3, verbose=2, verbose_interval=1, random_state=0).fit(X)
    out = capsys.readouterr().out
    assert "Initialization 0" in out
    assert "Iteration 1" in out and "ll change" in out
    assert "Initialization converged" in out


def test_binarize_threshold_and_none(rng):
    X = rng.uniform(0, 10, size=(50, 5))
    by_threshold = BernoulliMixtureEM(2, binarize=5.0, random_state=0).fit(X)
    binarised = (X > 5.0).astype(int)
    by_hand = BernoulliMixtureEM(2, binarize=None, random_state=0).fit(binarised)
    assert_allclose(by_threshold.means_, by_hand.means_)
    assert_allclose(by_threshold.predict_proba(X), by_hand.predict_proba(binarised))
    assert_allclose(by_hand.fit(binarised.astype(bool)).means_, by_threshold.means_)


# -------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "params, X, error, match",
    [
        ({"n_components": 0}, None, ValueError, "n_components"),
        ({"tol": -1.0}, None, ValueError, "tol"),
        ({"max_iter": -1}, None, ValueError, "max_iter"),
        ({"n_init": 0}, None, ValueError, "n_init"),
        ({"init_params": "kmeans2"}, None, ValueError, "init_params"),
        ({"alpha": -0.5}, None, ValueError, "alpha"),
        ({"binarize": "yes"}, None, ValueError, "binarize"),
        ({"tie_features": "no"}, None, ValueError, "tie_features"),
        ({"fit_weights": 1.5}, None, ValueError, "fit_weights"),
        (
            {"binarize": None},
            [[0, 1], [2, 0.5]],
            ValueError,
            re.escape("found the values 0.5, 2.0") + ".*Binarizer",
        ),
        ({"n_components": 5}, [[0, 1]] * 4, ValueError, "n_samples >= max"),
        ({}, [[0, 1]], ValueError, "n_samples = 1"),
        ({}, [[np.inf, 1], [0, 1]], ValueError, "infinity"),
        ({}, [["a", "b"], ["c", "d"]], ValueError, "strings"),
        ({}, [0, 1, 1], ValueError, "2D array"),
        ({}, np.zeros((0, 3)), ValueError, "0 sample"),
        ({"weights_init": [0.5, 0.6]}, None, ValueError, "'weights_init'.*sum to 1"),
        (
            {"weights_init": [1.0]},
            None,
            ValueError,
            r"'weights_init'.*shape \(n_components,\) = \(2,\)",
        ),
        (
            {"weights_init": [1.5, -0.5]},
            None,
            ValueError,
            r"'weights_init'.*range \[0, 1\]",
        ),
        (
            {"means_init": [[0.5] * 3] * 2},
            None,
            ValueError,
            r"'means_init'.*shape \(2, 4\)",
        ),
        (
            {"means_init": [[1.5] * 4] * 2},
            None,
            ValueError,
            r"'means_init'.*range \[0, 1\]",
        ),
        (
            {"means_init": [["a"] * 4] * 2},
            None,
            TypeError,
            "'means_init'.*array of numbers",
        ),
        (
            {"means_init": [[0.1, 0.2, 0.3, 0.4]] * 2, "tie_features": True},
            None,
            ValueError,
            "tie_features=True.*constant",
        ),
    ],
)
def test_bad_input_is_a_clear_error(params, X, error, match):
    if X is None:
        X = np.array([[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0]])
    est = BernoulliMixtureEM(**{"n_components": 2, **params})
    with pytest.raises(error, match=match):
        est.fit(X)


def test_bad_sample_weight():
    X = np.array([[0, 1], [1, 0], [1, 1]])
    est = BernoulliMixtureEM(2)
    with pytest.raises(
        ValueError, match="Negative values in data passed to `sample_weight`"
    ):
        est.fit(X, sample_weight=[1, -1, 1])
    with pytest.raises(
        ValueError,
        match=r"sample_weight sums to zero|Sample weights must contain at least one non-zero",
    ):
        est.fit(X, sample_weight=[0, 0, 0])
    with pytest.raises(
        ValueError, match=r"sample_weight.shape == \(2,\), expected \(3,\)"
    ):
        est.fit(X, sample_weight=[1, 1])
    with pytest.raises(ValueError, match="Only 1 rows have a positive sample_weight"):
        est.fit(X, sample_weight=[0, 0, 1])


def test_predict_before_fit_and_feature_mismatch():
    est = BernoulliMixtureEM(2)
    with pytest.raises(NotFittedError):
        est.predict([[0, 1]])
    est.fit(np.array([[0, 1, 1], [1, 0, 0], [1, 1, 0]]))
    with pytest.raises(ValueError, match="3 features"):
        est.predict_proba([[0, 1]])


def test_failed_refit_leaves_fitted_model_unchanged(rng):
    X, _, _ = random_problem(rng)
    est = BernoulliMixtureEM(3, random_state=0).fit(X)
    before = {key: value for key, value in vars(est).items() if key.endswith("_")}
    proba = est.predict_proba(X)
    bad_refits = [
        (np.ones((5, 4)), {"means_init": np.full((3, 3), 0.5)}),  # shape vs new data
        (np.ones((2, 8)), {}),  # fewer rows than components
        (X, {"weights_init": [1.0, 0.0, 0.5]}),
        (X, {"binarize": None, "means_init": None, "weights_init": None}),
    ]
    X_bad_values = X * 3
    for new_X, params in bad_refits:
        est.set_params(**params)
        data = X_bad_values if params.get("binarize", 0.0) is None else new_X
        with pytest.raises(ValueError):
            est.fit(data)
        est.set_params(means_init=None, weights_init=None, binarize=0.0)
        after = {key: value for key, value in vars(est).items() if key.endswith("_")}
        assert after.keys() == before.keys()
        for key, value in before.items():
            assert_array_equal(after[key], value)
        assert_array_equal(est.predict_proba(X), proba)
