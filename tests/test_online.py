"""partial_fit: online (stepwise) EM on mini-batches."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM
from skcoinmix.datasets import make_bernoulli_mixture


def mixture_data(seed, n_samples=6000):
    rng = np.random.default_rng(seed)
    means = rng.uniform(0.1, 0.9, size=(4, 20))
    return make_bernoulli_mixture(n_samples, np.full(4, 0.25), means, random_state=seed)


def test_first_full_batch_is_one_em_update(rng):
    X = (rng.uniform(size=(200, 6)) < 0.4).astype(float)
    means = rng.uniform(0.2, 0.8, size=(3, 6))
    sample_weight = rng.uniform(0.5, 2, size=200)
    online = BernoulliMixtureEM(3, means_init=means, alpha=0.5)
    online.partial_fit(X, sample_weight=sample_weight)
    batch = BernoulliMixtureEM(3, means_init=means, alpha=0.5, max_iter=1, tol=0)
    with pytest.warns(ConvergenceWarning):
        batch.fit(X, sample_weight=sample_weight)
    assert_allclose(online.means_, batch.means_, rtol=1e-12)
    assert_allclose(online.weights_, batch.weights_, rtol=1e-12)
    assert online.n_steps_ == 1


@pytest.mark.parametrize("tied", [False, True])
def test_few_passes_come_within_one_percent_of_batch_em(seed, tied):
    # Both from the same start (the default k-means initialisation on X).
    X, _ = mixture_data(seed)
    start = BernoulliMixtureEM(4, tie_features=tied, max_iter=0, random_state=seed)
    start.fit(X)
    common = dict(
        n_components=4,
        tie_features=tied,
        means_init=start.means_,
        weights_init=start.weights_,
    )
    batch_score = BernoulliMixtureEM(tol=1e-6, max_iter=1000, **common).fit(X).score(X)
    rng = np.random.default_rng(seed)
    online = BernoulliMixtureEM(**common)
    for _ in range(5):
        for batch_rows in np.array_split(rng.permutation(len(X)), 30):
            online.partial_fit(X[batch_rows])
    assert online.n_steps_ == 150
    assert online.score(X) >= batch_score - 0.01 * abs(batch_score)
    assert np.all(np.isfinite(online.lower_bounds_))


def test_continues_after_fit_and_fit_resets(rng):
    X, _ = mixture_data(0, n_samples=1000)
    est = BernoulliMixtureEM(4, random_state=0).fit(X)
    fitted_score = est.score(X)
    est.partial_fit(X[:500])
    assert est.n_steps_ == 1
    assert est.score(X) > fitted_score - 0.05 * abs(fitted_score)
    est.fit(X)
    assert not hasattr(est, "n_steps_")


def test_weights_equal_repeated_rows_in_a_batch(rng):
    X = (rng.uniform(size=(60, 5)) < 0.5).astype(float)
    counts = rng.integers(0, 3, size=60)
    counts[:3] = 1
    means = rng.uniform(0.2, 0.8, size=(2, 5))
    weighted = BernoulliMixtureEM(2, means_init=means)
    repeated = BernoulliMixtureEM(2, means_init=means)
    for batch in np.array_split(np.arange(60), 3):
        weighted.partial_fit(X[batch], sample_weight=counts[batch])
        repeated.partial_fit(np.repeat(X[batch], counts[batch], axis=0))
    assert_allclose(weighted.means_, repeated.means_, rtol=1e-12)


def test_bad_batches_are_errors_and_leave_the_model_unchanged(rng):
    X = (rng.uniform(size=(50, 5)) < 0.5).astype(float)
    est = BernoulliMixtureEM(3)
    with pytest.raises(ValueError, match="first batch initialises the model"):
        est.partial_fit(X[:2])
    assert not hasattr(est, "means_")
    est.partial_fit(X)
    means = est.means_.copy()
    with pytest.raises(ValueError, match="5 features"):
        est.partial_fit(np.ones((4, 3)))
    with pytest.raises(ValueError, match="learning_decay"):
        BernoulliMixtureEM(learning_decay=0.4).partial_fit(X)
    assert_allclose(est.means_, means)
    assert est.n_steps_ == 1
