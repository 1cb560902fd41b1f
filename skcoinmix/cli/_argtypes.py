"""Converters of option values for argparse (``type=``), shared by the commands.

Each raises :class:`argparse.ArgumentTypeError` with a message saying what
was expected and what was given; argparse prefixes the option's name.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import math

__all__ = ["finite_float", "integer_at_least", "probability"]


def integer_at_least(minimum, maximum=None):
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


def probability(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"must be a probability between 0 and 1, got {text!r}"
        )
    return value


def finite_float(minimum=None):
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
