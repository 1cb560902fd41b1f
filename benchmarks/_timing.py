"""Wall-clock timing: warm-up, then the median of repeats.

Seconds per EM iteration are measured as ``(t(m) - t(1)) / (m - 1)``, where
``t(m)`` is the median time of a complete fit with ``max_iter=m`` from a fixed
start: the fixed per-fit cost (validation, copies, initialisation, the final
E-step) cancels out, and is reported apart as ``t(1)`` minus one iteration.
"""

import math
import statistics
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TimingSettings:
    """How long and how often each measurement runs.

    Attributes
    ----------
    repeats : int
        Timed repeats after the warm-up; the median is kept.
    iteration_budget : float
        Seconds of EM iterations aimed at in each ``t(m)`` fit, so that the
        difference ``t(m) - t(1)`` stands well above the noise.
    min_iter, max_iter : int
        Bounds on ``m``.
    slow_fit : float
        A warm-up fit of one iteration slower than this many seconds is not
        followed by a second warm-up fit to size ``m``: ``m = min_iter``.
    cheap_repeats : int
        Repeats of the cheap references (bare products), whose 2-thread BLAS
        timings swing most: a larger median.
    """

    repeats: int = 3
    iteration_budget: float = 3.0
    min_iter: int = 3
    max_iter: int = 100
    slow_fit: float = 15.0
    cheap_repeats: int = 7


FULL = TimingSettings()
#: A smoke test: one repeat, m = 2. Its figures are not results.
QUICK = TimingSettings(
    repeats=1, iteration_budget=0.0, min_iter=2, max_iter=2, cheap_repeats=1
)


@dataclass(frozen=True)
class IterationTiming:
    """Seconds per EM iteration, and the fixed per-fit cost on top of them.

    Attributes
    ----------
    per_iteration : float
        ``(t(m) - t(1)) / (m - 1)``; NaN when noise made it non-positive.
    overhead : float
        ``t(1) - per_iteration``: what a fit costs besides its iterations
        (0 for a bare loop that has none).
    n_iter : int
        The ``m`` used.
    references : dict
        Median seconds of each reference call timed in the same rounds as
        the fits (see :func:`time_per_iteration`).
    """

    per_iteration: float
    overhead: float
    n_iter: int
    references: dict = field(default_factory=dict)


def seconds(func):
    """Wall-clock seconds of one call of ``func()``."""
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


#: Seconds to wait after a multi-threaded BLAS call before timing anything
#: else: OpenBLAS's idle worker threads keep spinning for a while after a
#: call (about 0.1 s of CPU here, measured with ``time.process_time`` over a
#: sleep), taking a core from whatever is timed next.
SETTLE_SECONDS = 0.3


def settle():
    """Let BLAS's worker threads go idle (see :data:`SETTLE_SECONDS`)."""
    time.sleep(SETTLE_SECONDS)


def median_seconds(func, repeats, warmup=1):
    """Median wall-clock seconds of ``repeats`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        func()
    median = statistics.median(seconds(func) for _ in range(repeats))
    settle()
    return median


def _choose_n_iter(fit, settings):
    """Warm up with fits of 1 and 2 iterations; pick m from the rough difference."""
    one = seconds(lambda: fit(1))
    if one > settings.slow_fit or settings.min_iter == settings.max_iter:
        return settings.min_iter
    two = seconds(lambda: fit(2))
    # A noisy difference must not send m through the roof: an iteration is
    # taken to cost at least a quarter of the one-iteration fit.
    estimate = max(two - one, one / 4, 1e-4)
    wanted = 1 + math.ceil(settings.iteration_budget / estimate)
    return min(max(wanted, settings.min_iter), settings.max_iter)


def time_per_iteration(fit, settings, references=None):
    """Seconds per EM iteration of ``fit(max_iter)``, a complete fit.

    Fits of 1 and ``m`` iterations alternate, ``settings.repeats`` times
    each, after a warm-up; the per-iteration time is the difference of their
    medians divided by ``m - 1``.

    ``references`` (name -> callable, e.g. the bare products) are called
    before and after every pair of fits, so that a ratio of the fit to a
    reference compares figures taken over the same seconds: the load of a
    shared machine changes from minute to minute.

    Returns
    -------
    IterationTiming
    """
    references = references or {}
    n_iter = _choose_n_iter(fit, settings)
    singles, multiples = [], []
    reference_times = {name: [] for name in references}

    def time_references():
        for name, func in references.items():
            reference_times[name].append(seconds(func))
        if references:
            settle()

    for _ in range(settings.repeats):
        time_references()
        singles.append(seconds(lambda: fit(1)))
        multiples.append(seconds(lambda: fit(n_iter)))
        time_references()
    single = statistics.median(singles)
    per_iteration = (statistics.median(multiples) - single) / (n_iter - 1)
    if per_iteration <= 0:
        per_iteration = math.nan
    return IterationTiming(
        per_iteration,
        single - per_iteration,
        n_iter,
        {name: statistics.median(times) for name, times in reference_times.items()},
    )


def time_bare_loop(step, settings, warmup=None):
    """Seconds per iteration of a loop with no fixed cost: ``step(1)`` runs one.

    For the slow reference loops: one warm-up iteration (of ``warmup``, e.g.
    the same loop on fewer rows, when given), then the median of
    ``settings.repeats`` single iterations.

    Returns
    -------
    IterationTiming
    """
    (warmup or step)(1)
    per_iteration = median_seconds(lambda: step(1), settings.repeats, warmup=0)
    return IterationTiming(per_iteration, 0.0, 1)
