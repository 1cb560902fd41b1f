"""The command line: ``python -m skcoinmix``, or ``skcoinmix`` once installed.

Two programs share it, each in its own module:

- ``demo`` (:mod:`._demo`, the default when no command is given): the
  two-coin example of EM, step by step;
- ``fit`` (:mod:`._fit`): a latent class model fitted to a CSV file of 0/1
  answers (read by :mod:`._csv`), with its fit report.

This module builds the top-level parser and dispatches. ``main(argv)``
returns the exit status, so it can be called in-process.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import contextlib
import io
import os
import sys

from .. import __version__
from . import _demo, _fit

__all__ = ["main"]


def _demo_options_given(args):
    """The demo options set before a command that is not the demo."""
    defaults = {
        "--n-sets": _demo.DEFAULT_N_SETS,
        "--n-tosses": _demo.DEFAULT_N_TOSSES,
        "--probs": _demo.DEFAULT_PROBS,
        "--weights": _demo.DEFAULT_WEIGHTS,
        "--start": _demo.DEFAULT_START,
        "--random-state": _demo.DEFAULT_RANDOM_STATE,
    }
    given = []
    for option, default in defaults.items():
        value = getattr(args, option[2:].replace("-", "_"))
        if isinstance(value, list):
            value = tuple(value)
        if value != default:
            given.append(option)
    return given


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
        description=_demo.DESCRIPTION,
        epilog=_demo.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"skcoinmix {__version__}"
    )
    _demo._add_demo_arguments(parser, with_defaults=True)
    commands = parser.add_subparsers(
        dest="command",
        title="commands",
        metavar="COMMAND",
        description="With no command, the demo runs.",
    )
    demo = commands.add_parser(
        "demo",
        help="the two-coin EM example (the default)",
        description=_demo.DESCRIPTION,
        epilog=_demo.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _demo._add_demo_arguments(demo, with_defaults=False)
    _fit._add_fit_command(commands, prog)
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
    if abs(sum(args.weights) - 1.0) > _demo.WEIGHTS_SUM_ATOL:
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
        return _fit.run_fit(args, prog=f"{parser.prog} fit")
    # The demo (args.command is None or "demo").
    print(_demo.paper_report())
    print()
    print(
        _demo.simulation_report(
            n_sets=args.n_sets,
            n_tosses=args.n_tosses,
            probs=tuple(args.probs),
            weights=tuple(args.weights),
            start=tuple(args.start),
            random_state=args.random_state,
        )
    )
    return 0
