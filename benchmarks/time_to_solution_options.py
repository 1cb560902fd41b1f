"""Iterations and wall time to convergence with and without ``accelerate`` (and ``mixed_precision``).

The LCA data sets of ``../shared/data`` (binary ones with BernoulliMixtureEM,
polytomous ones with CategoricalMixtureEM) and a synthetic 20,000 x 30 set, K
classes, ``n_init`` random starts (``init_params="random"``, seeds drawn from
``random_state``), each run to ``|change of the total log-likelihood| < 1e-10``
(``tol = 1e-10 / n``). Prints, per data set and option, the total EM-map
evaluations over the starts, the wall time of the fit, and the best total
log-likelihood; and the ratios to plain EM. Run from the repository root::

    PYTHONPATH=. python benchmarks/time_to_solution_options.py [--n-init 20] [--seeds 0 1 2]
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM, CategoricalMixtureEM

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

BINARY = ["carcinoma", "dentistry", "mobility", "lsat6", "wirs", "digits_binarized_gt8"]
POLYTOMOUS = ["gss82", "election"]


def load(name):
    frame = pd.read_csv(DATA / f"{name}.csv")
    if name == "election":
        frame = frame.iloc[:, :12].dropna()
    return frame.to_numpy()


def synthetic(seed=0):
    rng = np.random.default_rng(seed)
    means = rng.uniform(0.1, 0.9, size=(5, 30))
    labels = rng.integers(5, size=20_000)
    return (rng.uniform(size=(20_000, 30)) < means[labels]).astype(np.uint8)


def cases():
    for name in BINARY:
        X = load(name)
        yield name, X, BernoulliMixtureEM, 10 if name.startswith("digits") else 3
    yield "synthetic 20k x 30", synthetic(), BernoulliMixtureEM, 5
    for name in POLYTOMOUS:
        yield name, load(name), CategoricalMixtureEM, 3


def fit(model, X, K, n_init, seed, **options):
    est = model(
        K,
        tol=1e-10 / X.shape[0],
        max_iter=100_000,
        n_init=n_init,
        init_params="random",
        random_state=seed,
        **options,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        runs = []
        original = est._em_steps

        def counting(*args):
            # Every run, alone or in lockstep, is this coroutine.
            run = yield from original(*args)
            runs.append(run["n_iter"])
            return run

        est._em_steps = counting
        est.fit(X)
        elapsed = time.perf_counter() - start
    return elapsed, sum(runs), est.lower_bound_ * X.shape[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-init", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--options", nargs="*", default=["plain", "squarem"])
    args = parser.parse_args()
    settings = {
        # Explicit: SQUAREM is the default since it was measured here.
        "plain": {"accelerate": None},
        "squarem": {"accelerate": "squarem"},
        "mixed": {"accelerate": None, "mixed_precision": True},
        "squarem+mixed": {"accelerate": "squarem", "mixed_precision": True},
    }
    print(
        "| data | option | evaluations | seconds | best log-lik | eval ratio | time ratio |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, X, model, K in cases():
        if args.only and name not in args.only:
            continue
        base = None
        for option in args.options:
            results = [
                fit(model, X, K, args.n_init, seed, **settings[option])
                for seed in args.seeds
            ]
            seconds = sum(r[0] for r in results)
            evaluations = sum(r[1] for r in results)
            best = max(r[2] for r in results)
            if base is None:
                base = (evaluations, seconds)
            print(
                f"| {name} | {option} | {evaluations} | {seconds:.2f} | {best:.6f} "
                f"| {evaluations / base[0]:.2f} | {seconds / base[1]:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
