"""The ``demo`` command: the two-coin example of EM, step by step.

It prints two tables:

1. the example of Do and Batzoglou (2008), Figure 1, on the five published
   sets of ten tosses: EM from (0.60, 0.50) after 1 and 10 iterations and at
   convergence, next to the estimates that know each set's coin;
2. the seed notebook's experiment on simulated coins (10 sets of 20 tosses
   of coins with heads probabilities 0.3 and 0.7 by default): true
   probabilities, known-coin estimates and EM estimates, with the number of
   EM iterations and the log-likelihood of each.

It is what ``python -m skcoinmix`` runs without a command.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import math
import sys
import textwrap
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .. import BernoulliMixtureEM
from ..datasets import load_coin_example, make_coin_tosses
from ._argtypes import integer_at_least, probability
from ._text import format_table

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
    """Fit the mixture of coins by EM from ``start``, the mixing weights fixed.

    Parameters
    ----------
    X : ndarray of shape (n_sets, n_tosses)
        Tosses, 1 for heads.

    start : sequence of floats
        The starting probabilities of heads, (theta_A, theta_B) for two coins.

    weights : sequence of floats, default=(0.5, 0.5)
        The known probabilities of picking each coin, as many as ``start``.

    max_iter : int, default=MAX_ITER
        Number of EM iterations at most; exactly that many when ``tol=0``.

    tol : float, default=TOL
        Convergence threshold on the mean log-likelihood per set. With
        ``tol=0`` EM stops after ``max_iter`` iterations, as intended, so the
        estimator's ConvergenceWarning is silenced.

    Returns
    -------
    est : BernoulliMixtureEM
        Fitted; ``est.means_[:, 0]`` is (theta_A, theta_B). With
        ``max_iter=0`` it stays at ``start`` (no E-step, no warning).
    """
    est = BernoulliMixtureEM(
        n_components=len(start),
        tie_features=True,
        fit_weights=False,
        weights_init=list(weights),
        means_init=[[theta] for theta in start],
        max_iter=max_iter,
        tol=tol,
        accelerate=None,  # the paper's iterations are plain EM updates
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


def log_likelihood_at(X, theta, weights):
    """Total log-likelihood of the sets under given coins and weights.

    ``sum_i log sum_k w_k t_k^h_i (1 - t_k)^(m - h_i)``, with ``h_i`` heads in
    the ``m`` tosses of set ``i``, as the estimator computes it: the model of
    :func:`fit_coins` started at ``theta`` and stopped there (``max_iter=0``),
    scored by :meth:`~skcoinmix.BernoulliMixtureEM.score_samples`. Like every
    probability of the estimator, ``theta`` is clipped to
    ``[1e-10, 1 - 1e-10]``.

    Parameters
    ----------
    X : ndarray of shape (n_sets, n_tosses)
        At least 2 sets, as for the estimator's ``fit``.
    theta : sequence of floats
        Each coin's probability of heads.
    weights : sequence of floats
        Each coin's probability of being picked, summing to 1.

    Returns
    -------
    log_likelihood : float
    """
    est = fit_coins(X, theta, weights=weights, max_iter=0, tol=0)
    return float(est.score_samples(X).sum())


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
        log_likelihood = float(est.score_samples(X).sum())
        return _estimate_row(
            label, str(est.n_iter_), est.means_[:, 0], log_likelihood, 2
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
            log_likelihood_at(X, known, weights),
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
        math.nan if np.any(np.isnan(known)) else log_likelihood_at(X, known, weights)
    )
    rows = [
        _estimate_row("true", "-", probs, log_likelihood_at(X, probs, weights), 3),
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


#: The demo's options: the attribute argparse stores each in, its flag and
#: its default.
OPTIONS = {
    "n_sets": ("--n-sets", DEFAULT_N_SETS),
    "n_tosses": ("--n-tosses", DEFAULT_N_TOSSES),
    "probs": ("--probs", DEFAULT_PROBS),
    "weights": ("--weights", DEFAULT_WEIGHTS),
    "start": ("--start", DEFAULT_START),
    "random_state": ("--random-state", DEFAULT_RANDOM_STATE),
}


def add_arguments(parser):
    """Add the demo's options to ``parser``; an option not given stays unset.

    They go on the top-level parser (the demo runs when no command is given:
    ``python -m skcoinmix --n-sets 100``) and on the ``demo`` command. No
    default is stored, so that the command's copy never overwrites a value
    given before it, and so that :func:`given_options` knows exactly what
    was typed; :func:`settings` fills in the defaults.
    """
    group = parser.add_argument_group("simulation options (table 2)")
    group.add_argument(
        "--n-sets",
        type=integer_at_least(2),
        default=argparse.SUPPRESS,
        metavar="N",
        help=f"number of sets of tosses, at least 2 (default: {DEFAULT_N_SETS})",
    )
    group.add_argument(
        "--n-tosses",
        type=integer_at_least(1),
        default=argparse.SUPPRESS,
        metavar="M",
        help=f"number of tosses in each set (default: {DEFAULT_N_TOSSES})",
    )
    group.add_argument(
        "--probs",
        type=probability,
        nargs=2,
        default=argparse.SUPPRESS,
        metavar=("A", "B"),
        help="true probability of heads of coin A and of coin B "
        "(default: {} {})".format(*DEFAULT_PROBS),
    )
    group.add_argument(
        "--weights",
        type=probability,
        nargs=2,
        default=argparse.SUPPRESS,
        metavar=("A", "B"),
        help="probability of picking coin A and coin B for a set, summing to 1; "
        "EM keeps them fixed (default: {} {})".format(*DEFAULT_WEIGHTS),
    )
    group.add_argument(
        "--start",
        type=probability,
        nargs=2,
        default=argparse.SUPPRESS,
        metavar=("A", "B"),
        help="EM's starting theta_A and theta_B (default: {} {})".format(
            *DEFAULT_START
        ),
    )
    group.add_argument(
        "--random-state",
        type=integer_at_least(0, 2**32 - 1),
        default=argparse.SUPPRESS,
        metavar="SEED",
        help=f"seed of the simulation (default: {DEFAULT_RANDOM_STATE})",
    )


def add_command(commands, prog):
    """Add the ``demo`` command to the subparsers ``commands``.

    Parameters
    ----------
    commands : argparse subparsers action
    prog : str
        The top-level program's name.

    Returns
    -------
    parser : argparse.ArgumentParser
        The command's parser.
    """
    demo = commands.add_parser(
        "demo",
        prog=f"{prog} demo",
        help="the two-coin EM example (the default)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(demo)
    return demo


def given_options(args):
    """The flags of the demo's options that were given, in ``OPTIONS`` order.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by a parser set up with :func:`add_arguments`.

    Returns
    -------
    flags : list of str
    """
    return [flag for name, (flag, _) in OPTIONS.items() if hasattr(args, name)]


def settings(args):
    """The simulation's settings: the options given, the defaults elsewhere.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by a parser set up with :func:`add_arguments`.

    Returns
    -------
    settings : dict
        The keyword arguments of :func:`simulation_report`; the pairs
        (``probs``, ``weights``, ``start``) as tuples.
    """
    values = {}
    for name, (_, default) in OPTIONS.items():
        value = getattr(args, name, default)
        values[name] = tuple(value) if isinstance(value, list) else value
    return values


def run(args, parser, stdout=None):
    """The demo, from parsed arguments: both tables on ``stdout``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by a parser set up with :func:`add_arguments`.
    parser : argparse.ArgumentParser
        Reports the options that are valid one by one but not together
        (``--weights`` that do not sum to 1): exit status 2.
    stdout : file, default=None
        None: ``sys.stdout``.

    Returns
    -------
    status : int
        0.
    """
    options = settings(args)
    weights = options["weights"]
    if abs(sum(weights) - 1.0) > WEIGHTS_SUM_ATOL:
        parser.error(
            "argument --weights: the probabilities of picking coin A and coin B "
            f"must sum to 1, got {weights[0]:g} + {weights[1]:g} = "
            f"{sum(weights):g}"
        )
    stdout = sys.stdout if stdout is None else stdout
    print(paper_report(), file=stdout)
    print(file=stdout)
    print(simulation_report(**options), file=stdout)
    return 0
