"""Local dependence: bivariate residuals and standardised pattern residuals.

A latent class model assumes the items independent within each class; the
two-way tables of pairs of items and the table of response patterns show
where the data disagree. The statistics are pure functions of arrays in
:mod:`skcoinmix._fit_statistics`; the model's items and the data's
categories are read as :func:`skcoinmix.fit_report` reads them.
"""

# SPDX-License-Identifier: BSD-3-Clause

import math
from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._backends import is_dask_array
from .._em import BaseMixtureEM
from .._fit_statistics import pattern_codes
from .._report import (
    _bivariate_residuals,
    _category_codes,
    _check_tables,
    _item_tables,
    _NoTable,
    _pattern_table,
    _validated,
)
from .._validation import check_sample_weight, scale_sample_weight

__all__ = ["PatternResiduals", "bivariate_residuals", "pattern_residuals"]


class PatternResiduals(NamedTuple):
    """The response patterns of :func:`pattern_residuals`, largest residual first.

    Attributes
    ----------
    patterns : ndarray of shape (m, n_features)
        Each observed pattern, as the model reads the answers: 0/1 for
        binary items (after ``binarize``), the categories of
        ``categories_``, counts of successes. Object dtype when an item's
        categories are not numbers.
    observed : ndarray of shape (m,)
        The (weighted) number of complete rows with the pattern.
    expected : ndarray of shape (m,)
        ``N_complete p(pattern)``, the count the model expects.
    residual : ndarray of shape (m,)
        ``(observed - expected) / sqrt(expected)``; the rows are sorted by its
        absolute value, decreasing.
    """

    patterns: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    residual: np.ndarray


def bivariate_residuals(estimator, X, *, sample_weight=None):
    """LatentGOLD's bivariate residuals: local dependence of every pair of items.

    For items ``j`` and ``l``, the observed two-way table ``O`` counts the
    rows answering both (weighted); the model implies
    ``E[a, b] = N_jl sum_k w_k Pr(x_j = a | k) Pr(x_l = b | k)`` with
    ``N_jl`` the total of ``O``. The bivariate residual is Pearson's
    ``sum_ab (O - E)² / E`` divided by its degrees of freedom
    ``(C_j - 1)(C_l - 1)``, as LatentGOLD reports it (Vermunt and Magidson,
    2013): for binary items the statistic itself.

    Parameters
    ----------
    estimator : fitted skcoinmix mixture
        A fitted :class:`~skcoinmix.BernoulliMixtureEM`,
        :class:`~skcoinmix.CategoricalMixtureEM` or
        :class:`~skcoinmix.BinomialMixtureEM` (with a fixed ``n_trials``).

    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data, usually the training data, read as the estimator's
        ``score_samples`` reads them (binarised, categories, counts); NaN
        (or None) marks a missing answer.

    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights: a row of weight 2 counts as two rows.

    Returns
    -------
    residuals : ndarray of shape (n_features, n_features)
        Symmetric; NaN on the diagonal, for a pair of items that no row
        answers both of, and for an item with a single category.

    Raises
    ------
    TypeError
        If ``estimator`` is not a skcoinmix mixture, or ``X`` is a dask
        array.
    sklearn.exceptions.NotFittedError
        If it is not fitted.
    ValueError
        If ``X`` does not suit the estimator, a
        :class:`~skcoinmix.BinomialMixtureEM` has ``n_trials="paired"`` or
        counts that are not whole numbers.

    See Also
    --------
    pattern_residuals : The residuals of the whole response patterns.

    Notes
    -----
    **Reading them.** A large value says that the two items are more (or
    less) associated than the classes explain: local dependence, which more
    classes, or a direct effect between the items, may absorb. A value above
    3.84 (the 95% point of a chi-square with one degree of freedom) is a
    common flag, but it is a rule of thumb, not a test: under the fitted
    model the statistic is not chi-square distributed, since the parameters
    were estimated from the same tables (Oberski, van Kollenburg and
    Vermunt, 2013, found it conservative for binary items).

    **Missing answers.** Each pair uses the rows that answer both items
    (``N_jl`` differs between pairs); the expected table is that total times
    the model's joint probabilities, which do not depend on which rows are
    missing.

    **Counts** (:class:`~skcoinmix.BinomialMixtureEM`): each item is read
    as a categorical item with the ``n_j + 1`` categories ``0..n_j``, whose
    probabilities in class ``k`` the binomial distribution gives, so the
    table of a pair is ``(n_j + 1) x (n_l + 1)`` with ``n_j n_l`` degrees of
    freedom. The residual then also picks up an item's own misfit (counts
    over-dispersed within a class), and with many trials most cells expect
    little and Pearson's statistic is dominated by rare counts: read it
    with care beyond a few trials.

    Sparse ``X`` is read block by block (never made dense whole); the cost is
    ``n_samples x n_features²`` whatever the sparsity.

    References
    ----------
    J. K. Vermunt and J. Magidson, *Technical Guide for Latent GOLD 5.0:
    Basic, Advanced, and Syntax*, Statistical Innovations, Belmont MA
    (2013), section on bivariate residuals.

    D. L. Oberski, G. H. van Kollenburg and J. K. Vermunt, "A Monte Carlo
    evaluation of three methods to detect local dependence in binary data
    latent class models", Advances in Data Analysis and Classification 7,
    267-279 (2013).

    Examples
    --------
    The Stouffer-Toby role-conflict items: one class (independence) leaves
    every pair associated; two classes explain the associations.

    >>> from skcoinmix import BernoulliMixtureEM
    >>> from skcoinmix.datasets import load_lca_example
    >>> from skcoinmix.inference import bivariate_residuals
    >>> patterns, counts = load_lca_example("stouffer_toby", as_patterns=True)
    >>> one = BernoulliMixtureEM(1).fit(patterns, sample_weight=counts)
    >>> bivariate_residuals(one, patterns, sample_weight=counts).round(1)
    array([[ nan, 12.4,  5.7,  8.3],
           [12.4,  nan, 15.6, 23.6],
           [ 5.7, 15.6,  nan, 23.8],
           [ 8.3, 23.6, 23.8,  nan]])
    >>> two = BernoulliMixtureEM(2, n_init=10, tol=1e-8, max_iter=5000,
    ...                          init_params="random", random_state=0)
    >>> two = two.fit(patterns, sample_weight=counts)
    >>> bivariate_residuals(two, patterns, sample_weight=counts).round(2)
    array([[ nan, 1.17, 0.  , 0.01],
           [1.17,  nan, 0.04, 0.02],
           [0.  , 0.04,  nan, 0.06],
           [0.01, 0.02, 0.06,  nan]])
    """
    items, weights = _checked(estimator, X, sample_weight, "bivariate_residuals")
    scaled, exponent = scale_sample_weight(weights)
    try:
        return _bivariate_residuals(estimator, X, items, scaled, exponent)
    except _NoTable as reason:
        raise ValueError(
            f"bivariate_residuals needs a table of counts: {reason}."
        ) from None


def pattern_residuals(estimator, X, *, sample_weight=None):
    """Standardised residuals of the response patterns, largest first.

    For each response pattern observed among the rows answering every item,
    ``(observed - expected) / sqrt(expected)`` with
    ``expected = N_complete p(pattern)``: the counts behind
    :func:`~skcoinmix.fit_report`'s G² and Pearson X² (whose X² is the sum
    of their squares plus the expected counts of the unobserved patterns).

    Parameters
    ----------
    estimator : fitted skcoinmix mixture
        As for :func:`bivariate_residuals`.

    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data, usually the training data; rows with a missing answer are
        left out, as poLCA does.

    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights.

    Returns
    -------
    residuals : PatternResiduals
        ``patterns``, ``observed``, ``expected`` and ``residual``, one row per
        observed pattern, sorted by ``|residual|``, decreasing (ties in the
        patterns' order). Empty when every row has a missing answer.

    Raises
    ------
    TypeError
        If ``estimator`` is not a skcoinmix mixture, or ``X`` is a dask
        array.
    sklearn.exceptions.NotFittedError
        If it is not fitted.
    ValueError
        As :func:`bivariate_residuals`, and for more than ``2**62``
        possible patterns.

    See Also
    --------
    bivariate_residuals : Residuals of the pairs of items.

    Notes
    -----
    Only observed patterns are listed: a pattern never observed has the
    residual ``-sqrt(expected)``, small unless the model expects it often.
    With many items nearly every pattern is rare and the residuals of single
    patterns say little; :func:`bivariate_residuals` aggregate over the
    other items.

    Examples
    --------
    >>> from skcoinmix import BernoulliMixtureEM
    >>> from skcoinmix.datasets import load_lca_example
    >>> from skcoinmix.inference import pattern_residuals
    >>> patterns, counts = load_lca_example("stouffer_toby", as_patterns=True)
    >>> one = BernoulliMixtureEM(1).fit(patterns, sample_weight=counts)
    >>> top = pattern_residuals(one, patterns, sample_weight=counts)
    >>> top.patterns[0], float(top.observed[0]), round(float(top.expected[0]), 1)
    (array([1, 1, 1, 1]), 42.0, 13.6)
    >>> round(float(top.residual[0]), 2)
    7.69
    """
    items, weights = _checked(estimator, X, sample_weight, "pattern_residuals")
    n_categories = [item.probs.shape[1] for item in items]
    if math.prod(n_categories) > 2**62:
        raise ValueError(
            "pattern_residuals numbers the response patterns with 64-bit "
            f"integers, but these {len(items)} items have more than 2**62 "
            "patterns; use bivariate_residuals."
        )
    validated = _validated(X, estimator)
    try:
        codes, complete = pattern_codes(
            validated, lambda block: _category_codes(estimator, block), n_categories
        )
    except _NoTable as reason:
        raise ValueError(
            f"pattern_residuals needs a table of counts: {reason}."
        ) from None
    scaled, exponent = scale_sample_weight(weights)
    if not np.any(complete & (scaled > 0)):
        empty = np.empty(0)
        return PatternResiduals(
            np.empty((0, len(items)), dtype=_pattern_dtype(items)),
            empty,
            empty.copy(),
            empty.copy(),
        )
    first, observed, expected = _pattern_table(
        estimator, X, validated, codes, complete, scaled
    )
    observed, expected = np.ldexp(observed, exponent), np.ldexp(expected, exponent)
    residual = (observed - expected) / np.sqrt(expected)
    order = np.argsort(-np.abs(residual), kind="stable")
    digits, _ = _category_codes(estimator, _dense(validated[first[order]]))
    patterns = np.empty(digits.shape, dtype=_pattern_dtype(items))
    for j, item in enumerate(items):
        patterns[:, j] = np.asarray(item.values, dtype=object)[digits[:, j]]
    return PatternResiduals(patterns, observed[order], expected[order], residual[order])


def _checked_mixture(estimator, caller, fitted=True):
    """Refuse anything but a skcoinmix mixture (fitted, unless ``fitted=False``)."""
    if not isinstance(estimator, BaseMixtureEM):
        got = (
            f"the class {estimator.__name__} (not an instance: fit one first)"
            if isinstance(estimator, type)
            else f"a {type(estimator).__name__}"
        )
        raise TypeError(
            f"{caller} needs a fitted skcoinmix mixture (e.g. "
            f"skcoinmix.BernoulliMixtureEM), but got {got}."
        )
    if fitted:
        check_is_fitted(estimator)


def _checked(estimator, X, sample_weight, caller):
    """Validate the inputs as :func:`~skcoinmix.fit_report` does: items and weights."""
    _checked_mixture(estimator, caller)
    if is_dask_array(X):
        raise TypeError(
            f"{caller} counts tables in memory and does not take a dask array: "
            "pass X.compute(), or the table of patterns "
            "(skcoinmix.datasets.to_patterns) with sample_weight=counts."
        )
    # score_samples validates X against the fitted features, and refuses
    # what the estimator refuses.
    n_samples = estimator.score_samples(X).shape[0]
    weights = check_sample_weight(sample_weight, n_samples)
    items = _item_tables(estimator)
    _check_tables(items, caller)
    return items, weights


def _pattern_dtype(items):
    """int64 when every item's categories are integers, float64 for numbers, else object."""
    values = [value for item in items for value in item.values]
    if all(isinstance(value, int | np.integer) for value in values):
        return np.int64
    if all(isinstance(value, float | np.floating) for value in values):
        return np.float64
    return object


def _dense(block):
    return block.toarray() if hasattr(block, "toarray") else np.asarray(block)
