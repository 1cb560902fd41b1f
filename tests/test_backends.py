"""Every fast path of the kernels equals the straightforward reference."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM
from skcoinmix._backends import _common, dense, sparse
from skcoinmix._bernoulli import BinaryData, CountData
from skcoinmix._validation import binarize_data


def reference_e_step(X, coefs, intercept, sample_weight):
    """The E-step and the M-step's sums, in plain float64 numpy on the whole X.

    NaN entries are missing when two coefficient arrays are given.
    """
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X = X.astype(np.float64)
    observed = ~np.isnan(X)
    views = [np.where(observed, X, 0.0), observed.astype(float)][: len(coefs)]
    joint = (
        sum(view @ coef.T for view, coef in zip(views, coefs, strict=True)) + intercept
    )
    log_norm = logsumexp(joint, axis=1)
    resp = np.exp(joint - log_norm[:, None])
    weighted = resp * sample_weight[:, None]
    return (
        sample_weight @ log_norm,
        weighted.sum(axis=0),
        [weighted.T @ view for view in views],
        log_norm,
        joint - log_norm[:, None],
        views,
    )


def problem(rng, n_samples, n_features, n_components=4):
    X = (rng.uniform(size=(n_samples, n_features)) < 0.3).astype(np.uint8)
    means = rng.uniform(0.05, 0.95, size=(n_components, n_features))
    weights = rng.dirichlet(np.ones(n_components))
    (coef,), intercept = BinaryData(X).linear_params(weights, means)
    sample_weight = rng.uniform(0.1, 2.0, size=n_samples)
    return X, coef, intercept, sample_weight


@pytest.fixture(params=["one block", "many blocks, threads"])
def blocking(request, monkeypatch):
    """Run the kernels whole, or cut into small blocks over three threads."""
    if request.param != "one block":
        monkeypatch.setattr(dense, "BLOCK_BYTES", 1000)
        monkeypatch.setattr(dense, "MIN_BLOCK_ROWS", 7)
        monkeypatch.setattr(sparse, "BLOCK_NNZ", 50)
        monkeypatch.setattr(_common, "MIN_ENTRIES_FOR_THREADS", 0)
        monkeypatch.setattr(_common, "n_threads", lambda: 3)
    else:
        monkeypatch.setattr(dense, "MAX_BLOCK_ROWS", 10**9)
        monkeypatch.setattr(dense, "BLOCK_BYTES", 10**12)
        monkeypatch.setattr(sparse, "BLOCK_NNZ", 10**12)
    return request.param


DENSE_LAYOUTS = {
    "float64": lambda X: X.astype(np.float64),
    "float64 F-order": lambda X: np.asfortranarray(X, dtype=np.float64),
    "uint8": lambda X: X,
    "bool": lambda X: X.astype(bool),
    "int32": lambda X: X.astype(np.int32),
    "int64 strided": lambda X: np.repeat(X.astype(np.int64), 2, axis=1)[:, ::2],
    "float32": lambda X: X.astype(np.float32),
}


def assert_kernels_match_reference(backend, data, X, coefs, intercept, weights, rtol):
    # Absolute tolerances for values near 0 (log p(x) = 0 for a row with
    # nothing observed): round-off of the last bits of the compute dtype.
    atol = 1e-5 if rtol > 1e-9 else 1e-10
    expected = reference_e_step(X, coefs, intercept, weights)
    log_likelihood, resp_sum, sums = backend.e_step(data, coefs, intercept, weights)
    assert log_likelihood == pytest.approx(expected[0], rel=rtol, abs=atol)
    assert_allclose(resp_sum, expected[1], rtol=rtol)
    assert len(sums) == len(coefs)
    for got, want in zip(sums, expected[2], strict=True):
        assert_allclose(got, want, rtol=rtol, atol=1e-12)
    log_norm, log_resp = backend.log_resp(data, coefs, intercept)
    assert_allclose(log_norm, expected[3], rtol=rtol, atol=atol)
    assert_allclose(log_resp, expected[4], rtol=rtol, atol=atol)
    resp = np.exp(expected[4])
    sums = backend.weighted_sums(data, resp, len(coefs))
    for got, view in zip(sums, expected[5], strict=True):
        assert_allclose(got, resp.T @ view, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("layout", DENSE_LAYOUTS)
@pytest.mark.parametrize("n_samples", [1, 5, 101])
def test_dense_kernels_equal_reference(rng, blocking, layout, n_samples):
    X, coef, intercept, sample_weight = problem(rng, n_samples, 13)
    rtol = 1e-5 if layout == "float32" else 1e-10
    data = DENSE_LAYOUTS[layout](X)
    assert_kernels_match_reference(
        dense, data, X, (coef,), intercept, sample_weight, rtol
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_samples", [1, 5, 101])
def test_dense_kernels_with_missing_entries_equal_reference(
    rng, blocking, dtype, n_samples
):
    X, _, _, sample_weight = problem(rng, n_samples, 13)
    X = X.astype(dtype)
    X[rng.uniform(size=X.shape) < 0.3] = np.nan
    X[0] = np.nan  # a row with every entry missing
    means = rng.uniform(0.05, 0.95, size=(4, 13))
    weights = rng.dirichlet(np.ones(4))
    coefs, intercept = BinaryData(X, missing=True).linear_params(weights, means)
    assert len(coefs) == 2
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    assert_kernels_match_reference(dense, X, X, coefs, intercept, sample_weight, rtol)
    # A row with nothing observed has the mixing weights as its posterior.
    assert_allclose(
        np.exp(dense.log_resp(X, coefs, intercept)[1][0]), weights, rtol=rtol
    )


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_samples", [1, 5, 101])
def test_sparse_kernels_equal_reference(rng, blocking, fmt, dtype, n_samples):
    X, coef, intercept, sample_weight = problem(rng, n_samples, 13)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    data = sp.csr_matrix(X, dtype=dtype).asformat(fmt)
    assert_kernels_match_reference(
        sparse, data, X, (coef,), intercept, sample_weight, rtol
    )


def test_blocks_cover_every_row_once():
    for n_samples in [0, 1, 63, 64, 65, 10_000]:
        blocks = dense.row_blocks(n_samples, 100, np.float64)
        rows = np.concatenate([np.arange(a, b) for a, b in blocks] or [[]])
        assert_array_equal(rows, np.arange(n_samples))


def test_zero_weight_component_gives_no_nan(rng):
    X, coef, intercept, sample_weight = problem(rng, 50, 6)
    intercept[1] = -np.inf
    log_likelihood, resp_sum, sums = dense.e_step(X, (coef,), intercept, sample_weight)
    assert np.isfinite(log_likelihood)
    assert resp_sum[1] == 0 and np.all(sums[0][1] == 0)
    log_norm, log_resp = dense.log_resp(X, (coef,), intercept)
    assert np.all(np.isfinite(log_norm)) and np.all(log_resp[:, 1] == -np.inf)


def test_integer_data_is_never_converted_whole(rng):
    # A float64 copy of X would take 8 bytes per entry; the kernels convert
    # one block at a time.
    X, coef, intercept, sample_weight = problem(rng, 20_000, 500)
    assert binarize_data(X, 0.0) is X
    tracemalloc.start()
    dense.e_step(X, (coef,), intercept, sample_weight)
    dense.log_resp(X, (coef,), intercept)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.5 * X.size * 8


@pytest.mark.parametrize(
    "X, threshold, copied",
    [
        (np.array([[0, 1], [1, 1]], dtype=np.uint8), 0.0, False),
        (np.array([[0, 1], [1, 1]], dtype=np.uint8), 0.5, False),
        (np.array([[0.0, 1.0], [1.0, 1.0]]), None, False),
        (np.array([[True, False]]), -1.0, True),
        (np.array([[0, 1], [1, 1]], dtype=np.uint8), 1.0, True),
        (np.array([[0.0, 2.5], [7.0, 1.0]]), 2.0, True),
    ],
)
def test_binarize_copies_only_when_needed(X, threshold, copied):
    out = binarize_data(X, threshold)
    limit = 0.0 if threshold is None else threshold
    assert_array_equal(out, np.greater(X, limit).astype(np.uint8))
    assert (out is not X) == copied


def test_sparse_binarize_keeps_binary_matrix_and_drops_explicit_zeros():
    X = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert binarize_data(X, 0.0) is X
    X.data[0] = 0.0  # an explicit zero
    out = binarize_data(X, 0.0)
    assert out.nnz == 1 and X.nnz == 2
    assert_array_equal(out.toarray(), [[0, 0], [1, 0]])


@pytest.mark.parametrize("fmt", [None, "csr"])
def test_counts_equal_row_sums(rng, fmt):
    X = (rng.uniform(size=(30, 9)) < 0.4).astype(np.uint8)
    data = X if fmt is None else sp.csr_matrix(X)
    counts = CountData.from_binary(data).counts
    assert_array_equal(counts, np.column_stack([X.sum(1), 9 - X.sum(1)]))


@pytest.mark.parametrize("layout", ["uint8", "bool", "int32", "float32", "csr float32"])
@pytest.mark.parametrize("tied", [False, True])
def test_fit_on_every_dtype_equals_float64(rng, blocking, layout, tied):
    # From the same start, the estimator's whole fit agrees across storage.
    X, _, _, _ = problem(rng, 300, 20)
    means = rng.uniform(0.2, 0.8, size=(3, 20))
    if tied:
        means = np.repeat(means[:, :1], 20, axis=1)
    convert = {
        "uint8": lambda X: X,
        "bool": lambda X: X.astype(bool),
        "int32": lambda X: X.astype(np.int32),
        "float32": lambda X: X.astype(np.float32),
        "csr float32": lambda X: sp.csr_matrix(X, dtype=np.float32),
    }[layout]
    common = dict(
        n_components=3, means_init=means, tie_features=tied, max_iter=20, tol=0
    )
    with pytest.warns(ConvergenceWarning):
        reference = BernoulliMixtureEM(**common).fit(X.astype(np.float64))
    with pytest.warns(ConvergenceWarning):
        est = BernoulliMixtureEM(**common).fit(convert(X))
    rtol = 1e-5 if "float32" in layout else 1e-10
    assert_allclose(est.means_, reference.means_, rtol=rtol)
    assert_allclose(est.weights_, reference.weights_, rtol=rtol)
    assert_allclose(est.lower_bounds_, reference.lower_bounds_, rtol=rtol)
    assert_allclose(
        est.predict_proba(convert(X)), reference.predict_proba(X), atol=1e-4
    )


def test_threads_follow_blas_limits():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        assert _common.n_threads() == 1
    assert _common.n_threads() >= 1
