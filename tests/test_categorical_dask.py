"""CategoricalMixtureEM on dask arrays equals it on numpy arrays; partial_fit's categories.

The oracle is the numpy path (itself checked against a plain-numpy EM and
poLCA's published maxima in test_categorical.py): from the same start every
iteration, fitted attribute and prediction agrees. The two paths add the
same terms in another order (chunks, then blocks), so they differ by
rounding: relative 1e-10 leaves room for 20 iterations of amplified
round-off, as tests/test_dask.py allows for the Bernoulli model.
"""

import copy
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

da = pytest.importorskip(
    "dask.array",
    reason="the optional dependency dask[array] is not installed "
    "(pip install 'skcoinmix[dask]')",
)

from skcoinmix import CategoricalMixtureEM, _init  # noqa: E402
from skcoinmix._backends import dask as dask_backend  # noqa: E402

N_SAMPLES, N_ITEMS, N_COMPONENTS = 101, 5, 3
#: Categories per item: a binary item, and up to five answers.
SIZES = [2, 3, 5, 4, 3]
#: Uneven chunks with a chunk of one row.
CHUNKS = ((3, 1, 50, 47), -1)
RTOL = 1e-10  # see the module docstring


def make_codes(rng, missing=0.0):
    """Codes 0..C_j-1 (every category observed), ``-1`` where missing."""
    codes = np.column_stack([rng.integers(size, size=N_SAMPLES) for size in SIZES])
    codes[: max(SIZES)] = np.arange(max(SIZES))[:, np.newaxis] % SIZES
    if missing:
        codes[rng.uniform(size=codes.shape) < missing] = -1
        codes[-1] = -1  # a row with every item missing
        codes[: max(SIZES)] = np.arange(max(SIZES))[:, np.newaxis] % SIZES
    return codes


LABELS = np.array(["no", "maybe", "yes", "often", "never"], dtype=object)


def stored(codes, layout):
    """The codes as the data a user has: ``layout`` says which kind."""
    if layout == "uint8 codes":  # 0..C-1: stored as they are
        return codes.astype(np.uint8)
    if layout == "int 1..C":  # poLCA's coding
        return (codes + 1).astype(np.int64)
    if layout == "float NaN":
        return np.where(codes >= 0, codes + 1.0, np.nan)
    if layout == "object None":
        return np.where(codes >= 0, LABELS[np.maximum(codes, 0)], None)
    if layout == "str":
        return LABELS[codes].astype(str)
    raise AssertionError(layout)


LAYOUTS = {
    "uint8 codes": 0.0,
    "int 1..C": 0.0,
    "float NaN": 0.25,
    "object None": 0.25,
    "str": 0.0,
}


def start(rng):
    """Deterministic starting probabilities: one (K, C_j) array per item."""
    return [rng.dirichlet(np.ones(size), size=N_COMPONENTS) for size in SIZES]


def fitted_pair(X, dX, sample_weight=None, dask_weight=None, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        want = CategoricalMixtureEM(N_COMPONENTS, **params).fit(
            X, sample_weight=sample_weight
        )
        got = CategoricalMixtureEM(N_COMPONENTS, **params).fit(
            dX, sample_weight=dask_weight
        )
    return want, got


def posterior_rtol(got, want):
    """How far two fits' posteriors may differ, relatively, given their parameters.

    ``log r_ik = log w_k + sum_j log t_kj[x_j] - logsumexp``: a change ``dt``
    moves ``log t`` by ``dt / t``, so each joint term moves by at most
    ``|dw_k| / w_k + sum_j max_c |dt_kjc| / t_kjc`` and a posterior,
    relatively, by at most twice the largest over ``k`` (to first order).
    """
    d_weights = np.abs(got.weights_ - want.weights_) / want.weights_
    d_probs = sum(
        (np.abs(g - w) / w).max(axis=1)
        for g, w in zip(got.probs_, want.probs_, strict=True)
    )
    return 2 * float(np.max(d_weights + d_probs))


def assert_same_fit(got, want, rtol=RTOL):
    assert type(got.weights_) is np.ndarray
    assert_allclose(got.weights_, want.weights_, rtol=rtol)
    for g, w in zip(got.probs_, want.probs_, strict=True):
        assert type(g) is np.ndarray
        # Probabilities floored at 1e-10 are compared absolutely at that scale.
        assert_allclose(g, w, rtol=rtol, atol=1e-20)
    for g, w in zip(got.categories_, want.categories_, strict=True):
        assert type(g) is np.ndarray
        assert_array_equal(g, w)
    assert got.n_iter_ == want.n_iter_ and got.converged_ == want.converged_
    assert_allclose(got.lower_bounds_, want.lower_bounds_, rtol=rtol)
    assert got.n_parameters_ == want.n_parameters_


def assert_same_predictions(got, want, X, dX, sample_weight=None, dask_weight=None):
    """Lazy dask arrays chunked like ``dX``, equal to numpy's; floats for the scores."""
    moved = posterior_rtol(got, want)
    lazy = {
        "predict": got.predict(dX),
        "predict_proba": got.predict_proba(dX),
        "transform": got.transform(dX),
        "score_samples": got.score_samples(dX),
    }
    computed = dict(zip(lazy, dask_backend.compute(*lazy.values()), strict=True))
    proba = want.predict_proba(X)
    for name, value in lazy.items():
        assert dask_backend.is_dask_array(value), name
        assert value.chunks[0] == dX.chunks[0], name
        if name == "predict":
            # A label may be any component within the posteriors' tolerance
            # of the row's largest (a near tie); else it is the argmax.
            top = proba.max(axis=1, keepdims=True)
            allowed = proba >= top * (1 - 2 * (RTOL + moved))
            assert allowed[np.arange(len(proba)), computed[name]].all()
        elif name == "score_samples":
            assert_allclose(
                computed[name], want.score_samples(X), rtol=RTOL, atol=moved
            )
        else:
            assert_allclose(computed[name], proba, rtol=RTOL + moved, atol=1e-12)
    for name in ["score", "bic", "aic"]:
        value = getattr(got, name)(dX, sample_weight=dask_weight)
        assert isinstance(value, float), name
        expected = getattr(want, name)(X, sample_weight=sample_weight)
        assert value == pytest.approx(expected, rel=RTOL), name


# ------------------------------------------------------------- dask = numpy
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_estimator_equals_numpy(rng, layout):
    # From the same probs_init, every iteration and every output agrees.
    X = stored(make_codes(rng, LAYOUTS[layout]), layout)
    dX = da.from_array(X, chunks=CHUNKS)
    want, got = fitted_pair(X, dX, probs_init=start(rng), max_iter=20, tol=0)
    assert_same_fit(got, want)
    assert_same_predictions(got, want, X, dX)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = CategoricalMixtureEM(**got.get_params()).fit_predict(dX)
    assert dask_backend.is_dask_array(labels)
    assert labels.chunks[0] == dX.chunks[0]
    assert_array_equal(labels.compute(), got.predict(dX).compute())


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random_from_data"])
@pytest.mark.parametrize("dask_weights", [False, True])
def test_initialisations_and_weights_equal_numpy(
    rng, small_init_sample, init_params, dask_weights
):
    # The rows drawn to initialise are numpy's (and only they are gathered),
    # so the default fits agree too, with frequency weights given as numpy
    # or as dask arrays.
    X = stored(make_codes(rng, 0.25), "float NaN")
    dX = da.from_array(X, chunks=CHUNKS)
    sample_weight = rng.uniform(0.5, 2.0, size=N_SAMPLES)
    sample_weight[::5] = 0.0
    dask_weight = da.from_array(sample_weight, chunks=30) if dask_weights else None
    want, got = fitted_pair(
        X,
        dX,
        sample_weight,
        dask_weight if dask_weights else sample_weight,
        init_params=init_params,
        n_init=2,
        random_state=int(rng.integers(1000)),
    )
    assert_same_fit(got, want)
    assert_same_predictions(
        got, want, X, dX, sample_weight, dask_weight if dask_weights else sample_weight
    )


@pytest.fixture
def small_init_sample(monkeypatch):
    """k-means initialisations on 40 of the 101 rows: a real draw."""
    monkeypatch.setattr(_init, "KMEANS_INIT_MAX_SAMPLES", 40)


def test_lower_bound_never_decreases(rng):
    # "random" draws its responsibilities on the workers: other numbers than
    # numpy's, but EM all the same. The bound is a mean log-likelihood of a
    # few units; its rounding is of the order of 1e-15 relative.
    X = stored(make_codes(rng, 0.25), "object None")
    dX = da.from_array(X, chunks=CHUNKS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = CategoricalMixtureEM(
            N_COMPONENTS, init_params="random", tol=0, max_iter=40, random_state=0
        ).fit(dX)
    bounds = np.asarray(est.lower_bounds_)
    assert len(bounds) == 40
    assert np.all(np.diff(bounds) >= -1e-12 * np.abs(bounds[1:]))
    assert bounds[-1] > bounds[0]


def test_x_is_never_gathered(rng, small_init_sample, monkeypatch):
    # Converting the dask array to numpy in this process fails the test:
    # only the rows k-means clusters, sums and the lazy results travel.
    X = stored(make_codes(rng, 0.25), "object None")
    dX = da.from_array(X, chunks=(20, -1))

    def refuse(*args, **kwargs):
        raise AssertionError("a dask array was gathered into the client")

    monkeypatch.setattr(da.Array, "__array__", refuse)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for init_params in ["kmeans", "random"]:
            est = CategoricalMixtureEM(
                N_COMPONENTS, init_params=init_params, random_state=0, max_iter=5
            )
            labels = est.fit_predict(dX)
        est.partial_fit(dX)
    lazy = [
        labels,
        est.predict(dX),
        est.predict_proba(dX),
        est.transform(dX),
        est.score_samples(dX),
    ]
    for value in dask_backend.compute(*lazy):
        assert isinstance(value, np.ndarray)
    for name in ["score", "bic", "aic"]:
        assert np.isfinite(getattr(est, name)(dX))


# --------------------------------------------------------- unknown categories
def test_unknown_categories_at_prediction(rng):
    X = stored(make_codes(rng, 0.25), "object None")
    est = CategoricalMixtureEM(2, random_state=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(da.from_array(X, chunks=CHUNKS))
    unseen = X.copy()
    unseen[7, 3] = "sometimes"
    dX = da.from_array(unseen, chunks=CHUNKS)
    # An error naming the column and the value, before anything is computed.
    for method in ["predict", "predict_proba", "score_samples", "score"]:
        with pytest.raises(ValueError, match=r"Column 3 .*'sometimes'.*categories="):
            getattr(est, method)(dX)
    # Or read as a missing answer: what numpy gives with the value missing.
    est.set_params(handle_unknown="missing")
    as_missing = X.copy()
    as_missing[7, 3] = None
    got = dask_backend.compute(est.predict_proba(dX), est.score_samples(dX))
    assert_allclose(got[0], est.predict_proba(as_missing), rtol=RTOL)
    assert_allclose(got[1], est.score_samples(as_missing), rtol=RTOL)


@pytest.mark.parametrize("first", [0, 1, -2])
@pytest.mark.parametrize("dask_input", [False, True])
def test_consecutive_integers_are_read_without_a_copy(rng, first, dask_input):
    # Categories first..first+C-1 (0..C-1 uint8 codes, poLCA's 1..C) are
    # read as codes by a shift, block by block: the fit is bitwise that of
    # the codes recoded beforehand (the same one-hot rows).
    codes = make_codes(rng)
    X = (codes + first).astype(np.int8)
    wrap = (lambda a: da.from_array(a, chunks=CHUNKS)) if dask_input else np.asarray
    params = dict(random_state=0, max_iter=10, tol=0, init_params="k-means++")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = CategoricalMixtureEM(2, **params).fit(wrap(X))
        # Labels that sort as the codes: the same categories in the same order.
        recoded = CategoricalMixtureEM(2, **params).fit(np.array(list("abcde"))[codes])
    assert est._prepare_data(X, reset=False).X is X
    # Bitwise in memory; on dask the chunks' sums are added in another order.
    rtol = RTOL if dask_input else 0.0
    assert_allclose(est.lower_bounds_, recoded.lower_bounds_, rtol=rtol, atol=0)
    for got, want, known in zip(
        est.probs_, recoded.probs_, est.categories_, strict=True
    ):
        assert_array_equal(known, np.arange(first, first + len(known)))
        assert_allclose(got, want, rtol=rtol, atol=0)


@pytest.mark.parametrize("first", [0, 1])
@pytest.mark.parametrize("dask_input", [False, True])
def test_codes_outside_the_fitted_range(rng, first, dask_input):
    # Integers of consecutive categories are stored as they are; a
    # prediction on a value beyond them is still an unknown category (or
    # missing).
    codes = make_codes(rng)
    X = (codes + first).astype(np.uint8)
    est = CategoricalMixtureEM(2, random_state=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X)
    # No copy of the codes, at fit nor at prediction.
    assert est._prepare_data(X, reset=True, fitting=True).X is X
    assert est._prepare_data(X, reset=False).X is X
    beyond = X.copy()
    beyond[4, 1] = 7
    as_missing = (codes + first).astype(float)
    as_missing[4, 1] = np.nan
    data = da.from_array(beyond, chunks=CHUNKS) if dask_input else beyond
    with pytest.raises(ValueError, match=r"Column 1 .*: 7\."):
        dask_backend.compute(est.predict(data))
    est.set_params(handle_unknown="missing")
    got = est.score_samples(data)
    got = dask_backend.compute(got)[0] if dask_input else got
    assert_allclose(got, est.score_samples(as_missing), rtol=RTOL)


# ------------------------------------------------------------- bad dask input
def test_bad_dask_input_is_a_clear_error(rng):
    est = CategoricalMixtureEM(2)
    with pytest.raises(ValueError, match="Complex data not supported"):
        est.fit(da.ones((10, 2), dtype=complex, chunks=5))
    with pytest.raises(ValueError, match="2D dask array"):
        est.fit(da.ones(10, chunks=5))
    nothing = da.from_array(np.full((10, 2), np.nan), chunks=5)
    with pytest.raises(ValueError, match="Column 0 has no observed value"):
        est.fit(nothing)
    with pytest.raises(ValueError, match="every entry is missing"):
        CategoricalMixtureEM(2, categories=[[1, 2], [1, 2]]).fit(nothing)
    with pytest.raises(ValueError, match=r"Column 1 .*: 3\."):
        CategoricalMixtureEM(2, categories=[[1, 2], [1, 2]]).fit(
            da.from_array(np.array([[1, 2], [2, 3], [1, 1]]), chunks=2)
        )
    assert not hasattr(est, "categories_")


@pytest.mark.parametrize("dask_input", [False, True])
def test_values_of_another_type_are_a_clear_error(rng, dask_input):
    wrap = (lambda a: da.from_array(a, chunks=(30, -1))) if dask_input else np.asarray
    X = stored(make_codes(rng), "object None")
    est = CategoricalMixtureEM(2, random_state=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(wrap(X))
    numbers = X.copy()
    numbers[:, 1] = 3  # integers where the fit saw strings
    with pytest.raises(TypeError, match="Column 1 holds values of another type"):
        dask_backend.compute(est.predict(wrap(numbers)))
    mixed = X.copy()
    mixed[5, 2] = 3
    with pytest.raises(TypeError, match="categories of column 2 mix types"):
        CategoricalMixtureEM(2).fit(wrap(mixed))


# ------------------------------------------------------------------ partial_fit
def assert_same_state(got, want, where="state"):
    """Equal nested attributes: dicts, lists, arrays, numbers."""
    assert type(got) is type(want), where
    if isinstance(want, dict):
        assert got.keys() == want.keys(), where
        for key in want:
            assert_same_state(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list | tuple):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same_state(g, w, f"{where}[{i}]")
    elif isinstance(want, np.ndarray):
        assert_array_equal(got, want, err_msg=where)
    else:
        assert got == want, where


def batches(X, n_batches=4):
    return [X[rows] for rows in np.array_split(np.arange(len(X)), n_batches)]


@pytest.mark.parametrize("layout", ["int 1..C", "object None"])
def test_partial_fit_on_dask_equals_numpy(rng, layout):
    X = stored(make_codes(rng, 0.25 if layout == "object None" else 0.0), layout)
    params = dict(categories=[np.unique(c[c != None]) for c in X.T])  # noqa: E711
    params["probs_init"] = start(rng)
    online = [CategoricalMixtureEM(N_COMPONENTS, **params) for _ in range(2)]
    for batch in batches(X):
        online[0].partial_fit(batch)
        online[1].partial_fit(da.from_array(batch, chunks=(7, -1)))
    for got, want in zip(online[1].probs_, online[0].probs_, strict=True):
        assert_allclose(got, want, rtol=RTOL)
    assert_allclose(online[1].lower_bounds_, online[0].lower_bounds_, rtol=RTOL)


@pytest.mark.parametrize("dask_input", [False, True])
def test_partial_fit_refuses_a_category_unseen_in_the_first_batch(rng, dask_input):
    codes = make_codes(rng)
    X = stored(codes, "int 1..C")
    first, later = X[:60].copy(), X[60:].copy()
    # Category 5 of item 2 is unseen in the first batch, once in the later.
    first[:, 2] = np.minimum(first[:, 2], 4)
    later[:, 2] = np.minimum(later[:, 2], 4)
    later[3, 2] = 5
    wrap = (lambda a: da.from_array(a, chunks=(20, -1))) if dask_input else np.asarray
    est = CategoricalMixtureEM(2, random_state=0).partial_fit(wrap(first))
    assert_array_equal(est.categories_[2], [1, 2, 3, 4])
    before = copy.deepcopy(vars(est))
    with pytest.raises(ValueError, match=r"Column 2 .*: 5\..*categories=\["):
        est.partial_fit(wrap(later))
    assert_same_state(vars(est), before)  # the failed call changed nothing

    # handle_unknown="missing" reads it as a missing answer...
    missing = CategoricalMixtureEM(2, random_state=0, handle_unknown="missing")
    missing.partial_fit(wrap(first)).partial_fit(wrap(later))
    as_nan = later.astype(float)
    as_nan[3, 2] = np.nan
    reference = CategoricalMixtureEM(2, random_state=0).partial_fit(first)
    reference.partial_fit(as_nan)
    for got, want in zip(missing.probs_, reference.probs_, strict=True):
        assert_allclose(got, want, rtol=RTOL)
    # ... and categories given up front take it as one.
    given = CategoricalMixtureEM(
        2, random_state=0, categories=[np.arange(1, size + 1) for size in SIZES]
    )
    given.partial_fit(wrap(first)).partial_fit(wrap(later))
    assert given.probs_[2].shape == (2, 5)
    assert np.all(given.probs_[2][:, 4] > 0)


def test_fit_then_partial_fit_keeps_the_fitted_categories(rng):
    X = stored(make_codes(rng, 0.25), "object None")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = CategoricalMixtureEM(2, random_state=0, max_iter=5).fit(X)
    categories = [c.copy() for c in est.categories_]
    est.partial_fit(X[:20])
    for got, want in zip(est.categories_, categories, strict=True):
        assert_array_equal(got, want)
    assert est.n_steps_ == 1
