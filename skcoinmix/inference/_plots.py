"""Plots of fitted latent class models: the profile plot and criteria by K.

matplotlib is an optional dependency (``pip install skcoinmix[plots]``): it
is imported inside the functions, never when skcoinmix is.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.base import clone

from .._report import _class_order, _item_rows, _item_tables, fit_report
from ._residuals import _checked_mixture

__all__ = ["plot_information_criteria", "plot_profile"]

#: The criteria :func:`plot_information_criteria` knows: FitReport field -> label.
CRITERIA = {
    "aic": "AIC",
    "bic": "BIC",
    "sabic": "SABIC",
    "caic": "CAIC",
    "icl_bic": "ICL-BIC",
}


def _pyplot():
    """matplotlib.pyplot, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "The plots of skcoinmix.inference need matplotlib, an optional "
            "dependency: pip install 'skcoinmix[plots]' (or pip install "
            "matplotlib)."
        ) from error
    return plt


def plot_profile(estimator, *, se=None, class_order="fitted", ax=None):
    """The profile plot: each class's item-response probabilities, as bars.

    poLCA's ``plot`` (``graphs=TRUE``) in two dimensions: for binary items
    (:class:`~skcoinmix.BernoulliMixtureEM`) one group of bars per item, the
    probability of a 1 in each class; for counts
    (:class:`~skcoinmix.BinomialMixtureEM`) the success probability per
    trial; for polytomous items (:class:`~skcoinmix.CategoricalMixtureEM`)
    one group per category of each item, the items side by side and named
    above the axis (poLCA's three-dimensional bars hide each other).

    Parameters
    ----------
    estimator : fitted skcoinmix mixture
        A fitted :class:`~skcoinmix.BernoulliMixtureEM`,
        :class:`~skcoinmix.CategoricalMixtureEM` or
        :class:`~skcoinmix.BinomialMixtureEM`.

    se : array-like, object with a ``probs`` attribute, or None, default=None
        Standard errors of the plotted probabilities, drawn as error bars of
        one standard error either side of each bar: shaped as ``means_``,
        ``(n_components, n_items)``, for binary items and counts, as
        ``probs_`` (a list of ``(n_components, C_j)`` arrays) for
        categorical items; or the result of
        ``skcoinmix.inference.standard_errors``, whose ``probs`` are so.

    class_order : {"fitted", "size"} or array-like of int, default="fitted"
        The order of the classes, as in :func:`~skcoinmix.fit_report`:
        ``"size"`` by decreasing class size, so that refits that differ by
        label switching draw the same plot.

    ax : matplotlib Axes, default=None
        Where to draw; None makes a new figure.

    Returns
    -------
    ax : matplotlib Axes
        One ``BarContainer`` per class among ``ax.containers`` (its
        ``errorbar`` the error bars when ``se`` is given), labelled
        ``"class k (share)"``.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    ValueError
        If ``se`` is not shaped as the probabilities, or ``class_order``
        is not an order.

    See Also
    --------
    plot_information_criteria : AIC, BIC, ... by number of classes.

    Notes
    -----
    Error bars are ``p ± se`` without clipping to [0, 1]: a bar reaching
    past 0 or 1 shows an interval that the normal approximation gets wrong
    near the boundary.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcoinmix import BernoulliMixtureEM
    >>> from skcoinmix.datasets import load_lca_example
    >>> from skcoinmix.inference import plot_profile
    >>> patterns, counts = load_lca_example("stouffer_toby", as_patterns=True)
    >>> est = BernoulliMixtureEM(2, random_state=0).fit(patterns,
    ...                                                 sample_weight=counts)
    >>> ax = plot_profile(est, class_order="size")
    >>> len(ax.containers), len(ax.containers[0])  # 2 classes x 4 items
    (2, 4)
    """
    _checked_mixture(estimator, "plot_profile")
    items = _item_tables(estimator)
    categorical = items[0].headline is None
    if categorical:
        heights = [item.probs for item in items]  # (K, C_j) each
        labels = [
            [str(value) for value in item.values] for item in items
        ]  # the categories
    else:
        heights = [item.headline[:, np.newaxis] for item in items]  # (K, 1)
        labels = [[item.label] for item in items]
    errors = _standard_errors(se, heights, categorical)
    _, item_probabilities = _item_rows(estimator, items)
    order = _class_order(class_order, estimator.weights_, item_probabilities)
    plt = _pyplot()
    if ax is None:
        width = max(4.0, 0.45 * len(order) * sum(len(group) for group in labels))
        _, ax = plt.subplots(figsize=(min(width, 16.0), 4.0))

    # x positions: the categories of an item side by side, a gap between items.
    positions, start = [], 0.0
    for group in labels:
        positions.append(start + np.arange(len(group)))
        start += len(group) + (0.6 if categorical else 0.0)
    x = np.concatenate(positions)
    K = len(order)
    width = 0.8 / K
    for rank, k in enumerate(order):
        height = np.concatenate([h[k] for h in heights])
        yerr = None if errors is None else np.concatenate([e[k] for e in errors])
        ax.bar(
            x + (rank - (K - 1) / 2) * width,
            height,
            width,
            yerr=yerr,
            capsize=2 if yerr is not None else 0,
            label=f"class {rank + 1} ({estimator.weights_[k]:.0%})",
        )
    ax.set_xticks(x)
    ax.set_xticklabels(
        [label for group in labels for label in group],
        rotation=0 if categorical else 45,
        ha="center" if categorical else "right",
    )
    if categorical:
        for item, where in zip(items, positions, strict=True):
            ax.text(
                where.mean(),
                1.02,
                item.label,
                ha="center",
                va="bottom",
                transform=ax.get_xaxis_transform(),
            )
        ax.set_ylabel("Pr(item = category | class)")
    elif "n_trials" in estimator.get_params(deep=False):
        ax.set_ylabel("success probability per trial")
    else:
        ax.set_ylabel("Pr(item = 1 | class)")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize="small")
    return ax


def _standard_errors(se, heights, categorical):
    """``se`` as a list of arrays shaped as ``heights``, or None."""
    if se is None:
        return None
    se = getattr(se, "probs", se)
    expected = "a list of (n_components, C_j) arrays, as probs_"
    if categorical:
        if not isinstance(se, list | tuple) or len(se) != len(heights):
            raise ValueError(
                f"se must be shaped as the item probabilities, {expected}; "
                f"got {type(se).__name__}."
            )
        arrays = [np.asarray(block, dtype=np.float64) for block in se]
    else:
        expected = f"an array of shape {(heights[0].shape[0], len(heights))}, as means_"
        table = np.asarray(se, dtype=np.float64)
        if table.shape != (heights[0].shape[0], len(heights)):
            raise ValueError(
                f"se must be shaped as the item probabilities, {expected}; "
                f"got shape {table.shape}."
            )
        arrays = [table[:, [j]] for j in range(len(heights))]
    for block, height in zip(arrays, heights, strict=True):
        if block.shape != height.shape:
            raise ValueError(
                f"se must be shaped as the item probabilities, {expected}; "
                f"got an array of shape {block.shape} for one of shape "
                f"{height.shape}."
            )
        if not np.all(np.isfinite(block) & (block >= 0)):
            raise ValueError("se must hold finite, non-negative standard errors.")
    return arrays


def plot_information_criteria(
    estimators,
    X,
    *,
    sample_weight=None,
    n_components=None,
    criteria=("aic", "bic", "sabic", "caic"),
    ax=None,
):
    """Information criteria by number of classes, the smallest of each marked.

    Parameters
    ----------
    estimators : skcoinmix mixture or sequence of fitted ones
        Fitted models of ``X`` with different numbers of classes; or, with
        ``n_components``, one estimator whose clones are fitted to ``X`` for
        each number of classes (with its own restarts and random_state).

    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data the criteria are computed on.

    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights, for the fits and the criteria.

    n_components : iterable of int, default=None
        The numbers of classes to fit, e.g. ``range(1, 5)``.

    criteria : sequence of str, default=("aic", "bic", "sabic", "caic")
        Any of ``"aic"``, ``"bic"``, ``"sabic"``, ``"caic"`` and
        ``"icl_bic"``: the fields of :class:`~skcoinmix.FitReport`.

    ax : matplotlib Axes, default=None
        Where to draw; None makes a new figure.

    Returns
    -------
    ax : matplotlib Axes
        ``ax.get_lines()`` starts with one line per criterion (labelled as
        in the legend, e.g. ``"BIC"``), its x data the numbers of classes and
        its y data the criterion; then a circle around the smallest value of
        each (labelled ``"_nolegend_"``).

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    ValueError
        For an unknown criterion, no estimator, or ``n_components`` with
        several estimators.

    See Also
    --------
    skcoinmix.fit_report : The criteria of one model.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcoinmix import BernoulliMixtureEM
    >>> from skcoinmix.datasets import load_lca_example
    >>> from skcoinmix.inference import plot_information_criteria
    >>> patterns, counts = load_lca_example("stouffer_toby", as_patterns=True)
    >>> est = BernoulliMixtureEM(n_init=3, random_state=0)
    >>> ax = plot_information_criteria(est, patterns, sample_weight=counts,
    ...                                n_components=range(1, 4))
    >>> [line.get_label() for line in ax.get_lines()][:4]
    ['AIC', 'BIC', 'SABIC', 'CAIC']
    >>> ax.get_lines()[1].get_xdata().tolist()
    [1, 2, 3]
    """
    unknown = [name for name in criteria if name not in CRITERIA]
    if unknown or not criteria:
        raise ValueError(
            f"criteria must be some of {sorted(CRITERIA)}, got {list(criteria)!r}."
        )
    if n_components is not None:
        if isinstance(estimators, list | tuple):
            raise ValueError(
                "n_components refits one estimator: pass a single estimator "
                "with it, or fitted estimators without it."
            )
        _checked_mixture(estimators, "plot_information_criteria", fitted=False)
        estimators = [
            clone(estimators)
            .set_params(n_components=int(K))
            .fit(X, sample_weight=sample_weight)
            for K in n_components
        ]
    elif not isinstance(estimators, list | tuple):
        estimators = [estimators]
    if len(estimators) == 0:
        raise ValueError("plot_information_criteria needs at least one estimator.")
    reports = sorted(
        (fit_report(est, X, sample_weight=sample_weight) for est in estimators),
        key=lambda report: report.n_components,
    )
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 4.0))
    ks = [report.n_components for report in reports]
    lines = []
    for name in criteria:
        values = [getattr(report, name) for report in reports]
        lines += ax.plot(ks, values, "o-", label=CRITERIA[name])
    # The circles after every line: ax.get_lines() starts with the criteria.
    for line in lines:
        best = int(np.argmin(line.get_ydata()))
        ax.plot(
            ks[best],
            line.get_ydata()[best],
            "o",
            markersize=12,
            color=line.get_color(),  # a given colour leaves the cycle alone
            markerfacecolor="none",
            label="_nolegend_",
        )
    ax.set_xticks(ks)
    ax.set_xlabel("number of classes")
    ax.set_ylabel("criterion (smaller is better)")
    ax.legend(fontsize="small")
    return ax
