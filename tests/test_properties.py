"""Properties of EM that hold on every input path, checked with hypothesis.

Each example is a small 0/1 data set stored in one of the layouts of
``_reference.LAYOUTS`` (dense float64/float32/uint8/bool, CSR/CSC, NaN for
missing entries), with or without sample weights, tied features, fixed
weights and smoothing, and extreme shapes (one feature, as many rows as
components, constant columns, duplicated rows). The examples are the same on
every run (the "ci" profile of conftest.py).

To cover a new layout (e.g. dask arrays), add it to ``LAYOUTS``: every test
here draws from it.
"""

import warnings
from dataclasses import dataclass, replace

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from _reference import (
    LAYOUTS,
    MEAN_BOUND,
    RTOL,
    as_numpy,
    log_prob_atol,
    reference_em,
    reference_em_update,
    reference_predict_proba,
    reference_score_samples,
)
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM

FLOAT64_LAYOUTS = [
    name for name, layout in LAYOUTS.items() if layout.dtype == np.float64
]
INIT_PARAMS = ["kmeans", "k-means++", "random", "random_from_data"]


def examples(share):
    """``share`` of the profile's number of examples (conftest.py)."""
    return max(1, round(settings.default.max_examples * share))


def fit_quietly(estimator, X, sample_weight=None):
    """Fit, ignoring only the ConvergenceWarning that a fixed max_iter raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, sample_weight=sample_weight)


# ------------------------------------------------------------------- data
@dataclass(frozen=True)
class Problem:
    """A data set, its storage and the estimator's options and start."""

    X: np.ndarray  # float64 0/1, NaN for missing entries
    layout: str
    n_components: int
    sample_weight: np.ndarray | None = None
    tie_features: bool = False
    fit_weights: bool = True
    alpha: float = 0.0
    binarize: float | None = 0.0
    means_init: np.ndarray | None = None  # (K, d), constant rows if tied
    weights_init: np.ndarray | None = None

    @property
    def data(self):
        return LAYOUTS[self.layout].convert(self.X)

    @property
    def dtype(self):
        return LAYOUTS[self.layout].dtype

    def params(self, **overrides):
        params = dict(
            n_components=self.n_components,
            tie_features=self.tie_features,
            fit_weights=self.fit_weights,
            alpha=self.alpha,
            binarize=self.binarize,
            means_init=self.means_init,
            weights_init=self.weights_init,
            tol=0.0,
            # Plain EM, update by update, unless a test asks for SQUAREM.
            accelerate=None,
        )
        return {**params, **overrides}

    def options(self):
        """The keyword arguments of the reference update."""
        return dict(
            alpha=self.alpha, tied=self.tie_features, fit_weights=self.fit_weights
        )


@st.composite
def problems(draw, layouts=tuple(LAYOUTS), max_samples=24, max_features=6):
    """A Problem with a start (``means_init``, ``weights_init``)."""
    layout = draw(st.sampled_from(layouts))
    float32 = LAYOUTS[layout].dtype == np.float32
    K = draw(st.integers(1, 3))
    n = draw(st.integers(max(2, K), max_samples))
    d = draw(st.integers(1, max_features))
    X = draw(hnp.arrays(bool, (n, d))).astype(np.float64)
    for column in draw(st.lists(st.integers(0, d - 1), max_size=2)):
        X[:, column] = draw(st.sampled_from([0.0, 1.0]))  # constant columns
    for source, target in draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3)
    ):
        X[target] = X[source]  # duplicated rows
    if LAYOUTS[layout].missing:
        missing = draw(hnp.arrays(bool, (n, d)))
        # A fit refuses data with no observed entry and warns about a column
        # with none (test_fitted_state.py): one entry of each column stays.
        kept = draw(st.lists(st.integers(0, n - 1), min_size=d, max_size=d))
        missing[kept, np.arange(d)] = False
        X[missing] = np.nan

    weight_kind = draw(st.sampled_from(["none", "float", "counts"]))
    sample_weight = None
    if weight_kind == "float":
        # float32 data are weighted in float32: a weight times a
        # responsibility (at least exp(-2 d log 19 - log 20) = 3e-17 from the
        # float32 starts below) stays far above float32's smallest normal
        # number, 1.2e-38, for weights of 1e-3 or more. Smaller weights are
        # test_tiny_weights_with_float32_data. In float64, the objective is
        # divided by the total weight: its log prior (up to 46 alpha K d in
        # magnitude) stays below float64's largest number, 1.8e308, for
        # weights of 1e-300 or more.
        positive = st.floats(1e-3 if float32 else 1e-300, 4)
        sample_weight = draw(
            hnp.arrays(np.float64, n, elements=st.just(0.0) | positive)
        )
    elif weight_kind == "counts":
        sample_weight = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 3)))
    if sample_weight is not None:
        assume(sample_weight.sum() > 0)

    tied = draw(st.booleans())
    # float32 computes in float32: a start away from 0 and 1 keeps every
    # responsibility far above float32's smallest number, so that float32
    # and float64 differ by round-off only.
    low, high = (0.05, 0.95) if float32 else (0.0, 1.0)
    means = draw(
        hnp.arrays(np.float64, (K, 1 if tied else d), elements=st.floats(low, high))
    )
    # Weights of 0, or of 1e-100 or more: log w >= -230 and the likelihoods
    # differ by at most 2 d |log 1e-10| = 276, so no responsibility lands
    # near exp(-745), where float64 underflows and an emptied component
    # keeps its probabilities (a jump that round-off may or may not cross).
    positive = st.floats(max(low, 1e-100), 1.0)
    raw = draw(hnp.arrays(np.float64, K, elements=st.just(0.0) | positive))
    raw[draw(st.integers(0, K - 1))] = draw(positive)
    return Problem(
        X=X,
        layout=layout,
        n_components=K,
        sample_weight=sample_weight,
        tie_features=tied,
        fit_weights=draw(st.booleans()),
        alpha=draw(st.sampled_from([0.0, 0.0, 0.5, 3.0])),
        binarize=draw(st.sampled_from([None, 0.0, 0.5])),
        means_init=np.repeat(means, d, axis=1) if tied else means,
        weights_init=raw / raw.sum(),
    )


def explicit(layout, X, n_components, **options):
    """An explicit example: uniform weights, means_init spread over (0, 1)."""
    X = np.asarray(X, dtype=np.float64)
    K, d = n_components, X.shape[1]
    means = np.linspace(0.2, 0.8, K * d).reshape(K, d)
    if options.get("tie_features"):
        means = np.repeat(means[:, :1], d, axis=1)
    return Problem(
        X=X,
        layout=layout,
        n_components=K,
        means_init=means,
        weights_init=np.full(K, 1 / K),
        **options,
    )


#: The extreme shapes, as explicit examples run before the drawn ones.
ONE_FEATURE = explicit("csc", [[0], [1], [1], [0], [1]], 2)
N_EQUALS_K = explicit("uint8", [[0, 1, 1], [1, 0, 0], [1, 1, 0]], 3)
CONSTANT_COLUMNS = explicit(
    "float64 NaN",
    [[0, 1, 1, np.nan], [0, 1, 0, 1], [0, 1, np.nan, 0], [0, 1, 1, 1]],
    2,
    alpha=0.5,
)
DUPLICATE_ROWS = explicit(
    "bool",
    [[1, 0, 1], [1, 0, 1], [1, 0, 1], [0, 1, 0]],
    2,
    sample_weight=np.array([2, 0, 1, 3]),
    tie_features=True,
)


def with_extremes(**arguments):
    """Run the extreme shapes first, with the test's other ``arguments``."""

    def decorate(test):
        for problem in [ONE_FEATURE, N_EQUALS_K, CONSTANT_COLUMNS, DUPLICATE_ROWS]:
            test = example(problem=problem, **arguments)(test)
        return test

    return decorate


# ------------------------------------------------------------- properties
@with_extremes(n_updates=3)
@given(problem=problems(), n_updates=st.integers(1, 4))
@settings(max_examples=examples(3))
def test_every_path_equals_the_reference(problem, n_updates):
    # From the same start, the fit equals the plain-numpy updates, on every
    # layout: so sparse = dense, uint8 = bool = float64 (1e-10), float32 =
    # float64 (1e-5), tied (computed on per-row counts) = the full 0/1 rows.
    if problem.dtype == np.float32:
        n_updates = 1  # see problems(): the start is what bounds the round-off
    est = BernoulliMixtureEM(**problem.params(max_iter=n_updates))
    fit_quietly(est, problem.data, problem.sample_weight)
    weights, means, bounds = reference_em(
        problem.X,
        problem.sample_weight,
        problem.weights_init,
        problem.means_init,
        n_updates,
        **problem.options(),
    )
    rtol = RTOL[problem.dtype]
    d = problem.X.shape[1]
    starts = problem.means_init if n_updates == 1 else np.full((1, d), MEAN_BOUND)
    assert_allclose(est.weights_, weights, rtol=rtol)
    assert_allclose(est.means_, means, rtol=rtol)
    assert_allclose(
        est.lower_bounds_, bounds, rtol=rtol, atol=log_prob_atol(starts, problem.dtype)
    )
    # Predictions at the fitted parameters: an error e in a log-probability
    # is a relative error e in its exponential, a probability <= 1.
    atol = log_prob_atol(est.means_, problem.dtype)
    assert_allclose(
        as_numpy(est.score_samples(problem.data)),
        reference_score_samples(problem.X, est.weights_, est.means_),
        rtol=rtol,
        atol=atol,
    )
    assert_allclose(
        as_numpy(est.predict_proba(problem.data)),
        reference_predict_proba(problem.X, est.weights_, est.means_),
        rtol=rtol,
        atol=2 * atol,
    )


@with_extremes(new_rows=np.array([True, False, True]))
@given(problem=problems(), new_rows=hnp.arrays(bool, 3))
@settings(max_examples=examples(2))
def test_outputs_are_finite_and_normalised(problem, new_rows):
    # log p(x) is never -inf: every probability is inside [1e-10, 1 - 1e-10],
    # so log p(x) >= log max_k w_k + d log(1e-10) > -inf; the weights sum to
    # 1, so max_k w_k >= 1 / K. Likewise for any new row, seen or not.
    est = BernoulliMixtureEM(**problem.params(max_iter=5))
    fit_quietly(est, problem.data, problem.sample_weight)
    d, K = problem.X.shape[1], problem.n_components
    assert np.all(np.isfinite(est.lower_bounds_))
    assert np.all((est.means_ >= MEAN_BOUND) & (est.means_ <= 1 - MEAN_BOUND))
    assert_allclose(est.weights_.sum(), 1.0, rtol=2 * K * np.finfo(float).eps)

    unseen = np.vstack([1 - np.nan_to_num(problem.X), np.resize(new_rows, (1, d))])
    if LAYOUTS[problem.layout].missing:
        unseen = np.vstack([unseen, np.full((1, d), np.nan)])
    eps = np.finfo(problem.dtype).eps
    floor = np.log(est.weights_.max()) + d * np.log(MEAN_BOUND)
    for X in [problem.data, LAYOUTS[problem.layout].convert(unseen)]:
        log_prob = as_numpy(est.score_samples(X))
        resp = as_numpy(est.predict_proba(X))
        assert np.all(np.isfinite(log_prob)) and np.all(np.isfinite(resp))
        assert np.all(log_prob >= floor - log_prob_atol(est.means_, problem.dtype))
        # The log of a probability, but for the round-off of cancelling terms
        # (e.g. +23.03 - 23.03 for a row of ones at probabilities 1 - 1e-10).
        atol = log_prob_atol(est.means_, problem.dtype)
        assert np.all(log_prob <= atol + 2 * K * eps)
        assert np.all((resp >= 0) & (resp <= 1))
        # log p(x_i) is subtracted from every log-responsibility once, rounded
        # to eps |log p(x_i)|; the K exponentials and their sum add K eps.
        assert np.all(np.abs(resp.sum(axis=1) - 1) <= 2 * eps * (K + np.abs(log_prob)))
        assert_array_equal(as_numpy(est.predict(X)), resp.argmax(axis=1))


def assert_never_decreases(bounds, problem):
    """Round-off only: a log-probability's (see log_prob_atol), and the sum's.

    The sum of n same-signed terms is off by at most n eps relative (Higham,
    eq. (4.4)); 1e-12 relative, as test_bernoulli.py asks, covers n + K d up
    to 4500 terms.
    """
    bounds = np.asarray(bounds)
    tolerance = log_prob_atol(np.full((1, problem.X.shape[1]), MEAN_BOUND), np.float64)
    tolerance += 1e-12 * np.abs(bounds[1:])
    assert np.all(np.diff(bounds) >= -tolerance), np.diff(bounds)


@with_extremes(max_iter=30, random_start=False)
@given(
    problem=problems(layouts=FLOAT64_LAYOUTS),
    max_iter=st.integers(2, 40),
    random_start=st.booleans(),
)
@settings(max_examples=examples(2))
@pytest.mark.parametrize("accelerate", [None, "squarem"])
def test_lower_bound_never_decreases(problem, max_iter, random_start, accelerate):
    # EM (MAP-EM when alpha > 0: the penalised objective) never decreases
    # its objective; the clipped M-step maximises it over the box, so it
    # still never decreases. SQUAREM keeps an extrapolation only when its
    # bound is not below the current one, and falls back to EM otherwise.
    # Checked where the kernels compute in float64; the float32 paths equal
    # them to float32 round-off (test_every_path_equals_the_reference).
    if random_start:
        problem = replace(problem, means_init=None, weights_init=None)
        if problem.sample_weight is not None:
            assume(np.sum(problem.sample_weight > 0) >= problem.n_components)
    params = problem.params(
        max_iter=max_iter, init_params="random", random_state=0, accelerate=accelerate
    )
    est = BernoulliMixtureEM(**params)
    fit_quietly(est, problem.data, problem.sample_weight)
    assert est.n_iter_ == max_iter
    if accelerate is None:
        assert len(est.lower_bounds_) == max_iter
    else:  # one entry per accepted update, each after at least one evaluation
        assert 1 <= len(est.lower_bounds_) <= max_iter
    assert_never_decreases(est.lower_bounds_, problem)


@with_extremes(n_fits=6)
@given(problem=problems(layouts=FLOAT64_LAYOUTS), n_fits=st.integers(2, 8))
@settings(max_examples=examples(1))
def test_warm_started_single_iterations_never_decrease(problem, n_fits):
    # fit(max_iter=1, warm_start=True) again and again is EM one update at a
    # time: the same bounds as one fit of n_fits updates, never decreasing.
    warm = BernoulliMixtureEM(**problem.params(max_iter=1, warm_start=True))
    bounds = []
    for _ in range(n_fits):
        fit_quietly(warm, problem.data, problem.sample_weight)
        assert warm.n_iter_ == 1 and len(warm.lower_bounds_) == 1
        bounds.append(warm.lower_bound_)
    assert_never_decreases(bounds, problem)
    cold = BernoulliMixtureEM(**problem.params(max_iter=n_fits))
    fit_quietly(cold, problem.data, problem.sample_weight)
    assert bounds == cold.lower_bounds_
    assert_array_equal(warm.means_, cold.means_)
    assert_array_equal(warm.weights_, cold.weights_)


@given(
    problem=problems(layouts=("float64", "float64 NaN", "csr")),
    n_updates=st.integers(1, 4),
    data=st.data(),
)
@settings(max_examples=examples(1))
def test_integer_weights_equal_repeated_rows(problem, n_updates, data):
    n = problem.X.shape[0]
    counts = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 3)))
    counts[0] += max(2, problem.n_components)  # enough rows once repeated
    # Repeating drops the rows of count 0: every column must keep an observed
    # entry, or the repeated data are refused (all missing) or warned about
    # (a column never observed) while the weighted data are not.
    kept = problem.X[counts > 0]
    assume(np.all(np.any(~np.isnan(kept), axis=0)))
    problem = replace(problem, sample_weight=counts)
    expanded = replace(
        problem, X=np.repeat(problem.X, counts, axis=0), sample_weight=None
    )
    weighted = BernoulliMixtureEM(**problem.params(max_iter=n_updates))
    repeated = BernoulliMixtureEM(**expanded.params(max_iter=n_updates))
    fit_quietly(weighted, problem.data, counts)
    fit_quietly(repeated, expanded.data)
    rtol = RTOL[np.float64]
    atol = log_prob_atol(np.full((1, problem.X.shape[1]), MEAN_BOUND), np.float64)
    assert_allclose(weighted.means_, repeated.means_, rtol=rtol)
    assert_allclose(weighted.weights_, repeated.weights_, rtol=rtol)
    assert_allclose(
        weighted.lower_bounds_, repeated.lower_bounds_, rtol=rtol, atol=atol
    )
    for method in ["score", "bic", "aic"]:
        assert getattr(weighted, method)(
            problem.data, sample_weight=counts
        ) == pytest.approx(getattr(repeated, method)(expanded.data), rel=rtol, abs=atol)


@given(problem=problems(layouts=FLOAT64_LAYOUTS), data=st.data())
@settings(max_examples=examples(1))
def test_tied_fit_sees_only_the_counts_of_ones(problem, data):
    # With tied features a row is a run of tosses of one coin: shuffling the
    # entries within each row (NaN included) changes nothing.
    problem = replace(
        problem,
        tie_features=True,
        means_init=np.repeat(problem.means_init[:, :1], problem.X.shape[1], axis=1),
    )
    shuffled = problem.X.copy()
    for row in shuffled:
        row[:] = row[data.draw(st.permutations(range(len(row))))]
    first = BernoulliMixtureEM(**problem.params(max_iter=3))
    second = BernoulliMixtureEM(**problem.params(max_iter=3))
    fit_quietly(first, problem.data, problem.sample_weight)
    fit_quietly(second, replace(problem, X=shuffled).data, problem.sample_weight)
    assert_allclose(second.means_, first.means_, rtol=RTOL[np.float64])
    assert_allclose(second.weights_, first.weights_, rtol=RTOL[np.float64])


@given(problem=problems(), data=st.data())
@settings(max_examples=examples(2))
def test_permutations_change_nothing(problem, data):
    # Rows permuted (with their weights), features permuted (with the
    # columns of means_init), components relabelled (with means_init and
    # weights_init): the fit is the same, permuted alike.
    n, d = problem.X.shape
    rows = np.array(data.draw(st.permutations(range(n))))
    columns = np.array(data.draw(st.permutations(range(d))))
    labels = np.array(data.draw(st.permutations(range(problem.n_components))))
    permuted = replace(
        problem,
        X=problem.X[rows][:, columns],
        sample_weight=None
        if problem.sample_weight is None
        else problem.sample_weight[rows],
        means_init=problem.means_init[labels][:, columns],
        weights_init=problem.weights_init[labels],
    )
    n_updates = 1 if problem.dtype == np.float32 else 3
    est = BernoulliMixtureEM(**problem.params(max_iter=n_updates))
    est_permuted = BernoulliMixtureEM(**permuted.params(max_iter=n_updates))
    fit_quietly(est, problem.data, problem.sample_weight)
    fit_quietly(est_permuted, permuted.data, permuted.sample_weight)
    rtol = RTOL[problem.dtype]
    assert_allclose(est_permuted.means_, est.means_[labels][:, columns], rtol=rtol)
    assert_allclose(est_permuted.weights_, est.weights_[labels], rtol=rtol)
    starts = problem.means_init if n_updates == 1 else np.full((1, d), MEAN_BOUND)
    assert_allclose(
        est_permuted.lower_bounds_,
        est.lower_bounds_,
        rtol=rtol,
        atol=log_prob_atol(starts, problem.dtype),
    )
    # The two fits' probabilities t differ by round-off, eps t; log(1 - t)
    # then differs by eps t / (1 - t), up to eps 1e10 next to the bound.
    t = est.means_
    conditioning = d * np.finfo(problem.dtype).eps * np.max(t / (1 - t))
    assert_allclose(
        as_numpy(est_permuted.predict_proba(permuted.data)),
        as_numpy(est.predict_proba(problem.data))[rows][:, labels],
        rtol=rtol,
        atol=2 * (log_prob_atol(t, problem.dtype) + conditioning),
    )


@given(
    problem=problems(),
    init_params=st.sampled_from(INIT_PARAMS),
    n_init=st.integers(1, 3),
    random_state=st.integers(0, 2**31 - 1),
)
@settings(max_examples=examples(0.5))
def test_fixed_random_state_gives_identical_results(
    problem, init_params, n_init, random_state
):
    problem = replace(problem, means_init=None, weights_init=None)
    if problem.sample_weight is not None:
        assume(np.sum(problem.sample_weight > 0) >= problem.n_components)
    params = problem.params(
        init_params=init_params, n_init=n_init, random_state=random_state, tol=1e-3
    )
    first = fit_quietly(
        BernoulliMixtureEM(**params), problem.data, problem.sample_weight
    )
    second = fit_quietly(
        BernoulliMixtureEM(**params), problem.data, problem.sample_weight
    )
    assert_array_equal(first.means_, second.means_)
    assert_array_equal(first.weights_, second.weights_)
    assert first.lower_bounds_ == second.lower_bounds_
    assert_array_equal(
        as_numpy(first.predict_proba(problem.data)),
        as_numpy(second.predict_proba(problem.data)),
    )
    assert_array_equal(first.sample(7)[0], second.sample(7)[0])


@given(
    problem=problems(),
    init_params=st.sampled_from(INIT_PARAMS),
    n_init=st.integers(2, 4),
    random_state=st.integers(0, 2**31 - 1),
)
@settings(max_examples=examples(0.5))
def test_n_init_never_ends_below_one_init(problem, init_params, n_init, random_state):
    # fit draws the seeds of all n_init starts at once from random_state
    # (RandomState(random_state).randint(2**31 - 1, size=n_init), see _em.py),
    # and the legacy generator draws them in sequence: the first start of
    # n_init > 1 is the start of n_init = 1. fit keeps the run with the
    # largest final lower bound, so it can only be higher. (Not the final
    # score: each run's lower bound is taken before its last M-step.)
    seeds = np.random.RandomState(random_state).randint(2**31 - 1, size=n_init)
    assert seeds[0] == np.random.RandomState(random_state).randint(2**31 - 1)
    problem = replace(problem, means_init=None, weights_init=None)
    if problem.sample_weight is not None:
        assume(np.sum(problem.sample_weight > 0) >= problem.n_components)
    params = problem.params(
        init_params=init_params, random_state=random_state, tol=1e-3
    )
    one = fit_quietly(
        BernoulliMixtureEM(n_init=1, **params), problem.data, problem.sample_weight
    )
    several = fit_quietly(
        BernoulliMixtureEM(n_init=n_init, **params), problem.data, problem.sample_weight
    )
    assert several.lower_bound_ >= one.lower_bound_


def test_tiny_weights_with_float32_data():
    # Found by hypothesis (the "thorough" profile): float32 kernels weighted
    # the responsibilities in float32, where 1e-50 is 0, and gave NaN.
    # Frequency weights only matter relative to one another: 1e-50 each is 1.
    X = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    params = dict(n_components=2, means_init=[[0.3, 0.6], [0.7, 0.4]], max_iter=3)
    tiny = fit_quietly(
        BernoulliMixtureEM(**params), X.astype(np.float32), np.full(3, 1e-50)
    )
    unit = fit_quietly(BernoulliMixtureEM(**params), X)
    assert_allclose(tiny.weights_, unit.weights_, rtol=RTOL[np.float32])
    assert_allclose(tiny.means_, unit.means_, rtol=RTOL[np.float32])


def test_float32_sums_near_one():
    # Found by hypothesis (test_permutations_change_nothing, "thorough"):
    # sparse float32 summed resp @ X in float32 but resp_sum in float64, so
    # for a column of ones ones / trials was 1 - 4.5e-8, not the bound
    # 1 - 1e-10, and row 2 (a 0 there) got the posterior (0.998, 0.002)
    # instead of dense data's (0.5, 0.5).
    X = np.array([[1.0, 1, 1, 1], [1, 1, 1, 1], [0, 1, 1, 1]])
    params = dict(
        n_components=2,
        means_init=[[0.25, 0.25, 0.0703125, 0.25], [0.25] * 4],
        fit_weights=False,
        max_iter=1,
    )
    weights = np.array([1.0, 2.0, 0.0])
    reference = fit_quietly(BernoulliMixtureEM(**params), X, weights)
    for layout in ["float32", "csr float32"]:
        data = LAYOUTS[layout].convert(X)
        est = fit_quietly(BernoulliMixtureEM(**params), data, weights)
        rtol = RTOL[np.float32]
        assert_allclose(1 - est.means_, 1 - reference.means_, rtol=rtol)
        assert_allclose(est.predict_proba(data), reference.predict_proba(X), rtol=rtol)


# ------------------------------------------------------ 50,000 features
@pytest.mark.parametrize(
    "layout, tied",
    [("uint8", False), ("csr", False), ("float64 NaN", False), ("float32", True)],
)
def test_fifty_thousand_features(layout, tied):
    # Far more features than rows: log-probabilities of about -3e4, whose
    # exponentials underflow in linear space; EM in log space stays exact.
    rng = np.random.default_rng(0)
    n, d, K = 12, 50_000, 3
    coins = rng.integers(K, size=n)
    X = (rng.uniform(size=(n, d)) < np.array([0.2, 0.5, 0.8])[coins, None]).astype(
        float
    )
    X[:, :5] = 0.0  # all-zero columns
    X[:, 5:10] = 1.0  # all-one columns
    X[1] = X[0]  # a duplicated row
    if LAYOUTS[layout].missing:
        X[rng.uniform(size=X.shape) < 0.1] = np.nan
    means = rng.uniform(0.3, 0.7, size=(K, 1 if tied else d))
    problem = Problem(
        X=X,
        layout=layout,
        n_components=K,
        tie_features=tied,
        means_init=np.repeat(means, d, axis=1) if tied else means,
        weights_init=np.full(K, 1 / K),
    )
    est = BernoulliMixtureEM(**problem.params(max_iter=1))
    fit_quietly(est, problem.data)
    weights, means, bound = reference_em_update(
        X, None, problem.weights_init, problem.means_init, **problem.options()
    )
    rtol = RTOL[problem.dtype]
    assert_allclose(est.weights_, weights, rtol=rtol)
    assert_allclose(est.means_, means, rtol=rtol)
    assert est.lower_bounds_[0] == pytest.approx(bound, rel=rtol)

    est.set_params(warm_start=True, max_iter=5)
    fit_quietly(est, problem.data)
    log_prob = as_numpy(est.score_samples(problem.data))
    resp = as_numpy(est.predict_proba(problem.data))
    assert np.all(np.isfinite(log_prob)) and np.all(np.isfinite(resp))
    eps = np.finfo(problem.dtype).eps
    assert np.all(np.abs(resp.sum(axis=1) - 1) <= 2 * eps * (K + np.abs(log_prob)))
    assert_array_equal(resp[1], resp[0])  # duplicated rows
    if problem.dtype == np.float64:
        assert_never_decreases([bound, *est.lower_bounds_], problem)
