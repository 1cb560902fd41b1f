"""Kernels by storage: dense arrays and ``scipy.sparse`` matrices share an interface.

Each backend module provides ``e_step(X, coef, intercept, sample_weight)``,
``log_resp(X, coef, intercept)`` and ``weighted_sums(X, weights)`` for
mixtures whose log-likelihood is linear in the data (see :mod:`.dense`).
"""

# SPDX-License-Identifier: BSD-3-Clause

import scipy.sparse as sp

from . import dense, sparse

__all__ = ["backend_for"]


def backend_for(X):
    """The kernel module for ``X``: :mod:`.sparse` or :mod:`.dense`."""
    return sparse if sp.issparse(X) else dense
