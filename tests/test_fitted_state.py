"""Fitted state against later parameter changes, unfitted calls and data that cannot train.

The fitted model keeps the structure it was fitted with: ``set_params`` of a
structural parameter (``n_components``, ``tie_features``) or of one that
fixes the parameter count (``fit_weights``) changes nothing until the next
fit. A fit refuses data with no observed entry and warns about columns with
none; ``partial_fit`` after ``fit`` starts a fresh online history.
"""

import warnings

import numpy as np
import pytest
from _reference import LAYOUTS, as_numpy
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skcoinmix import BernoulliMixtureEM, fit_report


def _binary(rng, n_samples=60, n_features=5):
    return (rng.uniform(size=(n_samples, n_features)) < 0.4).astype(np.float64)


CHANGES = [
    {"tie_features": True},
    {"n_components": 3},
    {"fit_weights": False},
    {"n_components": 1, "tie_features": True, "fit_weights": False},
]


def _everything_predicted(est, X):
    """What a fitted model says about ``X``, by name."""
    return {
        "predict_proba": est.predict_proba(X),
        "predict": est.predict(X),
        "score_samples": est.score_samples(X),
        "score": est.score(X),
        "bic": est.bic(X),
        "aic": est.aic(X),
        "names": est.get_feature_names_out(),
        "n_parameters": est.n_parameters_,
        "report": fit_report(est, X).to_dict(),
    }


@pytest.mark.parametrize("change", CHANGES, ids=repr)
def test_set_params_after_fit_changes_no_prediction(change, rng):
    X = _binary(rng)
    est = BernoulliMixtureEM(2, random_state=0).fit(X)
    before = _everything_predicted(est, X)
    est.set_params(**change)
    after = _everything_predicted(est, X)
    # The same arithmetic on the same fitted attributes: equal bit for bit.
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            assert_array_equal(after[key], value, err_msg=key)
        else:
            assert after[key] == value, key
    assert len(est.get_feature_names_out()) == est.weights_.shape[0] == 2

    # The next fit takes the new settings.
    est.fit(X)
    assert est.weights_.shape[0] == est.get_feature_names_out().shape[0]
    assert est.weights_.shape[0] == change.get("n_components", 2)
    if change.get("tie_features"):
        assert np.all(est.means_ == est.means_[:, :1])


def test_pandas_output_follows_the_fitted_components(rng):
    pd = pytest.importorskip("pandas")
    X = _binary(rng)
    est = BernoulliMixtureEM(2, random_state=0).set_output(transform="pandas")
    est.fit(X)
    est.set_params(n_components=3)
    out = est.transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["bernoullimixtureem0", "bernoullimixtureem1"]


def test_n_parameters_counts_the_fitted_model(rng):
    X = _binary(rng, n_features=6)
    for kwargs, expected in [
        ({"n_components": 3}, 3 * 6 + 2),
        ({"n_components": 3, "tie_features": True}, 3 + 2),
        ({"n_components": 3, "fit_weights": False}, 3 * 6),
        ({"n_components": 1}, 6),
    ]:
        est = BernoulliMixtureEM(random_state=0, **kwargs).fit(X)
        assert est.n_parameters_ == expected, kwargs
        # bic = -2 log L + p log N, from the attribute.
        log_likelihood = est.score(X) * X.shape[0]
        assert_allclose(
            est.bic(X), -2 * log_likelihood + expected * np.log(X.shape[0]), rtol=1e-12
        )
    est = BernoulliMixtureEM(2).partial_fit(X)
    assert est.n_parameters_ == 2 * 6 + 1


def test_get_feature_names_out_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted"):
        BernoulliMixtureEM(2).get_feature_names_out()


def _layouts_with_missing():
    return [name for name, layout in LAYOUTS.items() if layout.missing]


@pytest.mark.parametrize("layout", _layouts_with_missing())
@pytest.mark.parametrize("tie_features", [False, True])
def test_all_missing_data_is_refused(layout, tie_features):
    X = LAYOUTS[layout].convert(np.full((6, 3), np.nan))
    est = BernoulliMixtureEM(2, tie_features=tie_features)
    with pytest.raises(ValueError, match="no observed entry"):
        est.fit(X)
    assert not hasattr(est, "n_features_in_")  # nothing half-written
    with pytest.raises(ValueError, match="no observed entry"):
        est.partial_fit(X)
    assert not hasattr(est, "n_features_in_")


@pytest.mark.parametrize("layout", _layouts_with_missing())
def test_an_unobserved_column_warns_by_name(layout, rng):
    X = _binary(rng)
    X[rng.uniform(size=X.shape) < 0.1] = np.nan
    X[:, [1, 3]] = np.nan
    est = BernoulliMixtureEM(2, random_state=0)
    with pytest.warns(UserWarning, match=r"2 of the 5 columns .* column 1, column 3"):
        est.fit(LAYOUTS[layout].convert(X))
    assert np.all(np.isfinite(est.means_))
    # Predictions on the same data give no warning and a valid log-likelihood.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_prob = as_numpy(est.score_samples(LAYOUTS[layout].convert(X)))
    assert np.all(np.isfinite(log_prob)) and log_prob.max() <= 0


def test_tied_features_allow_unobserved_columns(rng):
    # Runs of tosses of different lengths: the longest run may be shorter than
    # the table is wide, and tied features need no probability per column.
    X = _binary(rng)
    X[:, -2:] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BernoulliMixtureEM(2, tie_features=True, random_state=0).fit(X)


def test_an_unobserved_column_is_named_from_a_dataframe(rng):
    pd = pytest.importorskip("pandas")
    X = _binary(rng, n_features=3)
    X[:, 2] = np.nan
    frame = pd.DataFrame(X, columns=["yes", "no", "never answered"])
    with pytest.warns(UserWarning, match="'never answered'"):
        BernoulliMixtureEM(2, random_state=0).fit(frame)


def test_predicting_all_missing_rows_is_valid(rng):
    X = _binary(rng)
    est = BernoulliMixtureEM(2, random_state=0).fit(X)
    unobserved = np.full((4, X.shape[1]), np.nan)
    # log sum_k w_k = log 1, up to the rounding of the weights' sum (a few ulp).
    assert_allclose(est.score_samples(unobserved), np.zeros(4), rtol=0, atol=1e-15)
    assert_allclose(est.predict_proba(unobserved), np.tile(est.weights_, (4, 1)))


def test_partial_fit_after_fit_starts_a_fresh_history(rng):
    X = _binary(rng)
    # Plain EM, tol=0: exactly max_iter bounds.
    est = BernoulliMixtureEM(2, random_state=0, max_iter=20, tol=0, accelerate=None)
    with pytest.warns(ConvergenceWarning):
        est.fit(X)
    assert len(est.lower_bounds_) == 20
    est.partial_fit(X[:30])
    assert est.n_steps_ == 1
    assert est.lower_bounds_ == [est.lower_bound_]
    est.partial_fit(X[30:])
    assert est.n_steps_ == 2
    assert len(est.lower_bounds_) == 2
    assert est.lower_bounds_[-1] == est.lower_bound_
    # A fit in between starts the fit's own history again.
    with pytest.warns(ConvergenceWarning):
        est.fit(X)
    assert len(est.lower_bounds_) == 20
    assert not hasattr(est, "n_steps_")
