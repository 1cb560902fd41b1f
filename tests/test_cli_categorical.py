"""``python -m skcoinmix fit`` with the categorical model (skcoinmix/cli).

Oracles: poLCA's published maximum log-likelihoods (gss82, carcinoma), and
:class:`~skcoinmix.CategoricalMixtureEM` called directly on the data a Python
user would pass, which the command must reproduce to rounding.
"""

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from skcoinmix import CategoricalMixtureEM, fit_report
from skcoinmix.cli import main
from skcoinmix.cli._csv import (
    CATEGORIES,
    DataError,
    category_values,
    parse_records,
    parse_table,
)

DATA = Path(__file__).resolve().parent / "data"

#: The fit command's fixed settings here (its defaults but fewer starts).
N_INIT = 3
SEED = 0
FIT_TOL = 1e-8
FIT_MAX_ITER = 5000

PROG = "python -m skcoinmix fit"


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def csv_text(columns, rows):
    """CSV of ``rows`` (lists of cells, written as they are) under ``columns``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def fit_args(path, n_components, *extra, n_init=N_INIT):
    return [
        "fit",
        str(path),
        "--n-components",
        str(n_components),
        "--n-init",
        str(n_init),
        "--random-state",
        str(SEED),
        *extra,
    ]


def run_json(capsys, argv):
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return json.loads(captured.out)


def run_text(capsys, argv):
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.out


def fitted(X, n_components, sample_weight=None):
    """The estimator the command builds, fitted in-process on ``X``."""
    est = CategoricalMixtureEM(
        n_components,
        n_init=N_INIT,
        tol=FIT_TOL,
        max_iter=FIT_MAX_ITER,
        random_state=SEED,
    )
    return est.fit(X, sample_weight=sample_weight)


def sample_classes(rng, n_samples, probs, weights):
    """Category indices (n_samples, n_items) from a latent class model.

    ``probs[j]`` is item ``j``'s (K, C_j) table; every row is drawn from its
    class.
    """
    classes = rng.choice(len(weights), size=n_samples, p=weights)
    columns = []
    for table in probs:
        above = rng.random(n_samples)[:, None] > table[classes].cumsum(axis=1)
        # min: a cumulative sum that rounds below 1 must not give C_j.
        columns.append(np.minimum(above.sum(axis=1), table.shape[1] - 1))
    return np.column_stack(columns)


#: Two classes of three items: 3, 2 and 4 categories.
PROBS = [
    np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]),
    np.array([[0.9, 0.1], [0.2, 0.8]]),
    np.array([[0.4, 0.3, 0.2, 0.1], [0.1, 0.1, 0.3, 0.5]]),
]
WEIGHTS = [0.6, 0.4]


# ---------------------------------------------------------- published numbers
def test_gss82_maximum_log_likelihood(capsys):
    # poLCA's gss82 help page (McCutcheon 1987, Table 3.1): K = 3 has the
    # maximum log-likelihood -2754.545, compared at the published precision.
    # It has several local maxima (the poLCA manual lists five; about a
    # quarter of the command's k-means starts reach the best): 20 starts make
    # missing it unlikely (about 0.5 %), and --random-state 0 reaches it. The
    # tolerance is 1e-10 on the total log-likelihood (--tol is per row).
    # K = 2 is checked on the table of patterns below.
    path = DATA / "gss82.csv"
    tol = 1e-10 / 1202
    report = run_json(
        capsys, fit_args(path, 3, "--json", "--tol", repr(tol), n_init=20)
    )
    assert report["model"] == "CategoricalMixtureEM"
    assert report["converged"]
    assert report["log_likelihood"] == pytest.approx(-2754.545, abs=1e-3)
    # K sum_j (C_j - 1) + K - 1 with 3, 2, 2 and 3 categories.
    assert report["n_parameters"] == 3 * 6 + 2
    # Each item's categories by their codes in the file, in order.
    assert report["item_labels"] == [
        "PURPOSE = 1",
        "PURPOSE = 2",
        "PURPOSE = 3",
        "ACCURACY = 1",
        "ACCURACY = 2",
        "UNDERSTA = 1",
        "UNDERSTA = 2",
        "COOPERAT = 1",
        "COOPERAT = 2",
        "COOPERAT = 3",
    ]
    probs = np.array(report["item_probabilities"])  # (K, sum_j C_j)
    per_item = np.add.reduceat(probs, [0, 3, 5, 7], axis=1)
    np.testing.assert_allclose(per_item, 1.0, rtol=1e-12)


def _carcinoma_rows():
    with open(DATA / "carcinoma.csv", newline="") as stream:
        rows = list(csv.reader(stream))
    return rows[0], rows[1:]


@pytest.mark.parametrize(
    ("codes", "model", "expected_model"),
    [
        ("0/1", [], "BernoulliMixtureEM"),
        ("0/1", ["--model", "categorical"], "CategoricalMixtureEM"),
        ("1/2", [], "CategoricalMixtureEM"),
    ],
)
def test_carcinoma_coded_either_way_is_one_model(
    codes, model, expected_model, tmp_path, capsys
):
    # Agresti (2002), Table 13.1, K = 3: -293.705, poLCA's carcinoma help
    # page (the Bernoulli acceptance value of tests/test_lca.py). Binary items
    # coded 1/2, as poLCA users have them, are the same model.
    columns, rows = _carcinoma_rows()
    if codes == "1/2":
        rows = [[str(int(cell) + 1) for cell in row] for row in rows]
    path = write(tmp_path / "carcinoma.csv", csv_text(columns, rows))
    report = run_json(
        capsys, fit_args(path, 3, "--json", "--tol", "1e-12", *model, n_init=10)
    )
    assert report["model"] == expected_model
    assert report["log_likelihood"] == pytest.approx(-293.705, abs=1e-3)
    # 3 * 7 + 2 either way: a binary item has one free probability per class.
    assert report["n_parameters"] == 23


# ------------------------------------------------------------- --model auto
AUTO_FILES = {
    "0/1": ("a,b\n0,1\n1,0\n1,1\n0,0\n", "BernoulliMixtureEM"),
    "0/1 with 1.0 and missing": ("a,b\n0,1.0\nNA,0\n1,\n0,0\n", "BernoulliMixtureEM"),
    "1/2 codes": ("a,b\n1,2\n2,1\n2,2\n1,1\n", "CategoricalMixtureEM"),
    "one column 0/1/2": ("a,b\n0,1\n1,0\n1,2\n0,0\n", "CategoricalMixtureEM"),
    "text labels": ("a,b\nyes,0\nno,1\nyes,1\nno,0\n", "CategoricalMixtureEM"),
}


@pytest.mark.parametrize("name", AUTO_FILES)
def test_auto_picks_bernoulli_for_0_1_only(name, tmp_path, capsys):
    text, expected = AUTO_FILES[name]
    path = write(tmp_path / "data.csv", text)
    assert run_json(capsys, fit_args(path, 2, "--json"))["model"] == expected
    out = run_text(capsys, fit_args(path, 2))
    settings = next(line for line in out.splitlines() if line.startswith("EM:"))
    if expected == "CategoricalMixtureEM":
        # The line about the fit says which model auto chose, and why.
        assert settings.endswith(
            "categorical model (--model auto: not only 0/1 answers)."
        )
    else:
        assert settings.endswith("binarize=none (0/1 data).")


def test_auto_ignores_the_weights_column(tmp_path, capsys):
    # Counts of 2 and 3 are weights, not answers: the items are 0/1.
    path = write(tmp_path / "data.csv", "a,b,n\n0,1,2\n1,0,3\n1,1,1\n0,0,2\n")
    report = run_json(capsys, fit_args(path, 2, "--json", "--weights-column", "n"))
    assert report["model"] == "BernoulliMixtureEM"
    assert report["sample_size"] == 8


def test_named_model_is_not_auto(tmp_path, capsys):
    path = write(tmp_path / "data.csv", "a,b\n1,2\n2,1\n2,2\n1,1\n")
    out = run_text(capsys, fit_args(path, 2, "--model", "categorical"))
    assert "random_state=0, categorical model.\n" in out


# ------------------------------------------- the estimator a Python user fits
def test_codes_equal_the_estimator_on_integer_codes(rng, tmp_path, capsys):
    codes = sample_classes(rng, 200, PROBS, WEIGHTS) + 1  # poLCA's 1..C_j
    rows = [[str(value) for value in row] for row in codes]
    path = write(tmp_path / "codes.csv", csv_text(["x", "y", "z"], rows))
    posteriors = tmp_path / "post.csv"
    report = run_json(
        capsys, fit_args(path, 2, "--json", "--posteriors", str(posteriors))
    )
    est = fitted(codes, 2)  # an int64 array, as numpy or pandas read it
    expected = fit_report(est, codes)
    # The same codes, so the same arithmetic: equal to rounding.
    assert report["log_likelihood"] == pytest.approx(expected.log_likelihood, rel=1e-12)
    assert report["bic"] == pytest.approx(est.bic(codes), rel=1e-12)
    assert report["g_squared"] == pytest.approx(expected.g_squared, rel=1e-9)
    assert report["df"] == expected.df
    np.testing.assert_allclose(
        report["item_probabilities"], np.hstack(est.probs_), rtol=1e-12
    )
    assert report["item_labels"] == [
        f"{name} = {value}"
        for name, values in zip("xyz", est.categories_, strict=True)
        for value in values.tolist()
    ]
    with open(posteriors, newline="") as stream:
        written = np.array(list(csv.reader(stream))[1:], dtype=np.float64)
    np.testing.assert_allclose(written[:, :2], est.predict_proba(codes), rtol=1e-12)
    np.testing.assert_array_equal(written[:, 2], written[:, :2].argmax(axis=1) + 1)


#: How the missing cells are written, in turn.
MISSING_CELLS = ("", "NA", " nan ", "NaN", "na")


def test_labels_with_missing_cells_equal_the_estimator(rng, tmp_path, capsys):
    names = [["low", "mid", "high"], ["no", "yes"], ["a", "b", "c", "d"]]
    index = sample_classes(rng, 150, PROBS, WEIGHTS)
    X = np.array(
        [[names[j][c] for j, c in enumerate(row)] for row in index], dtype=object
    )
    X[rng.random(X.shape) < 0.1] = None
    X[7] = None  # a row with every answer missing is valid input
    cells = [
        [
            MISSING_CELLS[(i + j) % len(MISSING_CELLS)] if value is None else value
            for j, value in enumerate(row)
        ]
        for i, row in enumerate(X)
    ]
    path = write(tmp_path / "labels.csv", csv_text(["level", "answer", "grade"], cells))
    report = run_json(capsys, fit_args(path, 2, "--json"))
    est = fitted(X, 2)  # strings and None, as a user would pass them
    assert report["log_likelihood"] == pytest.approx(est.score(X) * len(X), rel=1e-12)
    assert report["n_samples"] == 150
    assert report["n_complete"] == sum(None not in row for row in X.tolist())
    # Labels sorted alphabetically, as the estimator sorts strings.
    assert report["item_labels"][:3] == ["level = high", "level = low", "level = mid"]
    out = run_text(capsys, fit_args(path, 2))
    assert f"{int(np.equal(X, None).sum())} missing answers" in out
    for line in ("level = high", "answer = yes", "grade = d"):
        assert f"\n  {line} " in out  # a row of the item table, by its label


def test_numbers_are_categories_by_value(tmp_path, capsys):
    # 1, 2, 10 sort as numbers; "1.0" is the category 1; a column with any
    # text is a column of labels, sorted as text.
    text = "n,t\n10,10\n2,2\n1.0,b\n1,2\n 2 ,10\n"
    path = write(tmp_path / "data.csv", text)
    report = run_json(capsys, fit_args(path, 1, "--json"))
    assert report["item_labels"] == [
        "n = 1",
        "n = 2",
        "n = 10",
        "t = 10",
        "t = 2",
        "t = b",
    ]
    # One class: the probabilities are the shares of each category.
    np.testing.assert_allclose(
        report["item_probabilities"][0], [0.4, 0.4, 0.2, 0.4, 0.4, 0.2], rtol=1e-9
    )


def test_range_of_components_and_weights_column(tmp_path, capsys):
    # gss82 as its table of response patterns with counts: the same maximum
    # as the rows, -2783.268 for K = 2 (poLCA's gss82 help page).
    with open(DATA / "gss82.csv", newline="") as stream:
        header, *rows = list(csv.reader(stream))
    patterns = {}
    for row in rows:
        patterns[tuple(row)] = patterns.get(tuple(row), 0) + 1
    table = [[*pattern, str(count)] for pattern, count in patterns.items()]
    path = write(tmp_path / "patterns.csv", csv_text([*header, "count"], table))
    argv = fit_args(path, "1-2", "--weights-column", "count", "--tol", "1e-13")
    reports = run_json(capsys, [*argv, "--json"])
    assert [r["n_components"] for r in reports] == [1, 2]
    assert reports[1]["sample_size"] == 1202
    assert reports[1]["n_samples"] == len(patterns)
    assert reports[1]["log_likelihood"] == pytest.approx(-2783.268, abs=1e-3)
    lines = [line for line in run_text(capsys, argv).splitlines() if line[:1].isdigit()]
    assert [line.split()[0] for line in lines] == ["1", "2"]
    best = int(np.argmin([r["bic"] for r in reports]))
    assert "lowest BIC" in lines[best] and "lowest BIC" not in lines[1 - best]


def test_unseen_label_in_zero_weight_row_is_still_a_category(tmp_path, capsys):
    # Rows of weight 0 are fitted (they contribute nothing) and get
    # posteriors, as with the Bernoulli model: their labels are categories.
    text = "a,b,w\nx,p,1\ny,q,2\nx,q,1\nz,p,0\n"
    path = write(tmp_path / "data.csv", text)
    posteriors = tmp_path / "post.csv"
    report = run_json(
        capsys,
        fit_args(
            path,
            1,
            "--json",
            "--weights-column",
            "w",
            "--posteriors",
            str(posteriors),
        ),
    )
    assert report["item_labels"][:3] == ["a = x", "a = y", "a = z"]
    assert report["sample_size"] == 4
    assert len(posteriors.read_text().splitlines()) == 5


# ------------------------------------------------------------- bad input
BAD = {
    "column never observed": (
        "a,b\nx,\ny,NA\nx,nan\n",
        [],
        "column 'b' has no observed value: every cell is missing. Drop the column.",
    ),
    "binarize": (
        "a,b\n1,2\n2,1\n",
        ["--model", "categorical", "--binarize", "1"],
        "--binarize is an option of --model bernoulli, not of categorical.",
    ),
    "n-trials": (
        "a,b\n1,2\n2,1\n",
        ["--model", "categorical", "--n-trials", "3"],
        "--n-trials is an option of --model binomial, not of categorical.",
    ),
    "semicolons": (
        "a;b;c\n1;2;3\n2;1;3\n",
        [],
        "the header (line 1) names a single column, 'a;b;c'. The file seems to "
        "be separated by semicolons: only commas are read.",
    ),
    "tabs": (
        "a\tb\n1\t2\n2\t1\n",
        [],
        "The file seems to be separated by tabs",
    ),
    "no header": (
        "1,2,3\n2,1,3\n3,3,1\n",
        [],
        "line 1 ('1,2,3') looks like data, not a header",
    ),
    "too few rows": ("a,b\nx,y\n", [], "2 classes need at least 2 data rows"),
    "words under binarize": (
        "a,b\n1,yes\n2,no\n",
        ["--binarize", "1"],
        "column 'b' has values that are not numbers: 'yes' (line 2), 'no' (line 3).",
    ),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_input_exits_2(name, tmp_path, capsys):
    text, extra, message = BAD[name]
    path = write(tmp_path / "bad.csv", text)
    assert main([*fit_args(path, 2), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"{PROG}: error: ")
    assert message in captured.err
    assert "Traceback" not in captured.err


def test_fit_help_names_the_categorical_model(capsys):
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    out = capsys.readouterr().out
    assert "{auto,bernoulli,binomial,categorical}" in out
    assert "CategoricalMixtureEM" in out
    assert "else categorical" in " ".join(out.split())


# ----------------------------------------------------------- the CSV reader
@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["1", "2", "10"], [1, 2, 10]),
        (["1.0", " 1 ", "2.5", "1e1"], [1, 1, 2.5, 10]),
        (["", "NA", " nan ", "NaN", "3"], [None, None, None, None, 3]),
        # Many digits stay exact: two categories, not one float.
        (
            ["12345678901234567890", "12345678901234567891"],
            [12345678901234567890, 12345678901234567891],
        ),
        # Any text: every cell a label, as written (blanks around stripped).
        (["1", "1.0", " yes ", "NA"], ["1", "1.0", "yes", None]),
        (["inf", "1"], ["inf", "1"]),
        (["Yes", "yes"], ["Yes", "yes"]),
    ],
)
def test_category_values(cells, expected):
    values = category_values(cells)
    assert values == expected
    assert [type(v) for v in values] == [type(v) for v in expected]


def test_parse_table_keeps_categories_as_objects():
    text = "a,b,n\n1,x,2\n,y,1\n10,,3\n"
    table = parse_table(io.StringIO(text), values=CATEGORIES, weights_column="n")
    assert table.X.dtype == object
    assert table.X.tolist() == [[1, "x"], [None, "y"], [10, None]]
    assert table.n_missing == 2
    assert table.columns == ("a", "b")
    np.testing.assert_array_equal(table.weights, [2, 1, 3])


def test_parse_records_refuses_a_header_of_numbers():
    with pytest.raises(DataError, match=r"line 1 \('3,5,2'\) looks like data"):
        parse_records(io.StringIO("3,5,2\n1,2,1\n"))
    # A number among names is a name; a header of missing cells is not data.
    assert parse_records(io.StringIO("q1,2,q3\n1,2,1\n")).names == ("q1", "2", "q3")
    with pytest.raises(DataError, match="column 1 has no name"):
        parse_records(io.StringIO(",NA\n1,2\n"))


# ------------------------------------------------------------- subprocess
def test_module_fit_text_labels(tmp_path, run_cli):
    path = write(
        tmp_path / "labels.csv",
        "colour,taste\nred,sweet\nblue,sour\nred,\nblue,sour\nred,sweet\n",
    )
    result = run_cli(
        {"labels": ["fit", path, "--n-components", "1", "--random-state", "0"]},
        tmp_path,
    )["labels"]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Latent class model: 1 class, 2 items, CategoricalMixtureEM" in result.stdout
    # The labels of the file, with their shares (one class: the frequencies).
    rows = re.findall(r"^  (\w+ = \w+) +([0-9.]+)$", result.stdout, re.MULTILINE)
    assert {label: float(share) for label, share in rows} == pytest.approx(
        {
            "colour = blue": 0.4,
            "colour = red": 0.6,
            "taste = sour": 0.5,
            "taste = sweet": 0.5,
        }
    )


def test_labels_the_console_cannot_encode_are_escaped(tmp_path, monkeypatch):
    # A label in Japanese, printed where stdout's encoding is cp1252 (a
    # Windows console): escaped as the column names are, never an error.
    path = write(tmp_path / "labels.csv", "q,r\n日本,a\nx,b\n日本,b\nx,a\n")
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    monkeypatch.setattr("sys.stdout", stdout)
    assert main(fit_args(path, 1)) == 0
    stdout.flush()
    out = stdout.buffer.getvalue().decode("cp1252")
    assert "q = \\u65e5\\u672c" in out
    assert stdout.errors == "strict"  # restored for the caller
