"""SQUAREM: EM accelerated by squared extrapolation, for any model of the family.

Varadhan and Roland (2008), "Simple and globally convergent methods for
accelerating the convergence of any EM algorithm", Scand. J. Stat. 35:335,
scheme S3. From the current point ``x0`` two EM updates give ``x1 = F(x0)``
and ``x2 = F(x1)``; with ``r = x1 - x0`` and ``v = x2 - 2 x1 + x0`` the step
length is ``alpha = -|r| / |v|`` and the extrapolated point
``x' = x0 - 2 alpha r + alpha**2 v``. ``alpha = -1`` gives ``x' = x2``: plain
EM. The safeguards:

- ``alpha`` is clamped to ``[-step_max, -1]``; ``step_max`` starts at 1 and
  grows by :data:`STEP_FACTOR` whenever a step of that length is accepted,
  shrinking again when one is rejected (the SQUAREM package's ``step.max``
  rule, which keeps one wild step from wasting several evaluations);
- a stabilising EM update follows every extrapolation: ``x_s = F(x')``;
- the fall-back: when the objective at ``x_s`` is below the current one
  (or not finite), the cycle ends at ``x2``, the plain EM update. So the
  objective of the accepted points never decreases (EM's own ascent property
  gives ``L(x2) >= L(x1) >= L(x0)``), and the fixed points are EM's.

Extrapolation runs on an unconstrained vector of the parameters (logits,
log-ratios; the models' ``_to_vector`` / ``_from_vector`` hooks), so every
extrapolated point maps back to valid parameters.

Costs are counted in evaluations of the EM map (an E-step at a point, which
also gives the objective there, then an M-step): a cycle costs three
(``x1``, ``x'``, ``x_s``; ``x0``'s was the previous cycle's last), four when
it falls back. This module knows no model: it gets the map and the
conversions as functions.
"""

# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np

__all__ = [
    "ACCELERATIONS",
    "drive",
    "drive_together",
    "plain_steps",
    "run_plain",
    "run_squarem",
    "squarem_steps",
    "tagged",
    "step_length",
    "weights_from_vector",
    "weights_to_vector",
]

#: The values of the estimators' ``accelerate`` parameter besides None.
ACCELERATIONS = ("squarem",)

#: How much the largest step length grows after an accepted step at the
#: limit (and shrinks after a rejected one): the SQUAREM package's ``mstep``.
STEP_FACTOR = 4.0


def drive(steps, update):
    """Run the coroutine ``steps`` to its end, evaluating its requests with ``update``.

    The loops of this module are coroutines: they yield the parameters they
    need evaluated and receive ``update(params)``, ``(objective,
    next_params)``; their return value is the run record. This driver runs
    one; :func:`drive_together` runs several at once.
    """
    try:
        request = next(steps)
        while True:
            request = steps.send(update(request))
    except StopIteration as stop:
        return stop.value


def drive_together(coroutines, update_many):
    """Run several coroutines in lockstep; their run records, in order.

    Every round collects the pending request of each coroutine still running
    and evaluates them all in one call, ``update_many(requests) -> results``
    (one result per request, in order), so that what an evaluation costs
    regardless of how many it makes (Python calls, small products) is paid
    once per round. Each coroutine sees exactly the sequence of evaluations
    it would see alone.
    """
    records = [None] * len(coroutines)
    pending = {}
    for index, steps in enumerate(coroutines):
        try:
            pending[index] = next(steps)
        except StopIteration as stop:
            records[index] = stop.value
    while pending:
        indices = list(pending)
        results = update_many([pending[index] for index in indices])
        for index, result in zip(indices, results, strict=True):
            try:
                pending[index] = coroutines[index].send(result)
            except StopIteration as stop:
                records[index] = stop.value
                del pending[index]
    return records


def tagged(steps, tag):
    """The coroutine ``steps`` with each of its requests paired with ``tag``.

    It yields ``(request, tag)`` and passes results back unchanged: a driver
    of several coroutines can then tell apart requests that need different
    evaluations (the compute dtype of mixed precision).
    """
    try:
        request = next(steps)
        while True:
            request = steps.send((yield request, tag))
    except StopIteration as stop:
        return stop.value


def plain_steps(params, start_bound, max_iter, converged, report):
    """Plain EM as a coroutine (see :func:`drive`): every update is recorded.

    The arguments and the record are those of :func:`squarem_steps` (without
    the vector conversions).
    """
    history = []
    lower_bound = start_bound
    done = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        previous = lower_bound
        lower_bound, params = yield params
        history.append(lower_bound)
        change = lower_bound - previous
        report(n_iter, change)
        if converged(lower_bound, change):
            done = True
            break
    return dict(
        params=params,
        lower_bound=lower_bound,
        history=history,
        n_iter=n_iter,
        converged=done,
    )


def run_plain(update, params, start_bound, max_iter, converged, report):
    """Plain EM: ``update`` until ``converged`` or ``max_iter`` evaluations.

    The arguments and the result are those of :func:`run_squarem` (without
    the vector conversions); every update is recorded.
    """
    return drive(plain_steps(params, start_bound, max_iter, converged, report), update)


def step_length(r, v, step_max):
    """The S3 step length ``-|r| / |v|``, clamped to ``[-step_max, -1]``.

    Parameters
    ----------
    r, v : ndarray of shape (p,)
        ``x1 - x0`` and ``x2 - 2 x1 + x0``.
    step_max : float
        At least 1.

    Returns
    -------
    alpha : float
        -1 (plain EM) when ``v`` is 0 or the ratio is not finite.
    """
    norm_v = float(np.linalg.norm(v))
    if not norm_v > 0:
        return -1.0
    alpha = -float(np.linalg.norm(r)) / norm_v
    if not math.isfinite(alpha):  # pragma: no cover - finite vectors
        return -1.0
    return min(max(alpha, -step_max), -1.0)


def run_squarem(
    update, to_vector, from_vector, params, start_bound, max_iter, converged, report
):
    """SQUAREM cycles from ``params`` until ``converged`` or ``max_iter`` evaluations.

    Parameters
    ----------
    update : callable
        ``update(params) -> (objective, next_params)``: the objective at
        ``params`` and their EM update (an E-step and an M-step).
    to_vector, from_vector, params, start_bound, max_iter, converged, report
        As in :func:`squarem_steps`.

    Returns
    -------
    run : dict
        As :func:`squarem_steps` returns it.
    """
    steps = squarem_steps(
        to_vector, from_vector, params, start_bound, max_iter, converged, report
    )
    return drive(steps, update)


def squarem_steps(
    to_vector, from_vector, params, start_bound, max_iter, converged, report
):
    """SQUAREM as a coroutine (see :func:`drive`).

    It yields the parameters to evaluate and receives ``(objective,
    next_params)``: the objective at them and their EM update (an E-step and
    an M-step).

    Parameters
    ----------
    to_vector : callable
        ``to_vector(params) -> ndarray of shape (p,)``, unconstrained.
    from_vector : callable
        ``from_vector(vector, template) -> params``: valid parameters,
        ``template`` giving what the vector leaves out (fixed weights...).
    params : dict
        The start.
    start_bound : float
        The objective the run continues from (``-inf`` for a fresh start,
        the fitted lower bound for a warm start).
    max_iter : int
        The most evaluations (parameters yielded).
    converged : callable
        ``converged(objective, change) -> bool``, asked of each objective
        recorded and of each cycle's first update: whether the run has
        converged (usually ``abs(change) < tol``).
    report : callable
        ``report(n_iter, change)`` after each recorded objective (verbose
        output).

    Returns
    -------
    run : dict
        ``params`` (the EM update of the last recorded point, as plain EM
        returns the update after its last bound), ``lower_bound`` (the last
        recorded objective), ``history`` (the objective of each accepted
        point: one per cycle, and when a cycle is cut short by ``max_iter``
        or ends at ``tol`` after its first update, that update's), ``n_iter``
        (evaluations) and ``converged``.
    """
    history = []
    n_iter = 0

    def result(next_params, bound, done):
        return dict(
            params=next_params,
            lower_bound=bound,
            history=history,
            n_iter=n_iter,
            converged=done,
        )

    def record(bound, previous):
        history.append(bound)
        report(n_iter, bound - previous)
        return converged(bound, bound - previous)

    if max_iter == 0:
        return result(params, start_bound, False)
    current, n_iter = params, 1
    bound, following = yield current
    if record(bound, start_bound):
        return result(following, bound, True)
    step_max = 1.0
    while n_iter < max_iter:
        # The cycle from x0 = current (objective bound, x1 = following).
        first_bound, second = yield following
        n_iter += 1
        if n_iter == max_iter or converged(first_bound, first_bound - bound):
            # Plain EM's ending: x1's bound, and its update x2.
            return result(second, first_bound, record(first_bound, bound))
        x0, x1, x2 = to_vector(current), to_vector(following), to_vector(second)
        r = x1 - x0
        v = x2 - x1 - r
        alpha = step_length(r, v, step_max)
        extrapolated = x0 - 2.0 * alpha * r + alpha * alpha * v
        if not np.all(np.isfinite(extrapolated)):  # pragma: no cover - overflow
            extrapolated = x2
        _, stabilised = yield from_vector(extrapolated, second)
        n_iter += 1
        if n_iter == max_iter:
            return result(second, first_bound, record(first_bound, bound))
        stabilised_bound, after = yield stabilised
        n_iter += 1
        at_limit = alpha <= -step_max
        if stabilised_bound >= bound:
            if at_limit:
                step_max *= STEP_FACTOR
            new = (stabilised, stabilised_bound, after)
        else:
            # The fall-back: x2, the plain EM update.
            if at_limit:
                step_max = max(1.0, step_max / STEP_FACTOR)
            if n_iter == max_iter:
                return result(second, first_bound, record(first_bound, bound))
            second_bound, third = yield second
            n_iter += 1
            new = (second, second_bound, third)
        previous = bound
        current, bound, following = new
        if record(bound, previous):
            return result(following, bound, True)
    return result(following, bound, False)


# ------------------------------------------------ the mixing weights' vector
#: Weights of exactly 0 (an emptied component, which EM keeps empty) are read
#: as this log-weight: finite, so that differences stay finite.
LOG_WEIGHT_FLOOR = math.log(np.finfo(np.float64).tiny)


def weights_to_vector(weights):
    """Centred log-weights: an unconstrained vector of the simplex, shape (K,)."""
    if weights.min() > 0:  # np.errstate costs more than this update of small data
        logs = np.maximum(np.log(weights), LOG_WEIGHT_FLOOR)
    else:
        with np.errstate(divide="ignore"):
            logs = np.maximum(np.log(weights), LOG_WEIGHT_FLOOR)
    # The sum over the size: what logs.mean() computes, without its overhead.
    return logs - logs.sum() / logs.size


def weights_from_vector(vector, template):
    """Weights on the simplex from centred log-weights; ``template``'s zeros stay 0.

    Parameters
    ----------
    vector : ndarray of shape (K,)
    template : ndarray of shape (K,)
        Weights whose exact zeros are kept (EM never revives an emptied
        component).

    Returns
    -------
    weights : ndarray of shape (K,)
    """
    kept = template > 0
    weights = np.zeros_like(vector)
    weights[kept] = np.exp(vector[kept] - vector[kept].max())
    return weights / weights.sum()
