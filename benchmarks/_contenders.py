"""What is timed: skcoinmix, its peers, the seed notebook's loop, bare products.

Every EM contender is a callable ``fit(max_iter)`` running one complete fit of
``max_iter`` EM iterations from a fixed start (or the peer's cheapest start),
with no convergence test (tolerance 0), so that :mod:`_timing` can take the
per-iteration time as ``(t(m) - t(1)) / (m - 1)``.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from skcoinmix import BernoulliMixtureEM, BinomialMixtureEM, CategoricalMixtureEM


def _quietly(func, *args):
    with warnings.catch_warnings():
        # tol=0 never converges, by design.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return func(*args)


# ------------------------------------------------------------------ skcoinmix
#: The per-iteration cases time one EM update (an E-step and an M-step), what
#: the targets against the bare products are about: plain EM. SQUAREM changes
#: how many updates a fit needs, measured by time_to_solution.py; its
#: extrapolated points also cost more per E-step on some data (up to 1.5x on
#: 20k x 2k, K = 20), which would blur the per-update figure.
PER_UPDATE = {"accelerate": None}


def skcoinmix_fit(X, start, **params):
    """Fit from ``start`` (no initialisation), tol=0."""

    def fit(max_iter):
        model = BernoulliMixtureEM(
            n_components=start.n_components,
            means_init=start.means,
            weights_init=start.weights,
            max_iter=max_iter,
            tol=0.0,
            **(PER_UPDATE | params),
        )
        return _quietly(model.fit, X)

    return fit


def skcoinmix_binomial_fit(X, start, n_trials):
    """BinomialMixtureEM from ``start`` (no initialisation), tol=0."""

    def fit(max_iter):
        model = BinomialMixtureEM(
            n_components=start.n_components,
            n_trials=n_trials,
            means_init=start.means,
            weights_init=start.weights,
            max_iter=max_iter,
            tol=0.0,
            **PER_UPDATE,
        )
        return _quietly(model.fit, X)

    return fit


def skcoinmix_categorical_fit(codes, start):
    """CategoricalMixtureEM from ``start`` (probabilities (K, d, C)), tol=0.

    The categories are learned from the codes in every fit (``"auto"``), as a
    user's fit learns them: that lands in the fixed per-fit time.
    """
    probs_init = [start.means[:, j] for j in range(start.means.shape[1])]

    def fit(max_iter):
        model = CategoricalMixtureEM(
            n_components=start.n_components,
            probs_init=probs_init,
            weights_init=start.weights,
            max_iter=max_iter,
            tol=0.0,
            **PER_UPDATE,
        )
        return _quietly(model.fit, codes)

    return fit


def skcoinmix_default_init(X, n_components, **params):
    """A fit of 0 iterations with the default init: validation + init + one E-step."""
    model = BernoulliMixtureEM(
        n_components=n_components, max_iter=0, random_state=0, **params
    )
    return lambda: model.fit(X)


# ---------------------------------------------------------------------- peers
def stepmix_fit(X, n_components):
    """StepMix's Bernoulli model with its cheapest start (random responsibilities).

    StepMix has no way to pass starting parameters; ``init_params="random"``
    costs one M-step, which lands in the fixed per-fit time with its input
    validation and the extra E-step it runs after the loop. ``abs_tol=0`` and
    ``rel_tol=0`` disable its convergence test.
    """
    from stepmix import StepMix  # a benchmark-only dependency

    def fit(max_iter):
        model = StepMix(
            n_components=n_components,
            measurement="bernoulli",
            max_iter=int(max_iter),
            abs_tol=0.0,
            rel_tol=0.0,
            n_init=1,
            init_params="random",
            progress_bar=0,
            verbose=0,
            random_state=0,
        )
        return _quietly(model.fit, X)

    return fit


def stepmix_categorical_fit(codes, n_components):
    """StepMix's categorical model on codes ``0..C-1``, cheapest start, no stopping.

    As :func:`stepmix_fit`: random responsibilities, ``abs_tol=rel_tol=0``.
    StepMix one-hot encodes the codes itself (``integer_codes=True``), to
    ``max_j C_j`` columns per item, in every E- and M-step.
    """
    from stepmix import StepMix

    def fit(max_iter):
        model = StepMix(
            n_components=n_components,
            measurement="categorical",
            max_iter=int(max_iter),
            abs_tol=0.0,
            rel_tol=0.0,
            n_init=1,
            init_params="random",
            progress_bar=0,
            verbose=0,
            random_state=0,
        )
        return _quietly(model.fit, codes)

    return fit


# ------------------------------------------------------------ time to solution
def solution_tolerance(n_rows, mean_log_likelihood):
    """The stopping rule on the mean log-likelihood per row's change.

    ``max(1e-10 / N, 1e-14 |mean|)``: 1e-10 on the total log-likelihood, as
    published LCA fits use, unless that is below float64's resolution of the
    mean (1e-10 on a total of ~10^6 is).
    """
    return max(1e-10 / n_rows, 1e-14 * abs(mean_log_likelihood))


def skcoinmix_categorical_solution(X, n_components, n_init, tol, max_iter, seed=0):
    """CategoricalMixtureEM with ``n_init`` random starts, each run to ``tol``.

    ``init_params="random"`` (random responsibilities, as StepMix's and
    poLCA's random starts); ``tol`` on the change of the mean log-likelihood
    per row, skcoinmix's only stopping rule. Returns the fitted estimator.
    """

    def fit():
        return CategoricalMixtureEM(
            n_components,
            init_params="random",
            n_init=n_init,
            tol=tol,
            max_iter=max_iter,
            random_state=seed,
        ).fit(X)

    return fit


def stepmix_categorical_solution(codes, n_components, n_init, max_iter, seed=0):
    """StepMix's categorical model, ``n_init`` random starts, the same stopping rule.

    StepMix stops a start when the change of its mean log-likelihood per row
    is below ``abs_tol`` or, relative to the mean, below ``rel_tol``: with
    ``abs_tol=1e-10 / N`` and ``rel_tol=1e-14`` that is exactly
    :func:`solution_tolerance`, with ``|mean|`` taken at the current iterate.
    Codes ``0..C-1``. Returns the fitted model.
    """
    from stepmix import StepMix

    def fit():
        model = StepMix(
            n_components=n_components,
            measurement="categorical",
            max_iter=max_iter,
            abs_tol=1e-10 / codes.shape[0],
            rel_tol=1e-14,
            n_init=n_init,
            init_params="random",
            progress_bar=0,
            verbose=0,
            random_state=seed,
        )
        return _quietly(model.fit, codes)

    return fit


def gaussian_fit(X, start):
    """``GaussianMixture(covariance_type="diag")`` from the same start, tol=0.

    With ``weights_init``, ``means_init`` and ``precisions_init`` all given,
    scikit-learn skips k-means. The starting precisions are the Bernoulli
    ones, ``1 / (t (1 - t))``.
    """
    precisions = 1.0 / (start.means * (1.0 - start.means))

    def fit(max_iter):
        model = GaussianMixture(
            n_components=start.n_components,
            covariance_type="diag",
            weights_init=start.weights,
            means_init=start.means,
            precisions_init=precisions,
            tol=0.0,
            max_iter=max_iter,
        )
        return _quietly(model.fit, X)

    return fit


# -------------------------------------------- the seed notebook's naive loops
class NaiveBernoulliLoop:
    """The seed notebook's EM loop, generalised to K components and d features.

    Linear space, as in the notebook: ``p(x_i | k) = prod_j t_kj^x_ij
    (1 - t_kj)^(1 - x_ij)``, computed as ``np.prod`` of ``np.where(x == 1, t,
    1 - t)`` (the same numbers as the powers, which are ~8x slower still);
    responsibilities by division; the M-step component by component.

    ``returned_nan`` tells whether the last run ended with NaN probabilities:
    it does as soon as one row's likelihood underflows to 0 under every
    component (0 / 0), i.e. for a few hundred features or more.
    """

    def __init__(self, X, start):
        self.X = X
        self.start = start
        self.returned_nan = False

    def _likelihood(self, means, weights):
        X = self.X
        likelihood = np.empty((X.shape[0], weights.shape[0]))
        for k, (theta, weight) in enumerate(zip(means, weights, strict=True)):
            likelihood[:, k] = weight * np.prod(
                np.where(X == 1, theta, 1.0 - theta), axis=1
            )
        return likelihood

    def _m_step(self, resp):
        means = np.array([column @ self.X / column.sum() for column in resp.T])
        return means, resp.mean(axis=0)

    def __call__(self, max_iter):
        means, weights = self.start.means, self.start.weights
        with np.errstate(all="ignore"):
            for _ in range(max_iter):
                likelihood = self._likelihood(means, weights)
                resp = likelihood / likelihood.sum(axis=1, keepdims=True)
                means, weights = self._m_step(resp)
        self.returned_nan = bool(np.isnan(means).any())
        return means


class NaiveBinomialLoop(NaiveBernoulliLoop):
    """The seed notebook's coin loop as written, for K coins (tied features).

    Each iteration counts the heads of every row again, as the notebook does
    (once, not six times), and takes the tails as ``tosses - heads`` rather
    than ``np.sum(1. - x, axis=1)``, which would make a float64 copy of X.
    """

    def _likelihood(self, means, weights):
        heads = self.X.sum(axis=1)
        tails = self.X.shape[1] - heads
        self._counts = heads, tails
        theta = means[:, 0]
        return weights * theta ** heads[:, None] * (1.0 - theta) ** tails[:, None]

    def _m_step(self, resp):
        heads, tails = self._counts
        expected_heads = heads @ resp
        expected_tosses = (heads + tails) @ resp
        means = (expected_heads / expected_tosses)[:, np.newaxis]
        return means, resp.mean(axis=0)


# ------------------------------------------------------------- bare products
def _factors(X, n_components, seed=2):
    rng = np.random.default_rng(seed)
    dtype = X.dtype
    A = rng.random((n_components, X.shape[1])).astype(dtype)
    R = rng.random((X.shape[0], n_components)).astype(dtype)
    return A, R


def bare_products(X, n_components):
    """The two products of an EM iteration, ``X @ A.T`` and ``(X.T @ R).T``.

    Works for dense and scipy.sparse ``X`` alike; ``A`` and ``R`` have the
    dtype of ``X``.
    """
    A, R = _factors(X, n_components)

    def products():
        return X @ A.T, (X.T @ R).T

    return products


def bare_paired_products(successes, trials, n_components):
    """The four products of a paired binomial iteration: two views, E and M."""
    A, R = _factors(successes, n_components)

    def products():
        return (
            successes @ A.T + trials @ A.T,
            (successes.T @ R).T,
            (trials.T @ R).T,
        )

    return products


def transposed_forms(X, n_components):
    """The two ways of writing the M-step product: ``R.T @ X`` and ``(X.T @ R).T``."""
    _, R = _factors(X, n_components)
    return (lambda: R.T @ X), (lambda: (X.T @ R).T)


def row_sums(X):
    """One pass over X: the per-row count of ones."""
    return lambda: X.sum(axis=1)
