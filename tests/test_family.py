"""The family contract: every model over every storage layout of ``_reference.LAYOUTS``.

On 0/1 data every model of the library is the same Bernoulli mixture: the
Bernoulli model itself, the binomial with one trial, and the binomial with
paired successes and failures ``[x, 1 - x]``. From the same start each must
retrace the plain-numpy reference EM of ``tests/_reference.py`` on every
storage (dense of each dtype, sparse, NaN for missing entries, dask), with a
lower bound that never decreases and responsibilities that sum to 1.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import (
    LAYOUTS,
    RTOL,
    as_numpy,
    float32_update_rtol,
    random_problem,
    reference_em,
    reference_em_update,
)
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM, BinomialMixtureEM

N_UPDATES = 12


def _paired(X):
    """``[x, 1 - x]`` in the storage of ``X`` (NaN stays NaN in both halves)."""
    if sp.issparse(X):
        return sp.hstack([X, 1 - X.toarray()], format=X.format).astype(X.dtype)
    if hasattr(X, "compute"):  # dask
        import dask.array as da

        return da.concatenate([X, 1 - X], axis=1)
    return np.hstack([X, (1 - X.astype(np.float64)).astype(X.dtype)])


MODELS = {
    "bernoulli": (lambda **kw: BernoulliMixtureEM(binarize=None, **kw), lambda X: X),
    "binomial n=1": (lambda **kw: BinomialMixtureEM(n_trials=1, **kw), lambda X: X),
    "binomial paired": (
        lambda **kw: BinomialMixtureEM(n_trials="paired", **kw),
        _paired,
    ),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("model", MODELS)
def test_every_model_on_every_layout_is_the_reference_em(rng, model, layout):
    make, encode = MODELS[model]
    X, _, means = random_problem(rng, n_samples=60, n_features=5)
    if LAYOUTS[layout].missing:
        X[rng.uniform(size=X.shape) < 0.1] = np.nan
        X[0, :] = 0.0  # every column observed somewhere
    start = rng.uniform(0.2, 0.8, size=means.shape)
    weights, want_means, bounds = reference_em(
        X, None, np.full(3, 1 / 3), start, N_UPDATES
    )
    stored = encode(LAYOUTS[layout].convert(X))
    est = make(
        n_components=3, means_init=start, max_iter=N_UPDATES, tol=0, accelerate=None
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(stored)
    rtol = RTOL[LAYOUTS[layout].dtype]
    assert_allclose(est.means_, want_means, rtol=rtol, atol=1e-12)
    assert_allclose(est.weights_, weights, rtol=rtol)
    assert_allclose(est.lower_bounds_, bounds, rtol=rtol)
    # float32 computes the bound in float32: allow its round-off per row.
    slack = 0.0 if rtol < 1e-6 else 1e-5 * abs(bounds[0])
    assert np.all(np.diff(est.lower_bounds_) >= -slack)
    resp = as_numpy(est.predict_proba(stored))
    assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-12 if rtol < 1e-6 else 1e-6)


@pytest.mark.parametrize("model", MODELS)
def test_relabelling_components_changes_nothing(rng, model):
    make, encode = MODELS[model]
    X, _, means = random_problem(rng, n_samples=60, n_features=5)
    start = rng.uniform(0.2, 0.8, size=means.shape)
    perm = rng.permutation(3)
    fits = []
    for order in [np.arange(3), perm]:
        est = make(n_components=3, means_init=start[order], max_iter=8, tol=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(est.fit(encode(X)))
    # The same sums over components in another order: round-off only.
    assert_allclose(fits[1].means_, fits[0].means_[perm], rtol=1e-12)
    assert_allclose(fits[1].lower_bounds_, fits[0].lower_bounds_, rtol=1e-12)
    assert_allclose(
        fits[1].predict_proba(encode(X)),
        fits[0].predict_proba(encode(X))[:, perm],
        rtol=1e-10,
        atol=1e-15,
    )


#: Plain EM on dask is the in-memory kernels' (test_dask.py) and retraces the
#: reference update by update above; its hundreds of updates to the fixed
#: point, each a dask graph, would cost minutes: accelerated only there, and
#: for one model (the dask backend knows no model; the models' encodings run
#: in the in-memory kernels, tested on every other layout).
FIXED_POINT_CASES = [
    (model, layout, accelerate)
    for model in MODELS
    for layout in LAYOUTS
    for accelerate in [None, "squarem"]
    if not layout.startswith("dask") or (accelerate and model == "bernoulli")
]


@pytest.mark.parametrize("model, layout, accelerate", FIXED_POINT_CASES)
def test_every_model_on_every_layout_ends_at_the_reference_fixed_point(
    rng, model, layout, accelerate
):
    # Run to convergence, plain or accelerated, every model on every storage
    # ends where the plain-numpy EM update does not move it (EM's fixed
    # point), with a lower bound that never decreased.
    make, encode = MODELS[model]
    # Two well-separated components, so that plain EM too converges far
    # within max_iter (its rate is what separation leaves of 1).
    means = np.vstack([rng.uniform(0.05, 0.25, 5), rng.uniform(0.75, 0.95, 5)])
    labels = rng.integers(2, size=60)
    X = (rng.uniform(size=(60, 5)) < means[labels]).astype(float)
    if LAYOUTS[layout].missing:
        X[rng.uniform(size=X.shape) < 0.1] = np.nan
        X[0, :] = 0.0
    start = rng.uniform(0.2, 0.8, size=means.shape)
    # SQUAREM is there in far fewer updates: 250 on dask, where each costs a
    # graph (checked for seeds 0-9).
    max_iter = 250 if layout.startswith("dask") else 600
    est = make(
        n_components=2,
        means_init=start,
        max_iter=max_iter,
        tol=0,
        accelerate=accelerate,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(encode(LAYOUTS[layout].convert(X)))
    weights, updated, _ = reference_em_update(X, None, est.weights_, est.means_)
    if LAYOUTS[layout].dtype == np.float32:
        # A fixed point of the float32 update: within float32_update_rtol of
        # the float64 one.
        rtol, atol = float32_update_rtol(X, est.weights_, est.means_), 0.0
    else:
        # Round-off (RTOL), and what max_iter updates leave of the convergence
        # on these well-separated data (below 1e-9, checked for seeds 0-9).
        rtol, atol = RTOL[np.float64], 1e-9
    assert_allclose(updated, est.means_, rtol=rtol, atol=atol)
    assert_allclose(weights, est.weights_, rtol=rtol, atol=atol)
    bounds = np.asarray(est.lower_bounds_)
    slack = 1e-12 * np.abs(bounds[1:]) if rtol < 1e-6 else 1e-5 * abs(bounds[0])
    assert np.all(np.diff(bounds) >= -slack)
