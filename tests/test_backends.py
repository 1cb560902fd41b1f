"""Every fast path of the kernels equals the straightforward reference."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import float32_update_rtol, reference_e_step
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM
from skcoinmix._backends import _common, dense, sparse
from skcoinmix._bernoulli import (
    BinaryEncoding,
    count_ones_and_zeros,
)
from skcoinmix._validation import binarize_data

BINARY = BinaryEncoding()


def _encoding(coefs):
    """The encoding of 0/1 data for these coefficients: two with missing entries."""
    return BinaryEncoding(missing=len(coefs) == 2)


def problem(rng, n_samples, n_features, n_components=4):
    X = (rng.uniform(size=(n_samples, n_features)) < 0.3).astype(np.uint8)
    means = rng.uniform(0.05, 0.95, size=(n_components, n_features))
    weights = rng.dirichlet(np.ones(n_components))
    (coef,), intercept = BinaryEncoding().linear_params(weights, means)
    sample_weight = rng.uniform(0.1, 2.0, size=n_samples)
    return X, coef, intercept, sample_weight


@pytest.fixture(params=["one block", "many blocks, threads"])
def blocking(request, monkeypatch):
    """Run the kernels whole, or cut into small blocks over three threads."""
    if request.param != "one block":
        monkeypatch.setattr(dense, "BLOCK_BYTES", 1000)
        monkeypatch.setattr(dense, "MIN_BLOCK_ROWS", 7)
        monkeypatch.setattr(sparse, "BLOCK_BYTES", 1000)
        monkeypatch.setattr(sparse, "CHUNK_ROWS", 7)
        monkeypatch.setattr(_common, "MIN_ENTRIES_FOR_THREADS", 0)
        monkeypatch.setattr(_common, "n_threads", lambda: 3)
    else:
        monkeypatch.setattr(dense, "MAX_BLOCK_ROWS", 10**9)
        monkeypatch.setattr(dense, "BLOCK_BYTES", 10**12)
        monkeypatch.setattr(sparse, "BLOCK_BYTES", 10**12)
        monkeypatch.setattr(sparse, "CHUNK_ROWS", 10**9)
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
    log_likelihood, resp_sum, sums = backend.e_step(
        data, _encoding(coefs), coefs, intercept, weights
    )
    assert log_likelihood == pytest.approx(expected[0], rel=rtol, abs=atol)
    assert_allclose(resp_sum, expected[1], rtol=rtol)
    assert len(sums) == len(coefs)
    for got, want in zip(sums, expected[2], strict=True):
        assert_allclose(got, want, rtol=rtol, atol=1e-12)
    log_norm, log_resp = backend.log_resp(data, _encoding(coefs), coefs, intercept)
    assert_allclose(log_norm, expected[3], rtol=rtol, atol=atol)
    assert_allclose(log_resp, expected[4], rtol=rtol, atol=atol)
    resp = np.exp(expected[4])
    sums = backend.weighted_sums(data, _encoding(coefs), resp)
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
    coefs, intercept = BinaryEncoding(missing=True).linear_params(weights, means)
    assert len(coefs) == 2
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    assert_kernels_match_reference(dense, X, X, coefs, intercept, sample_weight, rtol)
    # A row with nothing observed has the mixing weights as its posterior.
    assert_allclose(
        np.exp(dense.log_resp(X, _encoding(coefs), coefs, intercept)[1][0]),
        weights,
        rtol=rtol,
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
    log_likelihood, resp_sum, sums = dense.e_step(
        X, BINARY, (coef,), intercept, sample_weight
    )
    assert np.isfinite(log_likelihood)
    assert resp_sum[1] == 0 and np.all(sums[0][1] == 0)
    log_norm, log_resp = dense.log_resp(X, BINARY, (coef,), intercept)
    assert np.all(np.isfinite(log_norm)) and np.all(log_resp[:, 1] == -np.inf)


def test_integer_data_is_never_converted_whole(rng):
    # A float64 copy of X would take 8 bytes per entry; the kernels convert
    # one block at a time.
    X, coef, intercept, sample_weight = problem(rng, 20_000, 500)
    assert binarize_data(X, 0.0) is X
    tracemalloc.start()
    dense.e_step(X, BINARY, (coef,), intercept, sample_weight)
    dense.log_resp(X, BINARY, (coef,), intercept)
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
    counts = count_ones_and_zeros(data)
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
        n_components=3,
        means_init=means,
        tie_features=tied,
        max_iter=20,
        tol=0,
        accelerate=None,  # plain EM: compared update by update
    )
    with pytest.warns(ConvergenceWarning):
        reference = BernoulliMixtureEM(**common).fit(X.astype(np.float64))
    with pytest.warns(ConvergenceWarning):
        est = BernoulliMixtureEM(**common).fit(convert(X))
    rtol = 1e-10
    if "float32" in layout:
        # One float32 update from the same parameters is within
        # float32_update_rtol (1.3-2.9e-4 here), at the start and at the end;
        # over 20 updates the errors stayed within a ninth of it (seeds
        # 0-99), where a fixed 1e-5 failed (seed 8: 1.03e-5).
        rtol = max(
            float32_update_rtol(X, w, m)
            for w, m in [
                (np.full(3, 1 / 3), means),
                (reference.weights_, reference.means_),
            ]
        )
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


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8])
def test_thread_counts_give_bitwise_equal_results(rng, monkeypatch, dtype):
    # Fixed groups of blocks make the sums independent of the number of
    # threads, in every compute dtype (float32 has its own product layout).
    X, coef, intercept, sample_weight = problem(rng, 3000, 30)
    X = X.astype(dtype)
    monkeypatch.setattr(dense, "BLOCK_BYTES", 4000)
    monkeypatch.setattr(_common, "MIN_ENTRIES_FOR_THREADS", 0)
    results = []
    # Bitwise only if the arithmetic is the same: one BLAS thread throughout
    # (a multithreaded BLAS may cut a product differently).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        for threads in [1, 2, 3]:
            monkeypatch.setattr(_common, "n_threads", lambda threads=threads: threads)
            log_likelihood, resp_sum, sums = dense.e_step(
                X, BINARY, (coef,), intercept, sample_weight
            )
            results.append([log_likelihood, resp_sum, sums[0]])
            results[-1].extend(dense.log_resp(X, BINARY, (coef,), intercept))
    for result in results[1:]:
        for got, want in zip(result, results[0], strict=True):
            assert_array_equal(got, want)


# Python >= 3.12 warns about fork() in any process with threads (OpenBLAS
# starts its own).
@pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded:DeprecationWarning"
)
def test_worker_threads_are_kept_and_remade_after_fork(rng, monkeypatch):
    import multiprocessing

    from threadpoolctl import threadpool_limits

    X, coef, intercept, sample_weight = problem(rng, 2000, 30)
    monkeypatch.setattr(dense, "BLOCK_BYTES", 4000)
    monkeypatch.setattr(_common, "MIN_ENTRIES_FOR_THREADS", 0)
    monkeypatch.setattr(_common, "n_threads", lambda: 2)
    # Compared bitwise below: one BLAS thread in the parent and, inherited,
    # in the child, so that only the kernels' own threads differ.
    with threadpool_limits(limits=1, user_api="blas"):
        expected = dense.e_step(X, BINARY, (coef,), intercept, sample_weight)[0]
        pool = _common._pool
        assert pool is not None
        dense.e_step(X, BINARY, (coef,), intercept, sample_weight)
        assert _common._pool is pool  # kept from call to call
        monkeypatch.setattr(_common, "n_threads", lambda: 3)
        dense.e_step(X, BINARY, (coef,), intercept, sample_weight)
        assert _common._pool is not pool  # remade for another number of threads
        # A forked child has none of the parent's threads: it starts its own.
        context = multiprocessing.get_context("fork")
        with context.Pool(1) as children:
            got = children.apply_async(
                dense.e_step, (X, BINARY, (coef,), intercept, sample_weight)
            ).get(timeout=60)
    assert got[0] == expected


@pytest.mark.parametrize("backend, fmt", [(dense, None), (sparse, "csr")])
def test_no_sample_weight_means_unit_weights(rng, blocking, backend, fmt):
    X, coef, intercept, _ = problem(rng, 101, 13)
    data = X if fmt is None else sp.csr_matrix(X, dtype=np.float64)
    ones = np.ones(X.shape[0])
    got = backend.e_step(data, BINARY, (coef,), intercept, None)
    want = backend.e_step(data, BINARY, (coef,), intercept, ones)
    assert got[0] == want[0]
    assert_array_equal(got[1], want[1])
    assert_array_equal(got[2][0], want[2][0])


@pytest.mark.parametrize("backend, fmt", [(dense, None), (sparse, "csr")])
def test_float32_tiny_weights_equal_unit_weights_scaled(rng, blocking, backend, fmt):
    # Weights below float32's range (1e-50) must not weight every row by 0.
    X, coef, intercept, _ = problem(rng, 101, 13)
    data = X.astype(np.float32)
    if fmt is not None:
        data = sp.csr_matrix(data)
    tiny = backend.e_step(data, BINARY, (coef,), intercept, np.full(X.shape[0], 1e-50))
    unit = backend.e_step(data, BINARY, (coef,), intercept, np.ones(X.shape[0]))
    assert tiny[0] == pytest.approx(1e-50 * unit[0], rel=1e-6)
    assert_allclose(tiny[1], 1e-50 * unit[1], rtol=1e-6)
    assert_allclose(tiny[2][0], 1e-50 * unit[2][0], rtol=1e-6)


@pytest.mark.parametrize("backend, fmt", [(dense, None), (sparse, "csr")])
def test_float32_sums_of_a_column_of_ones_equal_resp_sum(rng, blocking, backend, fmt):
    # ones / trials must not exceed 1: the sums of a column of ones equal
    # resp_sum up to float32 rounding of the responsibilities, not above it
    # by float32 accumulation in one and float64 in the other.
    X, coef, intercept, sample_weight = problem(rng, 101, 13)
    X[:, 0] = 1
    data = X.astype(np.float32)
    if fmt is not None:
        data = sp.csr_matrix(data)
    _, resp_sum, (sums,) = backend.e_step(
        data, BINARY, (coef,), intercept, sample_weight
    )
    assert_allclose(sums[:, 0], resp_sum, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_blocks_cover_every_row_once_within_the_budget(rng, monkeypatch, dtype):
    monkeypatch.setattr(sparse, "BLOCK_BYTES", 4000)
    n_components = 3
    for n_samples in [1, 2, 37, 500]:
        dense_X = np.where(rng.random((n_samples, 40)) < 0.2, 1.0, 0.0)
        X = sp.csr_matrix(dense_X, dtype=dtype)
        blocks = sparse._row_blocks(X, n_components)
        rows = np.concatenate([np.arange(a, b) for a, b in blocks])
        assert_array_equal(rows, np.arange(n_samples))
        # A block over budget is a single row; the cut ones count the copies
        # scipy makes of their arrays.
        entry_bytes = 12 if dtype == np.float64 else 16
        for start, stop in blocks:
            cost = 16 * n_components * (stop - start) + entry_bytes * (
                X.indptr[stop] - X.indptr[start]
            )
            assert cost <= sparse.BLOCK_BYTES or stop - start == 1 or len(blocks) == 1
        upcast = 8 if dtype == np.float32 else 0  # float64 data for the sums
        whole = 16 * n_components * n_samples + upcast * X.nnz
        assert (len(blocks) > 1) == (whole > sparse.BLOCK_BYTES)
        assert len(blocks) > 1 or n_samples < 500
        assert len(sparse._row_blocks(X.tocsc(), n_components)) == 1


def test_unit_weights_are_dropped_before_the_iterations():
    from skcoinmix._backends import unit_weights_as_none

    assert unit_weights_as_none(None) is None
    assert unit_weights_as_none(np.ones(4)) is None
    weights = np.array([1.0, 2.0, 1.0])
    assert unit_weights_as_none(weights) is weights


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exp_shifted_is_bitwise_np_exp(rng, dtype):
    # Entries that underflow take a fast path; the results must not change,
    # at the float64 underflow boundary (-745.13) and in the subnormal range.
    edges = [0.0, -1e-300, -708.39, -708.4, -744.44, -745.13, -745.14, -746.0]
    edges += [-746.0001, -800.0, -1e4, -np.inf, np.nextafter(-745.0, 0)]
    values = np.concatenate(
        [edges, -rng.exponential(300.0, size=5000), -rng.uniform(700, 760, 5000)]
    ).astype(dtype)
    for shape in [values.shape, (2, values.size // 2)]:
        shifted = values[: np.prod(shape)].reshape(shape).copy()
        with np.errstate(under="ignore"):
            expected = np.exp(shifted)
        _common.exp_shifted(shifted)
        assert_array_equal(shifted, expected)
    # Nothing below the threshold, or only past the sampled columns.
    late = -rng.uniform(0, 50, size=(3, 2 * _common.EXP_SAMPLE))
    late[:, -5:] = -1000.0
    for shifted in [-rng.uniform(0, 50, size=(3, 7)), late, late.T.copy()]:
        with np.errstate(under="ignore"):
            expected = np.exp(shifted)
        _common.exp_shifted(shifted)
        assert_array_equal(shifted, expected)
