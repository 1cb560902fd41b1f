"""Standard errors in fit_report and on the command line (``--se``).

The standard errors themselves are tested against poLCA and a finite-difference
oracle in tests/test_inference_se.py; here, that the report shows exactly them,
laid out as its item rows, in its class order.
"""

import json

import numpy as np
import pytest

from skcoinmix import (
    BernoulliMixtureEM,
    BinomialMixtureEM,
    CategoricalMixtureEM,
    fit_report,
)
from skcoinmix.cli import main
from skcoinmix.datasets import load_lca_example
from skcoinmix.inference import standard_errors


def stouffer_toby():
    X, counts = load_lca_example("stouffer_toby", as_patterns=True)
    est = BernoulliMixtureEM(
        2, init_params="random", n_init=5, tol=1e-12, max_iter=10000, random_state=0
    ).fit(X, sample_weight=counts)
    return est, X, counts


def test_report_shows_the_bernoulli_standard_errors_in_its_class_order():
    est, X, counts = stouffer_toby()
    se = standard_errors(est, X, sample_weight=counts)
    for order in ([0, 1], [1, 0]):
        report = fit_report(
            est, X, sample_weight=counts, standard_errors=se, class_order=order
        )
        # The same numbers, only moved: exact equality.
        assert np.array_equal(report.class_weight_se, se.weights[order], equal_nan=True)
        assert np.array_equal(
            report.item_probability_se, se.probs[order], equal_nan=True
        )
        assert report.se_method == "opg"
        # Each SE stays beside its own estimate.
        assert report.class_weights == tuple(est.weights_[order])
    text = str(report)
    assert "standard error" in text
    assert "Standard errors (outer product of the scores, as poLCA" in text


def test_report_without_standard_errors_prints_none():
    est, X, counts = stouffer_toby()
    report = fit_report(est, X, sample_weight=counts)
    assert report.class_weight_se is None and report.item_probability_se is None
    assert "Standard errors" not in str(report)
    assert "standard error" not in str(report)


def test_report_lays_categorical_standard_errors_out_by_category(rng):
    X = rng.integers(3, size=(300, 3))
    X[:, 1] = np.minimum(X[:, 1], 1)  # two categories
    est = CategoricalMixtureEM(2, tol=1e-10, max_iter=5000, random_state=0).fit(X)
    se = standard_errors(est, X, method="hessian")
    report = fit_report(est, X, standard_errors=se)
    # NaN marks a probability on the boundary, in both.
    assert np.array_equal(
        report.item_probability_se, np.hstack(se.probs), equal_nan=True
    )
    assert len(report.item_labels) == np.hstack(se.probs).shape[1]
    assert "observed information" in str(report)


def test_report_shows_one_standard_error_per_class_for_tied_features(rng):
    X = (rng.random((200, 5)) < rng.choice([0.2, 0.8], size=(200, 1))).astype(float)
    est = BernoulliMixtureEM(2, tie_features=True, tol=1e-10, random_state=0)
    est.fit(X)
    se = standard_errors(est, X)
    report = fit_report(est, X, standard_errors=se)
    assert report.item_labels == ("all items (tied)",)
    assert np.array_equal(report.item_probability_se, se.probs[:, :1], equal_nan=True)


def test_report_shows_binomial_standard_errors(rng):
    X = rng.binomial(6, rng.choice([0.2, 0.7], size=(150, 1)), size=(150, 3))
    est = BinomialMixtureEM(2, n_trials=6, tol=1e-10, random_state=0).fit(X)
    se = standard_errors(est, X)
    report = fit_report(est, X, standard_errors=se)
    assert np.array_equal(report.item_probability_se, se.probs, equal_nan=True)


def test_report_refuses_standard_errors_of_another_model():
    est, X, counts = stouffer_toby()
    other = BernoulliMixtureEM(3, random_state=0).fit(X, sample_weight=counts)
    se = standard_errors(other, X, sample_weight=counts)
    with pytest.raises(ValueError, match="standard_errors are not shaped"):
        fit_report(est, X, sample_weight=counts, standard_errors=se)


def test_cli_se_reports_the_standard_errors(tmp_path, capsys):
    X, counts = load_lca_example("stouffer_toby", as_patterns=True)
    path = tmp_path / "st.csv"
    rows = ["A,B,C,D,count"] + [
        ",".join(str(int(v)) for v in [*row, count])
        for row, count in zip(X, counts, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    argv = [
        "fit", str(path), "--n-components", "2", "--n-init", "5",
        "--random-state", "0", "--tol", "1e-12", "--max-iter", "10000",
        "--weights-column", "count", "--se", "hessian", "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    est = BernoulliMixtureEM(
        2, n_init=5, tol=1e-12, max_iter=10000, random_state=0
    ).fit(X, sample_weight=counts)
    se = standard_errors(est, X, sample_weight=counts, method="hessian")
    # The command builds the same estimator from the same file: the same
    # arithmetic, up to the order of the summed rows of the file.
    np.testing.assert_allclose(report["class_weight_se"], se.weights, rtol=1e-9)
    np.testing.assert_allclose(report["item_probability_se"], se.probs, rtol=1e-9)
    assert report["se_method"] == "hessian"


def test_cli_se_refuses_an_unknown_method(tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n0,1\n1,0\n1,1\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["fit", str(path), "--n-components", "1", "--se", "sandwich"])
    assert "--se" in capsys.readouterr().err
