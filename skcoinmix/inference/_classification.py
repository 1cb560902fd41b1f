"""Classification quality: Mplus's table of average posterior probabilities."""

# SPDX-License-Identifier: BSD-3-Clause

from dataclasses import dataclass

import numpy as np
from sklearn.utils._param_validation import validate_params
from sklearn.utils.validation import check_is_fitted

from .. import _backends
from .._em import BaseMixtureEM
from .._fit_statistics import average_posteriors, classification_error
from .._validation import check_sample_weight, scale_sample_weight

__all__ = ["ClassificationTable", "classification_table"]


@dataclass(frozen=True)
class ClassificationTable:
    """How well the classes of a fitted mixture are told apart.

    Made by :func:`classification_table`. Class ``k`` is component ``k`` of
    the estimator; the rows of a class are those whose most probable class
    (``predict``) it is.

    Attributes
    ----------
    table : ndarray of shape (n_components, n_components)
        ``table[k, l]``: the (weighted) mean posterior probability of class
        ``l`` among the rows assigned to class ``k``, Mplus's "average
        latent class probabilities for most likely latent class membership
        (row) by latent class (column)". Each row sums to 1; a row is NaN
        when no row is assigned to its class.
    counts : ndarray of shape (n_components,)
        The (weighted) number of rows assigned to each class.
    expected_counts : ndarray of shape (n_components,)
        ``sum_i w_i r_ik``: the class sizes from the posterior
        probabilities.
    classification_error : float
        ``1 - sum_i w_i max_k r_ik / sum_i w_i``: the expected share of rows
        assigned to a class they do not belong to, in [0, 1 - 1/K].
    """

    table: np.ndarray
    counts: np.ndarray
    expected_counts: np.ndarray
    classification_error: float


@validate_params(
    {
        "estimator": [BaseMixtureEM],
        "X": ["array-like", "sparse matrix"],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def classification_table(estimator, X, *, sample_weight=None):
    """Mplus's classification table and the expected classification error.

    Each row of ``X`` is assigned to its most probable class
    (``estimator.predict``); the table averages the posterior probabilities
    ``r_ik`` (``estimator.predict_proba``) over the rows of each assigned
    class. A diagonal near 1 means classes well told apart: a rule of thumb
    asks for 0.8 or more.

    Parameters
    ----------
    estimator : fitted skcoinmix mixture
        E.g. a :class:`~skcoinmix.BernoulliMixtureEM` or
        :class:`~skcoinmix.CategoricalMixtureEM`.

    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data to classify, usually the training data.

    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights, e.g. the counts of a table of response patterns.

    Returns
    -------
    result : ClassificationTable
        ``table``, ``counts``, ``expected_counts`` and
        ``classification_error``.

    See Also
    --------
    skcoinmix.fit_report : The relative entropy of the classification.

    Notes
    -----
    The counts are in the units of ``sample_weight``; the table and the
    error are ratios, the same for weights multiplied by any factor.

    Examples
    --------
    >>> import numpy as np
    >>> from skcoinmix import BernoulliMixtureEM
    >>> from skcoinmix.inference import classification_table
    >>> X = np.array([[1, 1, 1], [1, 1, 0], [1, 1, 1], [0, 0, 0], [0, 0, 1],
    ...               [0, 0, 0]])
    >>> est = BernoulliMixtureEM(2, random_state=0).fit(X)
    >>> result = classification_table(est, X)
    >>> result.table.sum(axis=1)
    array([1., 1.])
    >>> result.counts
    array([3., 3.])
    >>> bool(0 <= result.classification_error < 0.5)
    True
    """
    check_is_fitted(estimator)
    resp = np.asarray(_backends.as_numpy(estimator.predict_proba(X)))
    # Ratios are computed with the weights rescaled by 2**-exponent (exact),
    # so that no sum overflows; only the counts are scaled back.
    weights, exponent = scale_sample_weight(
        check_sample_weight(sample_weight, resp.shape[0])
    )
    table, counts = average_posteriors(resp, weights)
    expected = weights @ resp
    return ClassificationTable(
        table=table,
        counts=np.ldexp(counts, exponent),
        expected_counts=np.ldexp(expected, exponent),
        classification_error=classification_error(resp, weights),
    )
