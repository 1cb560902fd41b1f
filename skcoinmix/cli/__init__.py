"""The command line: ``python -m skcoinmix``, or ``skcoinmix`` once installed.

Two programs share it, each in its own module:

- ``demo`` (:mod:`._demo`, the default when no command is given): the
  two-coin example of EM, step by step;
- ``fit`` (:mod:`._fit`): a latent class model fitted to a CSV file (read
  by :mod:`._csv`), with its fit report; the models it can fit are the
  registry :mod:`._models`.

Each adds its own command and options; this module builds the top-level
parser (which also takes the demo's options, for ``python -m skcoinmix
--n-sets 100``) and dispatches. ``main(argv)``
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
    # The demo runs when no command is given: its options go here too.
    _demo.add_arguments(parser)
    commands = parser.add_subparsers(
        dest="command",
        title="commands",
        metavar="COMMAND",
        description="With no command, the demo runs.",
    )
    _demo.add_command(commands, prog)
    _fit.add_command(commands, prog)
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
        its output file cannot be used.

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
    if args.command == "fit":
        # Options before the command are the top-level parser's: the demo's.
        before = _demo.given_options(args)
        if before:
            parser.error(
                f"{', '.join(before)} before 'fit' belong"
                f"{'s' if len(before) == 1 else ''} to the demo; the options of "
                f"fit go after 'fit' (see '{parser.prog} fit --help')"
            )
        return _fit.run(args, prog=f"{parser.prog} fit")
    return _demo.run(args, parser)  # no command, or "demo"
