"""The models that ``fit --model`` can fit, as a registry.

An entry of :data:`MODELS` says what the ``fit`` command needs to know of
one model: which of the :data:`MODEL_OPTIONS` it takes, which values its
data columns may hold (a :class:`~._csv.ValueRule`), how to build the
estimator, and how to describe its settings. The command itself names no
model. Adding one is an entry here plus its options (binomial counts below
are one).

``--model auto`` (the default) chooses among the models marked ``auto``,
in registry order, the first whose values accept every item of the file:
Bernoulli for 0/1 answers, else the categorical model, which takes any
labels. A model of counts must never be marked ``auto``: counts and
category codes look alike, so only the user can tell which is meant (under
``auto``, numbers other than 0/1 are categories).
"""

# SPDX-License-Identifier: BSD-3-Clause

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from .. import BernoulliMixtureEM, BinomialMixtureEM, CategoricalMixtureEM
from .._report import category_row_label
from ._argtypes import finite_float, integer_at_least
from ._csv import BINARY, CATEGORIES, NUMBERS, ValueRule

__all__ = [
    "AUTO",
    "MODELS",
    "MODEL_OPTIONS",
    "Choice",
    "CliModel",
    "OptionError",
    "add_arguments",
    "choose",
    "dest",
    "resolve",
]

#: The ``--model`` value that lets the command choose.
AUTO = "auto"


class OptionError(ValueError):
    """Options that are valid one by one but not together."""


@dataclass(frozen=True)
class CliModel:
    """What the ``fit`` command needs to know of one model.

    Attributes
    ----------
    name : str
        The value of ``--model``.
    help : str
        One line for ``fit --help``.
    data : str
        The data it fits, for messages ("0/1 answers").
    options : tuple of str
        The flags of :data:`MODEL_OPTIONS` it takes; the others are refused
        with it.
    values : callable
        ``values(args) -> ValueRule``: what an item column may hold, given
        the parsed options.
    build : callable
        ``build(args, n_components=, n_init=, tol=, max_iter=,
        random_state=) -> estimator``, unfitted.
    settings : callable
        ``settings(args) -> str``: its options, for the line that describes
        the fit ("binarize=none (0/1 data)").
    auto : bool, default=False
        Whether ``--model auto`` may choose it: the first such model (in
        registry order) whose values accept every item of the file.
    item_labels : callable, default=None
        ``item_labels(columns, estimator) -> tuple of str``: the labels of
        the rows of the report's item table, from the names of the item
        columns and the fitted estimator; None: the column names, one row
        per item.
    """

    name: str
    help: str
    data: str
    options: tuple
    values: Callable
    build: Callable
    settings: Callable
    auto: bool = False
    item_labels: Callable | None = None


#: The options of the models, by flag: keyword arguments of
#: ``add_argument``. Each must have no default: None means "not given".
MODEL_OPTIONS = {
    "--binarize": {
        "type": finite_float(),
        "metavar": "THRESHOLD",
        "help": "accept any numbers: values above THRESHOLD are read as 1, the "
        "others as 0 (default: the answers must be 0 or 1)",
    },
    "--n-trials": {
        "type": integer_at_least(1),
        "metavar": "N",
        "help": "the number of trials behind every count (required)",
    },
}

_BINARIZE_HINT = (
    " Recode or drop the column, pass --binarize THRESHOLD to read numbers "
    "above THRESHOLD as 1 and the others as 0, or fit each value as a category "
    "with --model categorical."
)

_WORDS_HINT = (
    " --binarize reads numbers only: to fit labels, pass --model categorical "
    "without --binarize."
)


def _bernoulli_values(args):
    if args.binarize is not None:
        return dataclasses.replace(NUMBERS, hint=_WORDS_HINT)
    return dataclasses.replace(BINARY, hint=_BINARIZE_HINT)


def _bernoulli_settings(args):
    binarize = "none (0/1 data)" if args.binarize is None else f"{args.binarize:g}"
    return f"binarize={binarize}"


def _binomial_values(args):
    n = args.n_trials
    if n is None:
        raise OptionError(
            "--model binomial needs --n-trials N, the number of trials behind "
            "each count: no default could be right for every data set"
        )
    return ValueRule(
        lambda value: value is not None and (math.isnan(value) or 0 <= value <= n),
        "column {name!r} has values that are not counts from 0 to "
        + str(n)
        + ": {found}. Counts must lie between 0 and --n-trials, with an empty "
        "cell, NA or NaN for a missing count.",
    )


def _categorical_item_labels(columns, estimator):
    """One row per category of each item: ``"PURPOSE = 1"``, in ``categories_`` order."""
    return tuple(
        category_row_label(name, value)
        for name, values in zip(columns, estimator.categories_, strict=True)
        for value in values.tolist()
    )


#: The models of ``--model``, in the order of ``fit --help``.
MODELS = {
    "bernoulli": CliModel(
        name="bernoulli",
        help="latent class model of 0/1 answers (BernoulliMixtureEM)",
        data="0/1 answers",
        options=("--binarize",),
        values=_bernoulli_values,
        build=lambda args, **common: BernoulliMixtureEM(
            binarize=args.binarize, **common
        ),
        settings=_bernoulli_settings,
        auto=True,
    ),
    # Never auto: counts and category codes look alike.
    "binomial": CliModel(
        name="binomial",
        help="counts of successes out of --n-trials trials (BinomialMixtureEM)",
        data="counts from 0 to --n-trials",
        options=("--n-trials",),
        values=_binomial_values,
        build=lambda args, **common: BinomialMixtureEM(
            n_trials=args.n_trials, **common
        ),
        settings=lambda args: f"n_trials={args.n_trials}",
    ),
    # Auto after bernoulli: what is not 0/1 is taken for categories.
    "categorical": CliModel(
        name="categorical",
        help="latent class model of categories, codes such as poLCA's 1, 2, 3 "
        "(sorted by value) or text labels (sorted as text) "
        "(CategoricalMixtureEM)",
        data="category codes or labels",
        options=(),
        values=lambda args: CATEGORIES,
        build=lambda args, **common: CategoricalMixtureEM(**common),
        settings=lambda args: "categorical model",
        auto=True,
        item_labels=_categorical_item_labels,
    ),
}


def dest(flag):
    """The attribute argparse stores the option ``flag`` in."""
    return flag.removeprefix("--").replace("-", "_")


def add_arguments(parser):
    """Add ``--model`` and every model's options to the parser of ``fit``."""
    choices = "; ".join(f"{model.name}: {model.help}" for model in MODELS.values())
    *first, last = _auto_models()
    auto = ", else ".join(
        [
            *(f"{model.name} if every item holds {model.data}" for model in first),
            f"{last.name} (for {last.data})",
        ]
    )
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        choices=[AUTO, *MODELS],
        default=AUTO,
        help=f"the model to fit. {choices}; {AUTO} (the default): {auto} "
        "(the other models are fitted only when named)",
    )
    for flag, kwargs in MODEL_OPTIONS.items():
        users = " or ".join(m.name for m in MODELS.values() if flag in m.options)
        group.add_argument(
            flag,
            dest=dest(flag),
            default=None,
            **{**kwargs, "help": f"{kwargs['help']} [--model {users}]"},
        )


def _auto_models():
    return [model for model in MODELS.values() if model.auto]


class Choice(NamedTuple):
    """The model to fit, the values its items may hold, and why it was chosen."""

    model: CliModel
    values: ValueRule
    #: Why ``--model auto`` chose it, for the line describing the fit; None
    #: when the model was named, or was the first that auto tries.
    reason: str | None = None


def resolve(args):
    """The models the file may be fitted with, and the values of their items.

    Parameters
    ----------
    args : argparse.Namespace
        The options of ``fit``, set up with :func:`add_arguments`.

    Returns
    -------
    candidates : list of Choice
        One when ``--model`` names the model; with ``--model auto``, the
        models marked ``auto`` that take every model option given, in
        registry order: :func:`choose` picks one once the file is read.

    Raises
    ------
    OptionError
        If an option of another model is given, or the options of a model
        are incomplete.
    """
    chosen_by_auto = args.model == AUTO
    models = _auto_models() if chosen_by_auto else [MODELS[args.model]]
    for flag in MODEL_OPTIONS:
        if getattr(args, dest(flag)) is None:
            continue
        takers = [model for model in models if flag in model.options]
        if not takers:
            users = " or ".join(m.name for m in MODELS.values() if flag in m.options)
            names = " or ".join(model.name for model in models)
            if not chosen_by_auto:
                raise OptionError(
                    f"{flag} is an option of --model {users}, not of {names}."
                )
            raise OptionError(
                f"{flag} is an option of --model {users}, not of {names} (the "
                f"models --model {AUTO} chooses from); pass --model {users}."
            )
        models = takers  # an option chooses the models that take it
    return [Choice(model, model.values(args)) for model in models]


def choose(candidates, accepts_every_item):
    """The first candidate whose values accept every item of the file.

    Parameters
    ----------
    candidates : list of Choice
        From :func:`resolve`.
    accepts_every_item : callable
        ``accepts_every_item(values) -> bool`` for a :class:`~._csv.ValueRule`.

    Returns
    -------
    choice : Choice
        The last candidate when none accepts every item: building its table
        then says which items it refuses. ``reason`` says why a candidate
        after the first was chosen.
    """
    for choice in candidates[:-1]:
        if accepts_every_item(choice.values):
            return choice
    last = candidates[-1]
    if len(candidates) == 1:
        return last
    refused = " nor ".join(choice.model.data for choice in candidates[:-1])
    return last._replace(reason=f"--model {AUTO}: not only {refused}")
