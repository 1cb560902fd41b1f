"""Where the time of a dense E-step goes, block by block (a development tool).

Times, in one process and interleaved (A, B, C, A, B, C, ...), the parts of
the blocked dense kernel on one thread with single-threaded BLAS, each summed
over all row blocks of X: reading (and, for integer X, converting) a block,
the E product in both layouts (dense.py uses ``(K, d) @ (d, rows)`` for
float64 and ``(rows, d) @ (d, K)`` for float32), the in-place normalisation
(after a copy of the block's real joint log-probabilities, timed alone as
"copy joint"), the M product in both layouts; against the two bare products
on the whole array (2-thread and 1-thread BLAS) and
``skcoinmix._backends.dense.e_step`` itself (its threads, and one thread).
The data and parameters are the benchmark's (planted mixture, fixed start)
after 3 EM iterations, so the exponents have a real fit's range: float64
``exp`` costs 5 ns at -1, 9 ns at -20 and ~24 ns where it underflows.
Prints min and median of the repeats, and each median over that of the
bare products.

    python benchmarks/profile_kernels.py 200000 784 10 --dtype float64
    python benchmarks/profile_kernels.py 100000 100 10 --dtype uint8 \\
        --block-kib 512 2048 8192 --cpu
    python benchmarks/profile_kernels.py 100000 20 5 --categories 5 --cpu

With ``--categories C`` the data are ``d`` items of ``C`` categories (the
categorical benchmark's uint8 codes, stored as CategoricalMixtureEM stores
them), and the kernel's E-step is compared with the bare products of their
(n, d C) float64 one-hot matrix; the parts are the one-hot encoding of each
block (``OneHotEncoding.encode``) and the E product on the encoded block.

Every "1 thread" line includes ~4 ms of ``threadpool_limits`` (the "read
block" line of float data is nothing else). With ``--cpu`` the one-thread
lines are timed in CPU seconds of the thread, which a busy machine disturbs
far less than wall-clock seconds; use it when ``uptime`` shows a load
above ~0.5, and compare the per-core cost of the kernel with that of the bare
products. Two-thread wall-clock figures mean something only on a quiet
machine: under load a 2-thread process here often gets one core.
"""

import argparse
import os
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from skcoinmix._backends import _common, dense
from skcoinmix._bernoulli import BinaryEncoding

#: Complete 0/1 data: the block itself is the one view.
BINARY = BinaryEncoding()


def _clock(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _thread_clock(func):
    """CPU seconds of the calling thread: steadier under load, one thread only."""
    start = time.thread_time()
    func()
    return time.thread_time() - start


def interleaved(funcs, repeats, clock=_clock):
    """``{name: [seconds, ...]}``: every function once per round, after a warm-up."""
    for func in funcs.values():
        func()
    times = {name: [] for name in funcs}
    for _ in range(repeats):
        for name, func in funcs.items():
            times[name].append(clock(func))
    return times


def one_thread(func):
    def run():
        with threadpool_limits(1, user_api="blas"):
            func()

    return run


def make_problem(n, d, k, dtype, em_iterations=3):
    """The benchmark's planted data, and parameters after a few EM iterations.

    Started from the benchmark's fixed start, so the responsibilities (and
    the range of the exponents, which sets the cost of ``exp``) are those of
    a real fit, not of a random start.
    """
    import warnings

    from _data import fixed_start, planted_dense, random_prototypes
    from sklearn.exceptions import ConvergenceWarning

    from skcoinmix import BernoulliMixtureEM

    X = planted_dense(random_prototypes(k, d, 0.1, 0.9), n)
    start = fixed_start(k, d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = BernoulliMixtureEM(
            n_components=k,
            means_init=start.means,
            weights_init=start.weights,
            max_iter=em_iterations,
            tol=0.0,
        ).fit(X)
    if dtype == "bool":
        X = X.view(bool)
    elif dtype != "uint8":
        X = X.astype(dtype)
    means = np.clip(model.means_, 1e-10, 1 - 1e-10)
    coef = np.log(means) - np.log1p(-means)
    intercept = np.log1p(-means).sum(axis=1) + np.log(model.weights_)
    return X, coef, intercept


def block_parts(X, coef, intercept, rows):
    """One-thread functions for each part of the kernel over every block of ``rows``."""
    cdt = _common.compute_dtype(X)
    coef = np.ascontiguousarray(coef, cdt)
    intercept = intercept.astype(cdt)
    k, d = coef.shape
    n = X.shape[0]
    blocks = [(a, min(a + rows, n)) for a in range(0, n, rows)]
    convert = X.dtype != cdt
    buf = np.empty((rows, d), cdt)
    joint = np.empty((k, rows), cdt)
    joint_t = np.empty((rows, k), cdt)
    prod = np.empty((k, d), cdt)
    where = {}

    def block(a, b):
        where["rows"] = (a, b)
        raw = X[a:b]
        if raw.dtype == bool:
            raw = raw.view(np.uint8)
        if convert:
            np.copyto(buf[: b - a], raw, casting="unsafe")
            return buf[: b - a]
        return raw

    # The real joint log-probabilities and responsibilities of every row.
    all_joint = np.empty((k, n), cdt)
    for a, b in blocks:
        np.matmul(coef, block(a, b).T, out=all_joint[:, a:b])
    all_joint += intercept[:, None]
    all_resp = all_joint.copy()
    _common.normalize(all_resp)
    all_resp_t = np.ascontiguousarray(all_resp.T)

    def over_blocks(part):
        def run():
            with threadpool_limits(1, user_api="blas"):
                for a, b in blocks:
                    part(block(a, b), b - a)

        return run

    parts = {"read/convert block": over_blocks(lambda xb, r: None)}

    def e_kd(xb, r):  # (K, d) @ (d, rows): the current layout
        np.matmul(coef, xb.T, out=joint[:, :r])

    def e_rk(xb, r):  # (rows, d) @ (d, K)
        np.matmul(xb, coef.T, out=joint_t[:r])

    def copy_joint(xb, r):
        a, b = where["rows"]
        np.copyto(joint[:, :r], all_joint[:, a:b])

    def norm(xb, r):
        copy_joint(xb, r)
        _common.normalize(joint[:, :r])

    def m_kr(xb, r):  # (K, rows) @ (rows, d): the current layout
        a, b = where["rows"]
        np.matmul(all_resp[:, a:b], xb, out=prod)

    def m_dk(xb, r):  # ((d, rows) @ (rows, K)).T
        a, b = where["rows"]
        np.matmul(xb.T, all_resp_t[a:b], out=prod.T)

    parts |= {
        "E (K,d)@(d,rows)": over_blocks(e_kd),
        "E (rows,d)@(d,K)": over_blocks(e_rk),
        "copy joint": over_blocks(copy_joint),
        "copy joint + normalize (K,rows)": over_blocks(norm),
        "M (K,rows)@(rows,d)": over_blocks(m_kr),
        "M (d,rows)@(rows,K)": over_blocks(m_dk),
    }
    return parts, len(blocks)


def make_categorical_problem(n, d, k, n_categories, em_iterations=3):
    """The categorical benchmark's codes, their encoding, and fitted parameters.

    Returns the codes as CategoricalMixtureEM stores them, its encoding, the
    natural parameters (log-probabilities (K, D), log-weights (K,)) after a
    few EM iterations from the benchmark's fixed start, and the (n, D)
    float64 one-hot matrix of the bare products.
    """
    import warnings

    from _data import (
        categorical_prototypes,
        fixed_categorical_start,
        one_hot,
        planted_categorical,
    )
    from sklearn.exceptions import ConvergenceWarning

    from skcoinmix import CategoricalMixtureEM

    codes = planted_categorical(categorical_prototypes(k, d, n_categories), n)
    start = fixed_categorical_start(k, d, n_categories)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = CategoricalMixtureEM(
            k,
            probs_init=[start.means[:, j] for j in range(d)],
            weights_init=start.weights,
            max_iter=em_iterations,
            tol=0.0,
        ).fit(codes)
    data = model._prepare_data(codes, reset=False)
    (coef,), intercept = data.encoding.linear_params(
        model.weights_, np.hstack(model.probs_)
    )
    return data.X, data.encoding, coef, intercept, one_hot(codes, n_categories)


def categorical_parts(X, encoding, coef, intercept):
    """One-thread functions for the encoding and the E product, per kernel block."""
    n_columns = coef.shape[1]
    blocks = dense.row_blocks(X.shape[0], n_columns, np.float64)
    rows = max(b - a for a, b in blocks)
    buffer = np.empty((rows, n_columns))
    joint = np.empty((coef.shape[0], rows))

    def over_blocks(part):
        def run():
            with threadpool_limits(1, user_api="blas"):
                for a, b in blocks:
                    part(a, b)

        return run

    def encode(a, b):
        encoding.encode(X[a:b], [buffer[: b - a]])

    def encode_e(a, b):
        (view,) = encoding.encode(X[a:b], [buffer[: b - a]])
        np.matmul(coef, view.T, out=joint[:, : b - a])

    label = f"1 thread, {rows} rows x {len(blocks)}"
    return {
        f"{label}: encode": over_blocks(encode),
        f"{label}: encode + E (K,D)@(D,rows)": over_blocks(encode_e),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("d", type=int)
    parser.add_argument("k", type=int)
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--block-kib", type=int, nargs="*", default=[2048])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-parts", action="store_true")
    parser.add_argument(
        "--categories",
        type=int,
        default=None,
        metavar="C",
        help="d items of C categories each (CategoricalMixtureEM) instead of 0/1",
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time one-thread runs in CPU seconds of the thread (under load); "
        "drops the 2-thread lines",
    )
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}")
    if args.categories is not None:
        return profile_categorical(args)
    X, coef, intercept = make_problem(args.n, args.d, args.k, args.dtype)
    joint = X[:2000].astype(np.float64) @ coef.T + intercept
    gaps = (joint - joint.max(axis=1, keepdims=True))[joint < joint.max(1, keepdims=1)]
    print(
        "exponents below the row maximum, first 2000 rows: median "
        f"{np.median(gaps):.0f}, below -708 (underflow): {np.mean(gaps < -708):.0%}"
    )
    cdt = _common.compute_dtype(X)
    ref = X if X.dtype == cdt else X.astype(np.float64)
    rng = np.random.default_rng(2)
    A = rng.random((args.k, args.d)).astype(ref.dtype)
    R = rng.random((args.n, args.k)).astype(ref.dtype)
    ones = np.ones(args.n)

    funcs = {
        "bare products (2 threads)": lambda: (ref @ A.T, (ref.T @ R).T),
        "bare products, 1 thread": one_thread(lambda: (ref @ A.T, (ref.T @ R).T)),
        "dense.e_step": lambda: dense.e_step(X, BINARY, (coef,), intercept, ones),
        "dense.e_step, 1 thread": one_thread(
            lambda: dense.e_step(X, BINARY, (coef,), intercept, ones)
        ),
    }
    for kib in args.block_kib:
        rows = max(16, kib * 1024 // (args.d * np.dtype(cdt).itemsize))
        if not args.no_parts:
            parts, n_blocks = block_parts(X, coef, intercept, rows)
            for name, func in parts.items():
                funcs[f"1 thread, {rows} rows x {n_blocks}: {name}"] = func
    report(funcs, args)


def report(funcs, args):
    """Time ``funcs`` interleaved; print min, median and median over the bare products."""
    if args.cpu:
        funcs = {name: f for name, f in funcs.items() if "1 thread" in name}
        times = interleaved(funcs, args.repeats, _thread_clock)
        bare = statistics.median(times["bare products, 1 thread"])
    else:
        times = interleaved(funcs, args.repeats)
        bare = statistics.median(times["bare products (2 threads)"])
    print(f"{'':62s} {'min s':>8s} {'median s':>8s} {'/bare':>6s}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:62s} {min(values):8.4f} {med:8.4f} {med / bare:6.2f}")


def profile_categorical(args):
    """The categorical kernel against the bare products of its one-hot matrix."""
    X, encoding, coef, intercept, ref = make_categorical_problem(
        args.n, args.d, args.k, args.categories
    )
    rng = np.random.default_rng(2)
    A = rng.random((args.k, ref.shape[1]))
    R = rng.random((args.n, args.k))

    def e_step():
        return dense.e_step(X, encoding, (coef,), intercept, None)

    funcs = {
        "bare products (2 threads)": lambda: (ref @ A.T, (ref.T @ R).T),
        "bare products, 1 thread": one_thread(lambda: (ref @ A.T, (ref.T @ R).T)),
        "dense.e_step": e_step,
        "dense.e_step, 1 thread": one_thread(e_step),
    }
    if not args.no_parts:
        funcs |= categorical_parts(X, encoding, coef, intercept)
    report(funcs, args)


if __name__ == "__main__":
    main()
