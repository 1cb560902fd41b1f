"""Mixtures of binomial distributions: counts of successes out of ``n`` trials.

Each entry ``x_ij`` counts successes in ``n_ij`` trials, and within component
``k`` ``x_ij ~ Binomial(n_ij, t_kj)``. The trials are fixed per feature
(``n_trials`` an int or one per feature), or given per entry: with
``n_trials="paired"``, ``X`` holds the successes and the failures side by
side, ``np.hstack([successes, failures])``, as R's ``cbind(successes,
failures)``. The log-likelihood is linear in an encoding of the data
(:mod:`skcoinmix._family`):

- fixed trials: views ``x`` (NaN as 0) and, with missing entries, the
  observed mask ``m``; ``coefs = (logit t, n log(1 - t))``;
- paired: views ``s`` and ``s + f``; ``coefs = (logit t, log(1 - t))``;

with the per-row term ``c_i = sum_j log C(n_ij, x_ij)`` over the observed
entries, so that :meth:`BinomialMixtureEM.score_samples` is the full
binomial log-pmf. A Bernoulli mixture is the case ``n = 1``; the M-step, the
prior and the starts are those of :mod:`skcoinmix._bernoulli`.

Shapes: ``n`` samples, ``d`` items (features of counts), ``K`` components.
"""

# SPDX-License-Identifier: BSD-3-Clause

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import gammaln
from sklearn.utils._param_validation import Interval, StrOptions

from . import _backends
from ._bernoulli import ProbabilityHooks, clip_means, safe_log
from ._em import BaseMixtureEM
from ._family import Data, masked_views
from ._validation import (
    check_means_init,
    check_observed_columns,
    check_weights_init,
)

__all__ = ["BinomialMixtureEM"]

#: The value of ``n_trials`` that reads the trials from ``X``.
PAIRED = "paired"


# ------------------------------------------------------------- pure functions
def log_binomial_coefficient(trials, successes):
    """``log C(n, x)`` through ``gammaln``, for real-valued counts ``0 <= x <= n``.

    Parameters
    ----------
    trials, successes : ndarray of broadcastable shapes

    Returns
    -------
    log_coefficient : ndarray, float64
    """
    return (
        gammaln(trials + 1.0)
        - gammaln(successes + 1.0)
        - gammaln(trials - successes + 1.0)
    )


def check_n_trials(n_trials, n_features):
    """``n_trials`` as a float64 vector of one positive integer per feature.

    Parameters
    ----------
    n_trials : int or array-like of shape (n_features,)
    n_features : int

    Returns
    -------
    n_trials : ndarray of shape (n_features,), float64
    """
    if n_trials is None:
        raise ValueError(
            "BinomialMixtureEM needs n_trials, the number of trials behind each "
            "count: an int, one int per feature, or 'paired' when X holds the "
            "successes and failures side by side (np.hstack([successes, "
            "failures])). No default could be right for every data set."
        )
    values = np.asarray(n_trials)
    if values.dtype.kind not in "uif" or values.ndim > 1:
        raise ValueError(
            f"n_trials must be an int or a 1-D array of ints, got {n_trials!r}."
        )
    if values.ndim == 1 and values.shape != (n_features,):
        raise ValueError(
            f"n_trials has {values.shape[0]} values but X has {n_features} "
            "features: give one number of trials per feature, or a single int."
        )
    values = np.broadcast_to(values.astype(np.float64), (n_features,))
    bad = ~np.isfinite(values) | (values < 1) | (values != np.round(values))
    if bad.any():
        raise ValueError(
            "n_trials must hold positive integers (a number of trials), got "
            f"{values[bad][:5].tolist()} at features {np.flatnonzero(bad)[:5].tolist()}."
        )
    return values.copy()


def _row_sums_of_log_factorials(matrix):
    """``sum_j log(x_ij!)`` of each row of a sparse matrix: (rows,) float64."""
    matrix = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    matrix.data = gammaln(matrix.data + 1.0)
    return np.asarray(matrix.sum(axis=1)).ravel()


def _describe_columns(columns, values):
    shown = ", ".join(
        f"column {j}: {value:g}"
        for j, value in zip(columns[:5], values[:5], strict=False)
    )
    return shown + (", ..." if len(columns) > 5 else "")


# ---------------------------------------------------------------- encodings
@dataclass(frozen=True, eq=False)
class FixedTrialsEncoding:
    """Counts out of ``n_j`` trials per feature (:mod:`skcoinmix._family`).

    ``log p(x_i | k) + log w_k = x0_i . logit t_k + m_i . (n log(1 - t_k))
    + log w_k + c_i`` (without missing entries, the second term is the
    constant ``sum_j n_j log(1 - t_kj)`` of the intercept).

    Attributes
    ----------
    n_trials : ndarray of shape (d,), float64
    missing : bool
    """

    n_trials: np.ndarray
    missing: bool = False
    has_row_term = True

    @property
    def n_views(self):
        return 2 if self.missing else 1

    def n_columns(self, n_features):
        return n_features

    def encode(self, block, buffers):
        return masked_views(block, buffers, self.missing)

    def encode_sparse(self, block):
        """Sparse counts are complete (NaN is refused): the block itself."""
        return [block]

    def row_term(self, block):
        """``sum_j log C(n_j, x_ij)`` over the observed entries: (rows,)."""
        if sp.issparse(block):
            # An implicit zero has log C(n, 0) = 0: the stored entries only.
            coo = block.tocoo()
            terms = log_binomial_coefficient(self.n_trials[coo.col], coo.data)
            return np.bincount(coo.row, weights=terms, minlength=block.shape[0])
        if block.dtype.kind in "uib" or (
            not self.missing and np.array_equal(block, np.floor(block))
        ):
            return self._row_term_of_whole_counts(block)
        terms = log_binomial_coefficient(self.n_trials, block.astype(np.float64))
        if self.missing:
            return np.nansum(terms, axis=1)
        return terms.sum(axis=1)

    def _row_term_of_whole_counts(self, block):
        """:meth:`row_term` of whole counts, from a table: a gather per entry.

        ``log C(n_j, c) = lg(n_j) - lg(c) - lg(n_j - c)`` with
        ``lg(v) = log v!``: the row's ``sum_j lg(n_j)`` is a constant, and
        ``lg(c) + lg(n_j - c)`` is looked up for ``c = 0..n_j`` (about 20
        times cheaper than three ``gammaln`` per entry).
        """
        if block.dtype.kind == "f":
            block = block.astype(np.int32)
        elif block.dtype == bool:
            block = block.view(np.uint8)
        n_max = int(self.n_trials.max())
        counts = np.arange(n_max + 1, dtype=np.float64)
        if np.all(self.n_trials == n_max):
            table = gammaln(counts + 1.0) + gammaln(n_max - counts + 1.0)
            looked_up = table[block]
        else:
            # Counts above a feature's n_j are never looked up (validated).
            with np.errstate(invalid="ignore"):
                table = gammaln(counts + 1.0) + gammaln(
                    self.n_trials[:, np.newaxis] - counts + 1.0
                )
            looked_up = table[np.arange(block.shape[1]), block]
        return gammaln(self.n_trials + 1.0).sum() - looked_up.sum(axis=1)

    def linear_params(self, weights, means):
        log_failure = np.log1p(-means)
        coef = np.log(means) - log_failure
        if self.missing:
            return (coef, self.n_trials * log_failure), safe_log(weights)
        return (coef,), log_failure @ self.n_trials + safe_log(weights)

    def stats(self, resp_sum, sums):
        """Expected successes and trials per component and feature, (K, d) each."""
        observed = sums[1] if self.missing else resp_sum[:, np.newaxis]
        return {
            "resp_sum": resp_sum,
            "ones": sums[0],
            "trials": observed * self.n_trials,
        }

    def clustering_features(self, X):
        """What k-means clusters: each entry's proportion of successes."""
        if sp.issparse(X):
            return sp.csr_matrix(X.multiply(1.0 / self.n_trials), dtype=np.float64)
        proportions = np.asarray(X, dtype=np.float64) / self.n_trials
        if self.missing:
            column_means = np.nanmean(proportions, axis=0)
            column_means = np.where(np.isnan(column_means), 0.5, column_means)
            proportions = np.where(np.isnan(proportions), column_means, proportions)
        return proportions


@dataclass(frozen=True)
class PairedEncoding:
    """Successes and failures side by side: trials that vary per entry.

    ``X = [s | f]`` of shape (n, 2 d); ``log p(x_i | k) + log w_k =
    s_i . logit t_k + (s_i + f_i) . log(1 - t_k) + log w_k + c_i``. An entry
    with NaN in its successes or failures is missing (both read as 0: no
    trials).

    Attributes
    ----------
    missing : bool
    """

    missing: bool = False
    n_views = 2
    has_row_term = True

    def n_columns(self, n_features):
        return n_features // 2

    def encode(self, block, buffers):
        d = block.shape[1] // 2
        successes, trials = buffers
        np.copyto(successes, block[:, :d], casting="unsafe")
        np.copyto(trials, block[:, d:], casting="unsafe")
        trials += successes
        if self.missing:
            unobserved = np.isnan(trials)
            successes[unobserved] = 0
            trials[unobserved] = 0
        return buffers

    def encode_sparse(self, block):
        d = block.shape[1] // 2
        block = block.tocsc()
        successes = block[:, :d]
        return [successes, successes + block[:, d:]]

    def row_term(self, block):
        d = block.shape[1] // 2
        if sp.issparse(block):
            # log C(t, s) = lg(t) - lg(s) - lg(f) with lg(v) = gammaln(v + 1),
            # which is 0 at v = 0: each term over its stored entries only.
            block = block.tocsr()
            successes, failures = block[:, :d], block[:, d:]
            return (
                _row_sums_of_log_factorials(successes + failures)
                - _row_sums_of_log_factorials(successes)
                - _row_sums_of_log_factorials(failures)
            )
        successes = block[:, :d].astype(np.float64)
        failures = block[:, d:].astype(np.float64)
        terms = log_binomial_coefficient(successes + failures, successes)
        if self.missing:
            return np.nansum(terms, axis=1)
        return terms.sum(axis=1)

    def linear_params(self, weights, means):
        log_failure = np.log1p(-means)
        return (np.log(means) - log_failure, log_failure), safe_log(weights)

    def stats(self, resp_sum, sums):
        return {"resp_sum": resp_sum, "ones": sums[0], "trials": sums[1]}

    def clustering_features(self, X):
        """Each entry's proportion of successes (1/2 where it has no trials)."""
        X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
        d = X.shape[1] // 2
        successes, trials = X[:, :d], X[:, :d] + X[:, d:]
        with np.errstate(invalid="ignore", divide="ignore"):
            proportions = successes / trials
        return np.where(np.isfinite(proportions), proportions, 0.5)


# ---------------------------------------------------------------- estimator
class BinomialMixtureEM(ProbabilityHooks, BaseMixtureEM):
    """Mixture of binomial distributions for counts of successes, fitted by EM.

    Each entry ``x_ij`` is a count of successes out of ``n_ij`` trials and,
    within component ``k``, ``x_ij ~ Binomial(n_ij, t_kj)``:
    ``p(x) = sum_k w_k prod_j C(n_ij, x_ij) t_kj^x_ij (1 - t_kj)^(n_ij - x_ij)``.
    Counts of heads in sets of coin tosses, correct answers per test
    section, reads supporting a variant out of the read depth. With one
    trial it is :class:`BernoulliMixtureEM`.

    The parameters, fitted attributes and methods follow
    :class:`BernoulliMixtureEM` and :class:`sklearn.mixture.GaussianMixture`.

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components.

    n_trials : int, array-like of shape (n_features,) or "paired"
        The number of trials behind each count: the same for every entry
        (an int), one per feature, or ``"paired"``: ``X`` holds each entry's
        successes and failures side by side, ``np.hstack([successes,
        failures])`` (as R's ``cbind(successes, failures)``), for trials
        that vary per entry (read depth, items answered). Required: no
        default could be right for every data set.

    tol : float, default=1e-3
        Convergence threshold on the change of the lower bound (the mean
        log-likelihood per sample, plus the log prior when ``alpha > 0``).

    max_iter : int, default=100
        The number of EM updates (evaluations of the EM map) at most.

    n_init : int, default=1
        The number of initialisations; the best result is kept.

    n_init_final : int or None, default=None
        Staged restarts: only the ``n_init_final`` starts with the largest
        lower bound after ``initial_stage_iter`` updates continue to
        convergence; ``None`` runs every start to convergence (see
        :class:`BernoulliMixtureEM`).

    initial_stage_iter : int, default=200
        The updates every start runs before the ``n_init_final`` best are
        chosen; only used when ``n_init_final`` is set.

    init_params : {"kmeans", "k-means++", "random", "random_from_data"}, \
            default="kmeans"
        How the probabilities are initialised when ``means_init`` is None
        (see :class:`BernoulliMixtureEM`); k-means clusters the proportions
        of successes.

    alpha : float, default=0.0
        Additive smoothing: the M-step gives
        ``t_kj = (sum_i r_ik x_ij + alpha) / (sum_i r_ik n_ij + 2 alpha)``,
        the MAP estimate under a Beta(alpha + 1, alpha + 1) prior.

    fit_weights : bool, default=True
        If False, the mixing weights stay at ``weights_init`` (uniform if
        None).

    weights_init : array-like of shape (n_components,), default=None
        Initial mixing weights.

    means_init : array-like of shape (n_components, n_items), default=None
        Initial success probabilities (``n_items`` is ``n_features``, or
        half of it with ``n_trials="paired"``); EM starts exactly there
        (after clipping to ``[1e-10, 1 - 1e-10]``).

    random_state : int, RandomState instance or None, default=None
        Controls the initialisations and :meth:`sample`.

    warm_start : bool, default=False
        If True, a further ``fit`` starts from the fitted parameters.

    verbose : int, default=0
        0: silent; 1: each initialisation and iteration; 2: with timings.

    verbose_interval : int, default=10
        The number of iterations between two printed messages.

    n_jobs : int, default=None
        The number of ``n_init`` restarts run in parallel through joblib;
        with 1, on dense data, they run in lockstep; as in
        :class:`BernoulliMixtureEM`.

    learning_decay : float in (0.5, 1], default=0.6
        The exponent of :meth:`partial_fit`'s step sizes.

    learning_offset : float >= 0, default=1.0
        The offset of :meth:`partial_fit`'s step sizes.

    accelerate : {"squarem"} or None, default="squarem"
        SQUAREM-accelerated EM, or plain EM (None); as in
        :class:`BernoulliMixtureEM`.

    mixed_precision : bool, default=False
        float32 iterations, then float64 to ``tol``, for integer counts; as
        in :class:`BernoulliMixtureEM`.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        The mixing weights.

    means_ : ndarray of shape (n_components, n_items)
        The success probability of each component and item, inside
        ``[1e-10, 1 - 1e-10]``.

    n_trials_ : ndarray of shape (n_items,) or None
        The trials of each item, as fitted; None with ``"paired"``.

    n_parameters_ : int
        ``K d + K - 1`` free parameters (``K - 1`` fewer when
        ``fit_weights=False``).

    converged_, n_iter_, lower_bound_, lower_bounds_, n_steps_, \
n_features_in_, feature_names_in_
        As in :class:`BernoulliMixtureEM`.

    See Also
    --------
    BernoulliMixtureEM : One trial per entry; ``tie_features=True`` fits
        runs of coin tosses from the tosses themselves.

    Notes
    -----
    Counts may be real-valued (as :class:`~sklearn.naive_bayes.MultinomialNB`
    accepts fractional counts) but must lie in ``[0, n]``; NaN marks a
    missing entry in dense ``X`` (full-information maximum likelihood).
    ``X`` may be a numpy array of any numeric dtype (``uint8`` counts are
    kept as they are), a ``scipy.sparse`` CSR/CSC matrix (implicit zeros are
    zero successes) or a dask array chunked by rows. :meth:`score_samples`
    is the full log-pmf, binomial coefficients included.

    Examples
    --------
    The coin example of Do & Batzoglou (2008): heads in five sets of ten
    tosses, each set of one of two coins picked with probability 1/2.

    >>> from skcoinmix import BinomialMixtureEM
    >>> heads = [[5], [9], [8], [4], [7]]
    >>> est = BinomialMixtureEM(2, n_trials=10, fit_weights=False,
    ...                         means_init=[[0.6], [0.5]], tol=1e-10,
    ...                         max_iter=1000).fit(heads)
    >>> est.means_.round(2)
    array([[0.8 ],
           [0.52]])
    """

    _parameter_constraints: dict = {
        **BaseMixtureEM._parameter_constraints,
        "n_trials": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 1, None, closed="left"),
            "array-like",
            StrOptions({PAIRED}),
            None,
        ],
        "alpha": [Interval(Real, 0.0, None, closed="left")],
        "fit_weights": ["boolean"],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
    }

    _structural_params = (*BaseMixtureEM._structural_params, "n_trials")

    def __init__(
        self,
        n_components=1,
        *,
        n_trials=None,
        tol=1e-3,
        max_iter=100,
        n_init=1,
        n_init_final=None,
        initial_stage_iter=200,
        init_params="kmeans",
        alpha=0.0,
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
        self.n_trials = n_trials
        self.alpha = alpha
        self.fit_weights = fit_weights
        self.weights_init = weights_init
        self.means_init = means_init

    def _structure_value(self, name):
        if name != "n_trials":
            return super()._structure_value(name)
        # A hashable normal form: "paired", None, or a tuple of floats.
        n_trials = self.n_trials
        if n_trials is None or isinstance(n_trials, str):
            return n_trials
        try:
            return tuple(float(value) for value in np.ravel(n_trials))
        except (TypeError, ValueError):
            return repr(n_trials)  # refused with a clear message by a fit

    # ----------------------------------------------------------------- hooks
    def _prepare_data(self, X, *, reset, fitting=False):
        # Predictions read the trials the model was fitted with.
        paired = self._paired() if reset else self._fitted_param("n_trials") == PAIRED
        X = _backends.validate_input(self, X, reset=reset)
        n_features = X.shape[1]
        if paired and n_features % 2:
            raise ValueError(
                f"With n_trials='paired', X holds successes then failures "
                f"(np.hstack([successes, failures])), an even number of "
                f"columns, but it has {n_features}."
            )
        if paired:
            n_trials = None
        else:
            n_trials = (
                check_n_trials(self.n_trials, n_features) if reset else self.n_trials_
            )
        missing, _ = _backends.scan(X)  # raises on infinity
        low, high = _backends.column_range(X)
        negative = np.flatnonzero(low < 0)
        if negative.size:
            raise ValueError(
                "Negative values in data passed to BinomialMixtureEM: counts of "
                "successes must not be negative; found "
                f"{_describe_columns(negative, low[negative])}."
            )
        if not paired:
            above = np.flatnonzero(high > n_trials)
            if above.size:
                raise ValueError(
                    "Counts must not exceed n_trials; found "
                    f"{_describe_columns(above, high[above])} against "
                    f"n_trials {n_trials[above][:5].tolist()}. Check n_trials, "
                    "or pass n_trials='paired' with the failures beside the "
                    "successes when the trials vary per entry."
                )
        if fitting and missing:
            n_items = n_features // 2 if paired else n_features
            unobserved = _backends.unobserved_columns(X)
            names = getattr(self, "feature_names_in_", None)
            if paired:
                # An item is unobserved when its successes or failures are.
                unobserved = np.unique(unobserved % n_items)
                names = None if names is None else names[:n_items]
            check_observed_columns(unobserved, n_items, names)
        if paired:
            return Data(X, PairedEncoding(missing))
        return Data(X, FixedTrialsEncoding(n_trials, missing))

    def _paired(self):
        setting = self.n_trials
        return isinstance(setting, str) and setting == PAIRED

    def _check_initial_parameters(self, data):
        if self.weights_init is not None:
            check_weights_init(self.weights_init, self.n_components)
        if self.means_init is not None:
            self._means_init()

    def _means_init(self):
        n_items = self.n_features_in_ // 2 if self._paired() else self.n_features_in_
        return check_means_init(self.means_init, self.n_components, n_items, False)

    def _user_start(self, data):
        if self.means_init is None:
            return None
        return {
            "weights": self._start_weights(),
            "means": clip_means(self._means_init()),
        }

    def _params_from_attributes(self):
        return {"weights": self.weights_, "means": self.means_}

    def _set_fitted_params(self, params):
        self.weights_ = params["weights"].copy()
        self.means_ = np.array(params["means"], dtype=np.float64)
        # Called by fits only, where the current n_trials is the fitted one.
        self.n_trials_ = (
            None
            if self._paired()
            else check_n_trials(self.n_trials, self.means_.shape[1])
        )

    def _count_parameters(self):
        n_weights = self.n_components - 1 if self.fit_weights else 0
        return self.n_components * self.means_.shape[1] + n_weights

    # ---------------------------------------------------------------- public
    def sample(self, n_samples=1):
        """Generate random counts from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        Returns
        -------
        X : ndarray of shape (n_samples, n_items)
            Counts of successes, as float64, sorted by component.

        y : ndarray of shape (n_samples,)
            Component labels.
        """
        self._check_n_samples(n_samples)
        if self.n_trials_ is None:
            raise ValueError(
                "sample needs the number of trials of each new count: this "
                "model was fitted with n_trials='paired', where the trials vary "
                "per entry. Draw successes yourself with "
                "rng.binomial(trials, est.means_[k])."
            )
        rng, counts = self._component_sizes(n_samples)
        X = np.vstack(
            [
                rng.binomial(
                    self.n_trials_.astype(np.int64), means, size=(count, means.size)
                ).astype(np.float64)
                for means, count in zip(self.means_, counts, strict=True)
            ]
        )
        return X, np.repeat(np.arange(len(counts)), counts)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags
