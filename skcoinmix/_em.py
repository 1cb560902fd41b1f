"""The EM engine shared by every mixture in skcoinmix; it knows only the family contract.

Every model's log-likelihood is linear in an encoding of its data
(:mod:`skcoinmix._family`), so the engine runs the E-step, the M-step's sums
and predictions through the storage kernels (:mod:`skcoinmix._backends`) and
the initialisation (:mod:`skcoinmix._init`) without knowing the model. A
model fills in hooks that work on explicit parameter dictionaries (never on
``self``'s fitted attributes), so a fit is a pure computation whose result
is written to the estimator in one step at the end:

``_prepare_data(X, reset, fitting)`` -> :class:`~skcoinmix._family.Data`
    validate ``X``; the stored rows and the encoding that reads them.
``_check_initial_parameters(data)``
    check user-supplied initial arrays against the data.
``_user_start(data)`` -> params or None
    the start the user gave, if any.
``_start_params(stats, encoding)`` -> params
    parameters from the statistics of starting responsibilities.
``_natural_params(encoding, params)`` -> (coefs, intercept)
    the coefficients of the linear log-likelihood.
``_sufficient_stats(encoding, resp_sum, sums)`` -> stats
    the model's additive statistics (a dict of sums over rows) from the
    kernels' sums.
``_m_step(stats, params, weight_exponent)`` -> params
    ``stats`` are in units of ``2**weight_exponent`` of weight: sample
    weights are rescaled by a power of two so that no sum overflows (see
    :func:`skcoinmix._validation.scale_sample_weight`); a prior must weigh
    against the statistics in the same units.
``_log_prior(params)`` -> float
``_to_vector(params)`` -> ndarray / ``_from_vector(vector, params)`` -> params
    the component parameters (everything but ``"weights"``, which the
    engine handles) as an unconstrained float64 vector (logits, log-ratios),
    and back to valid parameters, the rest taken from ``params``: SQUAREM
    (``accelerate="squarem"``, :mod:`skcoinmix._accelerate`) extrapolates
    on these vectors, so every extrapolated point is valid.
``_params_from_attributes()`` / ``_set_fitted_params(params)``
``_count_parameters()``
    the number of free parameters under the current settings; a fit stores
    it as ``n_parameters_``.

Parameters that fix the structure of the fitted model (``_structural_params``)
are recorded by each fit: predictions, scores and output names follow the
fitted model (:meth:`BaseMixtureEM._fitted_param`) even after ``set_params``
changed them, until the next fit.
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings
from abc import ABCMeta, abstractmethod
from functools import partial
from numbers import Integral, Real
from time import time

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    DensityMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from . import _backends
from ._accelerate import (
    ACCELERATIONS,
    drive,
    drive_together,
    plain_steps,
    squarem_steps,
    tagged,
    weights_from_vector,
    weights_to_vector,
)
from ._backends import (
    as_numpy,
    backend_for,
    check_sample_weight,
    has_float32_path,
    unit_weights_as_none,
    weighted_sum,
)
from ._em_state import num_samples, scaled_log_prior, transaction
from ._init import INIT_PARAMS, starting_responsibilities
from ._online import OnlineEMMixin
from ._restarts import best_run, is_staged, joined_run, limited, survivors
from ._validation import check_weights_init, log_unscaled, unscale_total

__all__ = ["BaseMixtureEM"]

#: The float32 phase of mixed precision ends when the bound rises by less than
#: this times its magnitude: float32's machine epsilon, the relative
#: round-off of each row's log-probability before any accumulation error
#: (the coefficients alone are rounded by half of it). Rises below it are
#: indistinguishable from rounding.
FLOAT32_RISE = float(np.finfo(np.float32).eps)

#: Whether restarts that run one after another (``n_jobs`` 1) go in lockstep
#: instead, their E-steps stacked into one kernel call per round (see
#: ``BaseMixtureEM._run_lockstep``); the tests turn it off for their oracle.
LOCKSTEP = True
#: At most this many components (starts x K) are stacked into one kernel
#: call: its (components, rows) block of responsibilities stays within 8 MiB
#: a thread (8,192 rows at most).
MAX_STACKED_COMPONENTS = 128


class BaseMixtureEM(
    OnlineEMMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    DensityMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Base class of the EM-fitted mixtures: the EM loop and the public methods.

    Follows ``sklearn.mixture.BaseMixture``: ``n_init`` restarts keep the best
    lower bound (optionally staged: :mod:`skcoinmix._restarts`), ``tol`` on
    its change, ``warm_start``, ``verbose``, a
    :class:`~sklearn.exceptions.ConvergenceWarning` when the best restart did
    not converge, and a final E-step in ``fit_predict`` so that its labels
    equal ``fit(X).predict(X)`` (``fit`` skips it: it would only make
    labels). Unlike scikit-learn's mixtures it accepts ``sample_weight``
    (frequency weights) everywhere.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "n_init_final": [Interval(Integral, 1, None, closed="left"), None],
        "initial_stage_iter": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions(set(INIT_PARAMS))],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "learning_decay": [Interval(Real, 0.5, 1.0, closed="right")],
        "learning_offset": [Interval(Real, 0.0, None, closed="left")],
        "accelerate": [StrOptions(set(ACCELERATIONS)), None],
        "mixed_precision": ["boolean"],
    }

    def __init__(
        self,
        n_components,
        *,
        tol,
        max_iter,
        n_init,
        n_init_final,
        initial_stage_iter,
        init_params,
        random_state,
        warm_start,
        verbose,
        verbose_interval,
        n_jobs,
        learning_decay,
        learning_offset,
        accelerate=None,
        mixed_precision=False,
    ):
        self.n_components = n_components
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.n_init_final = n_init_final
        self.initial_stage_iter = initial_stage_iter
        self.init_params = init_params
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_jobs = n_jobs
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset
        self.accelerate = accelerate
        self.mixed_precision = mixed_precision

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _prepare_data(self, X, *, reset, fitting=False):
        """Validate ``X`` and return the representation the kernels use.

        ``fitting`` is True when the data train the model (``fit``,
        ``partial_fit``): data that cannot train it are refused then.
        """

    @abstractmethod
    def _check_initial_parameters(self, data):
        """Check user-supplied initial arrays against the prepared data."""

    @abstractmethod
    def _user_start(self, data):
        """Return the start the user gave (``means_init``...), or None."""

    @abstractmethod
    def _start_params(self, stats, encoding):
        """Return parameters from the statistics of starting responsibilities."""

    @abstractmethod
    def _natural_params(self, encoding, params):
        """Return ``(coefs, intercept)`` of ``params`` under ``encoding``."""

    @abstractmethod
    def _sufficient_stats(self, encoding, resp_sum, sums):
        """Return the model's additive statistics from the kernels' sums."""

    @abstractmethod
    def _m_step(self, stats, params, weight_exponent=0):
        """Return the parameters that maximise the expected complete objective.

        ``stats`` are sums over rows whose weights were multiplied by
        ``2**-weight_exponent``.
        """

    @abstractmethod
    def _log_prior(self, params):
        """Return the log prior density of ``params`` (0 for maximum likelihood)."""

    @abstractmethod
    def _to_vector(self, params):
        """The component parameters as an unconstrained float64 vector (p,)."""

    @abstractmethod
    def _from_vector(self, vector, params):
        """Valid parameters from ``_to_vector``'s vector; the rest from ``params``."""

    @abstractmethod
    def _params_from_attributes(self):
        """Return the fitted attributes as a parameter dictionary."""

    @abstractmethod
    def _set_fitted_params(self, params):
        """Write a parameter dictionary to the public fitted attributes."""

    @abstractmethod
    def _count_parameters(self):
        """Return the number of free parameters under the current settings.

        Called by a fit, which stores it as ``n_parameters_``.
        """

    # ------------------------------------------------------- the EM steps
    def _initialize(self, data, sample_weight, random_state):
        """The starting parameters of one restart: the user's, or from ``init_params``."""
        params = self._user_start(data)
        if params is not None:
            return params
        start, resp = starting_responsibilities(
            data, sample_weight, self.init_params, self.n_components, random_state
        )
        sums = backend_for(start.X).weighted_sums(start.X, start.encoding, resp)
        resp_sum = np.asarray(as_numpy(resp.sum(axis=0)), dtype=np.float64)
        return self._start_params(
            self._sufficient_stats(start.encoding, resp_sum, sums), start.encoding
        )

    def _e_step(self, data, sample_weight, params, dtype=None):
        """The weighted log-likelihood sum at ``params`` and the model's statistics.

        ``sample_weight`` is None for unit weights. The log-likelihood leaves
        out the per-row terms ``c_i`` (see :func:`._backends.row_term_total`).
        """
        coefs, intercept = self._natural_params(data.encoding, params)
        log_likelihood, resp_sum, sums = backend_for(data.X).e_step(
            data.X, data.encoding, coefs, intercept, sample_weight, dtype
        )
        return log_likelihood, self._sufficient_stats(data.encoding, resp_sum, sums)

    def _log_resp(self, data, params):
        """``log p(x_i)`` (n_samples,) and ``log p(k | x_i)`` (n_samples, K)."""
        coefs, intercept = self._natural_params(data.encoding, params)
        return backend_for(data.X).log_resp(data.X, data.encoding, coefs, intercept)

    # ---------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Estimate the model parameters with the EM algorithm.

        The model is fitted ``n_init`` times from different starts and the
        parameters with the largest lower bound are kept. Each run alternates
        E- and M-steps at most ``max_iter`` times, until the lower bound
        changes by less than ``tol``; a
        :class:`~sklearn.exceptions.ConvergenceWarning` is raised when the
        best run did not converge. With ``n_init_final`` (staged restarts),
        every start first runs ``initial_stage_iter`` iterations and only the
        ``n_init_final`` best continue. With ``warm_start=True``, a refit
        starts from the current parameters (a single run).

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data, one row per sample.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative frequency weights: a row of weight 3 counts as three
            identical rows. ``None`` gives every row weight 1. For dask ``X``
            also a dask array. Weights of any magnitude are fine, even
            when their sum is beyond float64's range: they are rescaled by a
            power of two, which is exact. Without a prior only their ratios
            matter.

        Returns
        -------
        self : object
            The fitted mixture.
        """
        transaction(self, self._fit, X, sample_weight, False)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit the model to ``X`` and return the most probable component of each row.

        Equivalent to ``fit(X).predict(X)``, and computed with one E-step
        less.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data, one row per sample.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative frequency weights (see :meth:`fit`).

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component labels; a lazy dask array for dask ``X``.
        """
        return transaction(self, self._fit, X, sample_weight, True)

    def _fit(self, X, sample_weight, return_labels):
        """Fit; with ``return_labels``, also a final E-step and its labels."""
        warm = self.warm_start and hasattr(self, "converged_")
        if warm:
            self._check_continuation()
        data = self._prepare_data(X, reset=not warm, fitting=True)
        n_samples = num_samples(data)
        if n_samples < max(2, self.n_components):
            raise ValueError(
                f"Expected n_samples >= max(2, n_components) but got "
                f"n_components = {self.n_components}, n_samples = {n_samples}. "
                "Fit on more rows or lower n_components."
            )
        checked = check_sample_weight(sample_weight, data.X)
        self._check_initial_parameters(data)

        random_state = check_random_state(self.random_state)
        n_init = 1 if warm else self.n_init
        # Every restart's seed is drawn up front, so restarts are independent
        # of one another and run in parallel with identical results.
        seeds = random_state.randint(np.iinfo(np.int32).max, size=n_init)

        start = (self._params_from_attributes(), self.lower_bound_) if warm else None
        n_jobs = self.n_jobs if _backends.restarts_in_parallel(data.X) else 1
        # The per-row terms of the log-likelihood depend on no parameter:
        # added once, not computed at every iteration.
        constant = _backends.row_term_total(
            data.X, data.encoding, unit_weights_as_none(checked.weights)
        )
        if is_staged(n_init, self.n_init_final, self.max_iter):
            best = self._staged_restarts(data, checked, constant, seeds, n_jobs)
        else:
            jobs = [(self, init, seed, start) for init, seed in enumerate(seeds)]
            runs = self._run_starts(data, checked, constant, jobs, n_jobs)
            # As sklearn.mixture, the last run when there is nothing to
            # compare; else the first of the best, as a sequential loop keeps.
            best = runs[-1] if self.max_iter == 0 else best_run(runs)

        if not best["converged"] and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. "
                "Try different init parameters, or increase max_iter, tol, "
                "or check for degenerate data.",
                ConvergenceWarning,
                stacklevel=3,
            )

        self._set_fitted_params(best["params"])
        self._record_structure()
        self.n_parameters_ = int(self._count_parameters())
        # A later partial_fit continues from these parameters, afresh.
        self.__dict__.pop("_online_state", None)
        self.__dict__.pop("n_steps_", None)
        self.converged_ = best["converged"]
        self.n_iter_ = best["n_iter"]
        self.lower_bound_ = float(best["lower_bound"])
        self.lower_bounds_ = [float(value) for value in best["history"]]

        if not return_labels:
            return None  # fit: the final E-step would only make labels
        # A final E-step, so that fit_predict(X) equals fit(X).predict(X) for
        # any max_iter and tol.
        return self._log_resp(data, best["params"])[1].argmax(axis=1)

    def _staged_restarts(self, data, checked, constant, seeds, n_jobs):
        """Mplus's ``STARTS = N1 N2``: the best run of the starts that continued.

        Every start runs ``initial_stage_iter`` iterations (at most
        ``max_iter``); the ``n_init_final`` with the largest lower bound then
        resume from their parameters and bound, as warm starts, for the rest
        of ``max_iter``. A resumed run is the same computation as an
        uninterrupted one, so its record (iterations, bounds) counts from its
        start. Survivors are chosen from the bounds alone and every run has
        its seed: the result does not depend on ``n_jobs``.
        """
        first_stage = limited(self, min(self.initial_stage_iter, self.max_iter))
        jobs = [(first_stage, init, seed, None) for init, seed in enumerate(seeds)]
        first = self._run_starts(data, checked, constant, jobs, n_jobs)
        kept = survivors([run["lower_bound"] for run in first], self.n_init_final)
        # A run that converged, or used up max_iter, is complete already.
        resumed = [
            init
            for init in kept
            if not first[init]["converged"] and first[init]["n_iter"] < self.max_iter
        ]
        if self.verbose >= 1:
            print(f"Final stage: initializations {kept} continue.")
        jobs = [
            (
                limited(self, self.max_iter - first[init]["n_iter"]),
                init,
                seeds[init],
                (first[init]["params"], first[init]["lower_bound"]),
            )
            for init in resumed
        ]
        rest = self._run_starts(data, checked, constant, jobs, n_jobs)
        final = dict(zip(resumed, rest, strict=True))
        return best_run(
            joined_run(first[init], final[init]) if init in final else first[init]
            for init in kept
        )

    #: Parameters that fix the shape of the fitted parameters: continuing a
    #: fit (warm_start, partial_fit) needs them unchanged.
    _structural_params = ("n_components",)

    def _record_structure(self):
        self._fitted_structure = {
            name: self._structure_value(name) for name in self._structural_params
        }

    def _structure_value(self, name):
        """The current value of structural parameter ``name``, comparable with ``!=``.

        A model whose structural parameter is an array returns a hashable
        normal form (a tuple).
        """
        return getattr(self, name)

    def _fitted_param(self, name):
        """The value of structural parameter ``name`` that the fitted model has.

        ``set_params`` may have changed the parameter since the fit; the
        fitted attributes keep the fit's structure until the next fit, so
        predictions read the fit's value. Before any fit, the current one.
        """
        fitted = getattr(self, "_fitted_structure", {})
        return fitted[name] if name in fitted else self._structure_value(name)

    def _check_continuation(self):
        """Refuse to continue fitted parameters of another shape or kind."""
        for name, fitted in getattr(self, "_fitted_structure", {}).items():
            current = self._structure_value(name)
            if current != fitted:
                raise ValueError(
                    f"{name}={current!r}, but the model was fitted with "
                    f"{name}={fitted!r}: continuing from the fitted parameters "
                    f"(warm_start=True, partial_fit) needs the same {name}. Set "
                    f"{name}={fitted!r}, or fit afresh (warm_start=False, or a "
                    "new estimator for partial_fit)."
                )

    def _run_starts(self, data, checked, constant, jobs, n_jobs):
        """The run record of each job ``(estimator, init, seed, start)``, in order.

        The jobs' estimators are ``self`` or copies of it with another
        ``max_iter`` (:func:`~._restarts.limited`). Runs that would go one
        after another (``n_jobs`` 1) on dense data go in lockstep
        (:meth:`_run_lockstep`); else each runs alone, ``n_jobs`` at a time.
        Lockstep changes no bit of any run, so the result never depends on
        the choice. It is off with verbose output, whose messages would
        interleave.
        """
        lockstep = (
            LOCKSTEP
            and len(jobs) > 1
            and not self.verbose
            and _backends.stacks_models(data.X)
            and effective_n_jobs(n_jobs) == 1
        )
        if lockstep:
            return self._run_lockstep(data, checked, constant, jobs)
        return Parallel(n_jobs=n_jobs)(
            delayed(estimator._run_em)(data, checked, constant, init, seed, start)
            for estimator, init, seed, start in jobs
        )

    def _run_em(self, data, checked, constant, init, seed, start):
        """One EM run from restart ``init``'s seed, or from ``start`` (warm).

        Pure: reads only parameters and its arguments (so runs can go to
        joblib workers) and returns the run as a dict. ``checked`` holds the
        sample weights (:class:`~skcoinmix._validation.ScaledWeights`),
        ``constant`` the weighted total of the per-row terms.
        """
        step_weight = unit_weights_as_none(checked.weights)

        def update(request):
            params, dtype = request
            return self._em_update(data, step_weight, checked, constant, params, dtype)

        return drive(self._em_steps(data, checked, init, seed, start), update)

    def _run_lockstep(self, data, checked, constant, jobs):
        """The jobs of :meth:`_run_starts` in lockstep: one stacked E-step a round.

        Each run is the coroutine :meth:`_em_steps`; every round evaluates
        the pending parameters of all runs still going, grouped by compute
        dtype, in one kernel call (:meth:`_em_update_many`). A run sees the
        evaluations it would see alone, up to the rounding of a product of
        stacked coefficients.
        """
        step_weight = unit_weights_as_none(checked.weights)
        coroutines = [
            estimator._em_steps(data, checked, init, seed, start)
            for estimator, init, seed, start in jobs
        ]

        def update_many(requests):
            results = [None] * len(requests)
            for dtype in {dtype for _, dtype in requests}:
                chosen = [i for i, (_, other) in enumerate(requests) if other == dtype]
                updates = self._em_update_many(
                    data,
                    step_weight,
                    checked,
                    constant,
                    [requests[i][0] for i in chosen],
                    dtype,
                )
                for i, update in zip(chosen, updates, strict=True):
                    results[i] = update
            return results

        return drive_together(coroutines, update_many)

    def _em_steps(self, data, checked, init, seed, start):
        """One EM run as a coroutine: yields ``(params, dtype)``, receives their update.

        ``dtype`` is the kernels' compute dtype for that evaluation (None: the
        data's). The run record (a dict) is the coroutine's return value; see
        :func:`~._accelerate.drive`.
        """
        self._print_verbose_msg_init_beg(init)
        if start is not None:
            params, lower_bound = start
        else:
            params = self._initialize(
                data, checked.weights, np.random.RandomState(seed)
            )
            lower_bound = -np.inf
        if self.accelerate == "squarem":
            loop = partial(
                squarem_steps, self._params_to_vector, self._params_from_vector
            )
        else:
            loop = plain_steps
        tol = self.tol

        def converged(bound, change):
            return abs(change) < tol

        if self.mixed_precision and self.max_iter > 2 and has_float32_path(data.X):
            run = yield from self._mixed_precision_steps(
                loop, params, lower_bound, converged
            )
        else:
            steps = loop(
                params=params,
                start_bound=lower_bound,
                max_iter=self.max_iter,
                converged=converged,
                report=self._print_verbose_msg_iter_end,
            )
            run = yield from tagged(steps, None)
        if self.max_iter > 0:
            self._print_verbose_msg_init_end(run["lower_bound"], run["converged"])
        return run

    def _mixed_precision_steps(self, loop, params, lower_bound, converged):
        """``loop`` in float32 until the bound stops rising beyond round-off, then float64.

        The float32 phase ends at the first update whose bound rises by less
        than ``max(tol, FLOAT32_RISE * |bound|)`` (a fall included), or when
        only two evaluations of ``max_iter`` are left: the float64 phase
        always runs, and gives every recorded bound. A coroutine, as
        :meth:`_em_steps`.
        """
        tol = self.tol

        def float32_done(bound, change):
            return change < max(tol, FLOAT32_RISE * abs(bound))

        first_steps = loop(
            params=params,
            start_bound=lower_bound,
            max_iter=self.max_iter - 2,
            converged=float32_done,
            report=self._print_verbose_msg_iter_end,
        )
        first = yield from tagged(first_steps, np.float32)
        offset = first["n_iter"]

        def report(n_iter, change):
            self._print_verbose_msg_iter_end(offset + n_iter, change)

        second_steps = loop(
            params=first["params"],
            start_bound=-np.inf,
            max_iter=self.max_iter - offset,
            converged=converged,
            report=report,
        )
        second = yield from tagged(second_steps, np.float64)
        return dict(second, n_iter=offset + second["n_iter"])

    def _em_update(self, data, step_weight, checked, constant, params, dtype=None):
        """One evaluation of the EM map: ``(lower bound at params, their update)``.

        ``dtype`` is the kernels' compute dtype (None: the data's).

        The lower bound is evaluated at the parameters before the M-step,
        exactly as in sklearn.mixture; a per-unit-weight mean, the same with
        the rescaled weights.
        """
        log_likelihood, stats = self._e_step(data, step_weight, params, dtype)
        return self._bound_and_update(log_likelihood, stats, params, checked, constant)

    def _em_update_many(
        self, data, step_weight, checked, constant, params_list, dtype=None
    ):
        """:meth:`_em_update` at each of ``params_list``, with one stacked E-step."""
        natural = [
            self._natural_params(data.encoding, params) for params in params_list
        ]
        coefs = tuple(
            np.concatenate(views)
            for views in zip(*(coefs for coefs, _ in natural), strict=True)
        )
        intercept = np.concatenate([intercept for _, intercept in natural])
        log_likelihoods, resp_sums, sums = backend_for(data.X).e_step_stacked(
            data.X,
            data.encoding,
            coefs,
            intercept,
            step_weight,
            len(params_list),
            dtype,
        )
        return [
            self._bound_and_update(
                float(log_likelihood),
                self._sufficient_stats(
                    data.encoding, resp_sum, [total[model] for total in sums]
                ),
                params,
                checked,
                constant,
            )
            for model, (log_likelihood, resp_sum, params) in enumerate(
                zip(log_likelihoods, resp_sums, params_list, strict=True)
            )
        ]

    def _bound_and_update(self, log_likelihood, stats, params, checked, constant):
        """The lower bound at ``params`` and their M-step, from their E-step."""
        log_likelihood += constant
        total_weight = checked.total
        log_prior = scaled_log_prior(
            self._log_prior(params), checked.exponent, total_weight
        )
        lower_bound = (log_likelihood + log_prior) / total_weight
        return lower_bound, self._m_step(stats, params, checked.exponent)

    def _params_to_vector(self, params):
        """All free parameters as one unconstrained vector: weights, then the model's."""
        model = self._to_vector(params)
        if not self.fit_weights:
            return model
        return np.concatenate([weights_to_vector(params["weights"]), model])

    def _params_from_vector(self, vector, template):
        """Valid parameters from :meth:`_params_to_vector`'s vector (fixed ones from ``template``)."""
        if not self.fit_weights:
            return self._from_vector(vector, template)
        K = len(template["weights"])
        params = self._from_vector(vector[K:], template)
        params["weights"] = weights_from_vector(vector[:K], template["weights"])
        return params

    # ------------------------------------------------------------- prediction
    def _estimate_log_prob_resp(self, X):
        check_is_fitted(self)
        data = self._prepare_data(X, reset=False)
        return self._log_resp(data, self._params_from_attributes())

    def score_samples(self, X):
        """Compute the log-likelihood of each sample under the model.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Data, one row per sample.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            ``log p(x_i)`` of each row; a lazy dask array for dask ``X``.
        """
        return self._estimate_log_prob_resp(X)[0]

    def score(self, X, y=None, sample_weight=None):
        """Compute the (weighted) mean log-likelihood per sample of ``X``.

        Inside :class:`~sklearn.model_selection.GridSearchCV`, sample weights
        reach this method through metadata routing: enable it with
        ``sklearn.set_config(enable_metadata_routing=True)`` and request them
        with ``estimator.set_score_request(sample_weight=True)`` (and
        ``set_fit_request`` for :meth:`fit`), then pass ``sample_weight`` to
        the search's ``fit``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Data, one row per sample.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative frequency weights.

        Returns
        -------
        log_likelihood : float
            ``sum_i w_i log p(x_i) / sum_i w_i``.
        """
        # A ratio: the same with the weights rescaled, whatever their scale.
        log_likelihood, total_weight, _ = self._total_log_likelihood(X, sample_weight)
        return log_likelihood / total_weight

    def predict(self, X):
        """Predict the most probable component of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Data, one row per sample.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component labels; a lazy dask array for dask ``X``.
        """
        return self._estimate_log_prob_resp(X)[1].argmax(axis=1)

    def predict_proba(self, X):
        """Compute the posterior probability of each component for each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Data, one row per sample.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
            The responsibilities ``p(k | x_i)``; each row sums to 1. A lazy
            dask array for dask ``X``.
        """
        return _backends.responsibilities(self._estimate_log_prob_resp(X)[1])

    def transform(self, X):
        """Map each sample to its responsibilities, for use inside a Pipeline.

        Same as :meth:`predict_proba`; the output features are named
        ``<classname>0``, ``<classname>1``, ... by
        :meth:`get_feature_names_out`.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Data, one row per sample.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
            The responsibilities ``p(k | x_i)``; a lazy dask array for dask
            ``X``.
        """
        return self.predict_proba(X)

    @property
    def _n_features_out(self):
        # The fitted model's, whatever set_params did since; before a fit this
        # raises AttributeError, which get_feature_names_out turns into
        # NotFittedError.
        try:
            return self._fitted_structure["n_components"]
        except AttributeError:
            raise AttributeError("_n_features_out is set by fit") from None

    def _total_log_likelihood(self, X, sample_weight):
        """``sum_i w_i log p(x_i)``, ``sum_i w_i`` and ``e``: the totals are times ``2**e``.

        The weights are rescaled by ``2**-e`` so that neither total
        overflows (see :func:`skcoinmix._validation.scale_sample_weight`).
        """
        log_prob = self.score_samples(X)
        checked = check_sample_weight(sample_weight, log_prob)
        return (
            weighted_sum(log_prob, checked.weights),
            checked.total,
            checked.exponent,
        )

    def _deviance_and_log_n(self, X, sample_weight, criterion):
        """``-2 log L`` and ``log N`` at the weights' own scale, for bic and aic."""
        log_likelihood, total, exponent = self._total_log_likelihood(X, sample_weight)
        deviance = unscale_total(
            -2.0 * log_likelihood, exponent, f"{criterion}'s -2 log-likelihood"
        )
        return deviance, log_unscaled(total, exponent)

    def bic(self, X, sample_weight=None):
        """Bayesian information criterion of the model on ``X``.

        ``-2 log L + p log N``, where ``log L`` is the (weighted) total
        log-likelihood, ``p`` the number of free parameters and ``N`` the
        (weighted) number of samples. Lower is better.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Data, one row per sample.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights; ``N`` is their sum.

        Returns
        -------
        bic : float
            The lower the better.

        Raises
        ------
        ValueError
            If the weighted total log-likelihood is beyond float64's range
            (weights summing to about 1e306 or more): rescale
            ``sample_weight``.
        """
        deviance, log_n = self._deviance_and_log_n(X, sample_weight, "bic")
        return deviance + self.n_parameters_ * log_n

    def aic(self, X, sample_weight=None):
        """Akaike information criterion of the model on ``X``.

        ``-2 log L + 2 p``, with ``log L`` and ``p`` as in :meth:`bic`.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Data, one row per sample.

        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights.

        Returns
        -------
        aic : float
            The lower the better.

        Raises
        ------
        ValueError
            If the weighted total log-likelihood is beyond float64's range
            (see :meth:`bic`).
        """
        deviance, _ = self._deviance_and_log_n(X, sample_weight, "aic")
        return deviance + 2.0 * self.n_parameters_

    # --------------------------------------------------------- mixing weights
    # Every model has weights_, fit_weights and weights_init: the mixing
    # weights' start and M-step are the engine's, whatever the components.
    def _start_weights(self, resp_sum=None):
        """``weights_init``, else the shares of ``resp_sum`` (when fitted), else uniform.

        Parameters
        ----------
        resp_sum : ndarray of shape (K,) or None
            The starting responsibilities' mass; None for a start the user
            gave (``means_init``, ``probs_init``).
        """
        K = self.n_components
        if self.weights_init is not None:
            return check_weights_init(self.weights_init, K)
        if resp_sum is not None and self.fit_weights:
            return resp_sum / resp_sum.sum()
        return np.full(K, 1.0 / K)

    def _weights_step(self, resp_sum, weights):
        """M-step of the mixing weights: ``N_k / N``, or kept (``fit_weights=False``)."""
        return resp_sum / resp_sum.sum() if self.fit_weights else weights

    # -------------------------------------------------------------- sampling
    def _check_n_samples(self, n_samples):
        """For ``sample``: fitted, and ``n_samples`` an integer of at least 1."""
        check_is_fitted(self)
        if (
            not isinstance(n_samples, int | np.integer)
            or isinstance(n_samples, bool)
            or n_samples < 1
        ):
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling "
                "requires an integer of at least 1."
            )

    def _component_sizes(self, n_samples):
        """``(rng, counts)``: the rows of each component, as GaussianMixture draws them.

        ``rng`` from ``random_state`` (then used for the rows themselves),
        ``counts`` of shape (K,) multinomial with the mixing weights.
        """
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_ / self.weights_.sum())
        return rng, counts

    # ------------------------------------------------------------------ misc
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        return tags

    def _print_verbose_msg_init_beg(self, n_init):
        if self.verbose >= 1:
            print(f"Initialization {n_init}")
        if self.verbose >= 2:
            self._init_prev_time = self._iter_prev_time = time()

    def _print_verbose_msg_iter_end(self, n_iter, change):
        if n_iter % self.verbose_interval != 0:
            return
        if self.verbose == 1:
            print(f"  Iteration {n_iter}")
        elif self.verbose >= 2:
            now = time()
            print(
                f"  Iteration {n_iter}\t time lapse {now - self._iter_prev_time:.5f}s"
                f"\t ll change {change:.5f}"
            )
            self._iter_prev_time = now

    def _print_verbose_msg_init_end(self, lower_bound, converged):
        status = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {status}.")
        elif self.verbose >= 2:
            elapsed = time() - self._init_prev_time
            print(
                f"Initialization {status}. time lapse {elapsed:.5f}s\t "
                f"lower bound {lower_bound:.5f}."
            )
