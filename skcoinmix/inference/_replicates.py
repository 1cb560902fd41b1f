"""Parametric bootstrap replicates: data drawn from a fitted model, in X's design.

A replicate has one row per (frequency-weighted) row of the data ``X`` and
keeps what the design fixed rather than the model: each row's missingness
pattern and, for binomial counts given as successes and failures, each
entry's number of trials. Only the answers are drawn, from the fitted
mixture: a class per row, then every observed entry given the class.

Each model needs a small piece of its own (what its answers are, what its
refits must be told); it lives here in small pure functions, so that the
model files stay untouched. Shapes: ``N`` rows of the replicate, ``d``
items, ``K`` classes.
"""

# SPDX-License-Identifier: BSD-3-Clause

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array

from .. import _backends
from .._bernoulli import BernoulliMixtureEM
from .._binomial import BinomialMixtureEM
from .._categorical import CategoricalMixtureEM
from .._validation import missing_mask

__all__ = ["ReplicatePlan", "plan_replicates"]


# ------------------------------------------------------------ pure functions
def draw_classes(weights, n_rows, rng):
    """The class of each row of a replicate, drawn with the mixing weights.

    Parameters
    ----------
    weights : ndarray of shape (K,)
    n_rows : int
    rng : numpy.random.Generator

    Returns
    -------
    classes : ndarray of shape (n_rows,), int
    """
    return rng.choice(len(weights), size=n_rows, p=weights / weights.sum())


def bernoulli_rows(weights, means, observed, n_rows, rng):
    """0/1 answers drawn from a Bernoulli mixture, NaN where not ``observed``.

    Parameters
    ----------
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, d)
    observed : ndarray of shape (n_rows, d), bool, or None
        None: every entry is observed.
    n_rows : int
    rng : numpy.random.Generator

    Returns
    -------
    X : ndarray of shape (n_rows, d)
        uint8 when every entry is observed, else float64 with NaN.
    """
    classes = draw_classes(weights, n_rows, rng)
    ones = rng.random((n_rows, means.shape[1])) < means[classes]
    return _with_missing(ones, observed)


def binomial_rows(weights, means, n_trials, observed, n_rows, rng):
    """Counts of successes drawn from a binomial mixture of fixed trials.

    Parameters
    ----------
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, d)
    n_trials : ndarray of shape (d,), int64
    observed : ndarray of shape (n_rows, d), bool, or None
    n_rows : int
    rng : numpy.random.Generator

    Returns
    -------
    X : ndarray of shape (n_rows, d), float64
        NaN where not observed.
    """
    classes = draw_classes(weights, n_rows, rng)
    counts = rng.binomial(n_trials, means[classes]).astype(np.float64)
    return _with_missing(counts, observed)


def paired_rows(weights, means, trials, rng):
    """Successes and failures drawn for each entry's own number of trials.

    Parameters
    ----------
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, d)
    trials : ndarray of shape (N, d), float64
        Each entry's trials (whole numbers); NaN for a missing entry.
    rng : numpy.random.Generator

    Returns
    -------
    X : ndarray of shape (N, 2 d), float64
        ``np.hstack([successes, failures])``, both NaN where missing.
    """
    classes = draw_classes(weights, trials.shape[0], rng)
    missing = np.isnan(trials)
    whole = np.where(missing, 0, trials).astype(np.int64)
    successes = rng.binomial(whole, means[classes]).astype(np.float64)
    failures = whole - successes
    successes[missing] = np.nan
    failures[missing] = np.nan
    return np.hstack([successes, failures])


def category_codes(weights, probs, observed, n_rows, rng):
    """Category codes ``0..C_j - 1`` drawn from a categorical mixture.

    Parameters
    ----------
    weights : ndarray of shape (K,)
    probs : list of d ndarrays of shape (K, C_j)
    observed : ndarray of shape (n_rows, d), bool, or None
    n_rows : int
    rng : numpy.random.Generator

    Returns
    -------
    codes : ndarray of shape (n_rows, d)
        int64 when every entry is observed, else float64 with NaN.
    """
    classes = draw_classes(weights, n_rows, rng)
    codes = np.empty((n_rows, len(probs)), dtype=np.int64)
    uniforms = rng.random((n_rows, len(probs)))
    for j, item_probs in enumerate(probs):
        cumulative = np.cumsum(item_probs, axis=1)
        cumulative /= cumulative[:, -1:]
        # The first category whose cumulative probability exceeds the draw.
        below = cumulative[classes] <= uniforms[:, j : j + 1]
        codes[:, j] = np.minimum(below.sum(axis=1), item_probs.shape[1] - 1)
    return _with_missing(codes, observed)


def _with_missing(values, observed):
    """``values`` as is when complete, else as float64 with NaN where not observed."""
    if observed is None:
        return values.astype(np.uint8) if values.dtype == bool else values
    out = values.astype(np.float64)
    out[~observed] = np.nan
    return out


def expand_rows(values, repeats):
    """Each row of ``values`` repeated ``repeats[i]`` times (``None``: as is)."""
    if values is None or repeats is None:
        return values
    return np.repeat(values, repeats, axis=0)


# -------------------------------------------------------------- the plans
@dataclass(frozen=True)
class ReplicatePlan:
    """How to draw a replicate, and what the models refitted to it are told.

    Attributes
    ----------
    simulate : callable
        ``simulate(rng)`` returns one replicate (a pure function of the
        generator, picklable for joblib's workers).
    refit_params : dict
        Parameters set on the refitted models on top of the estimator's own:
        what makes them read the replicates as the fitted model read ``X``.
    """

    simulate: object
    refit_params: dict = field(default_factory=dict)


def plan_replicates(null, X, repeats):
    """The replicates of the bootstrap of ``null``, fitted to ``X``.

    Parameters
    ----------
    null : fitted BernoulliMixtureEM, BinomialMixtureEM or CategoricalMixtureEM
        The model the replicates are drawn from.
    X : {array-like, sparse matrix}
        The data ``null`` was fitted to: what the replicates keep of its
        design (missingness patterns, trials).
    repeats : ndarray of shape (n_samples,), int, or None
        Integer frequency weights: row ``i``'s design is kept by
        ``repeats[i]`` rows of every replicate. None: once each.

    Returns
    -------
    plan : ReplicatePlan
    """
    n_rows = X.shape[0] if repeats is None else int(repeats.sum())
    weights = np.asarray(null.weights_, dtype=np.float64)
    if isinstance(null, CategoricalMixtureEM):
        observed = expand_rows(_observed_answers(X), repeats)
        probs = [np.asarray(block, dtype=np.float64) for block in null.probs_]
        # Replicates are codes; the refits are told every category, so that a
        # category a replicate happens not to draw keeps its parameters.
        categories = [np.arange(block.shape[1]) for block in probs]
        return ReplicatePlan(
            partial(category_codes, weights, probs, observed, n_rows),
            {"categories": categories},
        )
    if isinstance(null, BernoulliMixtureEM):
        observed = expand_rows(_observed_entries(null, X), repeats)
        # The replicates are 0/1 already: no threshold must move them.
        return ReplicatePlan(
            partial(bernoulli_rows, weights, null.means_.copy(), observed, n_rows),
            {"binarize": None},
        )
    if isinstance(null, BinomialMixtureEM):
        if null.n_trials_ is None:  # paired successes and failures
            trials = expand_rows(_paired_trials(null, X), repeats)
            return ReplicatePlan(
                partial(paired_rows, weights, null.means_.copy(), trials)
            )
        observed = expand_rows(_observed_entries(null, X), repeats)
        n_trials = null.n_trials_.astype(np.int64)
        return ReplicatePlan(
            partial(
                binomial_rows, weights, null.means_.copy(), n_trials, observed, n_rows
            )
        )
    raise TypeError(  # pragma: no cover - bootstrap_lrt checks the type first
        f"No parametric bootstrap is known for {type(null).__name__}."
    )


def _observed_or_none(observed):
    return None if observed.all() else observed


def _observed_answers(X):
    """Which answers of categorical ``X`` are given (not NaN, None or NA); None: all."""
    if hasattr(X, "dtypes") and any(
        not isinstance(dtype, np.dtype) for dtype in X.dtypes
    ):
        X = X.astype(object)  # pandas extension columns, NA kept
    values = check_array(X, dtype=None, ensure_all_finite=False)
    return _observed_or_none(~missing_mask(values))


def _observed_entries(null, X):
    """Which entries of numeric ``X`` are observed (not NaN); None when all are."""
    X = _backends.validate_input(null, X, reset=False)
    if sp.issparse(X) or X.dtype.kind != "f":
        return None  # sparse data and integer dtypes hold no NaN
    return _observed_or_none(~np.isnan(X))


def _paired_trials(null, X):
    """Each entry's trials ``s + f`` of paired data, NaN when missing: (n, d)."""
    X = _backends.validate_input(null, X, reset=False)
    X = X.toarray() if sp.issparse(X) else X
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1] // 2
    trials = X[:, :d] + X[:, d:]  # NaN in either makes the entry missing
    observed = ~np.isnan(trials)
    if np.any(trials[observed] != np.round(trials[observed])):
        raise ValueError(
            "bootstrap_lrt draws binomial counts for each entry's trials "
            "(successes + failures), which must then be whole numbers; X has "
            "fractional ones. Round the counts, or test with whole counts."
        )
    return trials
