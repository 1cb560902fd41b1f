"""BinomialMixtureEM: counts of successes out of n trials.

Oracles: scipy.stats.binom for the log-pmf, a plain-numpy binomial EM written
here, the tied Bernoulli mixture on the tosses behind the counts, and the
paper's coin example (Do & Batzoglou 2008, Figure 1).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import as_numpy
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import gammaln, logsumexp
from scipy.stats import binom
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skcoinmix import BernoulliMixtureEM, BinomialMixtureEM
from skcoinmix.datasets import load_coin_example

#: Heads in the five sets of ten tosses of the paper's Figure 1.
PAPER_HEADS = [[5], [9], [8], [4], [7]]


def _counts(rng, n_samples=120, n_trials=(6, 10, 3, 8), n_components=3):
    """Counts drawn from a random binomial mixture: X (float), labels, means."""
    n_trials = np.asarray(n_trials)
    means = rng.uniform(0.05, 0.95, size=(n_components, n_trials.size))
    labels = rng.integers(n_components, size=n_samples)
    X = rng.binomial(n_trials, means[labels]).astype(np.float64)
    return X, labels, means


def _log_joint(X, trials, weights, means):
    """``log w_k + sum_j log Binom(x_ij; n_ij, t_kj)`` from scipy, NaN left out."""
    X = np.asarray(X, dtype=np.float64)
    trials = np.broadcast_to(trials, X.shape)
    observed = ~np.isnan(X)
    joint = np.empty((X.shape[0], len(weights)))
    for k, (w, theta) in enumerate(zip(weights, means, strict=True)):
        terms = binom.logpmf(np.where(observed, X, 0), trials, theta)
        joint[:, k] = np.log(w) + np.where(observed, terms, 0.0).sum(axis=1)
    return joint


def _reference_em(X, trials, weights, means, n_updates, alpha=0.0):
    """Plain-numpy binomial EM (closed-form M-step); returns params and bounds."""
    X = np.asarray(X, dtype=np.float64)
    trials = np.broadcast_to(np.asarray(trials, dtype=np.float64), X.shape)
    observed = ~np.isnan(X)
    successes = np.where(observed, X, 0.0)
    n_observed = np.where(observed, trials, 0.0)
    bounds = []
    for _ in range(n_updates):
        joint = _log_joint(X, trials, weights, means)
        log_norm = logsumexp(joint, axis=1)
        resp = np.exp(joint - log_norm[:, None])
        bounds.append(log_norm.mean())
        means = (resp.T @ successes + alpha) / (resp.T @ n_observed + 2 * alpha)
        means = np.clip(means, 1e-10, 1 - 1e-10)
        weights = resp.mean(axis=0)
    return weights, means, bounds


# ------------------------------------------------------------ the coin example
def test_paper_coin_example_as_counts():
    # Do & Batzoglou (2008), Figure 1: from (0.60, 0.50) one EM update gives
    # (0.71, 0.58) and ten give (0.80, 0.52), equal weights known.
    common = dict(n_trials=10, fit_weights=False, means_init=[[0.6], [0.5]], tol=0)
    for n_updates, expected in [(1, (0.71, 0.58)), (10, (0.80, 0.52))]:
        est = BinomialMixtureEM(2, max_iter=n_updates, **common)
        with pytest.warns(ConvergenceWarning):
            est.fit(PAPER_HEADS)
        assert_allclose(est.means_[:, 0], expected, atol=0.005)


@pytest.mark.parametrize("max_iter", [1, 10, 200])
def test_counts_equal_the_tied_bernoulli_mixture_of_the_tosses(max_iter):
    # The same model: heads out of 10 tosses are the tosses' sufficient
    # statistic. Parameters agree to 1e-12 relative (the same sums in another
    # order); the log-likelihoods differ by sum_i log C(10, h_i).
    tosses = load_coin_example()
    heads = tosses.sum(axis=1, keepdims=True)
    common = dict(
        fit_weights=False,
        means_init=[[0.6], [0.5]],
        tol=0,
        max_iter=max_iter,
        accelerate=None,  # plain EM: compared update by update
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        counts = BinomialMixtureEM(2, n_trials=10, **common).fit(heads)
        runs = BernoulliMixtureEM(2, tie_features=True, **common).fit(tosses)
    assert_allclose(counts.means_[:, 0], runs.means_[:, 0], rtol=1e-12)
    log_coefficients = (
        gammaln(11) - gammaln(heads[:, 0] + 1) - gammaln(11 - heads[:, 0])
    )
    assert_allclose(
        counts.score_samples(heads) - runs.score_samples(tosses),
        log_coefficients,
        rtol=1e-12,
    )
    assert_allclose(
        np.array(counts.lower_bounds_) - np.array(runs.lower_bounds_),
        log_coefficients.mean(),
        rtol=1e-12,
    )


# -------------------------------------------------------------- the log-pmf
@pytest.mark.parametrize("form", ["fixed", "per feature", "paired", "missing"])
def test_score_samples_is_the_binomial_log_pmf(rng, form):
    X, _, means = _counts(rng, n_trials=(6, 10, 3, 8))
    trials = np.array([6, 10, 3, 8], dtype=float)
    weights = rng.dirichlet(np.ones(3))
    if form == "fixed":
        X, trials = (
            rng.binomial(10, means[:, :1][rng.integers(3, size=50)], size=(50, 4)),
            10,
        )
        n_trials = 10
        data = X
    elif form == "per feature":
        n_trials, data = trials, X
    elif form == "missing":
        X[rng.uniform(size=X.shape) < 0.2] = np.nan
        n_trials, data = trials, X
    else:
        # Trials vary per entry: successes and failures side by side.
        per_entry = rng.integers(1, 12, size=X.shape).astype(float)
        X = rng.binomial(per_entry.astype(int), 0.4).astype(float)
        n_trials, trials = "paired", per_entry
        data = np.hstack([X, per_entry - X])
    est = BinomialMixtureEM(
        3, n_trials=n_trials, means_init=means, weights_init=weights, max_iter=0
    ).fit(data)
    want = logsumexp(_log_joint(X, trials, weights, means), axis=1)
    assert_allclose(est.score_samples(data), want, rtol=1e-12, atol=1e-12)
    # A log-probability: <= 0, but for a row with nothing observed, whose
    # log sum_k w_k is 0 up to the rounding of the weights' sum (a few ulp).
    assert np.all(est.score_samples(data) <= 1e-15)


def test_em_equals_a_plain_numpy_binomial_em(rng):
    X, _, _ = _counts(rng)
    X[rng.uniform(size=X.shape) < 0.1] = np.nan
    trials = np.array([6, 10, 3, 8])
    start = rng.uniform(0.2, 0.8, size=(3, 4))
    est = BinomialMixtureEM(
        3, n_trials=trials, means_init=start, max_iter=15, tol=0, accelerate=None
    )
    with pytest.warns(ConvergenceWarning):
        est.fit(X)
    weights, means, bounds = _reference_em(X, trials, np.full(3, 1 / 3), start, 15)
    # Different summation orders over 15 updates: 1e-10 relative (as the
    # Bernoulli paths against their reference, tests/_reference.py RTOL).
    assert_allclose(est.means_, means, rtol=1e-10)
    assert_allclose(est.weights_, weights, rtol=1e-10)
    assert_allclose(est.lower_bounds_, bounds, rtol=1e-10)
    assert np.all(np.diff(est.lower_bounds_) >= -1e-12 * np.abs(bounds[0]))


def test_alpha_is_the_beta_map_estimate(rng):
    X, _, _ = _counts(rng)
    start = rng.uniform(0.2, 0.8, size=(3, 4))
    est = BinomialMixtureEM(
        3, n_trials=[6, 10, 3, 8], alpha=2.0, means_init=start, max_iter=1, tol=0
    )
    with pytest.warns(ConvergenceWarning):
        est.fit(X)
    _, means, _ = _reference_em(
        X, [6, 10, 3, 8], np.full(3, 1 / 3), start, 1, alpha=2.0
    )
    assert_allclose(est.means_, means, rtol=1e-12)


def test_paired_form_equals_fixed_trials(rng):
    X, _, _ = _counts(rng)
    trials = np.array([6, 10, 3, 8])
    start = rng.uniform(0.2, 0.8, size=(3, 4))
    # Plain EM: the two forms compared update by update (SQUAREM's accept or
    # reject can flip on last-bit differences and take the paths apart).
    common = dict(means_init=start, max_iter=30, tol=0, accelerate=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fixed = BinomialMixtureEM(3, n_trials=trials, **common).fit(X)
        paired = BinomialMixtureEM(3, n_trials="paired", **common).fit(
            np.hstack([X, trials - X])
        )
    assert_allclose(paired.means_, fixed.means_, rtol=1e-10)
    assert_allclose(paired.lower_bounds_, fixed.lower_bounds_, rtol=1e-12)
    assert paired.n_trials_ is None
    assert_array_equal(fixed.n_trials_, trials)
    assert paired.n_parameters_ == fixed.n_parameters_ == 3 * 4 + 2


def test_real_valued_counts_are_accepted(rng):
    X = rng.uniform(0, 5, size=(60, 3))
    est = BinomialMixtureEM(2, n_trials=5, random_state=0).fit(X)
    assert np.all(np.isfinite(est.score_samples(X)))


# ---------------------------------------------------------------- storage
def _storages(X, missing):
    storages = {"float64": X, "float32": X.astype(np.float32)}
    if not missing:
        storages.update(
            uint8=X.astype(np.uint8),
            int64=X.astype(np.int64),
            csr=sp.csr_matrix(X),
            csc=sp.csc_matrix(X),
        )
    try:
        import dask.array as da
    except ImportError:  # the dask storage is tested where dask is installed
        pass
    else:
        storages["dask"] = da.from_array(X, chunks=(17, -1))
    return storages


@pytest.mark.parametrize("missing", [False, True])
@pytest.mark.parametrize("paired", [False, True])
def test_every_storage_gives_the_float64_fit(rng, missing, paired):
    X, _, _ = _counts(rng)
    trials = np.array([6, 10, 3, 8])
    if missing:
        X[rng.uniform(size=X.shape) < 0.1] = np.nan
    data = np.hstack([X, trials - X]) if paired else X
    start = rng.uniform(0.2, 0.8, size=(3, 4))
    # Plain EM: the storages compared update by update (SQUAREM's accept or
    # reject can flip on last-bit differences and take the paths apart).
    common = dict(
        n_trials="paired" if paired else trials,
        means_init=start,
        max_iter=20,
        tol=0,
        accelerate=None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        want = BinomialMixtureEM(3, **common).fit(data)
        for name, stored in _storages(data, missing).items():
            got = BinomialMixtureEM(3, **common).fit(stored)
            # float32 computes in float32: 20 updates at ~1e-6 relative each
            # (counts up to 10, d = 4): 1e-4; other paths add the same sums in
            # another order: 1e-10.
            rtol = 1e-4 if name == "float32" else 1e-10
            assert_allclose(got.means_, want.means_, rtol=rtol, err_msg=name)
            assert_allclose(
                as_numpy(got.score_samples(stored)),
                want.score_samples(data),
                rtol=rtol,
                err_msg=name,
            )


def test_sample_weight_equals_repeated_rows(rng):
    X, _, _ = _counts(rng, n_samples=40)
    counts = rng.integers(0, 4, size=40)
    start = rng.uniform(0.2, 0.8, size=(3, 4))
    common = dict(n_trials=[6, 10, 3, 8], means_init=start, max_iter=10, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = BinomialMixtureEM(3, **common).fit(X, sample_weight=counts)
        repeated = BinomialMixtureEM(3, **common).fit(np.repeat(X, counts, axis=0))
    assert_allclose(weighted.means_, repeated.means_, rtol=1e-10)
    assert_allclose(weighted.weights_, repeated.weights_, rtol=1e-10)


def test_partial_fit_and_warm_start(rng):
    X, _, _ = _counts(rng, n_samples=300)
    est = BinomialMixtureEM(3, n_trials=[6, 10, 3, 8], random_state=0)
    for batch in np.array_split(X, 6):
        est.partial_fit(batch)
    assert est.n_steps_ == 6 and np.all(np.isfinite(est.means_))
    est = BinomialMixtureEM(3, n_trials=[6, 10, 3, 8], random_state=0).fit(X)
    est.set_params(warm_start=True, n_trials=[7, 10, 3, 8])
    with pytest.raises(ValueError, match="n_trials"):
        est.fit(X)


# ------------------------------------------------- fitted model, parameters
def test_predictions_follow_the_fitted_trials(rng):
    X, _, _ = _counts(rng)
    est = BinomialMixtureEM(3, n_trials=[6, 10, 3, 8], random_state=0).fit(X)
    before = est.score_samples(X)
    est.set_params(n_trials=100)
    assert_array_equal(est.score_samples(X), before)
    assert_array_equal(est.n_trials_, [6, 10, 3, 8])


def test_sample_draws_counts_within_the_trials(rng):
    X, _, _ = _counts(rng)
    est = BinomialMixtureEM(3, n_trials=[6, 10, 3, 8], random_state=0).fit(X)
    Xs, ys = est.sample(500)
    assert Xs.shape == (500, 4) and ys.shape == (500,)
    assert np.all((Xs >= 0) & (Xs <= [6, 10, 3, 8]))
    assert_array_equal(Xs, np.round(Xs))
    paired = BinomialMixtureEM(2, n_trials="paired", random_state=0).fit(
        np.hstack([X, [6, 10, 3, 8] - X])
    )
    with pytest.raises(ValueError, match="paired"):
        paired.sample(3)


def test_pipeline_and_grid_search(rng):
    X, _, _ = _counts(rng)
    pipe = make_pipeline(BinomialMixtureEM(3, n_trials=[6, 10, 3, 8], random_state=0))
    assert pipe.fit(X).transform(X).shape == (X.shape[0], 3)
    search = GridSearchCV(
        BinomialMixtureEM(n_trials=[6, 10, 3, 8], random_state=0),
        {"n_components": [1, 2, 3], "n_init": [1, 2]},
        cv=3,
    ).fit(X)
    assert search.best_params_["n_components"] in (1, 2, 3)


# -------------------------------------------------------------- bad input
BAD_INPUT = [
    (dict(), [[1, 2]], "needs n_trials"),
    (dict(n_trials=5), [[1, 6]], r"exceed n_trials; found column 1: 6"),
    (dict(n_trials=5), [[1, -1]], "Negative values in data"),
    (dict(n_trials=5), [[1, np.inf]], "infinity"),
    (dict(n_trials=2.5), [[1, 2]], "positive integers"),
    (dict(n_trials=[3, 0]), [[1, 0]], "positive integers"),
    (dict(n_trials=[3, 4, 5]), [[1, 2]], "one number of trials per feature"),
    (dict(n_trials=[[3, 4]]), [[1, 2]], "1-D array"),
    (dict(n_trials="paired"), [[1, 2, 3]], "even number of columns"),
    (dict(n_trials="paired"), [[1, -2]], "Negative values in data"),
]


@pytest.mark.parametrize(("params", "X", "match"), BAD_INPUT)
def test_bad_input_is_a_clear_error(params, X, match):
    est = BinomialMixtureEM(**params)
    X = np.vstack([X, X])
    with pytest.raises(ValueError, match=match):
        est.fit(X)
    assert not hasattr(est, "n_features_in_")  # nothing half-written


def test_counts_above_the_trials_are_refused_at_prediction(rng):
    X, _, _ = _counts(rng)
    est = BinomialMixtureEM(2, n_trials=[6, 10, 3, 8], random_state=0).fit(X)
    with pytest.raises(ValueError, match="exceed n_trials"):
        est.predict(X + 10)
    with pytest.raises(ValueError, match="exceed n_trials"):
        est.predict(sp.csr_matrix(X + 10))


# ------------------------------------------------------------- the report
def test_fit_report_of_counts_by_brute_force(rng):
    # G² over the observed patterns and X² over every cell of the table of
    # counts, enumerated here with scipy's binomial pmf (Agresti's formulas).
    from itertools import product

    from skcoinmix import fit_report

    trials = [3, 2, 4]
    X, _, _ = _counts(rng, n_samples=150, n_trials=trials, n_components=2)
    est = BinomialMixtureEM(2, n_trials=trials, random_state=0, tol=1e-8, max_iter=500)
    est.fit(X)
    report = fit_report(est, X)
    patterns, observed = np.unique(X, axis=0, return_counts=True)
    cells = np.array(list(product(*(range(n + 1) for n in trials))), dtype=float)
    expected_all = len(X) * np.exp(
        logsumexp(_log_joint(cells, trials, est.weights_, est.means_), axis=1)
    )
    expected = len(X) * np.exp(
        logsumexp(_log_joint(patterns, trials, est.weights_, est.means_), axis=1)
    )
    g2 = 2 * np.sum(observed * np.log(observed / expected))
    index = {tuple(cell): i for i, cell in enumerate(cells)}
    counts = np.zeros(len(cells))
    for pattern, count in zip(patterns, observed, strict=True):
        counts[index[tuple(pattern)]] = count
    x2 = np.sum((counts - expected_all) ** 2 / expected_all)
    # Sums of the same terms in other orders; G² has terms of both signs.
    assert report.g_squared == pytest.approx(g2, rel=1e-9, abs=1e-9)
    assert report.chi_squared == pytest.approx(x2, rel=1e-9)
    assert report.df == min(150, len(cells) - 1) - est.n_parameters_
    assert report.log_likelihood == pytest.approx(est.score(X) * 150, rel=1e-12)
    assert report.n_items == 3
    paired = BinomialMixtureEM(2, n_trials="paired", random_state=0).fit(
        np.hstack([X, trials - X])
    )
    report = fit_report(paired, np.hstack([X, trials - X]))
    assert report.g_squared is None and report.df is None and report.n_items == 3
    assert "vary per entry" in report.fit_statistics_note
    str(report)  # renders without a degrees-of-freedom figure
