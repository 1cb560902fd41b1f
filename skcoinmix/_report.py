"""The fit report of a latent class model, as poLCA and Mplus print it.

:func:`fit_report` evaluates a fitted :class:`~skcoinmix.BernoulliMixtureEM`
on data and returns a :class:`FitReport`: information criteria, goodness of
fit against the observed response patterns, classification entropy, class
sizes and item-response probabilities. The statistics are small pure
functions of arrays in :mod:`skcoinmix._fit_statistics`; :func:`fit_report`
only gathers their inputs from the estimator.

Shapes: ``n`` rows, ``J`` items (features), ``K`` classes (components),
``m`` distinct response patterns.
"""

# SPDX-License-Identifier: BSD-3-Clause

import math
from dataclasses import dataclass, fields, replace
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.stats import binom, chi2
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _get_feature_names, check_array, check_is_fitted

from ._backends import is_dask_array
from ._em import BaseMixtureEM
from ._fit_statistics import (
    BLOCK_ENTRIES,
    average_posteriors,
    binary_codes,
    bivariate_residuals_of_tables,
    classification_entropy,
    classification_error,
    g_squared,
    information_criteria,
    modal_proportions,
    one_hot_rows,
    pattern_codes,
    pattern_counts,
    pearson_chi_squared,
    relative_entropy,
    residual_df,
)
from ._validation import (
    check_sample_weight,
    log_unscaled,
    missing_mask,
    scale_sample_weight,
    unscale_total,
)

__all__ = ["FitReport", "fit_report"]

#: G-squared and the Pearson chi-square are computed for at most this many
#: items. Beyond it the table has more than a million cells, nearly all
#: empty, and the chi-square reference distribution means nothing.
MAX_ITEMS_FIT_STATISTICS = 20


@dataclass(frozen=True)
class FitReport:
    """What poLCA and Mplus print about a fitted latent class model.

    Made by :func:`fit_report`; ``str(report)`` is a plain-text report with
    aligned columns and :meth:`to_dict` a JSON-serialisable dictionary. Class
    ``k + 1`` of the report is component ``class_order[k]`` of the estimator
    (component ``k`` unless ``fit_report`` was asked for another order).

    Attributes
    ----------
    n_components : int
        The number of latent classes ``K``.
    n_items : int
        The number of items (features) ``J``.
    n_samples : int
        The number of rows of the data.
    sample_size : float
        ``N``, the weighted number of rows: the sum of the sample weights.
    log_likelihood : float
        ``sum_i w_i log p(x_i)``, without the multinomial constant (as
        poLCA prints it).
    n_parameters : int
        The number of free parameters ``p``, the estimator's
        ``n_parameters_``: for :class:`~skcoinmix.BernoulliMixtureEM`
        ``K J + K - 1`` (``2K - 1`` with tied features, ``K - 1`` fewer when
        the weights are fixed).
    aic, bic, sabic : float
        ``-2 LL + 2 p``, ``-2 LL + p log N`` and the sample-size-adjusted
        BIC of Sclove (1987), ``-2 LL + p log((N + 2) / 24)``.
    df : int, float or None
        The residual degrees of freedom, as in poLCA:
        ``min(N, C - 1) - p`` for a table of ``C`` cells (``C = 2^J`` for
        binary items), a float only when ``N`` is not a whole number and
        below ``C - 1``.
    g_squared, chi_squared : float or None
        The likelihood-ratio statistic G² and Pearson's X² of the observed
        pattern counts against the fitted ones; None when not computed (see
        ``fit_statistics_note``).
    g_squared_p_value, chi_squared_p_value : float or None
        Their upper tail probabilities under a chi-square distribution with
        ``df`` degrees of freedom; None when not computed or when
        ``df <= 0``.
    n_complete : float
        The weighted number of rows without a missing answer: the ``N`` of
        G² and X².
    n_patterns : int or None
        The number of distinct response patterns among those rows (with a
        positive weight); None when not computed.
    fit_statistics_note : str or None
        Why G² and X² were left out, or which rows they are computed on;
        None when they cover every row.
    relative_entropy : float
        The relative entropy of the classification (Mplus's "entropy", the
        entropy R²), in [0, 1]: 1 when every row belongs to one class with
        certainty. 1 by convention for a single class.
    class_weights : tuple of float, length K
        The estimated class sizes (``weights_``).
    modal_class_proportions : tuple of float, length K
        The weighted share of rows whose most probable class is ``k``.
    item_labels : tuple of str
        The rows of ``item_probabilities``: the feature names, or
        ``"item 0"``, ``"item 1"``, ...; a single ``"all items (tied)"``
        with tied features.
    item_probabilities : tuple of tuple of float, shape (K, len(item_labels))
        The probability of a 1 for each class and item (``means_``).
    converged : bool
        Whether the estimator's best run converged.
    n_iter : int
        The number of EM iterations of the best run.
    model : str
        The estimator's class name, e.g. ``"BernoulliMixtureEM"``.
    caic : float
        The consistent AIC of Bozdogan (1987), ``-2 LL + p (log N + 1)``:
        BIC plus ``p``.
    icl_bic : float
        ICL-BIC, ``BIC + 2 E`` with ``E = sum_i w_i sum_k -r_ik log r_ik``
        the entropy of the classification (McLachlan and Peel, 2000,
        section 6.10.3; Biernacki, Celeux and Govaert, 2000): BIC penalised
        by how uncertain the classification is.
    largest_bivariate_residuals : tuple of (str, str, float, int), or None
        The (at most five) largest bivariate residuals of
        :func:`skcoinmix.inference.bivariate_residuals`, largest first: the
        two item labels, the residual (Pearson X² per degree of freedom) and
        its degrees of freedom. None when not computed (see
        ``bivariate_residuals_note``).
    bivariate_residuals_note : str or None
        Why the bivariate residuals were left out; None when computed.
    class_order : tuple of int, length K
        The estimator's component behind each class of the report: class
        ``k + 1`` is component ``class_order[k]`` (see ``fit_report``'s
        ``class_order``).
    class_weight_se : tuple of float, length K, or None
        The standard errors of ``class_weights``, when ``fit_report`` was
        given ``standard_errors``; NaN for a weight on the boundary.
    item_probability_se : tuple of tuple of float, or None
        The standard errors of ``item_probabilities``, laid out as they are;
        NaN for a probability on the boundary.
    average_posteriors : tuple of tuple of float, shape (K, K)
        Mplus's classification table: entry ``[k][l]`` is the mean posterior
        probability of class ``l + 1`` among the rows whose most probable
        class is ``k + 1`` (NaN for a class no row is assigned to); a
        diagonal near 1 means well-separated classes (see
        :func:`skcoinmix.inference.classification_table`).
    classification_error : float
        The expected share of misclassified rows,
        ``1 - sum_i w_i max_k r_ik / sum_i w_i``.
    se_method : str or None
        How the standard errors were computed (``"opg"`` or ``"hessian"``,
        see :func:`skcoinmix.inference.standard_errors`); None without them.
    """

    n_components: int
    n_items: int
    n_samples: int
    sample_size: float
    log_likelihood: float
    n_parameters: int
    aic: float
    bic: float
    sabic: float
    df: int | float | None
    g_squared: float | None
    g_squared_p_value: float | None
    chi_squared: float | None
    chi_squared_p_value: float | None
    n_complete: float
    n_patterns: int | None
    fit_statistics_note: str | None
    relative_entropy: float
    class_weights: tuple
    modal_class_proportions: tuple
    item_labels: tuple
    item_probabilities: tuple
    converged: bool
    n_iter: int
    model: str
    caic: float | None = None
    icl_bic: float | None = None
    largest_bivariate_residuals: tuple | None = None
    bivariate_residuals_note: str | None = None
    class_order: tuple | None = None
    class_weight_se: tuple | None = None
    item_probability_se: tuple | None = None
    se_method: str | None = None
    average_posteriors: tuple | None = None
    classification_error: float | None = None

    def to_dict(self):
        """The report as plain Python types, ready for :func:`json.dumps`.

        Returns
        -------
        report : dict
            One entry per attribute; tuples become lists, missing values
            None.
        """
        return {field.name: _plain(getattr(self, field.name)) for field in fields(self)}

    def __str__(self):
        return "\n".join(_format_report(self))


def fit_report(
    estimator, X, sample_weight=None, *, class_order="fitted", standard_errors=None
):
    """Report the fit of a latent class model, as poLCA and Mplus print it.

    Parameters
    ----------
    estimator : fitted skcoinmix mixture
        A fitted mixture of this library, e.g. a
        :class:`~skcoinmix.BernoulliMixtureEM`.

    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data to evaluate, usually the training data; validated (and
        binarised) as the estimator's ``score_samples`` does. NaN marks a
        missing answer when the estimator accepts it.

    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights, e.g. the counts of a table of response patterns;
        ``N`` is their sum.

    class_order : {"fitted", "size"} or array-like of int, default="fitted"
        The order of the classes in the report: the estimator's components
        as fitted; ``"size"``, by decreasing class size (``weights_``), ties
        broken by the item probabilities (decreasing, first item first), so
        two fits that differ only by label switching print the same report;
        or a permutation of ``range(n_components)``, the component of each
        class of the report in turn. The estimator is not changed.

    standard_errors : StandardErrors, default=None
        The result of :func:`skcoinmix.inference.standard_errors` for this
        estimator and data: the report then shows the standard errors of the
        class sizes and item probabilities (``class_weight_se``,
        ``item_probability_se``). None: no standard errors.

    Returns
    -------
    report : FitReport
        ``print(report)`` for the text; ``report.to_dict()`` for the numbers.

    Raises
    ------
    TypeError
        If ``estimator`` is not a skcoinmix mixture, or ``X`` is a dask array
        (compute it, or its table of patterns, first).
    sklearn.exceptions.NotFittedError
        If it is not fitted.
    ValueError
        If ``X`` does not match the fitted features, ``class_order`` is not
        one of the orders above, ``standard_errors`` are not shaped as the
        estimator's parameters, or ``sample_weight`` is invalid or so large
        that a total of the report (``N``, the log-likelihood, G², X²) is
        beyond float64's range.

    Notes
    -----
    ``log_likelihood`` is ``estimator.score(X, sample_weight) * N``;
    ``aic`` and ``bic`` equal ``estimator.aic`` and ``estimator.bic``.

    **Goodness of fit.** The rows are grouped into response patterns after
    binarisation (``X > estimator.binarize``), summing their weights into
    observed counts ``n_s``; the expected count of a pattern is
    ``e_s = N p(s)``, with ``log p(s)`` the estimator's ``score_samples``
    of a row with that pattern. Then ``G² = 2 sum_s n_s log(n_s / e_s)``
    over the observed patterns, and ``X² = sum_s (n_s - e_s)² / e_s`` over
    all ``2^J`` patterns, the unobserved ones adding their expected counts:
    as poLCA, it is computed as the sum over the observed patterns plus
    ``N - sum_s e_s``, so no cell is enumerated. The degrees of freedom
    follow poLCA too, ``min(N, 2^J - 1) - p`` with ``N`` all the rows: with
    fewer rows than cells, the number of rows bounds the number of
    patterns that can be observed. Neither statistic is computed for more
    than 20 items.

    **Missing answers.** As in poLCA, G² and X² use only the rows with no
    missing answer: their ``N`` is the weighted number of those rows
    (``n_complete``), and ``fit_statistics_note`` says so. The
    log-likelihood, the information criteria and the entropy use every row.

    **Entropy.** ``relative_entropy = 1 - sum_i w_i sum_k -r_ik log r_ik /
    (N log K)`` with ``r_ik`` the posterior class probabilities (Ramaswamy
    et al., 1993); it is 1 when ``K = 1``, where nothing is uncertain.

    **More criteria.** CAIC ``= -2 LL + p (log N + 1)`` (Bozdogan, 1987) and
    ICL-BIC ``= BIC + 2 sum_i w_i sum_k -r_ik log r_ik`` (McLachlan and
    Peel, 2000): lower is better for both, as for AIC and BIC.

    **Local dependence.** The five largest bivariate residuals of
    :func:`skcoinmix.inference.bivariate_residuals` (for at most 100 items).
    Values above 3.84 per degree of freedom are commonly flagged, but that
    is a rule of thumb, not a chi-square test (Oberski et al., 2013).

    References
    ----------
    D. A. Linzer and J. B. Lewis, "poLCA: an R package for polytomous
    variable latent class analysis", Journal of Statistical Software 42(10)
    (2011).

    S. L. Sclove, "Application of model-selection criteria to some problems
    in multivariate analysis", Psychometrika 52, 333-343 (1987).

    V. Ramaswamy, W. S. DeSarbo, D. J. Reibstein and W. T. Robinson, "An
    empirical pooling approach for estimating marketing mix elasticities
    with PIMS data", Marketing Science 12, 103-124 (1993).

    H. Bozdogan, "Model selection and Akaike's Information Criterion (AIC):
    the general theory and its analytical extensions", Psychometrika 52,
    345-370 (1987).

    G. J. McLachlan and D. Peel, *Finite Mixture Models*, Wiley (2000),
    section 6.10.3; C. Biernacki, G. Celeux and G. Govaert, "Assessing a
    mixture model for clustering with the integrated completed likelihood",
    IEEE Transactions on Pattern Analysis and Machine Intelligence 22,
    719-725 (2000).

    D. L. Oberski, G. H. van Kollenburg and J. K. Vermunt, "A Monte Carlo
    evaluation of three methods to detect local dependence in binary data
    latent class models", Advances in Data Analysis and Classification 7,
    267-279 (2013).

    Examples
    --------
    Two classes for the Stouffer-Toby role-conflict items (Goodman, 1974),
    fitted to the table of response patterns:

    >>> from skcoinmix import BernoulliMixtureEM, fit_report
    >>> from skcoinmix.datasets import load_lca_example
    >>> patterns, counts = load_lca_example("stouffer_toby", as_patterns=True)
    >>> est = BernoulliMixtureEM(2, init_params="random", n_init=10, tol=1e-8,
    ...                          max_iter=5000, random_state=0)
    >>> est = est.fit(patterns, sample_weight=counts)
    >>> report = fit_report(est, patterns, sample_weight=counts)
    >>> round(report.log_likelihood, 4), report.n_parameters, report.df
    (-504.4677, 9, 6)
    >>> round(report.g_squared, 2), round(report.bic, 2)
    (2.72, 1057.31)
    >>> print(report)  # doctest: +ELLIPSIS
    Latent class model: 2 classes, 4 items, BernoulliMixtureEM
    ...
    maximum log-likelihood                   -504.4677
    ...
    """
    _check_mixture(estimator)
    check_is_fitted(estimator)
    if is_dask_array(X):
        raise TypeError(
            "fit_report counts response patterns in memory and does not take a "
            "dask array: pass X.compute(), or the table of patterns "
            "(skcoinmix.datasets.to_patterns) with sample_weight=counts."
        )
    # score_samples validates X against the fitted features (and refuses what
    # the estimator refuses), so everything below can trust X's shape.
    log_prob = estimator.score_samples(X)
    resp = estimator.predict_proba(X)
    # Totals are computed with the weights rescaled by 2**-exponent (exact),
    # so that none overflows, then scaled back or refused; proportions need
    # no scaling back.
    weights, exponent = scale_sample_weight(
        check_sample_weight(sample_weight, log_prob.shape[0])
    )

    N = unscale_total(weights.sum(), exponent, "sum of the weights (N)")
    scaled_log_likelihood = np.dot(weights, log_prob)
    log_likelihood = unscale_total(
        scaled_log_likelihood, exponent, "weighted log-likelihood"
    )
    # -2 LL, the deviance at the heart of every criterion, can overflow alone.
    unscale_total(-2.0 * scaled_log_likelihood, exponent, "deviance (-2 LL)")
    n_parameters = int(estimator.n_parameters_)
    information = information_criteria(
        log_likelihood,
        n_parameters,
        N,
        log_sample_size=log_unscaled(weights.sum(), exponent),
    )
    items = _item_tables(estimator)
    n_items = len(items)
    if any(item.probs is None for item in items):
        df = None  # no table of response patterns
    else:
        # A Python int: exact for any number of items.
        n_cells = math.prod(item.probs.shape[1] for item in items)
        df = residual_df(N, n_cells, n_parameters)

    goodness = _goodness_of_fit(estimator, X, items, weights, exponent)
    entropy = unscale_total(
        classification_entropy(resp, weights), exponent, "classification entropy"
    )
    largest, bivariate_note = _largest_bivariate_residuals(
        estimator, X, items, weights, exponent
    )

    item_labels, item_probabilities = _item_rows(estimator, items)
    report = FitReport(
        n_components=len(estimator.weights_),
        n_items=n_items,
        n_samples=int(log_prob.shape[0]),
        sample_size=N,
        log_likelihood=log_likelihood,
        n_parameters=n_parameters,
        **information,
        df=df,
        g_squared=goodness["g_squared"],
        g_squared_p_value=_p_value(goodness["g_squared"], df),
        chi_squared=goodness["chi_squared"],
        chi_squared_p_value=_p_value(goodness["chi_squared"], df),
        n_complete=goodness["n_complete"],
        n_patterns=goodness["n_patterns"],
        fit_statistics_note=goodness["note"],
        relative_entropy=relative_entropy(resp, weights),
        class_weights=tuple(float(w) for w in estimator.weights_),
        modal_class_proportions=tuple(
            float(share) for share in modal_proportions(resp, weights)
        ),
        item_labels=item_labels,
        item_probabilities=item_probabilities,
        converged=bool(estimator.converged_),
        n_iter=int(estimator.n_iter_),
        model=type(estimator).__name__,
        icl_bic=information["bic"] + 2.0 * entropy,
        average_posteriors=tuple(
            tuple(float(p) for p in row) for row in average_posteriors(resp, weights)[0]
        ),
        classification_error=classification_error(resp, weights),
        largest_bivariate_residuals=largest,
        bivariate_residuals_note=bivariate_note,
        **_standard_error_fields(estimator, items, standard_errors),
    )
    return _in_class_order(report, class_order)


def _standard_error_fields(estimator, items, standard_errors):
    """The report's standard-error fields, laid out as its class and item rows.

    ``standard_errors`` is a :class:`skcoinmix.inference.StandardErrors` (or
    anything with ``weights``, ``probs`` and ``method``); None gives no field.
    """
    if standard_errors is None:
        return {}
    K = len(estimator.weights_)
    weights = np.asarray(standard_errors.weights, dtype=np.float64)
    rows = _standard_error_rows(estimator, items, standard_errors.probs)
    expected = np.shape(_item_rows(estimator, items)[1])
    if weights.shape != (K,) or rows is None or rows.shape != expected:
        raise ValueError(
            "standard_errors are not shaped as this estimator's parameters: "
            "compute them with skcoinmix.inference.standard_errors(estimator, "
            "X, sample_weight=...) for the same fitted estimator."
        )
    return dict(
        class_weight_se=tuple(float(w) for w in weights),
        item_probability_se=tuple(tuple(float(se) for se in row) for row in rows),
        se_method=str(standard_errors.method),
    )


def _standard_error_rows(estimator, items, probs):
    """Standard errors shaped as the item probabilities, as the report's rows.

    Returns
    -------
    rows : ndarray of shape (K, rows) or None
        Laid out as :func:`_item_rows` lays out the probabilities; None when
        ``probs`` is not shaped as the estimator's item probabilities.
    """
    if items and items[0].headline is None:  # one row per category
        if not isinstance(probs, list | tuple) or len(probs) != len(items):
            return None
        blocks = [np.asarray(block, dtype=np.float64) for block in probs]
        if any(
            block.shape != item.probs.shape
            for block, item in zip(blocks, items, strict=True)
        ):
            return None
        return np.hstack(blocks)
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != len(items):
        return None
    params = estimator.get_params(deep=False)
    if "tie_features" in params and estimator._fitted_param("tie_features"):
        return probs[:, :1]  # one probability per class, repeated per feature
    return probs


#: The fields of :class:`FitReport` with one entry per class, in class order:
#: :func:`_in_class_order` permutes them (a new per-class field belongs here).
PER_CLASS_FIELDS = (
    "class_weights",
    "modal_class_proportions",
    "item_probabilities",
    "class_weight_se",
    "item_probability_se",
)

#: The report lists this many of the largest bivariate residuals.
N_LARGEST_RESIDUALS = 5

#: Bivariate residuals are computed for at most this many items (their cost
#: grows as the square of the number of items).
MAX_ITEMS_BIVARIATE = 100


def _in_class_order(report, class_order):
    """The report with its per-class fields in ``class_order`` (see ``fit_report``)."""
    order = _class_order(class_order, report.class_weights, report.item_probabilities)
    reordered = {
        name: tuple(getattr(report, name)[k] for k in order)
        for name in PER_CLASS_FIELDS
        if getattr(report, name) is not None
    }
    if report.average_posteriors is not None:  # classes on both axes
        table = np.asarray(report.average_posteriors)[np.ix_(order, order)]
        reordered["average_posteriors"] = tuple(tuple(row) for row in table.tolist())
    return replace(report, **reordered, class_order=tuple(int(k) for k in order))


def _class_order(class_order, class_weights, item_probabilities):
    """The component of each class in turn, for ``class_order`` (see ``fit_report``).

    Parameters
    ----------
    class_order : {"fitted", "size"} or array-like of int
    class_weights : array-like of shape (K,)
    item_probabilities : array-like of shape (K, rows)
        The report's item rows: ties in size are broken by them.

    Returns
    -------
    order : ndarray of shape (K,), int
    """
    K = len(class_weights)
    if isinstance(class_order, str) and class_order == "fitted":
        return np.arange(K)
    if isinstance(class_order, str) and class_order == "size":
        # Decreasing size; ties by decreasing item probabilities, first item
        # first (lexsort's last key is its primary one).
        probs = np.asarray(item_probabilities, dtype=np.float64)
        keys = [-probs[:, c] for c in reversed(range(probs.shape[1]))]
        return np.lexsort([*keys, -np.asarray(class_weights, dtype=np.float64)])
    try:
        order = np.asarray(class_order)
        valid = order.dtype.kind in "iu" and np.array_equal(
            np.sort(order), np.arange(K)
        )
    except (TypeError, ValueError):  # pragma: no cover - ragged input
        valid = False
    if isinstance(class_order, str) or not valid:
        raise ValueError(
            "class_order must be 'fitted', 'size' or a permutation of "
            f"range({K}) (the component of each class in turn), got "
            f"{class_order!r}."
        )
    return order


def _largest_bivariate_residuals(estimator, X, items, weights, exponent):
    """The report's largest bivariate residuals, and why none when none.

    Returns
    -------
    largest : tuple of (str, str, float, int), or None
    note : str or None
    """
    if len(items) < 2:
        return None, "bivariate residuals not computed (a single item)"
    if len(items) > MAX_ITEMS_BIVARIATE:
        return None, (
            f"bivariate residuals not computed (more than {MAX_ITEMS_BIVARIATE} "
            "items; skcoinmix.inference.bivariate_residuals computes them)"
        )
    if any(item.probs is None for item in items):
        return None, "bivariate residuals not computed (the trials vary per entry)"
    try:
        residuals = _bivariate_residuals(estimator, X, items, weights, exponent)
    except _NoTable as reason:
        return None, f"bivariate residuals not computed ({reason})"
    sizes = [item.probs.shape[1] for item in items]
    pairs = [
        (residuals[j, m], j, m)
        for j in range(len(items))
        for m in range(j + 1, len(items))
        if not np.isnan(residuals[j, m])
    ]
    # Largest first; ties in the items' order.
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    largest = tuple(
        (
            items[j].label,
            items[m].label,
            float(value),
            (sizes[j] - 1) * (sizes[m] - 1),
        )
        for value, j, m in pairs[:N_LARGEST_RESIDUALS]
    )
    return largest, None


def _check_mixture(estimator):
    """Refuse anything but a skcoinmix mixture, saying what was passed."""
    if isinstance(estimator, BaseMixtureEM):
        return
    if isinstance(estimator, type):
        got = f"the class {estimator.__name__} (not an instance: fit one first)"
    else:
        got = f"a {type(estimator).__name__}"
    raise TypeError(
        "fit_report needs a fitted skcoinmix mixture (a model of this library, "
        f"e.g. skcoinmix.BernoulliMixtureEM), but got {got}."
    )


# ---------------------------------------------------------------- helpers
def _goodness_of_fit(estimator, X, items, weights, exponent=0):
    """G², X², the weighted number of complete rows, patterns, and a note.

    ``X`` is the data as given to :func:`fit_report` (``score_samples``
    accepted it); ``items`` the estimator's item tables. ``weights`` are the
    sample weights times ``2**-exponent``: G², X² and the counts scale with
    the weights, and are scaled back.

    Returns
    -------
    goodness : dict
        ``"g_squared"``, ``"chi_squared"`` (float or None), ``"n_complete"``
        (float), ``"n_patterns"`` (int or None), ``"note"`` (str or None).
    """
    validated = _validated(X, estimator)
    n_items = len(items)
    total = float(weights.sum())
    goodness = {"g_squared": None, "chi_squared": None, "n_patterns": None}
    if n_items > MAX_ITEMS_FIT_STATISTICS:
        note = (
            f"G-squared and chi-squared not computed (more than "
            f"{MAX_ITEMS_FIT_STATISTICS} items)"
        )
        n_complete = np.dot(weights, _complete_rows(validated))
        n_complete = unscale_total(n_complete, exponent, "number of complete rows")
        return {**goodness, "n_complete": n_complete, "note": note}

    n_complete = np.dot(weights, _complete_rows(validated))
    n_complete = unscale_total(n_complete, exponent, "number of complete rows")
    if any(item.probs is None for item in items):
        note = "G-squared and chi-squared not computed (the trials vary per entry)"
        return {**goodness, "n_complete": n_complete, "note": note}
    n_categories = [item.probs.shape[1] for item in items]
    if math.prod(n_categories) > 2**62:
        note = "G-squared and chi-squared not computed (too many response patterns)"
        return {**goodness, "n_complete": n_complete, "note": note}
    try:
        codes, complete = pattern_codes(
            validated, lambda block: _category_codes(estimator, block), n_categories
        )
    except _NoTable as reason:
        note = f"G-squared and chi-squared not computed ({reason})"
        return {**goodness, "n_complete": n_complete, "note": note}
    n_complete = float(np.dot(weights, complete))
    note = None
    if n_complete != total:
        note = _missing_note(
            unscale_total(n_complete, exponent, "number of complete rows"),
            unscale_total(total, exponent, "sum of the weights (N)"),
        )
    if n_complete == 0:
        return {**goodness, "n_complete": n_complete, "note": note}
    _, observed, expected = _pattern_table(
        estimator, X, validated, codes, complete, weights
    )
    n_cells = math.prod(n_categories)
    chi_squared = pearson_chi_squared(observed, expected, n_complete, n_cells)
    return {
        "g_squared": unscale_total(
            g_squared(observed, expected), exponent, "G-squared statistic"
        ),
        "chi_squared": unscale_total(chi_squared, exponent, "chi-squared statistic"),
        "n_patterns": int(observed.shape[0]),
        "n_complete": unscale_total(n_complete, exponent, "number of complete rows"),
        "note": note,
    }


def _pattern_table(estimator, X, validated, codes, complete, weights):
    """The observed response patterns of the complete rows, and their expected counts.

    ``codes`` and ``complete`` are :func:`pattern_codes` of ``validated``.

    Returns
    -------
    first : ndarray of shape (m,), int
        A row of ``X`` with each pattern.
    observed : ndarray of shape (m,)
        The summed weights of the complete rows with each pattern (positive).
    expected : ndarray of shape (m,)
        ``N_complete p(s)``, with ``N_complete`` the summed weights of the
        complete rows.
    """
    rows = np.flatnonzero(complete)
    _, observed, first = pattern_counts(codes[rows], weights[rows])
    # p(s) is the model's density of any row with pattern s: the estimator
    # scores one row of each observed pattern itself.
    log_prob = estimator.score_samples(_rows_of(X, validated, rows[first]))
    # As poLCA: the expected counts of the complete rows' table, N_complete p(s).
    expected = float(np.dot(weights, complete)) * np.exp(log_prob)
    return rows[first], observed, expected


def _check_tables(items, what):
    """Refuse items without a table of categories (counts with varying trials)."""
    if any(item.probs is None for item in items):
        raise ValueError(
            f"{what} reads every item as a table of categories, but the trials "
            "vary per entry (n_trials='paired'), so the model implies no such "
            "table. Fit BinomialMixtureEM with a fixed n_trials to use it."
        )


def _two_way_counts(estimator, X, items, weights):
    """The observed two-way tables of every pair of items, in the one-hot layout.

    ``X`` is the data as :func:`fit_report` takes them (``score_samples``
    accepted them); ``items`` the estimator's item tables, each with a table
    of categories (see :func:`_check_tables`).

    Returns
    -------
    observed : ndarray of shape (C, C)
        ``Z^T W Z`` for the one-hot rows ``Z`` (missing answers all 0), so
        the block of items ``j`` and ``l`` is their table over the rows
        observing both.
    offsets : ndarray of shape (J + 1,)
        Where each item's categories start among the ``C`` columns.

    Raises
    ------
    _NoTable
        For counts that are not whole numbers.
    """
    validated = _validated(X, estimator)
    sizes = [item.probs.shape[1] for item in items]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
    observed = np.zeros((offsets[-1], offsets[-1]))
    # Row blocks, densified one at a time (sparse data included), as for the
    # response patterns.
    step = max(1, BLOCK_ENTRIES // max(1, len(items)))
    for start in range(0, validated.shape[0], step):
        block = validated[start : start + step]
        block = block.toarray() if sp.issparse(block) else np.asarray(block)
        one_hot = one_hot_rows(*_category_codes(estimator, block), offsets)
        weighted = one_hot.multiply(weights[start : start + step, np.newaxis])
        observed += (one_hot.T @ weighted.tocsr()).toarray()
    return observed, offsets


def _bivariate_residuals(estimator, X, items, weights, exponent=0):
    """The (J, J) bivariate residuals of the fitted model on ``X``.

    ``weights`` are the sample weights times ``2**-exponent``; the Pearson
    statistics are scaled back. Raises :class:`_NoTable` as
    :func:`_two_way_counts`.
    """
    observed, offsets = _two_way_counts(estimator, X, items, weights)
    probs = np.hstack([item.probs for item in items])
    residuals = bivariate_residuals_of_tables(
        observed, np.asarray(estimator.weights_, dtype=np.float64), probs, offsets
    )
    return np.ldexp(residuals, exponent)


def _rows_of(X, validated, indices):
    """Rows of the data, named as ``X``'s columns are, so ``score_samples`` takes them.

    A data frame keeps its type (and column names: an estimator fitted with
    feature names warns about unnamed data); other data are taken from the
    validated array, which every storage format has become.
    """
    if _get_feature_names(X) is not None:
        return _safe_indexing(X, indices)
    return validated[indices]


def _validated(X, estimator=None):
    """``X`` as an ndarray or CSR matrix, NaN kept (score_samples validated it).

    Category labels (strings, objects) are kept as they are for a model with
    ``categories_``.
    """
    if sp.issparse(X):
        return X.tocsr()
    if hasattr(estimator, "categories_"):
        return check_array(X, dtype=None, ensure_all_finite=False, input_name="X")
    return check_array(
        X, dtype="numeric", ensure_all_finite="allow-nan", input_name="X"
    )


def _complete_rows(X):
    """Which rows have no NaN, shape (n,) bool (sparse data never miss)."""
    if sp.issparse(X) or X.dtype.kind not in "fO":
        return np.ones(X.shape[0], dtype=bool)
    # Row blocks, so that no n x d temporary is made for wide data.
    step = max(1, BLOCK_ENTRIES // X.shape[1])
    return np.concatenate(
        [
            ~missing_mask(X[start : start + step]).any(axis=1)
            for start in range(0, X.shape[0], step)
        ]
    )


def _missing_note(n_complete, sample_size):
    if n_complete == 0:
        return "G-squared and chi-squared not computed (every row has a missing answer)"
    return (
        f"G-squared and chi-squared use the {_number(n_complete)} complete rows "
        f"of {_number(sample_size)} (rows with a missing answer are left out)"
    )


def _p_value(statistic, df):
    if statistic is None or df is None or df <= 0:
        return None
    return float(chi2.sf(statistic, df))


class _ItemTable(NamedTuple):
    """One item in the form shared by every model: its categories' probabilities.

    ``values`` are the answers the categories stand for, and ``probs[k, c]``
    is the probability of category ``c`` in class ``k``: each row sums to 1.
    """

    label: str
    values: tuple
    probs: np.ndarray
    #: The probability the report prints for the item, (K,): of a 1 for a
    #: binary item, of a success per trial for counts.
    headline: np.ndarray


def _item_tables(estimator):
    """Every item of the fitted model as an :class:`_ItemTable`, in feature order.

    The one place that reads a model's item parameters. A binary item
    (``means_``, ``θ`` the probability of a 1) is the table ``[1 - θ, θ]``
    of the answers 0 and 1.
    """
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        names = [f"item {j}" for j in range(estimator.n_features_in_)]
    labels = [str(name) for name in names]
    params = estimator.get_params(deep=False)
    if "categories" in params:  # polytomous items: their own categories
        return [
            _ItemTable(label, tuple(values.tolist()), probs, None)
            for label, values, probs in zip(
                labels, estimator.categories_, estimator.probs_, strict=True
            )
        ]
    means = np.asarray(estimator.means_, dtype=np.float64)
    if "binarize" in params:  # binary items
        return [
            _ItemTable(label, (0, 1), np.column_stack([1.0 - theta, theta]), theta)
            for label, theta in zip(labels, means.T, strict=True)
        ]
    if "n_trials" in params:  # counts out of n trials
        trials = estimator.n_trials_
        if trials is None:  # paired: the trials vary per entry, no table
            return [
                _ItemTable(label, None, None, theta)
                for label, theta in zip(labels, means.T, strict=False)
            ]
        tables = []
        for label, theta, n in zip(labels, means.T, trials, strict=True):
            values = np.arange(int(n) + 1)
            probs = binom.pmf(values, int(n), theta[:, np.newaxis])
            tables.append(_ItemTable(label, tuple(values.tolist()), probs, theta))
        return tables
    raise TypeError(
        f"fit_report does not know the items of a {type(estimator).__name__}: "
        "it reports models whose items take categories (binary items of "
        "skcoinmix.BernoulliMixtureEM, counts of skcoinmix.BinomialMixtureEM)."
    )


class _NoTable(Exception):
    """The data have no table of response patterns (a note says why)."""


def _category_codes(estimator, block):
    """The category index of each entry of a dense block of validated rows.

    The one place that knows how a model codes its data, for the table of
    response patterns: binary items are 1 above the estimator's
    ``binarize``, as ``score_samples`` binarises them; a count is its own
    category. Returns ``(codes, missing)`` as :func:`binary_codes`.

    Raises
    ------
    _NoTable
        For counts that are not whole numbers.
    """
    params = estimator.get_params(deep=False)
    if "binarize" in params:
        return binary_codes(block, params["binarize"])
    if "categories" in params:
        return _codes_of_categories(block, estimator.categories_)
    missing = np.isnan(block) if block.dtype.kind == "f" else None
    values = np.where(missing, 0, block) if missing is not None else block
    if np.any(values != np.round(values)):
        raise _NoTable("counts that are not whole numbers")
    return values.astype(np.int64), missing


def _codes_of_categories(block, categories):
    """Each entry's index among its item's ``categories``; missing (or unknown) as missing."""
    missing = missing_mask(block)
    codes = np.zeros(block.shape, dtype=np.int64)
    for j, values in enumerate(categories):
        observed = ~missing[:, j]
        column = block[observed, j]
        positions = np.minimum(np.searchsorted(values, column), len(values) - 1)
        known = values[positions] == column
        codes[np.flatnonzero(observed)[known], j] = positions[known]
        missing[np.flatnonzero(observed)[~known], j] = True
    return codes, missing


def category_row_label(item, category):
    """The label of a category's row in the item table: ``"PURPOSE = 1"``.

    Also used by the command line, which names the items after the columns
    of its file.
    """
    return f"{item} = {category}"


def _item_rows(estimator, items):
    """The report's item rows: labels and ``Pr(item = 1 | class)``, shape (K, rows).

    One row, ``"all items (tied)"``, when the model ties its features (they
    share one probability per class).
    """
    if items and items[0].headline is None:  # one row per category
        labels = tuple(
            category_row_label(item.label, value)
            for item in items
            for value in item.values
        )
        rows = np.hstack([item.probs for item in items])  # (K, sum_j C_j)
        return labels, tuple(tuple(float(p) for p in row) for row in rows)
    ones = [item.headline for item in items]
    params = estimator.get_params(deep=False)
    # The fitted value: set_params may have changed the parameter since.
    if "tie_features" in params and estimator._fitted_param("tie_features"):
        return ("all items (tied)",), tuple((float(p),) for p in ones[0])
    labels = tuple(item.label for item in items)
    rows = np.column_stack(ones)  # (K, J)
    return labels, tuple(tuple(float(p) for p in row) for row in rows)


def _plain(value):
    """Plain Python types for JSON: tuples to lists, numpy scalars to Python."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


# ------------------------------------------------------------------- text
def _number(value):
    """A count: no decimals when whole (weighted counts may be fractional)."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.4f}"


def _format_report(report):
    """The lines of ``str(report)``."""
    K = report.n_components
    lines = [
        f"Latent class model: {K} class{'es' if K != 1 else ''}, "
        f"{report.n_items} item{'s' if report.n_items != 1 else ''}, "
        f"{report.model}",
        f"EM converged after {report.n_iter} iterations."
        if report.converged
        else f"WARNING: EM did not converge ({report.n_iter} iterations).",
        "",
    ]
    classes = [f"class {k + 1}" for k in range(K)]
    lines += _table(
        "Class sizes",
        ["", *classes],
        [
            ["estimated (weights_)", *report.class_weights],
            *(
                [["standard error", *report.class_weight_se]]
                if report.class_weight_se is not None
                else []
            ),
            ["modal assignment", *report.modal_class_proportions],
        ],
    )
    if report.average_posteriors is not None and K > 1:
        lines += _table(
            "Average posterior probabilities by most likely class (Mplus)",
            ["most likely", *classes],
            [
                [f"class {k + 1}", *row]
                for k, row in enumerate(report.average_posteriors)
            ],
        )
    title = {
        "BinomialMixtureEM": "Success probability per trial, by item and class",
        "CategoricalMixtureEM": "Item-response probabilities, "
        "Pr(item = category | class)",
    }.get(report.model, "Item-response probabilities, Pr(item = 1 | class)")
    lines += _item_table(title, report.item_labels, report.item_probabilities)
    if report.item_probability_se is not None:
        lines += _item_table(
            f"Standard errors ({SE_METHODS.get(report.se_method, report.se_method)}"
            "; nan: on the boundary)",
            report.item_labels,
            report.item_probability_se,
        )
    lines += _fit_lines(report)
    lines += _bivariate_lines(report)
    return lines


#: How each method of skcoinmix.inference.standard_errors is named in the text.
SE_METHODS = {
    "opg": "outer product of the scores, as poLCA",
    "hessian": "observed information",
}


def _item_table(title, labels, per_class_rows):
    """A table of one row per item label and one column per class."""
    classes = [f"class {k + 1}" for k in range(len(per_class_rows))]
    columns = zip(*per_class_rows, strict=True)
    return _table(
        title,
        ["item", *classes],
        [[label, *column] for label, column in zip(labels, columns, strict=True)],
    )


def _bivariate_lines(report):
    """The largest bivariate residuals, with how to read them."""
    if report.largest_bivariate_residuals is None:
        if report.bivariate_residuals_note is None:
            return []
        return ["", f"Note: {report.bivariate_residuals_note}."]
    rows = [
        (f"{a} - {b}", f"{value:.4f}", f"{df}")
        for a, b, value, df in report.largest_bivariate_residuals
    ]
    header = ("pair of items", "BVR", "df")
    widths = [max(len(row[c]) for row in [header, *rows]) for c in range(3)]
    lines = [
        "",
        "Largest bivariate residuals (Pearson chi-squared / df of each two-way table)",
    ]
    for row in [header, *rows]:
        lines.append(
            f"  {row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}"
        )
    lines.append(
        "  Values above 3.84 flag possible local dependence by a rule of thumb: "
        "they are not chi-square tests (Oberski et al., 2013)."
    )
    return lines


def _fit_lines(report):
    """The "Fit" block: label, right-aligned value, and a p-value when known."""
    rows = [
        ("number of rows", f"{report.n_samples}", None),
        ("number of observations (N)", _number(report.sample_size), None),
    ]
    if report.n_complete != report.sample_size:
        rows.append(("number of complete rows", _number(report.n_complete), None))
    rows += [
        ("number of free parameters", f"{report.n_parameters}", None),
        (
            "residual degrees of freedom",
            "-" if report.df is None else _number(report.df),
            None,
        ),
        ("maximum log-likelihood", f"{report.log_likelihood:.4f}", None),
        ("AIC", f"{report.aic:.4f}", None),
        ("BIC", f"{report.bic:.4f}", None),
        ("sample-size adjusted BIC", f"{report.sabic:.4f}", None),
    ]
    if report.caic is not None:
        rows.append(("CAIC", f"{report.caic:.4f}", None))
    if report.icl_bic is not None:
        rows.append(("ICL-BIC", f"{report.icl_bic:.4f}", None))
    for label, value, p_value in [
        ("G-squared (likelihood ratio)", report.g_squared, report.g_squared_p_value),
        ("Pearson chi-squared", report.chi_squared, report.chi_squared_p_value),
    ]:
        text = "not computed" if value is None else f"{value:.4f}"
        rows.append((label, text, p_value))
    if report.n_patterns is not None:
        rows.append(("observed response patterns", f"{report.n_patterns}", None))
    rows.append(("relative entropy", f"{report.relative_entropy:.4f}", None))
    if report.classification_error is not None:
        rows.append(
            (
                "expected classification error",
                f"{report.classification_error:.4f}",
                None,
            )
        )

    label_width = max(len(label) for label, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    lines = ["Fit"]
    for label, value, p_value in rows:
        line = f"  {label:<{label_width}}  {value:>{value_width}}"
        lines.append(line if p_value is None else f"{line}  (p = {p_value:.4f})")
    if report.fit_statistics_note is not None:
        lines.append(f"  Note: {report.fit_statistics_note}.")
    # poLCA's alerts about models too large for the data.
    if report.df is not None and report.df < 0:
        lines.append(
            "  WARNING: negative degrees of freedom: more free parameters than "
            "free cells or observations."
        )
    return lines


def _table(title, header, rows):
    """A titled table: a left-aligned label column, then 4-decimal numbers."""
    cells = [[row[0], *(f"{value:.4f}" for value in row[1:])] for row in rows]
    widths = [
        max(len(line[col]) for line in [header, *cells]) for col in range(len(header))
    ]

    def render(line):
        texts = [f"{line[0]:<{widths[0]}}"]
        texts += [
            f"{text:>{width}}" for text, width in zip(line[1:], widths[1:], strict=True)
        ]
        return ("  " + "  ".join(texts)).rstrip()

    return [title, render(header), *(render(line) for line in cells), ""]
