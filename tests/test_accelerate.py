"""SQUAREM (``accelerate="squarem"``): the cycle, its safeguards, and EM's fixed points.

The cycle is checked on maps whose answer is known in closed form (a linear
contraction, where S3 extrapolation is exact), the estimators against the
plain-numpy EM update of ``tests/_reference.py``: an accelerated fit must end
at a point that update does not move (EM's fixed point), with a lower bound
that never decreases, for every model and option.
"""

import warnings

import numpy as np
import pytest
from _reference import (
    LAYOUTS,
    MEAN_BOUND,
    float32_update_rtol,
    random_problem,
    reference_em_update,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM, BinomialMixtureEM, CategoricalMixtureEM
from skcoinmix._accelerate import (
    run_squarem,
    step_length,
    weights_from_vector,
    weights_to_vector,
)

EPS = np.finfo(np.float64).eps


def fit_quietly(estimator, X, sample_weight=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, sample_weight=sample_weight)


# ------------------------------------------------------------- the cycle
def test_step_length_is_clamped():
    r, v = np.array([3.0, 4.0]), np.array([0.0, 1.0])  # |r| = 5, |v| = 1
    assert step_length(r, v, step_max=100.0) == -5.0
    assert step_length(r, v, step_max=2.0) == -2.0  # at most step_max long
    assert step_length(r, 10 * v, step_max=100.0) == -1.0  # at least plain EM
    assert step_length(r, 0 * v, step_max=100.0) == -1.0  # no curvature: EM


def linear_map(rate, centre):
    """``F(x) = c + rate (x - c)``, objective ``-|x - c|^2`` (EM-like: ascends)."""

    def update(params):
        x = params["x"]
        return -float(np.sum((x - centre) ** 2)), {"x": centre + rate * (x - centre)}

    return update


def run(update, x, max_iter, tol=0.0, start_bound=-np.inf):
    return run_squarem(
        update,
        lambda params: params["x"],
        lambda vector, template: {"x": vector},
        {"x": np.asarray(x, dtype=float)},
        start_bound,
        max_iter,
        lambda bound, change: abs(change) < tol,
        lambda n_iter, change: None,
    )


def off_path_guard(start, rate=0.5, centre=(1.0, 2.0)):
    """A linear map whose objective is -1e300 off the plain EM path from ``start``."""
    update = linear_map(rate, np.asarray(centre))
    path = [np.asarray(start, dtype=float)]
    for _ in range(45):  # 40 evaluations go no further; x_k never reaches c
        path.append(update({"x": path[-1]})[1]["x"])

    def guarded(params):
        bound, following = update(params)
        on_path = any(np.array_equal(params["x"], x) for x in path)
        return (bound if on_path else -1e300), following

    return guarded, path


def test_s3_solves_a_linear_contraction():
    # For F(x) = c + rho (x - c): r = (rho - 1) e, v = (rho - 1)^2 e with
    # e = x0 - c, so alpha = -1 / (1 - rho) and x0 - 2 alpha r + alpha^2 v = c
    # exactly. The step limit starts at 1 and grows 4-fold per accepted
    # cycle at the limit: -1, -4, then -10 is reached in the third cycle.
    centre = np.array([0.3, -2.0])
    result = run(linear_map(0.9, centre), [5.0, 5.0], max_iter=60, tol=1e-20)
    assert result["converged"]
    assert_allclose(result["params"]["x"], centre, atol=1e-12)
    # Plain EM needs log(1e-20 / 50) / log(0.81) = 240 updates for the same
    # change of the objective; three cycles of 3 evaluations do it here.
    assert result["n_iter"] <= 20
    assert np.all(np.diff(result["history"]) >= 0)


def test_rejected_extrapolation_falls_back_to_plain_em():
    # An objective that punishes every point off the plain EM path (-1e300):
    # every stabilised extrapolation is rejected, so each recorded point is
    # a plain EM iterate and the recorded objectives increase.
    guarded, path = off_path_guard([3.0, 3.0])
    result = run(guarded, path[0], max_iter=40)
    history = np.array(result["history"])
    plain_bounds = [guarded({"x": x})[0] for x in path]
    assert all(bound in plain_bounds for bound in history)
    assert np.all(np.diff(history) > 0)
    assert result["n_iter"] == 40


@pytest.mark.parametrize("max_iter", range(1, 13))
def test_rejections_at_every_budget_end_on_the_em_path(max_iter):
    # Whichever evaluation the budget ends on (in a rejected cycle too), the
    # result is a plain EM iterate and the bounds rise.
    guarded, path = off_path_guard([3.0, 3.0])
    result = run(guarded, path[0], max_iter)
    assert result["n_iter"] == max_iter
    assert np.all(np.diff(result["history"]) > 0)
    assert any(np.array_equal(result["params"]["x"], x) for x in path)
    assert result["history"][-1] == result["lower_bound"] > -1e300


def test_a_converged_warm_start_stops_after_one_evaluation():
    update = linear_map(0.5, np.array([0.0]))
    bound = update({"x": np.array([1e-9])})[0]
    result = run(update, [1e-9], max_iter=50, tol=1e-12, start_bound=bound)
    assert result["converged"] and result["n_iter"] == 1


@pytest.mark.parametrize("max_iter", [0, 1, 2, 3, 4, 5])
def test_budget_counts_evaluations_and_ends_as_plain_em(max_iter):
    # Whatever the budget, the returned parameters are the EM update of the
    # point whose objective is the last recorded one, as in plain EM.
    centre = np.array([0.0])
    update = linear_map(0.5, centre)
    calls = []

    def counted(params):
        calls.append(params["x"].copy())
        return update(params)

    result = run(counted, [1.0], max_iter)
    assert result["n_iter"] == len(calls) == max_iter
    if max_iter == 0:
        assert result["history"] == [] and result["lower_bound"] == -np.inf
        return
    last = result["lower_bound"]
    assert result["history"][-1] == last
    # The point behind the last bound, and its EM update returned.
    x = np.sqrt(-last)
    assert_allclose(result["params"]["x"], 0.5 * x, rtol=1e-12)


def test_weights_vector_keeps_the_simplex_and_its_zeros():
    weights = np.array([0.5, 0.0, 0.3, 0.2])
    vector = weights_to_vector(weights)
    assert np.all(np.isfinite(vector))
    assert_allclose(weights_from_vector(vector, weights), weights, rtol=1e-14)
    moved = weights_from_vector(vector + np.array([1e3, 5e3, -1e3, 0.0]), weights)
    assert moved[1] == 0.0 and moved.sum() == pytest.approx(1.0, rel=4 * EPS)
    assert np.all(moved >= 0)


# ------------------------------------------------------------- the models
def categorical_problem(rng, n_samples=80):
    classes = rng.integers(2, size=n_samples)
    probs = [
        np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]),
        np.array([[0.9, 0.1], [0.2, 0.8]]),
    ]
    X = np.column_stack(
        [
            [rng.choice(p.shape[1], p=p[k]) for k in classes]
            for p in probs + probs[::-1][:1]
        ]
    ).astype(float)
    X[rng.uniform(size=X.shape) < 0.1] = np.nan
    X[0] = [0, 0, 0]
    return X


MODELS = {
    "bernoulli": lambda **kw: BernoulliMixtureEM(binarize=None, **kw),
    "binomial": lambda **kw: BinomialMixtureEM(n_trials=1, **kw),
    "categorical": lambda **kw: CategoricalMixtureEM(**kw),
}


@pytest.mark.parametrize("model", MODELS)
def test_vector_hooks_round_trip_and_stay_valid(rng, model):
    X = categorical_problem(rng) if model == "categorical" else random_problem(rng)[0]
    est = fit_quietly(MODELS[model](n_components=2, max_iter=3, random_state=0), X)
    params = est._params_from_attributes()
    vector = est._params_to_vector(params)
    back = est._params_from_vector(vector, params)
    assert_allclose(back["weights"], params["weights"], rtol=1e-12)
    key = "probs" if model == "categorical" else "means"
    assert_allclose(back[key], params[key], rtol=1e-9)
    # A wild extrapolation still maps to valid parameters.
    wild = est._params_from_vector(vector * 1e6 + 1e3, params)
    assert wild["weights"].sum() == pytest.approx(1.0, rel=4 * EPS)
    if model == "categorical":
        offsets = params["layout"].offsets
        sums = np.add.reduceat(wild["probs"], offsets[:-1], axis=1)
        assert_allclose(sums, 1.0, rtol=1e-12)
        # Floored at 1e-10, then renormalised by a sum of at most 1 + C_j 1e-10.
        assert np.all(wild["probs"] >= 1e-10 / (1 + 3e-10))
    else:
        assert np.all((wild["means"] >= MEAN_BOUND) & (wild["means"] <= 1 - MEAN_BOUND))


OPTIONS = {
    "plain": {},
    "fixed weights": {"fit_weights": False, "weights_init": [0.3, 0.7]},
    "alpha": {"alpha": 0.5},
    "tied": {"tie_features": True},
}


@pytest.mark.parametrize("option", OPTIONS)
def test_accelerated_fit_ends_at_an_em_fixed_point(rng, option):
    # The plain-numpy EM update (an oracle independent of the package) does
    # not move the accelerated fit's parameters: beyond round-off, only by
    # what is left of the convergence after max_iter evaluations.
    X, _, _ = random_problem(rng, n_samples=60, n_features=5, n_components=2)
    sample_weight = rng.integers(0, 3, size=60).astype(float)
    sample_weight[:2] = 1
    options = OPTIONS[option]
    est = BernoulliMixtureEM(
        n_components=2,
        tol=0.0,
        max_iter=600,
        init_params="random",
        random_state=0,
        accelerate="squarem",
        binarize=None,
        **options,
    )
    fit_quietly(est, X, sample_weight)
    history = np.array(est.lower_bounds_)
    assert est.n_iter_ == 600 and len(history) < est.n_iter_
    assert np.all(np.diff(history) >= -1e-12 * np.abs(history[1:]))
    means = est.means_[:, :1] if options.get("tie_features") else est.means_
    weights, updated, bound = reference_em_update(
        X,
        sample_weight,
        est.weights_,
        est.means_,
        alpha=options.get("alpha", 0.0),
        tied=options.get("tie_features", False),
        fit_weights=options.get("fit_weights", True),
    )
    # 1e-9: a million times float64's round-off of probabilities near 1;
    # the data are well separated, so 600 evaluations of SQUAREM (or plain
    # EM) converge far beyond that (checked for seeds 0-9).
    assert_allclose(updated[:, : means.shape[1]], means, atol=1e-9)
    assert_allclose(weights, est.weights_, atol=1e-9)
    assert bound == pytest.approx(est.lower_bound_, rel=1e-12)
    if "weights_init" in options:
        assert_array_equal(est.weights_, options["weights_init"])


@pytest.mark.parametrize("model", MODELS)
def test_accelerated_and_plain_em_reach_the_same_maximum(rng, model):
    X = categorical_problem(rng) if model == "categorical" else random_problem(rng)[0]
    fits = {}
    for accelerate in [None, "squarem"]:
        est = MODELS[model](
            n_components=2,
            tol=1e-13,
            max_iter=5000,
            random_state=0,
            accelerate=accelerate,
        )
        fits[accelerate] = est.fit(X)
    plain, fast = fits[None], fits["squarem"]
    assert fast.converged_ and plain.converged_
    assert fast.n_iter_ <= plain.n_iter_
    # Both stop when the bound changes by less than 1e-13: the maxima agree
    # to about that, and plain EM stops below its maximum, never above it.
    assert fast.lower_bound_ == pytest.approx(plain.lower_bound_, abs=1e-9)
    for key in ["weights_", "probs_" if model == "categorical" else "means_"]:
        assert_allclose(
            np.hstack(getattr(fast, key)), np.hstack(getattr(plain, key)), atol=1e-4
        )


def test_small_budgets_equal_plain_em():
    # One and two evaluations are plain EM's first updates, bitwise.
    X, _, _ = random_problem(np.random.default_rng(0))
    for max_iter in [1, 2]:
        fits = [
            fit_quietly(
                BernoulliMixtureEM(
                    2, max_iter=max_iter, tol=0, random_state=0, accelerate=a
                ),
                X,
            )
            for a in [None, "squarem"]
        ]
        assert fits[1].lower_bounds_ == fits[0].lower_bounds_
        assert_array_equal(fits[1].means_, fits[0].means_)
        assert fits[1].n_iter_ == max_iter


def test_warm_start_continues_from_the_fitted_bound():
    X, _, _ = random_problem(np.random.default_rng(1))
    est = BernoulliMixtureEM(
        3, max_iter=7, tol=0, random_state=0, accelerate="squarem", warm_start=True
    )
    fit_quietly(est, X)
    first = est.lower_bound_
    fit_quietly(est, X)
    assert est.lower_bounds_[0] >= first - 1e-12 * abs(first)
    assert np.all(np.diff(est.lower_bounds_) >= -1e-12 * abs(first))


@pytest.mark.parametrize("layout", ["uint8", "csr", "float64 NaN", "float32", "bool"])
def test_every_storage_ends_at_an_em_fixed_point(rng, layout):
    # The accelerated fit on each storage ends where the plain-numpy EM
    # update (float64) does not move it.
    X, _, _ = random_problem(rng, n_samples=100, n_features=6, n_components=2)
    if LAYOUTS[layout].missing:
        X[rng.uniform(size=X.shape) < 0.1] = np.nan
    est = BernoulliMixtureEM(
        n_components=2, tol=0, max_iter=500, random_state=0, accelerate="squarem"
    )
    fit_quietly(est, LAYOUTS[layout].convert(X))
    weights, means, _ = reference_em_update(X, None, est.weights_, est.means_)
    if LAYOUTS[layout].dtype == np.float32:
        # float32 data are computed in float32: the fit is a fixed point of
        # the float32 update, which is within float32_update_rtol of the
        # float64 one.
        rtol, atol = float32_update_rtol(X, est.weights_, est.means_), 0.0
    else:
        rtol, atol = 1e-10, 1e-9  # as test_accelerated_fit_ends_at_an_em_fixed_point
    assert_allclose(means, est.means_, rtol=rtol, atol=atol)
    assert_allclose(weights, est.weights_, rtol=rtol, atol=atol)


def test_verbose_prints_each_cycle(capsys):
    X, _, _ = random_problem(np.random.default_rng(0))
    BernoulliMixtureEM(
        2, max_iter=30, verbose=2, verbose_interval=1, accelerate="squarem"
    ).fit(X)
    out = capsys.readouterr().out
    assert "Initialization converged" in out and "Iteration" in out


def test_invalid_accelerate_is_refused():
    X, _, _ = random_problem(np.random.default_rng(0))
    with pytest.raises(ValueError, match="accelerate"):
        BernoulliMixtureEM(2, accelerate="aitken").fit(X)
