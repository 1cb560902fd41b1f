"""Helpers of the engine that hold no estimator: the transaction, weight sums.

Kept apart from :mod:`skcoinmix._em` so that the online-EM mixin
(:mod:`skcoinmix._online`) and the engine both use them without importing
each other.
"""

# SPDX-License-Identifier: BSD-3-Clause

import math

from ._validation import format_unscaled

__all__ = ["add_scaled", "num_samples", "scaled_log_prior", "transaction"]


def transaction(estimator, fit, *args):
    """Call ``fit(*args)``; if it fails, restore ``estimator`` exactly as it was.

    ``validate_data`` writes ``n_features_in_`` before anything else can fail,
    so a failed call must undo every attribute it set.
    """
    saved_state = dict(estimator.__dict__)
    try:
        return fit(*args)
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved_state)
        raise


def scaled_log_prior(log_prior, exponent, total_weight):
    """``log_prior * 2**-exponent``: the log prior against rescaled weights.

    The lower bound is ``(log L + log prior) / N``; with the weights and so
    ``log L`` and ``N`` rescaled by ``2**-exponent``, the log prior must be
    too. A ValueError names sample_weight when the result overflows: the
    weights are so small that the prior's share of the lower bound is beyond
    float64's range.
    """
    if log_prior == 0 or exponent == 0:
        return log_prior
    try:
        return math.ldexp(log_prior, -exponent)
    except OverflowError:
        raise ValueError(
            f"The log prior ({log_prior:.6g}) divided by sum(sample_weight) = "
            f"{format_unscaled(total_weight, exponent)} is beyond float64's "
            "range. With a prior (alpha > 0) the fit depends on the weights' "
            "scale; rescale sample_weight, e.g. to a mean of 1, and alpha with "
            "it."
        ) from None


def add_scaled(a, a_exponent, b, b_exponent):
    """``a 2**a_exponent + b 2**b_exponent`` as ``(value, exponent)``, without overflow.

    ``a`` may be 0 (nothing yet); the result's exponent is the larger one of
    the nonzero terms, so that sums of weights of one scale stay exact.
    """
    if a == 0:
        return b, b_exponent
    exponent = max(a_exponent, b_exponent)
    return math.ldexp(a, a_exponent - exponent) + math.ldexp(
        b, b_exponent - exponent
    ), exponent


def num_samples(data):
    return data.n_samples if hasattr(data, "n_samples") else data.shape[0]
