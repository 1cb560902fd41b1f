"""Do staged restarts find the best log-likelihood as often as full restarts?

Usage, from the repository root::

    python benchmarks/staged_restarts.py [--datasets NAME ...] [--ks K ...]
        [--seeds S ...] [--best-of N] [--variants FxI ...] [--write-readme]
        [--cache PATH | --no-cache]

For every latent class data set in ``../shared/data`` (the binary ones with
``BernoulliMixtureEM``, gss82 and election with ``CategoricalMixtureEM``) and
every K, the best known log-likelihood is the best of ``--best-of`` (200)
plain EM starts (fitted on the distinct response patterns with their counts
as weights: the same likelihood, a fraction of the cost) and of every fit
below. Then, for each seed, the model with ``n_init=20,
init_params="random", tol=1e-10 / N`` is fitted on the rows as a user would, once running every
start to convergence ("plain") and once per staged variant ``FxI``
(``n_init_final=F, initial_stage_iter=I``); with the same ``random_state``
all variants draw the same 20 starts. A fit *hits* when its total
log-likelihood is within ``--gap`` (1e-6) of the best known. Prints a
markdown table of hits and seconds; ``--write-readme`` puts it into
benchmarks/README.md (section "Staged restarts").

Every fit's result is kept in ``--cache`` (``staged_restarts.json`` beside
this script) as soon as it is known, so that a run cut short resumes where it
stopped and several runs (other seeds, other data sets, one per core) add up
to one table: a fit already in the cache is not run again. Hits depend on the
maxima found, not on the machine's speed; the seconds in the table are those
of the run that made each fit. ``--no-cache`` runs everything afresh.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _sections import generated_block, write_section
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM, CategoricalMixtureEM

README = Path(__file__).with_name("README.md")
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

#: The latent class data sets of ../shared/data (see its README): the binary
#: ones, the quickest to fit first (a run cut short still covers the most),
#: then the polytomous ones.
DATASETS = (
    "carcinoma",
    "pleural_thickening",
    "mobility",
    "genderrole",
    "myocardial",
    "wirs",
    "cheating",
    "dentistry",
    "hivtests",
    "abortion",
    "stouffer_toby_values",
    "alzheimer",
    "lsat6",
    "gss82",
    "election",
)
#: The polytomous ones, fitted with CategoricalMixtureEM.
POLYTOMOUS = ("gss82", "election")
#: election's items about the two candidates (MORALG ... INTELB).
ELECTION_ITEMS = [
    f"{trait}{candidate}"
    for candidate in "GB"
    for trait in ("MORAL", "CARES", "KNOW", "LEAD", "DISHON", "INTEL")
]
#: Tolerance on the total log-likelihood, as published LCA results need.
TOTAL_TOL = 1e-10
#: Enough for every run here to converge (the slowest take ~20,000 updates).
MAX_ITER = 100_000
N_INIT = 20


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--ks", nargs="+", type=int, default=[2, 3, 4])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--best-of", type=int, default=200)
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["4x10", "4x50", "4x200", "8x200"],
        help="staged settings n_init_final x initial_stage_iter",
    )
    parser.add_argument("--gap", type=float, default=1e-6)
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument(
        "--cache", type=Path, default=Path(__file__).with_name("staged_restarts.json")
    )
    parser.add_argument("--no-cache", action="store_true")
    return parser.parse_args(argv)


class FitCache:
    """Results by key in a JSON file, written after every new result.

    Several processes may share the file: each re-reads it before writing and
    merges, so that no process drops another's results.
    """

    def __init__(self, path):
        self.path = path
        self.results = self._read()

    def _read(self):
        if self.path is None or not self.path.exists():
            return {}
        return json.loads(self.path.read_text())

    def get(self, key, compute, *args, **kwargs):
        """The result under ``key``, or ``compute(*args, **kwargs)`` kept under it."""
        if key not in self.results:
            self.results.update(self._read())
        if key not in self.results:
            value = compute(*args, **kwargs)
            self.results = self._read() | self.results | {key: value}
            if self.path is not None:
                partial = self.path.with_suffix(".tmp")
                partial.write_text(json.dumps(self.results, indent=0, sort_keys=True))
                partial.replace(self.path)
        return self.results[key]


def load(name):
    """``(X, estimator class)``: the rows of ``name``.csv.

    Binary sets as uint8 0/1 for BernoulliMixtureEM; the polytomous ones as
    their integer codes for CategoricalMixtureEM (election: the 12 candidate
    items, complete cases, as in time_to_solution.py).
    """
    frame = pd.read_csv(DATA / f"{name}.csv")
    if name not in POLYTOMOUS:
        return frame.to_numpy(dtype=np.uint8), BernoulliMixtureEM
    if name == "election":
        frame = frame[ELECTION_ITEMS].dropna()
    return frame.to_numpy(dtype=np.int64), CategoricalMixtureEM


def fit_total(X, model, n_components, seed, sample_weight=None, **params):
    """``(total log-likelihood, seconds, n_iter_, converged_)`` of one fit of ``model``."""
    n = X.shape[0] if sample_weight is None else sample_weight.sum()
    model = model(
        n_components=n_components,
        init_params="random",
        tol=TOTAL_TOL / n,
        max_iter=MAX_ITER,
        random_state=seed,
        **params,
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        # Reported as a column instead: a run at MAX_ITER is marked.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, sample_weight=sample_weight)
    seconds = time.perf_counter() - started
    total = model.score(X, sample_weight=sample_weight) * n
    return float(total), seconds, int(model.n_iter_), bool(model.converged_)


def best_known(X, model, n_components, best_of):
    """The best of ``best_of`` plain starts, fitted on the distinct patterns."""
    patterns, counts = np.unique(X, axis=0, return_counts=True)
    total, *_ = fit_total(
        patterns,
        model,
        n_components,
        seed=12345,
        sample_weight=counts.astype(np.float64),
        n_init=best_of,
    )
    return total


def variant_params(label):
    final, initial = (int(part) for part in label.split("x"))
    return {"n_init_final": final, "initial_stage_iter": initial}


def run(args, log, report=lambda labels, rows: None):
    """Every (data set, K) row; ``report(labels, rows)`` after each one."""
    cache = FitCache(None if args.no_cache else args.cache)
    labels = ["plain", *args.variants]
    params = {"plain": {}} | {label: variant_params(label) for label in args.variants}
    rows = []
    for name in args.datasets:
        X, model = load(name)
        for K in args.ks:
            started = time.perf_counter()
            reference = cache.get(
                f"{name} K={K} best of {args.best_of}",
                best_known,
                X,
                model,
                K,
                args.best_of,
            )
            results = {label: [] for label in labels}
            for seed in args.seeds:
                for label in labels:
                    results[label].append(
                        cache.get(
                            f"{name} K={K} seed={seed} {label}",
                            fit_total,
                            X,
                            model,
                            K,
                            seed,
                            n_init=N_INIT,
                            **params[label],
                        )
                    )
            seen = max(r[0] for runs in results.values() for r in runs)
            best = max(reference, seen)
            row = {
                "data": f"{name} ({X.shape[0]}x{X.shape[1]})",
                "K": K,
                "best": best,
                "raised": seen > reference + args.gap,
            }
            for label in labels:
                runs = results[label]
                row[label] = sum(r[0] >= best - args.gap for r in runs)
                row[label + " s"] = sum(r[1] for r in runs)
                row[label + " unconverged"] = sum(not r[3] for r in runs)
                row[label + " iter"] = max(r[2] for r in runs)
            rows.append(row)
            log(
                f"{name} K={K}: best {best:.6f}; "
                + ", ".join(
                    f"{label} {row[label]}/{len(args.seeds)} {row[label + ' s']:.1f}s"
                    for label in labels
                )
                + f" ({time.perf_counter() - started:.0f} s)"
            )
            report(labels, rows)
    return labels, rows


def table(labels, rows, n_seeds):
    header = ["data (n x d)", "K", "best known log L", *labels]
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + " |",
    ]
    for row in rows:
        cells = [row["data"], str(row["K"]), f"{row['best']:.4f}"]
        if row["raised"]:
            cells[2] += " *"
        for label in labels:
            cell = f"{row[label]}/{n_seeds} ({row[label + ' s']:.1f} s)"
            if row[label + " unconverged"]:
                cell += f" {row[label + ' unconverged']} at max_iter"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    totals = ["**all**", "", ""]
    for label in labels:
        hits = sum(row[label] for row in rows)
        seconds = sum(row[label + " s"] for row in rows)
        totals.append(f"**{hits}/{n_seeds * len(rows)}** ({seconds:.0f} s)")
    lines.append("| " + " | ".join(totals) + " |")
    return "\n".join(lines)


def verdict(labels, rows):
    plain = [row["plain"] for row in rows]
    lines = []
    for label in labels[1:]:
        worse = [
            f"{row['data'].split()[0]} K={row['K']}"
            for row, reference in zip(rows, plain, strict=True)
            if row[label] < reference
        ]
        better = sum(row[label] > ref for row, ref in zip(rows, plain, strict=True))
        seconds = sum(row[label + " s"] for row in rows)
        plain_seconds = sum(row["plain s"] for row in rows)
        status = (
            "as often as plain" if not worse else "less often on " + ", ".join(worse)
        )
        lines.append(
            f"- `{label}` (n_init_final={label.split('x')[0]}, "
            f"initial_stage_iter={label.split('x')[1]}): hits {status}"
            f"{f'; more often on {better} rows' if better else ''}; "
            f"{seconds / plain_seconds:.2f}x plain's time."
        )
    return "\n".join(lines)


def body(args, labels, rows):
    n_rows = len(args.datasets) * len(args.ks)
    partial = (
        ""
        if len(rows) == n_rows
        else f" **Partial: {len(rows)} of {n_rows} rows (the run was cut short).**"
    )
    return "\n\n".join(
        [
            f'{N_INIT} random starts (`init_params="random"`), tol 1e-10 on '
            f"the total log-likelihood, seeds {args.seeds}; best known = best "
            f"of {args.best_of} plain starts and of every fit here (`*`: a "
            f"fit here beat the {args.best_of}); a hit is within {args.gap:g} "
            "of it. Each cell: hits/seeds (seconds summed over seeds; the "
            "machine was shared, times are noisy)." + partial,
            table(labels, rows, len(args.seeds)),
            verdict(labels, rows),
        ]
    )


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()

    def log(message):
        print(message, file=sys.stderr, flush=True)

    def report(labels, rows):
        if args.write_readme:
            write_section(
                README,
                "staged_restarts",
                "Staged restarts (Mplus `STARTS = N1 N2`)",
                generated_block(
                    time.perf_counter() - started, body(args, labels, rows)
                ),
            )

    labels, rows = run(args, log, report)
    print(body(args, labels, rows))
    if args.write_readme:
        print(f"Results written to {README}.")


if __name__ == "__main__":
    sys.exit(main())
