"""scikit-learn's common estimator checks over instances that make them bite.

With the defaults, the checks' non-negative data binarise to all ones, so the
instances below also use ``binarize=0.5`` (the data then really vary), three
components, tied features and smoothing. The binomial model runs them with
``n_trials=1000``, above every count the checks make (its ``positive_only``
tag makes their data non-negative); its paired form needs an even number of
columns, which the checks do not keep, and is tested in test_binomial.py.
"""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from skcoinmix import BernoulliMixtureEM, BinomialMixtureEM, CategoricalMixtureEM

INSTANCES = [
    BernoulliMixtureEM(),
    BernoulliMixtureEM(n_components=3),
    BernoulliMixtureEM(n_components=3, binarize=0.5),
    BernoulliMixtureEM(n_components=3, tie_features=True, binarize=0.5),
    BernoulliMixtureEM(n_components=3, alpha=1.0, binarize=0.5),
    BernoulliMixtureEM(n_components=2, fit_weights=False, binarize=0.5),
    BinomialMixtureEM(n_trials=1000),
    BinomialMixtureEM(n_components=3, n_trials=1000),
    BinomialMixtureEM(n_components=3, n_trials=1000, alpha=1.0),
    BinomialMixtureEM(n_components=2, n_trials=1000, fit_weights=False),
    # The checks predict on rows not seen in fit, whose continuous values are
    # new categories: read as missing answers, as scikit-learn runs
    # OneHotEncoder's checks with unknown categories ignored.
    CategoricalMixtureEM(handle_unknown="missing"),
    CategoricalMixtureEM(n_components=3, handle_unknown="missing"),
    CategoricalMixtureEM(n_components=3, alpha=1.0, handle_unknown="missing"),
]

# The sparse-container checks call predict_proba and then read
# `classifier_tags.multi_class`, which only classifiers have: they cannot
# handle a valid non-classifier estimator that accepts sparse input and has
# predict_proba. Sparse input is tested in tests/test_bernoulli.py instead.
_SPARSE_CHECK_REASON = (
    "the check reads classifier_tags of any estimator with predict_proba; "
    "sparse input is tested in test_bernoulli.py"
)
# The k-means initialisation draws its random starts differently for a
# weighted row and its repeats, exactly as in scikit-learn's KMeans, which has
# the same expected failures. From the same start, EM with integer weights
# equals EM on repeated rows: test_sample_weight_equals_repeated_rows.
_KMEANS_WEIGHT_REASON = (
    "sample_weight is not equivalent to removing/repeating samples "
    "(the k-means initialisation, as for KMeans)"
)


def _weight_check_rows_differ(estimator):
    """Whether the sample-weight checks' data binarise to more than one row.

    Those checks (scikit-learn 1.6 to 1.9) fit ``RandomState(42).rand(15, 30)``:
    values in [0, 1), which ``binarize=0`` turns into all ones. Identical rows
    make every k-means start the same, weighted or repeated, so the check
    passes (an XPASS) unless the rows differ.
    """
    if not hasattr(estimator, "binarize"):
        return True  # counts: the rows differ as the data do
    if estimator.binarize is None:
        # These values are not 0/1: the fit fails, and the check must say so.
        return False
    X = np.random.RandomState(42).rand(15, 30)
    return len(np.unique(np.greater(X, estimator.binarize), axis=0)) > 1


def expected_failed_checks(estimator):
    failures = {}
    if estimator.__sklearn_tags__().input_tags.sparse:
        failures["check_estimator_sparse_array"] = _SPARSE_CHECK_REASON
        failures["check_estimator_sparse_matrix"] = _SPARSE_CHECK_REASON
    if (
        estimator.init_params == "kmeans"
        and estimator.n_components > 1
        and _weight_check_rows_differ(estimator)
    ):
        failures["check_sample_weight_equivalence_on_dense_data"] = (
            _KMEANS_WEIGHT_REASON
        )
        if estimator.__sklearn_tags__().input_tags.sparse:
            failures["check_sample_weight_equivalence_on_sparse_data"] = (
                _KMEANS_WEIGHT_REASON
            )
    return failures


@parametrize_with_checks(INSTANCES, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", INSTANCES[:1], ids=repr)
def test_check_estimator_passes(estimator):
    # check_estimator as a user calls it, with the documented expected failures.
    results = check_estimator(
        estimator,
        expected_failed_checks=expected_failed_checks(estimator),
        on_fail=None,
    )
    statuses = {result["status"] for result in results}
    assert statuses <= {"passed", "xfail"}, [
        (r["check_name"], r["exception"]) for r in results if r["status"] == "failed"
    ]
