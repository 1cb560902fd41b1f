"""Mplus's classification table and the expected classification error."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

from skcoinmix import BernoulliMixtureEM, CategoricalMixtureEM
from skcoinmix.inference import classification_table


def _hand_posteriors(X, weights, means):
    """``p(k | x_i)`` by Bayes' rule from scipy's Bernoulli pmf, row by row."""
    posteriors = np.empty((X.shape[0], len(weights)))
    for i, row in enumerate(X):
        joint = [
            w * np.prod(stats.bernoulli.pmf(row, t))
            for w, t in zip(weights, means, strict=True)
        ]
        posteriors[i] = np.array(joint) / np.sum(joint)
    return posteriors


def _hand_table(posteriors, sample_weight):
    """The table, the counts and the error by explicit loops over the rows."""
    K = posteriors.shape[1]
    sums, counts = np.zeros((K, K)), np.zeros(K)
    best_total = 0.0
    for r, w in zip(posteriors, sample_weight, strict=True):
        k = int(np.argmax(r))
        sums[k] += w * r
        counts[k] += w
        best_total += w * r.max()
    return sums / counts[:, None], counts, 1 - best_total / sample_weight.sum()


def test_against_a_hand_computation(rng):
    X = (rng.random((40, 3)) < 0.5).astype(np.float64)
    est = BernoulliMixtureEM(2, random_state=0).fit(X)
    # Parameters set by hand, so that the posteriors are known independently.
    est.weights_ = np.array([0.3, 0.7])
    est.means_ = np.array([[0.9, 0.8, 0.3], [0.2, 0.3, 0.6]])
    sample_weight = rng.integers(1, 5, size=40).astype(np.float64)
    posteriors = _hand_posteriors(X, est.weights_, est.means_)
    table, counts, error = _hand_table(posteriors, sample_weight)

    result = classification_table(est, X, sample_weight=sample_weight)
    # Sums of at most 40 terms of products: rounding only.
    assert_allclose(result.table, table, rtol=1e-12)
    assert_allclose(result.counts, counts, rtol=1e-12)
    assert_allclose(result.expected_counts, sample_weight @ posteriors, rtol=1e-12)
    assert result.classification_error == pytest.approx(error, rel=1e-12)
    assert_allclose(result.table.sum(axis=1), 1.0, rtol=1e-12)
    assert result.counts.sum() == pytest.approx(sample_weight.sum())


def test_weights_are_frequencies(rng):
    codes = rng.integers(0, 3, size=(30, 4))
    est = CategoricalMixtureEM(3, random_state=0).fit(codes)
    counts = rng.integers(0, 4, size=30)
    weighted = classification_table(est, codes, sample_weight=counts)
    expanded = classification_table(est, np.repeat(codes, counts, axis=0))
    assert_allclose(weighted.table, expanded.table, rtol=1e-12)
    assert_allclose(weighted.counts, expanded.counts, rtol=1e-12)
    assert_allclose(weighted.expected_counts, expanded.expected_counts, rtol=1e-12)
    assert weighted.classification_error == pytest.approx(
        expanded.classification_error, rel=1e-12
    )
    # Ratios do not depend on the weights' scale (computed with the weights
    # rescaled by a power of two: bit for bit); counts follow it.
    scaled = classification_table(est, codes, sample_weight=counts * 2.0**900)
    assert_array_equal(scaled.table, weighted.table)
    assert_array_equal(scaled.counts, weighted.counts * 2.0**900)
    assert scaled.classification_error == weighted.classification_error


def test_certain_and_empty_classes():
    X = np.array([[1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0]], dtype=float)
    est = BernoulliMixtureEM(3, random_state=0).fit(X)
    est.weights_ = np.array([0.5, 0.5, 0.0])
    est.means_ = np.array([[1 - 1e-10] * 3, [1e-10] * 3, [0.5] * 3])
    result = classification_table(est, X)
    # Every row is certain of its class; no row is assigned to class 2.
    assert_allclose(result.table[:2], [[1, 0, 0], [0, 1, 0]], atol=1e-12)
    assert np.all(np.isnan(result.table[2]))
    assert_array_equal(result.counts, [2, 2, 0])
    assert result.classification_error == pytest.approx(0, abs=1e-12)


def test_one_class_has_no_error(rng):
    X = (rng.random((20, 3)) < 0.5).astype(np.float64)
    result = classification_table(BernoulliMixtureEM(1).fit(X), X)
    assert_array_equal(result.table, [[1.0]])
    assert result.classification_error == 0.0


def test_errors(rng):
    X = (rng.random((20, 3)) < 0.5).astype(np.float64)
    with pytest.raises(ValueError, match="estimator"):
        classification_table("a model", X)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        classification_table(BernoulliMixtureEM(2), X)
    est = BernoulliMixtureEM(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="sample_weight"):
        classification_table(est, X, sample_weight=-np.ones(20))
