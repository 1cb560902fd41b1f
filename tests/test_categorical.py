"""CategoricalMixtureEM: latent class analysis of polytomous items, as poLCA fits it.

Oracles: poLCA's published maximum log-likelihoods (gss82, election), the
Bernoulli model on binary data (carcinoma), and a plain-numpy categorical EM
written here.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM, CategoricalMixtureEM

DATA = Path(__file__).resolve().parent / "data"


def _read(name):
    pd = pytest.importorskip("pandas")
    return pd.read_csv(DATA / name)


def _patterns(X):
    """Distinct rows and their counts: the same fit as the rows, far cheaper."""
    patterns, counts = np.unique(X, axis=0, return_counts=True)
    return patterns, counts.astype(np.float64)


def _best_log_likelihood(X, K, n_init=20, seed=0, max_iter=50_000):
    """poLCA's settings: many random starts, 1e-10 on the total log-likelihood."""
    patterns, counts = _patterns(X)
    N = counts.sum()
    est = CategoricalMixtureEM(
        K,
        init_params="random",
        n_init=n_init,
        tol=1e-10 / N,
        max_iter=max_iter,
        random_state=seed,
    ).fit(patterns, sample_weight=counts)
    assert est.converged_
    return est.score(patterns, sample_weight=counts) * N, est


# ------------------------------------------------------- published numbers
@pytest.mark.parametrize(
    ("K", "expected"),
    # poLCA's gss82 help page (McCutcheon 1987, Table 3.1): maximum
    # log-likelihoods of 2, 3 and 4 classes on all four items. For K = 3 the
    # likelihood has several local maxima; the best is the acceptance value.
    [(2, -2783.268), (3, -2754.545), (4, -2746.621)],
)
def test_gss82_maximum_log_likelihoods(K, expected):
    X = _read("gss82.csv").to_numpy()
    log_likelihood, est = _best_log_likelihood(X, K)
    assert log_likelihood == pytest.approx(expected, abs=1e-3)
    assert est.n_parameters_ == K * (2 + 1 + 1 + 2) + K - 1


ELECTION_ITEMS = [
    f"{trait}{candidate}"
    for candidate in "GB"
    for trait in ["MORAL", "CARES", "KNOW", "LEAD", "DISHON", "INTEL"]
]


@pytest.mark.parametrize(
    ("K", "expected"),
    # poLCA's election help page: the 12 items MORALG ... INTELB, complete
    # cases only (1,311 rows), 1, 2 and 3 classes.
    [(1, -18647.31), (2, -17344.92), (3, -16714.66)],
)
def test_election_maximum_log_likelihoods(K, expected):
    frame = _read("election.csv")[ELECTION_ITEMS].dropna()
    assert len(frame) == 1311
    log_likelihood, _ = _best_log_likelihood(frame.to_numpy(), K)
    assert log_likelihood == pytest.approx(expected, abs=1e-2)


@pytest.mark.parametrize("codes", ["0/1", "1/2"])
def test_binary_items_are_the_bernoulli_model(codes):
    # Agresti's carcinoma data, K = 3: -293.705 (the Bernoulli acceptance
    # value of tests/test_lca.py), as categorical items coded either way.
    X = _read("carcinoma.csv").to_numpy()
    if codes == "1/2":
        X = X + 1
    log_likelihood, est = _best_log_likelihood(X, 3)
    assert log_likelihood == pytest.approx(-293.705, abs=1e-3)
    # The same fit as the Bernoulli model from the same start: the one-hot
    # encoding of a 0/1 item is (1 - x, x).
    start = est.probs_
    means = np.column_stack([probs[:, 1] for probs in start])
    bernoulli = BernoulliMixtureEM(
        3, binarize=None, means_init=means, weights_init=est.weights_, max_iter=0
    ).fit(X - (codes == "1/2"))
    assert_allclose(
        bernoulli.score_samples(X - (codes == "1/2")),
        est.score_samples(X),
        rtol=1e-9,
    )


# ------------------------------------------------------------ reference EM
def _reference_em(codes, sizes, weights, probs, n_updates, alpha=0.0):
    """Plain-numpy categorical EM on integer codes (-1 missing)."""
    bounds = []
    for _ in range(n_updates):
        log_joint = np.tile(np.log(weights), (codes.shape[0], 1))
        for j in range(len(sizes)):
            observed = codes[:, j] >= 0
            log_joint[observed] += np.log(probs[j][:, codes[observed, j]]).T
        log_norm = logsumexp(log_joint, axis=1)
        resp = np.exp(log_joint - log_norm[:, None])
        bounds.append(log_norm.mean())
        new = []
        for j, size in enumerate(sizes):
            counts = np.zeros((len(weights), size))
            for c in range(size):
                counts[:, c] = resp[codes[:, j] == c].sum(axis=0)
            theta = (counts + alpha) / (
                counts.sum(axis=1, keepdims=True) + size * alpha
            )
            theta = np.maximum(theta, 1e-10)
            new.append(theta / theta.sum(axis=1, keepdims=True))
        probs, weights = new, resp.mean(axis=0)
    return weights, probs, bounds


def _random_codes(rng, n_samples=150, sizes=(3, 2, 4, 3), K=3, missing=0.1):
    probs = [rng.dirichlet(np.ones(size), size=K) for size in sizes]
    labels = rng.integers(K, size=n_samples)
    codes = np.column_stack(
        [
            [rng.choice(size, p=probs[j][k]) for k in labels]
            for j, size in enumerate(sizes)
        ]
    )
    codes[rng.uniform(size=codes.shape) < missing] = -1
    return codes


@pytest.mark.parametrize("alpha", [0.0, 1.5])
def test_em_equals_a_plain_numpy_categorical_em(rng, alpha):
    sizes = (3, 2, 4, 3)
    codes = _random_codes(rng, sizes=sizes)
    codes[:, 2][codes[:, 2] == -1] = 0  # every category of item 2 seen
    X = np.where(codes >= 0, codes + 1.0, np.nan)  # poLCA-style 1..C, NaN missing
    start = [rng.dirichlet(np.ones(size), size=3) for size in sizes]
    est = CategoricalMixtureEM(
        3, probs_init=start, alpha=alpha, max_iter=12, tol=0, accelerate=None
    )
    with pytest.warns(ConvergenceWarning):
        est.fit(X)
    weights, probs, bounds = _reference_em(
        codes, sizes, np.full(3, 1 / 3), start, 12, alpha=alpha
    )
    # The same sums in other orders over 12 updates: 1e-10 relative.
    assert_allclose(est.weights_, weights, rtol=1e-10)
    for got, want in zip(est.probs_, probs, strict=True):
        assert_allclose(got, want, rtol=1e-10, atol=1e-15)
    if alpha == 0:
        assert_allclose(est.lower_bounds_, bounds, rtol=1e-10)
    assert np.all(np.diff(est.lower_bounds_) >= -1e-12)


def test_probabilities_are_floored_and_sum_to_one(rng):
    codes = _random_codes(rng)
    # The property holds at any parameters: a loose tol keeps every seed's
    # fit converged (EM crawls on some of these small random problems).
    est = CategoricalMixtureEM(3, random_state=0, max_iter=5000, tol=1e-4).fit(
        np.where(codes >= 0, codes, np.nan)
    )
    for probs in est.probs_:
        assert np.all(probs >= 1e-10 / (1 + 1e-9))
        assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    assert_allclose(est.predict_proba(np.where(codes >= 0, codes, np.nan)).sum(1), 1)


# --------------------------------------------------------------- invariances
def test_permuting_categories_within_an_item_changes_nothing(rng):
    sizes = (3, 2, 4)
    codes = _random_codes(rng, sizes=sizes, missing=0.0)
    start = [rng.dirichlet(np.ones(size), size=2) for size in sizes]
    perm = rng.permutation(4)
    recoded = codes.copy()
    recoded[:, 2] = perm[codes[:, 2]]
    permuted_start = [start[0], start[1], np.empty_like(start[2])]
    permuted_start[2][:, perm] = start[2]
    fits = []
    for data, init in [(codes, start), (recoded, permuted_start)]:
        est = CategoricalMixtureEM(2, probs_init=init, max_iter=10, tol=0)
        with pytest.warns(ConvergenceWarning):
            fits.append(est.fit(data))
    assert_allclose(fits[1].lower_bounds_, fits[0].lower_bounds_, rtol=1e-12)
    assert_allclose(fits[1].probs_[2][:, perm], fits[0].probs_[2], rtol=1e-10)


def test_relabelling_components_changes_nothing(rng):
    sizes = (3, 2, 4)
    codes = _random_codes(rng, sizes=sizes)
    X = np.where(codes >= 0, codes, np.nan)
    start = [rng.dirichlet(np.ones(size), size=3) for size in sizes]
    perm = rng.permutation(3)
    fits = []
    for init in [start, [probs[perm] for probs in start]]:
        est = CategoricalMixtureEM(3, probs_init=init, max_iter=10, tol=0)
        with pytest.warns(ConvergenceWarning):
            fits.append(est.fit(X))
    assert_allclose(fits[1].lower_bounds_, fits[0].lower_bounds_, rtol=1e-12)
    assert_allclose(
        fits[1].predict_proba(X), fits[0].predict_proba(X)[:, perm], atol=1e-12
    )


# ------------------------------------------------------------------- input
def test_strings_pandas_and_missing_values(rng):
    pd = pytest.importorskip("pandas")
    codes = _random_codes(rng, sizes=(3, 2), missing=0.0)
    labels = np.array(["low", "mid", "high"])[codes[:, 0]]
    frame = pd.DataFrame(
        {
            "level": labels.astype(object),
            "answer": pd.Categorical(np.array(["no", "yes"])[codes[:, 1]]),
        }
    )
    frame.loc[0, "level"] = None
    frame.loc[1, "level"] = np.nan
    frame.loc[2, "answer"] = np.nan
    est = CategoricalMixtureEM(2, random_state=0).fit(frame)
    assert [list(c) for c in est.categories_] == [["high", "low", "mid"], ["no", "yes"]]
    assert list(est.feature_names_in_) == ["level", "answer"]
    # Rows with every item missing are valid: log p = 0 (up to the rounding
    # of the weights' sum), posteriors the class shares.
    empty = pd.DataFrame({"level": [None], "answer": pd.Categorical([np.nan])})
    assert_allclose(est.score_samples(empty), [0.0], atol=1e-15)
    assert_allclose(est.predict_proba(empty)[0], est.weights_, rtol=1e-12)
    X, _y = est.sample(5)
    assert X.shape == (5, 2) and set(X[:, 1]) <= {"no", "yes"}


def test_unknown_categories_at_prediction(rng):
    X = np.array([[1, 1], [2, 1], [1, 2], [2, 2], [1, 1], [3, 2]])
    est = CategoricalMixtureEM(2, random_state=0).fit(X)
    with pytest.raises(
        ValueError, match=r"Column 1 has values not among its categories: 7"
    ):
        est.predict([[1, 7]])
    est.set_params(handle_unknown="missing")
    assert_allclose(
        est.score_samples([[1, 7]]), est.score_samples(np.array([[1, np.nan]]))
    )


def test_given_categories_keep_unseen_ones():
    X = np.array([[1, 1], [2, 1], [1, 2], [2, 2]])
    est = CategoricalMixtureEM(2, categories=[[1, 2, 3], [1, 2]], random_state=0).fit(X)
    assert est.probs_[0].shape == (2, 3)
    assert np.all(est.probs_[0][:, 2] <= 1e-9)  # never seen: floored
    assert est.n_parameters_ == 2 * (2 + 1) + 1


BAD_INPUT = [
    (
        dict(),
        np.array([[1, np.nan], [2, np.nan]]),
        ValueError,
        "Column 1 has no observed value",
    ),
    (
        dict(categories=[[1, 2]]),
        [[1, 2], [2, 1]],
        ValueError,
        "gives 1 lists but X has 2",
    ),
    (
        dict(categories=[[1, 2], [1]]),
        [[1, 2], [2, 1]],
        ValueError,
        "not among its categories",
    ),
    (dict(probs_init=[[[1.0, 0.0]]]), [[1, 2], [2, 1]], ValueError, "gives 1 arrays"),
    (
        dict(probs_init=[[[0.5, 0.6]], [[0.5, 0.5]]]),
        [[1, 2], [2, 1]],
        ValueError,
        "summing to 1",
    ),
    (dict(), np.full((3, 2), np.nan), ValueError, "no observed value"),
]


@pytest.mark.parametrize(("params", "X", "error", "match"), BAD_INPUT)
def test_bad_input_is_a_clear_error(params, X, error, match):
    est = CategoricalMixtureEM(1, **params)
    with pytest.raises(error, match=match):
        est.fit(X)
    assert not hasattr(est, "categories_")


def test_sparse_input_is_refused():
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="dense data"):
        CategoricalMixtureEM(1).fit(sp.csr_matrix(np.eye(3)))


def test_predictions_equal_after_refit_from_fitted_probabilities(rng):
    codes = _random_codes(rng)
    X = np.where(codes >= 0, codes, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = CategoricalMixtureEM(3, random_state=0, max_iter=30).fit(X)
        again = CategoricalMixtureEM(
            3, probs_init=est.probs_, weights_init=est.weights_, max_iter=0
        ).fit(X)
    assert_array_equal(again.predict(X), est.predict(X))


def test_pandas_na_and_nullable_columns_are_missing():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "a": pd.array([1, 2, pd.NA, 1, 2, 2], dtype="Int64"),
            "b": pd.array(["x", pd.NA, "y", "y", "x", "x"], dtype="string"),
        }
    )
    est = CategoricalMixtureEM(2, random_state=0).fit(frame)
    assert [len(c) for c in est.categories_] == [2, 2]
    plain = np.array(
        [[1, "x"], [2, None], [None, "y"], [1, "y"], [2, "x"], [2, "x"]], dtype=object
    )
    same = CategoricalMixtureEM(2, random_state=0).fit(plain)
    assert_allclose(same.score_samples(plain), est.score_samples(frame), rtol=1e-12)


def test_fit_report_of_polytomous_items():
    # gss82, K = 3 (poLCA's gss82 help page): -2754.545, 20 parameters and
    # min(N, 36 - 1) - 20 = 15 residual degrees of freedom (3 x 2 x 2 x 3 =
    # 36 cells). G² and X² against an enumeration of every cell here.
    from itertools import product

    from skcoinmix import fit_report

    frame = _read("gss82.csv")
    _, best = _best_log_likelihood(frame.to_numpy(), 3)
    # The best fit's parameters, on the rows with their names (max_iter=0
    # keeps the start).
    est = CategoricalMixtureEM(
        3, probs_init=best.probs_, weights_init=best.weights_, max_iter=0
    ).fit(frame)
    report = fit_report(est, frame)
    assert report.log_likelihood == pytest.approx(-2754.545, abs=1e-3)
    assert (report.n_parameters, report.df) == (20, 15)
    cells = np.array(list(product(*est.categories_)))
    named = frame.iloc[:0].reindex(range(len(cells)))
    named[:] = cells
    expected_all = 1202 * np.exp(est.score_samples(named))
    observed = np.array(
        [np.sum(np.all(frame.to_numpy() == cell, axis=1)) for cell in cells], float
    )
    seen = observed > 0
    g2 = 2 * np.sum(observed[seen] * np.log(observed[seen] / expected_all[seen]))
    x2 = np.sum((observed - expected_all) ** 2 / expected_all)
    assert report.g_squared == pytest.approx(g2, rel=1e-9)
    assert report.chi_squared == pytest.approx(x2, rel=1e-9)
    assert report.n_patterns == int(seen.sum())
    text = str(report)
    assert "PURPOSE = 3" in text and "Pr(item = category | class)" in text
