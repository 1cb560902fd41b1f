"""Sparse input means what its dense form means, whatever the matrix stores.

A ``scipy.sparse`` matrix need not be in canonical form: an entry may be
stored several times (its value is the sum), indices may be unsorted, and
zeros may be stored explicitly. Every method must give what the same data
made dense give, and never change the caller's matrix.

The dense oracle is the array the test starts from, not anything the
estimator computes; the non-canonical matrices are built from it by splitting
each value into parts whose sum is exact in floating point.
"""

import numbers

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from skcoinmix import BernoulliMixtureEM, fit_report
from skcoinmix._validation import canonical_sparse

#: Sparse products and BLAS's dense products add the same terms in different
#: orders, so results agree to rounding (about 1e-16 per term, amplified
#: mildly by a few EM iterations); the existing sparse-versus-dense tests use
#: the same tolerances (tests/test_bernoulli.py::test_sparse_equals_dense).
RTOL = 1e-10
ATOL = 1e-12

#: How a stored value ``v`` is split into duplicates whose sum is exactly
#: ``v`` (halves and quarters of small dyadic values, and v + 1 - 1, are exact).
SPLITS = [
    lambda v: [v],
    lambda v: [v / 2, v / 2],
    lambda v: [v / 2, v / 4, v / 4],
    lambda v: [v + 1.0, -1.0],
    lambda v: [v, 0.0],  # an explicit zero stored next to the value
]

#: Duplicates stored where the dense value is 0.
ZERO_SPLITS = [
    lambda: [],
    lambda: [0.0],  # an explicit zero
    lambda: [1.0, -1.0],
    lambda: [0.5, -0.5],
]


def split_compressed(dense, rng, zero_rate=0.2):
    """``(data, indices, indptr)`` of a CSR matrix of ``dense``, non-canonical.

    Each non-zero entry is stored as several duplicates (see
    :data:`SPLITS`), some zeros are stored as duplicates summing to 0, and
    the entries of each row are shuffled (unsorted indices). The first row
    always stores two explicit zeros in its first column, so that the matrix
    is never canonical by chance.
    """
    data, indices, indptr = [], [], [0]
    for i, row in enumerate(dense):
        entries = [(0, 0.0), (0, 0.0)] if i == 0 else []
        for j, value in enumerate(row):
            if value != 0:
                parts = SPLITS[rng.integers(len(SPLITS))](float(value))
            elif rng.uniform() < zero_rate:
                parts = ZERO_SPLITS[rng.integers(len(ZERO_SPLITS))]()
            else:
                parts = []
            entries.extend((j, part) for part in parts)
        entries = [entries[i] for i in rng.permutation(len(entries))]
        indices.extend(j for j, _ in entries)
        data.extend(part for _, part in entries)
        indptr.append(len(indices))
    return (
        np.asarray(data, dtype=np.float64),
        np.asarray(indices, dtype=np.int32),
        np.asarray(indptr, dtype=np.int32),
    )


def non_canonical(dense, rng, fmt="csr_matrix"):
    """``dense`` as a non-canonical sparse matrix (or array) of format ``fmt``."""
    if fmt.startswith("csc"):
        # The transpose of a CSR matrix of dense.T is a CSC matrix of dense
        # sharing its (non-canonical) arrays.
        compressed = split_compressed(dense.T, rng)
        maker = sp.csr_array if fmt.endswith("array") else sp.csr_matrix
        matrix = maker(compressed, shape=dense.T.shape).T
    else:
        compressed = split_compressed(dense, rng)
        maker = sp.csr_array if fmt.endswith("array") else sp.csr_matrix
        matrix = maker(compressed, shape=dense.shape)
        if fmt.startswith("coo"):
            coo = sp.coo_array if fmt.endswith("array") else sp.coo_matrix
            rows = np.repeat(np.arange(dense.shape[0]), np.diff(compressed[2]))
            matrix = coo((compressed[0], (rows, compressed[1])), shape=dense.shape)
    assert matrix.format == fmt[:3]
    assert not matrix.has_canonical_format
    # The oracle: scipy's dense form (duplicates summed) is the array we meant.
    assert_array_equal(matrix.toarray(), dense)
    return matrix


def stored_arrays(matrix):
    """Copies of what ``matrix`` stores, to check later that nothing changed."""
    names = ["data", "row", "col"] if matrix.format == "coo" else ["data", "indices"]
    if matrix.format != "coo":
        names.append("indptr")
    return {name: getattr(matrix, name).copy() for name in names}


def assert_unchanged(matrix, before):
    for name, values in before.items():
        assert_array_equal(getattr(matrix, name), values, err_msg=name)
    assert not matrix.has_canonical_format


def assert_same(got, want, path="report"):
    """Recursive comparison of ``to_dict`` values: numbers to RTOL, rest exactly."""
    if isinstance(want, tuple | list):
        assert isinstance(got, tuple | list) and len(got) == len(want), path
        for index, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{path}[{index}]")
    elif isinstance(want, dict):
        assert got.keys() == want.keys(), path
        for key in want:
            assert_same(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, numbers.Real) and not isinstance(want, bool | int):
        assert got == pytest.approx(want, rel=RTOL, abs=ATOL, nan_ok=True), path
    else:
        assert got == want, path


def dense_values(rng, shape, binary):
    """Data to fit: 0/1, or 0, 0.5, 1 and 2 (so that thresholds matter)."""
    present = rng.uniform(size=shape) < 0.4
    if binary:
        return present.astype(np.float64)
    return present * rng.choice([0.5, 1.0, 2.0], size=shape)


# ------------------------------------------------------------ the issue
ISSUE_X = sp.csr_matrix((np.ones(2), [0, 0], [0, 2, 2]), shape=(2, 2))


def test_issue_example_means_its_dense_form():
    X = ISSUE_X.copy()
    dense = np.array([[2.0, 0.0], [0.0, 0.0]])
    assert_array_equal(X.toarray(), dense)
    got = BernoulliMixtureEM(1).fit(X)
    want = BernoulliMixtureEM(1).fit(dense)
    # binarize=0: the value 2 is a 1, in one row of two.
    assert_allclose(want.means_, [[0.5, 1e-10]])
    assert_allclose(got.means_, want.means_, rtol=RTOL, atol=ATOL)
    scores = got.score_samples(X)
    assert np.all(scores <= 0)
    assert_allclose(scores, want.score_samples(dense), rtol=RTOL, atol=ATOL)
    # Each row: probability 1/2 for its first feature, 1 - 1e-10 (the clipping
    # bound) for the second, which is 0 in both rows.
    assert_allclose(scores, np.full(2, np.log(0.5) + np.log1p(-1e-10)), rtol=1e-14)


def test_issue_example_refused_without_binarize():
    dense = np.array([[2.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"must contain only 0 and 1.*values 2\.0"):
        BernoulliMixtureEM(1, binarize=None).fit(dense)
    est = BernoulliMixtureEM(1, binarize=None)
    with pytest.raises(ValueError, match=r"must contain only 0 and 1.*values 2\.0"):
        est.fit(ISSUE_X)
    assert not hasattr(est, "means_")
    # Nor does a fitted estimator score it.
    est.fit(np.eye(2))
    means = est.means_.copy()
    for method in [est.score_samples, est.predict, est.partial_fit]:
        with pytest.raises(ValueError, match=r"values 2\.0"):
            method(ISSUE_X)
    assert_array_equal(est.means_, means)


def test_duplicates_summing_to_zero_or_one():
    # (0, 0): 1 + (-1) = 0; (0, 1): 0.5 + 0.5 = 1; (1, 1): 1 stored once.
    X = sp.csr_matrix(
        (np.array([1.0, 0.5, -1.0, 0.5, 1.0]), [0, 1, 0, 1, 1], [0, 4, 5]),
        shape=(2, 2),
    )
    dense = np.array([[0.0, 1.0], [0.0, 1.0]])
    assert_array_equal(X.toarray(), dense)
    for binarize in [None, 0.0, 0.7]:
        got = BernoulliMixtureEM(1, binarize=binarize).fit(X)
        want = BernoulliMixtureEM(1, binarize=binarize).fit(dense)
        assert_allclose(got.means_, want.means_, rtol=RTOL, atol=ATOL)
        assert_allclose(got.means_, [[1e-10, 1 - 1e-10]], rtol=RTOL)


def test_explicit_zeros_are_zeros():
    # Stored zeros, canonical otherwise: accepted by binarize=None, and zeros.
    X = sp.csr_matrix((np.array([0.0, 1.0, 0.0]), [0, 1, 1], [0, 2, 3]), shape=(2, 2))
    assert X.has_canonical_format
    dense = X.toarray()
    for binarize in [None, 0.0]:
        got = BernoulliMixtureEM(1, binarize=binarize).fit(X)
        want = BernoulliMixtureEM(1, binarize=binarize).fit(dense)
        assert_allclose(got.means_, want.means_, rtol=RTOL, atol=ATOL)
        assert_allclose(got.means_, [[1e-10, 0.5]], rtol=RTOL)
        assert_allclose(
            got.score_samples(X), want.score_samples(dense), rtol=RTOL, atol=ATOL
        )


def test_tied_features_count_the_dense_ones(rng):
    dense = dense_values(rng, (30, 7), binary=False)
    X = non_canonical(dense, rng)
    for binarize in [0.0, 0.7]:
        est = BernoulliMixtureEM(1, binarize=binarize, tie_features=True)
        counts = est._prepare_data(X, reset=True).X
        ones = (dense > binarize).sum(axis=1)
        assert_array_equal(counts, np.column_stack([ones, dense.shape[1] - ones]))
        est.fit(X)
        # One coin: the share of ones among all the tosses.
        share = (dense > binarize).mean()
        assert_allclose(est.means_, np.full((1, 7), share), rtol=1e-12)


# ------------------------------------------------------ the caller's matrix
@pytest.mark.parametrize(
    "fmt", ["csr_matrix", "csc_matrix", "csr_array", "csc_array", "coo_matrix"]
)
def test_the_callers_matrix_is_never_changed(rng, fmt):
    dense = dense_values(rng, (40, 5), binary=True)
    X = non_canonical(dense, rng, fmt)
    before = stored_arrays(X)
    est = BernoulliMixtureEM(2, random_state=0, init_params="random_from_data")
    est.fit(X)
    assert_unchanged(X, before)
    for method in [
        est.predict,
        est.predict_proba,
        est.score_samples,
        est.score,
        est.transform,
        est.bic,
        est.partial_fit,
        est.fit_predict,
    ]:
        method(X)
        assert_unchanged(X, before)
    fit_report(est, X)
    assert_unchanged(X, before)
    BernoulliMixtureEM(1, tie_features=True, binarize=None).fit(X)
    assert_unchanged(X, before)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_canonical_input_is_not_copied(rng, fmt):
    dense = dense_values(rng, (40, 5), binary=True)
    X = sp.csr_matrix(dense).asformat(fmt)
    assert X.has_canonical_format
    data = BernoulliMixtureEM(2)._prepare_data(X, reset=True)
    assert data.X is X


# --------------------------------------------------------- every method
def fit_both(X, dense, **params):
    common = dict(n_components=2, random_state=0, init_params="random_from_data")
    common.update(params)
    return (
        BernoulliMixtureEM(**common).fit(X),
        BernoulliMixtureEM(**common).fit(dense),
    )


@pytest.mark.parametrize(
    "fmt", ["csr_matrix", "csc_matrix", "csr_array", "csc_array", "coo_matrix"]
)
@pytest.mark.parametrize("binarize", [0.0, 0.7, None])
@pytest.mark.parametrize("tie_features", [False, True])
def test_every_method_equals_dense(rng, fmt, binarize, tie_features):
    dense = dense_values(rng, (60, 6), binary=binarize is None)
    X = non_canonical(dense, rng, fmt)
    got, want = fit_both(X, dense, binarize=binarize, tie_features=tie_features)
    assert_allclose(got.means_, want.means_, rtol=RTOL, atol=ATOL)
    assert_allclose(got.weights_, want.weights_, rtol=RTOL, atol=ATOL)
    assert got.n_iter_ == want.n_iter_
    assert_allclose(got.lower_bounds_, want.lower_bounds_, rtol=RTOL)

    scores = got.score_samples(X)
    assert np.all(scores <= 0)
    assert_allclose(scores, want.score_samples(dense), rtol=RTOL, atol=ATOL)
    for name in ["predict_proba", "transform"]:
        assert_allclose(
            getattr(got, name)(X),
            getattr(want, name)(dense),
            rtol=RTOL,
            atol=ATOL,
            err_msg=name,
        )
    assert_array_equal(got.predict(X), want.predict(dense))
    for name in ["score", "bic", "aic"]:
        assert getattr(got, name)(X) == pytest.approx(
            getattr(want, name)(dense), rel=RTOL
        ), name
    assert_same(fit_report(got, X).to_dict(), fit_report(want, dense).to_dict())

    # fit_predict and partial_fit take the same route through the data.
    assert_array_equal(
        BernoulliMixtureEM(**got.get_params()).fit_predict(X),
        BernoulliMixtureEM(**want.get_params()).fit_predict(dense),
    )
    got.partial_fit(X)
    want.partial_fit(dense)
    assert_allclose(got.means_, want.means_, rtol=RTOL, atol=ATOL)
    assert_allclose(got.weights_, want.weights_, rtol=RTOL, atol=ATOL)


def test_non_binary_sum_refused_as_dense_is(rng):
    # 0.5 stored twice is 1 (accepted); 1 stored twice is 2 (refused).
    dense = dense_values(rng, (20, 4), binary=True)
    dense[3, 2] = 2.0
    X = non_canonical(dense, rng)
    with pytest.raises(ValueError, match=r"values 2\.0") as dense_error:
        BernoulliMixtureEM(1, binarize=None).fit(dense)
    with pytest.raises(ValueError, match=r"values 2\.0") as sparse_error:
        BernoulliMixtureEM(1, binarize=None).fit(X)
    assert str(sparse_error.value) == str(dense_error.value)


def test_infinite_sum_refused(rng):
    # Two huge finite duplicates add up to infinity, as in the dense form.
    X = sp.csr_matrix((np.array([1e308, 1e308]), [0, 0], [0, 2, 2]), shape=(2, 2))
    with np.errstate(over="ignore"):
        dense = X.toarray()
    assert np.isinf(dense[0, 0])
    with pytest.raises(ValueError, match="infinity"):
        BernoulliMixtureEM(1).fit(dense)
    with pytest.raises(ValueError, match="infinity"):
        BernoulliMixtureEM(1).fit(X)


# ---------------------------------------------------------------- dask
@pytest.mark.parametrize("chunk_format", ["csr", "csc", "coo", "lil", "dok"])
@pytest.mark.parametrize("tie_features", [False, True])
def test_sparse_dask_chunks_equal_dense(rng, chunk_format, tie_features):
    da = pytest.importorskip("dask.array")
    from skcoinmix._backends import dask as dask_backend

    dense = dense_values(rng, (50, 6), binary=False)
    seed = int(rng.integers(2**31))

    def chunk(block, block_info=None):
        # Each chunk non-canonical, from a seed of its own.
        position = block_info[0]["chunk-location"][0]
        chunk_rng = np.random.default_rng([seed, position])
        if chunk_format in ("csr", "csc", "coo"):
            return non_canonical(block, chunk_rng, f"{chunk_format}_matrix")
        # lil and dok cannot store duplicates: they sum them when converted.
        return non_canonical(block, chunk_rng).asformat(chunk_format)

    dX = da.from_array(dense, chunks=((7, 20, 23), -1)).map_blocks(
        chunk, dtype=dense.dtype, meta=sp.csr_matrix((0, 0))
    )
    got, want = fit_both(dX, dense, tie_features=tie_features, binarize=0.7)
    assert_allclose(got.means_, want.means_, rtol=RTOL, atol=ATOL)
    assert_allclose(got.weights_, want.weights_, rtol=RTOL, atol=ATOL)
    scores, proba = dask_backend.compute(got.score_samples(dX), got.predict_proba(dX))
    assert np.all(scores <= 0)
    assert_allclose(scores, want.score_samples(dense), rtol=RTOL, atol=ATOL)
    assert_allclose(proba, want.predict_proba(dense), rtol=RTOL, atol=ATOL)
    assert got.score(dX) == pytest.approx(want.score(dense), rel=RTOL)


def test_sparse_dask_chunks_refused_as_dense_is(rng):
    da = pytest.importorskip("dask.array")

    dense = dense_values(rng, (20, 4), binary=True)
    dense[13, 1] = 2.0
    dX = da.from_array(dense, chunks=(10, -1)).map_blocks(
        lambda block: non_canonical(block, np.random.default_rng(0)),
        dtype=dense.dtype,
        meta=sp.csr_matrix((0, 0)),
    )
    with pytest.raises(ValueError, match=r"values 2\.0"):
        BernoulliMixtureEM(1, binarize=None).fit(dX)
    # And 0/1 data stored as halves are accepted.
    dense[13, 1] = 1.0
    dX = da.from_array(dense, chunks=(10, -1)).map_blocks(
        lambda block: non_canonical(block, np.random.default_rng(0)),
        dtype=dense.dtype,
        meta=sp.csr_matrix((0, 0)),
    )
    got = BernoulliMixtureEM(1, binarize=None).fit(dX)
    want = BernoulliMixtureEM(1, binarize=None).fit(dense)
    assert_allclose(got.means_, want.means_, rtol=RTOL, atol=ATOL)


def test_sparse_dask_chunks_are_never_changed(rng):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")

    dense = dense_values(rng, (30, 5), binary=True)
    # The chunks are these very objects (the threaded scheduler passes them
    # by reference), so a change made on a worker would show here.
    chunks = [non_canonical(dense[i : i + 10], rng) for i in range(0, 30, 10)]
    before = [stored_arrays(chunk) for chunk in chunks]
    dX = da.concatenate(
        [
            da.from_delayed(
                dask.delayed(chunk), chunk.shape, dtype=chunk.dtype, meta=chunk[:0]
            )
            for chunk in chunks
        ]
    )
    est = BernoulliMixtureEM(2, binarize=None, random_state=0).fit(dX)
    est.predict(dX).compute()
    for chunk, stored in zip(chunks, before, strict=True):
        assert_unchanged(chunk, stored)


# ------------------------------------------------------ canonical_sparse
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_canonical_sparse_copies_only_what_it_must(rng, fmt):
    dense = dense_values(rng, (12, 4), binary=False)
    canonical = sp.csr_matrix(dense).asformat(fmt)
    assert canonical_sparse(canonical) is canonical
    assert canonical_sparse(dense) is dense
    X = non_canonical(dense, rng, f"{fmt}_matrix")
    before = stored_arrays(X)
    out = canonical_sparse(X)
    assert out is not X and out.format == fmt and out.has_canonical_format
    assert not np.shares_memory(out.data, X.data)
    assert_array_equal(out.toarray(), dense)
    assert_unchanged(X, before)


@pytest.mark.parametrize("fmt", ["coo", "lil", "dok", "dia", "bsr"])
def test_canonical_sparse_makes_other_formats_csr(rng, fmt):
    dense = dense_values(rng, (12, 4), binary=False)
    X = non_canonical(dense, rng)
    X = (
        X.asformat(fmt, copy=True)
        if fmt != "coo"
        else non_canonical(dense, rng, "coo_matrix")
    )
    out = canonical_sparse(X)
    assert out.format == "csr" and out.has_canonical_format
    assert_array_equal(out.toarray(), dense)
