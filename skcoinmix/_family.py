"""The family contract: what every mixture model of skcoinmix is, once written down.

Every model here has a log-likelihood that is *linear in an encoding of the
data*: for row ``x_i`` and component ``k``,

.. code-block:: text

    log p(x_i | k) + log w_k = sum_v view_v(x_i) . coef_v[k] + b_k + c_i

with ``V`` views of the row (each a vector of the same length ``D``), natural
parameters ``coef_v`` of shape (K, D) and ``b`` of shape (K,), and a per-row
term ``c_i`` that does not depend on ``k`` (it moves ``log p(x_i)``, never
the responsibilities). The E-step is then ``V`` matrix products per block of
rows, the M-step's sufficient statistics ``sum_i w_i r_ik view_v(x_i)`` ``V``
more, and both run in the storage-specific kernels of
:mod:`skcoinmix._backends`, which know no model. Examples:

========================  ================================  ======================  ==========================
model                     views                             coefs                   ``c_i``
========================  ================================  ======================  ==========================
Bernoulli                 ``x``                             ``logit t``             0
Bernoulli, NaN missing    ``x`` (NaN as 0), observed mask   ``logit t, log(1-t)``   0
tied Bernoulli            counts of ones and zeros per row  ``log t, log(1-t)``     0
binomial, ``n`` trials    ``x``, observed mask              ``logit t, n log(1-t)`` ``sum_j log C(n_j, x_ij)``
binomial, pairs ``s, f``  ``s``, ``s + f``                  ``logit t, log(1-t)``   ``sum_j log C(s+f, s)``
categorical               one-hot (missing item: all 0)     ``log t``               0
Poisson                   ``x``, observed mask              ``log l, -l``           ``-sum_j log x_ij!``
========================  ================================  ======================  ==========================

A model supplies an :class:`Encoding` (how a block of rows becomes its views,
the per-row term, and how its natural parameters and statistics are laid
out) and the hooks of :class:`MixtureModel`; the engine
(:mod:`skcoinmix._em`), the initialisation (:mod:`skcoinmix._init`) and the
kernels depend on nothing else. An encoding is applied to one block of rows
at a time, so ``uint8``, sparse and dask input is never expanded whole.

This module imports nothing of skcoinmix: everything else may import it.
"""

# SPDX-License-Identifier: BSD-3-Clause

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

__all__ = ["Data", "Encoding", "MixtureModel", "masked_views"]


class Encoding(Protocol):
    """How a model reads a block of rows: its views, per-row term and statistics.

    Implementations are small frozen dataclasses defined in the model's file;
    they travel to dask workers with every task, so they hold only what the
    encoding needs (a flag, a vector of trials), never the data.
    """

    #: The number of views ``V``.
    n_views: int

    #: Whether :meth:`row_term` can be nonzero (False: it returns None).
    has_row_term: bool

    #: Optional: the bytes of views a block of rows should fill in the dense
    #: kernels (their ``BLOCK_BYTES`` when absent). An encoding much wider
    #: than the rows it reads (one-hot) sets it lower, so that its buffers,
    #: one per kernel thread, stay small next to the data.
    block_bytes: int

    def n_columns(self, n_features):
        """The length ``D`` of each view for data of ``n_features`` columns."""

    def encode(self, block, buffers):
        """The views of a dense block of rows.

        Parameters
        ----------
        block : ndarray of shape (rows, n_features)
            Rows of the stored data, of any dtype the model accepts.
        buffers : list of ``n_views`` ndarrays of shape (rows, D)
            Scratch space in the compute dtype (float64, or float32 for
            float32 data), reused from block to block.

        Returns
        -------
        views : list of ``n_views`` ndarrays of shape (rows, D)
            In the compute dtype: the buffers, filled, or ``block`` itself
            when it already is the single view (no copy).
        """

    def encode_sparse(self, block):
        """The views of a ``scipy.sparse`` block: a list of sparse (rows, D)."""

    def row_term(self, block):
        """``c_i`` of each row of ``block`` (dense or sparse): (rows,) float64, or None for 0.

        It depends on no parameter: predictions add it to ``log p(x_i)``, and
        a fit adds its weighted total once to the log-likelihood.
        """

    def linear_params(self, weights, params):
        """``(coefs, intercept)``: ``n_views`` arrays of shape (K, D), and (K,)."""

    def stats(self, resp_sum, sums):
        """The model's additive statistics from the kernels' sums.

        Parameters
        ----------
        resp_sum : ndarray of shape (K,)
            ``sum_i w_i r_ik``.
        sums : list of ``n_views`` ndarrays of shape (K, D)
            ``sum_i w_i r_ik view_v(x_i)``.

        Returns
        -------
        stats : dict of str to ndarray
            Sums over rows: added across blocks, chunks and mini-batches.
        """

    def clustering_features(self, X):
        """What k-means clusters to start: dense float64 (rows, m) from rows ``X``."""


def masked_views(block, buffers, missing):
    """The views of full-information maximum likelihood: values, and the observed mask.

    The encoding of any model whose missing entries are NaN and whose
    log-likelihood sums over the observed entries: ``x`` with NaN read as 0
    and, with ``missing``, the mask of observed entries (two views).

    Parameters
    ----------
    block : ndarray of shape (rows, d)
        Any real, integer or bool dtype.
    buffers : list of 1 or 2 ndarrays of shape (rows, d)
        In the compute dtype.
    missing : bool
        Whether NaN may mark missing entries.

    Returns
    -------
    views : list of 1 or 2 ndarrays of shape (rows, d)
        ``block`` itself when it is complete and in the compute dtype.
    """
    if block.dtype == bool:
        block = block.view(np.uint8)  # numpy converts uint8 to float faster
    if not missing and block.dtype == buffers[0].dtype:
        return [block]
    np.copyto(buffers[0], block, casting="unsafe")
    if missing:
        unobserved = np.isnan(block)
        buffers[0][unobserved] = 0
        np.logical_not(unobserved, out=buffers[1], casting="unsafe")
    return buffers


@dataclass(frozen=True)
class Data:
    """Prepared data: the stored rows and the encoding that reads them.

    Attributes
    ----------
    X : {ndarray, sparse matrix, dask array} of shape (n, n_features)
        What the kernels iterate over, block by block.
    encoding : Encoding
    """

    X: Any
    encoding: Any

    @property
    def n_samples(self):
        return self.X.shape[0]

    def take(self, rows):
        """The same data restricted to ``rows`` (an index array), in memory."""
        X = self.X.tocsr() if sp.issparse(self.X) else self.X
        return Data(X[rows], self.encoding)

    def with_rows(self, X):
        """The same kind of data holding the rows ``X`` (gathered from a dask array)."""
        return Data(X, self.encoding)

    def clustering_features(self):
        """What k-means clusters: see :meth:`Encoding.clustering_features`."""
        return self.encoding.clustering_features(self.X)


class MixtureModel(Protocol):
    """The hooks a model fills in for the engine (:class:`skcoinmix._em.BaseMixtureEM`).

    Parameters travel as plain dictionaries (``params``), never through the
    estimator's fitted attributes, so a fit is a pure computation written to
    the estimator in one step at the end.
    """

    def _prepare_data(self, X, *, reset, fitting=False) -> Data:
        """Validate ``X`` (refusing data that cannot train when ``fitting``)."""

    def _check_initial_parameters(self, data: Data) -> None:
        """Check user-supplied starting values against the data."""

    def _user_start(self, data: Data) -> dict | None:
        """The start the user gave (``means_init``...), or None."""

    def _start_params(self, stats: dict, encoding) -> dict:
        """Parameters from the statistics of starting responsibilities."""

    def _natural_params(self, encoding, params: dict):
        """``(coefs, intercept)`` of ``params`` under ``encoding``."""

    def _m_step(self, stats: dict, params: dict, weight_exponent: int = 0) -> dict:
        """Parameters maximising the expected complete objective."""

    def _log_prior(self, params: dict) -> float:
        """Log prior density of ``params`` (0 for maximum likelihood)."""

    def _count_parameters(self) -> int:
        """Free parameters under the current settings (a fit stores ``n_parameters_``)."""

    def _params_from_attributes(self) -> dict:
        """The fitted attributes as parameters."""

    def _set_fitted_params(self, params: dict) -> None:
        """Write parameters to the public fitted attributes."""

    def sample(self, n_samples=1) -> tuple[np.ndarray, np.ndarray]:
        """Draw rows from the fitted mixture."""
