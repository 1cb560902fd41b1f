"""Kernels by storage: numpy arrays, ``scipy.sparse`` matrices and dask arrays.

Each backend module provides ``e_step(X, encoding, coefs, intercept,
sample_weight)``, ``log_resp(X, encoding, coefs, intercept)`` and
``weighted_sums(X, encoding, weights)`` for any mixture of the family
(:mod:`skcoinmix._family`): the model's encoding turns each block of rows
into its views, and the kernels know no model. The dask backend computes on
the workers and returns lazy dask arrays from ``log_resp``; it is the only
module that imports dask, and only when it is given a dask array.

The functions below are what models, the engine and the initialisation need
of the data whatever its storage (validation, scans, per-row maps, drawing
rows, weights): they dispatch to the storage's module, so that nothing above
this package branches on dask.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp
from sklearn.utils.random import sample_without_replacement
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    validate_data,
)

from .. import _validation
from . import dask, dask_data, dense, sparse
from ._common import exp_shifted, has_float32_path

__all__ = [
    "as_numpy",
    "backend_for",
    "binarize",
    "check_sample_weight",
    "column_range",
    "exp_shifted",
    "has_float32_path",
    "is_dask_array",
    "map_blocks",
    "map_rows",
    "mean_and_positive",
    "random_responsibilities",
    "reduce_blocks",
    "responsibilities",
    "restarts_in_parallel",
    "row_term_total",
    "sample_rows",
    "stacks_models",
    "scan",
    "unit_weights_as_none",
    "unobserved_columns",
    "validate_input",
    "weighted_sum",
]

is_dask_array = dask.is_dask_array


def backend_for(X):
    """The kernel module for ``X``: :mod:`.dask`, :mod:`.sparse` or :mod:`.dense`."""
    if is_dask_array(X):
        return dask
    return sparse if sp.issparse(X) else dense


def check_sample_weight(sample_weight, X):
    """Validate frequency weights for the rows of ``X``, rescaled by a power of two.

    The weights are rescaled so that the largest lies in [1, 2) (see
    :func:`skcoinmix._validation.scale_sample_weight`): exact, and no sum of
    them overflows or underflows, whatever their scale.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or None
        For dask ``X`` also a dask array.

    X : {ndarray, sparse matrix, dask array} of shape (n_samples, ...)

    Returns
    -------
    checked : skcoinmix._validation.ScaledWeights
        ``weights``: ``None`` when ``sample_weight`` is None (unit weights,
        8 bytes a row never allocated); else a float64 ndarray for in-memory
        ``X``, and for dask ``X`` what :func:`.dask_data.check_sample_weight`
        returns (a persisted dask array chunked like ``X``). ``total``: their
        sum. ``n_positive``: the number of rows with a positive weight.
        ``exponent``: the weights given are ``weights * 2**exponent``.
    """
    if is_dask_array(X):
        return dask_data.check_sample_weight(sample_weight, X)
    if sample_weight is None:
        n_samples = X.shape[0]
        return _validation.ScaledWeights(None, float(n_samples), n_samples, 0)
    weights = _validation.check_sample_weight(sample_weight, X.shape[0])
    weights, exponent = _validation.scale_sample_weight(weights)
    return _validation.ScaledWeights(
        weights, float(weights.sum()), int(np.count_nonzero(weights > 0)), exponent
    )


def unit_weights_as_none(sample_weight):
    """``None`` for in-memory weights that are all 1, else ``sample_weight``.

    Decided once per fit, so that no iteration multiplies by ones (the kernels
    take ``None`` for unit weights).

    Parameters
    ----------
    sample_weight : ndarray of shape (n_samples,), dask array, or None
        As returned by :func:`check_sample_weight`.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,), dask array, or None
    """
    if isinstance(sample_weight, np.ndarray) and np.all(sample_weight == 1.0):
        return None
    return sample_weight


def weighted_sum(values, sample_weight):
    """``sum_i w_i values_i`` as a float, computing it if ``values`` is a dask array.

    Parameters
    ----------
    values : ndarray or dask array of shape (n_samples,)

    sample_weight : ndarray or dask array of shape (n_samples,), or None
        As returned by :func:`check_sample_weight` for ``values``; ``None``
        means unit weights.

    Returns
    -------
    total : float
    """
    weighted = values if sample_weight is None else sample_weight * values
    if is_dask_array(values):
        return float(dask.compute(weighted.sum())[0])
    return float(weighted.sum())


# ------------------------------------------------------------ data, any storage
def validate_input(
    estimator, X, *, reset, accept_sparse=("csr", "csc"), dtype="numeric"
):
    """``validate_data`` for ``X`` of any storage; sparse made canonical.

    Finiteness is left to :func:`scan` (one pass answers every question).
    Sparse input (and dask's sparse chunks) with duplicate entries is summed
    on a copy first: the checks read the stored values one by one.

    Parameters
    ----------
    estimator : BaseEstimator
        Gets ``n_features_in_`` and ``feature_names_in_`` when ``reset``.
    X : array-like, sparse matrix or dask array of shape (n_samples, n_features)
    reset : bool
    accept_sparse : tuple of str or False
    dtype : "numeric" or None
        ``"numeric"``: numbers only; ``None``: any dtype (labels, strings,
        objects), kept as it is.

    Returns
    -------
    X : ndarray, sparse matrix or dask array
    """
    if is_dask_array(X):
        X = dask_data.check_array(X, numeric=dtype == "numeric")
        X = dask_data.canonical_chunks(X)
        _check_feature_names(estimator, X, reset=reset)
        _check_n_features(estimator, X, reset=reset)
        return X
    X = validate_data(
        estimator,
        X,
        reset=reset,
        accept_sparse=accept_sparse,
        dtype=dtype,
        ensure_min_samples=1,
        ensure_all_finite=False,
    )
    return _validation.canonical_sparse(X)


def scan(X):
    """``(has_missing, is_binary)`` of validated ``X``, in one pass; raises on inf."""
    return dask_data.scan(X) if is_dask_array(X) else _validation.scan_data(X)


def binarize(X, threshold, missing=False, *, is_binary=None):
    """0/1 data from ``X``: :func:`skcoinmix._validation.binarize_data`, any storage."""
    if is_dask_array(X):
        return dask_data.binarize(X, threshold, missing, is_binary=is_binary)
    return _validation.binarize_data(X, threshold, missing, is_binary=is_binary)


def column_range(X):
    """Each column's smallest and largest entry (NaN ignored), any storage."""
    if is_dask_array(X):
        return dask_data.column_range(X)
    return _validation.column_range(X)


def unobserved_columns(X):
    """Positions of the columns of ``X`` in which every entry is NaN."""
    if is_dask_array(X):
        return dask_data.unobserved_columns(X)
    return _validation.unobserved_columns(X)


def map_rows(X, function, n_columns, *args):
    """``function(X, *args)``: a per-row reduction, (n_samples, n_columns) float64.

    On a dask array it runs chunk by chunk on the workers and the result is
    persisted there (so that every iteration reads it, not ``X``).
    """
    if is_dask_array(X):
        return dask_data.map_rows(X, function, n_columns, *args).persist()
    return function(X, *args)


#: Rows of an in-memory array per block of :func:`map_blocks` and
#: :func:`reduce_blocks`: about this many entries, so that a block's
#: temporaries stay small next to ``X``.
BLOCK_ENTRIES = 1 << 18


def _row_steps(X):
    step = max(1, BLOCK_ENTRIES // max(1, X.shape[1]))
    return [
        (start, min(start + step, X.shape[0])) for start in range(0, X.shape[0], step)
    ]


def map_blocks(X, function, dtype, *args):
    """``function(block, *args)`` of each block of rows, of ``X``'s shape and ``dtype``.

    For a model's element-wise recoding of its data (labels to small integer
    codes). On a dask array it is lazy, chunk by chunk on the workers, and
    computed again at every pass (chunked like the rows of ``X``); an
    in-memory ``X`` is recoded one block of rows at a time into one array,
    so that the block's temporaries stay small.

    Parameters
    ----------
    X : ndarray or dask array of shape (n_samples, n_features)
    function : callable
        A module-level function (pickled by reference to dask workers)
        returning a (rows, n_features) array.
    dtype : numpy dtype
    *args
        Passed to ``function`` after the block.

    Returns
    -------
    out : ndarray or dask array of shape (n_samples, n_features)
    """
    if is_dask_array(X):
        return dask_data.map_chunks(X, function, dtype, *args)
    out = np.empty(X.shape, dtype=dtype)
    for start, stop in _row_steps(X):
        out[start:stop] = function(X[start:stop], *args)
    return out


def reduce_blocks(X, function, combine, *args):
    """``combine`` of ``function(block, *args)`` over the blocks of rows of ``X``.

    For one-pass summaries of the data (each column's distinct values): on a
    dask array each chunk's summary is made on its worker and they are
    combined in a tree (a few at a time), only the result reaching the
    client; an in-memory ``X`` is read one block of rows at a time.

    Parameters
    ----------
    X : ndarray or dask array of shape (n_samples, n_features)
    function : callable
        ``function(block, *args)``: the summary of a block of rows; a
        module-level function (pickled by reference to dask workers).
    combine : callable
        ``combine(summaries, *args)``: one summary from a list of them (of
        one or more); module-level too.
    *args
        Passed to ``function`` after the block, and to ``combine`` after
        the summaries.

    Returns
    -------
    summary
        What ``combine`` returns, computed.
    """
    if is_dask_array(X):
        return dask_data.reduce_chunks(X, function, combine, *args)
    return combine(
        [function(X[start:stop], *args) for start, stop in _row_steps(X)], *args
    )


def row_term_total(X, encoding, sample_weight):
    """``sum_i w_i c_i``: the per-row terms of the log-likelihood, once per fit.

    The E-step kernels leave ``c_i`` out (it depends on no parameter); the
    engine adds this total to their log-likelihood.

    Parameters
    ----------
    X : ndarray, sparse matrix or dask array of shape (n_samples, n_features)
    encoding : skcoinmix._family.Encoding
    sample_weight : ndarray or dask array of shape (n_samples,), or None

    Returns
    -------
    total : float
        0.0 for an encoding without per-row terms.
    """
    if not getattr(encoding, "has_row_term", False):
        return 0.0
    if is_dask_array(X):
        terms = dask_data.row_terms(X, encoding)
    elif sp.issparse(X):
        terms = encoding.row_term(X)
    else:
        # Blocks of rows: the encoding may convert each to float64.
        step = max(1, (1 << 18) // max(1, X.shape[1]))
        terms = np.concatenate(
            [
                encoding.row_term(X[start : start + step])
                for start in range(0, X.shape[0], step)
            ]
            or [np.empty(0)]
        )
    return weighted_sum(terms, sample_weight)


def as_numpy(value):
    """``value`` computed if it is a dask array (or collection), else as it is."""
    if is_dask_array(value):
        (value,) = dask.compute(value)
    return value


def responsibilities(log_resp):
    """``exp(log_resp)``: in place for an ndarray (bitwise ``np.exp``), lazily for dask."""
    if is_dask_array(log_resp):
        return np.exp(log_resp)
    exp_shifted(log_resp)  # log-responsibilities are <= 0
    return log_resp


def stacks_models(X):
    """Whether the kernels for ``X`` evaluate stacked models (``e_step_stacked``): dense only."""
    return backend_for(X) is dense


def restarts_in_parallel(X):
    """Whether restarts may run in parallel workers: not on a dask array.

    On a dask array every iteration is already spread over the cluster's
    chunks, so restarts run one after another.
    """
    return not is_dask_array(X)


# ------------------------------------------------------- initialisation, any storage
def mean_and_positive(sample_weight, n_samples):
    """The mean weight and the number of rows of positive weight.

    Parameters
    ----------
    sample_weight : ndarray or dask array of shape (n_samples,), or None
    n_samples : int

    Returns
    -------
    mean_weight : float
    n_positive : int
    """
    if sample_weight is None:
        return 1.0, n_samples
    if is_dask_array(sample_weight):
        mean, n_positive = dask.compute(sample_weight.mean(), (sample_weight > 0).sum())
        return float(mean), int(n_positive)
    return sample_weight.mean(), int(np.count_nonzero(sample_weight > 0))


def random_responsibilities(X, n_components, rng):
    """Uniform draws normalised per row, for every row of ``X`` (lazy for dask).

    Parameters
    ----------
    X : ndarray, sparse matrix or dask array of shape (n_samples, ...)
    n_components : int
    rng : numpy.random.RandomState

    Returns
    -------
    resp : ndarray or dask array of shape (n_samples, n_components)
    """
    if is_dask_array(X):
        return dask_data.random_responsibilities(X, n_components, rng)
    resp = rng.uniform(size=(X.shape[0], n_components))
    resp /= resp.sum(axis=1, keepdims=True)
    return resp


def sample_rows(X, n_rows, rng, sample_weight=None):
    """Up to ``n_rows`` rows of positive weight, drawn without replacement, in memory.

    The positions are ranks among the rows of positive weight drawn by
    :func:`sklearn.utils.random.sample_without_replacement` and sorted, for
    any storage (:func:`.dask_data.sample_rows` draws the same), so a dask fit
    starts from the rows a numpy fit starts from. When every such row is
    taken, ``rng`` is not used.

    Parameters
    ----------
    X : ndarray, sparse matrix or dask array of shape (n_samples, n_features)
    n_rows : int
    rng : numpy.random.RandomState
    sample_weight : ndarray or dask array of shape (n_samples,), or None

    Returns
    -------
    X_rows : ndarray or CSR matrix of shape (m, n_features)
    weight_rows : ndarray of shape (m,), or None without ``sample_weight``
    """
    if is_dask_array(X):
        _, X_rows, weight_rows = dask_data.sample_rows(X, n_rows, rng, sample_weight)
        return X_rows, weight_rows
    if sample_weight is None:
        candidates = np.arange(X.shape[0])
    else:
        candidates = np.flatnonzero(sample_weight > 0)
    if n_rows < candidates.size:
        ranks = sample_without_replacement(candidates.size, n_rows, random_state=rng)
        candidates = candidates[np.sort(ranks)]
    X = X.tocsr() if sp.issparse(X) else X
    weight_rows = None if sample_weight is None else sample_weight[candidates]
    return X[candidates], weight_rows
