"""Bad input at every public entry point: a clear error, and nothing changed.

One table: each row names the entry point, the input, the exception and a
pattern its message must match, which names the problem. Every call is made on
a fresh and/or a fitted estimator; afterwards the estimator must be exactly as
it was (parameters and fitted state, compared deeply), so a failed refit never
leaves a half-fitted model.

The command line reports bad input as exit status 2 with a message on stderr
(``python -m skcoinmix fit``, run in-process through ``main``).
"""

import copy
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.mixture import GaussianMixture

from skcoinmix import BernoulliMixtureEM, fit_report
from skcoinmix.__main__ import main

#: Six rows, four items: enough for two components.
X_GOOD = np.array(
    [
        [0, 1, 1, 0],
        [1, 1, 0, 0],
        [0, 0, 1, 1],
        [1, 0, 1, 0],
        [1, 1, 1, 0],
        [0, 0, 0, 1],
    ],
    dtype=np.float64,
)
NAMES = ["q1", "q2", "q3", "q4"]
N, D = X_GOOD.shape

FRESH, FITTED = "fresh", "fitted"
PREDICT_METHODS = [
    "predict",
    "predict_proba",
    "score",
    "score_samples",
    "transform",
    "bic",
    "aic",
]
WEIGHTED_METHODS = ["fit", "partial_fit", "score", "bic", "aic", "fit_report"]


@dataclass
class Bad:
    """One row of the table."""

    entry: str  # a method name, "fit_report" or "cli"
    X: object = None  # None: X_GOOD
    error: type = ValueError
    match: str = ""
    params: dict = field(default_factory=dict)  # set before the call
    kwargs: dict = field(default_factory=dict)
    states: tuple = (FRESH, FITTED)
    frame: bool = False  # fit (and call) with named columns


def _sparse(values):
    return sp.csr_matrix(np.asarray(values, dtype=np.float64))


def _rows():
    """(id, Bad or pytest.param) pairs."""
    # --- constructor parameters, checked by fit and partial_fit
    params = {
        "n_components=0": ({"n_components": 0}, r"'n_components' parameter.*Got 0"),
        "n_components=1.5": ({"n_components": 1.5}, r"'n_components'.*must be an int"),
        "n_components='2'": ({"n_components": "2"}, r"'n_components'.*Got '2'"),
        "tol<0": ({"tol": -1.0}, r"'tol' parameter.*range \[0.0, inf\)"),
        "tol=nan": ({"tol": np.nan}, r"'tol' parameter.*Got nan"),
        "max_iter<0": ({"max_iter": -1}, r"'max_iter' parameter.*Got -1"),
        "n_init=0": ({"n_init": 0}, r"'n_init' parameter.*Got 0"),
        "init_params": ({"init_params": "kmeans2"}, r"'init_params'.*'kmeans'"),
        "alpha<0": ({"alpha": -0.5}, r"'alpha' parameter.*Got -0.5"),
        "alpha=nan": ({"alpha": np.nan}, r"'alpha' parameter.*Got nan"),
        "binarize='yes'": ({"binarize": "yes"}, r"'binarize' parameter.*Got 'yes'"),
        "binarize=nan": ({"binarize": np.nan}, r"'binarize' parameter.*Got nan"),
        "binarize=inf": ({"binarize": np.inf}, r"'binarize' parameter.*Got inf"),
        "tie_features": ({"tie_features": "no"}, r"'tie_features'.*bool"),
        "fit_weights": ({"fit_weights": 1.5}, r"'fit_weights'.*bool"),
        "warm_start": ({"warm_start": "yes"}, r"'warm_start'.*bool"),
        "random_state": ({"random_state": "seed"}, r"'random_state' parameter"),
        "verbose_interval": ({"verbose_interval": 0}, r"'verbose_interval'.*Got 0"),
        "n_jobs": ({"n_jobs": 1.5}, r"'n_jobs' parameter.*Got 1.5"),
        "learning_decay": ({"learning_decay": 0.5}, r"'learning_decay'.*\(0.5, 1.0\]"),
        "learning_offset": ({"learning_offset": -1}, r"'learning_offset'.*Got -1"),
        "weights_init shape": (
            {"weights_init": [1.0]},
            r"'weights_init' should have the shape \(n_components,\) = \(2,\), "
            r"but got \(1,\)",
        ),
        "weights_init 2-D": (
            {"weights_init": [[0.5, 0.5]]},
            r"'weights_init' should have the shape .* but got \(1, 2\)",
        ),
        "weights_init range": (
            {"weights_init": [1.5, -0.5]},
            r"'weights_init' should be in the range \[0, 1\].*min value -0.5",
        ),
        "weights_init sum": (
            {"weights_init": [0.5, 0.6]},
            r"'weights_init' should be normalized \(sum to 1\).*1.1",
        ),
        "weights_init NaN": (
            {"weights_init": [np.nan, 1.0]},
            r"'weights_init' contains NaN",
        ),
        "means_init shape": (
            {"means_init": np.full((2, 3), 0.5)},
            r"'means_init' should have the shape \(2, 4\).*but got \(2, 3\)",
        ),
        "means_init 1-D": (
            {"means_init": np.full(4, 0.5)},
            r"'means_init' should have the shape \(2, 4\).*but got \(4,\)",
        ),
        "means_init range": (
            {"means_init": np.full((2, 4), 1.5)},
            r"'means_init' holds probabilities .* range \[0, 1\].*max value 1.5",
        ),
        "means_init negative": (
            {"means_init": np.full((2, 4), -0.1)},
            r"'means_init' holds probabilities .*min value -0.1",
        ),
        "means_init inf": (
            {"means_init": np.full((2, 4), np.inf)},
            r"'means_init' contains NaN or infinity",
        ),
        "means_init tied, not constant": (
            {"means_init": [[0.1, 0.2, 0.3, 0.4]] * 2, "tie_features": True},
            r"tie_features=True .* each row of 'means_init' must be constant",
        ),
        "more components than rows": (
            {"n_components": N + 1},
            rf"n_samples >= max\(2, n_components\).*n_components = {N + 1}, "
            rf"n_samples = {N}",
        ),
    }
    for name, (values, match) in params.items():
        yield f"fit: {name}", Bad("fit", params=values, match=match)
    # The first partial_fit initialises the model and checks everything; a
    # later one continues from the fitted parameters (the initial arrays are
    # not used again).
    for name in ["n_components=0", "weights_init sum", "means_init shape"]:
        values, match = params[name]
        yield (
            f"partial_fit: {name}",
            Bad("partial_fit", params=values, match=match, states=(FRESH,)),
        )
    # Parameters changed after fitting, then the model is continued:
    # partial_fit validates them again (scikit-learn's _fit_context only does
    # on the first call), and continuing needs the fitted n_components and
    # tie_features.
    for name in ["n_components=0", "alpha<0", "learning_decay"]:
        values, match = params[name]
        yield (
            f"partial_fit after fit: {name}",
            Bad("partial_fit", params=values, match=match, states=(FITTED,)),
        )
    for entry, extra in [("partial_fit", {}), ("fit", {"warm_start": True})]:
        for values, match in [
            ({"n_components": 3}, r"n_components"),
            ({"tie_features": True}, r"tie_features"),
        ]:
            label = ", ".join(f"{k}={v}" for k, v in {**extra, **values}.items())
            yield (
                f"{entry} after fit: {label}",
                Bad(
                    entry,
                    params={**extra, **values},
                    match=rf"{match}.*fitted|fitted.*{match}",
                    states=(FITTED,),
                ),
            )
    for name, values in {
        "weights_init strings": ["a", "b"],
        "means_init strings": [["a"] * 4] * 2,
    }.items():
        parameter = name.split()[0]
        yield (
            f"fit: {name}",
            Bad(
                "fit",
                params={parameter: values},
                error=TypeError,
                match=rf"'{parameter}' should be an array of numbers",
            ),
        )

    # --- X, wherever it is given
    bad_X = {
        "1-D": ([0, 1, 1, 0], r"Expected 2D array, got 1D array"),
        "3-D": (np.zeros((N, D, 2)), r"Found array with dim 3"),
        "scalar": (1.0, r"Expected 2D array, got scalar array"),
        "no rows": (np.zeros((0, D)), r"Found array with 0 sample\(s\)"),
        "strings": ([["a", "b", "c", "d"]] * N, r"not compatible with .*strings"),
        "a string among numbers": (
            np.array([[0, 1, "yes", 0]] * N, dtype=object),
            r"could not convert string to float: 'yes'",
        ),
        "complex": (X_GOOD * 1j, r"Complex data not supported"),
        "inf": (np.where(X_GOOD == 1, np.inf, 0), r"Input X contains infinity"),
        "-inf": (np.where(X_GOOD == 1, -np.inf, 0), r"Input X contains infinity"),
        "sparse NaN": (
            _sparse(np.where(X_GOOD == 1, np.nan, 0)),
            r"Sparse input with NaN \(missing\) entries is not supported",
        ),
        "sparse inf": (_sparse(np.where(X_GOOD == 1, np.inf, 0)), r"infinity"),
    }
    for entry in ["fit", "partial_fit", *PREDICT_METHODS, "fit_report"]:
        states = (FRESH, FITTED) if entry in ("fit", "partial_fit") else (FITTED,)
        for name, (X, match) in bad_X.items():
            yield f"{entry}: X {name}", Bad(entry, X=X, match=match, states=states)
        not_binary = {
            "dense": X_GOOD * 2,
            "sparse": _sparse(X_GOOD * 2),
            "negative": -X_GOOD,
        }
        for name, X in not_binary.items():
            yield (
                f"{entry}: X not binary ({name}), binarize=None",
                Bad(
                    entry,
                    X=X,
                    params={"binarize": None},
                    states=states,
                    match=r"With binarize=None, X must contain only 0 and 1, but "
                    r"found the values -?[12]\.0.*Binarizer",
                ),
            )

    for name, (X, match) in {
        "no features": (np.zeros((N, 0)), r"Found array with 0 feature\(s\)"),
        "ragged rows": ([[0, 1], [1], [1, 0]], r"inhomogeneous shape"),
    }.items():
        yield f"fit: X {name}", Bad("fit", X=X, match=match)
    yield (
        "fit: one row",
        Bad(
            "fit",
            X=X_GOOD[:1],
            params={"n_components": 1},
            match=r"n_samples >= max\(2, n_components\).*n_samples = 1",
        ),
    )
    yield (
        "fit: sparse, binarize < 0",
        Bad(
            "fit",
            X=_sparse(X_GOOD),
            params={"binarize": -1.0},
            match=r"Cannot binarize sparse data with binarize=-1.0 < 0",
        ),
    )
    yield (
        "partial_fit: first batch smaller than n_components",
        Bad(
            "partial_fit",
            X=X_GOOD[:1],
            states=(FRESH,),
            match=r"first batch .* needs at least n_components = 2 rows, but has 1",
        ),
    )

    # --- after fitting: the features must match
    for entry in ["partial_fit", *PREDICT_METHODS, "fit_report"]:
        yield (
            f"{entry}: other number of features",
            Bad(
                entry,
                X=X_GOOD[:, :3],
                states=(FITTED,),
                match=r"X has 3 features, but BernoulliMixtureEM is expecting 4",
            ),
        )
        yield (
            f"{entry}: other feature names",
            Bad(
                entry,
                X=pd.DataFrame(X_GOOD, columns=[*NAMES[:3], "other"]),
                states=(FITTED,),
                frame=True,
                match=r"(?s)feature names should match those that were passed "
                r"during fit.*unseen at fit time:\n- other",
            ),
        )
        yield (
            f"{entry}: feature names in another order",
            Bad(
                entry,
                X=pd.DataFrame(X_GOOD[:, ::-1], columns=NAMES[::-1]),
                states=(FITTED,),
                frame=True,
                match=r"Feature names must be in the same order as they were in fit",
            ),
        )
    yield (
        "fit: warm start on other features",
        Bad(
            "fit",
            X=X_GOOD[:, :3],
            params={"warm_start": True},
            states=(FITTED,),
            match=r"X has 3 features, but BernoulliMixtureEM is expecting 4",
        ),
    )

    # --- sample_weight
    bad_weights = {
        "negative": (
            [1, -1, 1, 1, 1, 1],
            ValueError,
            r"Negative values .*sample_weight",
        ),
        "all zero": (
            np.zeros(N),
            ValueError,
            # The installed scikit-learn's check, or skcoinmix's own (older).
            r"Sample weights must contain at least one non-zero number"
            r"|sample_weight sums to zero",
        ),
        "too short": (
            np.ones(2),
            ValueError,
            r"sample_weight.shape == \(2,\), expected",
        ),
        "2-D": (np.ones((N, 1)), ValueError, r"Sample weights must be 1D"),
        "NaN": ([1, np.nan, 1, 1, 1, 1], ValueError, r"sample_weight contains NaN"),
        "inf": (
            [1, np.inf, 1, 1, 1, 1],
            ValueError,
            r"sample_weight contains infinity",
        ),
        "strings": (
            ["a"] * N,
            TypeError,
            r"sample_weight should be an array of non-negative numbers.*'a'",
        ),
        "sparse": (
            sp.csr_matrix(np.ones((1, N))),
            TypeError,
            r"Sparse data was passed for sample_weight",
        ),
    }
    for entry in WEIGHTED_METHODS:
        states = (FRESH, FITTED) if entry in ("fit", "partial_fit") else (FITTED,)
        for name, (weights, error, match) in bad_weights.items():
            yield (
                f"{entry}: sample_weight {name}",
                Bad(
                    entry,
                    kwargs={"sample_weight": weights},
                    error=error,
                    match=match,
                    states=states,
                ),
            )
    yield (
        "fit: fewer positive weights than components",
        Bad(
            "fit",
            kwargs={"sample_weight": [0, 0, 0, 0, 0, 1]},
            match=r"Only 1 rows have a positive sample_weight, but n_components=2 "
            r"needs at least 2",
        ),
    )

    # --- not fitted
    for entry in [*PREDICT_METHODS, "fit_report"]:
        yield (
            f"{entry}: not fitted",
            Bad(entry, states=(FRESH,), match=r"not fitted yet. Call 'fit'"),
        )
    yield (
        "sample: not fitted",
        Bad("sample", kwargs={"n_samples": 3}, states=(FRESH,), match="not fitted"),
    )

    # --- sample
    for label, value in {
        "0": 0,
        "-1": -1,
        "2.5": 2.5,
        "'3'": "3",
        "True": True,
        "None": None,
        "np.int64(0)": np.int64(0),
    }.items():
        yield (
            f"sample: n_samples={label}",
            Bad(
                "sample",
                kwargs={"n_samples": value},
                states=(FITTED,),
                match=r"Invalid value for 'n_samples'.*integer of at least 1",
            ),
        )

    # --- fit_report: the estimator
    for name, estimator in {
        "a string": "BernoulliMixtureEM",
        "the class": BernoulliMixtureEM,
        "another mixture": GaussianMixture(2),
    }.items():
        yield (
            f"fit_report: {name}",
            Bad(
                "fit_report",
                kwargs={"estimator": estimator},
                error=TypeError,
                states=(FITTED,),
                match=r"fit_report needs a fitted skcoinmix mixture .*, but got "
                r"(a|the class) \w+",
            ),
        )


ROWS = list(_rows())


def _bad(row):
    return row.values[0] if hasattr(row, "values") else row


def test_the_table_has_no_duplicate_rows_and_only_value_and_type_errors():
    ids = [name for name, _ in ROWS]
    assert len(ids) == len(set(ids))
    for row in (_bad(row) for _, row in ROWS):
        assert issubclass(row.error, ValueError | TypeError)
    entries = {_bad(row).entry for _, row in ROWS}
    assert entries == {
        "fit",
        "partial_fit",
        *PREDICT_METHODS,
        "sample",
        "fit_report",
    }


def assert_same_state(after, before, where="vars(estimator)"):
    """Deep equality: arrays by value and dtype, containers item by item."""
    assert type(after) is type(before), where
    if isinstance(before, np.ndarray):
        assert after.dtype == before.dtype and after.shape == before.shape, where
        equal_nan = before.dtype.kind in "fc"
        assert np.array_equal(after, before, equal_nan=equal_nan), where
    elif isinstance(before, dict):
        assert after.keys() == before.keys(), where
        for key in before:
            assert_same_state(after[key], before[key], f"{where}[{key!r}]")
    elif isinstance(before, list | tuple):
        assert len(after) == len(before), where
        for i, (a, b) in enumerate(zip(after, before, strict=True)):
            assert_same_state(a, b, f"{where}[{i}]")
    elif isinstance(before, float) and np.isnan(before):
        assert np.isnan(after), where
    else:
        assert after == before, where


def call(row, estimator):
    X = X_GOOD if row.X is None else row.X
    if row.frame and row.X is None:
        X = pd.DataFrame(X, columns=NAMES)
    kwargs = dict(row.kwargs)
    if row.entry == "fit_report":
        return fit_report(kwargs.pop("estimator", estimator), X, **kwargs)
    if row.entry == "sample":
        return estimator.sample(**kwargs)
    return getattr(estimator, row.entry)(X, **kwargs)


@pytest.mark.parametrize(
    "row", [row for _, row in ROWS], ids=[name for name, _ in ROWS]
)
def test_bad_input_is_a_clear_error_and_changes_nothing(row):
    for state in row.states:
        estimator = BernoulliMixtureEM(2, random_state=0)
        if state == FITTED:
            estimator.fit(pd.DataFrame(X_GOOD, columns=NAMES) if row.frame else X_GOOD)
        estimator.set_params(**row.params)
        before = copy.deepcopy(vars(estimator))
        with pytest.raises(row.error, match=row.match):
            call(row, estimator)
        assert_same_state(vars(estimator), before, f"vars(estimator) ({state})")


# ------------------------------------------------------------ command line
CLI_ROWS = {
    "empty file": ("", ["--n-components", "2"], r"is empty: it needs a header"),
    "ragged rows": (
        "a,b,c\n0,1,0\n1,0\n",
        ["--n-components", "2"],
        r"line 3 has 2 cells but the header has 3",
    ),
    # Under --model auto, values other than 0/1 are categories.
    "not binary": (
        "a,b\n0,1\n2,0\n1,1\n",
        ["--n-components", "2", "--model", "bernoulli"],
        r"column 'a' is not binary: found '2' \(line 3\)",
    ),
    "words": (
        "a,b\n0,1\nyes,0\n1,1\n",
        ["--n-components", "2", "--model", "bernoulli"],
        r"found 'yes'",
    ),
    "inf": (
        "a,b\n0,1\ninf,0\n1,1\n",
        ["--n-components", "2", "--model", "bernoulli"],
        r"found 'inf'",
    ),
    "fewer rows than classes": (
        "a,b\n0,1\n1,0\n",
        ["--n-components", "3"],
        r"3 classes need at least 3 data rows",
    ),
    "negative weight": (
        "a,b,count\n0,1,2\n1,0,-1\n1,1,1\n",
        ["--n-components", "2", "--weights-column", "count"],
        r"the weight in column 'count' is '-1', not a non-negative number",
    ),
    "all-zero weights": (
        "a,b,count\n0,1,0\n1,0,0\n1,1,0\n",
        ["--n-components", "2", "--weights-column", "count"],
        r"are all zero",
    ),
    "n_components 0": (
        "a,b\n0,1\n1,0\n",
        ["--n-components", "0"],
        r"argument --n-components: must be a number of classes",
    ),
    "negative tol": (
        "a,b\n0,1\n1,0\n",
        ["--n-components", "2", "--tol", "-1"],
        r"argument --tol: must be a finite number >= 0",
    ),
}


@pytest.mark.parametrize("name", CLI_ROWS)
def test_cli_bad_input_exits_2_with_a_message(name, tmp_path, capsys):
    text, options, match = CLI_ROWS[name]
    path = tmp_path / "answers.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        # As `python -m skcoinmix` does: raise SystemExit(main()).
        raise SystemExit(main(["fit", str(path), *options]))
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    assert "python -m skcoinmix fit: error: " in captured.err
    assert re.search(match, captured.err), captured.err
