"""reorder_components: the same fitted model with its classes relabelled."""

import copy
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skcoinmix import BernoulliMixtureEM, BinomialMixtureEM, CategoricalMixtureEM
from skcoinmix.inference import reorder_components

K = 3
ORDER = np.array([2, 0, 1])


def _data(kind, rng, n_samples=90):
    """Data of each model with d = 5 items (not K, so shapes tell axes apart)."""
    if kind == "categorical":
        codes = rng.integers(0, 3, size=(n_samples, 5)).astype(np.float64)
        codes[rng.random(codes.shape) < 0.05] = np.nan
        codes[0] = 0  # every column observed at least once
        return codes
    if kind == "binomial":
        return rng.binomial(4, rng.uniform(0.2, 0.8, size=5), size=(n_samples, 5))
    X = (rng.random((n_samples, 5)) < rng.uniform(0.2, 0.8, size=5)) * 1.0
    X[rng.random(X.shape) < 0.05] = np.nan
    X[0] = 1.0
    return X


MODELS = {
    "bernoulli": lambda **kw: BernoulliMixtureEM(K, **kw),
    "tied": lambda **kw: BernoulliMixtureEM(K, tie_features=True, **kw),
    "binomial": lambda **kw: BinomialMixtureEM(K, n_trials=4, **kw),
    "categorical": lambda **kw: CategoricalMixtureEM(K, **kw),
}


def _kind(name):
    return "bernoulli" if name == "tied" else name


def _component_params(est):
    """Every per-component fitted array, as a list."""
    if hasattr(est, "probs_"):
        return [est.weights_, *est.probs_]
    return [est.weights_, est.means_]


def _assert_permuted(reordered, original, order, rtol=0.0):
    for new, old in zip(
        _component_params(reordered), _component_params(original), strict=True
    ):
        assert_allclose(new, old[order], rtol=rtol, atol=0)


@pytest.mark.parametrize("name", MODELS)
def test_predictions_are_permuted(name, rng):
    X = _data(_kind(name), rng)
    est = MODELS[name](random_state=0).fit(X)
    before = copy.deepcopy(est.__dict__)
    reordered = reorder_components(est, ORDER)

    _assert_permuted(reordered, est, ORDER)
    # Each row's terms are the same numbers, in another order: equal up to
    # the rounding of a sum of K terms.
    assert_allclose(
        reordered.predict_proba(X), est.predict_proba(X)[:, ORDER], rtol=1e-12
    )
    assert_allclose(reordered.score_samples(X), est.score_samples(X), rtol=1e-13)
    inverse = np.argsort(ORDER)
    assert_array_equal(reordered.predict(X), inverse[est.predict(X)])
    assert reordered.bic(X) == pytest.approx(est.bic(X), rel=1e-13)
    # The original is untouched.
    assert before.keys() == est.__dict__.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            assert_array_equal(est.__dict__[key], value, err_msg=key)
    assert reordered is not est


@pytest.mark.parametrize("name", MODELS)
def test_warm_start_continues_the_permuted_fit(name, rng):
    X = _data(_kind(name), rng)
    with pytest.warns(ConvergenceWarning):
        est = MODELS[name](random_state=0, max_iter=3, tol=0.0).fit(X)
    reordered = reorder_components(est, ORDER)
    with warnings.catch_warnings():
        # max_iter=4 from an unconverged start, tol=0: never "converged".
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(warm_start=True, max_iter=4).fit(X)
        reordered.set_params(warm_start=True, max_iter=4).fit(X)
    # Four EM steps of the same arithmetic per component: rounding only.
    _assert_permuted(reordered, est, ORDER, rtol=1e-10)
    assert_allclose(reordered.lower_bounds_, est.lower_bounds_, rtol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_partial_fit_continues_the_permuted_fit(name, rng):
    X = _data(_kind(name), rng, n_samples=120)
    est = MODELS[name](random_state=0)
    est.partial_fit(X[:60])
    est.partial_fit(X[60:90])
    reordered = reorder_components(est, ORDER)
    est.partial_fit(X[90:])
    reordered.partial_fit(X[90:])
    # The running statistics were permuted too; otherwise the next step
    # would mix one class's history with another's parameters.
    _assert_permuted(reordered, est, ORDER, rtol=1e-10)


@pytest.mark.parametrize("name", MODELS)
def test_every_per_component_attribute_is_permuted(name, rng):
    # A guard for new fitted state: every array of the fitted model with a
    # first axis of length K (d = 5 != K) must be one that is permuted.
    X = _data(_kind(name), rng)
    est = MODELS[name](random_state=0)
    est.partial_fit(X)
    reordered = reorder_components(est, ORDER)
    arrays = {
        key: value
        for key, value in est.__dict__.items()
        if isinstance(value, np.ndarray) and value.ndim and len(value) == K
    }
    arrays.update(
        {
            f"_online_state[{key}]": value
            for key, value in est._online_state["stats"].items()
        }
    )
    assert arrays, "the model has per-component arrays"
    for key, value in arrays.items():
        if key.startswith("_online_state"):
            new = reordered._online_state["stats"][key[14:-1]]
        else:
            new = getattr(reordered, key)
        assert_array_equal(new, value[ORDER], err_msg=key)


def test_starting_values_are_permuted(rng):
    X = _data("bernoulli", rng)
    means_init = rng.uniform(0.1, 0.9, size=(K, 5))
    est = BernoulliMixtureEM(
        K, means_init=means_init, weights_init=[0.2, 0.3, 0.5], max_iter=5, tol=0
    )
    with pytest.warns(ConvergenceWarning):
        est.fit(X)
    reordered = reorder_components(est, ORDER)
    assert_array_equal(reordered.means_init, means_init[ORDER])
    assert_array_equal(reordered.weights_init, np.array([0.2, 0.3, 0.5])[ORDER])
    assert_array_equal(est.means_init, means_init)  # the original's untouched
    with pytest.warns(ConvergenceWarning):
        reordered.fit(X)  # afresh, from the permuted starting values
    _assert_permuted(reordered, est, ORDER, rtol=1e-10)

    codes = _data("categorical", rng)
    probs_init = [rng.dirichlet(np.ones(3), size=K) for _ in range(5)]
    est = CategoricalMixtureEM(K, probs_init=probs_init, random_state=0).fit(codes)
    reordered = reorder_components(est, ORDER)
    for new, old in zip(reordered.probs_init, probs_init, strict=True):
        assert_array_equal(new, old[ORDER])


def test_order_by_size_undoes_label_switching(rng):
    X = _data("bernoulli", rng)
    est = BernoulliMixtureEM(K, random_state=0).fit(X)
    switched = reorder_components(est, [1, 2, 0])  # as another fit might label
    by_size = reorder_components(est, "size")
    assert np.all(np.diff(by_size.weights_) <= 0)
    assert_array_equal(reorder_components(switched, "size").means_, by_size.means_)
    assert_array_equal(by_size.weights_, np.sort(est.weights_)[::-1])


def test_order_by_size_keeps_ties_in_order():
    X = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=float)
    est = BernoulliMixtureEM(3, random_state=0).fit(X)
    est.weights_ = np.array([0.25, 0.5, 0.25])
    assert_array_equal(reorder_components(est, "size").means_, est.means_[[1, 0, 2]])


@pytest.mark.parametrize(
    "order",
    [[0, 0, 1], [0, 1], [0.0, 1.0, 2.0], [[0, 1, 2]], [1, 2, 3], "largest", 3],
    ids=repr,
)
def test_bad_orders(order, rng):
    est = BernoulliMixtureEM(K, random_state=0).fit(_data("bernoulli", rng))
    with pytest.raises(ValueError, match=r"order must be a permutation of range\(3\)"):
        reorder_components(est, order)


def test_bad_estimators(rng):
    with pytest.raises(TypeError, match="skcoinmix mixture"):
        reorder_components("model", [0])
    with pytest.raises(NotFittedError):
        reorder_components(BernoulliMixtureEM(2), [1, 0])
