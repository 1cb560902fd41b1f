"""What the estimators need of a dask array besides the kernels: checks and preparation.

Validation (:func:`check_array`, :func:`canonical_chunks`,
:func:`check_sample_weight`), one-pass scans (:func:`scan`,
:func:`column_range`, :func:`unobserved_columns`), per-chunk maps
(:func:`binarize`, :func:`map_rows`) and the initialisation's draws
(:func:`sample_rows`, :func:`random_responsibilities`), chunk by chunk on the
workers, never gathering ``X`` in one process. dask itself comes through the
lazy imports of :mod:`.dask`, the one module that imports it.
"""

# SPDX-License-Identifier: BSD-3-Clause

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .dask import (
    SPLIT_EVERY,
    _aligned_rows,
    _da,
    _dask_module,
    _is_sparse,
    _row_chunked,
    compute,
    is_dask_array,
)

__all__ = [
    "Scan",
    "binarize",
    "canonical_chunks",
    "check_array",
    "check_sample_weight",
    "column_range",
    "map_chunks",
    "map_rows",
    "random_responsibilities",
    "reduce_chunks",
    "row_terms",
    "sample_rows",
    "scan",
    "unobserved_columns",
]


# ------------------------------------------------------------------ checks
def check_array(X, numeric=True):
    """Validate a dask array for the kernels; the counterpart of ``validate_data``.

    Checks only metadata (nothing is computed): two dimensions, a numeric
    dtype (with ``numeric=False`` any dtype but complex numbers: labels,
    strings, objects), known chunk sizes, at least one row and one column. A matrix of
    chunks is rechunked into chunks of whole rows (``X.rechunk({0: "auto",
    1: -1})``): rechunk ``X`` yourself, and ``persist`` it if it fits in the
    cluster's memory, to choose the chunks and avoid redoing it at every
    pass. Sparse chunks may have any ``scipy.sparse`` format; pass the
    result to :func:`canonical_chunks` before :func:`scan` and
    :func:`binarize`, which read their stored values (the estimator does;
    formats other than CSR and CSC are then converted to CSR at every pass).
    CSR is best (the sparse kernels cut it into blocks of rows, and use CSC
    whole).

    Finiteness (NaN is allowed, infinity is not) is checked by :func:`scan`,
    which needs a pass over the data.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)

    Returns
    -------
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked by rows only.
    """
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D dask array of shape (n_samples, n_features), got "
            f"{X.ndim}D with shape {X.shape}."
        )
    if not numeric and np.dtype(X.dtype).kind == "c":
        raise ValueError(
            f"Complex data not supported: the dask array has dtype {X.dtype}."
        )
    if numeric and np.dtype(X.dtype).kind not in "biuf":
        raise ValueError(
            f"X must hold numbers (bool, integers or floats), but the dask array "
            f"has dtype {X.dtype}."
        )
    if any(np.isnan(size) for size in X.chunks[0]):
        raise ValueError(
            "The dask array X has unknown chunk sizes (after boolean indexing, "
            "for instance); call X.compute_chunk_sizes() first."
        )
    for axis, name in ((0, "sample"), (1, "feature")):
        if X.shape[axis] < 1:
            raise ValueError(
                f"Found array with {X.shape[axis]} {name}(s) (shape={X.shape}) "
                "while a minimum of 1 is required."
            )
    return _row_chunked(X)


def canonical_chunks(X):
    """``X`` whose sparse chunks are, lazily, each entry stored once.

    Every chunk goes through :func:`skcoinmix._validation.canonical_sparse`
    when computed: a sparse chunk with duplicate entries or unsorted indices
    is replaced by a canonical copy (the chunk itself is never changed), one
    in a format other than CSR or CSC by a CSR copy; dense and canonical
    chunks pass as they are. Every chunk, not only those of an array whose
    metadata say sparse, as the metadata can be wrong (see
    :func:`_is_sparse`). Nothing is computed now; the step fuses with the
    task that reads the chunk.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Validated by :func:`check_array`.

    Returns
    -------
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked like ``X``; for :func:`scan` and the other helpers, whose
        checks read the stored values of sparse chunks one by one.
    """
    X = _row_chunked(X)
    meta = X._meta
    if sp.issparse(meta) and meta.format not in ("csr", "csc"):
        meta = sp.csr_matrix((0, 0), dtype=X.dtype)
    return X.map_blocks(_canonical_chunk, dtype=X.dtype, meta=meta)


def _canonical_chunk(block):
    from .._validation import canonical_sparse

    return canonical_sparse(block)


def check_sample_weight(sample_weight, X):
    """Validate frequency weights for dask ``X``, in one pass, and keep them ready.

    The checks and messages are those of
    :func:`skcoinmix._validation.check_sample_weight`: finite, non-negative,
    not all zero, one per row. The weights are rescaled by a power of two as
    :func:`skcoinmix._validation.scale_sample_weight` does.

    Parameters
    ----------
    sample_weight : ndarray or dask array of shape (n_samples,), or None
        ``None`` means a weight of 1 for every row.

    X : dask.array.Array of shape (n_samples, n_features)
        Validated by :func:`check_array`.

    Returns
    -------
    checked : skcoinmix._validation.ScaledWeights
        ``weights``: ``None`` when ``sample_weight`` is None (unit weights:
        nothing to ship); otherwise the rescaled weights as a float64 dask
        array chunked like the rows of ``X`` and persisted (held in the
        workers' memory, 8 bytes a row), so that an EM iteration does not
        ship or recompute them. ``total``: their sum; ``n_positive``: the
        number of rows with a positive weight; ``exponent``: the weights
        given are ``weights * 2**exponent``.
    """
    from .._validation import ScaledWeights, scale_sample_weight, weight_exponent
    from .._validation import check_sample_weight as check_numpy

    da = _da()
    n_samples = X.shape[0]
    if sample_weight is None:
        return ScaledWeights(None, float(n_samples), int(n_samples), 0)
    if not is_dask_array(sample_weight):
        weights, exponent = scale_sample_weight(check_numpy(sample_weight, n_samples))
        aligned = _aligned_rows(weights, X, "sample_weight").persist()
        return ScaledWeights(
            aligned,
            float(weights.sum()),
            int(np.count_nonzero(weights > 0)),
            exponent,
        )

    # Errors come from the numpy check on a small stand-in with the same
    # defect, so that the messages are those of the installed scikit-learn.
    if sample_weight.ndim != 1 or sample_weight.shape[0] != n_samples:
        check_numpy(np.ones(sample_weight.shape), n_samples)
    if np.dtype(sample_weight.dtype).kind not in "biuf":
        raise ValueError(
            f"sample_weight must hold numbers, but has dtype {sample_weight.dtype}."
        )
    weights = _aligned_rows(sample_weight, X, "sample_weight")
    weights = weights.astype(np.float64).persist()
    # Their sum may overflow: it is taken once they are rescaled.
    has_nan, has_inf, minimum, maximum, n_positive = da.compute(
        da.isnan(weights).any(),
        da.isinf(weights).any(),
        weights.min(),
        weights.max(),
        (weights > 0).sum(),
    )
    for defect, stand_in in [
        (has_nan, np.nan),
        (has_inf, np.inf),
        (minimum < 0, -1.0),
        (n_positive == 0, 0.0),
    ]:
        if defect:
            check_numpy(np.array([stand_in]), 1)
    exponent = weight_exponent(maximum)
    if exponent != 0:
        weights = da.ldexp(weights, -exponent).persist()
    total = weights.sum().compute()
    return ScaledWeights(weights, float(total), int(n_positive), exponent)


class Scan(NamedTuple):
    """What one pass over the data finds (see :func:`scan`)."""

    has_missing: bool
    is_binary: bool


def scan(X):
    """Whether ``X`` has NaN entries, and whether all the others are 0 or 1.

    One pass over the data, chunk by chunk on the workers; three booleans per
    chunk travel. The dask counterpart of
    :func:`skcoinmix._validation.has_missing` and of the 0/1 check of
    :func:`~skcoinmix._validation.binarize_data`, plus the finiteness check
    of ``validate_data(..., ensure_all_finite="allow-nan")``.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Validated by :func:`check_array`, sparse chunks made canonical by
        :func:`canonical_chunks`.

    Returns
    -------
    scan : Scan
        ``(has_missing, is_binary)``; ``is_binary`` ignores NaN entries.

    Raises
    ------
    ValueError
        If an entry is infinite, or a sparse chunk holds NaN (the message of
        :func:`~skcoinmix._validation.has_missing`).
    """
    da = _da()
    X = _row_chunked(X)
    flags = da.blockwise(
        _scan_chunk,
        "ij",
        X,
        "ij",
        adjust_chunks={"i": 1, "j": 2},
        dtype=bool,
        meta=np.empty((0, 0), dtype=bool),
    )
    has_nan, not_binary = flags.any(axis=0, split_every=SPLIT_EVERY).compute()
    return Scan(bool(has_nan), not bool(not_binary))


def _scan_chunk(block):
    from .._validation import scan_data

    # One pass over the chunk, as for in-memory data; raises on the worker
    # (and so from compute) for infinity and for NaN in sparse chunks.
    missing, binary = scan_data(block)
    return np.array([[missing, not binary]])


# ------------------------------------------------------------ preprocessing
def _non_binary_values(X, missing):
    """The distinct entries of ``X`` other than 0, 1 (and NaN), for the error message.

    At most :data:`NON_BINARY_SHOWN` per chunk travel, so the count in the
    message is a lower bound when the chunks hold more.
    """
    dask = _dask_module()

    parts = [
        dask.delayed(_non_binary_chunk)(part, missing)
        for part in X.to_delayed().ravel()
    ]
    return np.unique(np.concatenate(dask.compute(*parts)))


#: Distinct non-0/1 values each chunk reports for the error message.
NON_BINARY_SHOWN = 100


def _non_binary_chunk(block, missing):
    values = block.data if sp.issparse(block) else np.asarray(block).ravel()
    if missing:
        values = values[~np.isnan(values)]
    return np.unique(values[(values != 0) & (values != 1)])[:NON_BINARY_SHOWN]


def binarize(X, threshold, missing=False, *, is_binary=None):
    """Binarise ``X`` lazily, chunk by chunk; see :func:`~skcoinmix._validation.binarize_data`.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Validated by :func:`check_array`, sparse chunks made canonical by
        :func:`canonical_chunks`.

    threshold : float or None
        Values strictly greater become 1, the others 0. ``None``: the data
        must hold only 0 and 1.

    missing : bool, default=False
        Whether NaN marks missing entries (from :func:`scan`); they stay NaN.

    is_binary : bool or None, default=None
        What :func:`scan` found. With it, the checks happen now: ``X`` itself
        is returned when it is already 0/1 and the threshold keeps it so, and
        ``threshold=None`` on data that are not 0/1 raises at once. With
        ``None`` the 0/1 check of ``threshold=None`` happens chunk by chunk
        when the result is computed (and raises then).

    Returns
    -------
    X : dask.array.Array of shape (n_samples, n_features)
        ``X`` itself, or lazily binarised chunks: uint8 for dense data (the
        input's float dtype, NaN kept, with missing entries); sparse chunks
        stay sparse, float64 (float32 for float32 input), without explicit
        zeros.

    Raises
    ------
    ValueError
        The messages of :func:`~skcoinmix._validation.binarize_data`: values
        other than 0 and 1 with ``threshold=None`` (now if ``is_binary`` is
        False, else at compute time), or a negative threshold for sparse
        chunks.
    """
    from .._validation import _raise_not_binary

    X = _row_chunked(X)
    is_sparse = _is_sparse(X)
    if is_sparse and threshold is not None and threshold < 0:
        raise ValueError(
            f"Cannot binarize sparse data with binarize={threshold} < 0: the "
            "implicit zeros would all become ones. Use a threshold >= 0 or "
            "dense data."
        )
    identity = threshold is None or 0 <= threshold < 1
    if threshold is None and is_binary is False:
        _raise_not_binary(_non_binary_values(X, missing))
    if identity and is_binary:
        return X
    if threshold is None:
        return X.map_blocks(
            _binarize_chunk, None, missing, None, dtype=X.dtype, meta=X._meta
        )
    if is_sparse:
        dtype = np.dtype(np.float32 if X.dtype == np.float32 else np.float64)
        meta = sp.csr_matrix((0, 0), dtype=dtype)
    else:
        dtype = np.dtype(X.dtype if missing else np.uint8)
        meta = np.empty((0, 0), dtype=dtype)
    return X.map_blocks(
        _binarize_chunk, threshold, missing, dtype, dtype=dtype, meta=meta
    )


def _binarize_chunk(block, threshold, missing, dtype):
    from .._validation import binarize_data

    out = binarize_data(block, threshold, missing)
    return out if dtype is None else out.astype(dtype, copy=False)


def map_rows(X, function, n_columns, *args):
    """``function(block, *args)`` of each chunk of rows, lazily: (n, n_columns) float64.

    For a model's per-row reductions (tied features' counts of ones and
    zeros): ``function`` is a module-level function of the model (pickled by
    reference to the workers), returning a (rows, n_columns) array.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
    function : callable
    n_columns : int
    *args
        Passed to ``function`` after the block.

    Returns
    -------
    rows : dask.array.Array of shape (n_samples, n_columns), float64
        Chunked like the rows of ``X``.
    """
    X = _row_chunked(X)
    return X.map_blocks(
        function,
        *args,
        chunks=(X.chunks[0], (n_columns,)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )


def map_chunks(X, function, dtype, *args):
    """``function(block, *args)`` of each chunk of rows, lazily, of ``X``'s shape and ``dtype``.

    See :func:`skcoinmix._backends.map_blocks`.

    Returns
    -------
    out : dask.array.Array of shape (n_samples, n_features)
        Chunked like ``X`` (by rows only).
    """
    X = _row_chunked(X)
    dtype = np.dtype(dtype)
    return X.map_blocks(function, *args, dtype=dtype, meta=np.empty((0, 0), dtype))


def reduce_chunks(X, function, combine, *args):
    """``combine`` of ``function(chunk, *args)`` over the chunks, in a tree on the workers.

    See :func:`skcoinmix._backends.reduce_blocks`: each chunk's summary is
    made where the chunk is, and :data:`SPLIT_EVERY` of them at a time are
    combined; only the final summary reaches the client.
    """
    dask = _dask_module()
    X = _row_chunked(X)
    parts = [dask.delayed(function)(part, *args) for part in X.to_delayed().ravel()]
    while len(parts) > 1:
        parts = [
            dask.delayed(combine)(parts[start : start + SPLIT_EVERY], *args)
            for start in range(0, len(parts), SPLIT_EVERY)
        ]
    (summary,) = compute(dask.delayed(combine)(parts, *args))
    return summary


def row_terms(X, encoding):
    """The encoding's per-row terms ``c_i``, lazily: (n_samples,) float64."""
    X = _row_chunked(X)
    return X.map_blocks(
        _row_term_chunk,
        encoding,
        drop_axis=1,
        chunks=(X.chunks[0],),
        dtype=np.float64,
        meta=np.empty((0,)),
    )


def _row_term_chunk(block, encoding):
    return encoding.row_term(block)


def column_range(X):
    """Each column's smallest and largest entry, NaN ignored; see :func:`skcoinmix._validation.column_range`.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)

    Returns
    -------
    low, high : ndarray of shape (n_features,), float64
    """
    X = _row_chunked(X)
    n_features = X.shape[1]
    ranges = X.map_blocks(
        _column_range_chunk,
        chunks=(tuple(2 for _ in X.chunks[0]), (n_features,)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )
    (ranges,) = compute(ranges)
    with np.errstate(invalid="ignore"):
        return np.fmin.reduce(ranges[0::2], axis=0), np.fmax.reduce(
            ranges[1::2], axis=0
        )


def _column_range_chunk(block):
    from .._validation import column_range

    return np.vstack(column_range(block))


def unobserved_columns(X):
    """The columns in which every entry is NaN: :func:`skcoinmix._validation.unobserved_columns`.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features), float

    Returns
    -------
    columns : ndarray of shape (n_unobserved,), int
    """
    da = _da()
    observed = (~da.isnan(_row_chunked(X))).any(axis=0, split_every=SPLIT_EVERY)
    (observed,) = compute(observed)
    return np.flatnonzero(~np.asarray(observed))


# ----------------------------------------------------------- initialisation
def sample_rows(X, n_rows, random_state, sample_weight=None):
    """Rows of ``X`` drawn at random without replacement, gathered as a small array.

    Only the chosen rows travel, and only the chunks holding one are
    computed. The rows are drawn uniformly among those with a positive
    weight (all rows without ``sample_weight``): ``n_rows`` ranks among them
    by :func:`sklearn.utils.random.sample_without_replacement`, so the rows
    drawn do not depend on the chunking. With ``n_rows`` at least the number
    of such rows, all of them are returned and ``random_state`` is not used.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Any 2D dask array chunked by rows with known chunk sizes (also the
        counts of :func:`row_counts`).

    n_rows : int

    random_state : numpy.random.RandomState

    sample_weight : ndarray or dask array of shape (n_samples,), default=None

    Returns
    -------
    rows : ndarray of shape (m,), int64
        Indices of the rows drawn, increasing; ``m = min(n_rows, number of
        rows with a positive weight)``.

    X_rows : ndarray or scipy.sparse CSR matrix of shape (m, n_features)
        ``X[rows]``, with the dtype of ``X``.

    weight_rows : ndarray of shape (m,), float64, or None
        ``sample_weight[rows]``; None without ``sample_weight``.
    """
    dask = _dask_module()
    from sklearn.utils.random import sample_without_replacement

    da = _da()
    X = _row_chunked(X)
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(np.int64)
    X_parts = X.to_delayed().ravel()
    if sample_weight is None:
        counts = np.asarray(X.chunks[0], dtype=np.int64)
        weight_parts = [None] * len(X_parts)
    else:
        weights = _aligned_rows(sample_weight, X, "sample_weight")
        counts = da.blockwise(
            _count_positive,
            "i",
            weights,
            "i",
            adjust_chunks={"i": 1},
            dtype=np.int64,
            meta=np.empty((0,), dtype=np.int64),
        ).compute()
        weight_parts = weights.to_delayed().ravel()
    bounds = np.concatenate([[0], np.cumsum(counts)])
    total = int(bounds[-1])
    if n_rows >= total:
        ranks = np.arange(total)
    else:
        ranks = np.sort(
            sample_without_replacement(total, n_rows, random_state=random_state)
        )
    chunk_of = np.searchsorted(bounds, ranks, side="right") - 1
    chosen = np.unique(chunk_of)
    tasks = [
        dask.delayed(_take_rows)(
            X_parts[i], weight_parts[i], ranks[chunk_of == i] - bounds[i]
        )
        for i in chosen
    ]
    results = dask.compute(*tasks)
    rows = np.concatenate(
        [
            starts[i] + positions
            for i, (positions, _, _) in zip(chosen, results, strict=True)
        ]
        or [np.empty(0, dtype=np.int64)]
    ).astype(np.int64)
    blocks = [block for _, block, _ in results]
    if any(sp.issparse(block) for block in blocks) or (not blocks and _is_sparse(X)):
        X_rows = (
            sp.vstack(blocks, format="csr")
            if blocks
            else sp.csr_matrix((0, X.shape[1]), dtype=X.dtype)
        )
    else:
        X_rows = (
            np.concatenate(blocks) if blocks else np.empty((0, X.shape[1]), X.dtype)
        )
    weight_rows = None
    if sample_weight is not None:
        weight_rows = np.concatenate(
            [w for _, _, w in results] or [np.empty(0)]
        ).astype(np.float64)
    return rows, X_rows, weight_rows


def _count_positive(weights):
    return np.array([np.count_nonzero(weights > 0)], dtype=np.int64)


def _take_rows(block, weights, ranks):
    """Rows of ``block`` at ``ranks`` (among the positive-weight rows if weighted)."""
    positions = ranks if weights is None else np.flatnonzero(weights > 0)[ranks]
    if sp.issparse(block):
        block = block.tocsr()
    rows = block[positions]
    return positions, rows, None if weights is None else weights[positions]


def random_responsibilities(X, n_components, random_state):
    """Random responsibilities for every row, lazily: the "random" initialisation.

    Uniform draws normalised per row, as the numpy path does (not the same
    numbers): one seed is drawn from ``random_state`` and dask derives a
    seed per chunk from it.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Only its row chunks are used; nothing is computed.

    n_components : int

    random_state : numpy.random.RandomState

    Returns
    -------
    resp : dask.array.Array of shape (n_samples, n_components), float64
        Chunked like the rows of ``X``; for :func:`weighted_sums`.
    """
    da = _da()
    seed = int(random_state.randint(np.iinfo(np.int32).max))
    draws = da.random.default_rng(seed).uniform(
        size=(X.shape[0], n_components), chunks=(X.chunks[0], (n_components,))
    )
    return draws / draws.sum(axis=1, keepdims=True)
