"""The models that ``fit --model`` can fit, as a registry.

An entry of :data:`MODELS` says what the ``fit`` command needs to know of
one model: which of the :data:`MODEL_OPTIONS` it takes, which values its
data columns may hold (a :class:`~._csv.ValueRule`), how to build the
estimator, and how to describe its settings. The command itself names no
model. Adding one is an entry here plus its options (binomial counts below
are one).

``--model auto`` (the default) fits the model marked ``auto``: Bernoulli,
for 0/1 answers. A model of counts must never be marked ``auto``: counts
and category codes look alike, so only the user can tell which is meant.
"""

# SPDX-License-Identifier: BSD-3-Clause

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

from .. import BernoulliMixtureEM, BinomialMixtureEM
from ._argtypes import finite_float, integer_at_least
from ._csv import BINARY, NUMBERS, ValueRule

__all__ = [
    "AUTO",
    "MODELS",
    "MODEL_OPTIONS",
    "CliModel",
    "OptionError",
    "add_arguments",
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
        Whether ``--model auto`` fits it (one model at most).
    """

    name: str
    help: str
    data: str
    options: tuple
    values: Callable
    build: Callable
    settings: Callable
    auto: bool = False


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
    " Recode or drop the column, or pass --binarize THRESHOLD to read numbers "
    "above THRESHOLD as 1 and the others as 0."
)


def _bernoulli_values(args):
    if args.binarize is not None:
        return NUMBERS
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
}


def dest(flag):
    """The attribute argparse stores the option ``flag`` in."""
    return flag.removeprefix("--").replace("-", "_")


def add_arguments(parser):
    """Add ``--model`` and every model's options to the parser of ``fit``."""
    auto = _auto_model()
    choices = "; ".join(f"{model.name}: {model.help}" for model in MODELS.values())
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        choices=[AUTO, *MODELS],
        default=AUTO,
        help=f"the model to fit. {choices}; {AUTO} (the default): {auto.name}, "
        f"for {auto.data} (the other models are fitted only when named)",
    )
    for flag, kwargs in MODEL_OPTIONS.items():
        users = " or ".join(m.name for m in MODELS.values() if flag in m.options)
        group.add_argument(
            flag,
            dest=dest(flag),
            default=None,
            **{**kwargs, "help": f"{kwargs['help']} [--model {users}]"},
        )


def _auto_model():
    return next(model for model in MODELS.values() if model.auto)


def resolve(args):
    """The model to fit and the values its columns may hold.

    Parameters
    ----------
    args : argparse.Namespace
        The options of ``fit``, set up with :func:`add_arguments`.

    Returns
    -------
    model : CliModel
    values : ValueRule
        With ``--model auto``, its hint also says that ``--model`` chooses
        the model.

    Raises
    ------
    OptionError
        If an option of another model is given.
    """
    chosen_by_auto = args.model == AUTO
    model = _auto_model() if chosen_by_auto else MODELS[args.model]
    for flag in MODEL_OPTIONS:
        if flag not in model.options and getattr(args, dest(flag)) is not None:
            users = " or ".join(m.name for m in MODELS.values() if flag in m.options)
            how = f"--model {AUTO} fits {model.name}" if chosen_by_auto else ""
            raise OptionError(
                f"{flag} is an option of --model {users}, not of {model.name}"
                + (f" ({how}); pass --model {users}" if how else "")
                + "."
            )
    values = model.values(args)
    if chosen_by_auto and values.hint:
        others = [name for name in MODELS if name != model.name]
        hint = f" --model {AUTO} fits the {model.name} model, for {model.data}"
        if others:
            hint += f"; for other data, name the model: --model {' or '.join(others)}"
        values = dataclasses.replace(values, hint=f"{values.hint}{hint}.")
    return model, values
