"""The parametric bootstrap likelihood-ratio test (skcoinmix.inference.bootstrap_lrt).

Its calibration is checked on data simulated under the null (a small run
here; a larger one, recorded in docs/inference_lrt.inc, with SKCOINMIX_SLOW=1),
its power on separated classes, and the mechanics it promises: replicates
that keep the design of X, frequency weights as repeated rows, the same
results for any n_jobs, errors and progress.
"""

import os
import time
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from skcoinmix import BernoulliMixtureEM, BinomialMixtureEM, CategoricalMixtureEM
from skcoinmix.inference import _bootstrap, bootstrap_lrt
from skcoinmix.inference._replicates import plan_replicates

#: A cheap start (k-means costs about 10 ms a fit), where the start matters little.
FAST = "random_from_data"


def _two_classes(rng, n_samples=120, n_features=6, low=0.1, high=0.9):
    """0/1 rows from two classes with opposite probabilities, and their classes."""
    classes = rng.integers(2, size=n_samples)
    means = np.where(np.arange(n_features) % 2 == 0, high, low)
    means = np.vstack([means, 1.0 - means])
    return (rng.random((n_samples, n_features)) < means[classes]).astype(np.float64)


def _with_missing(rng, X, share=0.15):
    X = np.asarray(X, dtype=np.float64).copy()
    X[rng.random(X.shape) < share] = np.nan
    X[:, 0] = np.where(np.isnan(X[:, 0]), 1.0, X[:, 0])  # no empty column
    return X


# ------------------------------------------------------------------ validity
def _null_data(rng, n_samples, n_features):
    """Rows of independent items: a one-class Bernoulli model."""
    means = rng.uniform(0.2, 0.8, size=n_features)
    return (rng.random((n_samples, n_features)) < means).astype(np.float64)


def _rejections(n_sets, n_bootstrap, n_samples, n_features, seed, **settings):
    """P-values of the test of 1 against 2 classes on data from one class."""
    rng = np.random.default_rng(seed)
    pvalues = []
    for _ in range(n_sets):
        X = _null_data(rng, n_samples, n_features)
        est = BernoulliMixtureEM(
            2, random_state=int(rng.integers(2**31)), **settings
        ).fit(X)
        result = bootstrap_lrt(
            est, X, n_bootstrap=n_bootstrap, random_state=int(rng.integers(2**31))
        )
        pvalues.append(result.pvalue)
    return np.array(pvalues)


def _assert_calibrated(pvalues, level):
    """The rejection rate at ``level`` within the 99.9% Clopper-Pearson interval."""
    rejected = int(np.count_nonzero(pvalues <= level))
    interval = stats.binomtest(rejected, len(pvalues)).proportion_ci(
        confidence_level=0.999, method="exact"
    )
    assert interval.low <= level <= interval.high, (rejected, len(pvalues))


def test_rejection_rate_under_the_null_is_nominal():
    # A fixed seed, not the seed fixture: this is one simulation study whose
    # outcome must hold, run once (about 15 s on one core). Under the null,
    # with B = 19, T beats every T* (p = 0.05) with probability 1/20 and
    # half of them (p <= 0.5) with probability 1/2, up to the error of
    # estimating the null model; both rates are checked. tol=1e-3 is loose
    # but the same for the observed and the bootstrap fits, which is what
    # the test's exchangeability needs.
    pvalues = _rejections(
        n_sets=100,
        n_bootstrap=19,
        n_samples=40,
        n_features=4,
        seed=20261201,
        init_params="random_from_data",
        max_iter=1000,
    )
    _assert_calibrated(pvalues, 0.05)
    _assert_calibrated(pvalues, 0.5)


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("SKCOINMIX_SLOW") != "1",
    reason="a 15-minute simulation study: set SKCOINMIX_SLOW=1 to run it "
    "(its results are recorded in docs/inference_lrt.inc)",
)
def test_rejection_rate_under_the_null_is_nominal_large():
    n_features = 5
    n_sets, n_bootstrap = 200, 99
    start = time.perf_counter()
    pvalues = _rejections(
        n_sets=n_sets,
        n_bootstrap=n_bootstrap,
        n_samples=200,
        n_features=n_features,
        seed=20261202,
        init_params="random_from_data",
        n_init=2,
        max_iter=1000,
    )
    elapsed = time.perf_counter() - start
    print(
        f"\n{n_sets} data sets x {n_bootstrap} replicates, n=200, d={n_features}: "
        f"rejection rate {np.mean(pvalues <= 0.05):.3f} at 5%, "
        f"{np.mean(pvalues <= 0.01):.3f} at 1%, {np.mean(pvalues <= 0.1):.3f} "
        f"at 10%, mean p-value {pvalues.mean():.3f}, {elapsed:.0f} s"
    )
    for level in (0.01, 0.05, 0.1, 0.5):
        _assert_calibrated(pvalues, level)


def test_separated_classes_give_the_smallest_pvalue(rng):
    X = _two_classes(rng)
    est = BernoulliMixtureEM(2, init_params=FAST, n_init=3, random_state=0).fit(X)
    result = bootstrap_lrt(est, X, n_bootstrap=19, random_state=0, verbose=0)
    # Classes 0.8 apart on six items: T is in the hundreds, while T* of
    # one-class data is a few units; nothing of the bootstrap comes close.
    assert result.statistic > 10 * result.bootstrap_statistics.max()
    assert result.pvalue == pytest.approx(1 / 20)


def test_result_is_what_it_says(rng):
    X = _two_classes(rng, n_samples=60, n_features=4, low=0.3, high=0.7)
    est = BernoulliMixtureEM(2, init_params=FAST, random_state=0).fit(X)
    result = bootstrap_lrt(est, X, n_bootstrap=9, random_state=1, verbose=0)
    null = result.null_estimator
    assert null.n_components == 1 and len(null.weights_) == 1
    # A one-class model is the column means.
    assert_allclose(null.means_[0], X.mean(axis=0), rtol=1e-6)
    n = X.shape[0]
    assert result.log_likelihood == pytest.approx(est.score(X) * n, rel=1e-12)
    assert result.null_log_likelihood == pytest.approx(null.score(X) * n, rel=1e-12)
    assert result.statistic == pytest.approx(
        2 * (result.log_likelihood - result.null_log_likelihood), rel=1e-12
    )
    exceeding = np.count_nonzero(result.bootstrap_statistics >= result.statistic)
    assert result.pvalue == (1 + exceeding) / 10
    assert result.bootstrap_statistics.shape == (9,)
    assert result.n_bootstrap == 9 and result.n_components == 2
    assert result.n_not_converged == 0
    # (T* may be slightly negative: EM stops at tol, not at the maximum.)
    assert np.all(np.isfinite(result.bootstrap_statistics))
    assert "pvalue=" in repr(result)


# --------------------------------------------------------------- replicates
def test_replicates_keep_missingness_patterns(rng):
    X = _with_missing(rng, _two_classes(rng, n_samples=50, n_features=5))
    null = BernoulliMixtureEM(1).fit(X)
    plan = plan_replicates(null, X, None)
    first = plan.simulate(np.random.default_rng(0))
    second = plan.simulate(np.random.default_rng(1))
    for replicate in (first, second):
        assert_array_equal(np.isnan(replicate), np.isnan(X))
        assert set(np.unique(replicate[~np.isnan(replicate)])) <= {0.0, 1.0}
    assert not np.array_equal(first, second, equal_nan=True)
    assert plan.refit_params == {"binarize": None}


def test_replicates_draw_from_the_null_model(rng):
    # Means of many replicate rows against the model's: an independent check
    # of the draws (4 standard errors of a binomial proportion).
    est = BernoulliMixtureEM(2, init_params=FAST, random_state=0).fit(
        _two_classes(rng, 200, 3)
    )
    X = np.zeros((20_000, 3))
    replicate = plan_replicates(est, X, None).simulate(rng)
    expected = est.weights_ @ est.means_
    bound = 4 * np.sqrt(expected * (1 - expected) / X.shape[0])
    assert np.all(np.abs(replicate.mean(axis=0) - expected) < bound)


def test_weighted_rows_are_repeated_in_replicates(rng):
    X = _with_missing(rng, _two_classes(rng, n_samples=12, n_features=4))
    counts = rng.integers(0, 4, size=X.shape[0])
    counts[0] = 2
    null = BernoulliMixtureEM(1).fit(X, sample_weight=counts)
    weighted = plan_replicates(null, X, counts).simulate(np.random.default_rng(3))
    expanded = plan_replicates(null, np.repeat(X, counts, axis=0), None).simulate(
        np.random.default_rng(3)
    )
    assert_array_equal(weighted, expanded)
    assert weighted.shape[0] == counts.sum()


def test_integer_weights_test_as_the_expanded_rows(rng):
    X = _two_classes(rng, n_samples=30, n_features=4, low=0.25, high=0.75)
    counts = rng.integers(1, 4, size=X.shape[0])
    est = BernoulliMixtureEM(2, init_params=FAST, random_state=0).fit(
        X, sample_weight=counts
    )
    kwargs = dict(n_bootstrap=5, random_state=7, verbose=0)
    weighted = bootstrap_lrt(est, X, sample_weight=counts.astype(float), **kwargs)
    expanded = bootstrap_lrt(est, np.repeat(X, counts, axis=0), **kwargs)
    # The one-class fit is the weighted column means either way (up to the
    # order of summation), so the replicates and their refits are the same.
    assert_allclose(
        weighted.bootstrap_statistics, expanded.bootstrap_statistics, atol=1e-8
    )
    assert weighted.statistic == pytest.approx(expanded.statistic, rel=1e-10)


def test_fractional_weights_are_refused(rng):
    X = _two_classes(rng, n_samples=20, n_features=3)
    est = BernoulliMixtureEM(2, init_params=FAST, random_state=0).fit(X)
    weights = np.ones(20)
    weights[4] = 1.5
    with pytest.raises(ValueError, match=r"whole numbers.*1\.5 \(row 4\)"):
        bootstrap_lrt(est, X, n_bootstrap=3, sample_weight=weights)


def test_same_results_for_any_n_jobs(rng):
    X = _two_classes(rng, n_samples=40, n_features=4, low=0.3, high=0.7)
    est = BernoulliMixtureEM(2, init_params=FAST, n_init=2, random_state=0).fit(X)
    one = bootstrap_lrt(est, X, n_bootstrap=6, random_state=3, verbose=0)
    two = bootstrap_lrt(est, X, n_bootstrap=6, random_state=3, n_jobs=2, verbose=0)
    assert_array_equal(one.bootstrap_statistics, two.bootstrap_statistics)
    assert one.pvalue == two.pvalue
    other = bootstrap_lrt(est, X, n_bootstrap=6, random_state=4, verbose=0)
    assert not np.array_equal(one.bootstrap_statistics, other.bootstrap_statistics)


# ----------------------------------------------------------------- the models
def test_missing_entries_end_to_end(rng):
    X = _with_missing(rng, _two_classes(rng, n_samples=80, n_features=5))
    est = BernoulliMixtureEM(2, init_params=FAST, n_init=3, random_state=0).fit(X)
    result = bootstrap_lrt(est, X, n_bootstrap=9, random_state=0, verbose=0)
    assert np.all(np.isfinite(result.bootstrap_statistics))
    assert result.pvalue == pytest.approx(0.1)  # separated classes


def test_categorical_strings_and_dataframe(rng):
    pd = pytest.importorskip("pandas")
    codes = rng.integers(0, 3, size=(100, 4))
    classes = rng.integers(2, size=100)
    # Class 1 answers "c" to everything: two well-separated classes.
    codes[classes == 1] = 2
    values = np.array(["a", "b", "c"], dtype=object)[codes]
    values[rng.random(values.shape) < 0.1] = None
    frame = pd.DataFrame(values, columns=["q1", "q2", "q3", "q4"])
    est = CategoricalMixtureEM(2, random_state=0).fit(frame)
    plan = plan_replicates(est, frame, None)
    replicate = plan.simulate(np.random.default_rng(0))
    # Codes 0..2, missing exactly where the frame is.
    assert_array_equal(np.isnan(replicate), frame.isna().to_numpy())
    assert set(np.unique(replicate[~np.isnan(replicate)])) <= {0.0, 1.0, 2.0}
    assert [c.tolist() for c in plan.refit_params["categories"]] == [[0, 1, 2]] * 4
    result = bootstrap_lrt(est, frame, n_bootstrap=9, random_state=0, verbose=0)
    assert result.pvalue == pytest.approx(0.1)


def test_categorical_keeps_categories_a_replicate_does_not_draw(rng):
    # A category of 1 row in 300: most replicates miss it, yet every refit
    # must have the parameters of all three categories.
    codes = rng.integers(0, 2, size=(300, 3))
    codes[0, 0] = 2
    est = CategoricalMixtureEM(2, random_state=0).fit(codes)
    plan = plan_replicates(est, codes, None)
    replicate = plan.simulate(np.random.default_rng(0))
    assert replicate.dtype.kind == "i"  # complete data: integer codes
    refit = CategoricalMixtureEM(2, random_state=0, **plan.refit_params).fit(replicate)
    assert [len(block[0]) for block in refit.probs_] == [3, 2, 2]
    assert refit.n_parameters_ == est.n_parameters_


def test_categorical_integer_categories_and_pandas_na(rng):
    pd = pytest.importorskip("pandas")
    # Consecutive integers from -1 (read by the model as shifted codes):
    # -1 is a category here, not a missing answer.
    values = rng.integers(-1, 2, size=(40, 3))
    est = CategoricalMixtureEM(2, random_state=0).fit(values)
    replicate = plan_replicates(est, values, None).simulate(np.random.default_rng(0))
    assert replicate.dtype.kind == "i" and replicate.shape == (40, 3)
    # pandas category and nullable integer columns, NA missing.
    frame = pd.DataFrame(
        {
            "a": pd.Categorical(rng.choice(["x", "y"], size=40)),
            "b": pd.array(rng.integers(1, 4, size=40), dtype="Int64"),
        }
    )
    frame.loc[[2, 5], "b"] = pd.NA
    frame.loc[7, "a"] = np.nan
    est = CategoricalMixtureEM(2, random_state=0).fit(frame)
    replicate = plan_replicates(est, frame, None).simulate(np.random.default_rng(0))
    assert_array_equal(np.isnan(replicate), frame.isna().to_numpy())


def test_binomial_fixed_trials(rng):
    classes = rng.integers(2, size=80)
    means = np.array([[0.2, 0.3, 0.8], [0.8, 0.7, 0.2]])
    X = rng.binomial([5, 5, 8], means[classes]).astype(np.float64)
    X[rng.random(X.shape) < 0.1] = np.nan
    est = BinomialMixtureEM(2, n_trials=[5, 5, 8], random_state=0).fit(X)
    replicate = plan_replicates(est, X, None).simulate(np.random.default_rng(0))
    assert_array_equal(np.isnan(replicate), np.isnan(X))
    observed = replicate[~np.isnan(replicate)]
    assert np.all(observed == np.round(observed))
    assert np.all(np.nanmax(replicate, axis=0) <= [5, 5, 8])
    result = bootstrap_lrt(est, X, n_bootstrap=9, random_state=0, verbose=0)
    assert result.pvalue == pytest.approx(0.1)


def test_binomial_paired_trials_are_kept(rng):
    trials = rng.integers(1, 12, size=(60, 3)).astype(np.float64)
    successes = rng.binomial(trials.astype(int), 0.4).astype(np.float64)
    successes[3, 1] = np.nan
    X = np.hstack([successes, trials - successes])
    est = BinomialMixtureEM(2, n_trials="paired", random_state=0).fit(X)
    replicate = plan_replicates(est, X, None).simulate(np.random.default_rng(0))
    # Every entry keeps its trials; the missing one stays missing.
    assert_array_equal(replicate[:, :3] + replicate[:, 3:], X[:, :3] + X[:, 3:])
    assert np.isnan(replicate[3, 1]) and np.isnan(replicate[3, 4])
    result = bootstrap_lrt(est, X, n_bootstrap=4, random_state=0, verbose=0)
    assert np.all(np.isfinite(result.bootstrap_statistics))


def test_binomial_paired_fractional_trials_are_refused():
    X = np.array([[1.5, 2.0], [1.0, 3.0], [0.0, 2.0], [2.0, 0.0]])
    est = BinomialMixtureEM(2, n_trials="paired", random_state=0).fit(X)
    with pytest.raises(ValueError, match="whole numbers"):
        bootstrap_lrt(est, X, n_bootstrap=2)


def test_bernoulli_binarized_and_tied_data(rng):
    counts = rng.integers(0, 5, size=(60, 4)).astype(np.float64)
    est = BernoulliMixtureEM(2, binarize=2.0, random_state=0).fit(counts)
    # The replicates are 0/1, which binarize=2.0 would map to 0: the refits
    # must read them as they are.
    result = bootstrap_lrt(est, counts, n_bootstrap=4, random_state=0, verbose=0)
    assert np.all(np.isfinite(result.bootstrap_statistics))
    assert result.null_estimator.binarize == 2.0
    tied = BernoulliMixtureEM(2, tie_features=True, random_state=0)
    X = _with_missing(rng, _two_classes(rng, 60, 4))
    result = bootstrap_lrt(tied.fit(X), X, n_bootstrap=4, random_state=0, verbose=0)
    assert np.all(np.isfinite(result.bootstrap_statistics))


def test_sparse_input(rng):
    sp = pytest.importorskip("scipy.sparse")
    X = sp.csr_matrix(_two_classes(rng, 50, 4))
    est = BernoulliMixtureEM(2, init_params=FAST, random_state=0).fit(X)
    replicate = plan_replicates(est, X, None).simulate(np.random.default_rng(0))
    assert replicate.dtype == np.uint8 and replicate.shape == (50, 4)
    result = bootstrap_lrt(est, X, n_bootstrap=3, random_state=0, verbose=0)
    assert result.statistic == pytest.approx(
        2 * 50 * (est.score(X) - result.null_estimator.score(X))
    )


# --------------------------------------------------------- settings, errors
def test_starting_values_are_not_used_by_refits(rng):
    X = _two_classes(rng, 40, 3)
    est = BernoulliMixtureEM(
        2, means_init=[[0.8, 0.2, 0.8], [0.2, 0.8, 0.2]], weights_init=[0.5, 0.5]
    ).fit(X)
    result = bootstrap_lrt(est, X, n_bootstrap=3, random_state=0, verbose=0)
    assert result.null_estimator.means_init is None
    assert result.null_estimator.weights_init is None


def test_fixed_weights(rng):
    X = _two_classes(rng, 40, 3)
    uniform = BernoulliMixtureEM(2, fit_weights=False, random_state=0).fit(X)
    result = bootstrap_lrt(uniform, X, n_bootstrap=3, random_state=0, verbose=0)
    assert result.null_estimator.fit_weights is False
    fixed = BernoulliMixtureEM(
        2, fit_weights=False, weights_init=[0.3, 0.7], random_state=0
    ).fit(X)
    with pytest.raises(ValueError, match="fit_weights=False"):
        bootstrap_lrt(fixed, X, n_bootstrap=3)


def test_bad_estimators_and_data(rng):
    X = _two_classes(rng, 30, 3)
    one = BernoulliMixtureEM(1).fit(X)
    with pytest.raises(ValueError, match="K = 1"):
        bootstrap_lrt(one, X, n_bootstrap=3)
    with pytest.raises(TypeError, match="GaussianMixture"):
        bootstrap_lrt(GaussianMixture(2).fit(X), X, n_bootstrap=3)
    est = BernoulliMixtureEM(2, init_params=FAST, random_state=0).fit(X)
    with pytest.raises(ValueError, match="n_bootstrap"):
        bootstrap_lrt(est, X, n_bootstrap=0)
    da = pytest.importorskip("dask.array")
    with pytest.raises(TypeError, match="dask"):
        bootstrap_lrt(est, da.from_array(X, chunks=10), n_bootstrap=3)


def test_refits_that_do_not_converge_are_counted(rng):
    X = _two_classes(rng, 40, 3)
    with pytest.warns(ConvergenceWarning):
        est = BernoulliMixtureEM(2, max_iter=2, tol=0.0, random_state=0).fit(X)
    with (
        # The one-class fit to X warns as fit does; the refits are counted.
        pytest.warns(ConvergenceWarning, match="Best performing"),
        pytest.warns(ConvergenceWarning, match="6 of the 6 refits") as caught,
    ):
        result = bootstrap_lrt(est, X, n_bootstrap=3, random_state=0, verbose=0)
    assert result.n_not_converged == 6
    # The warning points at the caller's line, not inside scikit-learn.
    (counted,) = [w for w in caught if "refits" in str(w.message)]
    assert counted.filename == __file__


def test_progress_on_stderr(rng, capsys, monkeypatch):
    X = _two_classes(rng, 30, 3)
    est = BernoulliMixtureEM(2, init_params=FAST, random_state=0).fit(X)
    bootstrap_lrt(est, X, n_bootstrap=3, random_state=0, verbose=0)
    assert capsys.readouterr().err == ""
    bootstrap_lrt(est, X, n_bootstrap=3, random_state=0)  # verbose=1, short run
    assert capsys.readouterr().err == ""
    bootstrap_lrt(est, X, n_bootstrap=3, random_state=0, verbose=2)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and lines[-1].startswith("bootstrap_lrt: 3/3 replicates")
    monkeypatch.setattr(_bootstrap, "PROGRESS_INTERVAL", 0.0)  # every one "long"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bootstrap_lrt(est, X, n_bootstrap=2, random_state=0)
    assert len(capsys.readouterr().err.splitlines()) == 2
