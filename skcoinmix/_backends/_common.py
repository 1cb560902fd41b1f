"""What the dense and sparse kernels share: row blocks, threads, normalisation.

BLAS threads
------------
The kernels spread groups of row blocks over their own worker threads, each
of which must run single-threaded BLAS: nested BLAS threads oversubscribe the
cores, and a multi-threaded product may round differently, while the results
must not depend on the number of threads. How that is arranged depends on
whether a BLAS library's thread count is one setting for the process or one
per thread:

* Per thread (OpenBLAS built on OpenMP, whose count is the calling thread's
  ``omp_get_max_threads``): each worker thread sets its own count to 1 once,
  when it starts, and the groups that run on the calling thread run under a
  count of 1 set in that thread alone and restored afterwards. No other
  thread sees a change.
* Process-wide (OpenBLAS built on pthreads, as in the numpy and scipy wheels,
  whose ``openblas_set_num_threads_local`` is process-wide too; MKL, BLIS,
  FlexiBLAS): there is no per-thread setting to use, so the count is 1 while
  any call of the kernels is running, in any thread, and goes back to what it
  was before the first of them when the last returns (reference counted, so
  calls that overlap in several threads share one limit).

The process-wide count of OpenBLAS is set through the library's own
``openblas_set_num_threads``, not through threadpoolctl: since threadpoolctl
3.8 its setter makes the first thread that calls it the only one whose later
calls have an effect, until a ``with threadpool_limits(...)`` block of that
thread ends. Through it, the limit set and restored here from whichever
threads overlap was silently not restored (OpenBLAS stayed on one thread) or
not set (workers ran multi-threaded BLAS), and the user's own
``threadpool_limits`` in other threads were silently ignored. threadpoolctl
is only used to find the loaded libraries and read their counts.

A BLAS library whose count cannot be set (no known setter) is not trusted:
the groups then run one after the other on the calling thread. A
process-wide count that another thread changes while a call is running is
not defended against (the calls' results stay correct, not always bitwise).
"""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from threadpoolctl import ThreadpoolController

__all__ = [
    "as_compute_dtype",
    "compute_dtype",
    "has_float32_path",
    "log_normalize",
    "n_threads",
    "normalize",
    "run_blocks",
    "single_threaded_blas",
]

#: Below this many entries of X, one thread does all the work (threads cost more).
MIN_ENTRIES_FOR_THREADS = 1 << 18
#: Larger data are reduced in this many groups of consecutive row blocks.
N_GROUPS = 8

#: threadpoolctl's view of the loaded libraries, made on first use.
_controller = None
#: The kernels' worker threads, kept from call to call (starting threads costs
#: ~0.5 ms a call, 1-3% of an EM iteration at d <= 100), with the process id
#: and the number of threads they were started for.
_pool = None
_pool_key = None
_pool_lock = threading.Lock()


def _blas_controller():
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


class _Count(NamedTuple):
    """How to read and set one BLAS library's thread count."""

    get: Callable[[], int]
    set: Callable[[int], object]


class _BlasCounts(NamedTuple):
    """The thread counts of the loaded BLAS libraries, by scope."""

    process: tuple  # of _Count: one setting shared by every thread
    per_thread: tuple  # of _Count: each thread's own setting
    complete: bool  # every library has a known setter


_blas_counts = None

#: Symbol affixes of OpenBLAS builds (scipy-openblas: ``scipy_`` and ``64_``),
#: in threadpoolctl's order.
_OPENBLAS_AFFIXES = tuple(itertools.product(("", "scipy_"), ("", "64_", "_64")))


def _openblas_count(dynlib):
    """The process-wide ``openblas_{get,set}_num_threads`` of ``dynlib``, or None."""
    for prefix, suffix in _OPENBLAS_AFFIXES:
        get = getattr(dynlib, f"{prefix}openblas_get_num_threads{suffix}", None)
        set_ = getattr(dynlib, f"{prefix}openblas_set_num_threads{suffix}", None)
        if get is not None and set_ is not None:
            return _Count(get, set_)
    return None


def _count_of(lib):
    """``(count, per_thread)`` for a threadpoolctl library controller."""
    if lib.internal_api != "openblas":
        # MKL, BLIS, FlexiBLAS: threadpoolctl's setters call the library's
        # process-wide one directly.
        return _Count(lib.get_num_threads, lib.set_num_threads), False
    dynlib = lib.dynlib
    if getattr(lib, "threading_layer", None) == "openmp":
        # OpenBLAS asks OpenMP, per calling thread, how many threads to use.
        get = getattr(dynlib, "omp_get_max_threads", None)
        set_ = getattr(dynlib, "omp_set_num_threads", None)
        count = None if get is None or set_ is None else _Count(get, set_)
        return count, True
    return _openblas_count(dynlib), False


def _blas():
    """The :class:`_BlasCounts` of the BLAS libraries loaded when first called."""
    global _blas_counts
    if _blas_counts is None:
        process, per_thread, complete = [], [], True
        for lib in _blas_controller().select(user_api="blas").lib_controllers:
            count, is_per_thread = _count_of(lib)
            if count is None:
                complete = False
            else:
                (per_thread if is_per_thread else process).append(count)
        _blas_counts = _BlasCounts(tuple(process), tuple(per_thread), complete)
    return _blas_counts


def compute_dtype(X, dtype=None):
    """float32 for float32 data, float64 for everything else (bool, integers).

    ``dtype`` (float32 or float64), when given, overrides the choice: mixed
    precision computes integer data in float32, and float32 data in float64.
    """
    if dtype is not None:
        return np.dtype(dtype).type
    return np.float32 if X.dtype == np.float32 else np.float64


def as_compute_dtype(X, coefs, intercept, dtype=None):
    """``coefs`` (C-contiguous) and ``intercept`` in the compute dtype of ``X``."""
    dtype = compute_dtype(X, dtype)
    coefs = tuple(np.ascontiguousarray(coef, dtype=dtype) for coef in coefs)
    return coefs, np.asarray(intercept, dtype=dtype)


def has_float32_path(X):
    """Whether ``X`` (any storage) is bool, integer or float32: data a float32 pass reads exactly.

    Such data hold values float32 represents exactly (0/1, counts below
    2**24, float32 itself), so computing them in float32 only rounds the
    arithmetic, never the data.
    """
    return X.dtype.kind in "biu" or X.dtype == np.float32


def n_threads():
    """The number of threads the kernels use: as many as BLAS may use now.

    So ``threadpoolctl.threadpool_limits``, ``OMP_NUM_THREADS`` /
    ``OPENBLAS_NUM_THREADS`` and joblib's limits inside its workers (no
    oversubscription under ``GridSearchCV(n_jobs=...)``) limit skcoinmix too.
    """
    blas = _blas_controller().select(user_api="blas").lib_controllers
    if blas:
        return max(1, min(lib.num_threads for lib in blas))
    return max(1, len(os.sched_getaffinity(0)))  # pragma: no cover - no BLAS found


def _single_threaded_worker():
    """Run in each new worker thread: its own BLAS thread counts to 1, for good."""
    for count in _blas().per_thread:
        count.set(1)


def _executor(threads):
    """The shared pool of ``threads`` worker threads of this process.

    Made again after a ``fork`` (the child has none of the parent's threads)
    or when the number of threads changes. Calls from several threads share
    it: every task is a group of blocks that never waits for another task.
    """
    global _pool, _pool_key
    key = (os.getpid(), threads)
    with _pool_lock:
        if _pool_key != key:
            if _pool is not None and _pool_key[0] == key[0]:
                _pool.shutdown(wait=False)  # tasks already queued still run
            _pool = ThreadPoolExecutor(
                threads,
                thread_name_prefix="skcoinmix",
                initializer=_single_threaded_worker,
            )
            _pool_key = key
        return _pool


_blas_limit_lock = threading.Lock()
#: How many calls are inside single_threaded_blas, in all threads.
_blas_limit_users = 0
#: The process-wide counts found by the first of them, restored by the last.
_blas_limit_saved = ()


def _after_fork_in_child():  # pragma: no cover - runs in forked children
    """A forked child has only the forking thread: no call is running in it."""
    global _blas_limit_lock, _blas_limit_users, _blas_limit_saved
    _blas_limit_lock = threading.Lock()
    if _blas_limit_users:
        for count, threads in _blas_limit_saved:
            count.set(threads)
    _blas_limit_users, _blas_limit_saved = 0, ()


os.register_at_fork(after_in_child=_after_fork_in_child)


@contextlib.contextmanager
def single_threaded_blas():
    """BLAS on one thread in this thread, and in every thread while any caller is inside.

    Per-thread counts are set in the calling thread and restored when it
    leaves. Process-wide counts are shared by the callers that overlap
    (threads calling ``predict_proba`` at once, dask's scheduler threads): the
    first to enter saves and sets them, the last to leave restores them,
    whichever threads those are (see the module docstring).

    Yields
    ------
    controlled : bool
        Whether every BLAS library's count could be set; if not, one may
        still run multi-threaded.
    """
    global _blas_limit_users, _blas_limit_saved
    blas = _blas()
    local = [(count, count.get()) for count in blas.per_thread]
    for count, _ in local:
        count.set(1)
    try:
        with _blas_limit_lock:
            if _blas_limit_users == 0:
                _blas_limit_saved = tuple((c, c.get()) for c in blas.process)
                for count in blas.process:
                    count.set(1)
            _blas_limit_users += 1
        try:
            yield blas.complete
        finally:
            with _blas_limit_lock:
                _blas_limit_users -= 1
                if _blas_limit_users == 0:
                    for count, threads in _blas_limit_saved:
                        # A count that is no longer 1 was set by someone else
                        # meanwhile: theirs is the newer.
                        if count.get() == 1:
                            count.set(threads)
                    _blas_limit_saved = ()
    finally:
        for count, threads in local:
            count.set(threads)


def run_blocks(blocks, work, make_state, *, n_entries):
    """Run ``work(state, start, stop)`` over row blocks, on several threads.

    The blocks are cut into :data:`N_GROUPS` runs of consecutive blocks, each
    reduced into its own state from ``make_state()``; the states come back in
    group order. The grouping depends on the data alone, not on the number of
    threads, so results are bitwise the same with any number of threads
    (``n_jobs`` workers, a limited BLAS, another machine). The threads run
    single-threaded BLAS: the groups are the parallelism.

    Parameters
    ----------
    blocks : list of (int, int)
        ``(start, stop)`` row ranges.
    work : callable
    make_state : callable
    n_entries : int
        Size of the data; small data (or ``0``) runs as one group on one
        thread.

    Returns
    -------
    states : list
        One per group, in order.
    """
    if n_entries < MIN_ENTRIES_FOR_THREADS or len(blocks) < 2:
        groups = [blocks]
    else:
        edges = np.linspace(0, len(blocks), min(N_GROUPS, len(blocks)) + 1)
        edges = edges.round().astype(int)
        groups = [blocks[a:b] for a, b in itertools.pairwise(edges)]

    def run(group):
        state = make_state()
        for start, stop in group:
            work(state, start, stop)
        return state

    if len(groups) == 1:
        return [run(groups[0])]
    threads = min(n_threads(), len(groups))
    # Single-threaded BLAS in every case: a multi-threaded product may round
    # differently, and the result must not depend on the thread count.
    with single_threaded_blas() as controlled:
        if threads == 1 or not controlled:
            return [run(group) for group in groups]
        return list(_executor(threads).map(run, groups))


#: float64 ``exp(x)`` is 0 for x below about -745.13, but glibc's ``exp``
#: takes a slow path to get there (about 23 ns an entry here, against 6 ns;
#: measured), while ``exp(-inf)`` is fast and also 0. Components far from a
#: row, common with many features, make most entries underflow.
EXP_UNDERFLOW = -746.0
#: Entries along the longer axis looked at to decide whether enough underflow
#: to be worth a pass that sets them to -inf.
EXP_SAMPLE = 256


def exp_shifted(shifted):
    """In place: ``exp`` of log-probabilities shifted by their maximum (all <= 0).

    Bitwise the same as ``np.exp``. When the first :data:`EXP_SAMPLE` rows or
    columns (along the longer axis) have an entry that underflows, float64
    entries below :data:`EXP_UNDERFLOW` are set to ``-inf`` first; a sample
    that misses rare underflow only leaves those few entries on the slow path.

    Parameters
    ----------
    shifted : ndarray of 1 or 2 dimensions
        Overwritten with its ``exp``.
    """
    if shifted.dtype == np.float64 and shifted.size:
        longer = max(range(shifted.ndim), key=shifted.shape.__getitem__)
        sample = shifted[(slice(None),) * longer + (slice(EXP_SAMPLE),)]
        if sample.min() < EXP_UNDERFLOW:
            np.putmask(shifted, shifted < EXP_UNDERFLOW, -np.inf)
    with np.errstate(under="ignore"):
        np.exp(shifted, out=shifted)


def normalize(joint):
    """In place: joint log-probabilities -> responsibilities; returns log p(x_i).

    Components run along the second-to-last axis, so that every reduction
    over them is a fast element-wise operation between contiguous rows.

    Parameters
    ----------
    joint : ndarray of shape (K, rows) or (S, K, rows)
        ``log p(x_i | k) + log w_k`` (of ``S`` models), overwritten with
        ``p(k | x_i)``. Entries may be ``-inf`` (a component of weight 0) if
        each column has a finite one.

    Returns
    -------
    log_prob_norm : ndarray of shape (rows,) or (S, rows), float64
    """
    col_max = joint.max(axis=-2)
    joint -= col_max[..., np.newaxis, :]
    exp_shifted(joint)
    col_sum = joint.sum(axis=-2)
    joint /= col_sum[..., np.newaxis, :]
    # log(col_sum) is in [0, log K]: in the compute dtype, its rounding error
    # stays below that of col_max.
    np.log(col_sum, out=col_sum)
    log_prob_norm = col_max.astype(np.float64, copy=False)
    log_prob_norm += col_sum
    return log_prob_norm


def log_normalize(joint):
    """In place: joint log-probabilities -> log-responsibilities; returns log p(x_i).

    Parameters
    ----------
    joint : ndarray of shape (K, rows)
        ``log p(x_i | k) + log w_k``, overwritten with ``log p(k | x_i)``.

    Returns
    -------
    log_prob_norm : ndarray of shape (rows,)
    """
    col_max = joint.max(axis=0)
    shifted = joint - col_max
    exp_shifted(shifted)
    col_sum = shifted.sum(axis=0)
    norm = col_max + np.log(col_sum)
    joint -= norm
    return norm
