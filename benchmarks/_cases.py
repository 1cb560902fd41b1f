"""The benchmark cases: each builds its data once and returns its result rows.

Every ratio of a case compares two figures measured in the same process run,
one right after the other, so that a busy machine shifts both alike.
"""

import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from _contenders import (
    NaiveBernoulliLoop,
    NaiveBinomialLoop,
    bare_paired_products,
    bare_products,
    gaussian_fit,
    row_sums,
    skcoinmix_binomial_fit,
    skcoinmix_categorical_fit,
    skcoinmix_categorical_solution,
    skcoinmix_default_init,
    skcoinmix_fit,
    solution_tolerance,
    stepmix_categorical_fit,
    stepmix_categorical_solution,
    stepmix_fit,
    transposed_forms,
)
from _data import (
    Start,
    categorical_prototypes,
    coin_prototypes,
    fixed_categorical_start,
    fixed_start,
    one_hot,
    planted_categorical,
    planted_dense,
    planted_sparse,
    random_prototypes,
)
from _memory import FIT_BYTES_PER_ENTRY, require_memory, run_child
from _report import CATEGORICAL_BLOCK, Row, Target
from _timing import median_seconds, time_bare_loop, time_per_iteration

#: A peer must be this many times slower per iteration than skcoinmix.
PEER_TARGET = Target(">=", 3.0)
#: StepMix's categorical model must be this many times slower per iteration.
CATEGORICAL_PEER_TARGET = Target(">=", 5.0)
#: The polytomous data sets (poLCA's codes 1..C), shipped with the tests.
TEST_DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
#: R.T @ X slower than (X.T @ R).T by more than this prints a warning.
TRANSPOSED_WARNING = 2.0
#: The seed notebook's guesses for its two coins.
NOTEBOOK_START = Start(np.array([[0.4], [0.6]]), np.array([0.5, 0.5]))


@dataclass
class Context:
    """Settings of the run, and where its rows, notes and progress go."""

    settings: object
    quick: bool
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def log(self, message):
        print(message, file=sys.stderr, flush=True)

    def warn(self, message):
        self.log(message)
        self.notes.append(message)


# ------------------------------------------------------------------ measuring
def measure_em(ctx, label, fit, timer=time_per_iteration, settings=None, **kwargs):
    """Seconds per EM iteration of ``fit``, logged as it comes."""
    timing = timer(fit, settings or ctx.settings, **kwargs)
    ctx.log(
        f"  {label}: {timing.per_iteration:.4g} s/iter "
        f"(m={timing.n_iter}, fixed per-fit {timing.overhead:.3g} s)"
    )
    for name, seconds in getattr(timing, "references", {}).items():
        ctx.log(f"    bare products {name}, timed between its fits: {seconds:.4g} s")
    return timing


def measure_call(ctx, label, func, repeats=None, warmup=1):
    """Median seconds of ``func()``, logged as it comes."""
    value = median_seconds(func, repeats or ctx.settings.repeats, warmup)
    ctx.log(f"  {label}: {value:.4g} s")
    return value


def _short(count):
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if count >= size and count % size == 0:
            return f"{count // size}{suffix}"
    return str(count)


def bare_target(n_features):
    """Per-iteration bound against the bare products: 1.0x for d >= 784, 1.5x for d <= 100."""
    if n_features >= 784:
        return Target("<=", 1.0)
    if n_features <= 100:
        return Target("<=", 1.5)
    return None


# ---------------------------------------------------------------- shared rows
def overhead_row(case, label, timing):
    """The fixed per-fit time, in EM iterations."""
    return Row(
        case,
        f"{label}: fixed per-fit time",
        timing.overhead,
        f"{label}: one EM iteration",
        timing.per_iteration,
        note="t(1) minus one iteration: validation, copies",
    )


def init_row(ctx, case, X, n_components, reference, target=None, **params):
    """The default ("kmeans") initialisation, in EM iterations."""
    seconds = measure_call(
        ctx, "default init", skcoinmix_default_init(X, n_components, **params)
    )
    return Row(
        case,
        "default init: fit(max_iter=0)",
        seconds,
        "one EM iteration",
        reference.per_iteration,
        target,
        note="validation + k-means init",
    )


def transposed_row(ctx, case, X, n_components):
    """``R.T @ X`` against ``(X.T @ R).T``, each timed once; warns past 2x."""
    dtype = X.dtype.name
    slow, fast = transposed_forms(X, n_components)
    fast_seconds = measure_call(ctx, f"(X.T @ R).T {dtype}", fast, 1, warmup=0)
    slow_seconds = measure_call(ctx, f"R.T @ X {dtype}", slow, 1, warmup=0)
    ratio = slow_seconds / fast_seconds
    note = ""
    if ratio > TRANSPOSED_WARNING:
        note = "WARNING: > 2x slower"
        ctx.warn(
            f"WARNING [{case}]: R.T @ X ({dtype}) took {slow_seconds:.3g} s, "
            f"{ratio:.1f}x the {fast_seconds:.3g} s of (X.T @ R).T: "
            "write the M-step product as (X.T @ R).T."
        )
    return Row(
        case,
        f"R.T @ X {dtype}, one product",
        slow_seconds,
        f"(X.T @ R).T {dtype}",
        fast_seconds,
        note=note,
    )


def not_run(case, label, reason):
    return Row(case, label, None, "skcoinmix", None, note=f"not run: {reason}")


def peer_row(ctx, case, label, make_fit, reference, timer=time_per_iteration):
    """A peer's seconds per iteration against skcoinmix float64's."""
    try:
        timing = measure_em(ctx, label, make_fit(), timer)
    except Exception as exc:  # a peer that fails is reported, not fatal
        ctx.warn(f"[{case}] {label} failed: {exc!r}")
        return not_run(case, label, f"failed: {type(exc).__name__}")
    return Row(
        case,
        label,
        timing.per_iteration,
        "skcoinmix float64",
        reference.per_iteration,
        PEER_TARGET,
    )


def naive_row(ctx, case, label, loop, reference, reference_label):
    """The seed notebook's loop against skcoinmix, and whether it returned NaN.

    Its warm-up iteration runs on a tenth of the rows: the loop is slow and
    has nothing to warm but the allocator.
    """
    warmup = type(loop)(loop.X[: max(1, loop.X.shape[0] // 10)], loop.start)
    timing = measure_em(ctx, label, loop, time_bare_loop, warmup=warmup)
    if loop.returned_nan:
        ctx.warn(f"[{case}] {label} returned NaN (underflow to 0 / 0).")
    return Row(
        case,
        label,
        timing.per_iteration,
        reference_label,
        reference.per_iteration,
        note="returns NaN" if loop.returned_nan else "finite",
    )


# ---------------------------------------------------------------------- cases
@dataclass(frozen=True)
class DenseCase:
    """Dense binary data of shape (n, d), K components, in every storage dtype."""

    name: str
    shape: tuple
    quick_shape: tuple
    init_target: Target | None = None

    def run(self, ctx):
        n, d, K = self.quick_shape if ctx.quick else self.shape
        case = f"{_short(n)} x {_short(d)}, K={K}"
        X = planted_dense(random_prototypes(K, d, 0.1, 0.9), n)
        start = fixed_start(K, d)
        stored = {
            "float64": X.astype(np.float64),
            "float32": X.astype(np.float32),
            "uint8": X,
            "bool": X.view(bool),
        }
        products = {
            dtype: bare_products(stored[dtype], K) for dtype in ("float64", "float32")
        }
        for dtype, func in products.items():  # a warm-up, and a figure in the log
            measure_call(
                ctx, f"bare products {dtype}", func, ctx.settings.cheap_repeats
            )
        em = {}
        for dtype, data in stored.items():
            # Each compared with the products timed between its own fits.
            compared = {"float64"} | ({"float32"} if dtype == "float32" else set())
            em[dtype] = measure_em(
                ctx,
                f"skcoinmix {dtype}",
                skcoinmix_fit(data, start),
                references={name: products[name] for name in sorted(compared)},
            )
        bare = {
            (dtype, name): seconds
            for dtype, timing in em.items()
            for name, seconds in timing.references.items()
        }
        rows = [
            transposed_row(ctx, case, stored[dtype], K)
            for dtype in ("float64", "float32")
        ]
        rows += self._product_rows(case, d, em, bare)
        rows.append(overhead_row(case, "skcoinmix float64", em["float64"]))
        rows += self._peer_rows(ctx, case, stored["float64"], start, em["float64"])
        rows.append(
            init_row(ctx, case, stored["float64"], K, em["float64"], self.init_target)
        )
        return rows

    @staticmethod
    def _product_rows(case, d, em, bare):
        compared = [
            ("float64", "float64", bare_target(d)),
            ("float32", "float32", bare_target(d)),
            ("uint8", "float64", Target("<=", 0.9)),
            ("bool", "float64", Target("<=", 0.9)),
            ("float32", "float64", Target("<=", 0.6)),
        ]
        return [
            Row(
                case,
                f"skcoinmix {dtype}",
                em[dtype].per_iteration,
                f"bare products {bare_dtype}",
                bare[dtype, bare_dtype],
                target,
            )
            for dtype, bare_dtype, target in compared
        ]

    @staticmethod
    def _peer_rows(ctx, case, X, start, reference):
        K = start.n_components
        return [
            peer_row(
                ctx, case, "StepMix float64", lambda: stepmix_fit(X, K), reference
            ),
            peer_row(
                ctx,
                case,
                "GaussianMixture(diag) float64",
                lambda: gaussian_fit(X, start),
                reference,
            ),
            naive_row(
                ctx,
                case,
                "notebook loop float64",
                NaiveBernoulliLoop(X, start),
                reference,
                "skcoinmix float64",
            ),
        ]


@dataclass(frozen=True)
class SparseCase:
    """CSR float64 data: skcoinmix against the bare sparse products, and memory."""

    name: str
    shape: tuple
    quick_shape: tuple
    density: float = 0.01

    def run(self, ctx):
        n, d, K = self.quick_shape if ctx.quick else self.shape
        case = f"sparse {_short(n)} x {_short(d)}, {self.density:.0%} ones, K={K}"
        low, high = 0.2 * self.density, 1.8 * self.density
        X = planted_sparse(random_prototypes(K, d, low, high), n)
        start = fixed_start(K, d)
        products = bare_products(X, K)
        # A warm-up, and a figure in the log; the ratio uses the products
        # timed between skcoinmix's own fits, as for dense data.
        measure_call(ctx, "bare sparse products", products, ctx.settings.cheap_repeats)
        # More repeats than the dense cases: one-thread scipy products swing
        # with whatever runs on the other core (1.08x and 1.36x in two runs of
        # the same hour with 3 repeats).
        settings = ctx.settings if ctx.quick else replace(ctx.settings, repeats=7)
        em = measure_em(
            ctx,
            "skcoinmix CSR float64",
            skcoinmix_fit(X, start),
            settings=settings,
            references={"sparse": products},
        )
        bare = em.references["sparse"]
        reason = f"dense input only: X as float64 is {n * d * 8 / 1e9:.0f} GB"
        return [
            Row(
                case,
                "skcoinmix CSR float64",
                em.per_iteration,
                "bare sparse products",
                bare,
                Target("<=", 1.3),
            ),
            overhead_row(case, "skcoinmix CSR float64", em),
            self._memory_row(ctx, case, n, d, K),
            not_run(case, "StepMix", reason),
            not_run(case, "GaussianMixture(diag)", reason),
            not_run(case, "notebook loop", reason),
            init_row(ctx, case, X, K, em),
        ]

    def _memory_row(self, ctx, case, n, d, K):
        ctx.log("  peak memory (subprocess) ...")
        result = run_child("sparse", n, d, K, "--density", self.density)
        return memory_row(ctx, case, result, "CSR arrays (data, indices, indptr)", 2.0)


def memory_row(ctx, case, result, input_label, bound):
    """Peak RSS of a child's fit (minus its post-import baseline) over its input."""
    label = "peak RSS - baseline, 3-iteration fit"
    if "skipped" in result:
        ctx.warn(f"[{case}] {result['skipped']}")
        return Row(case, label, None, input_label, None, note=result["skipped"])
    increase = result["peak"] - result["baseline"]
    ctx.log(f"  peak RSS - baseline: {increase / 1e9:.3g} GB")
    note = (
        "" if result["peak_was_reset"] else "peak not reset: includes data generation"
    )
    return Row(
        case,
        label,
        increase,
        input_label,
        result["input_bytes"],
        Target("<=", bound),
        note=note,
        unit="GB",
    )


@dataclass(frozen=True)
class TiedCase:
    """The coin example: sets of tosses of one of K=2 coins, ``tie_features=True``."""

    name: str
    n_sets: int
    quick_n_sets: int
    tosses: tuple = (1_000, 100)
    coins: tuple = (0.3, 0.7)
    min_iter: int = 60

    def run(self, ctx):
        n = self.quick_n_sets if ctx.quick else self.n_sets
        long, short = self.tosses
        case = f"tied: {_short(n)} sets x {_short(long)} tosses, K=2"
        require_memory(n * long * (1 + FIT_BYTES_PER_ENTRY), "the tied case")
        # A tied iteration is tiny next to the per-fit reading of X: many
        # iterations are needed for t(m) - t(1) to stand above the noise.
        settings = ctx.settings
        if not ctx.quick:
            settings = replace(settings, min_iter=self.min_iter)
        data = {
            tosses: planted_dense(coin_prototypes(self.coins, tosses), n)
            for tosses in self.tosses
        }
        em = {
            tosses: measure_em(
                ctx,
                f"skcoinmix tied, {tosses} tosses",
                skcoinmix_fit(X, NOTEBOOK_START, tie_features=True),
                settings=settings,
            )
            for tosses, X in data.items()
        }
        one_pass = measure_call(
            ctx, "row sums (uint8)", row_sums(data[long]), ctx.settings.cheap_repeats
        )
        reason = "no tied-feature (binomial) model"
        rows = [
            Row(
                case,
                f"skcoinmix uint8, {long} tosses",
                em[long].per_iteration,
                f"same, {short} tosses",
                em[short].per_iteration,
                Target("<=", 1.5),
                note="independent of the tosses: ~1x",
            ),
            Row(
                case,
                f"fixed per-fit time, {long} tosses",
                em[long].overhead,
                f"same, {short} tosses",
                em[short].overhead,
            ),
            Row(
                case,
                f"fixed per-fit time, {long} tosses",
                em[long].overhead,
                "one pass over X: row sums",
                one_pass,
            ),
        ]
        rows += [
            naive_row(
                ctx,
                case,
                f"notebook loop, {tosses} tosses",
                NaiveBinomialLoop(X, NOTEBOOK_START),
                em[tosses],
                f"skcoinmix uint8, {tosses} tosses",
            )
            for tosses, X in data.items()
        ]
        rows += [
            not_run(case, "StepMix", reason),
            not_run(case, "GaussianMixture(diag)", reason),
            init_row(ctx, case, data[long], 2, em[long], tie_features=True),
        ]
        return rows


@dataclass(frozen=True)
class BinomialCase:
    """Counts out of ``n_trials`` (BinomialMixtureEM): fixed trials and paired trials."""

    name: str
    shape: tuple
    quick_shape: tuple
    n_trials: int = 20

    def run(self, ctx):
        n, d, K = self.quick_shape if ctx.quick else self.shape
        case = f"binomial: {_short(n)} x {_short(d)}, n={self.n_trials}, K={K}"
        rng = np.random.default_rng(0)
        prototypes = random_prototypes(K, d, 0.1, 0.9)
        labels = rng.integers(K, size=n)
        counts = rng.binomial(self.n_trials, prototypes[labels]).astype(np.uint8)
        start = fixed_start(K, d)
        stored = {"uint8": counts, "float64": counts.astype(np.float64)}
        products = bare_products(stored["float64"], K)
        measure_call(ctx, "bare products float64", products, ctx.settings.cheap_repeats)
        em = {
            dtype: measure_em(
                ctx,
                f"skcoinmix binomial {dtype}",
                skcoinmix_binomial_fit(X, start, self.n_trials),
                references={"float64": products},
            )
            for dtype, X in stored.items()
        }
        # Trials per entry: between half and all of n_trials, side by side.
        trials = rng.integers(self.n_trials // 2, self.n_trials + 1, size=(n, d))
        successes = rng.binomial(trials, prototypes[labels]).astype(np.float64)
        paired_X = np.hstack([successes, trials - successes])
        paired_products = bare_paired_products(successes, trials.astype(np.float64), K)
        paired = measure_em(
            ctx,
            "skcoinmix binomial paired float64",
            skcoinmix_binomial_fit(paired_X, start, "paired"),
            references={"float64 (2 views)": paired_products},
        )
        rows = [
            Row(
                case,
                f"skcoinmix binomial {dtype}, fixed trials",
                em[dtype].per_iteration,
                "bare products float64",
                em[dtype].references["float64"],
                bare_target(d),
            )
            for dtype in stored
        ]
        rows.append(
            Row(
                case,
                "skcoinmix binomial float64, paired trials",
                paired.per_iteration,
                "bare products of both views, float64",
                paired.references["float64 (2 views)"],
                bare_target(d),
                note="encoding s, s + f per block",
            )
        )
        rows.append(overhead_row(case, "skcoinmix binomial uint8", em["uint8"]))
        return rows


@dataclass(frozen=True)
class MemoryCase:
    """1M x 784 stored as uint8, in a subprocess: peak memory, then uint8 vs float64."""

    name: str
    shape: tuple
    quick_shape: tuple

    def run(self, ctx):
        n, d, K = self.quick_shape if ctx.quick else self.shape
        case = f"memory: {_short(n)} x {_short(d)}, K={K}"
        ctx.log("  peak memory and uint8 vs float64 (subprocess) ...")
        result = run_child(
            "dense", n, d, K, "--compare-float64", "quick" if ctx.quick else "full"
        )
        rows = [memory_row(ctx, case, result, "input bytes (uint8)", 1.5)]
        if "uint8_per_iteration" in result:
            rows += self._storage_rows(ctx, case, result)
        return rows

    @staticmethod
    def _storage_rows(ctx, case, result):
        if "float64_skipped" in result:
            ctx.warn(f"[{case}] {result['float64_skipped']}")
        skipped = result.get("float64_skipped", "")
        return [
            Row(
                case,
                "skcoinmix uint8",
                result["uint8_per_iteration"],
                "skcoinmix float64 (same data)",
                result.get("float64_per_iteration"),
                Target("<", 1.0),
                note=skipped,
            ),
            Row(
                case,
                "uint8: fixed per-fit time",
                result["uint8_overhead"],
                "float64: fixed per-fit time",
                result.get("float64_overhead"),
                note=skipped,
            ),
        ]


@dataclass(frozen=True)
class CategoricalMemoryCase:
    """uint8 category codes (n, d items, C categories, K): peak memory of a fit."""

    name: str
    shape: tuple
    quick_shape: tuple
    bound: float = 2.0
    readme_block = CATEGORICAL_BLOCK

    def run(self, ctx):
        n, d, C, K = self.quick_shape if ctx.quick else self.shape
        case = "memory: " + _categorical_case_name(n, d, C, K)
        ctx.log("  peak memory (subprocess) ...")
        result = run_child("categorical", n, d, K, "--categories", C)
        return [memory_row(ctx, case, result, "input bytes (uint8 codes)", self.bound)]


def _categorical_case_name(n, d, C, K):
    return f"categorical: {_short(n)} x {d} items x {C} categories, K={K}"


@dataclass(frozen=True)
class CategoricalCase:
    """Category codes (CategoricalMixtureEM) against their one-hot products and StepMix.

    ``shape`` is (n rows, d items, C categories each, K classes); the codes
    are stored as uint8 ``0..C-1``.
    """

    name: str
    shape: tuple
    quick_shape: tuple
    readme_block = CATEGORICAL_BLOCK

    def run(self, ctx):
        n, d, C, K = self.quick_shape if ctx.quick else self.shape
        case = _categorical_case_name(n, d, C, K)
        codes = planted_categorical(categorical_prototypes(K, d, C), n)
        start = fixed_categorical_start(K, d, C)
        # The bare products of the encoding: the (n, d C) one-hot matrix in
        # float64, built once, outside every timing.
        products = bare_products(one_hot(codes, C), K)
        measure_call(ctx, "bare one-hot products", products, ctx.settings.cheap_repeats)
        em = measure_em(
            ctx,
            "skcoinmix categorical uint8",
            skcoinmix_categorical_fit(codes, start),
            references={"one-hot": products},
        )
        label = "StepMix categorical"
        try:
            stepmix = measure_em(ctx, label, stepmix_categorical_fit(codes, K))
        except Exception as exc:  # a peer that fails is reported, not fatal
            ctx.warn(f"[{case}] {label} failed: {exc!r}")
            stepmix_row = not_run(case, label, f"failed: {type(exc).__name__}")
        else:
            stepmix_row = Row(
                case,
                label,
                stepmix.per_iteration,
                "skcoinmix categorical",
                em.per_iteration,
                CATEGORICAL_PEER_TARGET,
            )
        return [
            Row(
                case,
                "skcoinmix categorical uint8",
                em.per_iteration,
                "bare one-hot products float64",
                em.references["one-hot"],
                Target("<=", 1.5),
                note=f"(n, {d * C}) @ ({d * C}, K), (K, n) @ (n, {d * C})",
            ),
            overhead_row(case, "skcoinmix categorical", em),
            stepmix_row,
        ]


@dataclass(frozen=True)
class Problem:
    """A time-to-solution problem: codes ``0..C-1``, K, and the mean for the rule.

    ``reference_mean`` is the ``|mean|`` of the stopping rule
    (:func:`solution_tolerance`) for skcoinmix, which has no relative
    tolerance: the mean log-likelihood per row of a published maximum, or of
    the planted parameters.
    """

    label: str
    codes: np.ndarray
    n_components: int
    reference_mean: float
    published: float | None = None


def _polytomous_codes(name, columns=None):
    import pandas as pd  # a benchmark-only use

    frame = pd.read_csv(TEST_DATA / name)
    if columns is not None:
        frame = frame[columns].dropna()
    return frame.to_numpy().astype(np.uint8) - 1  # poLCA's 1..C as 0..C-1


ELECTION_ITEMS = [
    f"{trait}{candidate}"
    for candidate in "GB"
    for trait in ["MORAL", "CARES", "KNOW", "LEAD", "DISHON", "INTEL"]
]


def _planted_mean(codes, prototypes):
    """Mean log-likelihood per row of the planted mixture (uniform weights)."""
    K, d, _ = prototypes.shape
    log_joint = np.full((codes.shape[0], K), -np.log(K))
    for j in range(d):
        log_joint += np.log(prototypes[:, j, codes[:, j]]).T
    top = log_joint.max(axis=1, keepdims=True)
    return float(np.mean(top[:, 0] + np.log(np.exp(log_joint - top).sum(axis=1))))


@dataclass(frozen=True)
class CategoricalSolutionCase:
    """Time to solution: 20 random starts to a tight tolerance, skcoinmix and StepMix.

    Both stop a start when the change of the mean log-likelihood per row is
    below ``max(1e-10 / N, 1e-14 |mean|)``; both are timed ``repeats`` times
    (the median is kept), one after the other, and the maxima they reach are
    reported (total log-likelihood, as poLCA prints it).
    """

    name: str
    synthetic: tuple = (100_000, 20, 5, 5)
    quick_synthetic: tuple = (2_000, 20, 5, 5)
    n_init: int = 20
    quick_n_init: int = 2
    max_iter: int = 100_000
    repeats: int = 3
    readme_block = CATEGORICAL_BLOCK

    def problems(self, quick):
        gss82 = _polytomous_codes("gss82.csv")
        election = _polytomous_codes("election.csv", ELECTION_ITEMS)
        n, d, C, K = self.quick_synthetic if quick else self.synthetic
        prototypes = categorical_prototypes(K, d, C)
        codes = planted_categorical(prototypes, n)
        # poLCA's gss82 and election help pages.
        return [
            Problem("gss82, 1202 x 4 items", gss82, 3, -2754.545 / 1202, -2754.545),
            Problem(
                "election, 1311 x 12 items", election, 3, -16714.66 / 1311, -16714.66
            ),
            Problem(
                f"synthetic {_short(n)} x {d} items x {C} categories",
                codes,
                K,
                _planted_mean(codes, prototypes),
            ),
        ]

    def run(self, ctx):
        n_init = self.quick_n_init if ctx.quick else self.n_init
        rows = []
        for problem in self.problems(ctx.quick):
            rows += self._problem_rows(ctx, problem, n_init)
        return rows

    def _timed(self, ctx, label, fit, repeats):
        seconds, result = [], None
        for _ in range(repeats):
            started = time.perf_counter()
            result = fit()
            seconds.append(time.perf_counter() - started)
        value = float(np.median(seconds))
        ctx.log(f"  {label}: {value:.3g} s (median of {repeats})")
        return value, result

    def _problem_rows(self, ctx, problem, n_init):
        codes, K = problem.codes, problem.n_components
        N = codes.shape[0]
        case = f"time to solution: {problem.label}, K={K}"
        ctx.log(f"  {case}")
        repeats = 1 if ctx.quick or N > 10_000 else self.repeats
        tol = solution_tolerance(N, problem.reference_mean)
        ours, est = self._timed(
            ctx,
            f"skcoinmix (tol {tol:.3g})",
            skcoinmix_categorical_solution(codes, K, n_init, tol, self.max_iter),
            repeats,
        )
        ours_max = est.lower_bound_ * N
        published = (
            f"; poLCA's published {problem.published}" if problem.published else ""
        )
        label = f"StepMix, {n_init} random starts"
        try:
            theirs, model = self._timed(
                ctx,
                label,
                stepmix_categorical_solution(codes, K, n_init, self.max_iter),
                repeats,
            )
        except Exception as exc:  # a peer that fails is reported, not fatal
            ctx.warn(f"[{case}] {label} failed: {exc!r}")
            return [not_run(case, label, f"failed: {type(exc).__name__}")]
        theirs_max = model.lower_bound_ * N
        ctx.log(f"  maxima: skcoinmix {ours_max:.6f}, StepMix {theirs_max:.6f}")
        return [
            Row(
                case,
                f"{label}, wall time",
                theirs,
                f"skcoinmix, {n_init} random starts",
                ours,
                note=(
                    f"max log-likelihood: skcoinmix {ours_max:.3f} "
                    f"({est.n_iter_} iterations in its best start), "
                    f"StepMix {theirs_max:.3f}{published}"
                ),
            )
        ]


CASES = (
    DenseCase("100k-100", (100_000, 100, 10), (2_000, 100, 10)),
    DenseCase(
        "200k-784", (200_000, 784, 10), (4_000, 784, 10), init_target=Target("<=", 5.0)
    ),
    DenseCase("1m-50", (1_000_000, 50, 5), (20_000, 50, 5)),
    DenseCase("20k-2000", (20_000, 2_000, 20), (1_000, 2_000, 20)),
    SparseCase("sparse", (200_000, 10_000, 10), (4_000, 2_000, 10)),
    TiedCase("tied", 1_000_000, 20_000),
    BinomialCase("binomial", (200_000, 100, 10), (4_000, 100, 10)),
    MemoryCase("memory", (1_000_000, 784, 10), (20_000, 784, 10)),
    CategoricalCase("categorical", (100_000, 20, 5, 5), (4_000, 20, 5, 5)),
    CategoricalCase("categorical-election", (200_000, 12, 4, 10), (4_000, 12, 4, 10)),
    CategoricalSolutionCase("categorical-solution"),
    CategoricalMemoryCase(
        "categorical-memory", (1_000_000, 20, 5, 5), (20_000, 20, 5, 5)
    ),
)
