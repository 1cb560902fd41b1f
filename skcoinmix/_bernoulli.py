"""Mixtures of multivariate Bernoulli distributions, and of binomials (tied features).

The mathematics lives in small pure functions below; the estimator only wires
them into the EM engine of :mod:`skcoinmix._em`.

Shapes: ``n`` samples, ``d`` features, ``K`` components. ``means`` is
``(K, d)``, or ``(K, 1)`` for tied features, where every feature of a
component shares one probability.
"""

# SPDX-License-Identifier: BSD-3-Clause

import math
import warnings
from dataclasses import dataclass
from numbers import Real

import numpy as np
from scipy.special import betaln, expit
from sklearn.utils._param_validation import Interval

from . import _backends
from ._em import BaseMixtureEM
from ._family import Data, masked_views
from ._validation import (
    check_means_init,
    check_observed_columns,
    check_weights_init,
)

__all__ = ["BernoulliMixtureEM"]

#: Probabilities are kept in [MEAN_BOUND, 1 - MEAN_BOUND], so that no log(0),
#: 0 * inf or NaN can occur whatever the data.
MEAN_BOUND = 1e-10

#: Starting probabilities are smoothed as (ones + 1/2) / (trials + 1)
#: (the Krichevsky-Trofimov estimate), so that a start at a single row is
#: never at exactly 0 or 1.
INIT_SMOOTHING = 0.5


# ---------------------------------------------------------------- encodings
@dataclass(frozen=True)
class BinaryEncoding:
    """How the kernels read 0/1 data (:mod:`skcoinmix._family`).

    ``log p(x_i | k) + log w_k = x_i . coef_k + intercept_k`` with
    ``coef_k = log t_k - log(1 - t_k)`` and
    ``intercept_k = sum_j log(1 - t_kj) + log w_k``: the E-step is one matrix
    product, and the M-step's sums another.

    With missing entries (NaN, dense float data only) the log-likelihood sums
    over the observed entries only (full-information maximum likelihood):
    ``x0_i . coef_k + m_i . log(1 - t_k) + log w_k``, with ``x0`` the data
    with NaN read as 0 and ``m`` the observed mask: two views, two products.

    Attributes
    ----------
    missing : bool
        Whether NaN marks missing entries.
    """

    missing: bool = False
    has_row_term = False

    @property
    def n_views(self):
        """The data, and the observed mask if any entry is missing."""
        return 2 if self.missing else 1

    def n_columns(self, n_features):
        return n_features

    def encode(self, block, buffers):
        """The views of a dense block: itself when it needs no conversion."""
        return masked_views(block, buffers, self.missing)

    def encode_sparse(self, block):
        """Sparse data are 0/1 and complete (NaN is refused): the block itself."""
        return [block]

    def row_term(self, block):
        return None

    def clustering_features(self, X):
        """What k-means clusters: the rows, missing entries as the column mean."""
        X = X.astype(np.float64) if X.dtype != np.float64 else X
        if not self.missing:
            return X
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            column_means = np.nan_to_num(np.nanmean(X, axis=0), nan=0.5)
        return np.where(np.isnan(X), column_means, X)

    def linear_params(self, weights, means):
        """``(coefs, intercept)``: one or two (K, d) arrays, and (K,)."""
        log_one_minus = np.log1p(-means)
        coef = np.log(means) - log_one_minus
        if self.missing:
            return (coef, log_one_minus), safe_log(weights)
        return (coef,), log_one_minus.sum(axis=1) + safe_log(weights)

    def stats(self, resp_sum, sums):
        """The M-step's statistics from the kernels' sums.

        Parameters
        ----------
        resp_sum : ndarray of shape (K,)
            ``sum_i w_i r_ik``.
        sums : list of one or two ndarrays of shape (K, d)
            ``sum_i w_i r_ik x0_i``, and ``sum_i w_i r_ik m_i`` when entries
            are missing.

        Returns
        -------
        stats : dict
            ``"resp_sum"`` (K,); ``"ones"`` (K, d): expected count of ones
            per feature; ``"trials"``: expected number of observed entries
            per feature, (K, d), or (K, 1) (``resp_sum``) when every entry is
            observed.
        """
        trials = sums[1] if self.missing else resp_sum[:, np.newaxis]
        return {"resp_sum": resp_sum, "ones": sums[0], "trials": trials}


@dataclass(frozen=True)
class CountEncoding:
    """Tied features: the data reduced once to each row's ones and zeros.

    ``log p(x_i | k) + log w_k = s_i log t_k + f_i log(1 - t_k) + log w_k``
    with ``s_i`` ones and ``f_i`` zeros among the observed entries of row
    ``i`` (:func:`count_ones_and_zeros`): linear in the counts, so an
    iteration costs O(n K) whatever the number of features, and runs of
    different lengths (rows padded with NaN) are fitted alike.
    """

    n_views = 1
    has_row_term = False

    def n_columns(self, n_features):
        return 2

    def encode(self, block, buffers):
        """Counts are float64 already: the block itself."""
        return [block]

    def encode_sparse(self, block):  # pragma: no cover - counts are dense
        return [block]

    def row_term(self, block):
        return None

    def clustering_features(self, counts):
        """What k-means clusters: each row's proportion of ones, shape (n, 1)."""
        trials = counts.sum(axis=1)
        return (counts[:, 0] / np.maximum(trials, 1.0))[:, np.newaxis]

    def linear_params(self, weights, means):
        """``(coefs, intercept)``: one (K, 2) array, and (K,); ``means`` is (K, 1)."""
        return (np.hstack([np.log(means), np.log1p(-means)]),), safe_log(weights)

    def stats(self, resp_sum, sums):
        """The M-step's statistics; ``sums[0]`` (K, 2) holds expected ones and zeros.

        Returns
        -------
        stats : dict
            ``"resp_sum"`` (K,); ``"ones"`` (K, 1): expected number of ones of
            each coin; ``"trials"`` (K, 1): its expected number of tosses.
        """
        return {
            "resp_sum": resp_sum,
            "ones": sums[0][:, :1],
            "trials": sums[0].sum(axis=1, keepdims=True),
        }


def count_ones_and_zeros(X, missing=False):
    """Each row's ones and zeros among its observed entries.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n, d)
        0/1 data; NaN (not counted) when ``missing``.
    missing : bool, default=False

    Returns
    -------
    counts : ndarray of shape (n, 2), float64
        Columns: ones (heads), zeros (tails).
    """
    if not missing:
        ones = np.asarray(X.sum(axis=1, dtype=np.float64)).ravel()
        return np.column_stack([ones, X.shape[1] - ones])
    counts = np.empty((X.shape[0], 2))
    step = max(1, (1 << 20) // max(1, X.shape[1]))
    for start in range(0, X.shape[0], step):
        block = X[start : start + step]
        observed = (~np.isnan(block)).sum(axis=1)
        counts[start : start + step, 0] = np.nansum(block, axis=1)
        counts[start : start + step, 1] = observed - counts[start : start + step, 0]
    return counts


# ------------------------------------------------------------- pure kernels
def clip_means(means):
    """Clip probabilities into [MEAN_BOUND, 1 - MEAN_BOUND].

    Parameters
    ----------
    means : ndarray of shape (K, d) or (K, 1)

    Returns
    -------
    means : ndarray of the same shape, float64
    """
    # np.minimum/np.maximum: what np.clip computes (NaN included), without
    # its dispatch overhead (~10 us a call, an EM update of small data costs
    # ~60 us).
    return np.minimum(np.maximum(means, MEAN_BOUND), 1.0 - MEAN_BOUND)


def map_means(ones, trials, alpha, previous):
    """M-step for the probabilities: the MAP estimate under a Beta(a+1, a+1) prior.

    ``t = (ones + alpha) / (trials + 2 alpha)``, then clipped with
    :func:`clip_means`; ``alpha = 0`` is maximum likelihood, ``alpha = inf``
    (pseudo-counts beyond float64's range) gives the limit 1/2. A component
    whose expected trials are exactly 0 (an emptied component with
    ``alpha = 0``) keeps its previous probabilities: every value maximises its
    (empty) likelihood, and keeping it avoids 0 / 0.

    Parameters
    ----------
    ones : ndarray of shape (K, d) or (K, 1)
    trials : ndarray broadcastable to ``ones``
    alpha : float
    previous : ndarray of the shape of ``ones``

    Returns
    -------
    means : ndarray of the shape of ``ones``
    """
    if math.isinf(alpha):
        # The prior outweighs the data: the limit, also what rounding gives
        # once alpha exceeds the counts by 2**54.
        return np.full(np.shape(ones), 0.5)
    numerator = ones + alpha
    denominator = trials + 2.0 * alpha  # broadcasts against the numerator
    empty = denominator <= 0
    if not empty.any():  # np.errstate costs more than the division here
        # C order, as np.where gives below: the sums may come transposed
        # (sparse kernels), and the layout of the parameters decides how
        # the next products round.
        return clip_means(np.divide(numerator, denominator, order="C"))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = numerator / denominator
    means = np.where(empty, previous, means)
    return clip_means(means)


def mle_weights(resp_sum):
    """M-step for the mixing weights: ``w_k = N_k / N``.

    Parameters
    ----------
    resp_sum : ndarray of shape (K,)

    Returns
    -------
    weights : ndarray of shape (K,)
    """
    return resp_sum / resp_sum.sum()


def beta_log_prior(means, alpha):
    """Log density of the Beta(alpha + 1, alpha + 1) prior of every probability.

    Parameters
    ----------
    means : ndarray of shape (K, d) or (K, 1)
        The free probabilities (one per component when tied).

    alpha : float
        0 gives the flat prior, whose log density is 0.

    Returns
    -------
    log_prior : float
    """
    if alpha == 0:
        return 0.0
    log_kernel = alpha * (np.log(means) + np.log1p(-means))
    return float(log_kernel.sum() - means.size * betaln(alpha + 1.0, alpha + 1.0))


def means_to_logits(means):
    """``log t - log(1 - t)``: probabilities as unconstrained values, same shape."""
    return np.log(means) - np.log1p(-means)


def means_from_logits(logits):
    """Probabilities from logits, clipped with :func:`clip_means`; same shape."""
    return clip_means(expit(logits))


def smoothed_means(ones, trials):
    """Starting probabilities from (possibly hard) counts, never at 0 or 1.

    ``(ones + 1/2) / (trials + 1)``, see :data:`INIT_SMOOTHING`.

    Parameters
    ----------
    ones : ndarray of shape (K, d) or (K, 1)
    trials : ndarray broadcastable to ``ones``

    Returns
    -------
    means : ndarray of the shape of ``ones``
    """
    return clip_means((ones + INIT_SMOOTHING) / (trials + 2.0 * INIT_SMOOTHING))


def safe_log(weights):
    """``log(weights)`` with ``log(0) = -inf`` and no warning."""
    if weights.min() > 0:  # np.errstate costs more than the log of K weights
        return np.log(weights)
    with np.errstate(divide="ignore"):
        return np.log(weights)


# ---------------------------------------------------------------- the hooks
class ProbabilityHooks:
    """The engine's hooks for mixtures of success probabilities under a Beta prior.

    Shared by :class:`BernoulliMixtureEM` and the binomial mixture (the case
    ``n = 1`` is Bernoulli): parameters ``{"weights": (K,), "means": (K, d)}``,
    statistics ``"resp_sum"``, ``"ones"`` and ``"trials"`` from the
    encoding's ``stats``, the MAP M-step :func:`map_means` and the prior
    :func:`beta_log_prior`. The estimator supplies ``alpha``,
    ``fit_weights``, ``weights_init`` and ``n_components``.
    """

    def _start_params(self, stats, encoding):
        means = smoothed_means(stats["ones"], stats["trials"])
        return {"weights": self._start_weights(stats["resp_sum"]), "means": means}

    def _natural_params(self, encoding, params):
        return encoding.linear_params(params["weights"], params["means"])

    def _sufficient_stats(self, encoding, resp_sum, sums):
        return encoding.stats(resp_sum, sums)

    def _m_step(self, stats, params, weight_exponent=0):
        # The counts are in units of 2**weight_exponent of weight, and so the
        # prior's pseudo-counts must be: alpha 2**-weight_exponent (exact).
        alpha = math.ldexp(self.alpha, -weight_exponent) if self.alpha else 0.0
        means = map_means(stats["ones"], stats["trials"], alpha, params["means"])
        weights = self._weights_step(stats["resp_sum"], params["weights"])
        return {"weights": weights, "means": means}

    def _log_prior(self, params):
        return beta_log_prior(params["means"], self.alpha)

    def _to_vector(self, params):
        return means_to_logits(params["means"]).ravel()

    def _from_vector(self, vector, params):
        means = means_from_logits(vector.reshape(params["means"].shape))
        return {**params, "means": means}


# ---------------------------------------------------------------- estimator
class BernoulliMixtureEM(ProbabilityHooks, BaseMixtureEM):
    """Mixture of multivariate Bernoulli distributions fitted by EM.

    The model is ``p(x) = sum_k w_k prod_j t_kj^x_j (1 - t_kj)^(1 - x_j)``
    for binary vectors ``x``: each component ``k`` is a vector of coin
    probabilities ``t_k`` (``means_``) and is picked with probability
    ``w_k`` (``weights_``). With ``tie_features=True`` all features of a
    component share one probability, i.e. each row is a run of tosses of one
    coin: a mixture of binomials. The E-step is computed in log space, so it
    stays finite for any number of features.

    The parameters, fitted attributes and methods follow
    :class:`sklearn.mixture.GaussianMixture`.

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components.

    tol : float, default=1e-3
        Convergence threshold: EM stops when the lower bound (the mean
        log-likelihood per sample, plus the log prior when ``alpha > 0``)
        changes by less than ``tol`` (between accepted updates: with
        ``accelerate``, from one SQUAREM cycle to the next).

    max_iter : int, default=100
        The number of EM updates (E-step then M-step: evaluations of the EM
        map, also with ``accelerate``) at most.

    n_init : int, default=1
        The number of initialisations; the best result is kept.

    n_init_final : int or None, default=None
        Staged restarts, as Mplus's ``STARTS = n_init n_init_final``: every
        one of the ``n_init`` starts runs ``initial_stage_iter`` iterations,
        then only the ``n_init_final`` with the largest lower bound continue
        to convergence (the others are dropped), which saves most of the
        iterations of poor starts. ``None`` runs every start to convergence.
        Values above ``n_init`` keep every start (the result is then exactly
        the unstaged one). Ignored with ``n_init=1`` and by a warm start.
        See :ref:`restarts` in the user guide.

    initial_stage_iter : int, default=200
        The number of EM updates every start runs before the
        ``n_init_final`` best are chosen (Mplus's ``STITERATIONS``); they
        count toward ``max_iter``. Only used when ``n_init_final`` is set.
        Longer than Mplus's default of 10: after 10 updates from random
        starts the ranking often drops the start that leads to the best
        maximum (see ``benchmarks/README.md``).

    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, \
            default="kmeans"
        How the probabilities are initialised when ``means_init`` is None:

        - "kmeans": k-means (one run) on at most 10,000 rows drawn at
          random (all rows when there are fewer); each cluster's mean starts a
          component, its share of the weight starts the mixing weight;
        - "k-means++": ``n_components`` rows chosen by the k-means++ seeding;
        - "random": random responsibilities for every row, then an M-step;
        - "random_from_data": ``n_components`` distinct rows chosen at random.

        Starts are smoothed as ``(ones + 1/2) / (trials + 1)``, so a start at
        a single row lies at 0.25 or 0.75, never at 0 or 1.

    alpha : float, default=0.0
        Additive (Laplace/Lidstone) smoothing, as in
        :class:`~sklearn.naive_bayes.BernoulliNB`: the M-step gives
        ``t_kj = (sum_i r_ik x_ij + alpha) / (sum_i r_ik + 2 alpha)``, the
        maximum a posteriori estimate under a Beta(alpha + 1, alpha + 1)
        prior. The mixing weights are not smoothed. ``alpha=0`` is maximum
        likelihood. With ``sample_weight``, ``alpha`` counts in the weights'
        units: multiplying the weights and ``alpha`` by one factor gives the
        same estimates.

    binarize : float or None, default=0.0
        Threshold for binarising the data: values strictly greater become 1,
        the others 0. ``None`` means ``X`` must hold only 0 and 1 (anything
        else is a ``ValueError``).

    tie_features : bool, default=False
        If True, all features of a component share one probability: each row
        is a run of tosses of one coin (a mixture of binomials).

    fit_weights : bool, default=True
        If False, the mixing weights stay at ``weights_init`` (uniform if
        None), as in the coin example where each coin is picked with
        probability 1/2.

    weights_init : array-like of shape (n_components,), default=None
        Initial mixing weights (fixed ones when ``fit_weights=False``). If
        None, they come from the initialisation (uniform with ``means_init``).

    means_init : array-like of shape (n_components, n_features), default=None
        Initial probabilities; EM starts exactly there (after clipping to
        ``[1e-10, 1 - 1e-10]``). With ``tie_features=True`` the shape
        ``(n_components, 1)`` is accepted too.

    random_state : int, RandomState instance or None, default=None
        Controls the initialisations (a seed for each of the ``n_init`` runs
        is drawn from it up front) and :meth:`sample`.

    warm_start : bool, default=False
        If True, a further ``fit`` starts from the fitted parameters (and
        ``n_init`` is ignored).

    verbose : int, default=0
        0: silent; 1: print each initialisation and iteration; 2: also
        timings and the change of the lower bound.

    verbose_interval : int, default=10
        The number of iterations between two printed messages.

    n_jobs : int, default=None
        The number of ``n_init`` restarts run in parallel, through joblib
        (``None`` means 1 unless in a :obj:`joblib.parallel_backend` context;
        -1 means all processors). Results are identical to ``n_jobs=1``; each
        worker's kernels use as many threads as joblib leaves to its BLAS, so
        cores are not oversubscribed. With joblib's dask backend the restarts
        spread over a cluster. On a dask array ``X`` the restarts run one
        after another: each iteration is spread over the array's chunks.
        Restarts that run one after another on dense data (``n_jobs`` 1) go
        in lockstep: each round evaluates all starts in one kernel call, each
        start bitwise what it is alone (see the user guide, "Restarts in
        lockstep").

    learning_decay : float in (0.5, 1], default=0.6
        The exponent ``kappa`` of :meth:`partial_fit`'s step sizes
        ``((1 + learning_offset) / (t + learning_offset)) ** kappa``; only
        used by :meth:`partial_fit`, as in
        :class:`~sklearn.decomposition.LatentDirichletAllocation`.

    learning_offset : float >= 0, default=1.0
        The offset of :meth:`partial_fit`'s step sizes: larger values take
        smaller early steps.

    accelerate : {"squarem"} or None, default="squarem"
        ``"squarem"``: EM accelerated by squared extrapolation (SQUAREM,
        Varadhan and Roland 2008, scheme S3), which reaches the same maximum
        in typically 2-8 times fewer EM updates on slowly converging fits
        (see the user guide, "Time to solution"). Each cycle extrapolates
        from two EM updates, on logits and log-ratios so that parameters stay
        valid, then takes a stabilising EM update, and falls back to plain EM
        when the result's lower bound is below the current one: the lower
        bound never decreases and the fixed points are EM's. ``None``: plain
        EM, one update per iteration (for reproducing published iteration
        counts, or the trajectory of another EM implementation).

    mixed_precision : bool, default=False
        If True, bool, integer and float32 data are iterated in float32
        (about 0.6 times the cost of a float64 iteration) until the lower
        bound rises by less than float32's round-off, then in float64 to
        ``tol``: a float64 fit, at float32 speed for most iterations.
        ``lower_bounds_`` then holds the float64 phase's bounds only;
        ``n_iter_`` counts both phases. No effect on float64 data, or with
        ``max_iter <= 2``. See the user guide, "Mixed precision".

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        The mixing weights.

    means_ : ndarray of shape (n_components, n_features)
        The probability of a 1 for each component and feature (constant
        along each row when ``tie_features=True``). Always inside
        ``[1e-10, 1 - 1e-10]``.

    converged_ : bool
        True when the best run converged.

    n_iter_ : int
        The number of EM updates (evaluations of the EM map) of the best
        run, counted from its start (with staged restarts, its
        ``initial_stage_iter`` first-stage updates included); with
        ``accelerate``, extrapolated and rejected ones included.

    lower_bound_ : float
        The lower bound of the best run at its last iteration, as a
        (weighted) mean per sample.

    lower_bounds_ : list of float
        The lower bound at each iteration of the best run from its start
        (the first stage's included with staged restarts), each evaluated at
        the parameters before that iteration's M-step; with ``accelerate``,
        one entry per accepted update (SQUAREM cycle), so fewer than
        ``n_iter_`` (a cycle cut short by ``max_iter`` ends with its first,
        plain EM, update). Never decreasing, up to round-off. After
        :meth:`partial_fit`, each batch's mean log-likelihood since the last
        :meth:`fit` (the first ``partial_fit`` after a fit starts afresh).

    n_parameters_ : int
        The number of free parameters of the fitted model, used by
        :meth:`bic` and :meth:`aic`: ``K d + K - 1`` (``K + K - 1`` with tied
        features; ``K - 1`` fewer when ``fit_weights=False``).

    n_steps_ : int
        The number of :meth:`partial_fit` calls since the last :meth:`fit`
        (only set by :meth:`partial_fit`).

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when ``X`` has feature
        names that are all strings.

    See Also
    --------
    sklearn.mixture.GaussianMixture : The Gaussian counterpart.
    sklearn.naive_bayes.BernoulliNB : The supervised counterpart.

    Notes
    -----
    The fitted model keeps the structure it was fitted with:
    ``set_params`` of ``n_components``, ``tie_features`` or ``fit_weights``
    takes effect at the next :meth:`fit`; until then predictions, scores,
    ``n_parameters_`` and output feature names follow the fitted model.

    ``X`` may be a numpy array (any numeric dtype; ``uint8`` and ``bool`` are
    kept as they are and converted block by block), a ``scipy.sparse`` CSR or
    CSC matrix, or a ``dask.array.Array`` chunked by rows: fitting a dask
    array computes on its workers and gives the numpy fit's result; the
    prediction methods then return lazy dask arrays.

    An emptied component (no responsibility mass at all, which only happens
    when its posterior underflows for every row) gets a mixing weight of 0 and
    keeps its probabilities; it then never produces NaN and stays empty.

    References
    ----------
    C. B. Do and S. Batzoglou, "What is the expectation maximization
    algorithm?", Nature Biotechnology 26, 897-899 (2008).

    Examples
    --------
    >>> import numpy as np
    >>> from skcoinmix import BernoulliMixtureEM
    >>> X = np.array([[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1],
    ...               [0, 0, 0, 1], [0, 0, 1, 1], [0, 0, 0, 0]])
    >>> est = BernoulliMixtureEM(n_components=2, random_state=0).fit(X)
    >>> est.predict(X[:1]) != est.predict(X[3:4])
    array([ True])
    >>> est.predict_proba(X).sum(axis=1)
    array([1., 1., 1., 1., 1., 1.])
    """

    _parameter_constraints: dict = {
        **BaseMixtureEM._parameter_constraints,
        "alpha": [Interval(Real, 0.0, None, closed="left")],
        "binarize": [Interval(Real, None, None, closed="neither"), None],
        "tie_features": ["boolean"],
        "fit_weights": ["boolean"],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
    }

    _structural_params = (*BaseMixtureEM._structural_params, "tie_features")

    def __init__(
        self,
        n_components=1,
        *,
        tol=1e-3,
        max_iter=100,
        n_init=1,
        n_init_final=None,
        initial_stage_iter=200,
        init_params="kmeans",
        alpha=0.0,
        binarize=0.0,
        tie_features=False,
        fit_weights=True,
        weights_init=None,
        means_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        n_jobs=None,
        learning_decay=0.6,
        learning_offset=1.0,
        accelerate="squarem",
        mixed_precision=False,
    ):
        super().__init__(
            n_components=n_components,
            tol=tol,
            max_iter=max_iter,
            n_init=n_init,
            n_init_final=n_init_final,
            initial_stage_iter=initial_stage_iter,
            init_params=init_params,
            random_state=random_state,
            warm_start=warm_start,
            verbose=verbose,
            verbose_interval=verbose_interval,
            n_jobs=n_jobs,
            learning_decay=learning_decay,
            learning_offset=learning_offset,
            accelerate=accelerate,
            mixed_precision=mixed_precision,
        )
        self.alpha = alpha
        self.binarize = binarize
        self.tie_features = tie_features
        self.fit_weights = fit_weights
        self.weights_init = weights_init
        self.means_init = means_init

    # ----------------------------------------------------------------- hooks
    def _prepare_data(self, X, *, reset, fitting=False):
        # Predictions use the fitted model's structure, whatever set_params
        # changed since the fit (a fresh fit, reset, uses the current one).
        tie_features = (
            self.tie_features if reset else self._fitted_param("tie_features")
        )
        X = _backends.validate_input(self, X, reset=reset)
        missing, is_binary = _backends.scan(X)
        if fitting and missing:
            self._check_observed_columns(_backends.unobserved_columns(X), tie_features)
        X = _backends.binarize(X, self.binarize, missing, is_binary=is_binary)
        if tie_features:
            # 16 bytes a row (kept on the workers for dask): iterations then
            # cost O(n K) instead of a pass over X.
            counts = _backends.map_rows(X, count_ones_and_zeros, 2, missing)
            return Data(counts, CountEncoding())
        return Data(X, BinaryEncoding(missing))

    def _check_observed_columns(self, unobserved, tie_features):
        if tie_features and len(unobserved) < self.n_features_in_:
            # Tied features share the component's one probability, learned
            # from the observed columns: runs of different lengths leave the
            # last columns unobserved by design.
            return
        check_observed_columns(
            unobserved, self.n_features_in_, getattr(self, "feature_names_in_", None)
        )

    def _check_initial_parameters(self, data):
        if self.weights_init is not None:
            check_weights_init(self.weights_init, self.n_components)
        if self.means_init is not None:
            check_means_init(
                self.means_init,
                self.n_components,
                self.n_features_in_,
                self.tie_features,
            )

    def _user_start(self, data):
        if self.means_init is None:
            return None
        K = self.n_components
        means = clip_means(
            check_means_init(self.means_init, K, self.n_features_in_, self.tie_features)
        )
        return {"weights": self._start_weights(), "means": means}

    def _params_from_attributes(self):
        tied = self._fitted_param("tie_features")
        means = self.means_[:, :1] if tied else self.means_
        return {"weights": self.weights_, "means": means}

    def _set_fitted_params(self, params):
        self.weights_ = params["weights"].copy()
        self.means_ = np.broadcast_to(
            params["means"], (self.n_components, self.n_features_in_)
        ).copy()

    def _count_parameters(self):
        n_means = self.n_components * (1 if self.tie_features else self.n_features_in_)
        n_weights = self.n_components - 1 if self.fit_weights else 0
        return n_means + n_weights

    # ---------------------------------------------------------------- public
    def sample(self, n_samples=1):
        """Generate random samples from the fitted mixture.

        Uses ``random_state`` as :meth:`sklearn.mixture.GaussianMixture.sample`
        does.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Randomly generated 0/1 samples, as float64, sorted by component.

        y : ndarray of shape (n_samples,)
            Component labels.
        """
        self._check_n_samples(n_samples)
        rng, counts = self._component_sizes(n_samples)
        X = np.vstack(
            [
                (rng.uniform(size=(count, self.n_features_in_)) < means).astype(
                    np.float64
                )
                for means, count in zip(self.means_, counts, strict=True)
            ]
        )
        return X, np.repeat(np.arange(len(counts)), counts)
