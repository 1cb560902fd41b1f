"""Kernels by storage: numpy arrays, ``scipy.sparse`` matrices and dask arrays.

Each backend module provides ``e_step(X, coefs, intercept, sample_weight)``,
``log_resp(X, coefs, intercept)`` and ``weighted_sums(X, weights, n_views)``
for mixtures whose log-likelihood is linear in the data (see :mod:`.dense`).
The dask backend computes on the workers and returns lazy dask arrays from
``log_resp``; it imports dask only when it is given a dask array.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp

from .. import _validation
from . import dask, dense, sparse
from ._common import exp_shifted

__all__ = [
    "backend_for",
    "check_sample_weight",
    "exp_shifted",
    "is_dask_array",
    "unit_weights_as_none",
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
        ``weights``: a float64 ndarray (ones for ``None``) for in-memory
        ``X``; for dask ``X`` what :func:`.dask.check_sample_weight` returns
        (``None`` for unit weights, else a persisted dask array chunked like
        ``X``). ``total``: their sum. ``n_positive``: the number of rows
        with a positive weight. ``exponent``: the weights given are
        ``weights * 2**exponent``.
    """
    if is_dask_array(X):
        return dask.check_sample_weight(sample_weight, X)
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
