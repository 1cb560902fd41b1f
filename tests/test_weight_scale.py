"""Sample weights of any scale: no overflow, no underflow, no NaN.

With ``alpha=0`` the fitted parameters, predictions, ``score`` and
``lower_bound_`` depend on the weights only through their ratios, and the
estimator computes with the weights rescaled by a power of two (exact), so
multiplying the weights by ``2**k`` must change nothing, bit for bit, even
where the weights' total overflows or underflows float64. Totals that scale
(``bic``, ``aic``, the report's ``N``, log-likelihood, G², X²) are scaled
back exactly, or refused with a ValueError naming ``sample_weight``.
"""

import json
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM
from skcoinmix.__main__ import main
from skcoinmix._report import fit_report
from skcoinmix.datasets import make_bernoulli_mixture

INIT_PARAMS = ["kmeans", "k-means++", "random", "random_from_data"]

#: The issue's example: four one-hot rows, five times each.
ISSUE_X = np.tile(np.eye(4), (5, 1))

#: Powers of two the weights are multiplied by: from weights whose smallest
#: stay normal floats to weights whose total overflows float64.
SCALES = [-1000, -600, -40, -1, 0, 1, 40, 600, 1015]


def make_data(seed, n_samples=200):
    """0/1 data from two well-separated classes."""
    X, _ = make_bernoulli_mixture(
        n_samples,
        [0.6, 0.4],
        [[0.9, 0.8, 0.9, 0.1, 0.2, 0.7], [0.1, 0.2, 0.2, 0.9, 0.8, 0.3]],
        random_state=seed,
    )
    return X.astype(np.float64)


def fitted_state(est):
    """What a fit produces, for comparing fits exactly."""
    return {
        "weights_": est.weights_,
        "means_": est.means_,
        "n_iter_": est.n_iter_,
        "lower_bound_": est.lower_bound_,
    }


def assert_same_fit(a, b):
    for name, value in fitted_state(a).items():
        assert_array_equal(getattr(b, name), value, err_msg=name)


def assert_all_finite(est):
    assert np.all(np.isfinite(est.weights_)) and np.all(np.isfinite(est.means_))
    assert np.isfinite(est.lower_bound_)


# ----------------------------------------------------------- the issue's cases
@pytest.mark.parametrize("init_params", INIT_PARAMS)
def test_issue_weights_whose_total_overflows(init_params):
    # 20 weights of 1e307 sum to 2e308: beyond float64. Every start used to
    # give NaN weights or numpy's "probabilities do not sum to 1". The fit is
    # that of the same weights 2**1000 times smaller (an exact rescaling).
    w = np.full(20, 1e307)
    est = BernoulliMixtureEM(2, init_params=init_params, random_state=0)
    est.fit(ISSUE_X, sample_weight=w)
    assert_all_finite(est)
    small = BernoulliMixtureEM(2, init_params=init_params, random_state=0)
    assert_same_fit(est, small.fit(ISSUE_X, sample_weight=np.ldexp(w, -1000)))


@pytest.mark.parametrize("init_params", INIT_PARAMS)
def test_power_of_two_weights_equal_unit_weights(init_params):
    # 2**1020 rescales to exactly 1: the fit is the unweighted one, bit for
    # bit, though 20 such weights overflow; so is the subnormal 2**-1040.
    for exponent in [1020, -1040]:
        w = np.full(20, math.ldexp(1.0, exponent))
        est = BernoulliMixtureEM(2, init_params=init_params, random_state=0)
        est.fit(ISSUE_X, sample_weight=w)
        unit = BernoulliMixtureEM(2, init_params=init_params, random_state=0)
        assert_same_fit(est, unit.fit(ISSUE_X))


def test_issue_subnormal_weights_do_not_collapse_the_start():
    # Weights of 1e-310 (subnormal) collapsed the k-means start to weights
    # [1, 0]. Scaling a subnormal up by a power of two is exact: the fit is
    # that of the same weights as normal floats.
    w = np.full(20, 1e-310)
    est = BernoulliMixtureEM(2, random_state=0).fit(ISSUE_X, sample_weight=w)
    normal = BernoulliMixtureEM(2, random_state=0)
    assert_same_fit(est, normal.fit(ISSUE_X, sample_weight=np.ldexp(w, 1040)))
    assert np.all(est.weights_ > 0)


def test_issue_score_and_criteria():
    est = BernoulliMixtureEM(2, init_params="random", random_state=0).fit(ISSUE_X)
    w = np.full(20, 1e307)
    # score is a weighted mean: with equal weights, the unweighted mean. The
    # two sums differ in rounding only (20 terms: a few ulps).
    assert est.score(ISSUE_X, sample_weight=w) == pytest.approx(
        est.score(ISSUE_X), rel=1e-14
    )
    # Equal power-of-two weights rescale to exactly 1.
    assert est.score(ISSUE_X, sample_weight=np.full(20, 2.0**1020)) == est.score(
        ISSUE_X
    )
    # bic and aic are totals: -2 log L is about 8e308, not a float64.
    for criterion in (est.bic, est.aic):
        with pytest.raises(ValueError, match="Rescale sample_weight"):
            criterion(ISSUE_X, sample_weight=w)


def test_issue_fit_report_refuses_a_total_beyond_float64():
    est = BernoulliMixtureEM(2, init_params="random", random_state=0).fit(ISSUE_X)
    # N = 2e308 used to print as inf, the log-likelihood -inf, X² NaN.
    with pytest.raises(ValueError, match=r"sum of the weights \(N\) is 2e\+308"):
        fit_report(est, ISSUE_X, sample_weight=np.full(20, 1e307))


# ------------------------------------------------------------------ properties
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("init_params", INIT_PARAMS)
def test_power_of_two_scale_changes_nothing(seed, scale, init_params):
    X = make_data(seed)
    w = np.random.default_rng(seed).uniform(0.2, 3.0, size=X.shape[0])
    w[::7] = 0.0  # rows of weight 0 stay out
    a = BernoulliMixtureEM(2, init_params=init_params, random_state=seed)
    b = BernoulliMixtureEM(2, init_params=init_params, random_state=seed)
    a.fit(X, sample_weight=w)
    b.fit(X, sample_weight=np.ldexp(w, scale))
    assert_all_finite(b)
    assert_same_fit(a, b)
    assert_array_equal(b.predict_proba(X), a.predict_proba(X))
    assert b.score(X, sample_weight=np.ldexp(w, scale)) == a.score(X, sample_weight=w)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("factor", [3.7, 1e-300, 1e300])
def test_arbitrary_scale_changes_nothing_but_rounding(seed, factor):
    # A factor that is not a power of two rounds every weight: the fits
    # agree to rounding. Twenty EM iterations on well-separated classes, a
    # contraction, keep relative differences of ~1e-16 per weight well below
    # 1e-10; tol=0 makes both runs take the same number of iterations. Plain
    # EM: SQUAREM's accept or reject can flip on rounding and part the paths.
    X = make_data(seed)
    w = np.random.default_rng(seed).uniform(0.2, 3.0, size=X.shape[0])
    params = dict(
        init_params="random", tol=0.0, max_iter=20, random_state=seed, accelerate=None
    )
    a = BernoulliMixtureEM(2, **params).fit(X, sample_weight=w)
    b = BernoulliMixtureEM(2, **params).fit(X, sample_weight=w * factor)
    assert_allclose(b.weights_, a.weights_, rtol=1e-10)
    assert_allclose(b.means_, a.means_, rtol=1e-10)
    assert_allclose(b.lower_bound_, a.lower_bound_, rtol=1e-10)
    assert_allclose(
        b.score(X, sample_weight=w * factor), a.score(X, sample_weight=w), rtol=1e-12
    )


@pytest.mark.parametrize("scale", [-1060, -1000, -1, 0, 5, 1000])
def test_bic_and_aic_scale_with_the_weights(seed, scale):
    # -2 log L scales with the weights and log N shifts by scale * log 2.
    # The oracle sums in extended precision (math.fsum) and takes log N from
    # log(sum w) + scale log 2; the estimator sums pairwise: the deviance
    # agrees to ~n ulps of its terms (rtol 1e-12), log N to a few ulps.
    X = make_data(seed)
    w = np.random.default_rng(seed).uniform(0.2, 3.0, size=X.shape[0])
    scaled = np.ldexp(w, scale)
    # Subnormal weights (2**-1060) keep a dozen bits: the oracle takes the
    # weights passed, scaled back up (exact).
    w = np.ldexp(scaled, -scale)
    est = BernoulliMixtureEM(2, random_state=seed).fit(X, sample_weight=w)
    p = est.n_parameters_
    log_prob = est.score_samples(X)
    deviance = -2.0 * math.ldexp(math.fsum(w * log_prob), scale)
    log_n = math.log(math.fsum(w)) + scale * math.log(2.0)
    absolute = 1e-300  # a subnormal deviance keeps few significant bits
    assert est.aic(X, sample_weight=scaled) == pytest.approx(
        deviance + 2 * p, rel=1e-12, abs=absolute
    )
    assert est.bic(X, sample_weight=scaled) == pytest.approx(
        deviance + p * log_n, rel=1e-12, abs=absolute
    )


# ------------------------------------------------------------- other paths
@pytest.mark.parametrize("init_params", INIT_PARAMS)
def test_sparse_input(seed, init_params):
    X = sp.csr_matrix(make_data(seed))
    w = np.random.default_rng(seed).uniform(0.2, 3.0, size=X.shape[0])
    huge = np.ldexp(w, 1017)  # their total overflows
    a = BernoulliMixtureEM(2, init_params=init_params, random_state=seed)
    b = BernoulliMixtureEM(2, init_params=init_params, random_state=seed)
    a.fit(X, sample_weight=w)
    b.fit(X, sample_weight=huge)
    assert_all_finite(b)
    assert_same_fit(a, b)
    assert b.score(X, sample_weight=huge) == a.score(X, sample_weight=w)


def test_tied_features_and_missing_entries(seed):
    # The count (tie_features) and missing-entry kernels, rescaled alike.
    X = make_data(seed)
    X[np.random.default_rng(seed).uniform(size=X.shape) < 0.1] = np.nan
    w = np.random.default_rng(seed + 1).uniform(0.2, 3.0, size=X.shape[0])
    for tie_features in (False, True):
        a = BernoulliMixtureEM(2, tie_features=tie_features, random_state=seed)
        b = BernoulliMixtureEM(2, tie_features=tie_features, random_state=seed)
        a.fit(X, sample_weight=w)
        b.fit(X, sample_weight=np.ldexp(w, 1017))
        assert_all_finite(b)
        assert_same_fit(a, b)


@pytest.mark.parametrize("weights_as", ["numpy", "dask"])
@pytest.mark.parametrize("init_params", ["kmeans", "random"])
def test_dask_input(seed, weights_as, init_params):
    da = pytest.importorskip("dask.array")
    X = make_data(seed)
    dX = da.from_array(X, chunks=(64, -1))
    w = np.random.default_rng(seed).uniform(0.2, 3.0, size=X.shape[0])
    fits = []
    for scale in (0, 1017):
        scaled = np.ldexp(w, scale)
        if weights_as == "dask":
            scaled = da.from_array(scaled, chunks=50)
        est = BernoulliMixtureEM(2, init_params=init_params, random_state=seed)
        fits.append(est.fit(dX, sample_weight=scaled))
        assert_all_finite(est)
        score = est.score(dX, sample_weight=scaled)
        assert np.isfinite(score)
    # The same rescaled weights, exactly; the totals of the dask reduction
    # are rescaled exactly too (no partial sum overflowed, or summed again).
    assert_same_fit(fits[0], fits[1])


def test_partial_fit(seed):
    # Batches whose weights' totals overflow, and batches of different
    # scales: the same online updates as the weights 2**1000 times smaller.
    X = make_data(seed, n_samples=300)
    w = np.random.default_rng(seed).uniform(0.2, 3.0, size=X.shape[0])
    batch_scales = [1017, 1000, 1017]
    a = BernoulliMixtureEM(2, alpha=0.5, random_state=seed)
    b = BernoulliMixtureEM(2, alpha=math.ldexp(0.5, 1000), random_state=seed)
    for rows, scale in zip(
        np.array_split(np.arange(300), 3), batch_scales, strict=True
    ):
        b.partial_fit(X[rows], sample_weight=np.ldexp(w[rows], scale))
        a.partial_fit(X[rows], sample_weight=np.ldexp(w[rows], scale - 1000))
        assert_all_finite(b)
        # alpha scaled with the weights: the same prior against the counts.
        assert_array_equal(b.means_, a.means_)
        assert_array_equal(b.weights_, a.weights_)
        assert b.lower_bound_ == a.lower_bound_


# -------------------------------------------------------------------- alpha > 0
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("scale", [-1000, -40, 40, 600])
def test_alpha_scaled_with_the_weights_gives_the_same_estimates(seed, scale):
    # With alpha > 0 the weights' scale matters: alpha counts pseudo-rows
    # against the total weight. Scaling both by 2**scale leaves the MAP
    # estimates exactly as they were (the lower bound, which holds the log
    # prior density, changes: tol=0 runs both for max_iter iterations).
    X = make_data(seed)
    w = np.random.default_rng(seed).uniform(0.2, 3.0, size=X.shape[0])
    params = dict(init_params="random", tol=0.0, max_iter=15, random_state=seed)
    a = BernoulliMixtureEM(2, alpha=2.0, **params).fit(X, sample_weight=w)
    b = BernoulliMixtureEM(2, alpha=math.ldexp(2.0, scale), **params)
    b.fit(X, sample_weight=np.ldexp(w, scale))
    assert_all_finite(b)
    assert_array_equal(b.means_, a.means_)
    assert_array_equal(b.weights_, a.weights_)


def test_alpha_against_huge_weights_is_negligible():
    # alpha=1 against a total of 2e308: the pseudo-counts are below half an
    # ulp of every count, so the estimates are those of alpha=0.
    w = np.full(20, 1e307)
    est = BernoulliMixtureEM(2, alpha=1.0, init_params="random", random_state=0)
    est.fit(ISSUE_X, sample_weight=w)
    mle = BernoulliMixtureEM(2, init_params="random", random_state=0)
    mle.fit(ISSUE_X, sample_weight=w)
    assert_all_finite(est)
    assert_array_equal(est.means_, mle.means_)
    assert_array_equal(est.weights_, mle.weights_)


def test_alpha_against_tiny_weights_is_refused_or_dominates():
    X = make_data(0)
    # Total weight 200 * 2**-1000: alpha=1 outweighs the data by 2**1000,
    # so every probability is the prior's mode, 1/2.
    est = BernoulliMixtureEM(2, alpha=1.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, sample_weight=np.full(X.shape[0], 2.0**-1000))
    assert_all_finite(est)
    assert_array_equal(est.means_, 0.5)
    # Total weight 200 * 2**-1070: the log prior per unit of weight, in the
    # lower bound, is beyond float64. Refused, the fitted model untouched.
    before = fitted_state(est)
    with pytest.raises(ValueError, match="rescale sample_weight"):
        est.fit(X, sample_weight=np.full(X.shape[0], 2.0**-1070))
    for name, value in before.items():
        assert_array_equal(getattr(est, name), value)


# ------------------------------------------------------------------- fit report
def report_numbers(report):
    return {
        key: value
        for key, value in report.to_dict().items()
        if isinstance(value, float)
    }


@pytest.mark.parametrize("scale", [-1000, -3, 0, 900, 1000])
def test_fit_report_totals_scale_with_the_weights(seed, scale):
    # N, the log-likelihood, G² and X² scale with the weights, by 2**scale
    # exactly; proportions and entropy do not change. Nothing is NaN or
    # infinite (with 2**1000, squared counts overflowed in X²).
    X = make_data(seed)
    w = np.random.default_rng(seed).uniform(0.2, 3.0, size=X.shape[0])
    est = BernoulliMixtureEM(2, random_state=seed).fit(X, sample_weight=w)
    base = fit_report(est, X, sample_weight=w)
    report = fit_report(est, X, sample_weight=np.ldexp(w, scale))
    numbers = report_numbers(report)
    assert all(math.isfinite(value) for value in numbers.values()), numbers
    for key in ("sample_size", "n_complete", "log_likelihood", "g_squared"):
        assert getattr(report, key) == math.ldexp(getattr(base, key), scale), key
    assert report.chi_squared == math.ldexp(base.chi_squared, scale)
    assert report.class_weights == base.class_weights
    assert report.modal_class_proportions == base.modal_class_proportions
    assert report.relative_entropy == base.relative_entropy
    if scale >= 0:
        # N stays above the 2^6 - 1 free cells (N is about 320 * 2**scale).
        assert report.df == base.df


def test_fit_report_of_subnormal_weights(seed):
    # Weights near 2**-1060 are subnormal floats, with a dozen significant
    # bits: the totals keep their absolute precision (a few 1e-321 from
    # rounding 200 weights), and nothing is NaN or infinite.
    X = make_data(seed)
    w = np.random.default_rng(seed).uniform(0.2, 3.0, size=X.shape[0])
    est = BernoulliMixtureEM(2, random_state=seed).fit(X, sample_weight=w)
    base = fit_report(est, X, sample_weight=w)
    report = fit_report(est, X, sample_weight=np.ldexp(w, -1060))
    numbers = report_numbers(report)
    assert all(math.isfinite(value) for value in numbers.values()), numbers
    for key in ("sample_size", "log_likelihood", "g_squared", "chi_squared"):
        expected = math.ldexp(getattr(base, key), -1060)
        assert getattr(report, key) == pytest.approx(expected, rel=0, abs=1e-318), key
    # log N from the rescaled total: about -733.
    expected_log_n = math.log(base.sample_size) - 1060 * math.log(2.0)
    assert report.bic == pytest.approx(report.n_parameters * expected_log_n, rel=1e-3)


def test_fit_report_of_weights_with_a_huge_total():
    # 20 weights of 1e306: N = 2e307 and every total is a float, though
    # squared counts (X²) are not: the report is that of unit weights, its
    # totals times 1e306 (rounding: a few ulps).
    est = BernoulliMixtureEM(2, init_params="random", random_state=0).fit(ISSUE_X)
    unit = fit_report(est, ISSUE_X)
    report = fit_report(est, ISSUE_X, sample_weight=np.full(20, 1e306))
    assert all(math.isfinite(value) for value in report_numbers(report).values())
    for key in ("sample_size", "log_likelihood", "g_squared", "chi_squared"):
        assert getattr(report, key) == pytest.approx(
            getattr(unit, key) * 1e306, rel=1e-13
        ), key
    assert report.bic == pytest.approx(
        -2 * report.log_likelihood + report.n_parameters * math.log(2e307),
        rel=1e-13,
    )


def test_cli_weights_column_of_any_scale(tmp_path, capsys):
    X = make_data(0, n_samples=150)
    patterns, counts = np.unique(X, axis=0, return_counts=True)

    def run(weights):
        rows = ["a,b,c,d,e,f,count"]
        rows += [
            ",".join([*(str(int(v)) for v in row), repr(float(weight))])
            for row, weight in zip(patterns, weights, strict=True)
        ]
        path = tmp_path / "table.csv"
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        args = ["fit", str(path), "--n-components", "2", "--n-init", "2"]
        args += ["--random-state", "0", "--weights-column", "count", "--json"]
        status = main(args)
        return status, capsys.readouterr()

    status, out = run(counts)
    assert status == 0
    unit = json.loads(out.out)
    # Counts times 2**1000: the same classes; totals 2**1000 times larger.
    status, out = run(np.ldexp(counts.astype(float), 1000))
    assert status == 0, out.err
    big = json.loads(out.out)
    assert "nan" not in out.out.lower() and "infinity" not in out.out.lower()
    assert big["class_weights"] == unit["class_weights"]
    assert big["sample_size"] == math.ldexp(unit["sample_size"], 1000)
    assert big["chi_squared"] == math.ldexp(unit["chi_squared"], 1000)
    # Weights of 1e308: their total is beyond float64: a clear error.
    status, out = run(np.full(len(counts), 1e308))
    assert status == 2
    assert "beyond float64's range" in out.err and "'count'" in out.err
    assert out.out == "" and "Traceback" not in out.err
