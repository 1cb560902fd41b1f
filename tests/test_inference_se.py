"""Standard errors (skcoinmix.inference.standard_errors).

Oracles:

- poLCA's published standard errors for the Stouffer-Toby data (poLCA's
  ``values``; D. A. Linzer and J. B. Lewis, "poLCA: An R package for
  polytomous variable latent class analysis", Journal of Statistical
  Software 42(10), 2011, and the package's example ``poLCA(cbind(A, B, C, D)
  ~ 1, values, nclass = 2)``, whose standard errors ``poLCA.se`` computes):
  class shares 0.7208 and 0.2792 with standard error 0.056143 each; item A's
  probability of the universalistic answer with standard errors 0.039300
  (share 0.7208) and 0.025393 (share 0.2792);
- a brute-force log-likelihood written here (plain numpy and
  ``scipy.special.logsumexp``) in a parameterisation of its own (the *last*
  category and class as references, where the package uses the first), whose
  finite-difference Hessian and gradients give the covariance on the
  probability scale independently (it is invariant under the change of
  parameterisation).
"""

import doctest
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.special import logsumexp, softmax
from sklearn.exceptions import NotFittedError

from skcoinmix import BernoulliMixtureEM, BinomialMixtureEM, CategoricalMixtureEM
from skcoinmix.datasets import from_patterns, load_lca_example
from skcoinmix.inference import standard_errors

#: Tight convergence, so that the estimates carry poLCA's printed digits.
POLCA_FIT = {
    "init_params": "random",
    "n_init": 5,
    "tol": 1e-12,
    "max_iter": 10000,
    "random_state": 0,
}


#: The brute-force comparisons are made at the maximum, on data of well
#: separated classes: there no parameter is on the boundary (where
#: standard_errors holds it fixed) and the observed information is positive
#: definite (away from the maximum it may curve up, which standard_errors
#: leaves out with a warning, while the brute-force inverse would not).
AT_THE_MAXIMUM = {"tol": 1e-10, "max_iter": 5000, "random_state": 0}


# ------------------------------------------------------------ poLCA
def _polca_classes(est):
    """The classes by decreasing share, as poLCA orders them here."""
    return np.argsort(-est.weights_)


@pytest.mark.parametrize("model", [BernoulliMixtureEM, CategoricalMixtureEM])
@pytest.mark.parametrize("as_rows", [False, True])
def test_stouffer_toby_matches_polca(model, as_rows):
    patterns, counts = load_lca_example("stouffer_toby", as_patterns=True)
    if as_rows:  # frequency weights must give what the expanded rows give
        X, weight = from_patterns(patterns, counts), None
    else:
        X, weight = patterns, counts
    est = model(2, **POLCA_FIT).fit(X, sample_weight=weight)
    se = standard_errors(est, X, sample_weight=weight)
    big, small = _polca_classes(est)
    assert np.round(est.weights_[[big, small]], 4).tolist() == [0.7208, 0.2792]
    # Published to 6 decimals: equal after rounding.
    assert np.round(se.weights, 6).tolist() == [0.056143, 0.056143]
    if model is CategoricalMixtureEM:
        # Item A's categories are 0 and 1 (1 = universalistic, the data's
        # README); the SE of a binary item's two probabilities is one value.
        item_a = se.probs[0][:, 1]
        assert np.allclose(se.probs[0][:, 0], item_a, rtol=1e-12)
    else:
        item_a = se.probs[:, 0]
    assert np.round(item_a[[big, small]], 6).tolist() == [0.039300, 0.025393]
    assert se.method == "opg"


def test_stouffer_toby_layout():
    X, counts = load_lca_example("stouffer_toby", as_patterns=True)
    est = BernoulliMixtureEM(2, **POLCA_FIT).fit(X, sample_weight=counts)
    se = standard_errors(est, X, sample_weight=counts, method="hessian")
    assert se.labels[:3] == ["weights_[0]", "weights_[1]", "means_[0, 0]"]
    assert se.labels[-1] == "means_[1, 3]"
    assert se.covariance.shape == (10, 10)
    assert np.allclose(np.sqrt(np.diag(se.covariance)[2:]), se.probs.ravel())
    # The weights sum to 1: their variances are equal, their covariance
    # minus the variance.
    assert se.covariance[0, 1] == pytest.approx(-se.covariance[0, 0])
    assert not se.boundary_probs.any() and not se.boundary_weights.any()
    assert se.information.shape == (9, 9)


# ------------------------------------------------ brute-force oracle
def _brute_log_likelihoods(eta, rows, layout):
    """Each row's ``log p(x_i)`` at the log-ratio vector ``eta``.

    ``rows`` is a list of rows, each a list of per-item count vectors (a
    missing item: zeros);
    ``layout`` = (K, item sizes, fit_weights, fixed weights). Weights first,
    ``log(w_k / w_K)`` for ``k < K``; then for each class and item
    ``log(t_kjc / t_kjC)`` for ``c < C_j``.
    """
    K, sizes, fit_weights, fixed_weights = layout
    rows = np.array([np.concatenate(row) for row in rows])
    position = 0
    if fit_weights:
        log_w = np.log(softmax(np.append(eta[: K - 1], 0.0)))
        position = K - 1
    else:
        log_w = np.log(fixed_weights)
    log_t = []
    for _k in range(K):
        per_item = []
        for size in sizes:
            ratios = np.append(eta[position : position + size - 1], 0.0)
            per_item.append(ratios - logsumexp(ratios))
            position += size - 1
        log_t.append(per_item)
    # rows: (n, C), each item's counts side by side; log t: (K, C).
    log_t = np.array([np.concatenate(per_item) for per_item in log_t])
    return logsumexp(log_w + rows @ log_t.T, axis=1)


def _probabilities(eta, layout):
    """``(weights, probabilities)`` at ``eta``, in the order of the result's labels."""
    K, sizes, fit_weights, fixed_weights = layout
    position = 0
    if fit_weights:
        weights = softmax(np.append(eta[: K - 1], 0.0))
        position = K - 1
    else:
        weights = np.asarray(fixed_weights)
    probs = []
    for _k in range(K):
        for size in sizes:
            probs.append(softmax(np.append(eta[position : position + size - 1], 0.0)))
            position += size - 1
    return np.concatenate([weights, *probs])


def _eta(weights, probs_per_class_item, fit_weights):
    """The brute-force parameterisation of fitted values (last as reference)."""
    parts = [np.log(weights[:-1] / weights[-1])] if fit_weights else []
    for per_item in probs_per_class_item:
        for t in per_item:
            parts.append(np.log(t[:-1] / t[-1]))
    return np.concatenate(parts)


def _finite_difference_covariances(eta, rows, weight, layout, select, step=1e-3):
    """OPG and observed-information covariances on the probability scale.

    Central differences: the gradient of each row's log-likelihood (error
    O(step^2)) and the Hessian of the total from differences of the
    analytic-free gradient (error O(step^2) plus rounding eps |l| / step^2).
    """
    Q = eta.size

    def per_row(point):
        return _brute_log_likelihoods(point, rows, layout)

    def total(point):
        return weight @ per_row(point)

    scores = np.empty((len(rows), Q))
    hessian = np.empty((Q, Q))
    for a in range(Q):
        e_a = np.zeros(Q)
        e_a[a] = step
        scores[:, a] = (per_row(eta + e_a) - per_row(eta - e_a)) / (2 * step)
        for b in range(a, Q):
            e_b = np.zeros(Q)
            e_b[b] = step
            hessian[a, b] = hessian[b, a] = (
                total(eta + e_a + e_b)
                - total(eta + e_a - e_b)
                - total(eta - e_a + e_b)
                + total(eta - e_a - e_b)
            ) / (4 * step**2)
    opg = scores.T @ (weight[:, np.newaxis] * scores)
    jacobian = np.empty((select.size, Q))
    for a in range(Q):
        e_a = np.zeros(Q)
        e_a[a] = step
        jacobian[:, a] = (
            _probabilities(eta + e_a, layout)[select]
            - _probabilities(eta - e_a, layout)[select]
        ) / (2 * step)
    return (
        jacobian @ np.linalg.inv(opg) @ jacobian.T,
        jacobian @ np.linalg.inv(-hessian) @ jacobian.T,
    )


def _check_against_brute_force(est, X, weight, rows, sizes, probs, select):
    fit_weights = est.fit_weights
    layout = (est.n_components, sizes, fit_weights, est.weights_)
    eta = _eta(est.weights_, probs, fit_weights)
    opg_cov, hessian_cov = _finite_difference_covariances(
        eta, rows, weight, layout, select
    )
    for method, expected in (("opg", opg_cov), ("hessian", hessian_cov)):
        se = standard_errors(est, X, method=method, sample_weight=weight)
        # Central differences of step 1e-3 err by about step^2 = 1e-6
        # relative (truncation), plus the rounding of log-likelihoods near
        # 1e3 over step^2 (eps 1e3 / 1e-6 = 2e-7 absolute on curvatures of
        # 1 or more); the inverse multiplies them by the condition number
        # (up to 1e4 here): measured 1e-5 at worst over seeds 0-9. 1e-4 of
        # the largest entry leaves that margin, yet catches any wrong term
        # (a missing-information term off by 0.1% fails it).
        scale = np.abs(expected).max()
        np.testing.assert_allclose(se.covariance, expected, atol=1e-4 * scale)
        if not fit_weights:
            assert np.all(se.weights == 0)


def _categorical_truth(sizes, K):
    """Classes of distinct answers (each class favours its own category).

    Far from the boundary, and the information is well conditioned.
    """
    truth = [
        np.array([np.roll(np.eye(size)[0] * 5 + 1, k) for k in range(K)])
        for size in sizes
    ]
    return [t / t.sum(axis=1, keepdims=True) for t in truth]


def _random_categorical(rng, n, sizes, K, missing=0.1):
    truth = _categorical_truth(sizes, K)
    labels = rng.integers(K, size=n)
    X = np.column_stack(
        [
            [rng.choice(size, p=t[label]) for label in labels]
            for size, t in zip(sizes, truth, strict=True)
        ]
    ).astype(np.float64)
    X[rng.random(X.shape) < missing] = np.nan
    X[:, 0][np.isnan(X).all(axis=1)] = 0  # no row without any answer
    return X


def _onehot_rows(codes, sizes):
    rows = []
    for row in codes:
        rows.append(
            [
                np.zeros(size) if np.isnan(value) else np.eye(size)[int(value)]
                for value, size in zip(row, sizes, strict=True)
            ]
        )
    return rows


@pytest.mark.parametrize("fit_weights", [True, False])
def test_categorical_with_missing_and_weights_against_brute_force(rng, fit_weights):
    sizes = [2, 3, 4]
    X = _random_categorical(rng, 300, sizes, 2)
    weight = rng.integers(1, 4, size=X.shape[0]).astype(np.float64)
    est = CategoricalMixtureEM(
        2, fit_weights=fit_weights, weights_init=[0.5, 0.5], **AT_THE_MAXIMUM
    ).fit(X, sample_weight=weight)
    assert all(len(c) == s for c, s in zip(est.categories_, sizes, strict=True))
    probs = [[block[k] for block in est.probs_] for k in range(2)]
    select = np.arange(2 + 2 * sum(sizes))
    _check_against_brute_force(
        est, X, weight, _onehot_rows(X, sizes), sizes, probs, select
    )


def _binary_rows(X, trials):
    """Bernoulli or binomial entries as (failures, successes) count vectors."""
    rows = []
    for row in X:
        rows.append(
            [
                np.zeros(2) if np.isnan(value) else np.array([n - value, value])
                for value, n in zip(row, trials, strict=True)
            ]
        )
    return rows


def _binary_select(K, d):
    # weights, then each (class, item)'s probability of success (index 1).
    return np.concatenate([np.arange(K), K + 2 * np.arange(K * d) + 1])


def test_bernoulli_with_missing_against_brute_force(rng):
    K, d = 2, 4
    X = (
        rng.random((300, d)) < np.where(rng.random(300)[:, None] < 0.4, 0.8, 0.2)
    ).astype(float)
    X[rng.random(X.shape) < 0.1] = np.nan
    est = BernoulliMixtureEM(K, **AT_THE_MAXIMUM).fit(X)
    weight = np.ones(X.shape[0])
    probs = [[np.array([1 - t, t]) for t in est.means_[k]] for k in range(K)]
    _check_against_brute_force(
        est,
        X,
        weight,
        _binary_rows(X, np.ones(d)),
        [2] * d,
        probs,
        _binary_select(K, d),
    )


def test_tied_bernoulli_against_brute_force(rng):
    K, d = 2, 5
    X = (
        rng.random((70, d)) < np.where(rng.random(70)[:, None] < 0.5, 0.8, 0.3)
    ).astype(float)
    X[rng.random(X.shape) < 0.1] = np.nan
    est = BernoulliMixtureEM(K, tie_features=True, **AT_THE_MAXIMUM).fit(X)

    ones = np.nansum(X, axis=1)
    observed = (~np.isnan(X)).sum(axis=1)
    rows = [[np.array([n - s, s])] for s, n in zip(ones, observed, strict=True)]
    probs = [[np.array([1 - est.means_[k, 0], est.means_[k, 0]])] for k in range(K)]
    _check_against_brute_force(
        est, X, np.ones(X.shape[0]), rows, [2], probs, _binary_select(K, 1)
    )
    se = standard_errors(est, X)
    assert se.probs.shape == est.means_.shape
    assert np.all(se.probs == se.probs[:, :1])  # one probability per class
    assert se.labels[2:] == ["means_[0, :]", "means_[1, :]"]


@pytest.mark.parametrize("paired", [False, True])
def test_binomial_against_brute_force(rng, paired):
    K, d = 2, 3
    trials = np.array([5, 8, 3])
    labels = rng.random(60) < 0.5
    successes = rng.binomial(trials, np.where(labels[:, None], 0.7, 0.3)).astype(float)
    successes[rng.random(successes.shape) < 0.1] = np.nan
    if paired:
        # Trials that vary per entry.
        n = trials + rng.integers(0, 3, size=successes.shape)
        X = np.hstack([successes, n - successes])
        est = BinomialMixtureEM(K, n_trials="paired", **AT_THE_MAXIMUM).fit(X)
        rows = [
            [
                np.zeros(2) if np.isnan(s) else np.array([m - s, s])
                for s, m in zip(row, n_row, strict=True)
            ]
            for row, n_row in zip(successes, n, strict=True)
        ]
    else:
        X = successes
        est = BinomialMixtureEM(K, n_trials=trials, **AT_THE_MAXIMUM).fit(X)
        rows = _binary_rows(X, trials)
    probs = [[np.array([1 - t, t]) for t in est.means_[k]] for k in range(K)]
    _check_against_brute_force(
        est, X, np.ones(X.shape[0]), rows, [2] * d, probs, _binary_select(K, d)
    )


# ------------------------------------------------------------ boundary
def test_boundary_probabilities_are_held_fixed(rng):
    # A column of ones: its probability is 1 - 1e-10 in every class (the
    # clip), on the boundary; it adds nothing to the likelihood, so the
    # other standard errors are those of the data without it.
    X = (
        rng.random((120, 4)) < np.where(rng.random(120)[:, None] < 0.5, 0.85, 0.2)
    ).astype(float)
    with_constant = np.column_stack([X, np.ones(len(X))])
    est = BernoulliMixtureEM(2, random_state=0).fit(X)
    est_constant = BernoulliMixtureEM(2, random_state=0).fit(with_constant)
    assert np.all(est_constant.means_[:, -1] == 1 - 1e-10)  # clipped
    # The same parameters for the other items, so that only the constant
    # column differs.
    est_constant.weights_ = est.weights_.copy()
    est_constant.means_[:, :-1] = est.means_
    for method in ("opg", "hessian"):
        se = standard_errors(est, X, method=method)
        se_constant = standard_errors(est_constant, with_constant, method=method)
        assert np.all(np.isnan(se_constant.probs[:, -1]))
        assert se_constant.boundary_probs[:, -1].all()
        assert not se_constant.boundary_probs[:, :-1].any()
        # The column's terms (log(1 - 1e-10) per row and class) change the
        # posteriors by about 1e-10: far below 1e-6.
        np.testing.assert_allclose(se_constant.probs[:, :-1], se.probs, rtol=1e-6)
        np.testing.assert_allclose(se_constant.weights, se.weights, rtol=1e-6)
        fixed = [
            i for i, label in enumerate(se_constant.labels) if label.endswith(", 4]")
        ]
        assert len(fixed) == 2
        assert np.all(se_constant.covariance[fixed] == 0)
        assert np.all(se_constant.covariance[:, fixed] == 0)


def test_boundary_category_of_a_categorical_item(rng):
    # Category 2 of item 1 never occurs: its probability is floored at
    # 1e-10 in both classes; the other categories keep finite SEs.
    X = _random_categorical(rng, 200, [3, 3, 3], 2, missing=0.0)
    X[:, 1] = np.where(X[:, 1] == 2, 0, X[:, 1])
    est = CategoricalMixtureEM(
        2, categories=[[0, 1, 2]] * 3, tol=1e-10, max_iter=5000, random_state=0
    ).fit(X)
    se = standard_errors(est, X, method="hessian")
    assert np.all(np.isnan(se.probs[1][:, 2]))
    assert np.all(np.isfinite(se.probs[1][:, :2]))
    assert np.all(np.isfinite(se.probs[0])) and np.all(np.isfinite(se.weights))


def test_emptied_class_is_on_the_boundary(rng):
    # A class whose weight is 0 (EM empties a class whose posterior
    # underflows for every row): its weight and probabilities are fixed,
    # the other class's weight (then 1) too; the remaining probabilities
    # are a one-class model's proportions.
    X = (rng.random((50, 3)) < 0.4).astype(float)
    est = BernoulliMixtureEM(2, random_state=0).fit(X)
    est.weights_ = np.array([1.0, 0.0])
    est.means_[0] = X.mean(axis=0)
    se = standard_errors(est, X, method="hessian")
    assert se.boundary_weights.tolist() == [True, True]
    assert np.all(np.isnan(se.weights))
    assert se.boundary_probs[1].all() and not se.boundary_probs[0].any()
    t = X.mean(axis=0)
    np.testing.assert_allclose(se.probs[0], np.sqrt(t * (1 - t) / 50), rtol=1e-9)


def test_unidentified_model_uses_the_pseudo_inverse(rng):
    # Three classes on three binary items: 11 parameters for 7 free cell
    # probabilities, so the information has rank 7 at most; the pseudo-inverse
    # (as poLCA's MASS::ginv) still gives a symmetric, positive semi-definite
    # covariance with finite standard errors.
    X = (
        rng.random((400, 3)) < np.where(rng.random(400)[:, None] < 0.5, 0.8, 0.2)
    ).astype(float)
    est = BernoulliMixtureEM(3, random_state=0).fit(X)
    for method in ("opg", "hessian"):
        with warnings.catch_warnings():
            # Away from the exact maximum, the observed information of an
            # unidentified model may curve up in some direction: warned of
            # (tested below), and left out.
            warnings.filterwarnings("ignore", "The observed information is not")
            se = standard_errors(est, X, method=method)
        if method == "opg":
            # Scores of 8 patterns that sum to 0 at the maximum: rank 7. (The
            # observed information is only nearly singular away from the
            # exact maximum: EM stopped at tol=1e-3.)
            # matrix_rank's rtol needs numpy 2: the same bound as an absolute
            # tolerance, for numpy 1.26 too.
            singular = np.linalg.svd(se.information, compute_uv=False)
            assert np.linalg.matrix_rank(se.information, tol=1e-8 * singular[0]) <= 7
        assert np.all(np.isfinite(se.covariance))
        np.testing.assert_allclose(se.covariance, se.covariance.T, atol=1e-12)
        eigenvalues = np.linalg.eigvalsh(se.covariance)
        assert eigenvalues.min() >= -1e-10 * eigenvalues.max()


def test_information_away_from_a_maximum_warns(rng):
    # Two identical classes on data with two clusters: a saddle of the
    # likelihood, which curves up where the classes separate.
    X = (
        rng.random((200, 4)) < np.where(rng.random(200)[:, None] < 0.5, 0.9, 0.1)
    ).astype(float)
    est = BernoulliMixtureEM(2, random_state=0).fit(X)
    est.weights_ = np.array([0.5, 0.5])
    est.means_ = np.tile(X.mean(axis=0), (2, 1))
    with pytest.warns(UserWarning, match="not positive semi-definite"):
        se = standard_errors(est, X, method="hessian")
    assert np.linalg.eigvalsh(se.covariance).min() >= -1e-12
    assert np.all(np.isfinite(se.probs))


# ------------------------------------------------------------ input
def test_bad_input():
    X, counts = load_lca_example("stouffer_toby", as_patterns=True)
    est = BernoulliMixtureEM(2, random_state=0)
    with pytest.raises(NotFittedError):
        standard_errors(est, X)
    est.fit(X, sample_weight=counts)
    with pytest.raises(ValueError, match="method must be 'opg' or 'hessian'"):
        standard_errors(est, X, method="sandwich")
    with pytest.raises(TypeError, match="estimator must be a fitted"):
        standard_errors(object(), X)
    smoothed = BernoulliMixtureEM(2, alpha=1.0, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"alpha=1\.0"):
        standard_errors(smoothed, X)
    with pytest.raises(ValueError, match="sample_weight"):
        standard_errors(est, X, sample_weight=counts[:-1])


def test_one_class_and_sparse_input(rng):
    import scipy.sparse as sp

    X = (rng.random((50, 4)) < 0.3).astype(float)
    est = BernoulliMixtureEM(1).fit(X)
    se = standard_errors(est, sp.csr_matrix(X), method="hessian")
    assert se.weights.tolist() == [0.0]
    # One class: each probability is a proportion, SE sqrt(t (1 - t) / n).
    t = X.mean(axis=0)
    np.testing.assert_allclose(se.probs[0], np.sqrt(t * (1 - t) / 50), rtol=1e-9)


INFERENCE_PAGE = Path(__file__).resolve().parents[1] / "docs" / "inference_se.inc"


@pytest.mark.skipif(
    not INFERENCE_PAGE.exists(),
    reason="docs/ is not shipped with the installed package",
)
def test_inference_page_examples_run():
    # The worked example prints real numbers: they must stay true.
    result = doctest.testfile(
        str(INFERENCE_PAGE),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
        raise_on_error=False,
        verbose=False,
    )
    assert result.attempted > 15
    assert result.failed == 0, "docs/inference_se.inc examples fail: see the output"
