"""Class order: a fitted mixture with its components permuted, without refitting."""

# SPDX-License-Identifier: BSD-3-Clause

import copy

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._em import BaseMixtureEM

__all__ = ["reorder_components"]

#: Fitted attributes indexed by component along their first axis (``probs_``
#: is a list of such arrays).
FITTED_PER_COMPONENT = ("weights_", "means_", "probs_")

#: Starting values indexed by component: permuted too, so that a refit of the
#: reordered estimator from them gives the reordered fit.
START_PER_COMPONENT = ("weights_init", "means_init", "probs_init")


def reorder_components(estimator, order):
    """A copy of a fitted mixture with its components in another order.

    No refit: every per-component fitted attribute (``weights_``,
    ``means_`` or ``probs_``), the per-component starting values
    (``weights_init``, ``means_init``, ``probs_init``) and
    :meth:`~skcoinmix.BernoulliMixtureEM.partial_fit`'s running statistics
    are permuted together, so the copy is the same model with relabelled
    classes: ``predict_proba`` gives the same probabilities with their
    columns permuted, ``predict`` the relabelled classes, ``score_samples``
    the same values, and continuing the fit (``warm_start=True``,
    ``partial_fit``) gives the permuted continuation of the original's.
    Unlike poLCA's ``poLCA.reorder``, which reorders starting values for a
    refit.

    Parameters
    ----------
    estimator : fitted skcoinmix mixture
        E.g. a :class:`~skcoinmix.BernoulliMixtureEM`; left unchanged.

    order : array-like of int of shape (n_components,) or "size"
        A permutation of ``range(n_components)``: component ``k`` of the
        copy is component ``order[k]`` of ``estimator`` (as numpy's
        ``weights_[order]``). ``"size"``: by decreasing mixing weight (the
        largest class first, as poLCA users order them; ties keep their
        order), so that two fits that differ only by label switching give
        the same copy.

    Returns
    -------
    reordered : estimator
        A fitted deep copy of ``estimator`` with its components reordered.

    Raises
    ------
    ValueError
        If ``order`` is not a permutation of ``range(n_components)`` nor
        ``"size"``.
    TypeError
        If ``estimator`` is not a skcoinmix mixture.

    Examples
    --------
    >>> import numpy as np
    >>> from skcoinmix import BernoulliMixtureEM
    >>> from skcoinmix.inference import reorder_components
    >>> X = np.array([[1, 1, 1], [1, 1, 0], [1, 1, 1], [0, 0, 0], [0, 0, 1],
    ...               [1, 1, 1]])
    >>> est = BernoulliMixtureEM(2, random_state=0).fit(X)
    >>> by_size = reorder_components(est, "size")
    >>> bool(by_size.weights_[0] >= by_size.weights_[1])
    True
    >>> swapped = reorder_components(est, [1, 0])
    >>> np.allclose(swapped.predict_proba(X), est.predict_proba(X)[:, [1, 0]])
    True
    >>> np.array_equal(swapped.predict(X), 1 - est.predict(X))
    True
    """
    if not isinstance(estimator, BaseMixtureEM):
        raise TypeError(
            "reorder_components needs a fitted skcoinmix mixture, but got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    order = _check_order(order, estimator.weights_)
    reordered = copy.deepcopy(estimator)
    for name in FITTED_PER_COMPONENT:
        if hasattr(reordered, name):
            setattr(reordered, name, _permuted(getattr(reordered, name), order))
    starts = reordered.get_params(deep=False)
    reordered.set_params(
        **{
            name: _permuted(starts[name], order)
            for name in START_PER_COMPONENT
            if _per_component(starts.get(name), len(order))
        }
    )
    online = getattr(reordered, "_online_state", None)
    if online is not None and online.get("stats") is not None:
        online["stats"] = {
            key: _permuted(value, order) for key, value in online["stats"].items()
        }
    return reordered


def _check_order(order, weights):
    """``order`` as an intp permutation of ``range(K)``; ``"size"`` resolved."""
    n_components = len(weights)
    if isinstance(order, str):
        if order == "size":
            return np.argsort(-np.asarray(weights), kind="stable")
        raise ValueError(
            f"order must be a permutation of range({n_components}) or 'size', "
            f"got {order!r}."
        )
    try:
        values = np.asarray(order)
    except (TypeError, ValueError):  # pragma: no cover - ragged sequences
        values = np.asarray(order, dtype=object)
    is_permutation = (
        values.ndim == 1
        and values.dtype.kind in "iu"
        and np.array_equal(np.sort(values), np.arange(n_components))
    )
    if not is_permutation:
        shown = values.tolist() if values.ndim else order
        raise ValueError(
            f"order must be a permutation of range({n_components}) (each of the "
            f"{n_components} components once, as integers) or 'size', got "
            f"{shown!r}."
        )
    return values.astype(np.intp)


def _per_component(value, n_components):
    """Whether a starting value is set and indexed by ``n_components`` components."""
    if value is None:
        return False
    if isinstance(value, list) and value and np.ndim(value[0]) == 2:  # probs_init
        return all(len(block) == n_components for block in value)
    return len(value) == n_components


def _permuted(value, order):
    """``value`` with its first axis in ``order``; a list of arrays each permuted."""
    if isinstance(value, list) and value and np.ndim(value[0]) == 2:
        return [np.asarray(block)[order].copy() for block in value]
    return np.asarray(value)[order].copy()
