"""Tests of skcoinmix.fit_report: hand computations, identities and the text."""

import inspect
import itertools
import json
import math
from abc import ABCMeta
from functools import partial

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.stats import bernoulli
from sklearn.exceptions import NotFittedError
from sklearn.mixture import GaussianMixture

import skcoinmix
from skcoinmix import BernoulliMixtureEM
from skcoinmix._em import BaseMixtureEM
from skcoinmix._report import (
    MAX_ITEMS_FIT_STATISTICS,
    FitReport,
    binary_codes,
    fit_report,
    modal_proportions,
    pattern_codes,
    pattern_counts,
    pearson_chi_squared,
    relative_entropy,
    residual_df,
)
from skcoinmix.datasets import from_patterns, load_lca_example, to_patterns

#: The four cells of a 2-item table, in to_patterns' order, and their counts.
CELLS_2 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
COUNTS_2 = np.array([10.0, 5.0, 3.0, 12.0])

#: Report fields that are numbers or tuples of numbers (compared with tolerance).
NUMERIC_FIELDS = [
    "sample_size",
    "log_likelihood",
    "aic",
    "bic",
    "sabic",
    "caic",
    "icl_bic",
    "df",
    "g_squared",
    "g_squared_p_value",
    "chi_squared",
    "chi_squared_p_value",
    "n_complete",
    "relative_entropy",
    "classification_error",
    "average_posteriors",
]


def all_cells(n_items):
    """Every 0/1 pattern of ``n_items`` items, shape (2^J, J)."""
    return np.array(list(itertools.product([0, 1], repeat=n_items)), dtype=float)


def fit(X, n_components=2, sample_weight=None, **params):
    params = {"tol": 1e-8, "max_iter": 2000, "random_state": 0, **params}
    est = BernoulliMixtureEM(n_components, **params)
    return est.fit(X, sample_weight=sample_weight)


def independence_by_hand(cells, counts):
    """The K = 1 model of a table of patterns, computed with plain numpy.

    Returns the marginal probabilities, the log-likelihood and the expected
    counts of ``cells`` (any 0/1 rows, observed or not).
    """
    N = counts.sum()
    probs = counts @ cells / N  # the MLE of each item's probability of a 1
    cell_probs = np.prod(np.where(cells == 1, probs, 1 - probs), axis=1)
    return probs, float(counts @ np.log(cell_probs)), N * cell_probs


def assert_reports_equal(first, second, ignore=("n_samples",)):
    """Same report up to rounding (1e-10), ``ignore`` fields left out."""
    a, b = first.to_dict(), second.to_dict()
    for name in a:
        if name in ignore:
            continue
        if name in NUMERIC_FIELDS or name.endswith(("weights", "proportions")):
            if a[name] is None or b[name] is None:
                assert a[name] is b[name] is None, name
            else:
                assert_allclose(a[name], b[name], rtol=1e-10, atol=1e-10, err_msg=name)
        elif name == "item_probabilities":
            assert_allclose(a[name], b[name], rtol=1e-10, atol=1e-10, err_msg=name)
        elif name == "largest_bivariate_residuals" and a[name] is not None:
            assert [row[:2] + row[3:] for row in a[name]] == [
                row[:2] + row[3:] for row in b[name]
            ], name
            assert_allclose(
                [row[2] for row in a[name]],
                [row[2] for row in b[name]],
                rtol=1e-10,
                err_msg=name,
            )
        else:
            assert a[name] == b[name], name


@pytest.fixture(scope="module")
def stouffer_toby():
    patterns, counts = load_lca_example("stouffer_toby", as_patterns=True)
    est = fit(patterns, 2, sample_weight=counts, n_init=3)
    return est, patterns, counts


@pytest.fixture(scope="module")
def nan_estimator():
    """A fit on data with missing answers, or a skip while NaN is refused."""
    rng = np.random.default_rng(0)
    X = load_lca_example("stouffer_toby").astype(float)
    X[rng.uniform(size=X.shape) < 0.1] = np.nan
    try:
        est = fit(X, 2, n_init=2)
    except ValueError as exc:
        pytest.skip(f"BernoulliMixtureEM does not accept NaN yet: {exc}")
    return est, X


# -------------------------------------------------------- hand computations
def test_independence_model_numbers_by_hand():
    est = fit(CELLS_2, 1, sample_weight=COUNTS_2)
    report = fit_report(est, CELLS_2, sample_weight=COUNTS_2)
    probs, log_likelihood, expected = independence_by_hand(CELLS_2, COUNTS_2)
    assert_allclose(est.means_[0], probs, rtol=1e-12)
    N, p = 30.0, 2  # two item probabilities, no free weight
    g2 = 2 * np.sum(COUNTS_2 * np.log(COUNTS_2 / expected))
    x2 = np.sum((COUNTS_2 - expected) ** 2 / expected)

    assert report.n_parameters == p
    assert report.sample_size == N
    assert report.n_samples == 4
    assert report.log_likelihood == pytest.approx(log_likelihood, rel=1e-12)
    assert report.aic == pytest.approx(-2 * log_likelihood + 2 * p, rel=1e-12)
    assert report.bic == pytest.approx(-2 * log_likelihood + p * math.log(N))
    assert report.sabic == pytest.approx(
        -2 * log_likelihood + p * math.log((N + 2) / 24), rel=1e-12
    )
    assert report.df == 1  # min(30, 2^2 - 1) - 2
    assert report.g_squared == pytest.approx(g2, rel=1e-10)
    assert report.chi_squared == pytest.approx(x2, rel=1e-10)
    # One degree of freedom: P(chi2_1 > x) = erfc(sqrt(x / 2)).
    assert report.g_squared_p_value == pytest.approx(math.erfc(math.sqrt(g2 / 2)))
    assert report.chi_squared_p_value == pytest.approx(math.erfc(math.sqrt(x2 / 2)))
    assert report.n_patterns == 4
    assert report.relative_entropy == 1.0  # the convention for one class
    assert report.class_weights == (1.0,)
    assert report.modal_class_proportions == (1.0,)


def test_chi_squared_counts_the_unobserved_cells():
    # Pattern (0, 1) is never observed: Pearson's X^2 still adds its expected
    # count, (0 - e)^2 / e = e, while G^2 only sums over observed patterns.
    observed_cells = CELLS_2[[0, 2, 3]]
    counts = COUNTS_2[[0, 2, 3]]
    est = fit(observed_cells, 1, sample_weight=counts)
    report = fit_report(est, observed_cells, sample_weight=counts)
    _, _, expected = independence_by_hand(CELLS_2, np.array([10.0, 0.0, 3.0, 12.0]))
    full_counts = np.array([10.0, 0.0, 3.0, 12.0])
    assert expected[1] > 0.5  # the unobserved cell matters
    x2 = np.sum((full_counts - expected) ** 2 / expected)
    seen = full_counts > 0
    g2 = 2 * np.sum(full_counts[seen] * np.log(full_counts[seen] / expected[seen]))
    assert report.chi_squared == pytest.approx(x2, rel=1e-10)
    assert report.g_squared == pytest.approx(g2, rel=1e-10)
    assert report.n_patterns == 3


def test_zero_weight_rows_are_unobserved_patterns():
    weights = np.array([10.0, 0.0, 3.0, 12.0])
    est = fit(CELLS_2, 1, sample_weight=weights)
    with_zero = fit_report(est, CELLS_2, sample_weight=weights)
    without = fit_report(est, CELLS_2[weights > 0], sample_weight=weights[weights > 0])
    assert with_zero.n_patterns == 3
    assert_reports_equal(with_zero, without)


def test_saturated_model_fits_exactly():
    # One item, one class: 1 parameter for 2^1 - 1 = 1 free cell.
    X = np.array([[0], [1]])
    counts = np.array([7.0, 13.0])
    report = fit_report(fit(X, 1, sample_weight=counts), X, sample_weight=counts)
    assert report.n_parameters == 1
    assert report.df == 0
    assert report.g_squared == pytest.approx(0.0, abs=1e-10)
    assert report.chi_squared == pytest.approx(0.0, abs=1e-10)
    assert report.g_squared_p_value is None
    assert report.chi_squared_p_value is None


def test_chi_squared_equals_the_sum_over_every_cell(stouffer_toby):
    # poLCA's shortcut (observed cells + N - sum of their expected counts)
    # against the definition, with the estimator's own p(cell).
    est, patterns, counts = stouffer_toby
    report = fit_report(est, patterns, sample_weight=counts)
    cells = all_cells(4)
    expected = counts.sum() * np.exp(est.score_samples(cells))
    observed = np.zeros(len(cells))
    for row, count in zip(patterns, counts, strict=True):
        observed[np.flatnonzero((cells == row).all(axis=1))] += count
    assert report.chi_squared == pytest.approx(
        np.sum((observed - expected) ** 2 / expected), rel=1e-10
    )
    seen = observed > 0
    assert report.g_squared == pytest.approx(
        2 * np.sum(observed[seen] * np.log(observed[seen] / expected[seen])),
        rel=1e-10,
    )


def mixture_cell_probs(weights, means, cells):
    """``p(s)`` of 0/1 rows by enumeration, ``sum_k w_k prod_j pmf(s_j; t_kj)``.

    Probabilities multiplied directly (scipy's Bernoulli pmf), not summed as
    logs as ``score_samples`` does: an oracle independent of the estimator.
    """
    per_item = bernoulli.pmf(cells[:, np.newaxis, :], means[np.newaxis, :, :])
    return per_item.prod(axis=2) @ weights


def brute_force_fit_statistics(est, X, sample_weight, threshold):
    """G², X², the complete rows' N and the observed patterns, cell by cell.

    Every one of the ``2^J`` cells of the table is enumerated, its observed
    count found by comparing the binarised complete rows with it, and its
    expected count computed by :func:`mixture_cell_probs`: the definitions,
    with none of the report's shortcuts (codes, poLCA's unobserved mass).
    Also returns the sums of the absolute terms of G² and X², the scale of
    their rounding errors.
    """
    X = np.asarray(X, dtype=float)
    complete = ~np.isnan(X).any(axis=1)
    binary = (X[complete] > threshold).astype(float)
    weights = sample_weight[complete]
    cells = all_cells(X.shape[1])
    observed = np.array([weights[(binary == cell).all(axis=1)].sum() for cell in cells])
    n_complete = weights.sum()
    expected = n_complete * mixture_cell_probs(est.weights_, est.means_, cells)
    seen = observed > 0
    g2_terms = 2 * observed[seen] * np.log(observed[seen] / expected[seen])
    x2_terms = (observed - expected) ** 2 / expected
    return {
        "g_squared": (g2_terms.sum(), np.abs(g2_terms).sum()),
        "chi_squared": (x2_terms.sum(), x2_terms.sum()),
        "n_complete": n_complete,
        "n_patterns": int(seen.sum()),
    }


def assert_fit_statistics_are_the_definitions(report, oracle):
    """The report's G² and X² against the brute-force oracle.

    Both sum the same terms in other orders, from ``log p(s)`` (the
    estimator's sum of logs) and ``p(s)`` (a product, the oracle) that agree
    to a few ulp: the difference is bounded by some 1e-14 of the sum of the
    absolute terms (G² has terms of both signs that can cancel). 1e-10 of
    that sum leaves a wide margin and still catches a wrong cell.
    """
    assert report.n_patterns == oracle["n_patterns"]
    assert report.n_complete == pytest.approx(oracle["n_complete"], rel=1e-12)
    for name in ("g_squared", "chi_squared"):
        value, scale = oracle[name]
        assert abs(getattr(report, name) - value) <= 1e-10 * scale, name


@pytest.mark.parametrize(
    ("params", "threshold"),
    [({}, 0.0), ({"tie_features": True}, 0.0), ({"binarize": 0.6}, 0.6)],
)
def test_fit_statistics_by_brute_force(rng, params, threshold):
    # Raw values, binarised by the estimator; weights; a few missing answers.
    values = rng.uniform(size=(200, 5))
    X = values if "binarize" in params else (values < 0.4).astype(float)
    X[rng.uniform(size=X.shape) < 0.03] = np.nan
    sample_weight = rng.uniform(0.5, 3.0, size=X.shape[0])
    # The oracle takes the fitted parameters as they are: no need for tight
    # convergence (which some seeds do not reach with tied features).
    est = fit(X, 3, sample_weight=sample_weight, tol=1e-4, **params)
    report = fit_report(est, X, sample_weight=sample_weight)
    oracle = brute_force_fit_statistics(est, X, sample_weight, threshold)
    assert_fit_statistics_are_the_definitions(report, oracle)


def test_fit_statistics_by_brute_force_on_the_published_table(stouffer_toby):
    est, patterns, counts = stouffer_toby
    report = fit_report(est, patterns, sample_weight=counts)
    oracle = brute_force_fit_statistics(est, patterns, counts.astype(float), 0.0)
    assert_fit_statistics_are_the_definitions(report, oracle)
    # Goodman's (1974) two-class fit, as the fit_report example prints it.
    assert round(report.g_squared, 2) == 2.72


def test_fit_statistics_with_an_empty_component():
    # A class of weight 0 adds nothing to p(s), and no log(0) warning (an
    # error here) on the way.
    X = load_lca_example("stouffer_toby")
    est = fit(
        X,
        2,
        fit_weights=False,
        weights_init=[1.0, 0.0],
        means_init=[[0.8, 0.7, 0.6, 0.5], [0.1, 0.2, 0.3, 0.4]],
    )
    assert est.weights_[1] == 0.0
    report = fit_report(est, X)
    oracle = brute_force_fit_statistics(est, X, np.ones(len(X)), 0.0)
    assert_fit_statistics_are_the_definitions(report, oracle)
    single = fit(X, 1)
    assert_allclose(est.means_[0], single.means_[0], rtol=1e-6)


@pytest.mark.parametrize("n_items", [1, 3, 20])
def test_pattern_codes_number_the_cells_in_order(n_items):
    cells = all_cells(n_items) if n_items < 20 else np.eye(n_items)[::-1]
    encode = partial(binary_codes, threshold=None)
    codes, complete = pattern_codes(cells, encode, [2] * n_items)
    assert complete.all()
    if n_items < 20:
        np.testing.assert_array_equal(codes, np.arange(2**n_items))
    else:
        np.testing.assert_array_equal(codes, 2 ** np.arange(n_items))
    unique, counts, first = pattern_counts(codes, np.ones(len(codes)))
    table = to_patterns(cells)[0]
    np.testing.assert_array_equal(cells[first], table)
    digits = np.column_stack(np.unravel_index(unique, [2] * n_items))
    np.testing.assert_array_equal(digits, table)
    np.testing.assert_array_equal(counts, 1.0)


def test_pattern_codes_of_items_with_more_categories(rng):
    # Mixed radix, item 0 the most significant digit: numpy's C-order index.
    n_categories = [3, 2, 4, 5]
    X = np.column_stack([rng.integers(0, c, size=500) for c in n_categories])
    codes, complete = pattern_codes(X, lambda block: (block, None), n_categories)
    assert complete.all()
    np.testing.assert_array_equal(codes, np.ravel_multi_index(X.T, n_categories))


def test_pattern_codes_binarize_and_flag_missing_rows():
    X = np.array([[0.2, 0.9, np.nan], [0.7, 0.1, 0.6], [0.5, 0.51, 3.0]])
    encode = partial(binary_codes, threshold=0.5)
    codes, complete = pattern_codes(X, encode, [2, 2, 2])
    np.testing.assert_array_equal(complete, [False, True, True])
    np.testing.assert_array_equal(codes[1:], [0b101, 0b011])
    sparse_codes, _ = pattern_codes(sp.csr_matrix(np.nan_to_num(X)), encode, [2] * 3)
    np.testing.assert_array_equal(sparse_codes[1:], codes[1:])


def test_pattern_counts_leave_out_patterns_of_weight_zero():
    codes = np.array([5, 2, 5, 7, 2, 0])
    weights = np.array([1.0, 0.0, 2.0, 0.0, 0.0, 0.5])
    unique, counts, first = pattern_counts(codes, weights)
    np.testing.assert_array_equal(unique, [0, 5])
    np.testing.assert_array_equal(counts, [0.5, 3.0])
    np.testing.assert_array_equal(first, [5, 0])


# ------------------------------------------------------ criteria and df
def test_aic_and_bic_are_the_estimators(stouffer_toby):
    est, patterns, counts = stouffer_toby
    report = fit_report(est, patterns, sample_weight=counts)
    # The report sums w_i log p(x_i) with np.dot, the estimator with
    # (w * log p).sum(): the same 16 terms, all of one sign, in another order,
    # each sum off by at most 16 u sum|terms| (u = 1.1e-16), so 1e-14.
    assert report.aic == pytest.approx(
        est.aic(patterns, sample_weight=counts), rel=1e-14
    )
    assert report.bic == pytest.approx(
        est.bic(patterns, sample_weight=counts), rel=1e-14
    )
    assert report.log_likelihood == pytest.approx(
        est.score(patterns, sample_weight=counts) * counts.sum(), rel=1e-14
    )
    assert report.n_parameters == est.n_parameters_ == 2 * 4 + 1


@pytest.mark.parametrize(
    ("params", "n_parameters"),
    [
        ({}, 3 * 7 + 2),
        ({"fit_weights": False}, 3 * 7),
        ({"tie_features": True}, 3 + 2),
        ({"tie_features": True, "fit_weights": False}, 3),
    ],
)
def test_parameter_count_follows_the_model(params, n_parameters):
    X = load_lca_example("carcinoma")
    report = fit_report(fit(X, 3, **params), X)
    assert report.n_parameters == n_parameters
    assert report.df == 118 - n_parameters  # N = 118 < 2^7 - 1 = 127 cells


@pytest.mark.parametrize(
    ("sample_size", "n_cells", "n_parameters", "df"),
    [
        (216, 2**4, 9, 6),  # Stouffer-Toby, 2 classes: 15 free cells - 9
        (118, 2**7, 15, 103),  # carcinoma, 2 classes: fewer rows than cells
        (127, 2**7, 15, 112),
        (10.5, 2**4, 3, 7.5),  # fractional weights below the cells: N - p
        (15.5, 2**4, 3, 12),  # above: the cells count, an int
        (1e6, 2**40, 81, 1e6 - 81),
        (100, 3 * 2 * 4, 10, 13),  # items of 3, 2 and 4 categories
    ],
)
def test_residual_df_is_polcas(sample_size, n_cells, n_parameters, df):
    # poLCA: resid.df <- min(N, prod(K.j) - 1) - npar.
    result = residual_df(sample_size, n_cells, n_parameters)
    assert result == df
    assert isinstance(result, int) == float(sample_size).is_integer() or (
        sample_size >= n_cells - 1
    )


# ----------------------------------------------------------------- entropy
def test_relative_entropy_by_hand():
    resp = np.array([[1.0, 0.0], [0.5, 0.5], [0.9, 0.1]])
    weights = np.array([1.0, 2.0, 1.0])
    entropy = 2 * math.log(2) + -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    expected = 1 - entropy / (4 * math.log(2))
    assert relative_entropy(resp, weights) == pytest.approx(expected, rel=1e-14)


def test_relative_entropy_bounds():
    certain = np.eye(3)[[0, 1, 2, 2]]
    uniform = np.full((4, 3), 1 / 3)
    ones = np.ones(4)
    assert relative_entropy(certain, ones) == 1.0
    assert relative_entropy(uniform, ones) == pytest.approx(0.0, abs=1e-15)
    assert relative_entropy(np.ones((4, 1)), ones) == 1.0


def test_relative_entropy_of_separated_classes_is_one():
    # Two patterns far apart: every posterior is 0 or 1 to machine precision.
    X = np.repeat(np.array([[0] * 12, [1] * 12]), 20, axis=0)
    est = fit(X, 2, means_init=np.full((2, 12), [[0.3], [0.7]]))
    report = fit_report(est, X)
    assert report.relative_entropy == pytest.approx(1.0, abs=1e-12)
    assert sorted(report.modal_class_proportions) == [0.5, 0.5]


def test_relative_entropy_lies_in_the_unit_interval(rng):
    X = (rng.uniform(size=(150, 6)) < 0.5).astype(float)
    for K in (2, 3, 4):
        # The bound holds at any parameters; on data without structure EM
        # crawls (up to 3,365 iterations at tol=1e-8 over seeds 0-99), so a
        # looser tol (at most 130 iterations) keeps the fit converged.
        est = fit(X, K, random_state=1, tol=1e-4)
        value = fit_report(est, X).relative_entropy
        assert 0.0 <= value <= 1.0


def test_modal_proportions_by_hand():
    resp = np.array([[0.6, 0.4], [0.2, 0.8], [0.9, 0.1]])
    weights = np.array([1.0, 3.0, 4.0])
    assert_allclose(modal_proportions(resp, weights), [5 / 8, 3 / 8])


# -------------------------------------------------- equivalent inputs
def test_pattern_table_report_equals_row_report(stouffer_toby):
    est, patterns, counts = stouffer_toby
    from_table = fit_report(est, patterns, sample_weight=counts)
    from_rows = fit_report(est, from_patterns(patterns, counts))
    assert from_table.n_samples == 16
    assert from_rows.n_samples == 216
    assert_reports_equal(from_table, from_rows)


def test_report_on_sparse_input_equals_dense(stouffer_toby):
    est, patterns, counts = stouffer_toby
    dense = fit_report(est, patterns, sample_weight=counts)
    for convert in (sp.csr_matrix, sp.csc_matrix):
        sparse = fit_report(est, convert(patterns.astype(float)), sample_weight=counts)
        assert_reports_equal(dense, sparse, ignore=())


def test_report_binarizes_as_the_estimator(rng):
    values = rng.uniform(size=(120, 4))
    # The reports are of one fitted estimator, so any converged fit will do:
    # tol=1e-4 takes at most 75 iterations over seeds 0-99 (tol=1e-8 up to
    # 3,588, past max_iter).
    est = fit(values, 2, binarize=0.6, tol=1e-4)
    binary = (values > 0.6).astype(float)
    raw = fit_report(est, values)
    assert raw.n_patterns == len(to_patterns(binary)[0])
    assert_reports_equal(raw, fit_report(est, binary), ignore=())


def test_report_uses_feature_names():
    pd = pytest.importorskip("pandas")
    patterns, counts = load_lca_example("carcinoma", as_patterns=True, as_frame=True)
    est = fit(patterns, 2, sample_weight=counts)
    report = fit_report(est, patterns, sample_weight=counts)
    assert report.item_labels == tuple("ABCDEFG")
    assert isinstance(patterns, pd.DataFrame)
    # The pattern arrays built inside never reach the estimator's feature
    # name check (which would warn, an error here).
    assert report.g_squared is not None


def test_default_item_labels_and_tied_features():
    X = load_lca_example("stouffer_toby")
    assert fit_report(fit(X, 2), X).item_labels == (
        "item 0",
        "item 1",
        "item 2",
        "item 3",
    )
    tied = fit_report(fit(X, 2, tie_features=True), X)
    assert tied.item_labels == ("all items (tied)",)
    assert len(tied.item_probabilities) == 2
    assert all(len(row) == 1 for row in tied.item_probabilities)
    assert "all items (tied)" in str(tied)


# ------------------------------------------------------------ wide data
def test_no_goodness_of_fit_beyond_twenty_items(rng):
    n_items = MAX_ITEMS_FIT_STATISTICS + 1
    X = (rng.uniform(size=(60, n_items)) < 0.4).astype(float)
    report = fit_report(fit(X, 2), X)
    assert report.g_squared is report.chi_squared is None
    assert report.g_squared_p_value is report.chi_squared_p_value is None
    assert report.n_patterns is None
    assert report.df == 60 - report.n_parameters
    assert "not computed (more than 20 items)" in report.fit_statistics_note
    text = str(report)
    assert "not computed (more than 20 items)" in text
    assert json.loads(json.dumps(report.to_dict()))["g_squared"] is None


def test_goodness_of_fit_up_to_twenty_items(rng):
    X = (rng.uniform(size=(60, MAX_ITEMS_FIT_STATISTICS)) < 0.4).astype(float)
    report = fit_report(fit(X, 2), X)
    assert report.g_squared is not None
    assert report.fit_statistics_note is None


# -------------------------------------------------------------- missing
def test_missing_answers_leave_rows_out_of_the_fit_statistics(nan_estimator):
    est, X = nan_estimator
    weights = np.linspace(0.5, 2.0, X.shape[0])
    report = fit_report(est, X, sample_weight=weights)
    complete = ~np.isnan(X).any(axis=1)
    assert 0 < complete.sum() < X.shape[0]

    # Log-likelihood, criteria and N: every row.
    assert report.sample_size == pytest.approx(weights.sum())
    assert report.log_likelihood == pytest.approx(
        est.score(X, sample_weight=weights) * weights.sum(), rel=1e-12
    )
    assert report.bic == pytest.approx(est.bic(X, sample_weight=weights), rel=1e-12)
    # G^2 and X^2: the complete rows only, N_complete * p(s) expected.
    n_complete = weights[complete].sum()
    assert report.n_complete == pytest.approx(n_complete)
    patterns, observed = to_patterns(X[complete], sample_weight=weights[complete])
    expected = n_complete * np.exp(est.score_samples(patterns))
    assert report.n_patterns == len(patterns)
    assert report.g_squared == pytest.approx(
        2 * np.sum(observed * np.log(observed / expected)), rel=1e-10
    )
    x2_observed = np.sum((observed - expected) ** 2 / expected)
    assert report.chi_squared == pytest.approx(
        x2_observed + n_complete - expected.sum(), rel=1e-10
    )
    assert "complete rows" in report.fit_statistics_note
    assert "complete rows" in str(report)


def test_missing_answers_in_a_pattern_table(nan_estimator):
    est, X = nan_estimator
    patterns, counts = to_patterns(X)
    assert np.isnan(patterns).any()
    assert_reports_equal(
        fit_report(est, patterns, sample_weight=counts), fit_report(est, X)
    )


def test_every_row_missing_an_answer(nan_estimator):
    est, X = nan_estimator
    X = X.copy()
    X[:, 0] = np.nan
    report = fit_report(est, X)
    assert report.n_complete == 0
    assert report.g_squared is report.chi_squared is None
    assert "every row has a missing answer" in report.fit_statistics_note


def test_complete_data_have_no_note(stouffer_toby):
    est, patterns, counts = stouffer_toby
    report = fit_report(est, patterns, sample_weight=counts)
    assert report.fit_statistics_note is None
    assert report.n_complete == report.sample_size == 216
    assert "Note:" not in str(report)


# ----------------------------------------------------------------- output
def test_to_dict_is_plain_json(stouffer_toby):
    est, patterns, counts = stouffer_toby
    report = fit_report(est, patterns, sample_weight=counts)
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data

    def check_plain(value):
        if isinstance(value, list):
            for item in value:
                check_plain(item)
        else:
            assert value is None or type(value) in (int, float, str, bool), value

    for value in data.values():
        check_plain(value)
    assert set(data) == {field for field in FitReport.__dataclass_fields__}
    assert data["class_weights"] == list(report.class_weights)
    assert data["item_probabilities"] == [
        list(row) for row in report.item_probabilities
    ]


def test_report_is_frozen(stouffer_toby):
    est, patterns, counts = stouffer_toby
    report = fit_report(est, patterns, sample_weight=counts)
    with pytest.raises(AttributeError):
        report.bic = 0.0


def test_text_holds_the_key_lines(stouffer_toby):
    est, patterns, counts = stouffer_toby
    report = fit_report(est, patterns, sample_weight=counts)
    text = str(report)
    lines = text.splitlines()
    assert lines[0] == "Latent class model: 2 classes, 4 items, BernoulliMixtureEM"
    for label, value in [
        ("number of observations (N)", "216"),
        ("number of free parameters", "9"),
        ("residual degrees of freedom", "6"),
        ("maximum log-likelihood", f"{report.log_likelihood:.4f}"),
        ("AIC", f"{report.aic:.4f}"),
        ("BIC", f"{report.bic:.4f}"),
        ("sample-size adjusted BIC", f"{report.sabic:.4f}"),
        ("CAIC", f"{report.caic:.4f}"),
        ("ICL-BIC", f"{report.icl_bic:.4f}"),
        ("G-squared (likelihood ratio)", f"{report.g_squared:.4f}"),
        ("Pearson chi-squared", f"{report.chi_squared:.4f}"),
        ("relative entropy", f"{report.relative_entropy:.4f}"),
    ]:
        line = next(line for line in lines if line.strip().startswith(label))
        assert line.split()[len(label.split())] == value, line
    assert "(p = " in text
    for k, weight in enumerate(report.class_weights):
        assert f"class {k + 1}" in text
        assert f"{weight:.4f}" in text
    assert f"{report.item_probabilities[1][3]:.4f}" in text


def test_text_columns_are_aligned(stouffer_toby):
    est, patterns, counts = stouffer_toby
    lines = str(fit_report(est, patterns, sample_weight=counts)).splitlines()
    fit_block = lines[lines.index("Fit") + 1 :]
    fit_block = fit_block[: fit_block.index("")]
    # The values of the fit block end in one column (p-values aside).
    ends = {len(line.split("  (p =")[0]) for line in fit_block}
    assert len(ends) == 1
    table = lines[lines.index("Item-response probabilities, Pr(item = 1 | class)") :]
    rows = table[1 : table.index("")]
    assert len({len(row) for row in rows}) == 1


def test_text_warns_when_em_did_not_converge(stouffer_toby):
    _, patterns, counts = stouffer_toby
    est = BernoulliMixtureEM(2, max_iter=2, tol=0.0, random_state=0)
    with pytest.warns(UserWarning, match="did not converge"):
        est.fit(patterns, sample_weight=counts)
    report = fit_report(est, patterns, sample_weight=counts)
    assert report.converged is False
    assert "WARNING: EM did not converge (2 iterations)." in str(report)


# ------------------------------------------------------------- validation
def test_rejects_other_estimators():
    X = load_lca_example("stouffer_toby")
    with pytest.raises(
        TypeError,
        match=r"needs a fitted skcoinmix mixture \(a model of this library, e\.g\. "
        r"skcoinmix\.BernoulliMixtureEM\), but got a GaussianMixture\.",
    ):
        fit_report(GaussianMixture().fit(X), X)
    with pytest.raises(
        TypeError, match=r"the class BernoulliMixtureEM \(not an instance: fit one"
    ):
        fit_report(BernoulliMixtureEM, X)


def test_rejects_an_unfitted_estimator():
    with pytest.raises(NotFittedError):
        fit_report(BernoulliMixtureEM(2), load_lca_example("stouffer_toby"))


def test_rejects_data_with_other_features(stouffer_toby):
    est, _, _ = stouffer_toby
    with pytest.raises(ValueError, match="features"):
        fit_report(est, load_lca_example("carcinoma"))


@pytest.mark.parametrize(
    ("sample_weight", "match"),
    [
        (np.ones(3), "inconsistent numbers of samples|shape"),
        (-np.ones(16), "(?i)negative"),
        (np.zeros(16), "non-zero|sums to zero"),
    ],
)
def test_rejects_bad_sample_weight(stouffer_toby, sample_weight, match):
    est, patterns, _ = stouffer_toby
    with pytest.raises(ValueError, match=match):
        fit_report(est, patterns, sample_weight=sample_weight)


def test_chi_squared_shortcut_never_goes_negative():
    # Every cell observed: nothing is added for unobserved cells, even when
    # the expected counts sum to a hair above N.
    observed = np.array([1.0, 2.0, 3.0, 4.0])
    expected = observed * (1 + 1e-15)
    assert pearson_chi_squared(observed, expected, 10.0, 2) >= 0.0
    assert pearson_chi_squared(observed[:3], observed[:3] + 1e-14, 6.0, 2) >= 0.0


def test_fit_report_is_exported():
    # The public names (skcoinmix/__init__.py).
    assert skcoinmix.fit_report is fit_report
    assert skcoinmix.FitReport is FitReport


def test_text_warns_about_negative_degrees_of_freedom():
    # 3 items have 2^3 - 1 = 7 free cells; 3 classes have 3 * 3 + 2 = 11
    # parameters (poLCA prints an alert too).
    X = np.array(list(itertools.product([0, 1], repeat=3)) * 5)
    report = fit_report(fit(X, 3), X)
    assert report.df == 7 - 11
    assert report.g_squared_p_value is None
    assert "WARNING: negative degrees of freedom" in str(report)


def test_text_shows_the_complete_rows(nan_estimator):
    est, X = nan_estimator
    report = fit_report(est, X)
    n_complete = int((~np.isnan(X).any(axis=1)).sum())
    line = next(
        line for line in str(report).splitlines() if "number of complete rows" in line
    )
    assert line.split()[-1] == str(n_complete)


# ------------------------------------------------------------ other models
def borrowed_bernoulli_model(name, drop=()):
    """A skcoinmix mixture class that is not a BernoulliMixtureEM.

    It subclasses only the engine, ``BaseMixtureEM``, and borrows the
    Bernoulli model's methods: a stand-in for the library's other models,
    which the report must take through the public interface alone. ``drop``
    removes constructor parameters (their defaults stay as class attributes,
    which the borrowed methods read).
    """
    signature = inspect.signature(BernoulliMixtureEM.__init__)
    kept = [p for p in signature.parameters.values() if p.name not in drop]
    signature = signature.replace(parameters=kept)

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for key, value in list(bound.arguments.items())[1:]:
            setattr(self, key, value)

    __init__.__signature__ = signature  # what get_params reads
    # The model's own methods and those of its mixins, not the engine's.
    namespace = {}
    for cls in reversed(BernoulliMixtureEM.__mro__):
        if cls is BernoulliMixtureEM or not issubclass(BaseMixtureEM, cls):
            namespace.update(
                (key, value)
                for key, value in vars(cls).items()
                if not key.startswith(("__", "_abc"))
            )
    defaults = {
        key: BernoulliMixtureEM().get_params()[key] for key in drop
    }  # the dropped parameters, fixed
    return ABCMeta(
        name,
        (BaseMixtureEM,),
        {**namespace, **defaults, "__init__": __init__},
    )


def test_reports_any_skcoinmix_mixture(stouffer_toby):
    _, patterns, counts = stouffer_toby
    Other = borrowed_bernoulli_model("OtherMixture")
    assert not issubclass(Other, BernoulliMixtureEM)
    params = {"tol": 1e-8, "max_iter": 2000, "random_state": 0, "n_init": 3}
    other = Other(2, **params).fit(patterns, sample_weight=counts)
    est = BernoulliMixtureEM(2, **params).fit(patterns, sample_weight=counts)
    report = fit_report(other, patterns, sample_weight=counts)
    assert report.model == "OtherMixture"
    assert str(report).splitlines()[0].endswith("4 items, OtherMixture")
    # The same arithmetic on both sides: the same report, but for the name.
    expected = fit_report(est, patterns, sample_weight=counts)
    assert report.to_dict() == {**expected.to_dict(), "model": "OtherMixture"}


def test_refuses_a_mixture_whose_items_it_does_not_know(stouffer_toby):
    _, patterns, counts = stouffer_toby
    Other = borrowed_bernoulli_model("CountMixture", drop=("binarize",))
    est = Other(2, random_state=0).fit(patterns, sample_weight=counts)
    with pytest.raises(TypeError, match="does not know the items of a CountMixture"):
        fit_report(est, patterns, sample_weight=counts)


def test_report_names_the_model(stouffer_toby):
    est, patterns, counts = stouffer_toby
    report = fit_report(est, patterns, sample_weight=counts)
    assert report.model == "BernoulliMixtureEM"
    assert report.to_dict()["model"] == "BernoulliMixtureEM"


def test_tied_features_follow_the_fitted_model():
    # set_params after the fit does not change the fitted structure, nor the
    # report's item rows.
    X = load_lca_example("stouffer_toby")
    est = fit(X, 2, tie_features=True)
    before = fit_report(est, X)
    est.set_params(tie_features=False)
    after = fit_report(est, X)
    assert after.item_labels == ("all items (tied)",)
    assert after.to_dict() == before.to_dict()


def test_report_classification_quality_is_the_inference_table(stouffer_toby):
    # The report and skcoinmix.inference.classification_table compute the
    # same sums in the same order: equal numbers, in every class order, with
    # the classes permuted on both axes of the table.
    from skcoinmix.inference import classification_table

    est, patterns, counts = stouffer_toby
    quality = classification_table(est, patterns, sample_weight=counts)
    for order in ([0, 1], [1, 0]):
        report = fit_report(est, patterns, sample_weight=counts, class_order=order)
        assert_allclose(
            report.average_posteriors, quality.table[np.ix_(order, order)], rtol=1e-12
        )
        assert report.classification_error == pytest.approx(
            quality.classification_error, rel=1e-12
        )
    text = str(report)
    assert "Average posterior probabilities by most likely class" in text
    assert "expected classification error" in text
