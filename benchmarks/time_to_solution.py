"""Time to solution: whole fits of 20 random starts to a published tolerance.

Usage, from the repository root::

    python benchmarks/time_to_solution.py [--only NAME ...] [--repeats R]
        [--no-peers] [--write-readme]

Every case is fitted with 20 random starts, each run until its total
log-likelihood changes by less than 1e-10 (or by less than 1e-14 of its
magnitude where 1e-10 is below float64's resolution), by skcoinmix (its
defaults, then each option of the time-to-solution issue set the other way:
staged restarts, and acceleration / mixed precision where the installed
skcoinmix has them, found with ``get_params()``), by StepMix and, where
``Rscript`` and R's poLCA are installed, by poLCA, one after the other in
this process run. Reports wall-clock seconds (median of ``--repeats``), the
maximum total log-likelihood reached, the iterations of the best start, the
ratio of each peer's time to skcoinmix's and the >= 10x target of issue 16
(met when skcoinmix is at least 10 times faster than the peer and reaches
the peer's maximum - 1e-6). ``--write-readme`` puts the table into
benchmarks/README.md (section "Time to solution").
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from _data import planted_dense, random_prototypes
from _sections import generated_block, write_section
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import StrOptions

from skcoinmix import BernoulliMixtureEM, CategoricalMixtureEM

README = Path(__file__).with_name("README.md")
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

N_INIT = 20
#: Tolerance on the total log-likelihood, as published LCA results need ...
TOTAL_TOL = 1e-10
#: ... unless that is below float64's resolution of the total: then relative.
RELATIVE_TOL = 1e-14
#: Every run here converges far below this.
MAX_ITER = 100_000
#: skcoinmix must be this many times faster than each peer ...
TARGET_RATIO = 10.0
#: ... reaching at least the peer's maximum minus this (total log-likelihood).
MAX_GAP = 1e-6
#: The staged restarts timed as "on" when they are off by default.
STAGED_ON = {"n_init_final": 4, "initial_stage_iter": 200}
#: The parameters every estimator had before issue 16: any other one with
#: boolean or string options is an option of the issue, timed off and on.
KNOWN = {
    "n_components",
    "tol",
    "max_iter",
    "n_init",
    "n_init_final",
    "initial_stage_iter",
    "init_params",
    "random_state",
    "warm_start",
    "verbose",
    "verbose_interval",
    "n_jobs",
    "learning_decay",
    "learning_offset",
    "alpha",
    "binarize",
    "tie_features",
    "fit_weights",
    "weights_init",
    "means_init",
    "probs_init",
    "n_trials",
    "categories",
    "handle_unknown",
}

ELECTION_ITEMS = [
    f"{trait}{candidate}"
    for candidate in "GB"
    for trait in ("MORAL", "CARES", "KNOW", "LEAD", "DISHON", "INTEL")
]


@dataclass
class Case:
    """A data set and K; ``codes`` are 0-based categories for categorical data."""

    name: str
    X: np.ndarray
    n_components: int
    categorical: bool = False
    constant_columns: bool = False

    @property
    def label(self):
        n, d = self.X.shape
        return f"{self.name} ({n:,} x {d}, K={self.n_components})"


@dataclass
class Result:
    case: str
    contender: str
    seconds: float = float("nan")
    maximum: float = float("nan")
    n_iter: object = None
    note: str = ""
    peers: dict = field(default_factory=dict)


# ----------------------------------------------------------------------- data
def _csv(name):
    return pd.read_csv(DATA / f"{name}.csv")


def build_cases():
    election = _csv("election")[ELECTION_ITEMS].dropna()
    prototypes = random_prototypes(5, 30, 0.1, 0.9, seed=0)
    return [
        Case("carcinoma", _csv("carcinoma").to_numpy(np.uint8), 3),
        Case("dentistry", _csv("dentistry").to_numpy(np.uint8), 3),
        Case("mobility", _csv("mobility").to_numpy(np.uint8), 3),
        Case("synthetic", planted_dense(prototypes, 20_000, seed=0), 5),
        # poLCA's coding 1..C, as integers: 0-based for StepMix and poLCA's R.
        Case("gss82", _csv("gss82").to_numpy(np.int64) - 1, 3, categorical=True),
        Case("election", election.to_numpy(np.int64) - 1, 3, categorical=True),
        # Last: ten components from random starts take the longest.
        Case(
            "digits>8",
            _csv("digits_binarized_gt8").to_numpy(np.uint8),
            10,
            constant_columns=True,
        ),
    ]


def total_tolerance(case):
    """1e-10, or 1e-14 of the total log-likelihood's magnitude when larger.

    The magnitude is the one-class model's (closed form), an upper bound.
    """
    one_class = skcoinmix_model(case, n_components=1, max_iter=1, n_init=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        magnitude = abs(one_class.fit(case.X).score(case.X)) * case.X.shape[0]
    return max(TOTAL_TOL, RELATIVE_TOL * magnitude)


# ----------------------------------------------------------------- contenders
def skcoinmix_model(case, **params):
    cls = CategoricalMixtureEM if case.categorical else BernoulliMixtureEM
    settings = dict(n_components=case.n_components, init_params="random")
    return cls(**(settings | params))


def skcoinmix_variants(case):
    """``(label, params)``: the defaults, then each issue-16 option the other way."""
    model = skcoinmix_model(case)
    defaults = model.get_params()
    variants = [("skcoinmix defaults", {})]
    if defaults["n_init_final"] is None:
        variants.append(("skcoinmix staged " + _staged_label(STAGED_ON), STAGED_ON))
    else:
        variants.append(("skcoinmix unstaged", {"n_init_final": None}))
    for name in sorted(set(defaults) - KNOWN):
        for value in _option_values(model, name):
            if value != defaults[name]:
                variants.append((f"skcoinmix {name}={value!r}", {name: value}))
    return variants


def _staged_label(params):
    return f"{params['n_init_final']}x{params['initial_stage_iter']}"


def _option_values(model, name):
    values = []
    for constraint in model._parameter_constraints.get(name, []):
        if constraint == "boolean":
            values += [False, True]
        elif isinstance(constraint, StrOptions):
            values += sorted(constraint.options)
        elif constraint is None:  # an option that None turns off
            values.append(None)
    return values


def timed_fit(model, X):
    """``(seconds, maximum total log-likelihood, n_iter_, converged_)`` of ``model.fit(X)``.

    skcoinmix's and StepMix's estimators alike (their ``score`` is the mean
    log-likelihood per row).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = time.perf_counter()
        model.fit(X)
        seconds = time.perf_counter() - started
    maximum = model.score(X) * X.shape[0]
    return seconds, maximum, model.n_iter_, model.converged_


def fit_skcoinmix(case, tol_total, params):
    model = skcoinmix_model(
        case,
        n_init=N_INIT,
        tol=tol_total / case.X.shape[0],
        max_iter=MAX_ITER,
        random_state=0,
        **params,
    )
    return timed_fit(model, case.X)


def fit_stepmix(case, tol_total):
    """StepMix with the same settings: random starts, 20 of them, abs_tol per row.

    StepMix's ``abs_tol`` applies to the mean log-likelihood, like skcoinmix's
    ``tol``; ``rel_tol=0`` leaves it alone.
    """
    from stepmix import StepMix

    model = StepMix(
        n_components=case.n_components,
        measurement="categorical" if case.categorical else "bernoulli",
        n_init=N_INIT,
        init_params="random",
        abs_tol=tol_total / case.X.shape[0],
        rel_tol=0.0,
        max_iter=MAX_ITER,
        progress_bar=0,
        verbose=0,
        random_state=0,
    )
    return timed_fit(model, case.X)


POLCA_SCRIPT = """
suppressMessages(library(poLCA))
args <- commandArgs(trailingOnly = TRUE)
X <- read.csv(args[1]) + 1
K <- as.integer(args[2])
tol <- as.numeric(args[3])
f <- as.formula(paste("cbind(", paste(names(X), collapse = ","), ") ~ 1"))
set.seed(0)
t <- system.time(m <- poLCA(f, X, nclass = K, nrep = 20, maxiter = 100000,
                            tol = tol, verbose = FALSE, calc.se = FALSE))
cat(t[["elapsed"]], m$llik, m$numiter, "\\n")
"""


def polca_available():
    """None when poLCA can run, else the reason it cannot."""
    if shutil.which("Rscript") is None:
        return "Rscript is not on the PATH"
    check = subprocess.run(
        ["Rscript", "-e", "library(poLCA)"], capture_output=True, text=True
    )
    if check.returncode != 0:
        return "R's poLCA is not installed (not in R_LIBS)"
    return None


def fit_polca(case, tol_total):
    """poLCA in a child R process: its own timing of the fit, llik, iterations.

    poLCA's ``tol`` applies to the total log-likelihood, as here.
    """
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data.csv"
        script = Path(folder) / "fit.R"
        pd.DataFrame(case.X).add_prefix("V").to_csv(data, index=False)
        script.write_text(POLCA_SCRIPT)
        out = subprocess.run(
            [
                "Rscript",
                str(script),
                str(data),
                str(case.n_components),
                repr(tol_total),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    seconds, maximum, n_iter = out.stdout.split()
    # poLCA reports no convergence flag: iterations below maxiter mean it.
    return float(seconds), float(maximum), int(n_iter), int(n_iter) < MAX_ITER


def timed(func, repeats):
    """Median seconds of ``repeats`` calls; the last call's maximum, iterations, flag."""
    runs = [func() for _ in range(repeats)]
    return statistics.median(run[0] for run in runs), *runs[-1][1:]


# -------------------------------------------------------------------- running
def run_case(case, args, polca_reason, log):
    tol_total = total_tolerance(case)
    log(f"[{case.label}] tol on the total log-likelihood {tol_total:.3g}")
    results = []

    def attempt(contender, func):
        try:
            seconds, maximum, n_iter, converged = timed(func, args.repeats)
        except Exception as exc:  # one failing contender must not lose the rest
            result = Result(case.label, contender, note=f"failed: {exc!r}")
        else:
            note = "" if converged else "best start stopped at max_iter"
            result = Result(case.label, contender, seconds, maximum, n_iter, note)
        log(
            f"  {contender}: {result.seconds:.3f} s, max {result.maximum:.6f}, "
            f"{result.n_iter} iterations {result.note}"
        )
        results.append(result)
        return result

    for label, params in skcoinmix_variants(case):
        attempt(label, lambda params=params: fit_skcoinmix(case, tol_total, params))
    peers = []
    if not args.no_peers:
        peers.append(attempt("StepMix", lambda: fit_stepmix(case, tol_total)))
        if polca_reason is not None:
            results.append(Result(case.label, "poLCA", note=f"not run: {polca_reason}"))
        elif case.constant_columns:
            results.append(
                Result(case.label, "poLCA", note="not run: refuses constant columns")
            )
        else:
            peers.append(attempt("poLCA", lambda: fit_polca(case, tol_total)))
    for result in results:
        if result.contender.startswith("skcoinmix"):
            result.peers = {
                peer.contender: (peer.seconds, peer.maximum)
                for peer in peers
                if not np.isnan(peer.seconds)
            }
    return results


def target_cell(result):
    """Met / not met against every peer that ran, with the reason."""
    cells = []
    for peer, (seconds, maximum) in result.peers.items():
        ratio = seconds / result.seconds
        if result.maximum < maximum - MAX_GAP:
            cells.append(f"{peer}: not met (lower maximum)")
        elif ratio >= TARGET_RATIO:
            cells.append(f"{peer}: met")
        else:
            cells.append(f"{peer}: not met")
    return "; ".join(cells)


def table(results):
    header = [
        "case (n x d, K)",
        "contender",
        "seconds",
        "max total log L",
        "iterations (best start)",
        "StepMix / this",
        "poLCA / this",
        f">= {TARGET_RATIO:g}x target",
    ]
    lines = [
        "| " + " | ".join(header) + " |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for result in results:
        ratios = [
            f"{result.peers[peer][0] / result.seconds:.1f}x"
            if peer in result.peers
            else ""
            for peer in ("StepMix", "poLCA")
        ]
        seconds = "" if np.isnan(result.seconds) else f"{result.seconds:.3g}"
        maximum = "" if np.isnan(result.maximum) else f"{result.maximum:.6f}"
        cells = [
            result.case,
            result.contender,
            seconds,
            maximum,
            "" if result.n_iter is None else f"{result.n_iter:,}",
            *ratios,
            "; ".join(
                filter(None, [target_cell(result) if result.peers else "", result.note])
            ),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    names = [
        "carcinoma",
        "dentistry",
        "mobility",
        "digits>8",
        "synthetic",
        "gss82",
        "election",
    ]
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--write-readme", action="store_true")
    return parser.parse_args(argv)


def load_note():
    """A warning when the machine was busy: a load average above its CPUs."""
    if os.getloadavg()[0] <= (os.cpu_count() or 1):
        return ""
    return (
        " **Noisy figures: measured on a shared machine under load; to be "
        "rerun on an idle one.**"
    )


def body(args, results, n_cases):
    done = len({result.case for result in results})
    partial = "" if done == n_cases else f" **Partial: {done} of {n_cases} cases.**"
    return "\n\n".join(
        [
            f"{N_INIT} random starts each, tolerance {TOTAL_TOL:g} on the total "
            f"log-likelihood (or {RELATIVE_TOL:g} of its magnitude where "
            "larger), wall-clock seconds of the whole fit (median of "
            f"{args.repeats}). The target: skcoinmix >= {TARGET_RATIO:g}x "
            f"faster than each peer, reaching the peer's maximum - {MAX_GAP:g}."
            + load_note()
            + partial,
            table(results),
        ]
    )


def main(argv=None):
    args = parse_args(argv)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    polca_reason = None if args.no_peers else polca_available()
    if polca_reason is not None:
        log(f"poLCA skipped: {polca_reason}")
    cases = [
        case for case in build_cases() if args.only is None or case.name in args.only
    ]
    results = []
    for case in cases:
        results += run_case(case, args, polca_reason, log)
        if args.write_readme:  # after every case: a run cut short keeps them
            block = generated_block(
                time.perf_counter() - started, body(args, results, len(cases))
            )
            write_section(README, "time_to_solution", "Time to solution", block)
    print(body(args, results, len(cases)))
    if args.write_readme:
        print(f"Results written to {README}.")


if __name__ == "__main__":
    sys.exit(main())
