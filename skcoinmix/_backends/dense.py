"""Dense kernels: the E-step and the M-step's product on one block of rows at a time.

For a mixture whose log-likelihood is linear in an encoding of the data
(:mod:`skcoinmix._family`),
``log p(x_i | k) + log w_k = sum_v view_v(x_i) . coefs[v][k] + intercept_k + c_i``,
an iteration needs one matrix product per view for the E-step and one for
the M-step's sums, plus O(n K) work. The model's encoding turns each block
of rows into its views (Bernoulli: ``x`` itself, or with missing entries
``x`` with NaN read as 0 and the observed mask), so nothing but a block is
ever encoded. Done naively the products stream ``X`` from memory twice and
make n x K temporaries. Here each block of rows serves every product while
it is in cache, the n x K work happens in place on the block, and the blocks
are shared out between threads, so the element-wise work uses every core
too.

``X`` may be float64, float32, bool or any integer type. float32 computes in
float32 (sums accumulated in float64); everything else computes in float64,
the encoding converting one block at a time into a reused buffer, so an
integer ``X`` is never copied whole.
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

__all__ = ["e_step", "e_step_stacked", "log_resp", "weighted_sums"]

#: Target size in bytes of one block of rows in the compute dtype: small
#: enough that the second product finds the block in cache (two threads' blocks
#: in the 32 MiB L3), large enough for efficient products and few Python calls
#: per row (measured with benchmarks/profile_kernels.py: 0.25-1 MiB 5-15%
#: slower than 2-8 MiB, 4 MiB 2-5% faster than 2 MiB at d = 100-2000).
BLOCK_BYTES = 1 << 22
#: Bounds on the rows of a block: enough rows for BLAS to run well, few enough
#: that the (rows, K) block stays small.
MIN_BLOCK_ROWS, MAX_BLOCK_ROWS = 64, 8192


def row_blocks(n_samples, n_features, dtype, block_bytes=None):
    """``(start, stop)`` row ranges of about ``block_bytes`` (:data:`BLOCK_BYTES`) each."""
    block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
    step = block_bytes // max(1, n_features * np.dtype(dtype).itemsize)
    step = min(max(step, MIN_BLOCK_ROWS), MAX_BLOCK_ROWS)
    return [
        (start, min(start + step, n_samples)) for start in range(0, n_samples, step)
    ]


class _Scratch:
    """One thread's buffers, reused from block to block."""

    def __init__(self, X, encoding, n_components, block_size, n_columns, dtype):
        # np.empty maps pages lazily: an encoding that returns the block
        # itself (complete float data) never touches these.
        self.buffers = [
            np.empty((block_size, n_columns), dtype) for _ in range(encoding.n_views)
        ]
        self.joint = np.empty(n_components * block_size, dtype)
        # float32 products are faster as (rows, d) @ (d, K) than as
        # (K, d) @ (d, rows) (0.85-0.9x at K = 10; float64: the reverse); the
        # (rows, K) result is then copied into the (K, rows) block.
        self.rows_first = (
            np.empty((block_size, n_components), dtype) if dtype == np.float32 else None
        )
        self.n_components = n_components
        self.encoding = encoding

    def block_views(self, X, start, stop):
        """Rows ``start:stop`` as stored, and their views, each of shape (rows, D)."""
        raw = X[start:stop]
        buffers = [buffer[: stop - start] for buffer in self.buffers]
        return raw, self.encoding.encode(raw, buffers)

    def joint_log_prob(self, views, coefs, intercept, models):
        """``sum_v coefs[v] @ views[v].T + intercept``, components first: (S K, rows).

        ``models`` are the row slices of the stacked models' coefficients:
        each model's products are made on its own, so that its result is
        bitwise what it would be alone (a product's rounding may depend on
        the number of rows multiplied).
        """
        rows = views[0].shape[0]
        joint = self.joint[: self.n_components * rows].reshape(self.n_components, rows)
        for model in models:
            if self.rows_first is None:
                np.matmul(coefs[0][model], views[0].T, out=joint[model])
                for coef, view in zip(coefs[1:], views[1:], strict=True):
                    joint[model] += coef[model] @ view.T
            else:
                size = rows * (model.stop - model.start)
                rows_first = self.rows_first.reshape(-1)[:size].reshape(rows, -1)
                np.matmul(views[0], coefs[0][model].T, out=rows_first)
                for coef, view in zip(coefs[1:], views[1:], strict=True):
                    rows_first += view @ coef[model].T
                np.copyto(joint[model], rows_first.T)
        joint += intercept[:, np.newaxis]
        return joint


def _blocked(X, encoding, n_components, work, make_state=None, dtype=None):
    """Run ``work(scratch, state, raw, views, start, stop)`` over the row blocks.

    Scratch buffers belong to a thread (reused by all its groups of blocks);
    ``state`` to a group of blocks (see :func:`._common.run_blocks`).
    """
    n_columns = encoding.n_columns(X.shape[1])
    # Sized by the wider of the stored rows and their views (a one-hot
    # encoding is wider than its codes), so that a block stays in cache; an
    # encoding may ask for smaller blocks (block_bytes).
    dtype = compute_dtype(X, dtype)
    blocks = row_blocks(
        X.shape[0],
        max(X.shape[1], n_columns),
        dtype,
        getattr(encoding, "block_bytes", None),
    )
    block_size = max((stop - start for start, stop in blocks), default=0)
    local = threading.local()

    def run(state, start, stop):
        scratch = getattr(local, "scratch", None)
        if scratch is None:
            scratch = local.scratch = _Scratch(
                X, encoding, n_components, block_size, n_columns, dtype
            )
        raw, views = scratch.block_views(X, start, stop)
        work(scratch, state, raw, views, start, stop)

    return run_blocks(blocks, run, make_state or (lambda: None), n_entries=X.size)


def e_step(X, encoding, coefs, intercept, sample_weight, dtype=None):
    """The E-step and the sums the M-step needs, in one pass over ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Any real or integer dtype the encoding reads.

    encoding : skcoinmix._family.Encoding
        Turns each block of rows into its ``V`` views, and gives the per-row
        term ``c_i``.

    coefs : tuple of ``V`` ndarrays of shape (K, D)
        ``log p(x | k) + log w_k = sum_v view_v(x) . coefs[v][k]
        + intercept[k] + c(x)``.

    intercept : ndarray of shape (K,)

    sample_weight : ndarray of shape (n,), float64, or None
        None for unit weights (saves a pass over the weights).

    dtype : {float32, float64} or None
        The compute dtype; None for that of ``X`` (see
        :func:`._common.compute_dtype`).

    Returns
    -------
    log_likelihood : float
        ``sum_i w_i (log p(x_i) - c_i)``: the per-row term ``c_i`` depends
        on no parameter, so it is left out of the iterations and added once
        per fit (:func:`skcoinmix._backends.row_term_total`).

    resp_sum : ndarray of shape (K,), float64
        ``sum_i w_i r_ik``.

    sums : list of ``V`` ndarrays of shape (K, D), float64
        ``sum_i w_i r_ik view_v(x_i)``.
    """
    log_likelihood, resp_sum, sums = e_step_stacked(
        X, encoding, coefs, intercept, sample_weight, 1, dtype
    )
    return float(log_likelihood[0]), resp_sum[0], [total[0] for total in sums]


def e_step_stacked(X, encoding, coefs, intercept, sample_weight, n_models, dtype=None):
    """The E-steps of ``n_models`` mixtures of one family and ``K`` components at once.

    Their coefficients are stacked, so that each block of rows is encoded
    once and multiplied once for all of them: on small data, where an
    E-step costs mostly its fixed overheads, ``S`` models cost little more
    than one (restarts run in lockstep, :func:`skcoinmix._accelerate.drive_together`).

    Parameters
    ----------
    X, encoding, sample_weight, dtype
        As in :func:`e_step`.

    coefs : tuple of ``V`` ndarrays of shape (S K, D)
        Model ``s`` has rows ``s K : (s + 1) K``.

    intercept : ndarray of shape (S K,)

    n_models : int
        ``S``.

    Returns
    -------
    log_likelihood : ndarray of shape (S,), float64
    resp_sum : ndarray of shape (S, K), float64
    sums : list of ``V`` ndarrays of shape (S, K, D), float64
        Each model's, as :func:`e_step` returns them.
    """
    coefs, intercept = as_compute_dtype(X, coefs, intercept, dtype)
    n_stacked, n_columns = coefs[0].shape
    n_components = n_stacked // n_models
    unit_weights = sample_weight is None or bool(np.all(sample_weight == 1.0))
    # Frequency weights matter relative to one another. float32
    # responsibilities are weighted by w_i / max(w) and the sums scaled back in
    # float64: weights below float32's range (1e-50) would otherwise make 0.
    scale = 1.0
    if not unit_weights and coefs[0].dtype == np.float32:
        scale = float(sample_weight.max()) or 1.0

    models = [
        slice(first, first + n_components)
        for first in range(0, n_stacked, n_components)
    ]

    def make_state():
        return {
            "log_likelihood": np.zeros(n_models),
            "resp_sum": np.zeros(n_stacked),
            "sums": [np.zeros((n_stacked, n_columns)) for _ in coefs],
        }

    def work(scratch, state, raw, views, start, stop):
        # Model by model where a stacked operation might round differently
        # (products, dot products): each model's E-step is bitwise its own.
        resp = scratch.joint_log_prob(views, coefs, intercept, models)
        log_prob_norm = normalize(resp.reshape(n_models, n_components, -1))
        log_likelihood = state["log_likelihood"]
        if unit_weights:
            for index in range(n_models):
                log_likelihood[index] += float(log_prob_norm[index].sum())
        else:
            weights = sample_weight[start:stop]
            for index in range(n_models):
                log_likelihood[index] += float(weights @ log_prob_norm[index])
            resp *= weights if scale == 1.0 else weights / scale
        # In the compute dtype: a float32 sum over one block is as accurate
        # as the float32 product below, and the totals are float64.
        state["resp_sum"] += resp.sum(axis=1)
        for total, view in zip(state["sums"], views, strict=True):
            for model in models:
                total[model] += resp[model] @ view

    states = _blocked(X, encoding, n_stacked, work, make_state, coefs[0].dtype)
    sums = [
        sum(sums) for sums in zip(*(state["sums"] for state in states), strict=True)
    ]
    return (
        sum(state["log_likelihood"] for state in states),
        (sum(state["resp_sum"] for state in states) * scale).reshape(
            n_models, n_components
        ),
        [
            (total * scale if scale != 1.0 else total).reshape(
                n_models, n_components, n_columns
            )
            for total in sums
        ],
    )


def log_resp(X, encoding, coefs, intercept):
    """Log-probabilities and log-responsibilities of every row.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    encoding : skcoinmix._family.Encoding
    coefs : tuple of ``V`` ndarrays of shape (K, D)
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

    models = [slice(0, n_components)]

    def work(scratch, _, raw, views, start, stop):
        joint = scratch.joint_log_prob(views, coefs, intercept, models)
        log_prob_norm[start:stop] = log_normalize(joint)
        out[start:stop] = joint.T
        row_term = encoding.row_term(raw)
        if row_term is not None:
            log_prob_norm[start:stop] += row_term

    _blocked(X, encoding, n_components, work)
    return log_prob_norm, out


def weighted_sums(X, encoding, weights):
    """``weights.T @ view`` for each view of ``X``, one block at a time.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    encoding : skcoinmix._family.Encoding
    weights : ndarray of shape (n, K)

    Returns
    -------
    sums : list of ``V`` ndarrays of shape (K, D), float64
    """
    n_components = weights.shape[1]
    n_columns = encoding.n_columns(X.shape[1])

    def make_state():
        return [np.zeros((n_components, n_columns)) for _ in range(encoding.n_views)]

    def work(scratch, state, raw, views, start, stop):
        block_weights = weights[start:stop].T.astype(views[0].dtype)
        for total, view in zip(state, views, strict=True):
            total += block_weights @ view

    states = _blocked(X, encoding, n_components, work, make_state)
    return [sum(sums) for sums in zip(*states, strict=True)]
