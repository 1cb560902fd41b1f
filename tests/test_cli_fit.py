"""Tests of ``python -m skcoinmix fit`` (skcoinmix/cli/_fit.py and _csv.py)."""

import csv
import dataclasses
import io
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from skcoinmix import BernoulliMixtureEM, BinomialMixtureEM, fit_report
from skcoinmix.cli import _models, main
from skcoinmix.cli._csv import (
    NUMBERS,
    DataError,
    format_posteriors,
    parse_cell,
    parse_table,
    read_table,
)
from skcoinmix.datasets import make_bernoulli_mixture

#: The repository root, so that a subprocess imports this very package.

#: Settings of every fit here: few starts, so that the tests stay fast.
N_INIT = 3
SEED = 0

#: Three classes, five items.
TRUE_WEIGHTS = [0.5, 0.3, 0.2]
TRUE_MEANS = [
    [0.9, 0.8, 0.9, 0.1, 0.2],
    [0.1, 0.2, 0.1, 0.9, 0.8],
    [0.9, 0.9, 0.1, 0.1, 0.9],
]
COLUMNS = ["q1", "q2", "q3", "q4", "q5"]

#: How the missing cells are written, in turn.
MISSING_CELLS = ("", "NA", "nan", " NA ", "NaN")


def make_data(n_samples=120, missing=0.0, random_state=SEED):
    """0/1 data from the three classes, NaN in a share ``missing`` of cells."""
    X, _ = make_bernoulli_mixture(n_samples, TRUE_WEIGHTS, TRUE_MEANS, random_state)
    X = X.astype(np.float64)
    if missing:
        mask = np.random.default_rng(random_state).random(X.shape) < missing
        X[mask] = np.nan
    return X


def csv_text(X, columns=COLUMNS, weights=None, weights_column="count"):
    """``X`` as CSV; NaN written as each of MISSING_CELLS in turn, 1 as "1.0"."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = list(columns) + ([weights_column] if weights is not None else [])
    writer.writerow(header)
    n_missing = 0
    for i, row in enumerate(X):
        cells = []
        for value in row:
            if math.isnan(value):
                cells.append(MISSING_CELLS[n_missing % len(MISSING_CELLS)])
                n_missing += 1
            else:
                cells.append("1.0" if value == 1 and i % 7 == 0 else f"{value:.0f}")
        if weights is not None:
            cells.append(f"{weights[i]:g}")
        writer.writerow(cells)
    return out.getvalue()


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def fitted(X, n_components, sample_weight=None, binarize=None):
    """What the command fits, in-process, with the same settings."""
    est = BernoulliMixtureEM(
        n_components=n_components,
        n_init=N_INIT,
        tol=1e-8,
        max_iter=5000,
        random_state=SEED,
        binarize=binarize,
    )
    return est.fit(X, sample_weight=sample_weight)


def fit_args(path, n_components, *extra):
    return [
        "fit",
        path,
        "--n-components",
        str(n_components),
        "--n-init",
        str(N_INIT),
        "--random-state",
        str(SEED),
        *extra,
    ]


def read_posteriors(path):
    with open(path, newline="") as stream:
        rows = list(csv.reader(stream))
    return rows[0], np.array(rows[1:], dtype=np.float64)


def table_lines(output):
    """The lines of the comparison table: those starting with a number K."""
    return [line for line in output.splitlines() if line.strip()[:1].isdigit()]


# ------------------------------------------------------------ subprocess
@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory, run_cli):
    """``python -m skcoinmix fit`` on three files, in parallel.

    Returns
    -------
    runs : dict of str to (subprocess.CompletedProcess, dict)
        Each run and the data it was given (X, paths).
    """
    folder = tmp_path_factory.mktemp("cli_fit")
    X_missing = make_data(missing=0.1)
    X = make_data(random_state=1)
    cases = {
        "json": (
            X_missing,
            fit_args(
                write(folder / "missing.csv", csv_text(X_missing)),
                2,
                "--json",
                "--posteriors",
                str(folder / "posteriors.csv"),
            ),
        ),
        "range": (
            X,
            fit_args(write(folder / "complete.csv", csv_text(X)), "1-3"),
        ),
        "ragged": (
            None,
            fit_args(write(folder / "ragged.csv", "a,b,c\n0,1,0\n1,0\n"), 2),
        ),
    }
    results = run_cli({name: args for name, (_, args) in cases.items()}, folder)
    return {
        name: (result, {"X": cases[name][0], "folder": folder})
        for name, result in results.items()
    }


def test_module_fit_json_matches_the_estimator(cli_runs):
    result, data = cli_runs["json"]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Warning" not in result.stderr
    X = data["X"]
    assert np.isnan(X).sum() > 20  # every spelling of a missing cell is used
    report = json.loads(result.stdout)
    est = fitted(X, 2)
    expected = fit_report(est, X)
    assert report["log_likelihood"] == pytest.approx(expected.log_likelihood, rel=1e-12)
    assert report["log_likelihood"] == pytest.approx(est.score(X) * len(X), rel=1e-12)
    assert report["bic"] == pytest.approx(est.bic(X), rel=1e-12)
    assert report["n_samples"] == X.shape[0]
    assert report["item_labels"] == COLUMNS
    np.testing.assert_allclose(report["item_probabilities"], est.means_, rtol=1e-12)

    header, post = read_posteriors(data["folder"] / "posteriors.csv")
    assert header == ["class_1", "class_2", "modal_class"]
    assert post.shape == (X.shape[0], 3)
    np.testing.assert_allclose(post[:, :2].sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(post[:, 2], post[:, :2].argmax(axis=1) + 1)
    np.testing.assert_allclose(post[:, :2], est.predict_proba(X), rtol=1e-12)


def test_module_fit_range_marks_the_lowest_bic(cli_runs):
    result, data = cli_runs["range"]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    X = data["X"]
    lines = table_lines(result.stdout)
    assert [line.split()[0] for line in lines] == ["1", "2", "3"]
    bics = [fitted(X, k).bic(X) for k in (1, 2, 3)]
    best = int(np.argmin(bics))
    assert best == 1  # neither end of the range: the mark follows the BICs
    for k, (line, bic) in enumerate(zip(lines, bics, strict=True)):
        assert f"{bic:.4f}" in line.split()
        assert ("lowest BIC" in line) == (k == best)


def test_module_fit_bad_file_exits_2_without_traceback(cli_runs):
    result, _ = cli_runs["ragged"]
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "python -m skcoinmix fit: error: line 3 has 2 cells but the header has "
        "3 columns."
    )


# ------------------------------------------------------------ in-process
def run_json(capsys, argv):
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return json.loads(captured.out)


def test_fit_text_report(tmp_path, capsys):
    X = make_data(missing=0.05)
    path = write(tmp_path / "data.csv", csv_text(X))
    assert main(fit_args(path, 3)) == 0
    out = capsys.readouterr().out
    report = fit_report(fitted(X, 3), X)
    names = {f"item {j}": name for j, name in enumerate(COLUMNS)}
    report = dataclasses.replace(
        report,
        item_labels=tuple(COLUMNS),
        largest_bivariate_residuals=tuple(
            (names[a], names[b], value, df)
            for a, b, value, df in report.largest_bivariate_residuals
        ),
    )
    assert f"Data: {path!r}, 120 rows, 5 items" in out
    assert f"{np.isnan(X).sum()} missing answers" in out
    assert "random_state=0" in out
    assert str(report) in out
    line = next(line for line in out.splitlines() if "maximum log-likelihood" in line)
    assert line.split()[-1] == f"{report.log_likelihood:.4f}"
    # The items are named after the columns, in the item table and in the
    # pairs of the bivariate residuals.
    pairs = report.largest_bivariate_residuals
    assert out.count("q4") == 1 + sum("q4" in pair[:2] for pair in pairs)


def test_fit_weights_column_equals_expanded_rows(tmp_path, capsys):
    X = make_data(n_samples=300)
    patterns, counts = np.unique(X, axis=0, return_counts=True)
    assert len(patterns) < 40  # a real table of response patterns
    weighted = run_json(
        capsys,
        fit_args(
            write(tmp_path / "table.csv", csv_text(patterns, weights=counts)),
            3,
            "--weights-column",
            "count",
            "--json",
        ),
    )
    expanded = run_json(
        capsys, fit_args(write(tmp_path / "rows.csv", csv_text(X)), 3, "--json")
    )
    assert weighted["n_samples"] == len(patterns)
    assert expanded["n_samples"] == weighted["sample_size"] == len(X)
    # The same maximum (the log-likelihood is flat there: EM's tolerance
    # moves it far less than the parameters).
    for key in ("log_likelihood", "bic", "aic", "g_squared"):
        assert weighted[key] == pytest.approx(expanded[key], abs=1e-4), key
    assert weighted["relative_entropy"] == pytest.approx(
        expanded["relative_entropy"], abs=1e-4
    )
    np.testing.assert_allclose(
        sorted(weighted["class_weights"]), sorted(expanded["class_weights"]), atol=1e-4
    )
    assert weighted["n_parameters"] == expanded["n_parameters"]
    assert weighted["item_labels"] == COLUMNS  # the count column is no item
    # And the same as the estimator with sample_weight.
    est = fitted(patterns, 3, sample_weight=counts)
    assert weighted["log_likelihood"] == pytest.approx(
        est.score(patterns, sample_weight=counts) * len(X), rel=1e-12
    )


def test_fit_zero_weight_rows_get_posteriors(tmp_path, capsys):
    X = make_data(n_samples=40)
    weights = np.ones(40)
    weights[::5] = 0
    posteriors = tmp_path / "post.csv"
    report = run_json(
        capsys,
        fit_args(
            write(
                tmp_path / "data.csv", csv_text(X, weights=weights, weights_column="w")
            ),
            2,
            "--weights-column",
            "w",
            "--posteriors",
            str(posteriors),
            "--json",
        ),
    )
    assert report["sample_size"] == 32
    _, post = read_posteriors(posteriors)
    assert post.shape == (40, 3)


def test_fit_range_json_and_posteriors_of_the_best(tmp_path, capsys):
    X = make_data()
    posteriors = tmp_path / "post.csv"
    reports = run_json(
        capsys,
        fit_args(
            write(tmp_path / "data.csv", csv_text(X)),
            "2-4",
            "--json",
            "--posteriors",
            str(posteriors),
        ),
    )
    assert [r["n_components"] for r in reports] == [2, 3, 4]
    bics = [r["bic"] for r in reports]
    assert [r["lowest_bic"] for r in reports] == [
        k == int(np.argmin(bics)) for k in range(3)
    ]
    best = reports[int(np.argmin(bics))]["n_components"]
    header, post = read_posteriors(posteriors)
    assert header == [*(f"class_{k}" for k in range(1, best + 1)), "modal_class"]
    assert post.shape == (len(X), best + 1)


def test_fit_range_of_one_prints_a_table(tmp_path, capsys):
    path = write(tmp_path / "data.csv", csv_text(make_data()))
    assert main(fit_args(path, "2-2")) == 0
    lines = table_lines(capsys.readouterr().out)
    assert len(lines) == 1
    assert "lowest BIC" in lines[0]


def test_fit_entropy_column(tmp_path, capsys):
    X = make_data()
    path = write(tmp_path / "data.csv", csv_text(X))
    assert main(fit_args(path, "1-2")) == 0
    one, two = table_lines(capsys.readouterr().out)
    assert one.split()[5] == "-"  # undefined for one class
    entropy = fit_report(fitted(X, 2), X).relative_entropy
    assert two.split()[5] == f"{entropy:.4f}"
    assert two.split()[1] == "11"  # 2 * 5 + 1 parameters


def test_fit_binarize(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = make_data() * 3 + rng.integers(0, 3, size=(120, 5))  # 0..5
    X[4, 2] = np.nan
    reports = run_json(
        capsys,
        fit_args(
            write(tmp_path / "data.csv", csv_text(X)), 2, "--binarize", "2.5", "--json"
        ),
    )
    est = fitted(X, 2, binarize=2.5)
    assert reports["log_likelihood"] == pytest.approx(est.score(X) * len(X), rel=1e-12)


def test_fit_reads_standard_input(tmp_path, capsys, monkeypatch):
    X = make_data()
    monkeypatch.setattr(sys, "stdin", io.StringIO(csv_text(X)))
    report = run_json(capsys, fit_args("-", 2, "--json"))
    assert report["log_likelihood"] == pytest.approx(
        fitted(X, 2).score(X) * len(X), rel=1e-12
    )


def test_fit_progress_only_on_a_terminal(tmp_path, capsys, monkeypatch):
    path = write(tmp_path / "data.csv", csv_text(make_data()))
    assert main(fit_args(path, "1-2")) == 0
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(fit_args(path, "1-2")) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert err[0].startswith(f"fitting K=1 ({N_INIT} random starts) ... done in ")
    assert err[1].startswith("fitting K=2")


def test_fit_convergence_warning_is_a_message(tmp_path, capsys):
    # Warnings are errors in this test suite: the command must catch them.
    path = write(tmp_path / "data.csv", csv_text(make_data()))
    assert main([*fit_args(path, 2), "--max-iter", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith(
        "python -m skcoinmix fit: warning: K=2: EM did not converge within 2 iterations"
    )
    assert "EM did not converge (2 iterations)" in captured.out


# ------------------------------------------------------------ bad input
BAD_FILES = {
    "empty": ("", "is empty: it needs a header"),
    "blank lines only": ("\n\n  \n", "is empty"),
    "no header": ("0,1,1\n1,0,1\n", "line 1 ('0,1,1') looks like data, not a header"),
    "no header of codes": (
        "3,5,2\n1,2,1\n",
        "line 1 ('3,5,2') looks like data, not a header",
    ),
    "header only": ("a,b,c\n", "has a header but no data rows"),
    "ragged": ("a,b,c\n0,1,0\n\n1,0\n", "line 4 has 2 cells but the header has 3"),
    "too many cells": ("a,b\n0,1,\n", "line 2 has 3 cells but the header has 2"),
    # Values other than 0/1 are refused by the Bernoulli model when named
    # (--model auto fits them as categories).
    "non-binary": (
        "a,b,c\n0,1,0\n1,2,1\n0,yes,1\n1,2,0\n",
        "column 'b' is not binary: found '2' (line 3), 'yes' (line 4). "
        "Values must be 0 or 1",
        "bernoulli",
    ),
    "infinite": (
        "a,b\n0,inf\n1,1\n",
        "column 'b' is not binary: found 'inf'",
        "bernoulli",
    ),
    "two bad columns": ("a,b\n0,3\n-1,1\n", "column 'a' is not binary", "bernoulli"),
    "all missing": (
        "a,b,c\n0,,1\n1,NA,0\n0,nan,1\n",
        "column 'b' has no observed value",
    ),
    "duplicate name": ("a,b,a\n0,1,0\n1,0,1\n", "'a' appears twice in the header"),
    "empty name": ("a,,c\n0,1,0\n1,0,1\n", "column 2 has no name in the header"),
    "semicolons": (
        "a;b;c\n0;1;0\n1;0;1\n",
        "The file seems to be separated by semicolons",
    ),
    "too few rows": ("a,b\n0,1\n1,0\n", "3 classes need at least 3 data rows"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_fit_bad_file_exits_2(name, tmp_path, capsys):
    text, message, *model = BAD_FILES[name]
    path = write(tmp_path / "bad.csv", text)
    extra = ["--model", *model] if model else []
    assert main([*fit_args(path, 3), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("python -m skcoinmix fit: error: ")
    assert message in captured.err
    assert captured.out == ""


def test_fit_reports_every_bad_column(tmp_path, capsys):
    path = write(tmp_path / "bad.csv", "a,b,c\n0,3,1\n-1,1,\n")
    assert main(fit_args(path, 2, "--model", "bernoulli")) == 2
    err = capsys.readouterr().err
    assert "column 'a' is not binary: found '-1' (line 3)" in err
    assert "column 'b' is not binary: found '3' (line 2)" in err
    assert "column 'c'" not in err


BAD_WEIGHTS = {
    "no such column": ("a,b,n\n0,1,2\n1,0,3\n", "no column named 'count'"),
    "negative": (
        "a,b,count\n0,1,2\n1,0,-1\n",
        "line 3: the weight in column 'count' is '-1', not a non-negative number",
    ),
    "missing": (
        "a,b,count\n0,1,2\n1,0,NA\n",
        "line 3: the weight in column 'count' is missing",
    ),
    "all zero": ("a,b,count\n0,1,0\n1,0,0\n", "are all zero"),
    "only weights": ("count\n2\n3\n", "no item column besides the weights column"),
    "observed only with weight 0": (
        "a,b,count\n0,1,0\n1,,3\n0,,4\n",
        "column 'b' has no observed value among the rows with a positive weight",
    ),
    "too few positive": (
        "a,b,count\n0,1,0\n1,0,3\n",
        "2 classes need at least 2 rows with a positive weight, but the data have 1",
    ),
}


@pytest.mark.parametrize("name", BAD_WEIGHTS)
def test_fit_bad_weights_exit_2(name, tmp_path, capsys):
    text, message = BAD_WEIGHTS[name]
    path = write(tmp_path / "bad.csv", text)
    assert main([*fit_args(path, 2), "--weights-column", "count"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_fit_binarize_refuses_words(tmp_path, capsys):
    path = write(tmp_path / "bad.csv", "a,b\n0,1\n2.5,seven\n")
    assert main([*fit_args(path, 2), "--binarize", "1"]) == 2
    assert "column 'b' has values that are not numbers: 'seven' (line 3)" in (
        capsys.readouterr().err
    )


def test_fit_unreadable_paths(tmp_path, capsys):
    assert main(fit_args(str(tmp_path / "nope.csv"), 2)) == 2
    assert "cannot read " in capsys.readouterr().err
    assert main(fit_args(str(tmp_path), 2)) == 2
    assert "it is a directory" in capsys.readouterr().err
    latin = tmp_path / "latin.csv"
    latin.write_bytes("caf\u00e9,b\n0,1\n1,0\n".encode("latin-1"))
    assert main(fit_args(str(latin), 2)) == 2
    assert "not UTF-8 text" in capsys.readouterr().err


def test_fit_missing_path_is_named(tmp_path, capsys):
    path = str(tmp_path / "nope.csv")
    assert main(fit_args(path, 2)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"python -m skcoinmix fit: error: cannot read {path!r}: ")
    assert "Traceback" not in err


def test_fit_posteriors_folder_is_checked_first(tmp_path, capsys):
    path = write(tmp_path / "data.csv", csv_text(make_data()))
    target = str(tmp_path / "no" / "post.csv")
    assert main([*fit_args(path, 2), "--posteriors", target]) == 2
    assert "cannot write the posteriors" in capsys.readouterr().err
    assert main([*fit_args(path, 2), "--posteriors", str(tmp_path)]) == 2
    assert "it is a directory" in capsys.readouterr().err
    # Never over the data.
    same = os.path.join(str(tmp_path), ".", "data.csv")
    assert main([*fit_args(path, 2), "--posteriors", same]) == 2
    assert "is the data file: it would be overwritten" in capsys.readouterr().err
    assert Path(path).read_text(encoding="utf-8").startswith("q1,q2")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--n-components", "0"],
            "argument --n-components: must be a number of classes",
        ),
        (["--n-components", "3-1"], "with 1 <= K1 <= K2, got '3-1'"),
        (["--n-components", "two"], "got 'two'"),
        (["--n-components", "1-"], "got '1-'"),
        (["--n-components", "1-3-5"], "got '1-3-5'"),
        (
            ["--n-components", "2", "--n-init", "0"],
            "argument --n-init: must be an integer >= 1",
        ),
        (
            ["--n-components", "2", "--tol", "-1"],
            "argument --tol: must be a finite number >= 0",
        ),
        (
            ["--n-components", "2", "--binarize", "nan"],
            "argument --binarize: must be a finite",
        ),
        (["--n-components", "2", "--random-state", "-3"], "argument --random-state"),
        ([], "the following arguments are required: --n-components"),
    ],
)
def test_fit_bad_options_exit_2(argv, message, tmp_path, capsys):
    path = write(tmp_path / "data.csv", "a,b\n0,1\n1,0\n")
    with pytest.raises(SystemExit) as exc_info:
        main(["fit", path, *argv])
    assert exc_info.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.err.splitlines()[-1].startswith("python -m skcoinmix fit: error:")
    assert captured.out == ""


def test_demo_options_before_fit_are_refused(tmp_path, capsys):
    path = write(tmp_path / "data.csv", "a,b\n0,1\n1,0\n")
    with pytest.raises(SystemExit) as exc_info:
        main(["--random-state", "3", "fit", path, "--n-components", "2"])
    assert exc_info.value.code == 2
    err = capsys.readouterr().err
    assert "--random-state before 'fit' belongs to the demo" in err
    assert "the options of fit go after 'fit'" in err


@pytest.mark.parametrize(
    "before",
    [
        ["--random-state", "0"],
        ["--n-sets", "10"],
        ["--probs", "0.3", "0.7"],
        ["--weights", "0.5", "0.5"],
    ],
)
def test_demo_options_before_fit_are_refused_even_at_their_defaults(
    before, tmp_path, capsys
):
    # Refused because they were typed, not because they differ from the
    # demo's defaults: nothing typed is ever ignored.
    path = write(tmp_path / "data.csv", "a,b\n0,1\n1,0\n")
    with pytest.raises(SystemExit) as exc_info:
        main([*before, "fit", path, "--n-components", "2"])
    assert exc_info.value.code == 2
    captured = capsys.readouterr()
    assert f"{before[0]} before 'fit' belongs to the demo" in captured.err
    assert captured.out == ""


def test_demo_options_before_fit_are_all_named(tmp_path, capsys):
    path = write(tmp_path / "data.csv", "a,b\n0,1\n1,0\n")
    argv = ["--n-sets", "5", "--start", "0.2", "0.3", "fit", path]
    with pytest.raises(SystemExit):
        main([*argv, "--n-components", "2"])
    assert "--n-sets, --start before 'fit' belong to the demo" in (
        capsys.readouterr().err
    )


def test_fit_help(capsys):
    with pytest.raises(SystemExit) as exc_info:
        main(["fit", "--help"])
    assert exc_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m skcoinmix fit ")
    options = ("--n-components", "--n-init", "--random-state", "--max-iter", "--tol")
    for option in (
        *options,
        "--binarize",
        "--weights-column",
        "--posteriors",
        "--json",
    ):
        assert option in out


# ---------------------------------------------------------------- --model
def test_fit_model_bernoulli_is_the_default(tmp_path, capsys):
    X = make_data(missing=0.05)
    path = write(tmp_path / "data.csv", csv_text(X))
    auto = run_json(capsys, fit_args(path, 2, "--json"))
    named = run_json(capsys, fit_args(path, 2, "--json", "--model", "bernoulli"))
    assert named == auto
    # Same arithmetic as the estimator called directly: equal to rounding.
    assert named["log_likelihood"] == pytest.approx(
        fitted(X, 2).score(X) * len(X), rel=1e-12
    )


def test_fit_model_bernoulli_refusal_points_to_categorical(tmp_path, capsys):
    path = write(tmp_path / "codes.csv", "a,b\n0,1\n1,2\n1,0\n")
    assert main([*fit_args(path, 2), "--model", "bernoulli"]) == 2
    err = capsys.readouterr().err
    assert "column 'b' is not binary: found '2' (line 3)" in err
    assert "--binarize THRESHOLD" in err
    assert err.rstrip().endswith(
        "or fit each value as a category with --model categorical."
    )
    # --binarize reads numbers, not words: the message says what fits words.
    path = write(tmp_path / "words.csv", "a,b\n0,1\n1,yes\n1,0\n")
    assert main([*fit_args(path, 2), "--binarize", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "column 'b' has values that are not numbers: 'yes' (line 3)" in err
    assert "pass --model categorical without --binarize." in err


def test_fit_model_unknown_exits_2(tmp_path, capsys):
    path = write(tmp_path / "data.csv", "a,b\n0,1\n1,0\n")
    with pytest.raises(SystemExit) as exc_info:
        main([*fit_args(path, 2), "--model", "poisson"])
    assert exc_info.value.code == 2
    assert "argument --model: invalid choice: 'poisson'" in capsys.readouterr().err


@pytest.fixture
def threshold_model(monkeypatch):
    """A second model in the registry, as a new model would be added.

    "threshold": Bernoulli on numbers cut at ``--cut`` (what --binarize
    does), under its own name and option, not chosen by ``--model auto``.
    """
    monkeypatch.setitem(
        _models.MODEL_OPTIONS,
        "--cut",
        {"type": float, "metavar": "C", "help": "values above C are 1"},
    )
    monkeypatch.setitem(
        _models.MODELS,
        "threshold",
        _models.CliModel(
            name="threshold",
            help="numbers cut at --cut",
            data="numbers",
            options=("--cut",),
            values=lambda args: NUMBERS,
            build=lambda args, **common: BernoulliMixtureEM(
                binarize=args.cut, **common
            ),
            settings=lambda args: f"cut={args.cut:g}",
        ),
    )


def test_fit_model_registry_entry_adds_a_model(threshold_model, tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = make_data() * 3 + rng.integers(0, 3, size=(120, 5))  # 0..5
    path = write(tmp_path / "scores.csv", csv_text(X))
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    help_text = capsys.readouterr().out
    assert "--model {auto,bernoulli,binomial,categorical,threshold}" in help_text
    assert "--cut C" in help_text
    named = fit_args(path, 2, "--model", "threshold", "--cut", "2.5", "--json")
    report = run_json(capsys, named)
    # The same estimator as --binarize 2.5 builds: the same arithmetic.
    assert report == run_json(capsys, fit_args(path, 2, "--binarize", "2.5", "--json"))
    assert main(fit_args(path, 2, "--model", "threshold", "--cut", "2.5")) == 0
    assert "cut=2.5." in capsys.readouterr().out


def test_fit_model_auto_never_picks_a_model_not_marked_auto(
    threshold_model, tmp_path, capsys
):
    # The new model would accept these numbers; auto fits the categorical
    # model, the one marked auto that accepts them.
    path = write(tmp_path / "counts.csv", "a,b\n0,1\n1,2\n1,0\n")
    report = run_json(capsys, fit_args(path, 2, "--json"))
    assert report["model"] == "CategoricalMixtureEM"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--cut", "2"],
            "--cut is an option of --model threshold, not of bernoulli or "
            "categorical (the models --model auto chooses from); pass --model "
            "threshold.",
        ),
        (
            ["--model", "bernoulli", "--cut", "2"],
            "--cut is an option of --model threshold, not of bernoulli.",
        ),
        (
            ["--model", "threshold", "--cut", "2", "--binarize", "1"],
            "--binarize is an option of --model bernoulli, not of threshold.",
        ),
    ],
)
def test_fit_model_options_of_another_model_exit_2(
    extra, message, threshold_model, tmp_path, capsys
):
    path = write(tmp_path / "data.csv", "a,b\n0,1\n1,0\n")
    posteriors = tmp_path / "post.csv"
    assert main([*fit_args(path, 2), *extra, "--posteriors", str(posteriors)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"python -m skcoinmix fit: error: {message}\n"
    assert captured.out == ""
    assert not posteriors.exists()


def _binomial_counts(rng, n_samples=90):
    """Counts out of 4 trials of 5 items from two classes, as a float array."""
    groups = rng.integers(2, size=n_samples)
    means = np.array([[0.8, 0.7, 0.2, 0.5, 0.9], [0.2, 0.3, 0.6, 0.5, 0.4]])
    return rng.binomial(4, means[groups]).astype(np.float64)


def test_fit_model_binomial_equals_the_estimator(tmp_path, capsys):
    X = _binomial_counts(np.random.default_rng(SEED))
    X[3, 1] = np.nan
    path = write(tmp_path / "counts.csv", csv_text(X))
    report = run_json(
        capsys, fit_args(path, 2, "--json", "--model", "binomial", "--n-trials", "4")
    )
    est = BinomialMixtureEM(
        2,
        n_trials=4,
        n_init=N_INIT,
        random_state=SEED,
        tol=1e-8,
        max_iter=5000,
    ).fit(X)
    # The CLI builds this very estimator: the same arithmetic.
    assert report["log_likelihood"] == pytest.approx(est.score(X) * len(X), rel=1e-12)
    assert report["n_parameters"] == est.n_parameters_ == 2 * 5 + 1
    assert main(fit_args(path, 2, "--model", "binomial", "--n-trials", "4")) == 0
    out = capsys.readouterr().out
    assert "n_trials=4." in out and "BinomialMixtureEM" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--model", "binomial"],
            "--model binomial needs --n-trials N, the number of trials behind "
            "each count: no default could be right for every data set",
        ),
        (
            ["--model", "binomial", "--n-trials", "3"],
            "column 'a' has values that are not counts from 0 to 3: '4' (line 2). "
            "Counts must lie between 0 and --n-trials, with an empty cell, NA or "
            "NaN for a missing count.",
        ),
        (
            ["--n-trials", "4"],
            "--n-trials is an option of --model binomial, not of bernoulli or "
            "categorical (the models --model auto chooses from); pass --model "
            "binomial.",
        ),
    ],
)
def test_fit_model_binomial_refusals_exit_2(extra, message, tmp_path, capsys):
    path = write(tmp_path / "counts.csv", "a,b\n4,1\n1,2\n0,0\n")
    assert main([*fit_args(path, 2), *extra]) == 2
    assert capsys.readouterr().err == f"python -m skcoinmix fit: error: {message}\n"


# --------------------------------------------------------------- helpers
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0.0),
        ("1", 1.0),
        (" 1 ", 1.0),
        ("1.0", 1.0),
        ("0.0", 0.0),
        ("2.5", 2.5),
        ("", math.nan),
        ("  ", math.nan),
        ("NA", math.nan),
        ("na", math.nan),
        ("NaN", math.nan),
        ("nan", math.nan),
        ("inf", None),
        ("-Infinity", None),
        ("yes", None),
        ("N/A", None),
    ],
)
def test_parse_cell(text, expected):
    value = parse_cell(text)
    if expected is None:
        assert value is None
    elif math.isnan(expected):
        assert math.isnan(value)
    else:
        assert value == expected


def test_parse_table_values_and_lines():
    text = 'x,"y", z ,n\n1,0,NA,2\n\n"0",,1.0,0.5\n'
    table = parse_table(io.StringIO(text), weights_column="n")
    assert table.columns == ("x", "y", "z")
    np.testing.assert_array_equal(table.X, [[1.0, 0.0, np.nan], [0.0, np.nan, 1.0]])
    np.testing.assert_array_equal(table.weights, [2.0, 0.5])
    assert table.lines == (2, 4)
    assert table.n_missing == 2


def test_parse_table_keeps_rows_of_missing_cells():
    table = parse_table(io.StringIO("a,b\n0,1\n,\n1,0\n"))
    assert table.X.shape == (3, 2)
    assert np.isnan(table.X[1]).all()


def test_parse_table_names_the_line_of_a_quoted_newline():
    text = 'a,b\n0,1\n"1\n",0,1\n'
    with pytest.raises(DataError, match="line 3 has 3 cells"):
        parse_table(io.StringIO(text))


def test_read_table_skips_a_byte_order_mark(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\r\n0,1\r\n1,0\r\n")
    table = read_table(str(path))
    assert table.columns == ("a", "b")
    assert table.lines == (2, 3)


def test_format_posteriors():
    resp = np.array([[0.25, 0.75], [0.9, 0.1]])
    assert format_posteriors(resp) == (
        "class_1,class_2,modal_class\n0.25,0.75,2\n0.9,0.1,1\n"
    )
