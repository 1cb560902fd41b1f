"""Sparse kernels: the same interface as :mod:`.dense` for ``scipy.sparse`` input.

Implicit zeros are zeros and nothing is ever densified. A CSR matrix is cut
into row blocks that share its arrays (no copies), which keeps the (K, rows)
temporaries small; a CSC matrix is used whole. Everything runs on one thread,
as scipy's sparse products hold the GIL.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp

from ._common import (
    as_compute_dtype,
    log_normalize,
    normalize,
    run_blocks,
)

__all__ = ["e_step", "log_resp", "weighted_sums"]

#: Target number of stored entries per block of rows.
BLOCK_NNZ = 1 << 18


def _row_blocks(X):
    """``(start, stop)`` row ranges of about :data:`BLOCK_NNZ` entries (CSR only)."""
    n_samples = X.shape[0]
    if not sp.issparse(X) or X.format != "csr" or X.nnz <= BLOCK_NNZ:
        return [(0, n_samples)]
    cuts = np.searchsorted(X.indptr, np.arange(BLOCK_NNZ, X.nnz, BLOCK_NNZ))
    edges = np.unique(np.concatenate([[0], cuts, [n_samples]]))
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


def _rows(X, start, stop):
    """Rows ``start:stop`` of a CSR matrix as a view of its arrays."""
    if start == 0 and stop == X.shape[0]:
        return X
    lo, hi = X.indptr[start], X.indptr[stop]
    return sp.csr_matrix(
        (X.data[lo:hi], X.indices[lo:hi], X.indptr[start : stop + 1] - lo),
        shape=(stop - start, X.shape[1]),
        copy=False,
    )


def _blocked(X, work, make_state):
    blocks = _row_blocks(X)
    return run_blocks(
        blocks,
        lambda state, start, stop: work(state, _rows(X, start, stop), start, stop),
        make_state,
        # scipy's sparse products hold the GIL: threads would only add
        # overhead (measured 1.2x against 0.85x of the bare products).
        n_entries=0,
    )


def _joint_log_prob(X_block, coef, intercept):
    """``coef @ X_block.T + intercept``, components first: shape (K, rows)."""
    joint = np.ascontiguousarray(np.asarray(X_block @ coef.T).T)
    joint += intercept[:, np.newaxis]
    return joint


def _single_view(coefs):
    if len(coefs) != 1:
        raise ValueError("Sparse data cannot mark missing entries.")
    return coefs


def e_step(X, coefs, intercept, sample_weight):
    """The E-step and the sums the M-step needs; see :func:`.dense.e_step`.

    Parameters
    ----------
    X : sparse matrix of shape (n, d), CSR or CSC
    coefs : tuple of one ndarray of shape (K, d)
    intercept : ndarray of shape (K,)
    sample_weight : ndarray of shape (n,), float64, or None
        None for unit weights.

    Returns
    -------
    log_likelihood : float
    resp_sum : ndarray of shape (K,), float64
    sums : list of one ndarray of shape (K, d), float64
    """
    (coef,), intercept = as_compute_dtype(X, _single_view(coefs), intercept)
    n_components, n_features = coef.shape

    def make_state():
        return {
            "log_likelihood": 0.0,
            "resp_sum": np.zeros(n_components),
            "sums": np.zeros((n_features, n_components)),
        }

    def work(state, X_block, start, stop):
        resp = _joint_log_prob(X_block, coef, intercept)
        log_prob_norm = normalize(resp)
        # The weighting and the sums in float64 for float32 data too: the
        # sums of a column of ones must not exceed resp_sum (ones / trials
        # <= 1), and weights below float32's range must not make 0.
        resp = resp.astype(np.float64, copy=False)
        if sample_weight is None:
            state["log_likelihood"] += float(log_prob_norm.sum())
        else:
            weights = sample_weight[start:stop]
            state["log_likelihood"] += float(weights @ log_prob_norm)
            resp *= weights
        state["resp_sum"] += resp.sum(axis=1, dtype=np.float64)
        state["sums"] += X_block.T @ resp.T

    states = _blocked(X, work, make_state)
    return (
        sum(state["log_likelihood"] for state in states),
        sum(state["resp_sum"] for state in states),
        [sum(state["sums"] for state in states).T],
    )


def log_resp(X, coefs, intercept):
    """Log-probabilities and log-responsibilities; see :func:`.dense.log_resp`.

    Parameters
    ----------
    X : sparse matrix of shape (n, d), CSR or CSC
    coefs : tuple of one ndarray of shape (K, d)
    intercept : ndarray of shape (K,)

    Returns
    -------
    log_prob_norm : ndarray of shape (n,), float64
    log_resp : ndarray of shape (n, K), float64
    """
    (coef,), intercept = as_compute_dtype(X, _single_view(coefs), intercept)
    joint = _joint_log_prob(X, coef, intercept).astype(np.float64, copy=False)
    return log_normalize(joint), np.ascontiguousarray(joint.T)


def weighted_sums(X, weights, n_views=1):
    """``weights.T @ X`` for sparse ``X``.

    Parameters
    ----------
    X : sparse matrix of shape (n, d)
    weights : ndarray of shape (n, K)
    n_views : 1
        Sparse data have no missing entries.

    Returns
    -------
    sums : list of one ndarray of shape (K, d), float64
    """
    _single_view(range(n_views))
    return [np.asarray(X.T @ weights, dtype=np.float64).T]
