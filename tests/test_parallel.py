"""Parallel restarts and threaded kernels give bitwise the same results.

Bitwise only where the arithmetic is the same: every BLAS call runs on one
thread on both sides (a multithreaded BLAS may cut a product differently).
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from threadpoolctl import threadpool_limits

from skcoinmix import BernoulliMixtureEM
from skcoinmix._backends import _common, dense
from skcoinmix._bernoulli import BinaryEncoding


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_n_jobs_gives_identical_results(rng, backend):
    from joblib import parallel_backend

    X = (rng.uniform(size=(300, 12)) < 0.4).astype(np.uint8)
    common = dict(n_components=3, n_init=4, init_params="random", random_state=0)
    # One BLAS thread here, in the threading backend's threads (the limit is
    # the process's) and in loky's worker processes (inner_max_num_threads).
    inner = {"inner_max_num_threads": 1} if backend == "loky" else {}
    with threadpool_limits(limits=1, user_api="blas"):
        serial = BernoulliMixtureEM(**common).fit(X)
        with parallel_backend(backend, **inner):
            parallel = BernoulliMixtureEM(n_jobs=2, **common).fit(X)
    assert_array_equal(parallel.means_, serial.means_)
    assert_array_equal(parallel.weights_, serial.weights_)
    assert parallel.lower_bounds_ == serial.lower_bounds_
    assert parallel.n_iter_ == serial.n_iter_


def test_threads_do_not_change_a_bit(rng, monkeypatch):
    # Large enough to be cut into groups of blocks and spread over threads.
    X = (rng.uniform(size=(20_000, 40)) < 0.3).astype(np.uint8)
    means = rng.uniform(0.1, 0.9, size=(5, 40))
    coefs = (np.log(means) - np.log1p(-means),)
    intercept = np.log1p(-means).sum(axis=1) - np.log(5)
    weights = rng.uniform(0.5, 1.5, size=X.shape[0])
    assert X.size >= _common.MIN_ENTRIES_FOR_THREADS
    results = []
    # The kernels' own threads vary; BLAS runs on one thread throughout.
    with threadpool_limits(limits=1, user_api="blas"):
        for threads in [1, 2, 3]:
            monkeypatch.setattr(_common, "n_threads", lambda threads=threads: threads)
            results.append(dense.e_step(X, BinaryEncoding(), coefs, intercept, weights))
        monkeypatch.undo()
        assert _common.n_threads() == 1
        results.append(dense.e_step(X, BinaryEncoding(), coefs, intercept, weights))
    for log_likelihood, resp_sum, sums in results[1:]:
        assert log_likelihood == results[0][0]
        assert_array_equal(resp_sum, results[0][1])
        assert_array_equal(sums[0], results[0][2][0])
