"""Plain-numpy references and the input paths shared by the test modules.

Everything here is written from the model's definition alone, independent of
the package: one EM update and the E-step in dense float64 linear algebra,
with NaN read as a missing entry (full-information maximum likelihood).

``LAYOUTS`` lists every storage the estimator accepts (dask arrays too, when
dask is installed); a test that loops over it covers every input path. To add
one, add an entry, and return predictions through :func:`as_numpy` (which
computes lazy arrays).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import betaln, logsumexp
from scipy.stats import bernoulli

#: Probabilities are kept inside [1e-10, 1 - 1e-10] (README.md, "The
#: estimator"; ``BernoulliMixtureEM.means_``), also the starts given as
#: ``means_init``.
MEAN_BOUND = 1e-10

#: Relative tolerances of a path against the float64 reference. 1e-10 is what
#: test_backends.py asks of every float64 kernel: a million times float64's
#: unit round-off (1.1e-16), room for the different summation orders of
#: blocks, threads and sparse products over a few EM updates. float32 data
#: are computed in float32 (skcoinmix/_backends/dense.py): 1e-5 is about 100
#: times float32's unit round-off (6e-8), as in test_backends.py and
#: test_missing.py.
RTOL = {np.float64: 1e-10, np.float32: 1e-5}


def log_prob_atol(means, dtype):
    """Absolute round-off bound of ``log p(x | k)`` computed in ``dtype``.

    The kernels compute ``x . coef_k + intercept_k`` with
    ``coef_kj = log t_kj - log(1 - t_kj)`` and
    ``intercept_k = sum_j log(1 - t_kj)``: at most ``2 d`` rounded terms, each
    at most ``2 L`` in magnitude, where ``L`` is the largest ``|log t|`` or
    ``|log(1 - t)|`` of ``means`` (23.03 at the bound 1e-10). A sum of ``m``
    terms is off by at most ``m u sum |terms|`` with ``u = eps / 2``
    (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
    eq. (4.4)), here ``2 d * eps / 2 * 3 d L``. Needed where terms cancel,
    e.g. ``+23.03 - 23.03`` for a column of ones fitted by ``1 - 1e-10``,
    leaving ``-1e-10`` that no relative tolerance can compare.

    Parameters
    ----------
    means : ndarray of shape (K, d)
    dtype : float32 or float64

    Returns
    -------
    atol : float
    """
    means = np.clip(means, MEAN_BOUND, 1 - MEAN_BOUND)
    largest = max(-np.log(means).min(), -np.log1p(-means).min())
    return 3 * means.shape[1] ** 2 * largest * float(np.finfo(dtype).eps)


def float32_update_rtol(X, weights, means):
    """Relative round-off bound of one EM update of ``X`` computed in float32.

    float32 data are computed in float32 (skcoinmix/_backends/dense.py): row
    ``i``'s ``log p(x_i | k) + log w_k`` is a sum of ``m`` rounded terms
    (``x_ij coef_kj``, the intercept and, with missing entries,
    ``observed_ij log(1 - t_kj)``), off by at most ``m u S_ik`` with
    ``S_ik = sum |terms|`` and ``u = eps32 / 2`` (Higham, *Accuracy and
    Stability of Numerical Algorithms*, 2nd ed., sec. 3.1: inner products,
    ``m u`` standing for ``gamma_m``). A posterior
    ``exp(s_k - logsumexp(s))`` is then off by at most twice that,
    relatively; a mean or weight, a ratio of sums of positive weighted
    posteriors, by at most four times that, plus the round-off of those sums:
    accumulated in float32 within a block of rows (at most ``n``) and in
    float64 across blocks, at most ``n u`` each. The bound is data-dependent,
    unlike a fixed 1e-5: rows with many ones and means near 0 or 1 make
    larger terms.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n, d)
        0/1 data, NaN for a missing entry.
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, d) or (K, 1)
        The parameters the update starts from (tied means broadcast).

    Returns
    -------
    rtol : float
        ``4 m u max_ik S_ik + 2 n u``, over the components of positive weight.
    """
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    n_features = X.shape[1]
    keep = np.asarray(weights) > 0
    means = np.broadcast_to(means, (len(keep), n_features))[keep]
    means = np.clip(means, MEAN_BOUND, 1 - MEAN_BOUND)
    log_weights = np.log(np.asarray(weights)[keep])
    log_t, log_not_t = np.log(means), np.log1p(-means)
    observed = ~np.isnan(X)
    ones = np.where(observed, X, 0.0)
    terms = ones @ np.abs(log_t - log_not_t).T + np.abs(log_weights)
    if observed.all():
        n_terms = n_features + 1  # the intercept sum_j log(1 - t_kj) + log w_k
        terms += np.abs(log_not_t.sum(axis=1))
    else:
        n_terms = 2 * n_features + 1
        terms += observed @ np.abs(log_not_t).T
    unit_roundoff = float(np.finfo(np.float32).eps) / 2
    n_samples = X.shape[0]
    return (4 * n_terms * float(terms.max()) + 2 * n_samples) * unit_roundoff


def posterior_rtol(got, want):
    """How far two fits' posteriors may differ, relatively, given their parameters.

    ``log r_ik = log w_k + sum_j log t_kj^x (1 - t_kj)^(1 - x) - logsumexp``:
    a change ``dt`` moves ``log t`` by ``dt / t`` and ``log(1 - t)`` by
    ``dt / (1 - t)``, so each joint term moves by at most
    ``|dw_k| / w_k + sum_j |dt_kj| / min(t_kj, 1 - t_kj)`` and a posterior,
    relatively, by at most twice the largest over ``k`` (to first order).
    So a mean near 1 that agrees to rounding relatively (1 - 1e-10 for the
    other 1 - 1.000000004e-10) can move small posteriors by far more (4e-9).

    Parameters
    ----------
    got, want : fitted BernoulliMixtureEM

    Returns
    -------
    rtol : float
    """
    means = np.clip(want.means_, MEAN_BOUND, 1 - MEAN_BOUND)
    d_means = np.abs(got.means_ - want.means_) / np.minimum(means, 1 - means)
    tiny = np.finfo(np.float64).tiny
    d_weights = np.abs(got.weights_ - want.weights_) / np.maximum(want.weights_, tiny)
    n_features = want.n_features_in_
    per_feature = np.broadcast_to(d_means, (len(want.weights_), n_features))
    return 2 * float(np.max(d_weights + per_feature.sum(axis=1)))


# ------------------------------------------------------------- data makers
def random_problem(rng, n_samples=200, n_features=8, n_components=3):
    """0/1 rows drawn from a random mixture: ``X`` (float), labels, means."""
    means = rng.uniform(0.05, 0.95, size=(n_components, n_features))
    labels = rng.integers(n_components, size=n_samples)
    X = (rng.uniform(size=(n_samples, n_features)) < means[labels]).astype(float)
    return X, labels, means


@dataclass(frozen=True)
class Layout:
    """One way of storing 0/1 data (NaN: missing) that the estimator accepts."""

    convert: object
    dtype: type = np.float64  # the kernels' compute dtype
    missing: bool = False  # keeps NaN (only then may X hold NaN)
    sparse: bool = False


def _dense(dtype):
    return lambda X: np.asarray(X, dtype=dtype)


#: Every in-memory input path, by name.
LAYOUTS = {
    "float64": Layout(_dense(np.float64)),
    "float64 F-order": Layout(lambda X: np.asfortranarray(X, dtype=np.float64)),
    "float32": Layout(_dense(np.float32), dtype=np.float32),
    "uint8": Layout(_dense(np.uint8)),
    "bool": Layout(_dense(bool)),
    "csr": Layout(sp.csr_matrix, sparse=True),
    "csc": Layout(sp.csc_matrix, sparse=True),
    "csr float32": Layout(
        lambda X: sp.csr_matrix(X, dtype=np.float32), dtype=np.float32, sparse=True
    ),
    "float64 NaN": Layout(_dense(np.float64), missing=True),
    "float32 NaN": Layout(_dense(np.float32), dtype=np.float32, missing=True),
}


def _dask(dtype):
    """Dask arrays in chunks of 7 rows (several chunks, a short last one)."""

    def convert(X):
        import dask.array as da

        return da.from_array(np.asarray(X, dtype=dtype), chunks=(7, -1))

    return convert


try:
    import dask.array  # noqa: F401 - the optional dependency, if installed
except ImportError:  # the dask layouts are tested where dask is installed
    pass
else:
    LAYOUTS["dask uint8"] = Layout(_dask(np.uint8))
    LAYOUTS["dask float64 NaN"] = Layout(_dask(np.float64), missing=True)


def as_numpy(value):
    """A prediction as an ndarray: lazy (dask) results are computed."""
    if hasattr(value, "compute"):
        value = value.compute()
    return np.asarray(value)


# -------------------------------------------------------------- references
def _views(X):
    """``X`` with NaN read as 0, and the observed mask, both float64."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    observed = ~np.isnan(X)
    return np.where(observed, X, 0.0), observed.astype(np.float64)


def reference_log_joint(X, weights, means):
    """``log w_k + sum_j log p(x_ij | t_kj)`` over the observed entries, (n, K)."""
    ones, observed = _views(X)
    with np.errstate(divide="ignore"):  # a weight of 0 is log 0 = -inf
        log_weights = np.log(weights)
    return ones @ np.log(means).T + (observed - ones) @ np.log1p(-means).T + log_weights


def reference_score_samples(X, weights, means):
    """``log p(x_i)``, summed over the observed entries."""
    return logsumexp(reference_log_joint(X, weights, means), axis=1)


def reference_predict_proba(X, weights, means):
    """``p(k | x_i)``."""
    joint = reference_log_joint(X, weights, means)
    return np.exp(joint - logsumexp(joint, axis=1, keepdims=True))


def reference_em_update(
    X, sample_weight, weights, means, alpha=0.0, tied=False, fit_weights=True
):
    """One EM update in plain linear algebra, independent of the package.

    Missing entries (NaN) are left out of the likelihood and of the counts
    (full-information maximum likelihood). The M-step is the MAP estimate
    under a Beta(alpha + 1, alpha + 1) prior, clipped to [MEAN_BOUND,
    1 - MEAN_BOUND]; a component with no expected trials at all keeps its
    probabilities (every value maximises its empty likelihood).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n, d)
    sample_weight : ndarray of shape (n,) or None
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, d)
        Clipped to the bound first, as the estimator clips ``means_init``.
    alpha : float
    tied : bool
        One probability per component (``means`` has constant rows).
    fit_weights : bool

    Returns
    -------
    new_weights : ndarray of shape (K,)
    new_means : ndarray of shape (K, d)
    lower_bound : float
        ``(sum_i w_i log p(x_i) + log prior(means)) / sum_i w_i`` at the
        parameters *before* the update.
    """
    ones, observed = _views(X)
    n_samples, n_features = ones.shape
    if sample_weight is None:
        sample_weight = np.ones(n_samples)
    means = np.clip(means, MEAN_BOUND, 1 - MEAN_BOUND)
    joint = reference_log_joint(X, weights, means)
    log_norm = logsumexp(joint, axis=1)
    resp = np.exp(joint - log_norm[:, None]) * sample_weight[:, None]
    if tied:
        numerator = resp.T @ ones.sum(axis=1) + alpha
        denominator = resp.T @ observed.sum(axis=1) + 2 * alpha
        with np.errstate(invalid="ignore", divide="ignore"):
            theta = np.where(denominator > 0, numerator / denominator, means[:, 0])
        new_means = np.repeat(theta[:, None], n_features, axis=1)
        free = means[:, :1]
    else:
        numerator = resp.T @ ones + alpha
        denominator = resp.T @ observed + 2 * alpha
        with np.errstate(invalid="ignore", divide="ignore"):
            new_means = np.where(denominator > 0, numerator / denominator, means)
        free = means
    new_means = np.clip(new_means, MEAN_BOUND, 1 - MEAN_BOUND)
    mass = resp.sum(axis=0)
    new_weights = mass / mass.sum() if fit_weights else weights
    log_prior = 0.0
    if alpha > 0:
        log_prior = alpha * (np.log(free) + np.log1p(-free)).sum() - free.size * betaln(
            alpha + 1, alpha + 1
        )
    lower_bound = (sample_weight @ log_norm + log_prior) / sample_weight.sum()
    return new_weights, new_means, lower_bound


def reference_em(X, sample_weight, weights, means, n_updates, **options):
    """``n_updates`` reference updates: final weights, means and the bounds."""
    bounds = []
    for _ in range(n_updates):
        weights, means, lower_bound = reference_em_update(
            X, sample_weight, weights, means, **options
        )
        bounds.append(lower_bound)
    return weights, means, bounds


def reference_e_step(X, coefs, intercept, sample_weight):
    """The E-step and the M-step's sums, in plain float64 numpy on the whole X.

    NaN entries are missing when two coefficient arrays are given.
    """
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X = X.astype(np.float64)
    observed = ~np.isnan(X)
    views = [np.where(observed, X, 0.0), observed.astype(float)][: len(coefs)]
    joint = (
        sum(view @ coef.T for view, coef in zip(views, coefs, strict=True)) + intercept
    )
    log_norm = logsumexp(joint, axis=1)
    resp = np.exp(joint - log_norm[:, None])
    weighted = resp * sample_weight[:, None]
    return (
        sample_weight @ log_norm,
        weighted.sum(axis=0),
        [weighted.T @ view for view in views],
        log_norm,
        joint - log_norm[:, None],
        views,
    )


def brute_force_log_likelihood(X, weights, means):
    """log p(x_i) from scipy.stats.bernoulli, one pmf at a time."""
    log_joint = np.array(
        [
            [
                np.log(w) + bernoulli.logpmf(x, theta).sum()
                for w, theta in zip(weights, means, strict=True)
            ]
            for x in X
        ]
    )
    return logsumexp(log_joint, axis=1)
