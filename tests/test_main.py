"""Tests of ``python -m skcoinmix`` and its demo (skcoinmix/cli/_demo.py)."""

import math
import re

import numpy as np
import pytest

import skcoinmix
from skcoinmix.cli import main
from skcoinmix.cli._demo import (
    fit_coins,
    known_coin_estimates,
    log_likelihood_at,
)
from skcoinmix.cli._text import format_table
from skcoinmix.datasets import load_coin_example, make_coin_tosses

#: EM on the coin example of C. B. Do and S. Batzoglou, "What is the
#: expectation maximization algorithm?", Nature Biotechnology 26, 897-899
#: (2008), Figure 1b, as printed there (2 decimals): (theta_A, theta_B) at
#: the start and after 1 and 10 iterations.
PAPER_START = ("0.60", "0.50")
PAPER_ITERATION_1 = ("0.71", "0.58")
PAPER_ITERATION_10 = ("0.80", "0.52")
#: Same figure, the E-step of iteration 1: the posterior probability of coin
#: A for each set, at the start.
PAPER_P_A_AT_START = ("0.45", "0.80", "0.73", "0.35", "0.65")
#: Same paper, Figure 1a: the estimates when the coins are known.
PAPER_KNOWN = ("0.80", "0.45")

#: Half a unit of the second decimal, the precision of the paper's table.
HALF_PRINTED_UNIT = 0.005

#: The repository root, so that a subprocess imports this very package.

DEMO_OPTIONS = ("--n-sets", "--n-tosses", "--probs", "--weights", "--start")


#: The command lines run in a subprocess, by name.
CLI_RUNS = {
    "default": (),
    "help": ("--help",),
    "bad option": ("--n-sets", "0"),
}


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory, run_cli):
    """``python -m skcoinmix`` run with each of CLI_RUNS, in parallel.

    Returns
    -------
    results : dict of str to subprocess.CompletedProcess
    """
    return run_cli(CLI_RUNS, tmp_path_factory.mktemp("cli"), timeout=120)


def table_rows(output):
    """The rows of every printed table, by label (first column)."""
    rows = {}
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) > 1:
            rows[cells[0]] = cells[1:]
    return rows


def check_paper_table(output):
    rows = table_rows(output)
    assert tuple(rows["EM start (Fig. 1b)"][1:3]) == PAPER_START
    assert tuple(rows["EM iteration 1 (Fig. 1b)"][1:3]) == PAPER_ITERATION_1
    assert tuple(rows["EM iteration 10 (Fig. 1b)"][1:3]) == PAPER_ITERATION_10
    assert tuple(rows["known coins (Fig. 1a)"][1:3]) == PAPER_KNOWN
    # The iterations column tells how many EM updates each row made.
    assert rows["EM iteration 1 (Fig. 1b)"][0] == "1"
    assert rows["EM iteration 10 (Fig. 1b)"][0] == "10"
    p_a = tuple(rows[str(i)][3] for i in range(1, 6))
    assert p_a == PAPER_P_A_AT_START


# ------------------------------------------------------------ subprocess
def test_module_runs_and_prints_the_paper_numbers(cli_runs):
    result = cli_runs["default"]
    assert result.returncode == 0, result.stderr
    check_paper_table(result.stdout)
    assert "Warning" not in result.stderr
    assert "Simulated coins" in result.stdout


def test_module_help_lists_the_options(cli_runs):
    result = cli_runs["help"]
    assert result.returncode == 0
    for option in (*DEMO_OPTIONS, "--random-state", "demo"):
        assert option in result.stdout
    assert "Do & Batzoglou" in result.stdout
    assert result.stdout.startswith("usage: python -m skcoinmix")


def test_module_bad_option_exits_2(cli_runs):
    result = cli_runs["bad option"]
    assert result.returncode == 2
    assert "argument --n-sets: must be an integer >= 2, got '0'" in result.stderr
    assert result.stdout == ""


# ------------------------------------------------------------ in-process
def test_main_prints_the_paper_numbers(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    check_paper_table(out)


def test_main_converges_on_the_paper_example(capsys):
    main([])
    rows = table_rows(capsys.readouterr().out)
    converged = rows["EM converged"]
    est = fit_coins(load_coin_example(), (0.6, 0.5))
    assert est.converged_
    assert converged[0] == str(est.n_iter_)
    # Converged estimates are EM's fixed point: one more iteration moves
    # them by less than half the last printed digit.
    again = fit_coins(load_coin_example(), est.means_[:, 0], max_iter=1, tol=0)
    np.testing.assert_allclose(again.means_, est.means_, atol=HALF_PRINTED_UNIT)
    assert converged[1:3] == [f"{t:.2f}" for t in est.means_[:, 0]]


def test_main_simulation_table_matches_the_data(capsys):
    assert main(["--n-sets", "40", "--n-tosses", "7", "--random-state", "3"]) == 0
    out = capsys.readouterr().out
    X, coins = make_coin_tosses(40, 7, [0.3, 0.7], random_state=3)
    rows = table_rows(out)
    assert rows["true"][1:3] == ["0.300", "0.700"]
    assert rows["known coins"][1:3] == [f"{X[coins == k].mean():.3f}" for k in range(2)]
    est = fit_coins(X, (0.4, 0.6))
    assert rows["EM"][0] == str(est.n_iter_)
    assert rows["EM"][1:3] == [f"{t:.3f}" for t in est.means_[:, 0]]
    assert rows["EM"][3] == f"{est.score(X) * 40:.2f}"
    assert "40 sets of 7 tosses, random_state=3" in out


def test_main_em_beats_the_true_parameters_by_default(capsys):
    # EM maximises the likelihood over (theta_A, theta_B), the true values
    # included, so it ends at least as high (it finds the global maximum
    # with the notebook's defaults).
    main([])
    rows = table_rows(capsys.readouterr().out)
    assert float(rows["EM"][3]) >= float(rows["true"][3])


def test_main_is_reproducible_and_seeded(capsys):
    main(["--random-state", "7"])
    first = capsys.readouterr().out
    main(["--random-state", "7"])
    assert capsys.readouterr().out == first
    main(["--random-state", "8"])
    assert capsys.readouterr().out != first


def test_demo_command_equals_the_default(capsys):
    args = ["--n-sets", "12", "--probs", "0.2", "0.9", "--start", "0.3", "0.5"]
    main(args)
    default = capsys.readouterr().out
    main(["demo", *args])
    assert capsys.readouterr().out == default
    # Options given before the command are kept, not reset to defaults.
    main([*args, "demo"])
    assert capsys.readouterr().out == default
    assert "12 sets of 20 tosses" in default


def test_main_coin_never_picked(capsys):
    assert main(["--n-sets", "3", "--weights", "0", "1"]) == 0
    rows = table_rows(capsys.readouterr().out)
    assert rows["known coins"][1] == "n/a"
    assert rows["known coins"][2] != "n/a"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--n-sets", "1"], "argument --n-sets: must be an integer >= 2, got '1'"),
        (["--n-tosses", "ten"], "argument --n-tosses: must be an integer >= 1"),
        (["--probs", "0.3", "1.2"], "argument --probs: must be a probability"),
        (["--probs", "0.3"], "argument --probs: expected 2 arguments"),
        (["--start", "nan", "0.5"], "argument --start: must be a probability"),
        (["--weights", "0.5", "0.6"], "argument --weights: the probabilities"),
        (["--random-state", "-1"], "argument --random-state: must be an integer"),
        (["--unknown"], "unrecognized arguments: --unknown"),
        (["fit"], "the following arguments are required"),
        (["demo", "--n-sets", "0"], "argument --n-sets: must be an integer >= 2"),
    ],
)
def test_main_bad_options_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc_info:
        main(argv)
    assert exc_info.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_demo_help_names_the_command(capsys):
    with pytest.raises(SystemExit) as exc_info:
        main(["demo", "--help"])
    assert exc_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m skcoinmix demo [-h] [--n-sets N]")
    for option in (*DEMO_OPTIONS, "--random-state"):
        assert option in out


def test_demo_errors_name_the_command(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--n-sets", "0"])
    assert (
        capsys.readouterr()
        .err.splitlines()[-1]
        .startswith("python -m skcoinmix demo: error: argument --n-sets")
    )


def test_module_entry_point_is_the_cli_main():
    # ``python -m skcoinmix`` and the ``skcoinmix`` script run the same main.
    from skcoinmix import __main__

    assert __main__.main is main


def test_main_version(capsys):
    with pytest.raises(SystemExit) as exc_info:
        main(["--version"])
    assert exc_info.value.code == 0
    assert skcoinmix.__version__ in capsys.readouterr().out


# --------------------------------------------------------------- helpers
def product_over_tosses(X, theta, weights):
    """The oracle of log_likelihood_at: each set's probability, toss by toss.

    ``log sum_k w_k prod_j P(x_ij | t_k)``, in probability space with plain
    Python floats (no logarithm before the last step, no scipy).
    """
    total = 0.0
    for row in X:
        p_row = 0.0
        for t, w in zip(theta, weights, strict=True):
            p = w
            for toss in row:
                p *= t if toss == 1 else 1.0 - t
            p_row += p
        total += math.log(p_row)
    return total


def test_log_likelihood_at_matches_a_product_over_tosses(rng):
    n_coins = int(rng.integers(1, 4))
    theta = rng.uniform(0.05, 0.95, size=n_coins)
    weights = rng.dirichlet(np.ones(n_coins))
    X, _ = make_coin_tosses(
        50, 12, theta, weights, random_state=int(rng.integers(2**31))
    )
    # The oracle multiplies 12 factors in [0.05, 0.95] per set (no underflow,
    # a few ulps of error per set); the estimator sums logarithms: the two
    # totals (about -400) agree to ~1e-14 relative, checked to 1e-12.
    assert log_likelihood_at(X, theta, weights) == pytest.approx(
        product_over_tosses(X, theta, weights), rel=1e-12
    )


def test_log_likelihood_at_by_hand():
    # Sets HHT and TTT under one coin of probability 1/2: 2 log(1/8).
    X = np.array([[1, 1, 0], [0, 0, 0]])
    assert log_likelihood_at(X, [0.5], [1.0]) == pytest.approx(2 * np.log(1 / 8))
    # A coin that never gives heads cannot make HHT, but it makes TTT
    # surely: log(0.5 / 8) + log(0.5 + 0.5 / 8). The estimator clips the
    # probability 0 to 1e-10, which moves the total by about 3 tosses * 1e-10.
    assert log_likelihood_at(X, [0.0, 0.5], [0.5, 0.5]) == pytest.approx(
        np.log(0.5 / 8) + np.log(0.5 + 0.5 / 8), rel=0, abs=1e-9
    )


def test_fit_coins_max_iter_0_keeps_the_start():
    # What log_likelihood_at relies on: no update and no warning (warnings
    # are errors in this test suite), the parameters exactly as given.
    X = load_coin_example()
    est = fit_coins(X, (0.3, 0.8), weights=(0.25, 0.75), max_iter=0, tol=0)
    assert est.n_iter_ == 0
    np.testing.assert_array_equal(est.means_, [[0.3] * 10, [0.8] * 10])
    np.testing.assert_array_equal(est.weights_, [0.25, 0.75])


def test_fit_coins_stops_after_max_iter_without_warning():
    # tol=0 is "run exactly max_iter iterations": no ConvergenceWarning
    # (warnings are errors in this test suite).
    est = fit_coins(load_coin_example(), (0.6, 0.5), max_iter=3, tol=0)
    assert est.n_iter_ == 3
    assert not est.converged_


def test_known_coin_estimates_marks_unused_coins():
    X = np.array([[1, 0], [1, 1]])
    theta = known_coin_estimates(X, np.array([1, 1]))
    assert np.isnan(theta[0])
    assert theta[1] == pytest.approx(3 / 4)


def test_format_table_aligns_columns():
    table = format_table(("name", "value"), [["a", "1.5"], ["long name", "10"]], "lr")
    lines = table.splitlines()
    assert lines == [
        "name       value",
        "---------  -----",
        "a            1.5",
        "long name     10",
    ]
