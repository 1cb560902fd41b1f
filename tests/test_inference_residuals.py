"""Bivariate and pattern residuals (skcoinmix.inference).

Oracles: two-way tables and expected counts written out with plain loops
over rows and classes (no one-hot algebra), the definition of Pearson's X²,
row duplication for frequency weights, the subset of rows observing a pair
for missing answers, models that reproduce the data exactly, and
permutations of the components.
"""

import copy
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import binom
from sklearn.exceptions import NotFittedError

from skcoinmix import (
    BernoulliMixtureEM,
    BinomialMixtureEM,
    CategoricalMixtureEM,
    fit_report,
)
from skcoinmix.datasets import load_lca_example
from skcoinmix.inference import (
    PatternResiduals,
    bivariate_residuals,
    pattern_residuals,
)

# Sums of a few hundred terms of order 1 to 100, computed in another order:
# they agree to about 1e-13 relative; 1e-10 leaves a wide margin.
RTOL = 1e-10


def hand_bivariate(X, weights, class_weights, item_probs, values):
    """The bivariate residuals by their definition, one pair and one row at a time.

    ``item_probs[j]`` is (K, C_j); ``values[j]`` the categories of item ``j``
    in the order of its columns; NaN (or None) is missing.
    """
    d = len(item_probs)
    out = np.full((d, d), np.nan)
    for j, m in itertools.permutations(range(d), 2):
        table = np.zeros((len(values[j]), len(values[m])))
        for row, w in zip(X, weights, strict=True):
            a, b = row[j], row[m]
            if a is None or b is None or a != a or b != b:
                continue
            table[list(values[j]).index(a), list(values[m]).index(b)] += w
        total = table.sum()
        if total == 0:
            continue
        expected = np.zeros_like(table)
        for k, share in enumerate(class_weights):
            for a, b in itertools.product(range(len(values[j])), range(len(values[m]))):
                expected[a, b] += (
                    total * share * item_probs[j][k, a] * item_probs[m][k, b]
                )
        df = (len(values[j]) - 1) * (len(values[m]) - 1)
        out[j, m] = np.sum((table - expected) ** 2 / expected) / df
    return out


def bernoulli_tables(est):
    return [np.column_stack([1 - t, t]) for t in est.means_.T]


@pytest.fixture(scope="module")
def stouffer_toby():
    patterns, counts = load_lca_example("stouffer_toby", as_patterns=True)
    est = BernoulliMixtureEM(
        2, init_params="random", n_init=5, tol=1e-8, max_iter=3000, random_state=0
    ).fit(patterns, sample_weight=counts)
    return est, patterns, counts


def test_bernoulli_by_hand(rng):
    X = rng.integers(0, 2, size=(40, 4)).astype(float)
    X[rng.random(X.shape) < 0.15] = np.nan
    weights = rng.integers(1, 4, size=40).astype(float)
    est = BernoulliMixtureEM(2, random_state=0).fit(X, sample_weight=weights)
    expected = hand_bivariate(
        X, weights, est.weights_, bernoulli_tables(est), [[0, 1]] * 4
    )
    got = bivariate_residuals(est, X, sample_weight=weights)
    np.testing.assert_allclose(got, expected, rtol=RTOL)


def test_hand_computation_on_a_small_table():
    # Two items, one class with P(x=1) = 0.5 for both: the expected table of
    # N = 10 rows is 2.5 in every cell, the observed [[4, 1], [1, 4]], so
    # X² = 4 (1.5² / 2.5) = 3.6, one degree of freedom.
    X = np.array([[0, 0]] * 4 + [[0, 1]] + [[1, 0]] + [[1, 1]] * 4)
    est = BernoulliMixtureEM(1).fit(X)
    np.testing.assert_allclose(est.means_, 0.5)  # the marginals
    got = bivariate_residuals(est, X)
    np.testing.assert_allclose(got[0, 1], 3.6, rtol=RTOL)
    assert np.isnan(got[0, 0]) and np.isnan(got[1, 1])


def test_categorical_by_hand_with_missing_answers(rng):
    values = [["a", "b", "c"], ["x", "y"], ["p", "q", "r", "s"]]
    X = np.array([[rng.choice(v) for v in values] for _ in range(60)], dtype=object)
    X[rng.random(X.shape) < 0.2] = None
    X[0] = ["a", "x", "p"]  # every category observed for "auto" categories
    X[1] = ["b", "y", "q"]
    X[2] = ["c", "x", "r"]
    X[3] = ["c", "y", "s"]
    weights = rng.random(60) + 0.5
    est = CategoricalMixtureEM(2, random_state=0).fit(X, sample_weight=weights)
    assert [c.tolist() for c in est.categories_] == values
    expected = hand_bivariate(X, weights, est.weights_, est.probs_, values)
    got = bivariate_residuals(est, X, sample_weight=weights)
    np.testing.assert_allclose(got, expected, rtol=RTOL)
    # (C_j - 1)(C_l - 1) degrees of freedom: the Pearson statistic of items 0
    # and 2 is divided by 2 x 3 (hand_bivariate does so independently).
    assert np.all(np.isfinite(got[~np.eye(3, dtype=bool)]))


def test_binomial_reads_counts_as_categories(rng):
    n_trials = [2, 3, 1]
    X = np.column_stack([rng.integers(0, n + 1, size=50) for n in n_trials]).astype(
        float
    )
    est = BinomialMixtureEM(2, n_trials=n_trials, random_state=0).fit(X)
    tables = [
        binom.pmf(np.arange(n + 1), n, est.means_[:, [j]])
        for j, n in enumerate(n_trials)
    ]
    values = [list(range(n + 1)) for n in n_trials]
    expected = hand_bivariate(X, np.ones(50), est.weights_, tables, values)
    np.testing.assert_allclose(bivariate_residuals(est, X), expected, rtol=RTOL)


def test_symmetric_with_a_nan_diagonal(rng):
    X = rng.integers(0, 2, size=(80, 6))
    est = BernoulliMixtureEM(2, random_state=0).fit(X)
    got = bivariate_residuals(est, X)
    assert got.shape == (6, 6)
    assert np.all(np.isnan(np.diag(got)))
    off = ~np.eye(6, dtype=bool)
    assert np.all(got[off] >= 0)
    np.testing.assert_array_equal(got, got.T)  # exactly, NaN in place


def test_missing_answers_use_the_rows_observing_both(rng):
    X = rng.integers(0, 2, size=(60, 4)).astype(float)
    X[rng.random(X.shape) < 0.25] = np.nan
    est = BernoulliMixtureEM(2, random_state=0).fit(X)
    got = bivariate_residuals(est, X)
    for j, m in itertools.combinations(range(4), 2):
        both = ~np.isnan(X[:, j]) & ~np.isnan(X[:, m])
        subset = bivariate_residuals(est, X[both])
        np.testing.assert_allclose(got[j, m], subset[j, m], rtol=RTOL)


def test_a_pair_never_observed_together_is_nan():
    X = np.array([[0, np.nan, 1], [1, np.nan, 0], [np.nan, 1, 1], [np.nan, 0, 0]])
    est = BernoulliMixtureEM(1).fit(X)
    got = bivariate_residuals(est, X)
    assert np.isnan(got[0, 1]) and np.isnan(got[1, 0])
    assert np.isfinite(got[0, 2]) and np.isfinite(got[1, 2])


def test_weights_are_row_duplication(rng):
    X = rng.integers(0, 3, size=(30, 3))
    weights = rng.integers(0, 4, size=30)
    weights[0] = 1
    est = CategoricalMixtureEM(2, random_state=0).fit(X, sample_weight=weights)
    repeated = np.repeat(X, weights, axis=0)
    np.testing.assert_allclose(
        bivariate_residuals(est, X, sample_weight=weights),
        bivariate_residuals(est, repeated),
        rtol=RTOL,
    )
    a = pattern_residuals(est, X, sample_weight=weights)
    b = pattern_residuals(est, repeated)
    np.testing.assert_array_equal(a.patterns, b.patterns)
    np.testing.assert_allclose(a.observed, b.observed, rtol=RTOL)
    np.testing.assert_allclose(a.residual, b.residual, rtol=RTOL)


def test_scaled_weights_scale_the_statistic(stouffer_toby):
    # Pearson's X² is linear in the counts; huge weights are rescaled
    # internally and scaled back.
    est, patterns, counts = stouffer_toby
    base = bivariate_residuals(est, patterns, sample_weight=counts)
    scaled = bivariate_residuals(est, patterns, sample_weight=counts * 2.0**600)
    np.testing.assert_allclose(scaled, base * 2.0**600, rtol=RTOL)


def test_zero_when_the_model_reproduces_the_tables():
    # Data that are exactly the expected counts of a two-class model on three
    # binary items: that model is the maximum-likelihood fit (it reproduces
    # every pattern's share), so EM started there stays there and every
    # residual vanishes up to rounding.
    weights = np.array([0.3, 0.7])
    means = np.array([[0.9, 0.8, 0.7], [0.2, 0.1, 0.3]])
    cells = np.array(list(itertools.product([0, 1], repeat=3)))
    probs = (weights * np.prod(np.where(cells[:, None], means, 1 - means), axis=2)).sum(
        axis=1
    )
    counts = 1000 * probs
    est = BernoulliMixtureEM(
        2, weights_init=weights, means_init=means, tol=1e-14, max_iter=5
    ).fit(cells, sample_weight=counts)
    np.testing.assert_allclose(est.means_, means, atol=1e-12)
    got = bivariate_residuals(est, cells, sample_weight=counts)
    # Cell errors of order 1e-12 (the fit's rounding) give X² ~ 1e-24.
    assert np.nanmax(got) < 1e-16
    residuals = pattern_residuals(est, cells, sample_weight=counts)
    assert np.max(np.abs(residuals.residual)) < 1e-9


def test_independence_model_of_a_product_table():
    # One class reproduces a table whose two-way margins are products of its
    # one-way margins: the marginal proportions are the fit, in one step.
    cells = np.array(list(itertools.product([0, 1, 2], [0, 1])))
    counts = np.outer([1.0, 2.0, 5.0], [3.0, 1.0]).ravel()
    est = CategoricalMixtureEM(1).fit(cells, sample_weight=counts)
    got = bivariate_residuals(est, cells, sample_weight=counts)
    assert abs(got[0, 1]) < 1e-20


def permuted(est, order):
    order = list(order)
    other = copy.deepcopy(est)
    other.weights_ = est.weights_[order]
    if hasattr(est, "probs_"):
        other.probs_ = [p[order] for p in est.probs_]
    else:
        other.means_ = est.means_[order]
    return other


@pytest.mark.parametrize("model", ["bernoulli", "categorical"])
def test_permuting_components_changes_nothing(rng, model):
    X = rng.integers(0, 2 if model == "bernoulli" else 3, size=(50, 4))
    Model = BernoulliMixtureEM if model == "bernoulli" else CategoricalMixtureEM
    est = Model(3, random_state=0).fit(X)
    other = permuted(est, [2, 0, 1])
    np.testing.assert_allclose(
        bivariate_residuals(other, X), bivariate_residuals(est, X), rtol=RTOL
    )
    a, b = pattern_residuals(est, X), pattern_residuals(other, X)
    np.testing.assert_allclose(a.residual, b.residual, rtol=RTOL)


def test_bernoulli_and_categorical_agree_on_binary_items(stouffer_toby):
    est, patterns, counts = stouffer_toby
    # A categorical model of the same data, given the Bernoulli parameters.
    cat = CategoricalMixtureEM(2, random_state=0).fit(patterns, sample_weight=counts)
    cat.probs_ = bernoulli_tables(est)
    cat.weights_ = est.weights_
    np.testing.assert_allclose(
        bivariate_residuals(cat, patterns, sample_weight=counts),
        bivariate_residuals(est, patterns, sample_weight=counts),
        rtol=RTOL,
    )


def test_sparse_equals_dense(rng):
    X = rng.integers(0, 2, size=(50, 5))
    est = BernoulliMixtureEM(2, random_state=0).fit(X)
    np.testing.assert_allclose(
        bivariate_residuals(est, sp.csr_matrix(X)), bivariate_residuals(est, X)
    )
    a, b = pattern_residuals(est, sp.csr_matrix(X)), pattern_residuals(est, X)
    np.testing.assert_array_equal(a.patterns, b.patterns)


def test_binarizes_as_the_estimator(rng):
    X = rng.random((40, 3))
    est = BernoulliMixtureEM(2, binarize=0.5, random_state=0).fit(X)
    np.testing.assert_allclose(
        bivariate_residuals(est, X), bivariate_residuals(est, (X > 0.5).astype(int))
    )
    assert set(np.unique(pattern_residuals(est, X).patterns)) <= {0, 1}


# ------------------------------------------------------------ patterns
def test_pattern_residuals_by_brute_force(stouffer_toby):
    est, patterns, counts = stouffer_toby
    got = pattern_residuals(est, patterns, sample_weight=counts)
    assert isinstance(got, PatternResiduals)
    N = counts.sum()
    for row, observed, expected, residual in zip(*got, strict=True):
        theta = est.means_
        p = np.sum(est.weights_ * np.prod(np.where(row, theta, 1 - theta), axis=1))
        match = np.all(patterns == row, axis=1)
        assert observed == counts[match].sum()
        np.testing.assert_allclose(expected, N * p, rtol=RTOL)
        np.testing.assert_allclose(
            residual, (observed - N * p) / np.sqrt(N * p), rtol=RTOL
        )
    assert len(got.patterns) == len(np.unique(patterns, axis=0))
    assert np.all(np.diff(np.abs(got.residual)) <= 0)  # largest first
    # The report's X² is their sum of squares plus the unobserved cells'
    # expected counts (none here: all 16 patterns are observed).
    report = fit_report(est, patterns, sample_weight=counts)
    np.testing.assert_allclose(np.sum(got.residual**2), report.chi_squared, rtol=RTOL)


def test_pattern_residuals_leave_out_incomplete_rows():
    X = np.array([[0, 1], [0, 1], [1, np.nan], [1, 1], [np.nan, np.nan]])
    est = BernoulliMixtureEM(1).fit(X)
    got = pattern_residuals(est, X)
    assert got.observed.sum() == 3
    assert sorted(map(tuple, got.patterns.tolist())) == [(0, 1), (1, 1)]
    empty = pattern_residuals(est, X[[2, 4]])
    assert empty.patterns.shape == (0, 2) and empty.residual.shape == (0,)


def test_pattern_residuals_keep_the_categories():
    X = np.array([["no", "a"], ["yes", "b"], ["yes", "a"], ["no", "a"]], dtype=object)
    est = CategoricalMixtureEM(1).fit(X)
    got = pattern_residuals(est, X)
    assert got.patterns.dtype == object
    assert {tuple(row) for row in got.patterns} == {
        ("no", "a"),
        ("yes", "b"),
        ("yes", "a"),
    }
    floats = np.array([[1.0, 2.0], [2.0, 1.0], [np.nan, 1.0]])
    est = CategoricalMixtureEM(1).fit(floats)
    assert pattern_residuals(est, floats).patterns.dtype == np.float64


# ------------------------------------------------------------ bad input
def test_refuses_what_it_cannot_read(stouffer_toby):
    est, patterns, counts = stouffer_toby
    for function in (bivariate_residuals, pattern_residuals):
        with pytest.raises(TypeError, match="needs a fitted skcoinmix mixture"):
            function(object(), patterns)
        with pytest.raises(TypeError, match="not an instance"):
            function(BernoulliMixtureEM, patterns)
        with pytest.raises(NotFittedError):
            function(BernoulliMixtureEM(2), patterns)
        with pytest.raises(ValueError, match="features"):
            function(est, patterns[:, :3])
        with pytest.raises(ValueError, match="sample_weight"):
            function(est, patterns, sample_weight=-counts)


def test_refuses_dask_arrays(stouffer_toby):
    da = pytest.importorskip("dask.array")  # the test extra installs it
    est, patterns, _ = stouffer_toby
    for function in (bivariate_residuals, pattern_residuals):
        with pytest.raises(TypeError, match="does not take a dask array"):
            function(est, da.from_array(patterns))


def test_refuses_paired_binomial_and_fractional_counts(rng):
    successes = rng.integers(0, 3, size=(20, 2))
    failures = rng.integers(0, 3, size=(20, 2))
    paired = BinomialMixtureEM(1, n_trials="paired").fit(
        np.hstack([successes, failures])
    )
    for function in (bivariate_residuals, pattern_residuals):
        with pytest.raises(ValueError, match="paired"):
            function(paired, np.hstack([successes, failures]))
    X = rng.random((20, 2)) * 3
    fixed = BinomialMixtureEM(1, n_trials=3).fit(X)
    for function in (bivariate_residuals, pattern_residuals):
        with pytest.raises(ValueError, match="not whole numbers"):
            function(fixed, X)


def test_refuses_too_many_patterns(rng):
    X = rng.integers(0, 2, size=(10, 64))
    X[0], X[1] = 0, 1  # no constant column
    est = BernoulliMixtureEM(1).fit(X)
    with pytest.raises(ValueError, match="2\\*\\*62"):
        pattern_residuals(est, X)
    assert bivariate_residuals(est, X).shape == (64, 64)


# ------------------------------------------------------------ fit_report
def test_report_criteria_by_hand(stouffer_toby):
    est, patterns, counts = stouffer_toby
    report = fit_report(est, patterns, sample_weight=counts)
    N, p = counts.sum(), est.n_parameters_
    LL = float(counts @ est.score_samples(patterns))
    np.testing.assert_allclose(report.caic, -2 * LL + p * (np.log(N) + 1), rtol=RTOL)
    np.testing.assert_allclose(report.caic, report.bic + p, rtol=RTOL)
    resp = est.predict_proba(patterns)
    entropy = -np.sum(counts[:, None] * resp * np.log(resp))
    np.testing.assert_allclose(report.icl_bic, report.bic + 2 * entropy, rtol=RTOL)
    text = str(report)
    assert f"CAIC{' ' * 10}" in text and f"{report.caic:.4f}" in text
    assert f"{report.icl_bic:.4f}" in text


def test_icl_bic_is_bic_for_one_class(stouffer_toby):
    _, patterns, counts = stouffer_toby
    one = BernoulliMixtureEM(1).fit(patterns, sample_weight=counts)
    report = fit_report(one, patterns, sample_weight=counts)
    assert report.icl_bic == report.bic  # no uncertainty about the class


def test_report_lists_the_largest_bivariate_residuals(rng):
    X = rng.integers(0, 3, size=(100, 5))
    est = CategoricalMixtureEM(1).fit(X)
    report = fit_report(est, X)
    matrix = bivariate_residuals(est, X)
    pairs = sorted(
        ((matrix[j, m], j, m) for j, m in itertools.combinations(range(5), 2)),
        reverse=True,
    )[:5]
    assert len(report.largest_bivariate_residuals) == 5
    for (a, b, value, df), (expected, j, m) in zip(
        report.largest_bivariate_residuals, pairs, strict=True
    ):
        assert (a, b, df) == (f"item {j}", f"item {m}", 4)
        np.testing.assert_allclose(value, expected, rtol=RTOL)
    assert report.bivariate_residuals_note is None
    text = str(report)
    assert "Largest bivariate residuals" in text
    assert "rule of thumb" in text and "Oberski" in text
    a, b, value, df = report.largest_bivariate_residuals[0]
    assert f"{a} - {b}" in text and f"{value:.4f}" in text


@pytest.mark.parametrize(
    ("case", "note"),
    [
        ("single", "a single item"),
        ("wide", "more than 100 items"),
        ("paired", "the trials vary per entry"),
        ("fractional", "not whole numbers"),
    ],
)
def test_report_says_why_no_bivariate_residuals(rng, case, note):
    if case == "single":
        X = rng.integers(0, 2, size=(20, 1))
        est = BernoulliMixtureEM(1).fit(X)
    elif case == "wide":
        X = rng.integers(0, 2, size=(20, 101))
        X[0], X[1] = 0, 1
        est = BernoulliMixtureEM(1).fit(X)
    elif case == "paired":
        X = rng.integers(0, 3, size=(20, 4))
        est = BinomialMixtureEM(1, n_trials="paired").fit(X)
    else:
        X = rng.random((20, 2)) * 3
        est = BinomialMixtureEM(1, n_trials=3).fit(X)
    report = fit_report(est, X)
    assert report.largest_bivariate_residuals is None
    assert note in report.bivariate_residuals_note
    assert note in str(report)


def test_class_order_by_size_undoes_label_switching(stouffer_toby):
    est, patterns, counts = stouffer_toby
    other = permuted(est, [1, 0])
    a = fit_report(est, patterns, sample_weight=counts, class_order="size")
    b = fit_report(other, patterns, sample_weight=counts, class_order="size")
    assert str(a) == str(b)
    assert a.class_order == tuple(np.argsort(-est.weights_))
    assert b.class_order == tuple(np.argsort(-other.weights_))
    assert list(a.class_weights) == sorted(est.weights_, reverse=True)
    # The fitted order is the estimator's, and an explicit order is followed.
    fitted = fit_report(other, patterns, sample_weight=counts)
    assert fitted.class_order == (0, 1)
    assert fitted.class_weights == tuple(other.weights_)
    explicit = fit_report(other, patterns, sample_weight=counts, class_order=[1, 0])
    assert explicit.class_weights == tuple(other.weights_[[1, 0]])
    assert explicit.item_probabilities == tuple(
        tuple(row) for row in other.means_[[1, 0]]
    )
    # Everything not per class is unchanged.
    for name in ("log_likelihood", "bic", "g_squared", "relative_entropy"):
        assert getattr(explicit, name) == getattr(fitted, name)


def test_class_order_breaks_ties_by_item_probabilities(rng):
    X = rng.integers(0, 2, size=(60, 3))
    est = BernoulliMixtureEM(3, fit_weights=False, random_state=0).fit(X)
    reports = [
        fit_report(permuted(est, order), X, class_order="size")
        for order in itertools.permutations(range(3))
    ]
    assert len({str(report) for report in reports}) == 1
    first_item = [row[0] for row in reports[0].item_probabilities]
    assert first_item == sorted(first_item, reverse=True)


@pytest.mark.parametrize("order", ["largest", [0, 0], [0, 2], [0.0, 1.0], [[0, 1]]])
def test_class_order_refuses_what_is_not_an_order(stouffer_toby, order):
    est, patterns, counts = stouffer_toby
    with pytest.raises(ValueError, match="class_order must be"):
        fit_report(est, patterns, sample_weight=counts, class_order=order)


def test_cli_names_the_pairs_after_the_columns(tmp_path, capsys):
    from skcoinmix.cli import main

    patterns, counts = load_lca_example("stouffer_toby", as_patterns=True)
    rows = np.repeat(patterns, counts, axis=0)
    path = tmp_path / "answers.csv"
    np.savetxt(path, rows, fmt="%d", delimiter=",", header="P,Q,R,S", comments="")
    assert main(["fit", str(path), "--n-components", "1", "--random-state", "0"]) == 0
    out = capsys.readouterr().out
    block = out[out.index("Largest bivariate residuals") :].splitlines()
    pairs = {line.split()[0] + line.split()[2] for line in block[2:7]}
    assert pairs <= {a + b for a, b in itertools.combinations("PQRS", 2)}
    assert len(pairs) == 5


def test_a_report_without_residuals_prints_no_block(stouffer_toby):
    # A FitReport made without the new fields (their defaults) prints as before.
    import dataclasses

    est, patterns, counts = stouffer_toby
    report = fit_report(est, patterns, sample_weight=counts)
    bare = dataclasses.replace(
        report,
        largest_bivariate_residuals=None,
        bivariate_residuals_note=None,
        caic=None,
        icl_bic=None,
        average_posteriors=None,
        classification_error=None,
    )
    text = str(bare)
    assert "bivariate" not in text and "CAIC" not in text and "ICL-BIC" not in text
    assert "Average posterior" not in text and "classification error" not in text
    last = text.rstrip().splitlines()[-1].split()
    assert last == ["relative", "entropy", f"{report.relative_entropy:.4f}"]
