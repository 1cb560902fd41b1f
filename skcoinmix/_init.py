"""Starting responsibilities for every ``init_params``, on any storage, for any model.

A start is a set of rows with responsibilities: every row with random ones
("random"), or rows drawn from the data and hard-assigned by k-means
("kmeans"), the k-means++ seeding ("k-means++") or one row per component
("random_from_data"). The model turns their sufficient statistics into
parameters (:meth:`skcoinmix._family.MixtureModel._start_params`, which
smooths them); what k-means clusters is the encoding's
``clustering_features``. Storage-specific steps (drawing rows from a dask
array, lazy random responsibilities) are the kernels' (:mod:`._backends`).
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning

from . import _backends
from ._backends._common import single_threaded_blas

__all__ = ["INIT_PARAMS", "KMEANS_INIT_MAX_SAMPLES", "starting_responsibilities"]

#: The initialisations every model offers.
INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")

#: The "kmeans" initialisation runs k-means on at most this many rows, drawn at
#: random, so that its cost stays within a few EM iterations on large data.
KMEANS_INIT_MAX_SAMPLES = 10_000


def starting_responsibilities(data, sample_weight, init_params, n_components, rng):
    """The rows that start the components, and their weighted responsibilities.

    Parameters
    ----------
    data : skcoinmix._family.Data
        All the rows.

    sample_weight : ndarray or dask array of shape (n_samples,), or None
        Frequency weights (None: unit weights).

    init_params : {"kmeans", "k-means++", "random", "random_from_data"}

    n_components : int

    rng : numpy.random.RandomState

    Returns
    -------
    start : skcoinmix._family.Data
        All of ``data`` ("random"), or the rows drawn from it (in memory).

    resp : ndarray or dask array of shape (n_start, n_components)
        Responsibilities times each row's weight over the mean weight (so
        that a model's smoothing is in units of rows).
    """
    K = n_components
    mean_weight, n_positive = _backends.mean_and_positive(sample_weight, data.n_samples)
    if n_positive < K:
        raise ValueError(
            f"Only {n_positive} rows have a positive sample_weight, but "
            f"n_components={K} needs at least {K} of them to initialise."
        )
    if init_params == "random":
        resp = _backends.random_responsibilities(data.X, K, rng)
        start, row_weight = data, sample_weight
    else:
        n_rows = K if init_params == "random_from_data" else KMEANS_INIT_MAX_SAMPLES
        # Rows drawn as sklearn's sample_without_replacement draws them, among
        # those of positive weight, whatever the storage.
        X_rows, row_weight = _backends.sample_rows(data.X, n_rows, rng, sample_weight)
        if row_weight is None:
            row_weight = np.ones(X_rows.shape[0])
        start, resp, row_weight = _cluster(
            data.with_rows(X_rows), row_weight, init_params, K, rng
        )
    if row_weight is not None:
        return start, resp * (row_weight / mean_weight)[:, np.newaxis]
    return start, resp / mean_weight


def _cluster(start, row_weight, init_params, n_components, rng):
    """Hard responsibilities of the ``start`` rows, and the rows they are for.

    Returns
    -------
    start : skcoinmix._family.Data
    resp : ndarray of shape (n_start, n_components)
    row_weight : ndarray of shape (n_start,)
    """
    K = n_components
    if init_params == "random_from_data":
        return start, np.eye(K), row_weight
    features = start.clustering_features()
    # Under the kernels' BLAS limit: the same arithmetic whether or not
    # other calls run at once, and scikit-learn's own limit (KMeans sets and
    # restores one) then never overlaps ours with another value.
    with single_threaded_blas():
        if init_params == "k-means++":
            _, indices = kmeans_plusplus(
                features, K, sample_weight=row_weight, random_state=rng
            )
            return start.take(indices), np.eye(K), row_weight[indices]
        with warnings.catch_warnings():
            # Fewer distinct rows than components is fine for a start: the
            # duplicate clusters become identical components.
            warnings.simplefilter("ignore", ConvergenceWarning)
            labels = (
                KMeans(n_clusters=K, n_init=1, random_state=rng)
                .fit(features, sample_weight=row_weight)
                .labels_
            )
    return start, np.eye(K)[labels], row_weight
