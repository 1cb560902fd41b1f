"""Empirical size of the Vuong-Lo-Mendell-Rubin test (skcoinmix.inference.vlmr_test).

Data are simulated from a ``K - 1`` class Bernoulli mixture; a ``K``-class
model is fitted and tested against ``K - 1`` classes; the script prints how
often the VLMR and the adjusted (LMR) p-values fall below 5% and 1%, with
95% Clopper-Pearson intervals. Run from the repository root::

    PYTHONPATH=. python benchmarks/vlmr_size.py --replicates 200 --seed 0

The results are recorded in docs/inference_se.inc.
"""

import argparse
import sys
import time
import warnings

import numpy as np
from scipy.stats import beta
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM
from skcoinmix.inference import vlmr_test

#: (name, class weights, item probabilities (K - 1, d), rows)
SETTINGS = [
    (
        "1 vs 2 classes, 6 items, n=500",
        np.array([1.0]),
        np.array([[0.2, 0.35, 0.5, 0.5, 0.65, 0.8]]),
        500,
    ),
    (
        "2 vs 3 classes, 6 items, n=500",
        np.array([0.6, 0.4]),
        np.array([[0.8, 0.8, 0.7, 0.3, 0.2, 0.2], [0.2, 0.3, 0.3, 0.7, 0.8, 0.9]]),
        500,
    ),
]


def clopper_pearson(successes, trials, level=0.95):
    alpha = 1 - level
    low = beta.ppf(alpha / 2, successes, trials - successes + 1) if successes else 0.0
    high = (
        beta.ppf(1 - alpha / 2, successes + 1, trials - successes)
        if successes < trials
        else 1.0
    )
    return low, high


def simulate(rng, weights, means, n):
    labels = rng.choice(len(weights), size=n, p=weights)
    return (rng.random((n, means.shape[1])) < means[labels]).astype(np.float64)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-init", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    for name, weights, means, n in SETTINGS:
        K = len(weights) + 1
        pvalues, adjusted = [], []
        start = time.perf_counter()
        for replicate in range(args.replicates):
            X = simulate(rng, weights, means, n)
            est = BernoulliMixtureEM(
                K,
                n_init=args.n_init,
                init_params="random",
                tol=1e-8,
                max_iter=2000,
                random_state=int(rng.integers(2**31)),
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.fit(X)
                result = vlmr_test(est, X)
            pvalues.append(result.pvalue)
            adjusted.append(result.adjusted_pvalue)
            if (replicate + 1) % 20 == 0:
                print(f"{name}: {replicate + 1} replicates", file=sys.stderr)
        elapsed = time.perf_counter() - start
        print(f"\n{name}: {args.replicates} replicates, {elapsed:.0f} s")
        for label, values in (("VLMR", pvalues), ("adjusted LMR", adjusted)):
            values = np.asarray(values)
            for level in (0.05, 0.01):
                hits = int((values < level).sum())
                low, high = clopper_pearson(hits, len(values))
                print(
                    f"  {label:13s} rejects at {level:.0%}: {hits / len(values):.3f} "
                    f"(95% CI {low:.3f}-{high:.3f})"
                )


if __name__ == "__main__":
    main()
