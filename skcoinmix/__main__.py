"""``python -m skcoinmix``: the two-coin example of EM, step by step.

With no arguments (or the ``demo`` command) it prints two tables:

1. the example of Do and Batzoglou (2008), Figure 1, on the five published
   sets of ten tosses: EM from (0.60, 0.50) after 1 and 10 iterations and at
   convergence, next to the estimates that know each set's coin;
2. the seed notebook's experiment on simulated coins (10 sets of 20 tosses
   of coins with heads probabilities 0.3 and 0.7 by default): true
   probabilities, known-coin estimates and EM estimates, with the number of
   EM iterations and the log-likelihood of each.

The ``fit`` command fits a latent class model to a CSV file of 0/1 answers
(empty cells and NA are missing) and prints its fit report; with a range of
numbers of classes it prints one line per model and marks the lowest BIC.
See ``python -m skcoinmix fit --help`` and docs/cli.rst.

``main(argv)`` returns the exit status, so it can be called in-process.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import contextlib
import dataclasses
import io
import json
import math
import os
import sys
import textwrap
import time
import warnings
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp, xlog1py, xlogy
from sklearn.exceptions import ConvergenceWarning

from ._bernoulli import BernoulliMixtureEM
from ._cli_io import DataError, check_writable, format_posteriors, read_table
from ._version import __version__
from .datasets import load_coin_example, make_coin_tosses

__all__ = ["main"]

#: The names of the two coins, in the order of every (theta_A, theta_B) pair.
COINS = ("A", "B")

#: Where the example comes from.
PAPER = "Do & Batzoglou (2008), Nature Biotechnology 26:897, Figure 1"

#: EM's start (theta_A, theta_B) in the paper, Figure 1b.
PAPER_START = (0.60, 0.50)

#: The iterations shown in the paper, Figure 1b.
PAPER_ITERATIONS = (1, 10)

#: "Converged" means: the mean log-likelihood per set changed by less than
#: TOL, within at most MAX_ITER iterations.
TOL = 1e-10
MAX_ITER = 10_000

#: The simulation's defaults: those of the seed notebook.
DEFAULT_N_SETS = 10
DEFAULT_N_TOSSES = 20
DEFAULT_PROBS = (0.3, 0.7)
DEFAULT_WEIGHTS = (0.5, 0.5)
DEFAULT_START = (0.4, 0.6)
DEFAULT_RANDOM_STATE = 0

#: Width of the wrapped text around the tables.
WIDTH = 79
INDENT = "   "

#: ``--weights`` must sum to 1 within this tolerance.
WEIGHTS_SUM_ATOL = 1e-6

DESCRIPTION = """\
Expectation maximization (EM) for two coins, step by step.

Prints, as plain-text tables:

1. The example of Do & Batzoglou (2008), Nature Biotechnology 26:897,
   Figure 1: five sets of ten tosses, each made with coin A or coin B.
   EM, which does not see the coins, starts at (theta_A, theta_B) =
   (0.60, 0.50). One table shows each set with EM's probability that
   coin A made it; the next gives EM's estimates after 1 and 10
   iterations (as in Figure 1b) and at convergence, next to the
   estimates that know the coin of each set (Figure 1a).

2. The same experiment on simulated coins (the seed notebook's): N sets
   of M tosses, each set made with a coin picked at random. The table
   compares the true probabilities of heads, the known-coin estimates and
   the EM estimates (EM knows the probabilities of picking each coin and
   estimates the two thetas), with the number of EM iterations and the
   total log-likelihood of each. EM's component started at the first
   --start value is reported as coin A.

The options change the simulation only."""

EPILOG = """\
examples:
  python -m skcoinmix
  python -m skcoinmix --n-sets 100 --n-tosses 10 --probs 0.2 0.6 --random-state 3
  python -m skcoinmix demo --weights 0.8 0.2"""


# ---------------------------------------------------------------- numerics
def fit_coins(X, start, weights=(0.5, 0.5), max_iter=MAX_ITER, tol=TOL):
    """Fit the two-coin mixture by EM from ``start``, the mixing weights fixed.

    Parameters
    ----------
    X : ndarray of shape (n_sets, n_tosses)
        Tosses, 1 for heads.

    start : sequence of 2 floats
        The starting (theta_A, theta_B).

    weights : sequence of 2 floats, default=(0.5, 0.5)
        The known probabilities of picking coin A and coin B.

    max_iter : int, default=MAX_ITER
        Number of EM iterations at most; exactly that many when ``tol=0``.

    tol : float, default=TOL
        Convergence threshold on the mean log-likelihood per set. With
        ``tol=0`` EM stops after ``max_iter`` iterations, as intended, so the
        estimator's ConvergenceWarning is silenced.

    Returns
    -------
    est : BernoulliMixtureEM
        Fitted; ``est.means_[:, 0]`` is (theta_A, theta_B).
    """
    est = BernoulliMixtureEM(
        n_components=2,
        tie_features=True,
        fit_weights=False,
        weights_init=list(weights),
        means_init=[[start[0]], [start[1]]],
        max_iter=max_iter,
        tol=tol,
    )
    with warnings.catch_warnings():
        if tol == 0:
            warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X)
    return est


def known_coin_estimates(X, coins, n_coins=2):
    """Each coin's proportion of heads over the sets it made.

    Parameters
    ----------
    X : ndarray of shape (n_sets, n_tosses)
    coins : ndarray of shape (n_sets,)
        Coin indices.
    n_coins : int, default=2

    Returns
    -------
    theta : ndarray of shape (n_coins,)
        NaN for a coin that made no set.
    """
    theta = np.full(n_coins, np.nan)
    for k in range(n_coins):
        if np.any(coins == k):
            theta[k] = X[coins == k].mean()
    return theta


def coin_log_likelihood(X, theta, weights):
    """Total log-likelihood of the sets under a mixture of coins.

    ``sum_i log sum_k w_k t_k^h_i (1 - t_k)^(m - h_i)``, with ``h_i`` heads in
    the ``m`` tosses of set ``i`` (``0 log 0 = 0``).

    Parameters
    ----------
    X : ndarray of shape (n_sets, n_tosses)
    theta : array-like of shape (n_coins,)
    weights : array-like of shape (n_coins,)

    Returns
    -------
    log_likelihood : float
    """
    heads = X.sum(axis=1)[:, np.newaxis]
    tails = X.shape[1] - heads
    theta = np.asarray(theta, dtype=np.float64)
    log_prob = xlogy(heads, theta) + xlog1py(tails, -theta)
    return float(logsumexp(log_prob, b=np.asarray(weights), axis=1).sum())


# -------------------------------------------------------------- formatting
def format_table(header, rows, align):
    """Plain-text table with aligned columns and a rule under the header.

    Parameters
    ----------
    header : sequence of str
    rows : sequence of sequences of str
    align : str
        One character per column: ``"l"`` (left) or ``"r"`` (right).

    Returns
    -------
    table : str
    """
    cells = [list(header), *(list(row) for row in rows)]
    widths = [max(len(row[j]) for row in cells) for j in range(len(header))]

    def line(row):
        parts = [
            cell.ljust(width) if side == "l" else cell.rjust(width)
            for cell, width, side in zip(row, widths, align, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _paragraph(text):
    return textwrap.fill(
        text, width=WIDTH, initial_indent=INDENT, subsequent_indent=INDENT
    )


def _indent(text):
    return textwrap.indent(text, INDENT)


def _number(value, decimals):
    return "n/a" if math.isnan(value) else f"{value:.{decimals}f}"


def _estimate_row(label, iterations, theta, log_likelihood, decimals):
    return [
        label,
        iterations,
        *(_number(t, decimals) for t in theta),
        _number(log_likelihood, 2),
    ]


ESTIMATE_HEADER = ("estimate", "iterations", "theta_A", "theta_B", "log-likelihood")


# ----------------------------------------------------------------- reports
def paper_report():
    """The example of Do and Batzoglou (2008), Figure 1, as text."""
    X, coins = load_coin_example(return_coins=True)
    weights = (0.5, 0.5)
    start = fit_coins(X, PAPER_START, max_iter=0, tol=0)
    converged = fit_coins(X, PAPER_START)
    known = known_coin_estimates(X, coins)

    sets = format_table(
        ("set", "tosses", "heads", "coin", "P(A) at start", "P(A) converged"),
        [
            [
                str(i + 1),
                "".join("H" if toss else "T" for toss in row),
                str(row.sum()),
                COINS[coin],
                f"{p_start:.2f}",
                f"{p_end:.2f}",
            ]
            for i, (row, coin, p_start, p_end) in enumerate(
                zip(
                    X,
                    coins,
                    start.predict_proba(X)[:, 0],
                    converged.predict_proba(X)[:, 0],
                    strict=True,
                )
            )
        ],
        "rlrlrr",
    )

    def row(label, est):
        theta = est.means_[:, 0]
        return _estimate_row(
            label,
            str(est.n_iter_),
            theta,
            coin_log_likelihood(X, theta, weights),
            2,
        )

    rows = [row("EM start (Fig. 1b)", start)]
    for n_iter in PAPER_ITERATIONS:
        est = fit_coins(X, PAPER_START, max_iter=n_iter, tol=0)
        rows.append(row(f"EM iteration {n_iter} (Fig. 1b)", est))
    rows.append(row("EM converged", converged))
    rows.append(
        _estimate_row(
            "known coins (Fig. 1a)",
            "-",
            known,
            coin_log_likelihood(X, known, weights),
            2,
        )
    )
    estimates = format_table(ESTIMATE_HEADER, rows, "lrrrr")
    theta_a, theta_b = converged.means_[:, 0]
    status = "converged" if converged.converged_ else "did not converge"
    intro = (
        f"{X.shape[0]} sets of {X.shape[1]} tosses (H = heads), each made with "
        "coin A or coin B, picked with probability 1/2. EM does not see the "
        "coins; P(A) is its posterior probability that coin A made the set."
    )
    return "\n".join(
        [
            f"1. {PAPER}",
            _paragraph(intro),
            "",
            _indent(sets),
            "",
            _indent(estimates),
            "",
            _paragraph(
                f"EM {status} after {converged.n_iter_} iterations (tol={TOL:g}): "
                f"theta_A = {theta_a:.5f}, theta_B = {theta_b:.5f}."
            ),
        ]
    )


def simulation_report(n_sets, n_tosses, probs, weights, start, random_state):
    """The seed notebook's experiment on simulated coins, as text.

    Parameters
    ----------
    n_sets, n_tosses : int
    probs, weights, start : sequence of 2 floats
        True probabilities of heads, probabilities of picking each coin, and
        EM's starting (theta_A, theta_B).
    random_state : int

    Returns
    -------
    report : str
    """
    X, coins = make_coin_tosses(
        n_sets, n_tosses, probs, weights=weights, random_state=random_state
    )
    known = known_coin_estimates(X, coins)
    est = fit_coins(X, start, weights=weights)
    theta_em = est.means_[:, 0]
    log_likelihood_em = est.score(X) * n_sets

    known_log_likelihood = (
        math.nan if np.any(np.isnan(known)) else coin_log_likelihood(X, known, weights)
    )
    rows = [
        _estimate_row("true", "-", probs, coin_log_likelihood(X, probs, weights), 3),
        _estimate_row("known coins", "-", known, known_log_likelihood, 3),
        _estimate_row("EM", str(est.n_iter_), theta_em, log_likelihood_em, 3),
    ]
    counts = np.bincount(coins, minlength=len(COINS))
    status = (
        f"converged (tol={TOL:g})"
        if est.converged_
        else f"did not converge within {MAX_ITER} iterations"
    )
    intro = (
        f"{n_sets} sets of {n_tosses} tosses, random_state={random_state}. "
        f"Coin A gives heads with probability {probs[0]:g} and is picked with "
        f"probability {weights[0]:g}; coin B: {probs[1]:g} and {weights[1]:g}. "
        f"Coin A made {counts[0]} sets, coin B {counts[1]}. EM starts at "
        f"(theta_A, theta_B) = ({start[0]:g}, {start[1]:g}), knows the picking "
        f"probabilities, and {status}."
    )
    lines = [
        "2. Simulated coins, as in the seed notebook",
        _paragraph(intro),
        "",
        _indent(format_table(ESTIMATE_HEADER, rows, "lrrrr")),
    ]
    if np.any(np.isnan(known)):
        lines += [
            "",
            _paragraph(
                "n/a: a coin made no set, so its known-coin estimate is undefined."
            ),
        ]
    return "\n".join(lines)


# --------------------------------------------------------------------- CLI
def _integer_at_least(minimum, maximum=None):
    def convert(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum else f">= {minimum}"
            raise argparse.ArgumentTypeError(
                f"must be an integer {bound}, got {text!r}"
            )
        return value

    return convert


def _probability(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"must be a probability between 0 and 1, got {text!r}"
        )
    return value


def _add_demo_arguments(parser, *, with_defaults):
    """Add the demo's options; ``with_defaults=False`` leaves absent ones unset.

    The options exist on the main parser (the demo runs when no command is
    given) and on the ``demo`` command; the command's copy must not overwrite
    values given before it with its defaults.
    """

    def default(value):
        return value if with_defaults else argparse.SUPPRESS

    group = parser.add_argument_group("simulation options (table 2)")
    group.add_argument(
        "--n-sets",
        type=_integer_at_least(2),
        default=default(DEFAULT_N_SETS),
        metavar="N",
        help=f"number of sets of tosses, at least 2 (default: {DEFAULT_N_SETS})",
    )
    group.add_argument(
        "--n-tosses",
        type=_integer_at_least(1),
        default=default(DEFAULT_N_TOSSES),
        metavar="M",
        help=f"number of tosses in each set (default: {DEFAULT_N_TOSSES})",
    )
    group.add_argument(
        "--probs",
        type=_probability,
        nargs=2,
        default=default(DEFAULT_PROBS),
        metavar=("A", "B"),
        help="true probability of heads of coin A and of coin B "
        "(default: {} {})".format(*DEFAULT_PROBS),
    )
    group.add_argument(
        "--weights",
        type=_probability,
        nargs=2,
        default=default(DEFAULT_WEIGHTS),
        metavar=("A", "B"),
        help="probability of picking coin A and coin B for a set, summing to 1; "
        "EM keeps them fixed (default: {} {})".format(*DEFAULT_WEIGHTS),
    )
    group.add_argument(
        "--start",
        type=_probability,
        nargs=2,
        default=default(DEFAULT_START),
        metavar=("A", "B"),
        help="EM's starting theta_A and theta_B (default: {} {})".format(
            *DEFAULT_START
        ),
    )
    group.add_argument(
        "--random-state",
        type=_integer_at_least(0, 2**32 - 1),
        default=default(DEFAULT_RANDOM_STATE),
        metavar="SEED",
        help=f"seed of the simulation (default: {DEFAULT_RANDOM_STATE})",
    )


# --------------------------------------------------------------------- fit
#: The fit command's defaults, suited to latent class analysis: many random
#: starts (LCA likelihoods have local maxima) and a tight tolerance.
FIT_N_INIT = 10
FIT_TOL = 1e-8
FIT_MAX_ITER = 5000

#: The exit status of ``fit`` when the data, the options or the output file
#: cannot be used: the same as argparse's for invalid arguments.
EXIT_INVALID = 2

#: The exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130

FIT_DESCRIPTION = """\
Fit a latent class model (a mixture of Bernoulli distributions, by EM) to a
CSV file and print its fit report: class sizes, item-response
probabilities, log-likelihood, AIC, BIC, G-squared, chi-squared, entropy.

The file needs a header naming the columns, then one row per respondent
(or per response pattern, with --weights-column). Answers are 0 or 1
("0.0" and "1.0" too); an empty cell, NA or NaN (any case) is a missing
answer, handled by full-information maximum likelihood. Blank lines are
skipped. Every column except the weights column is an item.

With a range of numbers of classes (--n-components 1-6), one model is fitted
per number and one line printed for each; the lowest BIC is marked.

Errors in the file or the options are reported on stderr with exit status 2."""

FIT_EPILOG = """\
examples:
  python -m skcoinmix fit answers.csv --n-components 3 --random-state 0
  python -m skcoinmix fit answers.csv --n-components 1-5 --json
  python -m skcoinmix fit patterns.csv --n-components 2 --weights-column count \\
      --posteriors posteriors.csv"""


class ComponentChoice(NamedTuple):
    """The parsed ``--n-components``: the numbers to fit, and whether a range."""

    values: tuple
    is_range: bool


def _n_components(text):
    """``"3"`` or a range ``"1-6"``, for ``--n-components``."""
    low, dash, high = text.partition("-")
    try:
        first = int(low)
        last = int(high) if dash else first
    except ValueError:
        first = last = 0
    if not 1 <= first <= last:
        raise argparse.ArgumentTypeError(
            "must be a number of classes K >= 1 or a range K1-K2 with "
            f"1 <= K1 <= K2, got {text!r}"
        )
    return ComponentChoice(tuple(range(first, last + 1)), bool(dash))


def _finite_float(minimum=None):
    def convert(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or (minimum is not None and value < minimum):
            bound = f" >= {minimum:g}" if minimum is not None else ""
            raise argparse.ArgumentTypeError(
                f"must be a finite number{bound}, got {text!r}"
            )
        return value

    return convert


def _add_fit_command(commands, prog):
    fit = commands.add_parser(
        "fit",
        prog=f"{prog} fit",
        help="fit a latent class model to a CSV file of 0/1 answers",
        description=FIT_DESCRIPTION,
        epilog=FIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fit.add_argument(
        "data",
        metavar="DATA",
        help="CSV file with a header row ('-' reads standard input)",
    )
    fit.add_argument(
        "--n-components",
        type=_n_components,
        required=True,
        metavar="K",
        help="number of latent classes, or a range K1-K2 to compare "
        "(one line per K, lowest BIC marked)",
    )
    fit.add_argument(
        "--n-init",
        type=_integer_at_least(1),
        default=FIT_N_INIT,
        metavar="N",
        help=f"random starts of EM per model; the best is kept (default: {FIT_N_INIT})",
    )
    fit.add_argument(
        "--random-state",
        dest="seed",
        type=_integer_at_least(0, 2**32 - 1),
        default=None,
        metavar="SEED",
        help="seed of the random starts, for reproducible results "
        "(default: none, different starts on each run)",
    )
    fit.add_argument(
        "--max-iter",
        type=_integer_at_least(1),
        default=FIT_MAX_ITER,
        metavar="N",
        help=f"EM iterations per start at most (default: {FIT_MAX_ITER})",
    )
    fit.add_argument(
        "--tol",
        type=_finite_float(minimum=0.0),
        default=FIT_TOL,
        metavar="TOL",
        help="EM stops when the mean log-likelihood per row changes by less than "
        f"TOL (default: {FIT_TOL:g})",
    )
    fit.add_argument(
        "--binarize",
        type=_finite_float(),
        default=None,
        metavar="THRESHOLD",
        help="accept any numbers: values above THRESHOLD are read as 1, the "
        "others as 0 (default: the answers must be 0 or 1)",
    )
    fit.add_argument(
        "--weights-column",
        default=None,
        metavar="NAME",
        help="the column of frequencies of a table of response patterns "
        "(non-negative numbers), used as sample weights and not as an item",
    )
    fit.add_argument(
        "--posteriors",
        default=None,
        metavar="FILE",
        help="write each row's posterior class probabilities (class_1 .. "
        "class_K) and its most probable class (modal_class, numbered from 1) "
        "to this CSV file; with a range of K, those of the lowest-BIC model",
    )
    fit.add_argument(
        "--json",
        action="store_true",
        help="print the report as JSON (a list of reports with a range of K)",
    )
    return fit


def _demo_options_given(args):
    """The demo options set before a command that is not the demo."""
    defaults = {
        "--n-sets": DEFAULT_N_SETS,
        "--n-tosses": DEFAULT_N_TOSSES,
        "--probs": DEFAULT_PROBS,
        "--weights": DEFAULT_WEIGHTS,
        "--start": DEFAULT_START,
        "--random-state": DEFAULT_RANDOM_STATE,
    }
    given = []
    for option, default in defaults.items():
        value = getattr(args, option[2:].replace("-", "_"))
        if isinstance(value, list):
            value = tuple(value)
        if value != default:
            given.append(option)
    return given


class FittedModel(NamedTuple):
    """One fitted number of classes: estimator, report and warnings."""

    estimator: BernoulliMixtureEM
    report: object
    warnings: list


def fit_model(table, n_components, *, n_init, random_state, tol, max_iter, binarize):
    """Fit one latent class model to a parsed table and report it.

    Parameters
    ----------
    table : skcoinmix._cli_io.Table
    n_components : int
    n_init, random_state, tol, max_iter, binarize
        As in :class:`~skcoinmix.BernoulliMixtureEM`.

    Returns
    -------
    model : FittedModel
        The report's items are named after the table's columns; the warnings
        raised by the fit are returned as messages, not raised.

    Raises
    ------
    skcoinmix._cli_io.DataError
        If the estimator refuses the data.
    """
    from skcoinmix._report import fit_report

    est = BernoulliMixtureEM(
        n_components=n_components,
        n_init=n_init,
        tol=tol,
        max_iter=max_iter,
        random_state=random_state,
        binarize=binarize,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(table.X, sample_weight=table.weights)
        except ValueError as exc:
            raise DataError(f"cannot fit {n_components} classes: {exc}") from None
        try:
            report = fit_report(est, table.X, sample_weight=table.weights)
        except ValueError as exc:  # weights whose totals overflow float64
            raise DataError(
                f"cannot report on {n_components} classes with the weights of "
                f"column {table.weights_column!r}: {exc}"
            ) from None
    report = dataclasses.replace(report, item_labels=tuple(table.columns))
    messages = []
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            messages.append(
                f"K={n_components}: EM did not converge within {max_iter} "
                f"iterations (tol={tol:g}) in its best start; the estimates may "
                "not be a maximum. Try a larger --max-iter."
            )
        else:
            messages.append(f"K={n_components}: {warning.message}")
    return FittedModel(est, report, messages)


def _check_enough_rows(table, n_components):
    n_rows = table.X.shape[0]
    positive = n_rows if table.weights is None else int((table.weights > 0).sum())
    needed = max(2, n_components)
    if positive < needed:
        which = "data rows" if table.weights is None else "rows with a positive weight"
        classes = f"{n_components} class{'es' if n_components != 1 else ''}"
        raise DataError(
            f"{classes} need at least {needed} {which}, but the data have {positive}."
        )


def _data_summary(name, table):
    n_rows, n_items = table.X.shape
    text = (
        f"Data: {name}, {n_rows} row{'s' if n_rows != 1 else ''}, "
        f"{n_items} item{'s' if n_items != 1 else ''}, "
        f"{table.n_missing} missing answer{'s' if table.n_missing != 1 else ''}"
    )
    if table.weights_column is not None:
        text += f", weights from column {table.weights_column!r}"
    return text + "."


def _settings_summary(args):
    binarize = "none (0/1 data)" if args.binarize is None else f"{args.binarize:g}"
    return (
        f"EM: {args.n_init} random start{'s' if args.n_init != 1 else ''} per "
        f"model, tol={args.tol:g}, max_iter={args.max_iter}, "
        f"random_state={args.seed}, binarize={binarize}."
    )


def comparison_table(reports, best):
    """One line per model: K, parameters, log-likelihood, AIC, BIC, entropy.

    Parameters
    ----------
    reports : list of FitReport
    best : int
        The index of the model marked "lowest BIC".

    Returns
    -------
    table : str
        The relative entropy is shown as "-" for one class, where it is 1 by
        convention.
    """
    rows = []
    for index, report in enumerate(reports):
        notes = []
        if index == best:
            notes.append("<- lowest BIC")
        if not report.converged:
            notes.append("(did not converge)")
        rows.append(
            [
                str(report.n_components),
                str(report.n_parameters),
                f"{report.log_likelihood:.4f}",
                f"{report.aic:.4f}",
                f"{report.bic:.4f}",
                "-" if report.n_components == 1 else f"{report.relative_entropy:.4f}",
                " ".join(notes),
            ]
        )
    header = ("K", "parameters", "log-likelihood", "AIC", "BIC", "entropy", "")
    return format_table(header, rows, "rrrrrrl")


def _write(path, text):
    try:
        with open(path, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DataError(f"cannot write the posteriors to {path!r}: {reason}.") from None


def run_fit(args, prog="skcoinmix fit", stdout=None, stderr=None):
    """The ``fit`` command, from parsed arguments.

    Parameters
    ----------
    args : argparse.Namespace
        As parsed by :func:`build_parser`.
    prog : str, default="skcoinmix fit"
        The command's name in messages.
    stdout, stderr : file, default=None
        Where the output and the messages go; None: ``sys.stdout`` and
        ``sys.stderr``.

    Returns
    -------
    status : int
        0 on success; EXIT_INVALID (2) when the file, the data or the output
        path cannot be used (the message is on stderr); EXIT_INTERRUPTED (130)
        after Ctrl-C.
    """
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    progress = stderr.isatty()
    try:
        if args.posteriors is not None:
            check_writable(args.posteriors, None if args.data == "-" else args.data)
        table = read_table(
            args.data,
            weights_column=args.weights_column,
            binarize=args.binarize is not None,
        )
        choice = args.n_components
        _check_enough_rows(table, max(choice.values))
        models = []
        for n_components in choice.values:
            if progress:
                print(
                    f"fitting K={n_components} ({args.n_init} random "
                    f"start{'s' if args.n_init != 1 else ''}) ...",
                    end="",
                    file=stderr,
                    flush=True,
                )
                started = time.perf_counter()
            model = fit_model(
                table,
                n_components,
                n_init=args.n_init,
                random_state=args.seed,
                tol=args.tol,
                max_iter=args.max_iter,
                binarize=args.binarize,
            )
            if progress:
                print(f" done in {time.perf_counter() - started:.1f} s", file=stderr)
            for message in model.warnings:
                print(f"{prog}: warning: {message}", file=stderr)
            models.append(model)
        reports = [model.report for model in models]
        best = int(np.argmin([report.bic for report in reports]))
        if args.posteriors is not None:
            resp = models[best].estimator.predict_proba(table.X)
            _write(args.posteriors, format_posteriors(resp))
    except DataError as exc:
        print(f"{prog}: error: {exc}", file=stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=stderr)
        return EXIT_INTERRUPTED

    name = "standard input" if args.data == "-" else repr(args.data)
    if args.json:
        if choice.is_range:
            output = [
                {**report.to_dict(), "lowest_bic": index == best}
                for index, report in enumerate(reports)
            ]
        else:
            output = reports[0].to_dict()
        print(json.dumps(output, indent=2), file=stdout)
    elif choice.is_range:
        print(_data_summary(name, table), file=stdout)
        print(_settings_summary(args), file=stdout)
        print(file=stdout)
        print(comparison_table(reports, best), file=stdout)
    else:
        print(_data_summary(name, table), file=stdout)
        print(_settings_summary(args), file=stdout)
        print(file=stdout)
        print(reports[0], file=stdout)
    return 0


def build_parser(prog=None):
    """The argument parser: the demo options, and the commands.

    Parameters
    ----------
    prog : str, default=None
        The program name shown in messages; None guesses it from
        ``sys.argv[0]``.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    if prog is None:
        name = os.path.basename(sys.argv[0])
        prog = "skcoinmix" if name.startswith("skcoinmix") else "python -m skcoinmix"
    parser = argparse.ArgumentParser(
        prog=prog,
        usage="%(prog)s [-h] [--version] [COMMAND] [options]",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"skcoinmix {__version__}"
    )
    _add_demo_arguments(parser, with_defaults=True)
    commands = parser.add_subparsers(
        dest="command",
        title="commands",
        metavar="COMMAND",
        description="With no command, the demo runs.",
    )
    demo = commands.add_parser(
        "demo",
        help="the two-coin EM example (the default)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_demo_arguments(demo, with_defaults=False)
    _add_fit_command(commands, prog)
    return parser


@contextlib.contextmanager
def _escaped_output():
    """Let standard output and error escape what their encoding cannot write.

    A column named ``日本`` printed where the encoding is cp1252 (a Windows
    console, ``PYTHONIOENCODING``) comes out as ``\\u65e5\\u672c`` instead of
    failing with a UnicodeEncodeError. The error handlers are restored on
    the way out, for a caller of :func:`main` in the same process.
    """
    changed = []
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and not stream.closed:
            changed.append((stream, stream.errors))
            stream.reconfigure(errors="backslashreplace")
    try:
        yield
    finally:
        for stream, errors in changed:
            # A closed pipe (``| head``) cannot be flushed: nothing to restore.
            with contextlib.suppress(OSError, ValueError):
                stream.reconfigure(errors=errors)


def main(argv=None):
    """Run ``python -m skcoinmix`` with the arguments ``argv``.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments without the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success. Invalid arguments exit with status 2 (``SystemExit``),
        as argparse does; ``fit`` returns 2 when its data file, its data or
        its output file cannot be used (see :func:`run_fit`).

    Notes
    -----
    Characters that the encoding of standard output or error cannot write
    (e.g. a column name in Japanese on a cp1252 console) are written as
    backslash escapes, ``\\u65e5``, rather than failing.
    """
    with _escaped_output():
        return _main(argv)


def _main(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    if abs(sum(args.weights) - 1.0) > WEIGHTS_SUM_ATOL:
        parser.error(
            "argument --weights: the probabilities of picking coin A and coin B "
            f"must sum to 1, got {args.weights[0]:g} + {args.weights[1]:g} = "
            f"{sum(args.weights):g}"
        )
    if args.command == "fit":
        given = _demo_options_given(args)
        if given:
            parser.error(
                f"{', '.join(given)} belong{'s' if len(given) == 1 else ''} to the "
                "demo; the options of fit go after 'fit'"
            )
        return run_fit(args, prog=f"{parser.prog} fit")
    # The demo (args.command is None or "demo").
    print(paper_report())
    print()
    print(
        simulation_report(
            n_sets=args.n_sets,
            n_tosses=args.n_tosses,
            probs=tuple(args.probs),
            weights=tuple(args.weights),
            start=tuple(args.start),
            random_state=args.random_state,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
