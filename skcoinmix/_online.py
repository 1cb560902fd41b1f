"""Online (stepwise) EM: ``partial_fit`` for every mixture of the engine.

A mixin of :class:`skcoinmix._em.BaseMixtureEM`: each call runs one E-step
on its mini-batch through the engine's hooks and moves running sufficient
statistics towards the batch's (Cappe & Moulines, 2009), then an M-step.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state

from ._backends import check_sample_weight, row_term_total, unit_weights_as_none
from ._em_state import add_scaled, num_samples, transaction

__all__ = ["OnlineEMMixin"]


class OnlineEMMixin:
    """``partial_fit``: online EM on mini-batches, through the engine's hooks."""

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the model with one mini-batch: online (stepwise) EM.

        Each call runs one E-step on the batch and moves the running
        sufficient statistics (per-sample averages) towards the batch's:
        ``s_t = (1 - g_t) s_{t-1} + g_t s(batch)``, with the step size
        ``g_t = ((1 + learning_offset) / (t + learning_offset)) ** learning_decay``
        (``g_1 = 1``), then an M-step on ``s_t`` (Cappe & Moulines, 2009).
        With ``0.5 < learning_decay <= 1`` the estimates converge; a few
        passes over the data in shuffled batches come close to batch EM. The
        first call initialises the model from its batch (or ``means_init``,
        ``weights_init``); after :meth:`fit`, it continues from the fitted
        parameters.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            One mini-batch.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative frequency weights.

        Returns
        -------
        self : object
            The updated mixture.
        """
        return transaction(self, self._partial_fit, X, sample_weight)

    def _partial_fit(self, X, sample_weight):
        first = not hasattr(self, "converged_")
        if not first:
            # scikit-learn's _fit_context validates the parameters of a
            # partial_fit only on the first call; they may have changed since.
            self._validate_params()
            self._check_continuation()
        # Later batches may lack what one batch of a stream lacks (a column);
        # the first one initialises the model and must be able to.
        data = self._prepare_data(X, reset=first, fitting=first)
        n_samples = num_samples(data)
        checked = check_sample_weight(sample_weight, data.X)
        sample_weight, batch_weight = checked.weights, checked.total
        if first:
            if n_samples < self.n_components:
                raise ValueError(
                    f"The first batch initialises the model and needs at least "
                    f"n_components = {self.n_components} rows, but has "
                    f"{n_samples}."
                )
            self._check_initial_parameters(data)
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            params = self._initialize(data, sample_weight, np.random.RandomState(seed))
        else:
            params = self._params_from_attributes()
        online = getattr(self, "_online_state", None) or {
            "step": 0,
            "seen": 0.0,
            "seen_exponent": 0,
            "stats": None,
        }
        unit = unit_weights_as_none(sample_weight)
        log_likelihood, stats = self._e_step(data, unit, params)
        log_likelihood += row_term_total(data.X, data.encoding, unit)
        step = online["step"] + 1
        gain = ((1.0 + self.learning_offset) / (step + self.learning_offset)) ** (
            self.learning_decay
        )
        averages = {key: value / batch_weight for key, value in stats.items()}
        if online["stats"] is not None:
            averages = {
                key: (1.0 - gain) * online["stats"][key] + gain * averages[key]
                for key in averages
            }
        # The weight seen so far is seen * 2**seen_exponent: batches' weights
        # of any scale add up without overflow.
        seen, seen_exponent = add_scaled(
            online["seen"],
            online.get("seen_exponent", 0),
            batch_weight,
            checked.exponent,
        )
        # The M-step sees the averages as counts over all the weight seen, so
        # that alpha weighs against the data as in batch EM.
        params = self._m_step(
            {key: value * seen for key, value in averages.items()},
            params,
            seen_exponent,
        )

        # The online history starts afresh after a fit: the fit's bounds are
        # full-data means per iteration, these are one batch's each.
        history = getattr(self, "lower_bounds_", []) if online["step"] else []
        self._set_fitted_params(params)
        self._record_structure()
        self.n_parameters_ = int(self._count_parameters())
        self._online_state = {
            "step": step,
            "seen": seen,
            "seen_exponent": seen_exponent,
            "stats": averages,
        }
        self.n_steps_ = step
        self.n_iter_ = step
        self.converged_ = False
        self.lower_bound_ = log_likelihood / batch_weight
        self.lower_bounds_ = [*history, self.lower_bound_]
        return self
