"""Standard errors and covariance of a fitted latent class model's parameters."""

# SPDX-License-Identifier: BSD-3-Clause

import itertools
import warnings
from dataclasses import dataclass

import numpy as np

from .._bernoulli import BernoulliMixtureEM
from .._categorical import CategoricalMixtureEM
from ._information import information, item_mixture

__all__ = ["StandardErrors", "standard_errors"]

#: The methods of :func:`standard_errors`.
METHODS = ("opg", "hessian")

#: Negative eigenvalues of an information matrix beyond this fraction of the
#: largest are warned of: an EM fit stops with a small nonzero gradient, and
#: the flat directions of a model not identified there then curve slightly
#: either way (about 1e-6 of the largest at tol=1e-10); a fit away from a
#: maximum curves up by far more.
NEGATIVE_RTOL = 1e-4

#: Singular values below this fraction of the largest are dropped by the
#: pseudo-inverse: sqrt(machine epsilon), the tolerance of R's MASS::ginv,
#: which poLCA uses.
PINV_RTOL = float(np.sqrt(np.finfo(np.float64).eps))


@dataclass(frozen=True)
class StandardErrors:
    """Standard errors and covariance of a fitted mixture's parameters.

    Returned by :func:`standard_errors`.

    Attributes
    ----------
    weights : ndarray of shape (n_components,)
        Standard errors of ``weights_``: 0 for weights fixed by
        ``fit_weights=False``, NaN for a weight on the boundary.
    probs : ndarray of shape (n_components, n_features) or list of ndarray
        Standard errors of the item probabilities, shaped as ``means_``
        (Bernoulli, binomial) or as ``probs_`` (categorical: one
        ``(n_components, C_j)`` array per item); NaN on the boundary.
    covariance : ndarray of shape (n_parameters, n_parameters)
        On the probability scale, in the order of ``labels``: the weights,
        then class by class, item by item, the probabilities (every category
        of a categorical item; the probability of a 1, or of a success, of a
        Bernoulli or binomial item, as ``means_``; one per class when
        features are tied). Rows and columns of parameters held fixed (on
        the boundary, or fixed weights) are 0.
    labels : list of str
        The fitted attribute entry of each row of ``covariance``, e.g.
        ``"weights_[1]"``, ``"means_[0, 2]"``, ``"probs_[2][1, 0]"``
        (``probs_[j][k, c]``: item ``j``, class ``k``, category ``c``).
    boundary_weights : ndarray of bool, shape (n_components,)
        Weights on the boundary (below 1e-9).
    boundary_probs : ndarray of bool or list of ndarray of bool
        Probabilities on the boundary, shaped as ``probs``.
    method : str
        ``"opg"`` or ``"hessian"``.
    information : ndarray of shape (n_free, n_free)
        The information matrix on the log-ratio scale (free parameters
        only), before the pseudo-inverse.
    """

    weights: np.ndarray
    probs: object
    covariance: np.ndarray
    labels: list
    boundary_weights: np.ndarray
    boundary_probs: object
    method: str
    information: np.ndarray


def psd_pseudo_inverse(information, warn=True):
    """The pseudo-inverse of an information matrix's positive part.

    Eigenvalues below :data:`PINV_RTOL` times the largest are dropped, as
    by a pseudo-inverse, negative ones included: the covariance stays
    positive semi-definite. Negative ones beyond :data:`NEGATIVE_RTOL` (an
    observed information away from a maximum, where the log-likelihood
    curves up) are warned of.

    Parameters
    ----------
    information : ndarray of shape (Q, Q)
        Symmetric.
    warn : bool, default=True
        Whether to warn of negative eigenvalues.

    Returns
    -------
    inverse : ndarray of shape (Q, Q)
    """
    values, vectors = np.linalg.eigh(information)
    largest = np.abs(values).max(initial=0.0)
    if warn and values.size and values.min() < -NEGATIVE_RTOL * largest:
        warnings.warn(
            "The observed information is not positive semi-definite: the fit "
            "is not at a maximum of the likelihood (or not identified there), "
            f"with {int((values < -NEGATIVE_RTOL * largest).sum())} direction(s) "
            "of upward curvature, left out of the covariance. Refit with a "
            "smaller tol and more restarts (n_init), or use method='opg'.",
            UserWarning,
            stacklevel=3,
        )
    kept = values > PINV_RTOL * largest
    return (vectors[:, kept] / values[kept]) @ vectors[:, kept].T


def _jacobian(mixture, layout):
    """``d (weights, probs) / d (free log-ratios)``: (K + K C, Q).

    ``d w_k / d b_m = w_k ([k = m] - w_m)`` and
    ``d t_kjc / d g_kjc' = t_kjc ([c = c'] - t_kjc')`` within an item.
    """
    K, C = mixture.probs.shape
    jacobian = np.zeros((K + K * C, layout.n_free))
    w = mixture.weights
    free = layout.weight_free
    jacobian[:K, : len(free)] = w[:, np.newaxis] * (np.eye(K)[:, free] - w[free])
    items = mixture.item_of_column
    for k, (cols, where) in enumerate(
        zip(layout.item_free, layout.item_slices(), strict=True)
    ):
        t = mixture.probs[k]
        same_item = items[:, np.newaxis] == items[cols]
        block = t[:, np.newaxis] * (np.eye(C)[:, cols] - same_item * t[cols])
        jacobian[K + k * C : K + (k + 1) * C, where] = block
    return jacobian


def _output_rows(estimator, mixture):
    """Which rows of the full Jacobian the result reports, and their labels."""
    K, C = mixture.probs.shape
    rows = list(range(K))
    labels = [f"weights_[{k}]" for k in range(K)]
    if isinstance(estimator, CategoricalMixtureEM):
        for k in range(K):
            for j in range(len(mixture.offsets) - 1):
                for c in range(mixture.offsets[j + 1] - mixture.offsets[j]):
                    rows.append(K + k * C + mixture.offsets[j] + c)
                    labels.append(f"probs_[{j}][{k}, {c}]")
        return np.array(rows), labels
    tied = isinstance(estimator, BernoulliMixtureEM) and estimator._fitted_param(
        "tie_features"
    )
    d = C // 2
    for k in range(K):
        for j in range(d):
            rows.append(K + k * C + 2 * j + 1)  # the category "1" (success)
            labels.append(f"means_[{k}, :]" if tied else f"means_[{k}, {j}]")
    return np.array(rows), labels


def _shape_like_model(estimator, mixture, values):
    """Values per (class, category) of shape (K, C) as the model's probabilities."""
    if isinstance(estimator, CategoricalMixtureEM):
        offsets = mixture.offsets
        return [values[:, a:b].copy() for a, b in itertools.pairwise(offsets)]
    ones = values[:, 1::2]
    return np.broadcast_to(ones, estimator.means_.shape).copy()


def standard_errors(estimator, X, *, method="opg", sample_weight=None):
    """Standard errors and covariance of a fitted mixture's weights and probabilities.

    The information matrix is computed on poLCA's log-ratio parameters
    (``log(w_k / w_1)`` for the weights, ``log(t_kjc / t_kj1)`` for each
    item's category probabilities), inverted by a pseudo-inverse (it may be
    singular), and mapped to the probability scale by the delta method.

    Parameters
    ----------
    estimator : BernoulliMixtureEM, BinomialMixtureEM or CategoricalMixtureEM
        Fitted on ``X`` by maximum likelihood (``alpha=0``). Binomial
        mixtures are supported with fixed ``n_trials`` and with
        ``"paired"``; tied Bernoulli features have one probability per
        class.

    X : array-like of shape (n_samples, n_features)
        The data the model was fitted on; missing entries (NaN) are left
        out of each row's score (full-information maximum likelihood).

    method : {"opg", "hessian"}, default="opg"
        - ``"opg"``: the outer product of the per-row scores, as poLCA
          (``poLCA.se``) computes it;
        - ``"hessian"``: the observed information, minus the exact Hessian
          of the log-likelihood (as Mplus's ML reports), which behaves better
          in small samples.

    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights: a row of weight 3 counts as three rows.

    Returns
    -------
    result : StandardErrors
        ``weights``, ``probs`` (shaped as the model's probabilities),
        ``covariance`` with its ``labels``, the boundary masks, the method
        and the information matrix.

    Warns
    -----
    UserWarning
        With ``method="hessian"``, when the observed information has an
        eigenvalue below ``-1e-4`` times its largest: the fit is not at a
        maximum (EM stopped early, or at a saddle). Directions of upward
        curvature are left out of the covariance; refit with a smaller
        ``tol``.

    Notes
    -----
    Parameters on the boundary (a probability or weight below 1e-9: the
    models clip probabilities at 1e-10) are held fixed: their log-ratios,
    at minus infinity in effect, are left out of the information matrix,
    their rows and columns of ``covariance`` are 0 and their standard
    errors NaN. A standard error of 0, which poLCA prints there, would claim
    a certainty the data do not give: the estimate is at the edge of the
    parameter space, where the normal approximation behind a standard
    error does not hold.

    Examples
    --------
    >>> from skcoinmix import BernoulliMixtureEM
    >>> from skcoinmix.datasets import load_lca_example
    >>> from skcoinmix.inference import standard_errors
    >>> X, counts = load_lca_example("stouffer_toby", as_patterns=True)
    >>> est = BernoulliMixtureEM(2, init_params="random", n_init=5, tol=1e-10,
    ...                          max_iter=5000, random_state=0)
    >>> est = est.fit(X, sample_weight=counts)
    >>> se = standard_errors(est, X, sample_weight=counts)
    >>> se.weights.round(4)
    array([0.0561, 0.0561])
    >>> se.covariance.shape
    (10, 10)
    """
    if method not in METHODS:
        raise ValueError(f"method must be 'opg' or 'hessian', got {method!r}.")
    mixture = item_mixture(estimator, X, sample_weight)
    layout = mixture.layout()
    opg, observed = information(mixture, layout)
    info = opg if method == "opg" else observed
    inverse = psd_pseudo_inverse(info)
    jacobian = _jacobian(mixture, layout)
    rows, labels = _output_rows(estimator, mixture)
    fixed = np.concatenate(
        [
            layout.weight_boundary | (not mixture.fit_weights),
            layout.prob_boundary.ravel(),
        ]
    )
    jacobian[fixed] = 0.0
    full = jacobian @ inverse @ jacobian.T
    variances = np.maximum(np.diag(full), 0.0)  # rounding: never sqrt(-0.0...)
    se = np.sqrt(variances)
    K, C = mixture.probs.shape
    weight_se = np.where(layout.weight_boundary, np.nan, se[:K])
    prob_se = np.where(layout.prob_boundary, np.nan, se[K:].reshape(K, C))
    return StandardErrors(
        weights=weight_se,
        probs=_shape_like_model(estimator, mixture, prob_se),
        covariance=full[np.ix_(rows, rows)],
        labels=labels,
        boundary_weights=layout.weight_boundary.copy(),
        boundary_probs=_shape_like_model(estimator, mixture, layout.prob_boundary),
        method=method,
        information=info,
    )
