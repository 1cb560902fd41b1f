"""Dense kernels: the E-step and the M-step's product on one block of rows at a time.

A mixture whose log-likelihood is linear in the data,
``log p(x_i | k) + log w_k = sum_v view_v(x_i) . coefs[v][k] + intercept_k``,
needs per iteration one matrix product per view for the E-step and one for
the M-step's sums, plus O(n K) work. The views are ``x`` itself, or, when
entries are missing (NaN), ``x`` with NaN read as 0 and the observed mask
(Bernoulli: ``coefs = (log t - log(1 - t),)`` or, with missing entries,
``(log t - log(1 - t), log(1 - t))``). Done naively the products stream
``X`` from memory twice and make n x K temporaries. Here each block of rows
serves every product while it is in cache, the n x K work happens in place on
the block, and the blocks are shared out between threads, so the element-wise
work uses every core too.

``X`` may be float64, float32, bool or any integer type. float32 computes in
float32 (sums accumulated in float64); everything else computes in float64,
converting one block at a time into a reused buffer, so an integer ``X`` is
never copied whole.
"""

# SPDX-License-Identifier: BSD-3-Clause

import threading

import numpy as np

from ._common import (
    as_compute_dtype,
    compute_dtype,
    log_normalize,
    normalize,
    run_blocks,
)

__all__ = ["e_step", "log_resp", "weighted_sums"]

#: Target size in bytes of one block of rows in the compute dtype: small
#: enough that the second product finds the block in cache (two threads' blocks
#: in the 32 MiB L3), large enough for efficient products and few Python calls
#: per row (measured with benchmarks/profile_kernels.py: 0.25-1 MiB 5-15%
#: slower than 2-8 MiB, 4 MiB 2-5% faster than 2 MiB at d = 100-2000).
BLOCK_BYTES = 1 << 22
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
    """One thread's buffers, reused from block to block.

    ``n_views`` is 1 for complete data and 2 for data with NaN: the block with
    NaN read as 0, and its observed mask.
    """

    def __init__(self, X, n_components, block_size, n_views):
        dtype = compute_dtype(X)
        shape = (block_size, X.shape[1])
        # Complete float data are used in place; anything else is decoded.
        decode = n_views > 1 or X.dtype != dtype
        self.views = (
            [np.empty(shape, dtype) for _ in range(n_views)] if decode else None
        )
        self.joint = np.empty(n_components * block_size, dtype)
        # float32 products are faster as (rows, d) @ (d, K) than as
        # (K, d) @ (d, rows) (0.85-0.9x at K = 10; float64: the reverse); the
        # (rows, K) result is then copied into the (K, rows) block.
        self.rows_first = (
            np.empty((block_size, n_components), dtype) if dtype == np.float32 else None
        )
        self.n_components = n_components

    def block_views(self, X, start, stop):
        """The views of rows ``start:stop``, each of shape (rows, d)."""
        raw = X[start:stop]
        if raw.dtype == bool:
            raw = raw.view(np.uint8)  # numpy converts uint8 to float faster
        if self.views is None:
            return [raw]
        views = [view[: stop - start] for view in self.views]
        np.copyto(views[0], raw, casting="unsafe")
        if len(views) > 1:
            missing = np.isnan(raw)
            views[0][missing] = 0
            np.logical_not(missing, out=views[1], casting="unsafe")
        return views

    def joint_log_prob(self, views, coefs, intercept):
        """``sum_v coefs[v] @ views[v].T + intercept``, components first: (K, rows)."""
        rows = views[0].shape[0]
        joint = self.joint[: self.n_components * rows].reshape(self.n_components, rows)
        if self.rows_first is None:
            np.matmul(coefs[0], views[0].T, out=joint)
            for coef, view in zip(coefs[1:], views[1:], strict=True):
                joint += coef @ view.T
        else:
            rows_first = self.rows_first[:rows]
            np.matmul(views[0], coefs[0].T, out=rows_first)
            for coef, view in zip(coefs[1:], views[1:], strict=True):
                rows_first += view @ coef.T
            np.copyto(joint, rows_first.T)
        joint += intercept[:, np.newaxis]
        return joint


def _blocked(X, n_components, n_views, work, make_state=None):
    """Run ``work(scratch, state, views, start, stop)`` over the row blocks.

    Scratch buffers belong to a thread (reused by all its groups of blocks);
    ``state`` to a group of blocks (see :func:`._common.run_blocks`).
    """
    blocks = row_blocks(X.shape[0], X.shape[1], compute_dtype(X))
    block_size = max((stop - start for start, stop in blocks), default=0)
    local = threading.local()

    def run(state, start, stop):
        scratch = getattr(local, "scratch", None)
        if scratch is None:
            scratch = local.scratch = _Scratch(X, n_components, block_size, n_views)
        work(scratch, state, scratch.block_views(X, start, stop), start, stop)

    return run_blocks(blocks, run, make_state or (lambda: None), n_entries=X.size)


def e_step(X, coefs, intercept, sample_weight):
    """The E-step and the sums the M-step needs, in one pass over ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Any real or integer dtype; NaN marks a missing entry when two
        coefficient arrays are given.

    coefs : tuple of 1 or 2 ndarrays of shape (K, d)
        ``log p(x | k) + log w_k = x . coefs[0][k] (+ observed . coefs[1][k])
        + intercept[k]``.

    intercept : ndarray of shape (K,)

    sample_weight : ndarray of shape (n,), float64, or None
        None for unit weights (saves a pass over the weights).

    Returns
    -------
    log_likelihood : float
        ``sum_i w_i log p(x_i)``.

    resp_sum : ndarray of shape (K,), float64
        ``sum_i w_i r_ik``.

    sums : list of 1 or 2 ndarrays of shape (K, d), float64
        ``sum_i w_i r_ik x_i`` (NaN read as 0), and with missing entries
        ``sum_i w_i r_ik observed_i``.
    """
    coefs, intercept = as_compute_dtype(X, coefs, intercept)
    n_components, n_features = coefs[0].shape
    unit_weights = sample_weight is None or bool(np.all(sample_weight == 1.0))
    # Frequency weights matter relative to one another. float32
    # responsibilities are weighted by w_i / max(w) and the sums scaled back in
    # float64: weights below float32's range (1e-50) would otherwise make 0.
    scale = 1.0
    if not unit_weights and coefs[0].dtype == np.float32:
        scale = float(sample_weight.max()) or 1.0

    def make_state():
        return {
            "log_likelihood": 0.0,
            "resp_sum": np.zeros(n_components),
            "sums": [np.zeros((n_components, n_features)) for _ in coefs],
        }

    def work(scratch, state, views, start, stop):
        resp = scratch.joint_log_prob(views, coefs, intercept)
        log_prob_norm = normalize(resp)
        if unit_weights:
            state["log_likelihood"] += float(log_prob_norm.sum())
        else:
            weights = sample_weight[start:stop]
            state["log_likelihood"] += float(weights @ log_prob_norm)
            resp *= weights if scale == 1.0 else weights / scale
        # In the compute dtype: a float32 sum over one block is as accurate
        # as the float32 product below, and the totals are float64.
        state["resp_sum"] += resp.sum(axis=1)
        for total, view in zip(state["sums"], views, strict=True):
            total += resp @ view

    states = _blocked(X, n_components, len(coefs), work, make_state)
    sums = [
        sum(sums) for sums in zip(*(state["sums"] for state in states), strict=True)
    ]
    return (
        sum(state["log_likelihood"] for state in states),
        sum(state["resp_sum"] for state in states) * scale,
        [total * scale for total in sums] if scale != 1.0 else sums,
    )


def log_resp(X, coefs, intercept):
    """Log-probabilities and log-responsibilities of every row.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    coefs : tuple of 1 or 2 ndarrays of shape (K, d)
        As in :func:`e_step`.
    intercept : ndarray of shape (K,)

    Returns
    -------
    log_prob_norm : ndarray of shape (n,), float64
        ``log p(x_i)``.

    log_resp : ndarray of shape (n, K), float64
        ``log p(k | x_i)``.
    """
    coefs, intercept = as_compute_dtype(X, coefs, intercept)
    n_components = coefs[0].shape[0]
    log_prob_norm = np.empty(X.shape[0])
    out = np.empty((X.shape[0], n_components))

    def work(scratch, _, views, start, stop):
        joint = scratch.joint_log_prob(views, coefs, intercept)
        log_prob_norm[start:stop] = log_normalize(joint)
        out[start:stop] = joint.T

    _blocked(X, n_components, len(coefs), work)
    return log_prob_norm, out


def weighted_sums(X, weights, n_views=1):
    """``weights.T @ view`` for each view of ``X``, one block at a time.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    weights : ndarray of shape (n, K)
    n_views : {1, 2}
        2 when NaN marks missing entries (see :func:`e_step`).

    Returns
    -------
    sums : list of ``n_views`` ndarrays of shape (K, d), float64
    """
    n_components = weights.shape[1]

    def make_state():
        return [np.zeros((n_components, X.shape[1])) for _ in range(n_views)]

    def work(scratch, state, views, start, stop):
        block_weights = weights[start:stop].T.astype(views[0].dtype)
        for total, view in zip(state, views, strict=True):
            total += block_weights @ view

    states = _blocked(X, n_components, n_views, work, make_state)
    return [sum(sums) for sums in zip(*states, strict=True)]
