"""Fitted models saved and loaded (pickle, joblib, skops) predict identically."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from _reference import LAYOUTS, as_numpy, random_problem
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM


def _fitted(kind):
    """A model fitted as ``kind``, and data to predict on (same storage)."""
    rng = np.random.default_rng(0)
    X, _, _ = random_problem(rng, n_samples=150, n_features=7)
    params = dict(n_components=3, random_state=0)
    if kind == "missing":
        X[rng.uniform(size=X.shape) < 0.2] = np.nan
    layout = {
        "dense": "uint8",
        "sparse": "csr",
        "missing": "float64 NaN",
        "dask": "dask float64 NaN",
    }.get(kind, "float64")
    if kind == "dask":
        X[rng.uniform(size=X.shape) < 0.2] = np.nan
    data = LAYOUTS[layout].convert(X)
    if kind == "tied":
        params["tie_features"] = True
    if kind == "named":
        data = pd.DataFrame(X, columns=[f"q{j}" for j in range(X.shape[1])])
    est = BernoulliMixtureEM(**params)
    if kind == "online":
        est.partial_fit(data[:75]).partial_fit(data[75:])
    else:
        est.fit(data, sample_weight=rng.uniform(0.5, 2.0, size=X.shape[0]))
    return est, data


KINDS = [
    "dense",
    "sparse",
    "missing",
    "tied",
    "named",
    "online",
    *(["dask"] if "dask float64 NaN" in LAYOUTS else []),
]


def round_trips(tmp_path):
    """Each way of saving and loading, as a function of the estimator."""

    def with_pickle(est):
        return pickle.loads(pickle.dumps(est, protocol=pickle.HIGHEST_PROTOCOL))

    def with_joblib(est):
        path = tmp_path / "model.joblib"
        joblib.dump(est, path)
        return joblib.load(path)

    def with_joblib_compressed(est):
        buffer = io.BytesIO()
        joblib.dump(est, buffer, compress=3)
        buffer.seek(0)
        return joblib.load(buffer)

    return {
        "pickle": with_pickle,
        "joblib": with_joblib,
        "joblib compressed": with_joblib_compressed,
    }


def assert_same_model(restored, est, data):
    assert type(restored) is type(est)
    assert restored.get_params().keys() == est.get_params().keys()
    assert repr(restored) == repr(est)
    fitted = [key for key in vars(est) if key.endswith("_")]
    assert [key for key in vars(restored) if key.endswith("_")] == fitted
    for method in ["predict_proba", "score_samples", "predict", "transform"]:
        assert_array_equal(
            as_numpy(getattr(restored, method)(data)),
            as_numpy(getattr(est, method)(data)),
        )
    assert restored.score(data) == est.score(data)
    assert restored.bic(data) == est.bic(data)
    # sample draws from random_state, the same after loading.
    for got, want in zip(restored.sample(50), est.sample(50), strict=True):
        assert_array_equal(got, want)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("how", ["pickle", "joblib", "joblib compressed"])
def test_round_trip_predicts_identically(kind, how, tmp_path):
    est, data = _fitted(kind)
    restored = round_trips(tmp_path)[how](est)
    assert_same_model(restored, est, data)


@pytest.mark.parametrize("kind", ["dense", "online"])
def test_loaded_model_continues_as_the_original(kind, tmp_path):
    # A warm-started refit and a further partial_fit (which needs the saved
    # running statistics) go on exactly as they would have.
    est, data = _fitted(kind)
    restored = round_trips(tmp_path)["joblib"](est)
    assert_array_equal(restored.partial_fit(data).means_, est.partial_fit(data).means_)
    assert restored.n_steps_ == est.n_steps_
    for model in [est, restored]:
        model.set_params(warm_start=True, max_iter=3, tol=0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(data)
    assert_array_equal(restored.means_, est.means_)
    assert restored.lower_bounds_ == est.lower_bounds_


@pytest.mark.parametrize("kind", KINDS)
def test_skops_round_trip_with_explicitly_trusted_types(kind, tmp_path):
    # skops.io refuses to load any type not on its allow-list unless the
    # caller trusts it by name; unlike pickle it never runs code from the
    # file. The only type to trust is the estimator itself.
    sio = pytest.importorskip(
        "skops.io", reason="the optional skops persistence test needs skops"
    )
    est, data = _fitted(kind)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == ["skcoinmix._bernoulli.BernoulliMixtureEM"]
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path)
    restored = sio.load(path, trusted=untrusted)
    assert_same_model(restored, est, data)
