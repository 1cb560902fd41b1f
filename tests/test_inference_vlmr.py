"""The Vuong-Lo-Mendell-Rubin test (skcoinmix.inference.vlmr_test), by its parts.

- the weighted chi-square tail against closed forms (sums of exponentials)
  and Monte Carlo;
- the eigenvalue weights against Vuong's (1989) matrix ``W`` built here by
  brute force: per-row scores and Hessians of a log-likelihood written in
  this file, by finite differences, in a parameterisation of its own;
- the test itself: its statistic and the adjusted one from their
  definitions, the ``K - 1`` class refit, and its power on separated
  classes.

Its empirical size is measured by ``benchmarks/vlmr_size.py`` (recorded in
docs/inference_se.inc): too slow for the test suite.
"""

import math

import numpy as np
import pytest
from scipy.special import expit, logsumexp, softmax
from scipy.stats import chi2

from skcoinmix import BernoulliMixtureEM, CategoricalMixtureEM
from skcoinmix.inference import vlmr_test, weighted_chi2_sf


# ------------------------------------------------------- the tail
@pytest.mark.parametrize("x", [0.1, 1.0, 3.0, 10.0, 30.0])
def test_tail_against_closed_forms(x):
    # 1 * chi2(2) + 0.5 * chi2(2) is the sum of exponentials of means 2 and
    # 1: P(Q > x) = 2 exp(-x/2) - exp(-x). With -0.5 instead it is their
    # difference: P(Q > x) = (2/3) exp(-x/2) for x >= 0. Imhof's integral is
    # accurate to about 1e-10 absolute (QUADPACK's tolerances).
    assert weighted_chi2_sf(x, [1, 1, 0.5, 0.5]) == pytest.approx(
        2 * math.exp(-x / 2) - math.exp(-x), abs=1e-9
    )
    assert weighted_chi2_sf(x, [1, 1, -0.5, -0.5]) == pytest.approx(
        2 / 3 * math.exp(-x / 2), abs=1e-9
    )
    assert weighted_chi2_sf(x, [2.0] * 3) == pytest.approx(chi2.sf(x / 2, 3), abs=1e-9)
    # Zero weights change nothing; a negative sum is below every x > 0.
    assert weighted_chi2_sf(x, [2.0, 0.0, 2.0, 2.0]) == pytest.approx(
        chi2.sf(x / 2, 3), abs=1e-9
    )
    assert weighted_chi2_sf(x, [-1.0, -2.0]) == 0.0
    assert weighted_chi2_sf(-x, [-1.0]) == pytest.approx(chi2.cdf(x, 1), abs=1e-9)


def test_tail_without_weights_and_of_one_sign():
    assert weighted_chi2_sf(1.0, []) == 0.0
    assert weighted_chi2_sf(-1.0, [0.0]) == 1.0
    assert weighted_chi2_sf(-1.0, [1.0, 2.0]) == 1.0
    # Symmetric weights: P(Q > 0) = 1/2 (the integral without oscillation).
    assert weighted_chi2_sf(0.0, [1.0, -1.0]) == pytest.approx(0.5, abs=1e-9)


def test_tail_against_monte_carlo(rng):
    weights = np.concatenate([rng.uniform(0.1, 2.0, size=6), -rng.uniform(0, 1, 2)])
    draws = rng.standard_normal((200_000, weights.size)) ** 2 @ weights
    for x in np.quantile(draws, [0.05, 0.5, 0.9, 0.99]):
        exact = weighted_chi2_sf(x, weights)
        empirical = (draws > x).mean()
        # 5 binomial standard errors: fails by chance with probability 6e-7.
        assert abs(exact - empirical) <= 5 * math.sqrt(
            exact * (1 - exact) / draws.shape[0]
        )


# ------------------------------------------------ the eigenvalues
def _log_likelihoods(eta, X, K):
    """``log p(x_i)`` of a Bernoulli mixture at ``eta`` (complete 0/1 data).

    ``eta`` = (``log(w_k / w_K)`` for ``k < K``, then ``logit t_kj`` class by
    class); in this parameterisation of its own the eigenvalues are the
    same (``W`` changes by a similarity).
    """
    d = X.shape[1]
    log_w = np.log(softmax(np.append(eta[: K - 1], 0.0)))
    t = expit(eta[K - 1 :].reshape(K, d))
    log_joint = log_w + X @ np.log(t).T + (1 - X) @ np.log1p(-t).T
    return logsumexp(log_joint, axis=1)


def _scores_and_hessian(eta, X, K, step=1e-3):
    Q = eta.size
    scores = np.empty((X.shape[0], Q))
    hessian = np.empty((Q, Q))
    basis = np.eye(Q) * step
    for a in range(Q):
        scores[:, a] = (
            _log_likelihoods(eta + basis[a], X, K)
            - _log_likelihoods(eta - basis[a], X, K)
        ) / (2 * step)
        for b in range(a, Q):
            total = [
                _log_likelihoods(eta + sa * basis[a] + sb * basis[b], X, K).sum()
                for sa, sb in ((1, 1), (1, -1), (-1, 1), (-1, -1))
            ]
            hessian[a, b] = hessian[b, a] = (
                total[0] - total[1] - total[2] + total[3]
            ) / (4 * step**2)
    return scores, hessian


def _eta(est):
    w = est.weights_
    return np.concatenate(
        [np.log(w[:-1] / w[-1]), np.log(est.means_ / (1 - est.means_)).ravel()]
    )


def test_eigenvalues_against_vuongs_matrix(rng):
    n, d = 150, 4
    labels = rng.random(n) < 0.5
    X = (rng.random((n, d)) < np.where(labels[:, None], 0.8, 0.25)).astype(float)
    full = BernoulliMixtureEM(2, n_init=3, tol=1e-8, max_iter=2000, random_state=0)
    full.fit(X)
    result = vlmr_test(full, X)
    null = result.null_estimator
    assert null.n_components == 1
    s_f, h_f = _scores_and_hessian(_eta(full), X, 2)
    s_g, h_g = _scores_and_hessian(_eta(null), X, 1)
    # Vuong (1989), Theorem 3.3: A = mean Hessian, B = mean cross-products.
    A_f, A_g = h_f / n, h_g / n
    B_f, B_g, B_fg = s_f.T @ s_f / n, s_g.T @ s_g / n, s_f.T @ s_g / n
    W = np.block(
        [
            [-B_f @ np.linalg.inv(A_f), -B_fg @ np.linalg.inv(A_g)],
            [B_fg.T @ np.linalg.inv(A_f), B_g @ np.linalg.inv(A_g)],
        ]
    )
    eigenvalues = np.linalg.eigvals(W)
    # Real up to rounding (W is similar to a symmetric matrix).
    assert np.abs(eigenvalues.imag).max() < 1e-6 * np.abs(eigenvalues).max()
    expected = np.sort(eigenvalues.real)[::-1]
    # Those that are not zeros up to the finite differences' errors.
    scale = np.abs(expected).max()
    expected = expected[np.abs(expected) > 1e-6 * scale]
    computed = result.eigenvalues[np.abs(result.eigenvalues) > 1e-6 * scale]
    # Central differences of step 1e-3 (errors near 1e-6 relative: step^2,
    # and rounding eps |log L| / step^2), through inverses of condition
    # below 1e3: 1e-4 of the largest eigenvalue.
    np.testing.assert_allclose(computed, expected, atol=1e-4 * scale)
    assert expected.size >= 5  # a nontrivial set of weights


# ------------------------------------------------------- the test
def _separated(rng, n=300, d=6):
    labels = rng.random(n) < 0.4
    return (rng.random((n, d)) < np.where(labels[:, None], 0.85, 0.15)).astype(float)


def test_statistic_and_adjustment(rng):
    X = _separated(rng)
    weight = rng.integers(1, 3, size=X.shape[0]).astype(float)
    est = BernoulliMixtureEM(
        2, n_init=2, means_init=[[0.8] * 6, [0.2] * 6], random_state=0
    ).fit(X, sample_weight=weight)
    result = vlmr_test(est, X, sample_weight=weight, random_state=1)
    null = result.null_estimator
    assert null.n_components == 1 and null.means_init is None
    assert null.random_state == 1 and est.n_components == 2
    assert result.log_likelihood == pytest.approx(weight @ est.score_samples(X))
    assert result.null_log_likelihood == pytest.approx(weight @ null.score_samples(X))
    assert result.statistic == pytest.approx(
        2 * (result.log_likelihood - result.null_log_likelihood)
    )
    assert (result.n_parameters, result.null_n_parameters) == (13, 6)
    # Lo, Mendell and Rubin (2001): LR / (1 + 1 / ((p - q) log N)).
    assert result.adjusted_statistic == pytest.approx(
        result.statistic / (1 + 1 / (7 * math.log(weight.sum())))
    )
    assert result.pvalue == weighted_chi2_sf(result.statistic, result.eigenvalues)
    assert result.adjusted_pvalue == weighted_chi2_sf(
        result.adjusted_statistic, result.eigenvalues
    )
    # Two classes far apart: one class is rejected.
    assert result.pvalue < 1e-6 and result.adjusted_pvalue < 1e-6
    assert result.adjusted_pvalue >= result.pvalue


def test_categorical_refit_clears_the_start(rng):
    X = _separated(rng, n=200, d=4).astype(int)
    probs_init = [np.array([[0.2, 0.8], [0.8, 0.2]])] * 4
    est = CategoricalMixtureEM(2, probs_init=probs_init, weights_init=[0.5, 0.5])
    result = vlmr_test(est.fit(X), X)
    assert result.null_estimator.probs_init is None
    assert result.null_estimator.weights_init is None
    assert 0.0 <= result.pvalue <= 1.0
    assert result.statistic > 0


def test_one_class_is_refused(rng):
    X = _separated(rng, n=50)
    est = BernoulliMixtureEM(1).fit(X)
    with pytest.raises(ValueError, match="n_components=1"):
        vlmr_test(est, X)
