"""Tests of skcoinmix.datasets: the generators and the published coin example."""

from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from skcoinmix.datasets import (
    load_coin_example,
    make_bernoulli_mixture,
    make_coin_tosses,
)

#: The five sets of ten tosses and their coins, as printed in C. B. Do and
#: S. Batzoglou, "What is the expectation maximization algorithm?", Nature
#: Biotechnology 26, 897-899 (2008), Figure 1a.
PAPER_SETS = ["HTTTHHTHTH", "HHHHTHHHHH", "HTHHHHHTHH", "HTHTTTHHTT", "THHHTHHHTH"]
PAPER_COINS = ["B", "A", "A", "B", "A"]

#: The maximum likelihood estimates when the coins are known, same paper,
#: Figure 1a: 24 heads in 30 tosses of A, 9 heads in 20 tosses of B.
PAPER_THETA_A = 0.80
PAPER_THETA_B = 0.45

#: Statistical checks allow this many standard errors: a false failure has a
#: probability below 1e-6 per check (normal approximation).
Z = 5.0

#: Large enough that the normal approximation of the checks holds and a
#: wrong probability (off by more than ~0.01) is caught; still fast.
N_LARGE = 20_000
N_TOSSES_LARGE = 50

#: The shared data folder (CI has it beside the repository; users do not).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def assert_proportion_close(observed, p, n):
    """``observed`` is a proportion over ``n`` Bernoulli(p) trials: within Z SE."""
    standard_error = np.sqrt(p * (1 - p) / n)
    assert abs(observed - p) <= Z * standard_error, (observed, p, n)


def to_letters(X):
    return ["".join("H" if toss else "T" for toss in row) for row in X]


# -------------------------------------------------------- load_coin_example
def test_load_coin_example_is_the_published_figure():
    X = load_coin_example()
    assert X.shape == (5, 10)
    assert X.dtype == np.int64
    assert to_letters(X) == PAPER_SETS


def test_load_coin_example_coins():
    X, coins = load_coin_example(return_coins=True)
    assert to_letters(X) == PAPER_SETS
    assert coins.shape == (5,)
    assert coins.dtype == np.int64
    # Documented encoding: 0 is coin A, 1 is coin B.
    assert list(np.array(["A", "B"])[coins]) == PAPER_COINS


def test_load_coin_example_known_coin_estimates():
    X, coins = load_coin_example(return_coins=True)
    assert X[coins == 0].mean() == pytest.approx(PAPER_THETA_A)
    assert X[coins == 1].mean() == pytest.approx(PAPER_THETA_B)


def test_load_coin_example_returns_a_fresh_array():
    X = load_coin_example()
    X[:] = 0
    assert to_letters(load_coin_example()) == PAPER_SETS


def test_load_coin_example_data_ships_inside_the_package():
    packaged = resources.files("skcoinmix") / "data" / "do_batzoglou_coins.csv"
    assert packaged.is_file()
    header = packaged.read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(f"toss{i}" for i in range(1, 11))


@pytest.mark.skipif(
    not (SHARED_DATA / "do_batzoglou_coins.csv").is_file(),
    reason="the shared data folder is not beside the repository",
)
def test_packaged_coin_example_equals_the_shared_copy():
    packaged = resources.files("skcoinmix") / "data" / "do_batzoglou_coins.csv"
    shared = SHARED_DATA / "do_batzoglou_coins.csv"
    assert packaged.read_bytes() == shared.read_bytes()


# --------------------------------------------------------- make_coin_tosses
@pytest.mark.parametrize(
    ("n_sets", "n_tosses", "probs"),
    [(1, 1, [0.5]), (10, 20, [0.3, 0.7]), (7, 3, [0.1, 0.5, 0.9])],
)
def test_make_coin_tosses_shapes_and_values(n_sets, n_tosses, probs):
    X, coins = make_coin_tosses(n_sets, n_tosses, probs, random_state=0)
    assert X.shape == (n_sets, n_tosses)
    assert coins.shape == (n_sets,)
    assert X.dtype == np.int64
    assert coins.dtype == np.int64
    assert set(np.unique(X)) <= {0, 1}
    assert set(np.unique(coins)) <= set(range(len(probs)))


def test_make_coin_tosses_accepts_numpy_integers_and_arrays():
    X, coins = make_coin_tosses(
        np.int64(4), np.int32(3), np.array([0.2, 0.8]), np.array([0.5, 0.5])
    )
    assert X.shape == (4, 3)
    assert coins.shape == (4,)


def test_make_coin_tosses_is_reproducible(seed):
    X1, coins1 = make_coin_tosses(30, 15, [0.3, 0.7], random_state=seed)
    X2, coins2 = make_coin_tosses(
        30, 15, [0.3, 0.7], random_state=np.random.RandomState(seed)
    )
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(coins1, coins2)
    X3, _ = make_coin_tosses(30, 15, [0.3, 0.7], random_state=seed + 1)
    assert not np.array_equal(X1, X3)


def test_make_coin_tosses_ties_the_tosses_of_a_set():
    # Coins that always give tails and always give heads: every set is
    # constant and its value tells its coin.
    X, coins = make_coin_tosses(50, 8, [0.0, 1.0], random_state=0)
    np.testing.assert_array_equal(X, np.repeat(coins[:, None], 8, axis=1))
    assert set(np.unique(coins)) == {0, 1}


def test_make_coin_tosses_never_picks_a_coin_of_weight_zero():
    _, coins = make_coin_tosses(200, 2, [0.1, 0.5, 0.9], [0.5, 0.0, 0.5], 0)
    assert 1 not in coins
    assert set(np.unique(coins)) == {0, 2}


def test_make_coin_tosses_statistics(seed):
    probs = np.array([0.2, 0.5, 0.9])
    weights = np.array([0.2, 0.3, 0.5])
    X, coins = make_coin_tosses(
        N_LARGE, N_TOSSES_LARGE, probs, weights, random_state=seed
    )
    for k, (p, w) in enumerate(zip(probs, weights, strict=True)):
        assert_proportion_close(np.mean(coins == k), w, N_LARGE)
        tosses = X[coins == k]
        assert_proportion_close(tosses.mean(), p, tosses.size)


def test_make_coin_tosses_default_weights_are_uniform(seed):
    probs = [0.1, 0.4, 0.6, 0.9]
    _, coins = make_coin_tosses(N_LARGE, 1, probs, random_state=seed)
    for k in range(len(probs)):
        assert_proportion_close(np.mean(coins == k), 1 / len(probs), N_LARGE)


def test_make_coin_tosses_is_a_tied_bernoulli_mixture(seed):
    # The documented equivalence: each coin's probability repeated over the
    # tosses gives the same mixture, and the same draws for the same seed.
    probs, weights = [0.3, 0.7], [0.4, 0.6]
    X, coins = make_coin_tosses(25, 6, probs, weights, random_state=seed)
    means = np.repeat(np.array(probs)[:, None], 6, axis=1)
    X2, y2 = make_bernoulli_mixture(25, weights, means, random_state=seed)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(coins, y2)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_sets": 0}, ValueError, "'n_sets' should be an integer >= 1"),
        ({"n_sets": 2.5}, TypeError, "'n_sets' should be an integer >= 1"),
        ({"n_sets": True}, TypeError, "'n_sets' should be an integer"),
        ({"n_tosses": -1}, ValueError, "'n_tosses' should be an integer >= 1"),
        ({"n_tosses": "3"}, TypeError, "'n_tosses' should be an integer"),
        ({"probs": [0.5, 1.5]}, ValueError, "'probs' holds probabilities"),
        ({"probs": [-0.1, 0.5]}, ValueError, r"'probs' .* range \[0, 1\]"),
        ({"probs": []}, ValueError, "'probs' should be a non-empty 1-D"),
        ({"probs": [[0.3, 0.7]]}, ValueError, "'probs' should be a non-empty 1-D"),
        ({"probs": ["a", "b"]}, TypeError, "'probs' should be an array of numbers"),
        ({"probs": [np.nan, 0.5]}, ValueError, "'probs' contains NaN"),
        (
            {"weights": [1.0]},
            ValueError,
            r"'weights' should have one entry per component, like 'probs' \(2\)",
        ),
        ({"weights": [-0.5, 1.5]}, ValueError, "'weights' should be non-negative"),
        ({"weights": [0.3, 0.3]}, ValueError, "'weights' should sum to 1"),
        ({"weights": [[0.5, 0.5]]}, ValueError, "'weights' should be a non-empty"),
        ({"random_state": "zero"}, ValueError, "cannot be used to seed"),
    ],
)
def test_make_coin_tosses_rejects_bad_input(kwargs, error, match):
    params = {"n_sets": 5, "n_tosses": 4, "probs": [0.3, 0.7], **kwargs}
    with pytest.raises(error, match=match):
        make_coin_tosses(**params)


# --------------------------------------------------- make_bernoulli_mixture
def test_make_bernoulli_mixture_shapes_and_values():
    X, y = make_bernoulli_mixture(
        12, [0.2, 0.3, 0.5], np.full((3, 7), 0.5), random_state=0
    )
    assert X.shape == (12, 7)
    assert y.shape == (12,)
    assert X.dtype == np.int64
    assert y.dtype == np.int64
    assert set(np.unique(X)) <= {0, 1}
    assert set(np.unique(y)) <= {0, 1, 2}


def test_make_bernoulli_mixture_is_reproducible(seed):
    means = [[0.1, 0.9, 0.5], [0.8, 0.2, 0.5]]
    X1, y1 = make_bernoulli_mixture(40, [0.5, 0.5], means, random_state=seed)
    X2, y2 = make_bernoulli_mixture(40, [0.5, 0.5], means, random_state=seed)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = make_bernoulli_mixture(40, [0.5, 0.5], means, random_state=seed + 1)
    assert not np.array_equal(X1, X3)


def test_make_bernoulli_mixture_extreme_probabilities():
    # Probabilities 0 and 1 are exact: each row is its component's pattern.
    means = np.array([[0, 1, 1, 0], [1, 0, 1, 1]], dtype=float)
    X, y = make_bernoulli_mixture(30, [0.5, 0.5], means, random_state=0)
    np.testing.assert_array_equal(X, means[y].astype(np.int64))


def test_make_bernoulli_mixture_statistics(seed):
    weights = np.array([0.25, 0.75])
    means = np.array([[0.05, 0.5, 0.9, 0.3], [0.6, 0.1, 0.9, 0.99]])
    X, y = make_bernoulli_mixture(N_LARGE, weights, means, random_state=seed)
    for k in range(len(weights)):
        assert_proportion_close(np.mean(y == k), weights[k], N_LARGE)
        rows = X[y == k]
        for j in range(means.shape[1]):
            assert_proportion_close(rows[:, j].mean(), means[k, j], rows.shape[0])


def test_make_bernoulli_mixture_rows_are_in_random_order(seed):
    weights = np.array([0.5, 0.5])
    means = np.array([[0.2, 0.2], [0.8, 0.8]])
    _, y = make_bernoulli_mixture(N_LARGE, weights, means, random_state=seed)
    assert np.any(np.diff(y) < 0), "the rows are sorted by component"
    # Not grouped either: each half holds both components in proportion.
    half = N_LARGE // 2
    for part in (y[:half], y[half:]):
        assert_proportion_close(np.mean(part == 1), weights[1], part.size)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_samples": 0}, ValueError, "'n_samples' should be an integer >= 1"),
        ({"n_samples": 1.0}, TypeError, "'n_samples' should be an integer"),
        ({"means": [0.5, 0.5]}, ValueError, "'means' should be a non-empty 2-D"),
        ({"means": [[0.5, 2.0], [0.5, 0.5]]}, ValueError, "'means' holds prob"),
        ({"means": [[0.5, np.inf], [0.5, 0.5]]}, ValueError, "'means' contains"),
        ({"means": [["x", "y"], [0.5, 0.5]]}, TypeError, "'means' should be an"),
        ({"weights": 0.5}, ValueError, "'weights' should be a non-empty 1-D"),
        (
            {"weights": [0.2, 0.3, 0.5]},
            ValueError,
            "'weights' and 'means' should have one entry and one row per "
            "component, but got 3 weights and 2 rows",
        ),
        ({"weights": [0.5, 0.6]}, ValueError, "'weights' should sum to 1"),
        ({"weights": [1.5, -0.5]}, ValueError, "'weights' should be non-negative"),
    ],
)
def test_make_bernoulli_mixture_rejects_bad_input(kwargs, error, match):
    params = {
        "n_samples": 5,
        "weights": [0.5, 0.5],
        "means": [[0.1, 0.9], [0.9, 0.1]],
        **kwargs,
    }
    with pytest.raises(error, match=match):
        make_bernoulli_mixture(**params)


# ---------------------------------------------- to_patterns, from_patterns
# (imports here, with the tests that need them: the tests above are older)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from skcoinmix import BernoulliMixtureEM  # noqa: E402
from skcoinmix.datasets import (  # noqa: E402
    from_patterns,
    load_lca_example,
    to_patterns,
)

#: The published pattern tables: (name, shared file, items, patterns, rows).
LCA_TABLES = [
    ("stouffer_toby", "stouffer_toby_values.csv", 4, 16, 216),
    ("carcinoma", "carcinoma.csv", 7, 20, 118),
]


def sort_rows(X):
    """The rows of X in lexicographic order (a canonical form of the multiset)."""
    return X[np.lexsort(X.T[::-1])]


def test_to_patterns_counts_distinct_rows():
    X = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 1], [1, 1, 0], [1, 0, 1]])
    patterns, counts = to_patterns(X)
    np.testing.assert_array_equal(patterns, [[0, 0, 1], [1, 0, 1], [1, 1, 0]])
    np.testing.assert_array_equal(counts, [1, 3, 1])
    assert patterns.dtype == X.dtype
    assert counts.dtype == np.int64


def test_to_patterns_sums_the_weights():
    X = np.array([[1, 0], [0, 1], [1, 0]])
    patterns, counts = to_patterns(X, sample_weight=[0.5, 2.0, 1.25])
    np.testing.assert_array_equal(patterns, [[0, 1], [1, 0]])
    np.testing.assert_allclose(counts, [2.0, 1.75])
    assert counts.dtype == np.float64
    # A pattern of weight 0 stays in the table, with count 0.
    _, counts = to_patterns(X, sample_weight=[0.0, 2.0, 0.0])
    np.testing.assert_array_equal(counts, [2.0, 0.0])


def test_to_patterns_treats_nan_as_a_value():
    nan = np.nan
    X = np.array(
        [[1, nan, 0], [0, 1, 1], [1, nan, 0], [1, nan, 1], [nan, nan, 0], [1, 0, 0]]
    )
    patterns, counts = to_patterns(X)
    expected = np.array([[0, 1, 1], [1, 0, 0], [1, nan, 0], [1, nan, 1], [nan, nan, 0]])
    np.testing.assert_array_equal(patterns, expected)  # NaN == NaN here
    np.testing.assert_array_equal(counts, [1, 1, 2, 1, 1])


def test_to_patterns_and_back_keep_the_rows(rng):
    X = rng.integers(0, 2, size=(300, 5)).astype(float)
    X[rng.uniform(size=X.shape) < 0.1] = np.nan
    patterns, counts = to_patterns(X)
    assert counts.sum() == 300
    assert len(np.unique(np.nan_to_num(patterns, nan=9), axis=0)) == len(patterns)
    rows = from_patterns(patterns, counts)
    np.testing.assert_array_equal(
        sort_rows(np.nan_to_num(rows, nan=9)), sort_rows(np.nan_to_num(X, nan=9))
    )


def test_to_patterns_keeps_large_integers_apart():
    # Integers are compared exactly, not through float64.
    X = np.array([[2**60, 1], [2**60 + 1, 1]], dtype=np.int64)
    _, counts = to_patterns(X)
    np.testing.assert_array_equal(counts, [1, 1])


def test_from_patterns_expands_in_table_order():
    X = from_patterns(np.array([[1, 1], [0, 1], [1, 0]]), counts=[2, 0, 1.0])
    np.testing.assert_array_equal(X, [[1, 1], [1, 1], [1, 0]])
    assert X.dtype == np.int64


@pytest.mark.parametrize(
    ("X", "sample_weight", "error", "match"),
    [
        ([[0, 1], [np.inf, 0]], None, ValueError, "infinity"),
        ([0, 1, 1], None, ValueError, "Expected 2D array"),
        ([[0, 1], [1, 0]], [1.0], ValueError, r"'sample_weight' should have the shape"),
        (
            [[0, 1], [1, 0]],
            [1.0, -1.0],
            ValueError,
            "'sample_weight' should be non-neg",
        ),
        ([[0, 1], [1, 0]], [1.0, np.nan], ValueError, "'sample_weight' contains NaN"),
        ([["a", "b"]], None, ValueError, "(?i)convert"),
    ],
)
def test_to_patterns_rejects_bad_input(X, sample_weight, error, match):
    with pytest.raises(error, match=match):
        to_patterns(X, sample_weight=sample_weight)


@pytest.mark.parametrize(
    ("counts", "error", "match"),
    [
        ([1, 2], ValueError, r"'counts' should have one entry per pattern .*\(3,\)"),
        (
            [1, -2, 0],
            ValueError,
            "'counts' should hold non-negative integers, but got -2",
        ),
        ([1, 2.5, 0], ValueError, "'counts' should hold non-negative integers"),
        ([1, np.nan, 0], ValueError, "'counts' contains NaN"),
        (["x", 1, 1], TypeError, "'counts' should be an array of numbers"),
    ],
)
def test_from_patterns_rejects_bad_counts(counts, error, match):
    with pytest.raises(error, match=match):
        from_patterns([[0, 1], [1, 0], [1, 1]], counts)


def test_from_patterns_names_the_patterns():
    with pytest.raises(ValueError, match="patterns"):
        from_patterns([[0, np.inf]], [1])


# ------------------------------------------------------- load_lca_example
@pytest.mark.parametrize(
    ("name", "shared", "n_items", "n_patterns", "n_rows"), LCA_TABLES
)
def test_load_lca_example_shapes(name, shared, n_items, n_patterns, n_rows):
    X = load_lca_example(name)
    patterns, counts = load_lca_example(name, as_patterns=True)
    assert X.shape == (n_rows, n_items)
    assert patterns.shape == (n_patterns, n_items)
    assert X.dtype == patterns.dtype == counts.dtype == np.int64
    assert counts.sum() == n_rows
    assert set(np.unique(X)) == {0, 1}
    # The table is what to_patterns makes of the rows.
    table = to_patterns(X)
    np.testing.assert_array_equal(table[0], patterns)
    np.testing.assert_array_equal(table[1], counts)


def test_load_lca_example_published_counts():
    # Goodman (1974): 42 respondents universalistic on all four items, 20 on
    # none. Agresti (2002), Table 13.1: 34 slides rated negative by all seven
    # pathologists, 16 positive by all.
    patterns, counts = load_lca_example("stouffer_toby", as_patterns=True)
    assert counts[-1] == 42 and patterns[-1].tolist() == [1, 1, 1, 1]
    assert counts[0] == 20 and patterns[0].tolist() == [0, 0, 0, 0]
    patterns, counts = load_lca_example("carcinoma", as_patterns=True)
    assert counts[0] == 34 and counts[-1] == 16
    assert patterns[-1].tolist() == [1] * 7


@pytest.mark.parametrize(
    ("name", "shared", "n_items", "n_patterns", "n_rows"), LCA_TABLES
)
def test_packaged_lca_tables_equal_the_shared_rows(
    name, shared, n_items, n_patterns, n_rows
):
    path = SHARED_DATA / shared
    if not path.is_file():
        pytest.skip("the shared data folder is not beside the repository")
    rows = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64)
    patterns, counts = load_lca_example(name, as_patterns=True)
    expected_patterns, expected_counts = to_patterns(rows)
    np.testing.assert_array_equal(patterns, expected_patterns)
    np.testing.assert_array_equal(counts, expected_counts)
    header = path.read_text(encoding="utf-8").splitlines()[0]
    packaged = resources.files("skcoinmix") / "data" / f"{name}.csv"
    assert packaged.read_text(encoding="utf-8").splitlines()[0] == header + ",count"


def test_load_lca_example_as_frame():
    pd = pytest.importorskip("pandas")
    X = load_lca_example("stouffer_toby", as_frame=True)
    assert isinstance(X, pd.DataFrame)
    assert list(X.columns) == ["A", "B", "C", "D"]
    np.testing.assert_array_equal(X.to_numpy(), load_lca_example("stouffer_toby"))
    patterns, counts = load_lca_example("carcinoma", as_patterns=True, as_frame=True)
    assert list(patterns.columns) == list("ABCDEFG")
    assert counts.name == "count"
    assert int(counts.sum()) == 118


@pytest.mark.parametrize("name", ["Stouffer_Toby", "coins", 1, None])
def test_load_lca_example_rejects_unknown_names(name):
    with pytest.raises(ValueError, match="'name' should be one of 'stouffer_toby'"):
        load_lca_example(name)


def test_load_lca_example_data_ship_inside_the_package():
    for name in ("stouffer_toby", "carcinoma"):
        assert (resources.files("skcoinmix") / "data" / f"{name}.csv").is_file()


# ------------------------------------ patterns with counts fit like rows
def fit_from(X, sample_weight, n_components, seed):
    rng = np.random.default_rng(seed)
    est = BernoulliMixtureEM(
        n_components,
        means_init=rng.uniform(0.2, 0.8, size=(n_components, X.shape[1])),
        weights_init=np.full(n_components, 1 / n_components),
        tol=1e-10,
        max_iter=5000,
        # Plain EM: n_iter_ is compared between the two representations
        # (SQUAREM's accept or reject decisions could differ by rounding).
        accelerate=None,
    )
    return est.fit(X, sample_weight=sample_weight)


@pytest.mark.parametrize(
    ("name", "n_components"), [("stouffer_toby", 2), ("carcinoma", 3)]
)
def test_pattern_table_fits_like_the_rows(name, n_components, seed):
    patterns, counts = load_lca_example(name, as_patterns=True)
    rows = from_patterns(patterns, counts)
    table = fit_from(patterns, counts, n_components, seed)
    expanded = fit_from(rows, None, n_components, seed)
    assert table.converged_ and expanded.converged_
    assert table.n_iter_ == expanded.n_iter_
    close = {"rtol": 1e-10, "atol": 1e-10}
    np.testing.assert_allclose(table.means_, expanded.means_, **close)
    np.testing.assert_allclose(table.weights_, expanded.weights_, **close)
    np.testing.assert_allclose(table.lower_bound_, expanded.lower_bound_, **close)
    # The criteria count the weighted sample size, N = counts.sum().
    np.testing.assert_allclose(
        table.bic(patterns, sample_weight=counts), expanded.bic(rows), **close
    )
    np.testing.assert_allclose(
        table.aic(patterns, sample_weight=counts), expanded.aic(rows), **close
    )
    log_likelihood = expanded.score(rows) * len(rows)
    assert expanded.bic(rows) == pytest.approx(
        -2 * log_likelihood + expanded.n_parameters_ * np.log(counts.sum())
    )


def test_pattern_table_with_missing_answers_fits_like_the_rows(rng):
    X = load_lca_example("stouffer_toby").astype(float)
    X[rng.uniform(size=X.shape) < 0.15] = np.nan
    patterns, counts = to_patterns(X)
    try:
        table = fit_from(patterns, counts, 2, 0)
    except ValueError as exc:
        pytest.skip(f"BernoulliMixtureEM does not accept NaN yet: {exc}")
    expanded = fit_from(X, None, 2, 0)
    close = {"rtol": 1e-10, "atol": 1e-10}
    assert table.n_iter_ == expanded.n_iter_
    np.testing.assert_allclose(table.means_, expanded.means_, **close)
    np.testing.assert_allclose(table.weights_, expanded.weights_, **close)
    np.testing.assert_allclose(table.lower_bound_, expanded.lower_bound_, **close)
    np.testing.assert_allclose(
        table.bic(patterns, sample_weight=counts), expanded.bic(X), **close
    )


def test_pattern_table_fit_unconverged_equally():
    # A fixed number of updates (no convergence test): still identical.
    patterns, counts = load_lca_example("carcinoma", as_patterns=True)
    rows = from_patterns(patterns, counts)
    fits = []
    for X, weights in [(patterns, counts), (rows, None)]:
        est = BernoulliMixtureEM(
            2, means_init=np.full((2, 7), [[0.3], [0.6]]), tol=0.0, max_iter=7
        )
        with pytest.warns(ConvergenceWarning):
            fits.append(est.fit(X, sample_weight=weights))
    np.testing.assert_allclose(fits[0].means_, fits[1].means_, rtol=1e-12)
    np.testing.assert_allclose(fits[0].lower_bounds_, fits[1].lower_bounds_, rtol=1e-12)


# ------------------------------------------------------------ random streams
def test_generators_keep_their_random_streams(seed):
    # The documented draws, written out with numpy: the component of each row
    # (RandomState.choice), then one uniform number per entry, in row order.
    # A change of either stream changes every seeded data set downstream.
    weights = np.array([0.2, 0.5, 0.3])
    means = np.array([[0.1, 0.9, 0.5, 0.0], [0.7, 0.2, 0.5, 1.0], [0.4, 0.4, 0.9, 0.3]])
    rng = np.random.RandomState(seed)
    y = rng.choice(3, size=50, p=weights)
    X = (rng.uniform(size=(50, 4)) < means[y]).astype(np.int64)
    got_X, got_y = make_bernoulli_mixture(50, weights, means, random_state=seed)
    np.testing.assert_array_equal(got_X, X)
    np.testing.assert_array_equal(got_y, y)
    tosses, coins = make_coin_tosses(50, 4, means[:, 0], weights, random_state=seed)
    rng = np.random.RandomState(seed)
    y = rng.choice(3, size=50, p=weights)
    X = (rng.uniform(size=(50, 4)) < means[y, :1]).astype(np.int64)
    np.testing.assert_array_equal(tosses, X)
    np.testing.assert_array_equal(coins, y)


def test_draw_given_components_is_the_estimators_sample(seed):
    # BernoulliMixtureEM.sample draws the components' sizes (multinomial),
    # then the entries as the generators do: the shared logic, one draw.
    from skcoinmix.datasets import _draw_given_components

    X, _ = make_bernoulli_mixture(
        200, [0.3, 0.7], [[0.9, 0.8, 0.1], [0.2, 0.3, 0.6]], random_state=seed
    )
    est = BernoulliMixtureEM(2, random_state=seed).fit(X)
    sampled, labels = est.sample(37)
    rng = np.random.RandomState(seed)
    sizes = rng.multinomial(37, est.weights_ / est.weights_.sum())
    y = np.repeat(np.arange(2), sizes)
    np.testing.assert_array_equal(labels, y)
    np.testing.assert_array_equal(
        sampled, _draw_given_components(est.means_, y, rng).astype(np.float64)
    )
