"""The ``fit`` command: a latent class model fitted to a CSV file.

It fits a latent class model to a CSV file of answers (empty cells and
NA are missing) and prints its fit report; with a range of numbers of
classes it prints one line per model and marks the lowest BIC. The models
that ``--model`` chooses from, their options and the values their files may
hold are in the registry :mod:`._models`; this module names none. See
``python -m skcoinmix fit --help`` and docs/cli.rst.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import dataclasses
import json
import sys
import time
import warnings
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .. import fit_report
from ..inference import bootstrap_lrt, standard_errors, vlmr_test
from . import _models
from ._argtypes import finite_float, integer_at_least
from ._csv import (
    DataError,
    accepts_every_item,
    build_table,
    check_writable,
    format_posteriors,
    read_records,
)
from ._text import format_table

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
Fit a latent class model (a mixture of Bernoulli or categorical
distributions, by EM) to a CSV file and print its fit report: class sizes,
item-response probabilities, log-likelihood, AIC, BIC, G-squared,
chi-squared, entropy.

The file needs a header naming the columns, then one row per respondent
(or per response pattern, with --weights-column). Answers are 0 or 1
("0.0" and "1.0" too), or categories: codes such as poLCA's 1, 2, 3 or text
labels. An empty cell, NA or NaN (any case) is a missing answer, handled by
full-information maximum likelihood. Blank lines are skipped. Every column
except the weights column is an item.

With a range of numbers of classes (--n-components 1-6), one model is fitted
per number and one line printed for each; the lowest BIC is marked. --vlmr
and --blrt B add tests of K - 1 against K classes for every K >= 2: the
Vuong-Lo-Mendell-Rubin test and its adjusted version (Mplus's TECH11), and
the parametric bootstrap likelihood-ratio test with B replicates (TECH14).
--se adds standard errors to the report.

--model chooses the model; the default, auto, fits a file of 0/1 answers
with the Bernoulli model (a latent class model of binary items) and any
other file with the categorical model (latent class analysis as poLCA fits
it): a column of numbers has them as categories, sorted by value; any other
column has its labels as written, sorted alphabetically.

Errors in the file or the options are reported on stderr with exit status 2."""

FIT_EPILOG = """\
examples:
  python -m skcoinmix fit answers.csv --n-components 3 --random-state 0
  python -m skcoinmix fit answers.csv --n-components 1-5 --json
  python -m skcoinmix fit gss82.csv --n-components 3 --n-init 20 --tol 1e-13
  python -m skcoinmix fit gss82.csv --n-components 1-4 --vlmr --blrt 99 --se opg
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


def add_command(commands, prog):
    """Add the ``fit`` command to the subparsers ``commands``.

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
    fit = commands.add_parser(
        "fit",
        prog=f"{prog} fit",
        help="fit a latent class model to a CSV file (0/1 answers, categories, "
        "or counts with --model binomial)",
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
        type=integer_at_least(1),
        default=FIT_N_INIT,
        metavar="N",
        help=f"random starts of EM per model; the best is kept (default: {FIT_N_INIT})",
    )
    fit.add_argument(
        "--random-state",
        dest="seed",
        type=integer_at_least(0, 2**32 - 1),
        default=None,
        metavar="SEED",
        help="seed of the random starts, for reproducible results "
        "(default: none, different starts on each run)",
    )
    fit.add_argument(
        "--max-iter",
        type=integer_at_least(1),
        default=FIT_MAX_ITER,
        metavar="N",
        help=f"EM iterations per start at most (default: {FIT_MAX_ITER})",
    )
    fit.add_argument(
        "--tol",
        type=finite_float(minimum=0.0),
        default=FIT_TOL,
        metavar="TOL",
        help="EM stops when the mean log-likelihood per row changes by less than "
        f"TOL (default: {FIT_TOL:g})",
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
    fit.add_argument(
        "--se",
        choices=("opg", "hessian"),
        default=None,
        help="add standard errors of the class sizes and item probabilities to "
        "the report: opg (outer product of the scores, as poLCA) or hessian "
        "(observed information, as Mplus)",
    )
    fit.add_argument(
        "--vlmr",
        action="store_true",
        help="test K - 1 against K classes for every K >= 2 by the "
        "Vuong-Lo-Mendell-Rubin likelihood-ratio test and its adjusted version "
        "(Mplus's TECH11; its size is known to be off, see the docs)",
    )
    fit.add_argument(
        "--blrt",
        type=integer_at_least(1),
        default=None,
        metavar="B",
        help="test K - 1 against K classes for every K >= 2 by the parametric "
        "bootstrap likelihood-ratio test with B replicates (Mplus's TECH14; 99 "
        "is a good choice, 19 the fewest that can reject at 5%%); each "
        "replicate refits both models with --n-init starts",
    )
    _models.add_arguments(fit)
    return fit


def class_number_tests(model, table, args):
    """The tests of K - 1 against K classes that ``args`` ask for.

    Parameters
    ----------
    model : FittedModel
    table : skcoinmix.cli._csv.Table
    args : argparse.Namespace
        ``args.vlmr`` and ``args.blrt`` (None or the number of replicates).

    Returns
    -------
    tests : dict or None
        ``vlmr_statistic``, ``vlmr_pvalue`` and ``lmr_adjusted_pvalue`` with
        ``--vlmr``; ``blrt_statistic`` and ``blrt_pvalue`` with ``--blrt``;
        None when none was asked for or K = 1.

    Raises
    ------
    skcoinmix.cli._csv.DataError
        If a test refuses the data (e.g. weights that are not whole numbers
        for the bootstrap).
    """
    K = model.estimator.n_components
    if K == 1 or not (args.vlmr or args.blrt):
        return None
    tests = {}
    try:
        if args.vlmr:
            result = vlmr_test(
                model.estimator,
                table.X,
                sample_weight=table.weights,
                random_state=args.seed,
            )
            tests.update(
                vlmr_statistic=float(result.statistic),
                vlmr_pvalue=float(result.pvalue),
                lmr_adjusted_pvalue=float(result.adjusted_pvalue),
            )
        if args.blrt:
            with warnings.catch_warnings():
                # Reported as a count by the result, not once per replicate.
                warnings.simplefilter("ignore", ConvergenceWarning)
                result = bootstrap_lrt(
                    model.estimator,
                    table.X,
                    n_bootstrap=args.blrt,
                    sample_weight=table.weights,
                    random_state=args.seed,
                )
            tests.update(
                blrt_statistic=float(result.statistic),
                blrt_pvalue=float(result.pvalue),
                blrt_replicates=int(result.n_bootstrap),
                blrt_not_converged=int(result.n_not_converged),
            )
    except ValueError as exc:
        raise DataError(f"cannot test {K - 1} against {K} classes: {exc}") from None
    return tests


#: The p-value columns of the comparison table: (key, header).
TEST_COLUMNS = (
    ("vlmr_pvalue", "VLMR p"),
    ("lmr_adjusted_pvalue", "adj. LMR p"),
    ("blrt_pvalue", "BLRT p"),
)


def _test_lines(tests):
    """The text block of the tests of K - 1 against K classes (a single K)."""
    lines = []
    if "vlmr_pvalue" in tests:
        lines.append(
            f"  Vuong-Lo-Mendell-Rubin LR = {tests['vlmr_statistic']:.4f}, "
            f"p = {tests['vlmr_pvalue']:.4f} (adjusted LMR p = "
            f"{tests['lmr_adjusted_pvalue']:.4f})"
        )
    if "blrt_pvalue" in tests:
        lines.append(
            f"  parametric bootstrap LR = {tests['blrt_statistic']:.4f}, "
            f"p = {tests['blrt_pvalue']:.4f} ({tests['blrt_replicates']} "
            "replicates)"
        )
    return lines


class FittedModel(NamedTuple):
    """One fitted number of classes: estimator, report and warnings."""

    estimator: object
    report: object
    warnings: list


def fit_model(table, estimator, item_labels=None, se=None):
    """Fit a model to a parsed table and report it.

    Parameters
    ----------
    table : skcoinmix.cli._csv.Table
    estimator : estimator
        Unfitted, as a registry entry builds it (:mod:`._models`); fitted
        here, in place.
    item_labels : callable, default=None
        ``item_labels(columns, estimator)``: the labels of the report's item
        rows (a registry entry's); None: the table's columns.
    se : {"opg", "hessian"}, default=None
        Add standard errors of this method to the report (see
        :func:`skcoinmix.inference.standard_errors`); None: none.

    Returns
    -------
    model : FittedModel
        The report's items are named after the table's columns; the warnings
        raised by the fit are returned as messages, not raised.

    Raises
    ------
    skcoinmix.cli._csv.DataError
        If the estimator refuses the data.
    """
    est = estimator
    n_components, max_iter = est.n_components, est.max_iter
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(table.X, sample_weight=table.weights)
        except ValueError as exc:
            raise DataError(f"cannot fit {n_components} classes: {exc}") from None
        try:
            errors = (
                None
                if se is None
                else standard_errors(
                    est, table.X, method=se, sample_weight=table.weights
                )
            )
            report = fit_report(
                est, table.X, sample_weight=table.weights, standard_errors=errors
            )
        except ValueError as exc:  # weights whose totals overflow float64
            raise DataError(
                f"cannot report on {n_components} classes with the weights of "
                f"column {table.weights_column!r}: {exc}"
            ) from None
    labels = (
        tuple(table.columns) if item_labels is None else item_labels(table.columns, est)
    )
    report = dataclasses.replace(
        report,
        item_labels=labels,
        largest_bivariate_residuals=_named_pairs(
            report.largest_bivariate_residuals, table.columns
        ),
    )
    messages = []
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            messages.append(
                f"K={n_components}: EM did not converge within {max_iter} "
                f"iterations (tol={est.tol:g}) in its best start; the estimates may "
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


def _settings_summary(args, choice):
    reason = f" ({choice.reason})" if choice.reason else ""
    return (
        f"EM: {args.n_init} random start{'s' if args.n_init != 1 else ''} per "
        f"model, tol={args.tol:g}, max_iter={args.max_iter}, "
        f"random_state={args.seed}, {choice.model.settings(args)}{reason}."
    )


def _named_pairs(pairs, columns):
    """The report's pairs of items named after the table's columns.

    The estimator is fitted to an unnamed array, so the report names item
    ``j`` ``"item j"``.
    """
    if pairs is None:
        return None
    names = {f"item {j}": str(name) for j, name in enumerate(columns)}
    return tuple((names[a], names[b], value, df) for a, b, value, df in pairs)


def comparison_table(reports, best, tests=None):
    """One line per model: K, parameters, log-likelihood, AIC, BIC, entropy.

    Parameters
    ----------
    reports : list of FitReport
    best : int
        The index of the model marked "lowest BIC".
    tests : list of (dict or None), default=None
        Each model's tests of K - 1 against K classes
        (:func:`class_number_tests`): their p-values are added as columns.

    Returns
    -------
    table : str
        The relative entropy is shown as "-" for one class, where it is 1 by
        convention.
    """
    tests = [None] * len(reports) if tests is None else tests
    columns = [
        (key, header)
        for key, header in TEST_COLUMNS
        if any(key in (test or {}) for test in tests)
    ]
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
                *(
                    "-" if tests[index] is None else f"{tests[index][key]:.4f}"
                    for key, _ in columns
                ),
                " ".join(notes),
            ]
        )
    header = (
        "K",
        "parameters",
        "log-likelihood",
        "AIC",
        "BIC",
        "entropy",
        *(header for _, header in columns),
        "",
    )
    return format_table(header, rows, "r" * (len(header) - 1) + "l")


def _write(path, text):
    try:
        with open(path, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DataError(f"cannot write the posteriors to {path!r}: {reason}.") from None


def run(args, prog="skcoinmix fit", stdout=None, stderr=None):
    """The ``fit`` command, from parsed arguments.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by a parser set up with :func:`add_command`.
    prog : str, default="skcoinmix fit"
        The command's name in messages.
    stdout, stderr : file, default=None
        Where the output and the messages go; None: ``sys.stdout`` and
        ``sys.stderr``.

    Returns
    -------
    status : int
        0 on success; EXIT_INVALID (2) when the options together, the file,
        the data or the output path cannot be used (the message is on
        stderr); EXIT_INTERRUPTED (130) after Ctrl-C.
    """
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    progress = stderr.isatty()
    try:
        candidates = _models.resolve(args)
        if args.posteriors is not None:
            check_writable(args.posteriors, None if args.data == "-" else args.data)
        records = read_records(args.data)
        chosen = _models.choose(
            candidates,
            lambda values: accepts_every_item(records, values, args.weights_column),
        )
        spec = chosen.model
        table = build_table(
            records, weights_column=args.weights_column, values=chosen.values
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
            estimator = spec.build(
                args,
                n_components=n_components,
                n_init=args.n_init,
                tol=args.tol,
                max_iter=args.max_iter,
                random_state=args.seed,
            )
            fitted = fit_model(table, estimator, spec.item_labels, se=args.se)
            if progress:
                print(f" done in {time.perf_counter() - started:.1f} s", file=stderr)
            for message in fitted.warnings:
                print(f"{prog}: warning: {message}", file=stderr)
            models.append(fitted)
        reports = [model.report for model in models]
        best = int(np.argmin([report.bic for report in reports]))
        tests = []
        for model in models:
            if progress and (args.vlmr or args.blrt) and model.report.n_components > 1:
                K = model.report.n_components
                print(f"testing {K - 1} against {K} classes ...", file=stderr)
            tests.append(class_number_tests(model, table, args))
        if args.posteriors is not None:
            resp = models[best].estimator.predict_proba(table.X)
            _write(args.posteriors, format_posteriors(resp))
    except (DataError, _models.OptionError) as exc:
        print(f"{prog}: error: {exc}", file=stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=stderr)
        return EXIT_INTERRUPTED

    name = "standard input" if args.data == "-" else repr(args.data)
    if args.json:
        if choice.is_range:
            output = [
                {
                    **report.to_dict(),
                    "lowest_bic": index == best,
                    "class_number_tests": tests[index],
                }
                for index, report in enumerate(reports)
            ]
        else:
            output = {**reports[0].to_dict(), "class_number_tests": tests[0]}
        print(json.dumps(output, indent=2), file=stdout)
    elif choice.is_range:
        print(_data_summary(name, table), file=stdout)
        print(_settings_summary(args, chosen), file=stdout)
        print(file=stdout)
        print(comparison_table(reports, best, tests), file=stdout)
    else:
        print(_data_summary(name, table), file=stdout)
        print(_settings_summary(args, chosen), file=stdout)
        print(file=stdout)
        print(reports[0], file=stdout)
        if tests[0] is not None:
            K = reports[0].n_components
            print(f"\nTests of {K - 1} against {K} classes", file=stdout)
            print("\n".join(_test_lines(tests[0])), file=stdout)
    return 0
