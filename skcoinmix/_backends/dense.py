"""Dense kernels: the E-step and the M-step's product on one block of rows at a time.

A mixture whose log-likelihood is linear in the data,
``log p(x_i | k) + log w_k = x_i . coef_k + intercept_k`` (Bernoulli; binomial on
counts), needs per iteration two matrix products, ``X @ coef.T`` and
``X.T @ resp``, plus O(n K) work. Done naively they stream ``X`` from memory
twice and make n x K temporaries. Here each block of rows serves both products
while it is in cache, the n x K work happens in place on the block, and the
blocks are shared out between threads, so the element-wise work uses every
core too.

``X`` may be float64, float32, bool or any integer type. float32 computes in
float32 (sums accumulated in float64); everything else computes in float64,
converting one block at a time into a reused buffer, so an integer ``X`` is
never copied whole.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

from ._common import (
    as_compute_dtype,
    compute_dtype,
    log_normalize,
    normalize,
    run_blocks,
)

__all__ = ["e_step", "log_resp", "weighted_sums"]

#: Target size in bytes of one block of rows in the compute dtype, about a
#: core's L2 cache, so that the second product finds the block there.
BLOCK_BYTES = 1 << 19
#: Bounds on the rows of a block: enough rows for BLAS to run well, few enough
#: that the (rows, K) block stays small.
MIN_BLOCK_ROWS, MAX_BLOCK_ROWS = 64, 8192


def row_blocks(n_samples, n_features, dtype):
    """``(start, stop)`` row ranges of about :data:`BLOCK_BYTES` each."""
    step = BLOCK_BYTES // max(1, n_features * np.dtype(dtype).itemsize)
    step = int(np.clip(step, MIN_BLOCK_ROWS, MAX_BLOCK_ROWS))
    return [
        (start, min(start + step, n_samples)) for start in range(0, n_samples, step)
    ]


class _Scratch:
    """One thread's buffers, reused from block to block."""

    def __init__(self, X, n_components, block_size):
        dtype = compute_dtype(X)
        # Only non-float data is converted, into a float block.
        self.X = None if X.dtype == dtype else np.empty((block_size, X.shape[1]), dtype)
        self.joint = np.empty(n_components * block_size, dtype)
        self.n_components = n_components

    def block(self, X, start, stop):
        if self.X is None:
            return X[start:stop]
        block = self.X[: stop - start]
        np.copyto(block, X[start:stop], casting="unsafe")
        return block

    def joint_log_prob(self, X_block, coef, intercept):
        """``coef @ X_block.T + intercept``, components first: shape (K, rows)."""
        rows = X_block.shape[0]
        joint = self.joint[: self.n_components * rows].reshape(self.n_components, rows)
        np.matmul(coef, X_block.T, out=joint)
        joint += intercept[:, np.newaxis]
        return joint


def _blocked(X, n_components, work, make_state=None):
    """Run ``work(scratch, state, X_block, start, stop)`` over the row blocks."""
    blocks = row_blocks(X.shape[0], X.shape[1], compute_dtype(X))
    block_size = max((stop - start for start, stop in blocks), default=0)

    def new_state():
        return (
            _Scratch(X, n_components, block_size),
            make_state() if make_state else None,
        )

    def run(state, start, stop):
        scratch, inner = state
        work(scratch, inner, scratch.block(X, start, stop), start, stop)

    return [inner for _, inner in run_blocks(blocks, run, new_state, n_entries=X.size)]


def e_step(X, coef, intercept, sample_weight):
    """The E-step and the sums the M-step needs, in one pass over ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Any real or integer dtype.

    coef : ndarray of shape (K, d)
        ``log p(x | k) + log w_k = x . coef[k] + intercept[k]``.

    intercept : ndarray of shape (K,)

    sample_weight : ndarray of shape (n,), float64

    Returns
    -------
    log_likelihood : float
        ``sum_i w_i log p(x_i)``.

    resp_sum : ndarray of shape (K,), float64
        ``sum_i w_i r_ik``.

    sums : ndarray of shape (K, d), float64
        ``sum_i w_i r_ik x_i``.
    """
    coef, intercept = as_compute_dtype(X, coef, intercept)
    n_components, n_features = coef.shape
    unit_weights = bool(np.all(sample_weight == 1.0))

    def make_state():
        return {
            "log_likelihood": 0.0,
            "resp_sum": np.zeros(n_components),
            "sums": np.zeros((n_components, n_features)),
        }

    def work(scratch, state, X_block, start, stop):
        resp = scratch.joint_log_prob(X_block, coef, intercept)
        log_prob_norm = normalize(resp)
        if unit_weights:
            state["log_likelihood"] += float(log_prob_norm.sum())
        else:
            weights = sample_weight[start:stop]
            state["log_likelihood"] += float(weights @ log_prob_norm)
            resp *= weights
        state["resp_sum"] += resp.sum(axis=1, dtype=np.float64)
        state["sums"] += resp @ X_block

    states = _blocked(X, n_components, work, make_state)
    return (
        sum(state["log_likelihood"] for state in states),
        sum(state["resp_sum"] for state in states),
        sum(state["sums"] for state in states),
    )


def log_resp(X, coef, intercept):
    """Log-probabilities and log-responsibilities of every row.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    coef : ndarray of shape (K, d)
    intercept : ndarray of shape (K,)

    Returns
    -------
    log_prob_norm : ndarray of shape (n,), float64
        ``log p(x_i)``.

    log_resp : ndarray of shape (n, K), float64
        ``log p(k | x_i)``.
    """
    coef, intercept = as_compute_dtype(X, coef, intercept)
    log_prob_norm = np.empty(X.shape[0])
    out = np.empty((X.shape[0], coef.shape[0]))

    def work(scratch, _, X_block, start, stop):
        joint = scratch.joint_log_prob(X_block, coef, intercept)
        log_prob_norm[start:stop] = log_normalize(joint)
        out[start:stop] = joint.T

    _blocked(X, coef.shape[0], work)
    return log_prob_norm, out


def weighted_sums(X, weights):
    """``weights.T @ X`` one block at a time (no whole-``X`` conversion).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    weights : ndarray of shape (n, K)

    Returns
    -------
    sums : ndarray of shape (K, d), float64
    """
    n_components = weights.shape[1]

    def make_state():
        return {"sums": np.zeros((n_components, X.shape[1]))}

    def work(scratch, state, X_block, start, stop):
        state["sums"] += weights[start:stop].T.astype(X_block.dtype) @ X_block

    states = _blocked(X, n_components, work, make_state)
    return sum(state["sums"] for state in states)
