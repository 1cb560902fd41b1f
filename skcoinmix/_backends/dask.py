"""Dask kernels: the interface of :mod:`.dense` for dask arrays chunked by rows.

``X`` is a ``dask.array.Array`` of shape (n, d) cut into chunks of rows (one
chunk along the columns; see :func:`check_array`). Each chunk is a numpy array
of any dtype the dense kernels take (NaN marks missing entries), or a
``scipy.sparse`` matrix.

The E-step runs on the workers: every chunk goes through the kernel of
:mod:`.dense` (or :mod:`.sparse`) and reduces to its sums, ``1 + K + V K d``
floats (the log-likelihood, the responsibility mass and one (K, d) sum per
view). Those are added up by a tree reduction, so the client only ever
receives O(K d) numbers, however large ``n``, and the result is exact batch
EM: the sums equal numpy's up to the order of the additions. The two
O(n K d) products, the n x K responsibilities and ``X`` itself never leave
the workers. Prediction (:func:`log_resp`) is lazy and returns dask arrays
chunked like the rows of ``X``.

Each chunk goes whole to the numpy kernel, which runs its row blocks on as
many threads as BLAS may use: the parallelism comes from the scheduler
running chunks side by side, so BLAS should use one thread. Worker processes
of ``dask.distributed`` start that way (their nanny sets
``OMP_NUM_THREADS=1``); for the local threaded scheduler, and workers in
threads of this process, the functions here that compute do so under a BLAS
limit of one thread set from the calling thread (:func:`compute`), so that
each chunk runs on its scheduler thread. Without it every scheduler thread
hands its chunk's groups of blocks to the kernels' own pool of threads, nested
in the scheduler's; the results are the same, the timings less predictable. The lazy results of :func:`log_resp` are best computed
with :func:`compute` too.

The checks and preparation the estimators need on dask input (validation,
scans, per-row maps, drawing rows) are in :mod:`.dask_data`; they work chunk
by chunk on the workers too, never gather ``X`` in one process, and get dask
through this module's lazy imports (:func:`_da`, :func:`_dask_module`).

Importing this module does not import dask: every function imports it when
called, so the package (and pytest's doctest collection) works without the
optional dependency. Whatever scheduler dask would use is used: the active
``dask.distributed.Client`` if there is one, else the local threaded
scheduler.
"""

# SPDX-License-Identifier: BSD-3-Clause

import sys

import numpy as np
import scipy.sparse as sp

from . import _common, dense, sparse
from ._common import as_compute_dtype

__all__ = [
    "compute",
    "e_step",
    "is_dask_array",
    "log_resp",
    "weighted_sums",
]

#: Partial sums are added this many at a time (the fan-in of the tree
#: reduction): each addition holds at most this many arrays of 1 + K + V K d
#: floats.
SPLIT_EVERY = 8


def _da():
    import dask.array

    return dask.array


def _dask_module():
    import dask

    return dask


def _delayed(obj):
    """``obj`` as one task of the graph, so it is shipped once, not once per chunk."""
    import dask

    return dask.delayed(obj, pure=True, traverse=False)


def is_dask_array(X):
    """Whether ``X`` is a dask array; never imports dask.

    A dask array can only exist once ``dask.array`` has been imported, so
    looking it up in ``sys.modules`` is enough.
    """
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(X, module.Array)


def compute(*collections):
    """``dask.compute(*collections)``, with BLAS limited to one thread in this process.

    The chunk kernels run on the scheduler's threads. With BLAS on one
    thread, each runs its chunk on its own thread; otherwise each hands its
    groups of blocks to the kernels' pool of threads (nested in the
    scheduler's). The limit is the one :func:`._common.run_blocks` uses,
    shared with the scheduler threads' own calls and lifted when the last
    returns; it does not reach ``dask.distributed`` worker processes, which
    run BLAS on one thread already.
    """
    import dask

    with _common.single_threaded_blas():
        return dask.compute(*collections)


def _is_sparse(X):
    """Whether the chunks of the dask array ``X`` are ``scipy.sparse`` matrices.

    From the array's metadata, which dask infers by calling the function that
    made the chunks on an empty array: it can be wrong (``map_blocks(
    sp.coo_matrix)`` says ndarray), so only defaults depend on it; the
    kernels look at each chunk.
    """
    return sp.issparse(getattr(X, "_meta", None))


# ------------------------------------------------------------------ checks
def _row_chunked(X):
    """``X`` with a single chunk along the columns (rechunked if needed)."""
    if X.ndim == 2 and len(X.chunks[1]) > 1:
        X = X.rechunk({0: "auto", 1: -1})
    return X


def _aligned_rows(values, X, name):
    """``values`` (numpy or dask, n rows) as a dask array chunked like X's rows."""
    da = _da()
    n_samples = X.shape[0]
    if values.shape[0] != n_samples:
        raise ValueError(
            f"{name} has {values.shape[0]} rows but X has {n_samples}: they must "
            "have one entry per row of X."
        )
    chunks = (X.chunks[0], *((size,) for size in values.shape[1:]))
    if is_dask_array(values):
        return values if values.chunks == chunks else values.rechunk(chunks)
    return da.from_array(np.asarray(values), chunks=chunks)


# ------------------------------------------------------------------ kernels
def _kernels(block):
    """The numpy kernels for one chunk: :mod:`.sparse` or :mod:`.dense`.

    A chunk goes to the kernel whole: its row blocks share one set of
    buffers. (Calling the kernel block by block would allocate them for each
    block, and ``dask.distributed`` workers, which set
    ``MALLOC_TRIM_THRESHOLD_``, then map and fault in fresh pages every time:
    seven times slower.) The kernel runs on as many threads as BLAS may use,
    which is one under :func:`compute` and on ``dask.distributed`` workers.
    """
    return sparse if sp.issparse(block) else dense


def _e_step_chunk(block, weights, params):
    """Sums of one chunk, flattened: ``[log_likelihood, resp_sum, *sums]``, (1, L)."""
    encoding, coefs, intercept = params
    log_likelihood, resp_sum, sums = _kernels(block).e_step(
        block, encoding, coefs, intercept, weights, coefs[0].dtype
    )
    flat = [np.array([log_likelihood]), resp_sum, *(total.ravel() for total in sums)]
    return np.concatenate(flat)[np.newaxis, :]


def _log_resp_chunk(block, params):
    """``[log p(x_i), log p(k | x_i)...]`` of each row of one chunk, (rows, K + 1)."""
    encoding, coefs, intercept = params
    out = np.empty((block.shape[0], coefs[0].shape[0] + 1))
    out[:, 0], out[:, 1:] = _kernels(block).log_resp(block, encoding, coefs, intercept)
    return out


def _weighted_sums_chunk(block, weights, encoding):
    """``weights.T @ view`` of one chunk for each view, flattened, (1, V K D)."""
    sums = _kernels(block).weighted_sums(block, encoding, weights)
    return np.concatenate([total.ravel() for total in sums])[np.newaxis, :]


def _reduced(X, chunk_function, length, *args):
    """Sum over the chunks of ``chunk_function``'s (1, length) rows: a lazy (length,)."""
    da = _da()
    partials = da.blockwise(
        chunk_function,
        "ij",
        X,
        "ij",
        *args,
        adjust_chunks={"i": 1, "j": length},
        concatenate=True,
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )
    return partials.sum(axis=0, split_every=SPLIT_EVERY)


def e_step(X, encoding, coefs, intercept, sample_weight, dtype=None):
    """The E-step and the M-step's sums, on the workers; see :func:`.dense.e_step`.

    Each chunk of rows reduces to ``1 + K + V K D`` floats on its worker
    (``V`` views of length ``D``); these are added by a tree reduction and
    only the total reaches the client. Computes (blocks until done).

    Parameters
    ----------
    X : dask.array.Array of shape (n, d)
        Chunked by rows; chunks dense (any dtype the encoding reads) or
        ``scipy.sparse``.

    encoding : skcoinmix._family.Encoding
        Shipped with the graph: each chunk's kernel encodes its own blocks.

    coefs : tuple of ``V`` ndarrays of shape (K, D)

    intercept : ndarray of shape (K,)

    sample_weight : ndarray or dask array of shape (n,), or None
        ``None`` means unit weights. A dask array is used as it is chunked
        (rechunked like the rows of ``X`` if needed); a numpy array is
        shipped with the graph at every call, so prefer the persisted dask
        array of :func:`check_sample_weight`.

    dtype : {float32, float64} or None
        The compute dtype of every chunk; None for that of ``X``.

    Returns
    -------
    log_likelihood : float
    resp_sum : ndarray of shape (K,), float64
    sums : list of ``V`` ndarrays of shape (K, D), float64
    """
    X = _row_chunked(X)
    coefs, intercept = as_compute_dtype(X, coefs, intercept, dtype)
    n_components, n_columns = coefs[0].shape
    length = 1 + n_components + len(coefs) * n_components * n_columns
    if sample_weight is None:
        weights = (None, None)
    else:
        weights = (_aligned_rows(sample_weight, X, "sample_weight"), "i")
    params = _delayed((encoding, coefs, intercept))
    (totals,) = compute(_reduced(X, _e_step_chunk, length, *weights, params, None))
    resp_sum = totals[1 : 1 + n_components]
    sums = np.split(totals[1 + n_components :], len(coefs))
    return (
        float(totals[0]),
        resp_sum.copy(),
        [total.reshape(n_components, n_columns) for total in sums],
    )


def log_resp(X, encoding, coefs, intercept):
    """Log-probabilities and log-responsibilities of every row, lazily.

    Parameters
    ----------
    X : dask.array.Array of shape (n, d)
    encoding : skcoinmix._family.Encoding
    coefs : tuple of ``V`` ndarrays of shape (K, D)
        As in :func:`e_step`.
    intercept : ndarray of shape (K,)

    Returns
    -------
    log_prob_norm : dask.array.Array of shape (n,), float64
        ``log p(x_i)``, chunked like the rows of ``X``.

    log_resp : dask.array.Array of shape (n, K), float64
        ``log p(k | x_i)``, chunked like the rows of ``X`` (one chunk along
        the components). Both come from the same tasks: computing them
        together (``compute(log_prob_norm, log_resp)``) reads ``X`` once.
    """
    da = _da()
    X = _row_chunked(X)
    coefs, intercept = as_compute_dtype(X, coefs, intercept)
    n_components = coefs[0].shape[0]
    both = da.blockwise(
        _log_resp_chunk,
        "ij",
        X,
        "ij",
        _delayed((encoding, coefs, intercept)),
        None,
        adjust_chunks={"j": n_components + 1},
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )
    return both[:, 0], both[:, 1:]


def weighted_sums(X, encoding, weights):
    """``weights.T @ view`` for each view of ``X``, on the workers; see :func:`.dense.weighted_sums`.

    Parameters
    ----------
    X : dask.array.Array of shape (n, d)
    encoding : skcoinmix._family.Encoding
    weights : dask array or ndarray of shape (n, K)
        Rechunked like the rows of ``X`` if needed (a numpy array is shipped
        with the graph).

    Returns
    -------
    sums : list of ``V`` ndarrays of shape (K, D), float64
    """
    X = _row_chunked(X)
    n_components = weights.shape[1]
    n_columns, n_views = encoding.n_columns(X.shape[1]), encoding.n_views
    weights = _aligned_rows(weights, X, "weights")
    (totals,) = compute(
        _reduced(
            X,
            _weighted_sums_chunk,
            n_views * n_components * n_columns,
            weights,
            "ik",
            _delayed(encoding),
            None,
        )
    )
    return [
        total.reshape(n_components, n_columns) for total in np.split(totals, n_views)
    ]
