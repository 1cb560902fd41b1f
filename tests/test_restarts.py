"""Staged restarts (``n_init_final``, ``initial_stage_iter``), as Mplus's STARTS = N1 N2.

The oracle is the runs themselves: each start is fitted alone (a one-start
fit given that start's seed), to ``initial_stage_iter`` updates and to the
end; the staged fit must be the best, to the bit, of the ``n_init_final``
starts that led after the first stage.
"""

import copy
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from skcoinmix import BernoulliMixtureEM, BinomialMixtureEM, CategoricalMixtureEM
from skcoinmix._restarts import survivors

#: Few updates in the first stage, so that it ends before convergence.
STAGE = 3
#: Tight enough that the runs take tens of updates.
TOL = 1e-6


def planted_binary(rng, n=150, d=8, K=3):
    prototypes = rng.uniform(0.1, 0.9, size=(K, d))
    labels = rng.integers(K, size=n)
    return (rng.uniform(size=(n, d)) < prototypes[labels]).astype(np.uint8)


def model_and_data(name, rng):
    """One estimator class per model, with data it fits."""
    X = planted_binary(rng)
    if name == "bernoulli":
        return BernoulliMixtureEM, {}, X
    if name == "binomial":
        # Close coins: EM takes tens of updates to tell them apart.
        heads = rng.binomial(30, np.array([0.3, 0.45, 0.6])[rng.integers(3, size=150)])
        return BinomialMixtureEM, {"n_trials": 30}, heads[:, np.newaxis]
    # Three categories per item: 0, 1 or 2.
    return CategoricalMixtureEM, {}, X[:, :4] + X[:, 4:]


def fitted(cls, X, **params):
    # Plain EM unless a test asks for SQUAREM: a start cut after the first
    # stage then resumes as one uninterrupted run would go on, update for
    # update, which is what these tests compare against.
    common = dict(
        accelerate=None,
        n_components=3,
        init_params="random_from_data",
        tol=TOL,
        max_iter=5000,
        random_state=0,
    )
    return cls(**(common | params)).fit(X)


def stopped_early(cls, X, **params):
    """A fit cut short by ``max_iter`` on purpose: not converging is expected.

    Ignored rather than asserted with pytest.warns: a start may also happen
    to converge within so few updates.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fitted(cls, X, **params)


def parameters(model):
    """The fitted arrays of any of the three models, as a flat list."""
    if hasattr(model, "probs_"):
        return [model.weights_, *model.probs_]
    return [model.weights_, model.means_]


def assert_same_fit(a, b):
    for left, right in zip(parameters(a), parameters(b), strict=True):
        assert_array_equal(left, right)
    assert a.lower_bounds_ == b.lower_bounds_
    assert a.lower_bound_ == b.lower_bound_
    assert a.n_iter_ == b.n_iter_
    assert a.converged_ == b.converged_


class FixedSeeds(np.random.RandomState):
    """A random_state whose restart seeds are given: one start can be refitted alone.

    The engine draws the restart seeds up front with ``randint`` (see
    BaseMixtureEM.fit's random_state); this hands out ``seeds`` instead.
    """

    def __init__(self, seeds):
        super().__init__(0)
        self.seeds = np.asarray(seeds)

    def randint(self, high, size=None):
        return self.seeds[:size].copy()


@pytest.mark.parametrize("name", ["bernoulli", "binomial", "categorical"])
@pytest.mark.parametrize("n_init_final", [5, 9])
def test_all_continue_is_the_unstaged_fit(rng, name, n_init_final):
    # Every start stops after STAGE updates and resumes from there: with plain
    # EM the very same computation as one uninterrupted run, so bitwise the
    # same fit (SQUAREM would start a fresh cycle at the split: see
    # test_all_continue_reaches_the_unstaged_maximum_with_squarem). More
    # survivors than starts (9 > 5) keeps them all.
    cls, params, X = model_and_data(name, rng)
    plain = fitted(cls, X, n_init=5, **params)
    staged = fitted(
        cls, X, n_init=5, n_init_final=n_init_final, initial_stage_iter=STAGE, **params
    )
    assert plain.n_iter_ > STAGE  # the split lies inside the winning run
    assert len(staged.lower_bounds_) == staged.n_iter_
    assert_same_fit(staged, plain)


@pytest.mark.parametrize("name", ["bernoulli", "binomial", "categorical"])
def test_staged_squarem_ends_at_a_fixed_point_of_em(rng, name):
    # Resuming restarts SQUAREM's cycle and step-length limit, so the path
    # differs from the uninterrupted run's (and may even reach another local
    # maximum). What staging must keep: the kept run's bounds never decrease,
    # across the split too, and it stops at a fixed point of EM: one more
    # plain EM update moves the bound by less than tol.
    cls, params, X = model_and_data(name, rng)
    params = {**params, "accelerate": "squarem", "tol": 1e-10}
    staged = fitted(cls, X, n_init=5, n_init_final=2, initial_stage_iter=3, **params)
    assert staged.converged_
    assert 1 <= len(staged.lower_bounds_) <= staged.n_iter_
    bounds = np.asarray(staged.lower_bounds_)
    # Round-off of a mean log-likelihood of a few units: 1e-15 relative.
    assert np.all(np.diff(bounds) >= -1e-13 * np.abs(bounds[1:]))
    step = copy.deepcopy(staged).set_params(
        warm_start=True, max_iter=1, accelerate=None, n_init_final=None
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        step.fit(X)
    assert abs(step.lower_bounds_[0] - staged.lower_bound_) < 1e-10 + 1e-13


@pytest.mark.parametrize("n_init_final", [1, 2, 4])
def test_the_final_run_is_the_best_survivor(rng, n_init_final):
    X = planted_binary(rng)
    n_init = 6
    seeds = rng.integers(2**31 - 1, size=n_init)
    staged = fitted(
        BernoulliMixtureEM,
        X,
        n_init=n_init,
        n_init_final=n_init_final,
        initial_stage_iter=STAGE,
        random_state=FixedSeeds(seeds),
    )
    # Each start alone: its bound after the first stage, and its whole run.
    first_stage = [
        stopped_early(
            BernoulliMixtureEM, X, max_iter=STAGE, random_state=FixedSeeds([seed])
        ).lower_bound_
        for seed in seeds
    ]
    whole = [
        fitted(BernoulliMixtureEM, X, random_state=FixedSeeds([seed])) for seed in seeds
    ]
    order = sorted(range(n_init), key=lambda i: (-first_stage[i], i))
    kept = sorted(order[:n_init_final])
    winner = max(kept, key=lambda i: whole[i].lower_bound_)
    assert_same_fit(staged, whole[winner])
    # Its record counts from the start: the first stage's updates included.
    assert staged.lower_bounds_[STAGE - 1] == first_stage[winner]
    assert staged.lower_bound_ >= max(first_stage)


def test_survivors_rank_by_bound_then_by_start():
    bounds = [-3.0, -1.0, -2.0, -1.0, -5.0]
    assert survivors(bounds, 1) == [1]
    assert survivors(bounds, 2) == [1, 3]
    assert survivors(bounds, 3) == [1, 2, 3]
    assert survivors(bounds, 10) == [0, 1, 2, 3, 4]


def test_reproducible_and_independent_of_n_jobs(rng):
    from joblib import parallel_backend

    X = planted_binary(rng)
    params = dict(n_init=6, n_init_final=2, initial_stage_iter=STAGE)
    # One BLAS thread on both sides: the same arithmetic (see test_parallel).
    with threadpool_limits(limits=1, user_api="blas"):
        serial = fitted(BernoulliMixtureEM, X, **params)
        again = fitted(BernoulliMixtureEM, X, **params)
        with parallel_backend("threading"):
            parallel = fitted(BernoulliMixtureEM, X, n_jobs=2, **params)
    assert_same_fit(again, serial)
    assert_same_fit(parallel, serial)


@pytest.mark.parametrize(
    "settings",
    [
        {"max_iter": STAGE},  # every start ends within the first stage
        {"tol": 1e3},  # every start converges within the first stage
    ],
)
def test_starts_complete_in_the_first_stage_are_not_resumed(rng, settings):
    # Nothing is left to run: the best survivor is the best start overall.
    X = planted_binary(rng)
    plain = stopped_early(BernoulliMixtureEM, X, n_init=5, **settings)
    staged = stopped_early(
        BernoulliMixtureEM,
        X,
        n_init=5,
        n_init_final=2,
        initial_stage_iter=STAGE + 2,
        **settings,
    )
    assert plain.n_iter_ <= STAGE + 2
    assert_same_fit(staged, plain)


def test_warm_start_is_one_run(rng):
    X = planted_binary(rng)
    fits = []
    for n_init_final in [None, 1]:
        model = stopped_early(BernoulliMixtureEM, X, max_iter=5)
        model.set_params(
            warm_start=True, n_init=4, n_init_final=n_init_final, max_iter=5000
        )
        fits.append(model.fit(X))
    assert_same_fit(fits[1], fits[0])


def test_one_start_is_not_staged(rng):
    X = planted_binary(rng)
    plain = fitted(BernoulliMixtureEM, X)
    staged = fitted(BernoulliMixtureEM, X, n_init_final=1, initial_stage_iter=1)
    assert_same_fit(staged, plain)


def test_verbose_names_the_survivors(rng, capsys):
    X = planted_binary(rng)
    fitted(
        BernoulliMixtureEM,
        X,
        n_init=3,
        n_init_final=1,
        initial_stage_iter=STAGE,
        verbose=1,
    )
    assert "Final stage: initializations [" in capsys.readouterr().out


@pytest.mark.parametrize(
    "params, name",
    [
        ({"n_init_final": 0}, "n_init_final"),
        ({"n_init_final": 2.5}, "n_init_final"),
        ({"n_init_final": "all"}, "n_init_final"),
        ({"initial_stage_iter": 0}, "initial_stage_iter"),
        ({"initial_stage_iter": None}, "initial_stage_iter"),
    ],
)
@pytest.mark.parametrize(
    "cls", [BernoulliMixtureEM, BinomialMixtureEM, CategoricalMixtureEM]
)
def test_bad_stage_settings_are_refused(cls, params, name):
    X = np.array([[0, 1], [1, 1], [1, 0], [0, 0]])
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        cls(n_components=2, n_init=3, **params).fit(X)
