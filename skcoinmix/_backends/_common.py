"""What the dense and sparse kernels share: row blocks, threads, normalisation."""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

__all__ = [
    "as_compute_dtype",
    "compute_dtype",
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


def compute_dtype(X):
    """float32 for float32 data, float64 for everything else (bool, integers)."""
    return np.float32 if X.dtype == np.float32 else np.float64


def as_compute_dtype(X, coefs, intercept):
    """``coefs`` (C-contiguous) and ``intercept`` in the compute dtype of ``X``."""
    dtype = compute_dtype(X)
    coefs = tuple(np.ascontiguousarray(coef, dtype=dtype) for coef in coefs)
    return coefs, np.asarray(intercept, dtype=dtype)


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
            _pool = ThreadPoolExecutor(threads, thread_name_prefix="skcoinmix")
            _pool_key = key
        return _pool


_blas_limit_lock = threading.Lock()
_blas_limit_users = 0
_blas_limiter = None


@contextlib.contextmanager
def single_threaded_blas():
    """BLAS on one thread while any caller is inside; restored when the last leaves.

    The limit is process-wide, so callers that overlap (threads calling
    ``predict_proba`` at once, dask's scheduler threads) share one: if each
    set and restored its own, one leaving first would restore two threads
    under the others, and the last to leave would "restore" the one thread it
    found on entering, for good.
    """
    global _blas_limit_users, _blas_limiter
    with _blas_limit_lock:
        if _blas_limit_users == 0:
            _blas_limiter = _blas_controller().limit(limits=1, user_api="blas")
        _blas_limit_users += 1
    try:
        yield
    finally:
        with _blas_limit_lock:
            _blas_limit_users -= 1
            if _blas_limit_users == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


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
    with single_threaded_blas():
        if threads == 1:
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
        longer = int(np.argmax(shifted.shape))
        sample = shifted[(slice(None),) * longer + (slice(EXP_SAMPLE),)]
        if sample.min() < EXP_UNDERFLOW:
            np.putmask(shifted, shifted < EXP_UNDERFLOW, -np.inf)
    with np.errstate(under="ignore"):
        np.exp(shifted, out=shifted)


def normalize(joint):
    """In place: joint log-probabilities -> responsibilities; returns log p(x_i).

    Components run along the first axis, so that every reduction over them is
    a fast element-wise operation between contiguous rows.

    Parameters
    ----------
    joint : ndarray of shape (K, rows)
        ``log p(x_i | k) + log w_k``, overwritten with ``p(k | x_i)``. Entries
        may be ``-inf`` (a component of weight 0) if each column has a finite
        one.

    Returns
    -------
    log_prob_norm : ndarray of shape (rows,), float64
    """
    col_max = joint.max(axis=0)
    joint -= col_max
    exp_shifted(joint)
    col_sum = joint.sum(axis=0)
    joint /= col_sum
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
