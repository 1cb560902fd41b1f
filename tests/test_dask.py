"""The dask backend equals the numpy kernels: on the threaded scheduler, and on a
real cluster that loses a worker or holds less memory than the data.

The cluster tests are marked ``cluster`` (deselect with ``-m "not cluster"``).
"""

import contextlib
import logging
import os
import resource
import signal
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import float32_update_rtol, posterior_rtol
from numpy.testing import assert_allclose, assert_array_equal

dask = pytest.importorskip(
    "dask",
    reason="the optional dependency dask is not installed "
    "(pip install 'skcoinmix[dask]')",
)
da = pytest.importorskip(
    "dask.array",
    reason="the optional dependency dask[array] is not installed "
    "(pip install 'skcoinmix[dask]')",
)

from sklearn.cluster import KMeans  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402

from skcoinmix import (  # noqa: E402
    BernoulliMixtureEM,
    _init,
    fit_report,
)
from skcoinmix._backends import (  # noqa: E402
    _common,
    dask_data,
    dense,
    sparse,
)
from skcoinmix._backends import dask as dask_backend  # noqa: E402
from skcoinmix._bernoulli import (  # noqa: E402
    BinaryEncoding,
    CountEncoding,
    count_ones_and_zeros,
    map_means,
    mle_weights,
)
from skcoinmix._validation import binarize_data, check_sample_weight  # noqa: E402

N_SAMPLES, N_FEATURES, N_COMPONENTS = 101, 13, 4

#: Row chunks of the 101 rows: uneven with a chunk of one row, a chunk per
#: row block, and one chunk; "grid" also cuts the columns (rechunked).
CHUNKINGS = {
    "uneven": ((3, 1, 50, 47), -1),
    "twenty": (20, -1),
    "one chunk": (-1, -1),
    "grid": (30, 5),
}

LAYOUTS = ["float64", "float32", "uint8", "bool", "float64 NaN", "float32 NaN"]
SPARSE_LAYOUTS = ["csr", "csr float32", "csc", "coo"]


def make_data(rng, layout):
    """0/1 data stored as ``layout`` (with NaN for missing entries)."""
    X = (rng.uniform(size=(N_SAMPLES, N_FEATURES)) < 0.3).astype(np.uint8)
    dtype = np.float32 if "float32" in layout else np.float64
    if layout in SPARSE_LAYOUTS:
        return sp.csr_matrix(X, dtype=dtype)
    if "NaN" in layout:
        X = X.astype(dtype)
        X[rng.uniform(size=X.shape) < 0.3] = np.nan
        X[0] = np.nan  # a row with nothing observed
    elif layout != "uint8":
        X = X.astype(bool if layout == "bool" else dtype)
    return X


def to_dask(X, chunks, layout=""):
    """``X`` as a dask array; sparse chunks for sparse ``X``."""
    if sp.issparse(X):
        converter = {"csc": sp.csc_matrix, "coo": sp.coo_matrix}.get(
            layout, sp.csr_matrix
        )
        return da.from_array(X.toarray(), chunks=chunks).map_blocks(
            converter, dtype=X.dtype
        )
    return da.from_array(X, chunks=chunks)


def parameters(rng, X, missing):
    means = rng.uniform(0.05, 0.95, size=(N_COMPONENTS, X.shape[1]))
    weights = rng.dirichlet(np.ones(N_COMPONENTS))
    return BinaryEncoding(missing).linear_params(weights, means)


def numpy_backend(X):
    return sparse if sp.issparse(X) else dense


@pytest.fixture
def small_blocks(monkeypatch):
    """Dense kernels on blocks of 7 rows, so a chunk holds several of them."""
    monkeypatch.setattr(dense, "BLOCK_BYTES", 1000)
    monkeypatch.setattr(dense, "MIN_BLOCK_ROWS", 7)


def assert_kernels_equal_numpy(X, dX, coefs, intercept, sample_weight, rtol):
    """Every dask kernel on ``dX`` equals the numpy kernel on ``X``."""
    atol = 1e-5 if rtol > 1e-9 else 1e-10
    numpy_weights = (
        np.ones(X.shape[0])
        if sample_weight is None
        else np.asarray(
            sample_weight.compute()
            if dask_backend.is_dask_array(sample_weight)
            else sample_weight
        )
    )
    backend = numpy_backend(X)
    encoding = BinaryEncoding(missing=len(coefs) == 2)
    expected = backend.e_step(X, encoding, coefs, intercept, numpy_weights)
    got = dask_backend.e_step(dX, encoding, coefs, intercept, sample_weight)
    assert isinstance(got[0], float)
    assert got[0] == pytest.approx(expected[0], rel=rtol, abs=atol)
    assert_allclose(got[1], expected[1], rtol=rtol)
    assert len(got[2]) == len(expected[2]) == len(coefs)
    for total, want in zip(got[2], expected[2], strict=True):
        assert isinstance(total, np.ndarray) and total.shape == want.shape
        assert_allclose(total, want, rtol=rtol, atol=1e-12)

    row_chunks = dask_data.check_array(dX).chunks[0]
    log_norm, log_resp = dask_backend.log_resp(dX, encoding, coefs, intercept)
    assert dask_backend.is_dask_array(log_norm) and dask_backend.is_dask_array(log_resp)
    assert log_norm.chunks == (row_chunks,)
    assert log_resp.chunks == (row_chunks, (N_COMPONENTS,))
    assert log_norm.dtype == log_resp.dtype == np.float64
    want_norm, want_resp = backend.log_resp(X, encoding, coefs, intercept)
    got_norm, got_resp = dask_backend.compute(log_norm, log_resp)
    assert_allclose(got_norm, want_norm, rtol=rtol, atol=atol)
    assert_allclose(got_resp, want_resp, rtol=rtol, atol=atol)

    # The responsibilities as a dask array chunked unlike X: realigned.
    resp = np.exp(want_resp)
    sums = dask_backend.weighted_sums(dX, encoding, da.from_array(resp, chunks=(17, 2)))
    for total, want in zip(sums, backend.weighted_sums(X, encoding, resp), strict=True):
        assert_allclose(total, want, rtol=rtol, atol=1e-12)


# ------------------------------------------------------- threaded scheduler
@pytest.mark.parametrize("chunking", CHUNKINGS)
@pytest.mark.parametrize("layout", LAYOUTS + SPARSE_LAYOUTS)
def test_kernels_equal_numpy(rng, small_blocks, layout, chunking):
    X = make_data(rng, layout)
    missing = "NaN" in layout
    coefs, intercept = parameters(rng, X, missing)
    assert len(coefs) == (2 if missing else 1)
    sample_weight = rng.uniform(0.1, 2.0, size=N_SAMPLES)
    rtol = 1e-5 if "float32" in layout else 1e-10
    dX = to_dask(X, CHUNKINGS[chunking], layout)
    assert_kernels_equal_numpy(X, dX, coefs, intercept, sample_weight, rtol)


@pytest.mark.parametrize("weights", ["none", "numpy", "dask aligned", "dask unaligned"])
@pytest.mark.parametrize("layout", ["uint8", "float64 NaN", "csr"])
def test_sample_weight_kinds(rng, layout, weights):
    X = make_data(rng, layout)
    coefs, intercept = parameters(rng, X, "NaN" in layout)
    values = rng.uniform(0.1, 2.0, size=N_SAMPLES)
    values[::7] = 0.0
    sample_weight = {
        "none": None,
        "numpy": values,
        "dask aligned": da.from_array(values, chunks=((3, 1, 50, 47),)),
        "dask unaligned": da.from_array(values, chunks=(30,)),
    }[weights]
    dX = to_dask(X, CHUNKINGS["uneven"], layout)
    assert_kernels_equal_numpy(X, dX, coefs, intercept, sample_weight, 1e-10)


def test_em_iterations_equal_numpy(rng):
    # Ten EM updates through the dask kernels retrace the numpy ones.
    X = make_data(rng, "float64 NaN")
    dX = to_dask(X, CHUNKINGS["uneven"])
    data = BinaryEncoding(missing=True)
    sample_weight = rng.uniform(0.5, 1.5, size=N_SAMPLES)
    dask_weights, total_weight, _, exponent = dask_data.check_sample_weight(
        sample_weight, dX
    )
    assert np.ldexp(total_weight, exponent) == pytest.approx(
        sample_weight.sum(), rel=1e-15
    )
    # The numpy run uses the same weights: rescaled by the power of two.
    sample_weight = np.ldexp(sample_weight, -exponent)
    start = {
        "means": rng.uniform(0.2, 0.8, size=(3, N_FEATURES)),
        "weights": np.full(3, 1 / 3),
    }
    trajectories = []
    for backend, X_, weights in [
        (dense, X, sample_weight),
        (dask_backend, dX, dask_weights),
    ]:
        params, history = start, []
        for _ in range(10):
            coefs, intercept = data.linear_params(params["weights"], params["means"])
            log_likelihood, resp_sum, sums = backend.e_step(
                X_, data, coefs, intercept, weights
            )
            stats = data.stats(resp_sum, sums)
            params = {
                "means": map_means(
                    stats["ones"], stats["trials"], 0.0, params["means"]
                ),
                "weights": mle_weights(stats["resp_sum"]),
            }
            history.append(log_likelihood)
        trajectories.append((params, history))
    (want, want_history), (got, got_history) = trajectories
    assert_allclose(got_history, want_history, rtol=1e-10)
    assert_allclose(got["means"], want["means"], rtol=1e-10)
    assert_allclose(got["weights"], want["weights"], rtol=1e-10)


def test_grouped_kernels_in_scheduler_threads(rng, small_blocks, monkeypatch):
    # Chunks large enough for the numpy kernels to cut them into groups (each
    # group under a BLAS limit, on a pool of two threads) inside the
    # scheduler's threads: the same sums, and afterwards the process has its
    # BLAS threads back (the limit is set and lifted by the calling thread).
    monkeypatch.setattr(_common, "MIN_ENTRIES_FOR_THREADS", 0)
    monkeypatch.setattr(_common, "n_threads", lambda: 2)

    def blas_threads():
        return [
            info["num_threads"]
            for info in threadpool_info()
            if info["user_api"] == "blas"
        ]

    before = blas_threads()
    X = make_data(rng, "float64 NaN")
    coefs, intercept = parameters(rng, X, True)
    sample_weight = rng.uniform(0.1, 2.0, size=N_SAMPLES)
    dX = to_dask(X, (40, -1))
    assert_kernels_equal_numpy(X, dX, coefs, intercept, sample_weight, 1e-10)
    assert blas_threads() == before


def test_tied_features_as_counts(rng):
    # Tied features' counts, computed on the chunks, fit like any dask array.
    X = make_data(rng, "float64 NaN")
    dX = to_dask(X, CHUNKINGS["uneven"])
    counts = dask_data.map_rows(dX, count_ones_and_zeros, 2, True)
    assert counts.chunks == (dX.chunks[0], (2,))
    want = count_ones_and_zeros(X, missing=True)
    assert_array_equal(counts.compute(), want)
    encoding = CountEncoding()
    params = encoding.linear_params(np.array([0.3, 0.7]), np.array([[0.2], [0.6]]))
    expected = dense.e_step(want, encoding, *params, np.ones(N_SAMPLES))
    got = dask_backend.e_step(counts, encoding, *params, None)
    assert got[0] == pytest.approx(expected[0], rel=1e-10)
    assert_allclose(got[2][0], expected[2][0], rtol=1e-10)
    # Sparse chunks count too.
    Xs = make_data(rng, "csr")
    sparse_counts = dask_data.map_rows(to_dask(Xs, (20, -1)), count_ones_and_zeros, 2)
    assert_array_equal(sparse_counts.compute(), count_ones_and_zeros(Xs))


# ------------------------------------------------------------------ helpers
@pytest.mark.parametrize(
    "values, expected",
    [
        (np.array([[0, 1], [1, 1]], dtype=np.uint8), (False, True)),
        (np.array([[True, False]] * 3), (False, True)),
        (np.array([[0.0, 1.0], [2.0, 1.0]]), (False, False)),
        (np.array([[0.0, np.nan], [1.0, 1.0]], dtype=np.float32), (True, True)),
        (np.array([[0.5, np.nan], [1.0, 1.0]]), (True, False)),
        (np.array([[0, 3], [1, 1]], dtype=np.int64), (False, False)),
    ],
)
def test_scan(values, expected):
    X = np.repeat(values, 5, axis=0)
    assert tuple(dask_data.scan(da.from_array(X, chunks=(3, 1)))) == expected
    sparse_X = to_dask(sp.csr_matrix(np.nan_to_num(X)), (4, -1))
    assert dask_data.scan(sparse_X).is_binary == bool(
        np.isin(np.nan_to_num(X), [0, 1]).all()
    )


def test_scan_rejects_infinity_and_sparse_nan():
    X = np.zeros((10, 3))
    X[7, 1] = np.inf
    with pytest.raises(ValueError, match=r"Input X contains infinity .*float64"):
        dask_data.scan(da.from_array(X, chunks=(4, -1)))
    X[7, 1] = np.nan
    with pytest.raises(ValueError, match="Sparse input with NaN"):
        dask_data.scan(da.from_array(X, chunks=(4, -1)).map_blocks(sp.csr_matrix))


@pytest.mark.parametrize("threshold", [None, 0.0, 0.5, 1.0, 2.0, -1.0])
@pytest.mark.parametrize("data", ["binary uint8", "binary float", "values", "NaN"])
def test_binarize_equals_numpy(rng, data, threshold):
    X = rng.integers(0, 2, size=(40, 6)).astype(np.float64)
    if data == "binary uint8":
        X = X.astype(np.uint8)
    elif data == "values":
        X *= rng.uniform(0, 3, size=X.shape)
    elif data == "NaN":
        X[rng.uniform(size=X.shape) < 0.2] = np.nan
    missing = data == "NaN"
    dX = da.from_array(X, chunks=(9, 2))
    scanned = dask_data.scan(dX)
    assert scanned.has_missing == missing
    try:
        expected = binarize_data(X, threshold, missing)
    except ValueError as error:
        # Up front with the scan's verdict; at compute time without it.
        with pytest.raises(ValueError, match="must contain only 0 and 1") as raised:
            dask_data.binarize(dX, threshold, missing, is_binary=scanned.is_binary)
        # The same values shown (their count is a lower bound: each chunk
        # reports at most NON_BINARY_SHOWN of them).
        assert str(raised.value).split(" and ")[0] == str(error).split(" and ")[0]
        lazy = dask_data.binarize(dX, threshold, missing)
        with pytest.raises(ValueError, match="must contain only 0 and 1"):
            lazy.compute()
        return
    for is_binary in [scanned.is_binary, None]:
        out = dask_data.binarize(dX, threshold, missing, is_binary=is_binary)
        assert dask_backend.is_dask_array(out)
        assert out.chunks == dask_data.check_array(dX).chunks
        computed = out.compute()
        assert_array_equal(computed, expected)
        assert computed.dtype == out.dtype
        if is_binary is not None:
            # Knowing the data are 0/1, the same array as numpy: X itself
            # when nothing changes.
            assert out.dtype == expected.dtype
            if expected is X:
                assert out.name == dask_data.check_array(dX).name


def test_binarize_sparse_chunks(rng):
    X = sp.random(30, 5, density=0.4, format="csr", random_state=0) * 3
    dX = to_dask(X, (7, -1))
    out = dask_data.binarize(dX, 1.0, is_binary=False)
    assert sp.issparse(out._meta)
    computed = out.compute()
    assert sp.issparse(computed)
    assert_array_equal(computed.toarray(), binarize_data(X, 1.0).toarray())
    with pytest.raises(ValueError, match="Cannot binarize sparse data"):
        dask_data.binarize(dX, -0.5)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("layout", ["uint8", "csr"])
def test_sample_rows(rng, layout, weighted):
    X = make_data(rng, layout)
    dense_X = X.toarray() if sp.issparse(X) else X
    sample_weight = None
    eligible = np.arange(N_SAMPLES)
    if weighted:
        sample_weight = rng.uniform(0.5, 2.0, size=N_SAMPLES)
        sample_weight[rng.uniform(size=N_SAMPLES) < 0.4] = 0.0
        eligible = np.flatnonzero(sample_weight > 0)
    draws = []
    for chunking in ["uneven", "twenty", "grid"]:
        dX = to_dask(X, CHUNKINGS[chunking], layout)
        weights = (
            None
            if sample_weight is None
            else da.from_array(sample_weight, chunks=(33,))
        )
        rows, X_rows, weight_rows = dask_data.sample_rows(
            dX, 25, np.random.RandomState(3), weights
        )
        assert rows.dtype == np.int64 and rows.shape == (25,)
        assert np.all(np.diff(rows) > 0) and np.isin(rows, eligible).all()
        assert sp.issparse(X_rows) == sp.issparse(X)
        X_rows = X_rows.toarray() if sp.issparse(X_rows) else X_rows
        assert X_rows.dtype == X.dtype
        assert_array_equal(X_rows, dense_X[rows])
        if weighted:
            assert_array_equal(weight_rows, sample_weight[rows])
        else:
            assert weight_rows is None
        draws.append(rows)
    # The same rows whatever the chunking.
    assert_array_equal(draws[0], draws[1])
    assert_array_equal(draws[0], draws[2])
    # Asking for more rows than there are gives each eligible row, once.
    dX = to_dask(X, CHUNKINGS["uneven"], layout)
    rows, _, _ = dask_data.sample_rows(dX, 10**6, None, sample_weight)
    assert_array_equal(rows, eligible)


def test_random_responsibilities(rng):
    dX = to_dask(make_data(rng, "uint8"), CHUNKINGS["uneven"])
    resp = dask_data.random_responsibilities(dX, 3, np.random.RandomState(0))
    again = dask_data.random_responsibilities(dX, 3, np.random.RandomState(0))
    assert resp.chunks == (dX.chunks[0], (3,))
    values = resp.compute()
    assert_array_equal(values, again.compute())
    assert_allclose(values.sum(axis=1), 1.0)
    assert np.all(values > 0)


def test_check_array():
    X = da.zeros((10, 6), chunks=(4, 2), dtype=np.uint8)
    checked = dask_data.check_array(X)
    assert len(checked.chunks[1]) == 1 and checked.shape == X.shape
    assert dask_data.check_array(checked) is checked
    with pytest.raises(ValueError, match="Expected a 2D dask array"):
        dask_data.check_array(da.zeros(5))
    with pytest.raises(ValueError, match="must hold numbers"):
        dask_data.check_array(da.zeros((5, 2), dtype=complex))
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        dask_data.check_array(X[X[:, 0] > 0])
    with pytest.raises(ValueError, match="0 sample"):
        dask_data.check_array(da.zeros((0, 3)))


@pytest.mark.parametrize(
    "values",
    [
        np.array([1.0, np.nan, 1.0]),
        np.array([1.0, np.inf, 1.0]),
        np.array([1.0, -1.0, 1.0]),
        np.zeros(3),
        np.ones(4),
        np.ones((3, 1)),
    ],
    ids=["nan", "inf", "negative", "zeros", "length", "2d"],
)
def test_check_sample_weight_messages_equal_numpy(values):
    X = da.zeros((3, 2), chunks=(2, -1))
    with pytest.raises(ValueError) as expected:
        check_sample_weight(values, 3)
    for weights in [values, da.from_array(values)]:
        with pytest.raises(ValueError) as raised:
            dask_data.check_sample_weight(weights, X)
        assert str(raised.value) == str(expected.value)


def test_check_sample_weight():
    X = da.zeros((5, 2), chunks=(2, -1))
    assert dask_data.check_sample_weight(None, X) == (None, 5.0, 5, 0)
    values = np.array([0.0, 1.0, 2.0, 0.0, 0.5])
    for weights in [values, da.from_array(values, chunks=3), values.astype(np.float32)]:
        checked, total, n_positive, exponent = dask_data.check_sample_weight(weights, X)
        assert dask_backend.is_dask_array(checked)
        assert checked.chunks == (X.chunks[0],) and checked.dtype == np.float64
        # Rescaled by 2**-1 so that the largest weight is in [1, 2).
        assert exponent == 1
        assert_array_equal(checked.compute(), values / 2)
        assert (total, n_positive) == (1.75, 3)


def test_the_package_never_imports_dask():
    # Fitting and predicting on numpy data, and importing the dask backend
    # itself (as the doctest collection does), leave dask unimported.
    code = (
        "import sys, numpy as np\n"
        "from skcoinmix import BernoulliMixtureEM\n"
        "import skcoinmix._backends.dask as backend\n"
        "X = (np.random.default_rng(0).uniform(size=(50, 4)) < 0.5).astype(float)\n"
        "BernoulliMixtureEM(2, random_state=0).fit(X).predict_proba(X)\n"
        "assert not backend.is_dask_array(X)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# -------------------------------------------------- the estimator on dask
def fitted_pair(X, dX, sample_weight=None, dask_weight=None, **params):
    """The same estimator fitted on numpy ``X`` and on dask ``dX``."""
    # Plain EM: the fits are compared update by update (SQUAREM's accept or
    # reject decisions could differ by rounding); dask with SQUAREM is in
    # test_family.py.
    params = {
        "n_components": 3,
        "random_state": 0,
        "tol": 1e-8,
        "accelerate": None,
        **params,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        want = BernoulliMixtureEM(**params).fit(X, sample_weight=sample_weight)
        got = BernoulliMixtureEM(**params).fit(dX, sample_weight=dask_weight)
    return want, got


def assert_same_fit(got, want, rtol=1e-10):
    # In float32 (rtol 1e-5) a probability carries an absolute error of the
    # order of float32's resolution times the sums it comes from, so small
    # ones are compared absolutely.
    atol = 1e-6 if rtol > 1e-9 else 1e-12
    for name in ["weights_", "means_"]:
        value = getattr(got, name)
        assert type(value) is np.ndarray, name  # fitted attributes are numpy
        assert_allclose(value, getattr(want, name), rtol=rtol, atol=atol)
    assert got.n_iter_ == want.n_iter_ and got.converged_ == want.converged_
    assert_allclose(got.lower_bounds_, want.lower_bounds_, rtol=rtol)
    assert got.n_features_in_ == want.n_features_in_


def assert_same_labels(labels, want_proba, rtol):
    """``labels`` from another path than ``want_proba``: its argmax, up to near ties.

    Bitwise-equal labels would need bitwise-equal posteriors; a label may be
    any component whose posterior lies within ``rtol`` (the posteriors'
    tolerance, relative) of the row's largest, on both sides. Without such a
    tie that is the argmax alone.
    """
    labels = np.asarray(labels)
    top = want_proba.max(axis=1, keepdims=True)
    allowed = want_proba >= top * (1 - 2 * rtol)
    assert allowed[np.arange(len(labels)), labels].all(), labels


def assert_same_predictions(got, want, X, dX, sample_weight=None, rtol=1e-10):
    """Prediction methods: lazy dask arrays chunked like dX, equal to numpy's.

    ``rtol`` is the prediction kernels' own round-off; the two fits'
    parameters differ too, which moves the posteriors by up to
    ``posterior_rtol`` and ``log p(x)`` by up to half that, absolutely (a
    mean near 0 or 1 amplifies its rounding: seed 5 of
    test_initialisations_equal_numpy, 4e-9).
    """
    row_chunks = dask_data.check_array(dX).chunks[0]
    atol = 1e-6 if rtol > 1e-9 else 1e-12  # see assert_same_fit
    moved = posterior_rtol(got, want)
    tolerances = {
        "predict_proba": dict(rtol=rtol + moved, atol=atol),
        "transform": dict(rtol=rtol + moved, atol=atol),
        "score_samples": dict(rtol=rtol, atol=atol + moved / 2),
    }
    lazy = {
        "predict": got.predict(dX),
        "predict_proba": got.predict_proba(dX),
        "transform": got.transform(dX),
        "score_samples": got.score_samples(dX),
    }
    computed = dict(zip(lazy, dask_backend.compute(*lazy.values()), strict=True))
    for name, value in lazy.items():
        assert dask_backend.is_dask_array(value), name
        assert value.chunks[0] == row_chunks, name
        expected = getattr(want, name)(X)
        if name == "predict":
            proba = want.predict_proba(X)
            assert_same_labels(computed[name], proba, rtol + moved)
        else:
            assert_allclose(computed[name], expected, **tolerances[name])
    for name in ["score", "bic", "aic"]:
        value = getattr(got, name)(dX, sample_weight=sample_weight)
        assert isinstance(value, float), name
        assert value == pytest.approx(
            getattr(want, name)(X, sample_weight=sample_weight), rel=rtol
        )


@pytest.mark.parametrize("layout", [*LAYOUTS, "csr"])
def test_estimator_equals_numpy(rng, layout):
    # From the same means_init, every iteration and every output agrees.
    X = make_data(rng, layout)
    dX = to_dask(X, CHUNKINGS["uneven"], layout)
    start = rng.uniform(0.2, 0.8, size=(3, N_FEATURES))
    want, got = fitted_pair(X, dX, means_init=start, max_iter=20, binarize=None)
    rtol = 1e-10
    if "float32" in layout:
        # Both fits compute in float32 and round differently (chunks): each
        # update of either is within float32_update_rtol of the exact one
        # (see test_backends.py::test_fit_on_every_dtype_equals_float64),
        # where a fixed 1e-5 failed (seed 7: 2.1e-5).
        rtol = 2 * max(
            float32_update_rtol(X, w, m)
            for w, m in [(np.full(3, 1 / 3), start), (want.weights_, want.means_)]
        )
    assert_same_fit(got, want, rtol)
    assert_same_predictions(got, want, X, dX, rtol=rtol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = BernoulliMixtureEM(**got.get_params()).fit_predict(dX)
    assert dask_backend.is_dask_array(labels)
    assert_same_labels(
        labels.compute(), want.predict_proba(X), rtol + posterior_rtol(got, want)
    )


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random_from_data"])
@pytest.mark.parametrize("tie_features", [False, True])
def test_initialisations_equal_numpy(rng, small_init_sample, init_params, tie_features):
    # The rows drawn to initialise are the same as numpy's (and only those
    # are gathered), so the default fit equals numpy's, weighted too.
    X = make_data(rng, "float64 NaN")
    dX = to_dask(X, CHUNKINGS["uneven"])
    sample_weight = rng.uniform(0.5, 2.0, size=N_SAMPLES)
    sample_weight[::5] = 0.0
    want, got = fitted_pair(
        X,
        dX,
        sample_weight,
        da.from_array(sample_weight, chunks=(30,)),
        init_params=init_params,
        tie_features=tie_features,
        n_init=2,
    )
    assert_same_fit(got, want)
    assert_same_predictions(got, want, X, dX, sample_weight)


@pytest.fixture
def small_init_sample(monkeypatch):
    """k-means initialisations on 40 of the 101 rows: a real draw."""
    monkeypatch.setattr(_init, "KMEANS_INIT_MAX_SAMPLES", 40)


def test_initialisation_never_gathers_x(rng, small_init_sample, monkeypatch):
    # Converting the dask array to numpy in this process fails the test: the
    # data only reach it as the (at most 40) rows k-means clusters.
    X = make_data(rng, "uint8")
    dX = to_dask(X, CHUNKINGS["twenty"])

    def refuse(*args, **kwargs):
        raise AssertionError("X was gathered into the client")

    monkeypatch.setattr(da.Array, "__array__", refuse)
    clustered = []
    original = KMeans.fit

    def spy(self, features, *args, **kwargs):
        clustered.append(features.shape[0])
        return original(self, features, *args, **kwargs)

    monkeypatch.setattr(KMeans, "fit", spy)
    for init_params in ["kmeans", "k-means++", "random_from_data", "random"]:
        BernoulliMixtureEM(3, init_params=init_params, random_state=0).fit(dX)
    assert clustered == [40]


def test_random_initialisation(rng):
    # "random" draws on the workers (other numbers than numpy's): the fit is
    # reproducible, and it is EM (the lower bound never decreases).
    X = make_data(rng, "uint8")
    dX = to_dask(X, CHUNKINGS["uneven"])
    fits = [
        BernoulliMixtureEM(3, init_params="random", random_state=1, tol=0, max_iter=15)
        for _ in range(2)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for est in fits:
            est.fit(dX)
    assert_array_equal(fits[0].means_, fits[1].means_)
    assert np.all(np.diff(fits[0].lower_bounds_) >= -1e-12)


def test_binarize_and_feature_checks(rng):
    values = rng.uniform(0, 3, size=(N_SAMPLES, N_FEATURES))
    dX = da.from_array(values, chunks=(30, -1))
    want, got = fitted_pair(values, dX, binarize=1.5)
    assert_same_fit(got, want)
    with pytest.raises(ValueError, match="must contain only 0 and 1"):
        BernoulliMixtureEM(2, binarize=None).fit(dX)
    with pytest.raises(ValueError, match="X has 5 features, but BernoulliMixtureEM"):
        got.predict(dX[:, :5])
    infinite = values.copy()
    infinite[3, 3] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        got.score_samples(da.from_array(infinite, chunks=(30, -1)))
    with pytest.raises(ValueError, match="Expected n_samples >= max"):
        BernoulliMixtureEM(3).fit(dX[:2])


def test_failed_refit_leaves_the_estimator_unchanged(rng):
    X = make_data(rng, "uint8")
    dX = to_dask(X, CHUNKINGS["uneven"])
    est = BernoulliMixtureEM(2, random_state=0).fit(dX)
    before = {key: np.copy(value) for key, value in vars(est).items()}
    for bad in [
        {"X": dX, "sample_weight": np.ones(N_SAMPLES - 1)},
        {"X": dX, "sample_weight": -np.ones(N_SAMPLES)},
        {"X": dX.astype(np.float64) * 2, "sample_weight": None},
    ]:
        est.set_params(binarize=None)
        with pytest.raises(ValueError):
            est.fit(bad["X"], sample_weight=bad["sample_weight"])
    est.set_params(binarize=0.0)
    assert vars(est).keys() == before.keys()
    for key, value in vars(est).items():
        assert_array_equal(value, before[key], err_msg=key)


def test_fit_report_asks_for_data_in_memory(rng):
    X = make_data(rng, "uint8")
    est = BernoulliMixtureEM(2, random_state=0).fit(X)
    with pytest.raises(TypeError, match=r"pass X.compute\(\), or the table"):
        fit_report(est, to_dask(X, CHUNKINGS["twenty"]))


def test_partial_fit_and_warm_start_equal_numpy(rng):
    X = make_data(rng, "float64 NaN")
    start = {"means_init": rng.uniform(0.2, 0.8, size=(3, N_FEATURES))}
    online = [BernoulliMixtureEM(3, **start) for _ in range(2)]
    for batch in np.array_split(np.arange(N_SAMPLES), 4):
        online[0].partial_fit(X[batch])
        online[1].partial_fit(da.from_array(X[batch], chunks=(7, -1)))
    assert_allclose(online[1].means_, online[0].means_, rtol=1e-10)
    assert_allclose(online[1].lower_bounds_, online[0].lower_bounds_, rtol=1e-10)
    # Warm-started single iterations, and n_jobs (restarts run in turn).
    dX = to_dask(X, CHUNKINGS["twenty"])
    warm = [
        BernoulliMixtureEM(3, warm_start=True, max_iter=1, n_jobs=2, **start)
        for _ in range(2)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(3):
            warm[0].fit(X)
            warm[1].fit(dX)
    assert_same_fit(warm[1], warm[0])


# ------------------------------------------------------------ real cluster
#: Per worker; a worker process holds ~185 MB once scikit-learn (and pandas,
#: which it imports) is loaded, and pauses at 80 % of its limit.
MEMORY_LIMIT = 350e6


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip(
        "distributed",
        reason="the optional dependency distributed is not installed "
        "(pip install 'skcoinmix[dask]')",
    )
    # No spilling to disk: data that did not fit would pause or kill a
    # worker instead of going unnoticed.
    with dask.config.set(
        {
            "distributed.worker.memory.target": False,
            "distributed.worker.memory.spill": False,
        }
    ):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit=MEMORY_LIMIT,
            dashboard_address=":0",  # any free port: 8787 may be taken
            silence_logs=logging.CRITICAL,
        )
    with cluster, distributed.Client(cluster) as client:
        yield client


def random_binary(seed, n_samples, n_features, chunk_rows):
    """Bernoulli(0.3) data generated chunk by chunk wherever it is computed."""
    generator = da.random.default_rng(seed)
    bytes_ = generator.integers(
        0, 256, size=(n_samples, n_features), chunks=(chunk_rows, -1), dtype=np.uint8
    )
    return (bytes_ < 77).astype(np.uint8)


@pytest.mark.cluster
@pytest.mark.parametrize("layout", ["uint8", "float64 NaN", "csr"])
def test_cluster_equals_numpy(client, rng, layout):
    X = make_data(rng, layout)
    missing = "NaN" in layout
    coefs, intercept = parameters(rng, X, missing)
    dX = to_dask(X, CHUNKINGS["uneven"], layout)
    sample_weight = rng.uniform(0.1, 2.0, size=N_SAMPLES)
    weights = dask_data.check_sample_weight(sample_weight, dX).weights
    assert_kernels_equal_numpy(X, dX, coefs, intercept, weights, 1e-10)
    assert dask_data.scan(dX) == (missing, True)
    rows, X_rows, _ = dask_data.sample_rows(dX, 10, np.random.RandomState(0))
    dense_X = X.toarray() if sp.issparse(X) else X
    got_rows = X_rows.toarray() if sp.issparse(X_rows) else X_rows
    assert_array_equal(got_rows, dense_X[rows])


@pytest.mark.cluster
@pytest.mark.parametrize("layout", ["uint8", "float64 NaN", "csr"])
def test_cluster_estimator_equals_numpy(client, rng, layout):
    # The default fit (k-means on gathered rows, then EM on the workers) and
    # every prediction, weighted, equal numpy's.
    X = make_data(rng, layout)
    dX = to_dask(X, CHUNKINGS["uneven"], layout)
    sample_weight = rng.uniform(0.1, 2.0, size=N_SAMPLES)
    want, got = fitted_pair(
        X, dX, sample_weight, da.from_array(sample_weight, chunks=(40,))
    )
    assert_same_fit(got, want)
    assert_same_predictions(got, want, X, dX, sample_weight)


def peak_resident_bytes():
    """This process's peak resident size (``VmHWM``; ``ru_maxrss`` without /proc).

    Not ``ru_maxrss`` where there is a choice: a process forked from a large
    one starts with the parent's peak in it.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # no /proc
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@contextlib.contextmanager
def in_this_process():
    """Compute chunk by chunk in this process although a Client is active.

    On purpose: the reference computation. Older dask warns that this "might
    lead to unexpected results"; nothing here depends on the cluster.
    """
    with warnings.catch_warnings(), dask.config.set(scheduler="sync"):
        warnings.filterwarnings(
            "ignore", "Running on a single-machine scheduler", UserWarning
        )
        yield


def cluster_fit(X, max_iter=3):
    """``max_iter`` EM iterations from a fixed start, whatever the scheduler."""
    start = np.random.default_rng(0).uniform(0.2, 0.8, size=(3, X.shape[1]))
    est = BernoulliMixtureEM(3, means_init=start, max_iter=max_iter, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X)


@pytest.mark.cluster
def test_cluster_survives_a_killed_worker(client):
    # 60 chunks of 4 MB generated on the workers; one worker process is
    # killed (SIGKILL) during the fit, once it holds results: its chunks are
    # recomputed and the fit equals numpy's on the same data.
    X = random_binary(1, 60 * 16_000, 250, 16_000)
    with in_this_process():
        want = cluster_fit(X.compute())
    victim = next(iter(client.scheduler_info()["workers"]))
    pid = client.run(os.getpid, workers=[victim])[victim]
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(cluster_fit, X)
        deadline = time.monotonic() + 60
        while len(client.has_what().get(victim, ())) < 2 and not future.done():
            assert time.monotonic() < deadline, "the worker never held results"
            time.sleep(0.005)
        killed_mid_fit = not future.done()
        os.kill(pid, signal.SIGKILL)
        got = future.result(timeout=180)
    assert killed_mid_fit
    assert_same_fit(got, want)
    client.wait_for_workers(2, timeout=60)
    assert victim not in client.scheduler_info()["workers"]


@pytest.mark.cluster
def test_cluster_fits_data_larger_than_its_memory(client):
    # 800 MB of data, more than the two workers' limits together (2 x 350
    # MB, spilling off), generated and reduced chunk by chunk on the workers
    # at every pass (the scan, then an iteration); the same fit as chunk by
    # chunk in this process.
    X = random_binary(2, 3_200_000, 250, 16_000)
    assert X.nbytes > 2 * MEMORY_LIMIT
    client.restart(timeout=180)  # fresh worker processes: peaks start here
    with ThreadPoolExecutor(1) as pool:
        got = pool.submit(cluster_fit, X, 1).result(timeout=600)
    # No worker process ever grew to its limit.
    peak_bytes = list(client.run(peak_resident_bytes).values())
    assert max(peak_bytes) < MEMORY_LIMIT, peak_bytes
    with in_this_process():
        want = cluster_fit(X, 1)
    assert_same_fit(got, want)
