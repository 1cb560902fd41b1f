"""One fitted model, predictions from many threads at once: the serial results."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from _reference import LAYOUTS, as_numpy
from numpy.testing import assert_array_equal
from threadpoolctl import ThreadpoolController, threadpool_info

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


# --------------------------------------------- BLAS thread limits (per thread)
#: Large enough to be spread over the kernels' threads (MIN_ENTRIES_FOR_THREADS)
#: and, with dense.BLOCK_BYTES made small by ``_many_blocks``, cut into blocks.
BIG = (8000, 40)


@pytest.fixture
def _many_blocks(monkeypatch):
    monkeypatch.setattr(dense, "BLOCK_BYTES", 1 << 16)


def _big_data(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.uniform(size=BIG) < 0.4).astype(dtype)
    assert X.size >= _common.MIN_ENTRIES_FOR_THREADS
    assert len(dense.row_blocks(*X.shape, X.dtype)) > 1
    return X


def _in_thread(function):
    """``function()`` run on a new thread; its result (or its exception)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function).result()


class _LongLivedThread:
    """A thread that stays alive between the calls it runs for the test."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(1)

    def run(self, function, *args):
        return self._pool.submit(function, *args).result()

    def close(self):
        self._pool.shutdown()


@pytest.fixture
def long_lived():
    threads = []

    def make():
        threads.append(_LongLivedThread())
        return threads[-1]

    yield make
    for thread in threads:
        thread.close()


def _blas_threads_by_path():
    return {
        info["filepath"]: info["num_threads"]
        for info in threadpool_info()
        if info["user_api"] == "blas"
    }


#: Before any test has run (modules are imported when tests are collected).
BLAS_AT_START = _blas_threads_by_path()


def _require_parallel_blas():
    """Skip where BLAS runs on one thread; fail where a limit was left behind."""
    if min(BLAS_AT_START.values(), default=1) < 2:
        pytest.skip("BLAS runs on one thread here: no limit to observe")
    now = _blas_threads_by_path()
    assert {path: now[path] for path in BLAS_AT_START} == BLAS_AT_START, (
        "a BLAS thread limit was left behind by an earlier test"
    )


def test_other_threads_can_limit_blas_after_a_call(_many_blocks):
    # threadpoolctl lets one thread at a time set OpenBLAS's (process-wide)
    # limit; a limit the library set and never handed back made every later
    # threadpool_limits() in another thread a silent no-op.
    from threadpoolctl import threadpool_limits

    _require_parallel_blas()
    X = _big_data()
    est = BernoulliMixtureEM(3, random_state=0).fit(X[:500])
    est.predict_proba(X)

    def limited():
        with threadpool_limits(limits=1, user_api="blas"):
            return _blas_threads()

    assert all(n == 1 for _, n in _in_thread(limited))
    assert _blas_threads() == _in_thread(_blas_threads)


def test_calls_leave_every_threads_blas_limits_as_they_were(_many_blocks, long_lived):
    from threadpoolctl import threadpool_limits

    _require_parallel_blas()
    X = _big_data()
    est = BernoulliMixtureEM(3, random_state=0).fit(X[:500])
    other = long_lived()
    before = _blas_threads()
    for caller in [other.run, lambda f, *a: f(*a), other.run]:
        caller(est.predict_proba, X)
        assert _blas_threads() == before
        assert other.run(_blas_threads) == before
        assert _in_thread(_blas_threads) == before
    # A limit the caller set is kept, and lifted when the caller lifts it.
    with threadpool_limits(limits=1, user_api="blas"):
        est.predict_proba(X)
        assert all(n == 1 for _, n in _blas_threads())
        other.run(est.predict_proba, X)
        assert all(n == 1 for _, n in _blas_threads())
    assert _blas_threads() == before
    assert other.run(_blas_threads) == before


def test_worker_threads_never_run_multithreaded_blas(_many_blocks, long_lived):
    _require_parallel_blas()
    X = _big_data()
    est = BernoulliMixtureEM(3, random_state=0).fit(X[:500])
    # A call from another thread, which stays alive, first: threadpoolctl
    # then took that thread for the one allowed to set OpenBLAS's limit.
    long_lived().run(est.predict_proba, X)
    seen = []

    def work(state, start, stop):
        seen.append((threading.current_thread().name, _blas_threads()))

    blocks = [(i, i + 1) for i in range(2 * _common.N_GROUPS)]
    _common.run_blocks(blocks, work, lambda: None, n_entries=X.size)
    assert len(seen) == len(blocks)
    assert any(name.startswith("skcoinmix") for name, _ in seen)
    for name, threads in seen:
        assert all(n == 1 for _, n in threads), (name, threads)


def _fit(X):
    return BernoulliMixtureEM(4, random_state=0, max_iter=8, tol=0).fit(X)


# Filtered for the whole test: warnings.catch_warnings() in the threads would
# change the process's filters under the other threads.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_concurrent_fits_and_predictions_equal_serial(dtype, _many_blocks, monkeypatch):
    # Same arithmetic on both sides (single-threaded BLAS in every group, the
    # same groups), so the results must be equal bit for bit.
    inputs = [_big_data(dtype, seed) for seed in range(3)]
    serial = [_fit(X) for X in inputs]
    serial_proba = [est.predict_proba(X) for est, X in zip(serial, inputs, strict=True)]
    before = _blas_threads()
    # The BLAS threads of every group of blocks, wherever it runs.
    controller = ThreadpoolController().select(user_api="blas")
    seen = set()

    def recording(blocks, work, make_state, *, n_entries):
        def recorded(state, start, stop):
            seen.add(min(lib.num_threads for lib in controller.lib_controllers))
            work(state, start, stop)

        return run_blocks(blocks, recorded, make_state, n_entries=n_entries)

    run_blocks = _common.run_blocks
    monkeypatch.setattr(dense, "run_blocks", recording)
    # Threads that outlive each round, as in a web server: several rounds,
    # since what went wrong depended on how the calls interleaved.
    with ThreadPoolExecutor(len(inputs)) as pool:
        for _ in range(3):
            jobs = range(len(inputs))
            fits = list(pool.map(lambda i: _fit(inputs[i]), jobs))
            probas = list(pool.map(lambda i: serial[i].predict_proba(inputs[i]), jobs))
            for i, est, proba in zip(jobs, fits, probas, strict=True):
                assert_array_equal(est.means_, serial[i].means_)
                assert_array_equal(est.weights_, serial[i].weights_)
                assert_array_equal(proba, serial_proba[i])
            assert seen == {1}
            assert _blas_threads() == before
            assert pool.submit(_blas_threads).result() == before


def test_initialization_runs_under_the_kernels_blas_limit(monkeypatch):
    # scikit-learn's KMeans sets and restores its own limit: one overlapping
    # the kernels' limit (another thread's call) with another value could
    # restore a stale count under it.
    from skcoinmix import _init

    _require_parallel_blas()
    seen = []

    class RecordingKMeans(_init.KMeans):
        def fit(self, *args, **kwargs):
            seen.append(_blas_threads())
            return super().fit(*args, **kwargs)

    def recording_kmeans_plusplus(*args, **kwargs):
        seen.append(_blas_threads())
        return kmeans_plusplus(*args, **kwargs)

    kmeans_plusplus = _init.kmeans_plusplus
    monkeypatch.setattr(_init, "KMeans", RecordingKMeans)
    monkeypatch.setattr(_init, "kmeans_plusplus", recording_kmeans_plusplus)
    X = (np.random.default_rng(0).uniform(size=(300, 20)) < 0.4).astype(float)
    before = _blas_threads()
    for init in ["kmeans", "k-means++"]:
        BernoulliMixtureEM(3, init_params=init, random_state=0).fit(X)
    assert len(seen) == 2
    for threads in seen:
        assert all(n == 1 for _, n in threads)
    assert _blas_threads() == before


# ------------------------------------------- the same logic, on fake libraries
class _FakeCount:
    """A thread count, per thread or for the process, with the calls it got."""

    def __init__(self, per_thread, threads=4):
        self._default = threads
        self._local = threading.local() if per_thread else None
        self._value = threads

    def get(self):
        if self._local is None:
            return self._value
        return getattr(self._local, "value", self._default)

    def set(self, threads):
        if self._local is None:
            self._value = threads
        else:
            self._local.value = threads


@pytest.fixture
def fake_blas(monkeypatch):
    """Fake BLAS counts, and a new pool of worker threads that starts with them."""

    def install(complete=True):
        process, per_thread = _FakeCount(False), _FakeCount(True)
        counts = _common._BlasCounts(
            (_common._Count(process.get, process.set),),
            (_common._Count(per_thread.get, per_thread.set),),
            complete,
        )
        monkeypatch.setattr(_common, "_blas_counts", counts)
        monkeypatch.setattr(_common, "_pool", None)
        monkeypatch.setattr(_common, "_pool_key", None)
        monkeypatch.setattr(_common, "n_threads", lambda: 3)
        return process, per_thread

    yield install
    if _common._pool is not None:
        _common._pool.shutdown()


def _record_counts(process, per_thread):
    seen = []

    def work(state, start, stop):
        seen.append((threading.current_thread(), process.get(), per_thread.get()))

    blocks = [(i, i + 1) for i in range(2 * _common.N_GROUPS)]
    _common.run_blocks(blocks, work, lambda: None, n_entries=1 << 30)
    return seen


def test_per_thread_counts_are_set_in_the_workers_alone(fake_blas, monkeypatch):
    process, per_thread = fake_blas()
    seen = _record_counts(process, per_thread)
    assert {thread.name[:9] for thread, _, _ in seen} == {"skcoinmix"}
    assert {(p, t) for _, p, t in seen} == {(1, 1)}
    # The calling thread's own count, and the process's, are as they were.
    assert (process.get(), per_thread.get()) == (4, 4)
    assert _in_thread(per_thread.get) == 4
    # Serially on the calling thread: its own count is 1 for the call only.
    monkeypatch.setattr(_common, "n_threads", lambda: 1)
    seen = _record_counts(process, per_thread)
    assert {(thread, p, t) for thread, p, t in seen} == {
        (threading.current_thread(), 1, 1)
    }
    assert (process.get(), per_thread.get()) == (4, 4)


def test_uncontrolled_blas_runs_the_groups_on_the_calling_thread(fake_blas):
    process, per_thread = fake_blas(complete=False)
    seen = _record_counts(process, per_thread)
    assert {thread for thread, _, _ in seen} == {threading.current_thread()}
    assert (process.get(), per_thread.get()) == (4, 4)


def test_a_count_changed_meanwhile_by_someone_else_is_kept(fake_blas):
    process, _ = fake_blas()
    with _common.single_threaded_blas():
        assert process.get() == 1
        process.set(3)  # another thread's limit, set while the call runs
    assert process.get() == 3


def test_how_each_kind_of_library_is_limited(monkeypatch):
    from types import SimpleNamespace

    def lib(internal_api, layer=None, symbols=()):
        dynlib = SimpleNamespace(**{name: (lambda *a: 1) for name in symbols})
        return SimpleNamespace(
            internal_api=internal_api,
            threading_layer=layer,
            dynlib=dynlib,
            get_num_threads=lambda: 1,
            set_num_threads=lambda n: None,
        )

    mkl = lib("mkl")
    omp = lib("openblas", "openmp", ["omp_get_max_threads", "omp_set_num_threads"])
    pthreads = lib(
        "openblas",
        "pthreads",
        ["scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"],
    )
    unknown = lib("openblas", "pthreads", ["openblas_get_num_threads"])
    libs = [mkl, omp, pthreads, unknown]
    controller = SimpleNamespace(
        select=lambda user_api: SimpleNamespace(lib_controllers=libs)
    )
    monkeypatch.setattr(_common, "_controller", controller)
    monkeypatch.setattr(_common, "_blas_counts", None)
    counts = _common._blas()
    assert counts.process == (
        (mkl.get_num_threads, mkl.set_num_threads),
        (
            pthreads.dynlib.scipy_openblas_get_num_threads64_,
            pthreads.dynlib.scipy_openblas_set_num_threads64_,
        ),
    )
    assert counts.per_thread == (
        (omp.dynlib.omp_get_max_threads, omp.dynlib.omp_set_num_threads),
    )
    assert not counts.complete  # no setter for the last one


# Python >= 3.12 warns about fork() in any process with threads.
@pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded:DeprecationWarning"
)
def test_a_child_forked_during_a_call_gets_its_blas_threads_back():
    # The child has none of the threads inside the call: nothing would ever
    # lift their limit there.
    import multiprocessing

    _require_parallel_blas()
    before = _blas_threads()
    inside, leave = threading.Event(), threading.Event()

    def call():
        with _common.single_threaded_blas():
            inside.set()
            leave.wait(60)

    thread = threading.Thread(target=call)
    thread.start()
    try:
        assert inside.wait(60)
        assert all(n == 1 for _, n in _blas_threads())
        with multiprocessing.get_context("fork").Pool(1) as child:
            assert child.apply_async(_blas_threads).get(timeout=60) == before
    finally:
        leave.set()
        thread.join()
    assert _blas_threads() == before
