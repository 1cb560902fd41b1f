"""The parametric bootstrap likelihood-ratio test of K - 1 against K classes.

McLachlan (1987); Nylund, Asparouhov & Muthen (2007); Mplus's TECH14. The
replicates are drawn by :mod:`skcoinmix.inference._replicates`; this module
fits, refits and counts.
"""

# SPDX-License-Identifier: BSD-3-Clause

import sys
import warnings
from dataclasses import dataclass
from numbers import Integral
from time import perf_counter

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from .. import _backends
from .._bernoulli import BernoulliMixtureEM
from .._binomial import BinomialMixtureEM
from .._categorical import CategoricalMixtureEM
from .._validation import check_sample_weight
from ._replicates import plan_replicates

__all__ = ["BootstrapLRTResult", "bootstrap_lrt"]

#: The models whose replicates :mod:`._replicates` knows how to draw.
SUPPORTED = (BernoulliMixtureEM, BinomialMixtureEM, CategoricalMixtureEM)

#: Starting values given to the estimator (``means_init``...): they belong to
#: its K classes and its data, so the refits start from ``init_params``.
START_PARAMS = ("weights_init", "means_init", "probs_init")

#: Seconds between two progress lines of a long run (``verbose=1``).
PROGRESS_INTERVAL = 30.0


@dataclass(frozen=True, repr=False)
class BootstrapLRTResult:
    """The parametric bootstrap likelihood-ratio test of K - 1 against K classes.

    Made by :func:`bootstrap_lrt`.

    Attributes
    ----------
    statistic : float
        ``T = 2 (l_K - l_{K-1})``, twice the difference of the total
        (weighted) log-likelihoods of the K-class estimator and of the
        (K - 1)-class model fitted to the data.
    pvalue : float
        ``(1 + #{T* >= T}) / (B + 1)``: at least ``1 / (B + 1)``.
    bootstrap_statistics : ndarray of shape (n_bootstrap,)
        ``T*`` of every replicate, in the order of the replicates' seeds:
        the bootstrap distribution of the statistic under K - 1 classes.
    log_likelihood : float
        ``l_K``, the K-class estimator's total log-likelihood of ``X``.
    null_log_likelihood : float
        ``l_{K-1}``, the (K - 1)-class model's.
    n_components : int
        ``K``, the number of classes tested.
    n_bootstrap : int
        ``B``, the number of replicates.
    n_not_converged : int
        How many of the ``2 B`` refits on replicates stopped at
        ``max_iter`` before converging.
    null_estimator : estimator
        The (K - 1)-class model fitted to ``X``, whose replicates were drawn.
    """

    statistic: float
    pvalue: float
    bootstrap_statistics: np.ndarray
    log_likelihood: float
    null_log_likelihood: float
    n_components: int
    n_bootstrap: int
    n_not_converged: int
    null_estimator: object

    def __repr__(self):
        return (
            f"BootstrapLRTResult(n_components={self.n_components}, "
            f"statistic={self.statistic:.6g}, pvalue={self.pvalue:.6g}, "
            f"n_bootstrap={self.n_bootstrap})"
        )


@validate_params(
    {
        "estimator": "no_validation",  # _check_supported says what is expected
        "X": ["array-like", "sparse matrix"],
        "n_bootstrap": [Interval(Integral, 1, None, closed="left")],
        "sample_weight": ["array-like", None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def bootstrap_lrt(
    estimator,
    X,
    *,
    n_bootstrap,
    sample_weight=None,
    random_state=None,
    n_jobs=None,
    verbose=1,
):
    """Test K - 1 against K classes by the parametric bootstrap likelihood ratio.

    The bootstrap likelihood-ratio test (BLRT) of McLachlan (1987), Mplus's
    TECH14: is the fitted K-class ``estimator`` better than K - 1 classes by
    more than chance? The (K - 1)-class model is fitted to ``X``; ``B``
    data sets are drawn from it, each keeping the design of ``X`` (every
    row's missingness pattern); both a (K - 1)- and a K-class model are
    refitted to each, with the estimator's settings and restarts; the
    statistic ``T = 2 (l_K - l_{K-1})`` of ``X`` is compared with the
    ``T*`` of the replicates.

    Parameters
    ----------
    estimator : fitted BernoulliMixtureEM, BinomialMixtureEM or \
CategoricalMixtureEM
        The K-class model, with K >= 2, fitted to ``X``. Its settings
        (``n_init``, ``tol``, ``max_iter``, ``init_params``, ``alpha``...)
        are those of every refit; starting values (``means_init``,
        ``probs_init``, ``weights_init``) are not used by the refits.

    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data ``estimator`` was fitted to, as it was passed to ``fit``
        (a pandas DataFrame too). NaN (or None for categories) marks a
        missing answer.

    n_bootstrap : int
        ``B``, the number of replicates. The smallest p-value is
        ``1 / (B + 1)``: 19 can reject at 5%, 99 or more estimate a
        p-value near 0.05 to about +-0.02.

    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights, which must be whole numbers: row ``i`` stands
        for ``sample_weight[i]`` people, and every replicate has
        ``sum(sample_weight)`` unweighted rows, ``sample_weight[i]`` of
        them with row ``i``'s missingness pattern.

    random_state : int, RandomState instance or None, default=None
        Controls everything random: the seed of the (K - 1)-class fit and
        of each replicate (drawn up front, so results are the same for any
        ``n_jobs``), from which the replicate's data and its two refits'
        seeds are drawn. The estimator's own ``random_state`` is not used.

    n_jobs : int, default=None
        The number of replicates drawn and refitted in parallel through
        joblib (``None`` means 1 unless in a :obj:`joblib.parallel_backend`
        context; -1 means all processors). With ``n_jobs`` other than
        ``None`` and 1 the refits run their restarts one after another;
        otherwise with the estimator's ``n_jobs``.

    verbose : int, default=1
        Progress on stderr: 0 never; 1 a line every 30 seconds for a run
        that lasts longer (short runs print nothing); 2 a line per
        replicate.

    Returns
    -------
    result : BootstrapLRTResult
        ``statistic``, ``pvalue``, ``bootstrap_statistics`` and the two
        log-likelihoods.

    Raises
    ------
    ValueError
        If the estimator has one class (there is nothing to test), if
        ``sample_weight`` holds fractions, or if its weights are fixed
        (``fit_weights=False``) at ``weights_init``, which leaves the
        (K - 1)-class model undefined.
    TypeError
        If ``estimator`` is a mixture without a known way to simulate it,
        or ``X`` a dask array.

    Warns
    -----
    ConvergenceWarning
        If some refits on the replicates did not converge (counted in
        ``n_not_converged``); the (K - 1)-class fit to ``X`` warns as
        ``fit`` does.

    See Also
    --------
    classification_table : How well the K classes are told apart.

    Notes
    -----
    **What is drawn.** Every replicate has as many rows as ``X`` (or
    ``sum(sample_weight)``): a class for each row drawn with the (K - 1)
    model's weights, then each observed answer given the class; a missing
    entry of row ``i`` is missing in row ``i`` of every replicate. For
    :class:`~skcoinmix.CategoricalMixtureEM` the replicates hold category
    codes and the refits are given every category of the estimator (a
    category a replicate does not draw still has its parameters, so every
    refit has the same number of parameters). For
    :class:`~skcoinmix.BernoulliMixtureEM` the replicates are 0/1 and the
    refits do not binarise. :class:`~skcoinmix.BinomialMixtureEM` works
    with fixed ``n_trials`` (an int or one per feature: counts are drawn out
    of them) and with ``n_trials="paired"``, where every entry keeps its
    trials (successes + failures, whole numbers) and its successes are
    drawn.

    **The statistic** uses total log-likelihoods (``score_samples``
    summed with the weights); with ``alpha > 0`` the fits maximise a
    posterior, and the test is then an approximation. ``T`` can be
    negative when the estimator's fit is worse than the (K - 1)-class one:
    fit it with more restarts.

    **Cost**: ``2 B + 1`` fits, each with the estimator's ``n_init``
    restarts. The test assumes the refits find the maximum likelihood; as
    Nylund et al. (2007) and Mplus advise, give the estimator enough
    restarts, and check that the p-value does not change with more.

    References
    ----------
    G. J. McLachlan, "On bootstrapping the likelihood ratio test statistic
    for the number of components in a normal mixture", Applied Statistics
    36, 318-324 (1987).

    K. L. Nylund, T. Asparouhov and B. O. Muthen, "Deciding on the number
    of classes in latent class analysis and growth mixture modeling: a
    Monte Carlo simulation study", Structural Equation Modeling 14,
    535-569 (2007).

    Examples
    --------
    >>> import numpy as np
    >>> from skcoinmix import BernoulliMixtureEM
    >>> from skcoinmix.inference import bootstrap_lrt
    >>> rng = np.random.default_rng(0)
    >>> means = np.array([[0.9, 0.9, 0.9, 0.1], [0.1, 0.1, 0.2, 0.9]])
    >>> X = (rng.random((100, 4)) < means[rng.integers(2, size=100)]) * 1.0
    >>> est = BernoulliMixtureEM(2, random_state=0).fit(X)
    >>> result = bootstrap_lrt(est, X, n_bootstrap=19, random_state=0)
    >>> result.pvalue  # the smallest possible: 1 / (19 + 1)
    0.05
    >>> bool(result.statistic > result.bootstrap_statistics.max())
    True
    """
    _check_supported(estimator)
    check_is_fitted(estimator)
    if _backends.is_dask_array(X):
        raise TypeError(
            "bootstrap_lrt draws and refits replicates in memory and does not "
            "take a dask array: pass X.compute()."
        )
    n_components = len(estimator.weights_)
    if n_components < 2:
        raise ValueError(
            "bootstrap_lrt tests K - 1 against K classes, but the estimator has "
            "K = 1 class: there is no model with 0 classes to test against. "
            "Fit it with n_components >= 2."
        )
    repeats = _integer_weights(sample_weight, _num_rows(X))

    random_state = check_random_state(random_state)
    # Every seed is drawn up front: the same results for any n_jobs.
    seeds = random_state.randint(np.iinfo(np.int32).max, size=n_bootstrap + 1)
    parallel = n_jobs not in (None, 1)
    null = _refit_template(estimator, n_components - 1, parallel)
    null.set_params(random_state=int(seeds[0]))
    null.fit(X, sample_weight=sample_weight)

    weights = None if repeats is None else repeats.astype(np.float64)
    log_likelihood = _total_log_likelihood(estimator, X, weights)
    null_log_likelihood = _total_log_likelihood(null, X, weights)
    statistic = 2.0 * (log_likelihood - null_log_likelihood)

    plan = plan_replicates(null, X, repeats)
    templates = [
        _refit_template(estimator, K, parallel).set_params(**plan.refit_params)
        for K in (n_components - 1, n_components)
    ]
    runs = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_replicate_statistic)(plan.simulate, templates, seed)
        for seed in seeds[1:]
    )
    bootstrap_statistics = np.empty(n_bootstrap)
    n_not_converged = 0
    progress = _Progress(n_bootstrap, verbose)
    for b, (replicate_statistic, converged) in enumerate(runs):
        bootstrap_statistics[b] = replicate_statistic
        n_not_converged += converged.count(False)
        progress.update(b + 1)

    if n_not_converged:
        warnings.warn(
            f"{n_not_converged} of the {2 * n_bootstrap} refits on bootstrap "
            "replicates did not converge; the bootstrap distribution may be "
            "off. Increase max_iter (or tol) of the estimator.",
            ConvergenceWarning,
            stacklevel=3,  # the caller of validate_params' wrapper
        )
    exceeding = int(np.count_nonzero(bootstrap_statistics >= statistic))
    return BootstrapLRTResult(
        statistic=float(statistic),
        pvalue=(1 + exceeding) / (n_bootstrap + 1),
        bootstrap_statistics=bootstrap_statistics,
        log_likelihood=float(log_likelihood),
        null_log_likelihood=float(null_log_likelihood),
        n_components=n_components,
        n_bootstrap=int(n_bootstrap),
        n_not_converged=n_not_converged,
        null_estimator=null,
    )


def _replicate_statistic(simulate, templates, seed):
    """``T*`` of one replicate, and whether each of its two refits converged.

    Pure: a function of its arguments, so replicates can run in joblib's
    workers and give the same result anywhere.
    """
    rng = np.random.default_rng(seed)
    X = simulate(rng)
    fit_seeds = rng.integers(np.iinfo(np.int32).max, size=len(templates))
    log_likelihoods, converged = [], []
    for template, fit_seed in zip(templates, fit_seeds, strict=True):
        model = clone(template).set_params(random_state=int(fit_seed))
        with warnings.catch_warnings():
            # Counted, and reported once for the whole run.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X)
        log_likelihoods.append(float(model.score_samples(X).sum()))
        converged.append(bool(model.converged_))
    return 2.0 * (log_likelihoods[1] - log_likelihoods[0]), converged


def _refit_template(estimator, n_components, parallel):
    """An unfitted copy of ``estimator`` with ``n_components``, for the refits."""
    params = {"n_components": n_components, "warm_start": False, "verbose": 0}
    if parallel:
        params["n_jobs"] = None  # the replicates are the parallel work
    settings = estimator.get_params(deep=False)
    for name in START_PARAMS:
        if settings.get(name) is not None:
            params[name] = None
    if (
        not settings.get("fit_weights", True)
        and settings.get("weights_init") is not None
    ):
        raise ValueError(
            "The estimator keeps its mixing weights fixed at weights_init "
            "(fit_weights=False): no model with one class fewer follows from "
            "them, so bootstrap_lrt cannot test it. Fit with fit_weights=True, "
            "or with weights_init=None (fixed uniform weights)."
        )
    return clone(estimator).set_params(**params)


def _total_log_likelihood(estimator, X, weights):
    """``sum_i w_i log p(x_i)`` (unit weights when ``weights`` is None)."""
    log_prob = estimator.score_samples(X)
    return float(log_prob.sum() if weights is None else np.dot(weights, log_prob))


def _integer_weights(sample_weight, n_samples):
    """Frequency weights as int64 counts, or None; fractions are refused."""
    if sample_weight is None:
        return None
    weights = check_sample_weight(sample_weight, n_samples)
    fractional = np.flatnonzero(weights != np.round(weights))
    if fractional.size:
        shown = ", ".join(f"{weights[i]:g} (row {i})" for i in fractional[:3]) + (
            ", ..." if fractional.size > 3 else ""
        )
        raise ValueError(
            "bootstrap_lrt needs frequency weights that are whole numbers: each "
            "replicate has sum(sample_weight) rows, row i's pattern in "
            f"sample_weight[i] of them. Got {shown}. Round the weights, or "
            "expand the data."
        )
    return weights.astype(np.int64)


def _num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _check_supported(estimator):
    if not isinstance(estimator, SUPPORTED):
        names = ", ".join(model.__name__ for model in SUPPORTED)
        raise TypeError(
            f"bootstrap_lrt simulates {names}, but got "
            f"{type(estimator).__name__}, whose replicates it cannot draw."
        )


class _Progress:
    """Progress lines on stderr (see ``verbose`` of :func:`bootstrap_lrt`)."""

    def __init__(self, total, verbose):
        self.total = total
        self.verbose = verbose
        self.start = self.last = perf_counter()

    def update(self, done):
        now = perf_counter()
        if self.verbose >= 2 or (
            self.verbose == 1 and now - self.last >= PROGRESS_INTERVAL
        ):
            elapsed = now - self.start
            left = elapsed / done * (self.total - done)
            print(
                f"bootstrap_lrt: {done}/{self.total} replicates in "
                f"{elapsed:.0f} s, about {left:.0f} s left",
                file=sys.stderr,
                flush=True,
            )
            self.last = now
