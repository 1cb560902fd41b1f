"""Per-row scores and the observed information of a fitted latent class model.

Every model of skcoinmix is read here as a mixture of *multinomial items*:
item ``j`` of row ``i`` is a vector of counts ``y_ij`` over its categories
``1..C_j`` with total ``n_ij`` (0 when the item is missing), and in class
``k`` its log-likelihood is ``sum_c y_ijc log t_kjc`` (up to a term free of
the parameters):

==========================  =================================  ==========
model                       counts ``y_ij``                     ``n_ij``
==========================  =================================  ==========
Bernoulli                   ``(1 - x_ij, x_ij)``                1
tied Bernoulli (one item)   ``(zeros_i, ones_i)``               ``d_i``
binomial, ``n_j`` trials    ``(n_j - x_ij, x_ij)``              ``n_j``
binomial, paired ``s, f``   ``(f_ij, s_ij)``                    ``s + f``
categorical                 one-hot of the answer               1
==========================  =================================  ==========

The parameters are poLCA's log-ratios: ``b_k = log(w_k / w_r)`` for the
mixing weights and ``g_kjc = log(t_kjc / t_kjr)`` for the item
probabilities, ``r`` a reference (the first class, the first category, as
poLCA; the first one off the boundary when that one is on it). In them the
log joint density of row ``i`` and class ``k``,
``a_ik = log w_k + sum_j y_ij . log t_kj``, has the derivatives

- ``d a_ik / d b_m = [k = m] - w_m``;
  ``d2 a_ik / d b_m d b_l = -(w_m [m = l] - w_m w_l)``;
- ``d a_ik / d g_kjc = y_ijc - n_ij t_kjc``;
  ``d2 a_ik / d g_kjc d g_kjc' = -n_ij (t_kjc [c = c'] - t_kjc t_kjc')``,

so the row's score is ``s_i = sum_k r_ik g_ik`` (``r`` the posterior
probabilities) and its Hessian ``sum_k r_ik (A_ik + g_ik g_ik') - s_i s_i'``
(the second derivative of a log-sum-exp; Louis's identity in other words).
The outer product of the scores (poLCA's information) and the observed
information (minus the Hessian) are sums over rows of these, weighted by the
frequency weights.

Parameters on the boundary (a probability or weight below
:data:`BOUNDARY`) have log-ratios at minus infinity in effect: they are held
fixed and left out of the free parameters.
"""

# SPDX-License-Identifier: BSD-3-Clause

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from .._backends import as_numpy
from .._bernoulli import BernoulliMixtureEM
from .._binomial import BinomialMixtureEM
from .._categorical import CategoricalMixtureEM

__all__ = [
    "BOUNDARY",
    "ItemMixture",
    "block_rows",
    "information",
    "item_mixture",
    "row_scores",
]

#: A probability (or mixing weight) below this is on the boundary of the
#: parameter space: ten times the 1e-10 at which the models clip them.
BOUNDARY = 1e-9

#: Rows per block when the scores are accumulated, so that the (rows, Q)
#: score matrix of a block stays near 8 MB whatever the data's size.
_BLOCK_ENTRIES = 1 << 20


def block_rows(n_columns):
    """Rows per block for a (rows, ``n_columns``) array of about 8 MB."""
    return max(1, _BLOCK_ENTRIES // max(1, n_columns))


# --------------------------------------------------- the models as items
def bernoulli_counts(X):
    """Counts of 0/1 items: ``(1 - x_ij, x_ij)`` side by side per item.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        0/1 data, NaN for a missing entry.

    Returns
    -------
    counts : ndarray of shape (n, 2 d)
        Item ``j`` in columns ``2 j`` (zeros) and ``2 j + 1`` (ones); a
        missing entry gives two zeros.
    """
    return binomial_counts(X, np.ones(X.shape[1]))


def binomial_counts(X, n_trials):
    """Counts of items of ``n_j`` trials: ``(n_j - x_ij, x_ij)`` per item.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Successes, NaN for a missing entry.
    n_trials : ndarray of shape (d,)

    Returns
    -------
    counts : ndarray of shape (n, 2 d)
        Failures in columns ``2 j``, successes in ``2 j + 1``.
    """
    X = np.asarray(X, dtype=np.float64)
    counts = np.empty((X.shape[0], 2 * X.shape[1]))
    counts[:, 0::2] = n_trials - X
    counts[:, 1::2] = X
    return np.nan_to_num(counts, nan=0.0)  # NaN - n is NaN too: both 0


def paired_counts(X):
    """Counts of items given as successes then failures: ``(f_ij, s_ij)``.

    Parameters
    ----------
    X : ndarray of shape (n, 2 d)
        ``np.hstack([successes, failures])``; NaN in either marks the entry
        missing.

    Returns
    -------
    counts : ndarray of shape (n, 2 d)
        Failures in columns ``2 j``, successes in ``2 j + 1``.
    """
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1] // 2
    counts = np.empty_like(X)
    counts[:, 0::2] = X[:, d:]
    counts[:, 1::2] = X[:, :d]
    missing = np.isnan(counts[:, 0::2]) | np.isnan(counts[:, 1::2])
    counts[:, 0::2][missing] = 0.0
    counts[:, 1::2][missing] = 0.0
    return counts


def interleave_probs(means):
    """``(1 - t, t)`` per item: (K, d) success probabilities as (K, 2 d) categories."""
    probs = np.empty((means.shape[0], 2 * means.shape[1]))
    probs[:, 0::2] = 1.0 - means
    probs[:, 1::2] = means
    return probs


def onehot_counts(codes, offsets):
    """The one-hot rows of integer codes (``-1`` missing: all zero).

    Parameters
    ----------
    codes : ndarray of shape (n, d), int
    offsets : ndarray of shape (d + 1,)

    Returns
    -------
    counts : ndarray of shape (n, C)
    """
    counts = np.zeros((codes.shape[0], int(offsets[-1])))
    rows, items = np.nonzero(codes >= 0)
    counts[rows, offsets[:-1][items] + codes[rows, items]] = 1.0
    return counts


# ------------------------------------------------------ the mixture
@dataclass(frozen=True)
class ItemMixture:
    """A fitted mixture read as multinomial items, with the data it scores.

    Attributes
    ----------
    counts : ndarray of shape (n, C)
        Each row's counts per category, item ``j`` in columns
        ``offsets[j]:offsets[j + 1]``.
    sample_weight : ndarray of shape (n,)
        Frequency weights.
    weights : ndarray of shape (K,)
    probs : ndarray of shape (K, C)
        Each class's category probabilities, summing to 1 per item.
    offsets : ndarray of shape (d + 1,)
    fit_weights : bool
        Whether the mixing weights are estimated (free parameters).
    """

    counts: np.ndarray
    sample_weight: np.ndarray
    weights: np.ndarray
    probs: np.ndarray
    offsets: np.ndarray
    fit_weights: bool

    @property
    def n_components(self):
        return self.weights.shape[0]

    @property
    def item_of_column(self):
        """The item of each category column: (C,) int."""
        return np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))

    def trials(self, counts):
        """Each item's total ``n_ij`` repeated over its categories: (rows, C)."""
        totals = np.add.reduceat(counts, self.offsets[:-1], axis=1)
        return np.repeat(totals, np.diff(self.offsets), axis=1)

    def log_joint(self, counts):
        """``log w_k + sum_j y_ij . log t_kj`` of each row and class: (rows, K)."""
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.weights)
        return counts @ np.log(self.probs).T + log_weights

    def blocks(self, n_rows=None):
        """``(counts, sample_weight, resp)`` of consecutive blocks of ``n_rows`` rows.

        By default as many rows as keep a block's scores near 8 MB.
        """
        if n_rows is None:
            n_rows = block_rows(self.layout().n_free)
        for start in range(0, self.counts.shape[0], n_rows):
            counts = self.counts[start : start + n_rows]
            log_joint = self.log_joint(counts)
            resp = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
            yield counts, self.sample_weight[start : start + n_rows], resp

    def layout(self):
        """The free parameters: see :class:`Layout`."""
        return Layout.of(self)


@dataclass(frozen=True)
class Layout:
    """Which log-ratios are free, and where each sits in the parameter vector.

    The vector holds the free weights' log-ratios first (classes in order,
    the reference left out), then for each class in order its items'
    free categories, in the order of the category columns.

    Attributes
    ----------
    weight_free : ndarray of int
        The classes whose ``log(w_k / w_r)`` is free.
    weight_boundary : ndarray of bool, shape (K,)
        Estimated weights fixed at (nearly) 0, or at 1 when all others are.
    item_free : list of K ndarrays of int
        For each class, the category columns whose log-ratio is free.
    prob_boundary : ndarray of bool, shape (K, C)
        Probabilities held fixed: at (nearly) 0, or at (nearly) 1 when every
        other category of the item is at 0, or of a class of weight 0.
    """

    weight_free: np.ndarray
    weight_boundary: np.ndarray
    item_free: list
    prob_boundary: np.ndarray

    @classmethod
    def of(cls, mixture):
        K, C = mixture.probs.shape
        # An emptied class (weight 0: no row informs it) is held fixed whole.
        empty = mixture.weights < BOUNDARY
        weight_boundary = empty & mixture.fit_weights
        if weight_boundary.any() and (~weight_boundary).sum() == 1:
            weight_boundary[:] = True  # the survivor's weight is 1: fixed too
        weight_free = np.array([], dtype=np.intp)
        if mixture.fit_weights:
            inner = np.flatnonzero(~weight_boundary)
            weight_free = inner[1:]  # the first one inside is the reference
        prob_boundary = (mixture.probs < BOUNDARY) | empty[:, np.newaxis]
        # An item with a single category inside has it at 1: fixed as well.
        inside = np.add.reduceat(~prob_boundary, mixture.offsets[:-1], axis=1)
        prob_boundary |= np.repeat(inside <= 1, np.diff(mixture.offsets), axis=1)
        item_free = []
        items = mixture.item_of_column
        for k in range(K):
            inside = ~prob_boundary[k]
            # Each item's first category off the boundary is its reference.
            first = np.zeros(C, dtype=bool)
            seen = set()
            for c in np.flatnonzero(inside):
                if items[c] not in seen:
                    seen.add(items[c])
                    first[c] = True
            item_free.append(np.flatnonzero(inside & ~first))
        return cls(weight_free, weight_boundary, item_free, prob_boundary)

    @property
    def n_free(self):
        return len(self.weight_free) + sum(len(free) for free in self.item_free)

    def item_slices(self):
        """Where each class's item parameters sit in the vector: list of slices."""
        start = len(self.weight_free)
        slices = []
        for free in self.item_free:
            slices.append(slice(start, start + len(free)))
            start += len(free)
        return slices


def item_scores(counts, trials, probs, free):
    """``d a_ik / d g_kjc`` of one class: ``y_ijc - n_ij t_kjc`` at its free columns.

    Parameters
    ----------
    counts, trials : ndarray of shape (rows, C)
    probs : ndarray of shape (C,)
        The class's category probabilities.
    free : ndarray of int, shape (P,)

    Returns
    -------
    scores : ndarray of shape (rows, P)
    """
    return counts[:, free] - trials[:, free] * probs[free]


def multinomial_curvature(expected_trials, probs, item_of_column, free):
    """``-sum_i w_i r_ik d2 a_ik / d g d g'`` of one class at its free columns.

    ``T_j (diag t_kj - t_kj t_kj')`` for each item, ``T_j`` its expected
    trials in the class; block diagonal over items.

    Parameters
    ----------
    expected_trials : ndarray of shape (C,)
        ``sum_i w_i r_ik n_ij`` repeated over item ``j``'s categories.
    probs : ndarray of shape (C,)
    item_of_column : ndarray of shape (C,)
    free : ndarray of int, shape (P,)

    Returns
    -------
    curvature : ndarray of shape (P, P)
    """
    t = probs[free]
    same_item = item_of_column[free][:, np.newaxis] == item_of_column[free]
    return expected_trials[free][:, np.newaxis] * (
        np.diag(t) - same_item * np.outer(t, t)
    )


def weight_curvature(weights, free):
    """``-d2 log w_k / d b d b'``: ``diag(w) - w w'`` at the free classes, (F, F)."""
    w = weights[free]
    return np.diag(w) - np.outer(w, w)


def row_scores(mixture, counts, resp, layout):
    """The per-row scores ``s_i`` of a block of rows.

    Parameters
    ----------
    mixture : ItemMixture
    counts : ndarray of shape (rows, C)
    resp : ndarray of shape (rows, K)
        Posterior class probabilities.
    layout : Layout

    Returns
    -------
    scores : ndarray of shape (rows, Q)
    """
    trials = mixture.trials(counts)
    scores = np.empty((counts.shape[0], layout.n_free))
    F = len(layout.weight_free)
    scores[:, :F] = resp[:, layout.weight_free] - mixture.weights[layout.weight_free]
    for k, (free, where) in enumerate(
        zip(layout.item_free, layout.item_slices(), strict=True)
    ):
        item = item_scores(counts, trials, mixture.probs[k], free)
        scores[:, where] = resp[:, k, np.newaxis] * item
    return scores


def information(mixture, layout=None):
    """The outer product of the scores and the observed information.

    Parameters
    ----------
    mixture : ItemMixture
    layout : Layout, default=None
        The free parameters (those of ``mixture`` when None).

    Returns
    -------
    opg : ndarray of shape (Q, Q)
        ``sum_i w_i s_i s_i'``.
    observed : ndarray of shape (Q, Q)
        Minus the Hessian of ``sum_i w_i log p(x_i)``.
    """
    layout = mixture.layout() if layout is None else layout
    Q = layout.n_free
    F = len(layout.weight_free)
    K = mixture.n_components
    slices = layout.item_slices()
    opg = np.zeros((Q, Q))
    # sum_i w_i sum_k r_ik g_ik g_ik' (the complete-data scores' second moment)
    second_moment = np.zeros((Q, Q))
    mass = np.zeros(K)  # sum_i w_i r_ik
    expected_trials = np.zeros((K, mixture.probs.shape[1]))
    offset = np.eye(K)[:, layout.weight_free] - mixture.weights[layout.weight_free]
    for counts, sample_weight, resp in mixture.blocks():
        scores = row_scores(mixture, counts, resp, layout)
        opg += scores.T @ (sample_weight[:, np.newaxis] * scores)
        trials = mixture.trials(counts)
        weighted_resp = sample_weight[:, np.newaxis] * resp
        mass += weighted_resp.sum(axis=0)
        expected_trials += weighted_resp.T @ trials
        for k in range(K):
            free, where = layout.item_free[k], slices[k]
            item = item_scores(counts, trials, mixture.probs[k], free)
            weighted_item = weighted_resp[:, k] @ item
            second_moment[where, where] += item.T @ (
                weighted_resp[:, k, np.newaxis] * item
            )
            second_moment[:F, where] += np.outer(offset[k], weighted_item)
    second_moment[:F, :F] = (offset.T * mass) @ offset
    for k in range(K):
        # The weight-item blocks were filled above the diagonal only.
        second_moment[slices[k], :F] = second_moment[:F, slices[k]].T
    complete = np.zeros((Q, Q))
    complete[:F, :F] = mass.sum() * weight_curvature(
        mixture.weights, layout.weight_free
    )
    items = mixture.item_of_column
    for k in range(K):
        complete[slices[k], slices[k]] = multinomial_curvature(
            expected_trials[k], mixture.probs[k], items, layout.item_free[k]
        )
    observed = complete - second_moment + opg
    return opg, (observed + observed.T) / 2.0


# ------------------------------------------------- from an estimator
def item_mixture(estimator, X, sample_weight=None):
    """A fitted estimator of skcoinmix and its data as an :class:`ItemMixture`.

    Parameters
    ----------
    estimator : BernoulliMixtureEM, BinomialMixtureEM or CategoricalMixtureEM
        Fitted, by maximum likelihood (``alpha=0``).
    X : array-like of shape (n_samples, n_features)
    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights.

    Returns
    -------
    mixture : ItemMixture
    """
    if not isinstance(
        estimator, BernoulliMixtureEM | BinomialMixtureEM | CategoricalMixtureEM
    ):
        raise TypeError(
            "estimator must be a fitted BernoulliMixtureEM, BinomialMixtureEM or "
            f"CategoricalMixtureEM, got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    if estimator.alpha != 0:
        raise ValueError(
            f"The estimator was fitted with alpha={estimator.alpha}: its "
            "estimates maximise a posterior, not the likelihood, and these "
            "standard errors and tests are those of the maximum-likelihood "
            "estimate. Refit with alpha=0."
        )
    data = estimator._prepare_data(X, reset=False)
    stored = as_numpy(data.X)
    stored = stored.toarray() if sp.issparse(stored) else np.asarray(stored)
    weights = np.asarray(estimator.weights_, dtype=np.float64)
    if isinstance(estimator, CategoricalMixtureEM):
        offsets = data.encoding.offsets
        counts = onehot_counts(stored, offsets)
        probs = np.hstack(estimator.probs_)
    elif isinstance(estimator, BernoulliMixtureEM) and estimator._fitted_param(
        "tie_features"
    ):
        # One binomial item: the row's zeros and ones (columns ones, zeros).
        counts = stored[:, ::-1].astype(np.float64)
        probs = interleave_probs(estimator.means_[:, :1])
        offsets = np.array([0, 2])
    else:
        if isinstance(estimator, BernoulliMixtureEM):
            counts = bernoulli_counts(stored)
        elif estimator.n_trials_ is None:
            counts = paired_counts(stored)
        else:
            counts = binomial_counts(stored, estimator.n_trials_)
        probs = interleave_probs(estimator.means_)
        offsets = np.arange(0, 2 * estimator.means_.shape[1] + 1, 2)
    sample_weight = _check_sample_weight(
        sample_weight, counts, dtype=np.float64, ensure_non_negative=True
    )
    return ItemMixture(
        counts=counts,
        sample_weight=sample_weight,
        weights=weights,
        probs=probs,
        offsets=np.asarray(offsets, dtype=np.intp),
        fit_weights=bool(estimator.fit_weights),
    )
