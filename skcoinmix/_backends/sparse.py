"""Sparse kernels: the same interface as :mod:`.dense` for ``scipy.sparse`` input.

The model's encoding gives the sparse views of a block of rows (usually the
block itself, with no copy).

Implicit zeros are zeros and nothing is ever densified. Each product is one
call to scipy over as many rows as :data:`BLOCK_BYTES` of temporaries allow
(usually all of them), and the O(n K) work in between runs on small slices of
rows while they are in cache. A CSC matrix is used whole: its rows cannot be
sliced without converting it. Everything runs on one thread, as scipy's
sparse products hold the GIL.

Why not small row blocks, as for dense data: a sparse product reads the
(d, K) coefficients (E-step) or sums (M-step) at random, and alternating the
two block by block keeps both out of the L2 cache once d K is large
(10,000 x 10: 1.3x slower products); and scipy copies the arrays of a row
block that is less than half of the matrix.
"""

# SPDX-License-Identifier: BSD-3-Clause

import itertools

import numpy as np

from ._common import (
    as_compute_dtype,
    log_normalize,
    normalize,
    run_blocks,
)

__all__ = ["e_step", "log_resp", "weighted_sums"]

#: Bytes of temporaries one block of rows may make: its (rows, K) products
#: and responsibilities, plus, when the matrix has to be cut, the copies scipy
#: makes of a block's arrays (and the float64 copy of float32 data the
#: M-step's sums are computed from).
BLOCK_BYTES = 1 << 26
#: Rows normalised at a time, as a (K, rows) slice that stays in cache.
CHUNK_ROWS = 4096


def _row_blocks(X, n_components):
    """``(start, stop)`` row ranges whose temporaries fit :data:`BLOCK_BYTES`."""
    n_samples = X.shape[0]
    row_bytes = 2 * 8 * n_components
    upcast_bytes = 8 if X.dtype != np.float64 else 0
    if X.format != "csr" or row_bytes * n_samples + upcast_bytes * X.nnz <= BLOCK_BYTES:
        return [(0, n_samples)]
    entry_bytes = upcast_bytes + X.data.itemsize + X.indices.itemsize
    entries_before = X.indptr.astype(np.int64)  # of each row, and the total
    cost = row_bytes * np.arange(n_samples + 1) + entry_bytes * entries_before
    edges = [0]
    while edges[-1] < n_samples:
        # The most rows within budget, and at least one.
        stop = np.searchsorted(cost, cost[edges[-1]] + BLOCK_BYTES, side="right") - 1
        edges.append(int(max(stop, edges[-1] + 1)))
    return list(itertools.pairwise(edges))


def _rows(X, start, stop):
    """Rows ``start:stop`` of ``X`` (CSR unless it is whole)."""
    if start == 0 and stop == X.shape[0]:
        return X
    return X[start:stop]


def _blocked(X, n_components, work, make_state):
    return run_blocks(
        _row_blocks(X, n_components),
        lambda state, start, stop: work(state, _rows(X, start, stop), start, stop),
        make_state,
        n_entries=0,  # one thread: scipy's sparse products hold the GIL
    )


def _joint(X_block, coef):
    """``X_block @ coef.T``: shape (rows, K), in the dtype of ``coef``."""
    # Against C-ordered coefficients: scipy would copy the (d, K) view coef.T.
    return np.asarray(X_block @ np.ascontiguousarray(coef.T))


def _chunks(joint, intercept):
    """``joint.T + intercept`` in (K, rows) slices of :data:`CHUNK_ROWS` rows.

    Yields
    ------
    start, stop : int
        Rows of ``joint``, of shape (rows, K).
    chunk : ndarray of shape (K, stop - start)
        A reused buffer: the caller consumes it before the next one.
    """
    n_rows, n_components = joint.shape
    buffer = np.empty((n_components, min(CHUNK_ROWS, n_rows)), joint.dtype)
    for start in range(0, n_rows, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n_rows)
        chunk = buffer[:, : stop - start]
        np.add(joint[start:stop].T, intercept[:, np.newaxis], out=chunk)
        yield start, stop, chunk


def _joint_of_views(views, coefs):
    """``sum_v views[v] @ coefs[v].T``: shape (rows, K)."""
    joint = _joint(views[0], coefs[0])
    for view, coef in zip(views[1:], coefs[1:], strict=True):
        joint += _joint(view, coef)
    return joint


def e_step(X, encoding, coefs, intercept, sample_weight, dtype=None):
    """The E-step and the sums the M-step needs; see :func:`.dense.e_step`.

    Parameters
    ----------
    X : sparse matrix of shape (n, d), CSR or CSC
    encoding : skcoinmix._family.Encoding
        Its ``encode_sparse`` gives the sparse views of a block of rows.
    coefs : tuple of ``V`` ndarrays of shape (K, D)
    intercept : ndarray of shape (K,)
    sample_weight : ndarray of shape (n,), float64, or None
        None for unit weights.
    dtype : {float32, float64} or None
        The compute dtype of the products; None for that of ``X``.

    Returns
    -------
    log_likelihood : float
        Without the per-row terms, as :func:`.dense.e_step`.
    resp_sum : ndarray of shape (K,), float64
    sums : list of ``V`` ndarrays of shape (K, D), float64
    """
    coefs, intercept = as_compute_dtype(X, coefs, intercept, dtype)
    n_components, n_columns = coefs[0].shape
    # As in dense.e_step: unit weights take the unweighted path, so that
    # all-ones weights and None give bitwise the same sums (a dot product with
    # ones and a plain sum round differently).
    if sample_weight is not None and bool(np.all(sample_weight == 1.0)):
        sample_weight = None

    def make_state():
        return {
            "log_likelihood": 0.0,
            "resp_sum": np.zeros(n_components),
            "sums": [np.zeros((n_columns, n_components)) for _ in coefs],
        }

    def work(state, X_block, start, stop):
        weights = None if sample_weight is None else sample_weight[start:stop]
        views = encoding.encode_sparse(X_block)
        joint = _joint_of_views(views, coefs)
        # float64 responsibilities for float32 data too: the sums of a column
        # of ones must not exceed resp_sum (ones / trials <= 1), and weights
        # below float32's range must not make 0. float64 ones overwrite the
        # products they come from (chunks are copies).
        resp = joint if joint.dtype == np.float64 else np.empty(joint.shape)
        for lo, hi, chunk in _chunks(joint, intercept):
            log_prob_norm = normalize(chunk)
            rows = resp[lo:hi]
            rows[...] = chunk.T
            if weights is None:
                state["log_likelihood"] += float(log_prob_norm.sum())
            else:
                state["log_likelihood"] += float(weights[lo:hi] @ log_prob_norm)
                rows *= weights[lo:hi, np.newaxis]
        state["resp_sum"] += resp.sum(axis=0)
        for total, view in zip(state["sums"], views, strict=True):
            total += view.T @ resp

    states = _blocked(X, n_components, work, make_state)
    return (
        sum(state["log_likelihood"] for state in states),
        sum(state["resp_sum"] for state in states),
        [
            total.T
            for total in (
                sum(sums)
                for sums in zip(*(state["sums"] for state in states), strict=True)
            )
        ],
    )


def log_resp(X, encoding, coefs, intercept):
    """Log-probabilities and log-responsibilities; see :func:`.dense.log_resp`.

    Parameters
    ----------
    X : sparse matrix of shape (n, d), CSR or CSC
    encoding : skcoinmix._family.Encoding
    coefs : tuple of ``V`` ndarrays of shape (K, D)
    intercept : ndarray of shape (K,)

    Returns
    -------
    log_prob_norm : ndarray of shape (n,), float64
    log_resp : ndarray of shape (n, K), float64
    """
    coefs, intercept = as_compute_dtype(X, coefs, intercept)
    n_components = coefs[0].shape[0]
    log_prob_norm = np.empty(X.shape[0])
    out = np.empty((X.shape[0], n_components))

    def work(_, X_block, start, stop):
        joint = _joint_of_views(encoding.encode_sparse(X_block), coefs)
        for lo, hi, chunk in _chunks(joint, intercept):
            log_prob_norm[start + lo : start + hi] = log_normalize(chunk)
            out[start + lo : start + hi] = chunk.T
        row_term = encoding.row_term(X_block)
        if row_term is not None:
            log_prob_norm[start:stop] += row_term

    _blocked(X, n_components, work, lambda: None)
    return log_prob_norm, out


def weighted_sums(X, encoding, weights):
    """``weights.T @ view`` for each sparse view of ``X``.

    Parameters
    ----------
    X : sparse matrix of shape (n, d)
    encoding : skcoinmix._family.Encoding
    weights : ndarray of shape (n, K)

    Returns
    -------
    sums : list of ``V`` ndarrays of shape (K, D), float64
    """
    return [
        np.asarray(view.T @ weights, dtype=np.float64).T
        for view in encoding.encode_sparse(X)
    ]
