"""Staged restarts: every start runs a few EM iterations, the best few go on.

Mplus's ``STARTS = N1 N2`` with ``STITERATIONS``: ``n_init`` starts (N1) run
``initial_stage_iter`` iterations; the ``n_init_final`` (N2) with the largest
lower bound then continue to convergence, exactly from where they stopped.
A start that converged within the first stage is complete and not resumed.

The helpers here work on the engine's run records (the dicts returned by
``BaseMixtureEM._run_em``: ``params``, ``lower_bound``, ``history``,
``n_iter``, ``converged``) and know no model.
"""

# SPDX-License-Identifier: BSD-3-Clause

import copy

__all__ = [
    "best_run",
    "is_staged",
    "joined_run",
    "limited",
    "survivors",
]


def is_staged(n_init, n_init_final, max_iter):
    """Whether a fit of ``n_init`` fresh starts runs in two stages.

    ``n_init_final=None`` turns staging off; a single start or ``max_iter=0``
    leaves nothing to rank. ``n_init_final >= n_init`` stages all the same:
    every start continues (which gives the unstaged result exactly).
    """
    return n_init_final is not None and n_init > 1 and max_iter > 0


def survivors(lower_bounds, n_init_final):
    """The indices of the starts that continue, in increasing order.

    Parameters
    ----------
    lower_bounds : sequence of float, of length n_init
        Each start's lower bound at the end of the first stage.
    n_init_final : int >= 1
        How many continue; at most ``n_init`` (larger values keep them all).

    Returns
    -------
    indices : list of int
        The ``min(n_init_final, n_init)`` largest bounds; between equal
        bounds the earlier start is kept, so the choice depends on the bounds
        alone (never on the order in which parallel runs finished).
    """
    ranked = sorted(range(len(lower_bounds)), key=lambda i: (-lower_bounds[i], i))
    return sorted(ranked[:n_init_final])


def best_run(runs):
    """The run with the largest lower bound; the first of equal ones."""
    return max(runs, key=lambda run: run["lower_bound"])


def joined_run(first, rest):
    """One run record for a start run in two pieces, as if it had run in one.

    ``rest`` continued from ``first``'s parameters and lower bound: the
    iterations and the bounds add up, the rest is ``rest``'s.
    """
    return dict(
        params=rest["params"],
        lower_bound=rest["lower_bound"],
        history=[*first["history"], *rest["history"]],
        n_iter=first["n_iter"] + rest["n_iter"],
        converged=rest["converged"],
    )


def limited(estimator, max_iter):
    """A shallow copy of ``estimator`` that runs at most ``max_iter`` iterations.

    The engine's single run reads its budget from ``max_iter``; a copy leaves
    the user's estimator untouched (and is what joblib pickles anyway).
    """
    clone = copy.copy(estimator)
    clone.max_iter = max_iter
    return clone
