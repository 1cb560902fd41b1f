"""One fitted model, predictions from many threads at once: the serial results."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from _reference import LAYOUTS, as_numpy
from numpy.testing import assert_array_equal
from threadpoolctl import threadpool_info

from skcoinmix import BernoulliMixtureEM
from skcoinmix._backends import _common, dense, sparse

N_THREADS = 8
#: Several inputs of each layout: different sizes, so that calls on them
#: interleave differently; each large enough to be cut into row blocks
#: (dense: more than BLOCK_BYTES; sparse: with the block budget made small
#: below) and, dense, spread over the kernels' own threads.
N_FEATURES = 60
ROWS = [20_000, 12_000, 30_000]


def _inputs(layout, rng):
    inputs = []
    for n_samples in ROWS:
        X = (rng.uniform(size=(n_samples, N_FEATURES)) < 0.45).astype(np.float64)
        if LAYOUTS[layout].missing:
            X[rng.uniform(size=X.shape) < 0.1] = np.nan
        inputs.append(LAYOUTS[layout].convert(X))
    return inputs


def _concurrent_equals_serial(layout):
    rng = np.random.default_rng(0)
    inputs = _inputs(layout, rng)
    for X in inputs:
        if LAYOUTS[layout].sparse:
            assert len(sparse._row_blocks(X, 4)) > 1
        else:
            assert len(dense.row_blocks(*X.shape, np.float64)) > 1
            assert X.size >= _common.MIN_ENTRIES_FOR_THREADS
    est = BernoulliMixtureEM(4, random_state=0).fit(inputs[1][:2000])
    serial = [as_numpy(est.predict_proba(X)) for X in inputs]
    serial_scores = [as_numpy(est.score_samples(X)) for X in inputs]
    # Every input several times over, interleaved across the threads.
    jobs = [i for _ in range(4) for i in range(len(inputs))]
    with ThreadPoolExecutor(N_THREADS) as pool:
        probas = list(pool.map(lambda i: est.predict_proba(inputs[i]), jobs))
        scores = list(pool.map(lambda i: est.score_samples(inputs[i]), jobs))
    for i, proba, score in zip(jobs, probas, scores, strict=True):
        assert_array_equal(as_numpy(proba), serial[i])
        assert_array_equal(as_numpy(score), serial_scores[i])


def _blas_threads():
    return [
        (info["internal_api"], info["num_threads"])
        for info in threadpool_info()
        if info["user_api"] == "blas"
    ]


@pytest.mark.parametrize("layout", ["float64", "uint8", "csr", "float64 NaN"])
def test_concurrent_predict_proba_equals_serial(layout, monkeypatch):
    monkeypatch.setattr(sparse, "BLOCK_BYTES", 1 << 18)
    monkeypatch.setattr(sparse, "CHUNK_ROWS", 1000)
    # ... and the calls, overlapping, leave BLAS with the threads it had:
    # they share one process-wide limit (_common.single_threaded_blas).
    before = _blas_threads()
    _concurrent_equals_serial(layout)
    assert _blas_threads() == before
