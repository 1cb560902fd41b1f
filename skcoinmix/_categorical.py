"""Mixtures of categorical distributions: latent class analysis of polytomous items.

Item ``j`` takes one of the categories ``1..C_j``; class ``k`` has a
probability vector ``t_kj`` over them, and
``p(x_i) = sum_k w_k prod_j t_kj[x_ij]`` with missing items left out of the
product (full-information maximum likelihood). Under the family contract
(:mod:`skcoinmix._family`) the view is the one-hot encoding of the row
(``sum_j C_j`` columns), built one block of rows at a time from integer codes;
a missing item is an all-zero block, so no mask view is needed. The M-step is
``t_kjc = (S_kjc + alpha) / (sum_c S_kjc + C_j alpha)`` from the expected
counts ``S``: the MAP estimate under a Dirichlet(alpha + 1) prior, for
``C_j = 2`` Bernoulli's rule.

Shapes: ``n`` rows, ``d`` items, ``C = sum_j C_j`` categories in all, ``K``
classes. Probabilities are kept as one (K, C) array, item ``j`` in columns
``offsets[j]:offsets[j + 1]``; ``probs_`` splits it per item.
"""

# SPDX-License-Identifier: BSD-3-Clause

import functools
import itertools
import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
from scipy.special import gammaln
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _get_feature_names

from . import _backends
from ._bernoulli import safe_log
from ._em import BaseMixtureEM
from ._family import Data
from ._validation import check_weights_init, missing_mask

__all__ = ["CategoricalMixtureEM"]

#: Probabilities are floored here and renormalised per item, so that a
#: category unseen in a class never gives log 0.
PROB_FLOOR = 1e-10

#: Starting probabilities are smoothed as (counts + 1/2) / (total + C_j / 2).
INIT_SMOOTHING = 0.5


# ------------------------------------------------------------ pure functions
def item_offsets(n_categories):
    """Where each item's categories start in the one-hot columns: (d + 1,) int."""
    return np.concatenate([[0], np.cumsum(n_categories)]).astype(np.intp)


def per_item_sums(values, offsets):
    """``sum_c values[:, c]`` over each item's categories, repeated over them.

    Parameters
    ----------
    values : ndarray of shape (K, C)
    offsets : ndarray of shape (d + 1,)

    Returns
    -------
    sums : ndarray of shape (K, C)
    """
    totals = np.add.reduceat(values, offsets[:-1], axis=1)
    return np.repeat(totals, np.diff(offsets), axis=1)


def floor_probs(probs, offsets):
    """Floor at :data:`PROB_FLOOR` and renormalise each item's probabilities.

    Parameters
    ----------
    probs : ndarray of shape (K, C)
    offsets : ndarray of shape (d + 1,)

    Returns
    -------
    probs : ndarray of shape (K, C)
    """
    probs = np.maximum(probs, PROB_FLOOR)
    return probs / per_item_sums(probs, offsets)


def map_probs(counts, offsets, alpha, previous):
    """M-step: the MAP estimate under a Dirichlet(alpha + 1) prior, per item.

    ``t_kjc = (S_kjc + alpha) / (sum_c S_kjc + C_j alpha)``; an item with no
    expected observation in a class (its total is 0 with ``alpha = 0``)
    keeps its previous probabilities.

    Parameters
    ----------
    counts : ndarray of shape (K, C)
        Expected counts ``S``.
    offsets : ndarray of shape (d + 1,)
    alpha : float
    previous : ndarray of shape (K, C)

    Returns
    -------
    probs : ndarray of shape (K, C)
    """
    if math.isinf(alpha):
        sizes = np.repeat(np.diff(offsets), np.diff(offsets))
        return np.broadcast_to(1.0 / sizes, counts.shape).copy()
    sizes = np.repeat(np.diff(offsets), np.diff(offsets)).astype(np.float64)
    numerator = counts + alpha
    denominator = per_item_sums(counts, offsets) + sizes * alpha
    empty = denominator <= 0
    if not empty.any():  # np.errstate costs more than the division here
        # C order, as np.where gives below (the layout of the parameters
        # decides how the next products round).
        return floor_probs(np.divide(numerator, denominator, order="C"), offsets)
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = numerator / denominator
    return floor_probs(np.where(empty, previous, probs), offsets)


def probs_to_log_ratios(probs, offsets):
    """Each item's log-probabilities minus their mean: unconstrained, shape (K, C)."""
    logs = np.log(probs)
    sizes = np.repeat(np.diff(offsets), np.diff(offsets))
    return logs - per_item_sums(logs, offsets) / sizes


def probs_from_log_ratios(log_ratios, offsets):
    """Each item's softmax, floored with :func:`floor_probs`; shape (K, C)."""
    peaks = np.maximum.reduceat(log_ratios, offsets[:-1], axis=1)
    probs = np.exp(log_ratios - np.repeat(peaks, np.diff(offsets), axis=1))
    return floor_probs(probs / per_item_sums(probs, offsets), offsets)


def smoothed_probs(counts, offsets):
    """Starting probabilities from (possibly hard) counts, never 0."""
    sizes = np.repeat(np.diff(offsets), np.diff(offsets))
    totals = per_item_sums(counts, offsets)
    return floor_probs(
        (counts + INIT_SMOOTHING) / (totals + INIT_SMOOTHING * sizes), offsets
    )


def dirichlet_log_prior(probs, offsets, alpha):
    """Log density of the Dirichlet(alpha + 1) prior of every class's items.

    Parameters
    ----------
    probs : ndarray of shape (K, C)
    offsets : ndarray of shape (d + 1,)
    alpha : float

    Returns
    -------
    log_prior : float
    """
    if alpha == 0:
        return 0.0
    sizes = np.diff(offsets).astype(np.float64)
    log_norm = gammaln(sizes * (alpha + 1.0)) - sizes * gammaln(alpha + 1.0)
    return float(alpha * np.log(probs).sum() + probs.shape[0] * log_norm.sum())


# ----------------------------------------------------------------- encoding
#: Item starts of blocks up to this many entries (4 MiB of intp; the dense
#: kernels' blocks hold at most 2^19 one-hot entries, so at most as many codes)
#: are cached, a few block sizes at a time: at most 16 MiB kept.
CACHED_STARTS_ENTRIES = 1 << 19


def item_starts(n_rows, n_columns, offsets):
    """Where each item's first one-hot column of each row lies in a flat block.

    For an ``(n_rows, n_columns)`` C-ordered block, entry ``(i, j)`` is
    ``i n_columns + offsets[j]``, so that adding the codes gives the flat
    positions of the ones. The kernels encode blocks of one size (and a last,
    shorter one) in every iteration: up to :data:`CACHED_STARTS_ENTRIES`
    entries the array is cached (read-only), which saves a pass over each
    block (a third of the encoding's time at d = 20, C = 5).

    Parameters
    ----------
    n_rows, n_columns : int
    offsets : tuple of int, of length d
        Each item's first one-hot column.

    Returns
    -------
    starts : ndarray of shape (n_rows, d), intp
    """
    if n_rows * len(offsets) > CACHED_STARTS_ENTRIES:
        return _item_starts(n_rows, n_columns, offsets)
    return _cached_item_starts(n_rows, n_columns, offsets)


def _item_starts(n_rows, n_columns, offsets):
    rows = np.arange(0, n_rows * n_columns, n_columns, dtype=np.intp)
    return rows[:, np.newaxis] + np.asarray(offsets, dtype=np.intp)


@functools.lru_cache(maxsize=4)
def _cached_item_starts(n_rows, n_columns, offsets):
    starts = _item_starts(n_rows, n_columns, offsets)
    starts.flags.writeable = False
    return starts


@dataclass(frozen=True, eq=False)
class OneHotEncoding:
    """Integer codes (``-1`` missing) read as their one-hot encoding, per block.

    Attributes
    ----------
    categories : tuple of ndarray
        Each item's categories; code ``c`` of item ``j`` is
        ``categories[j][c]``.
    """

    categories: tuple

    @functools.cached_property
    def offsets(self):
        """Item ``j``'s categories are one-hot columns ``offsets[j]:offsets[j + 1]``."""
        return item_offsets([len(values) for values in self.categories])

    @functools.cached_property
    def first_columns(self):
        """Code ``c`` of item ``j`` is one-hot column ``first_columns[j] + c``.

        A tuple of int: the key under which :func:`item_starts` caches.
        """
        return tuple(int(offset) for offset in self.offsets[:-1])

    n_views = 1
    has_row_term = False
    #: One-hot blocks of 4 MiB, the kernels' default, though the one-hot rows
    #: are several times wider than their codes and each kernel thread holds
    #: a block of them with its temporaries (about 3.3 times the block in
    #: all): 1,000,000 x 20 uint8 codes (20 MB), K = 5, peak 1.66 times the
    #: codes (1.36 with 2 MiB blocks, 1.21 with 1 MiB; target 2). Each block
    #: costs a dozen Python calls besides its arithmetic, and the products
    #: are cheap at D = 100, K = 5: an iteration at 100,000 x 20 x 5 took
    #: 0.0186-0.0206 s with 4 MiB blocks, 0.0216-0.0219 s with 2 MiB and
    #: 0.0306 s with 1 MiB (benchmarks/run.py --only categorical, runs
    #: alternating on one idle 2-core machine).
    block_bytes = 1 << 22

    def n_columns(self, n_features):
        return int(self.offsets[-1])

    def may_miss(self, block):
        """Whether ``block`` may hold the missing code -1 (signed codes may)."""
        return block.dtype.kind not in "bu"

    def encode(self, block, buffers):
        """The one-hot rows of a block of codes, in the reused buffer."""
        (out,) = buffers
        out.fill(0)
        rows, n_columns = out.shape
        # One pass over the codes: the item starts of every row come cached.
        flat = item_starts(rows, n_columns, self.first_columns) + block
        if self.may_miss(block):
            observed = block >= 0
            if not observed.all():
                out.reshape(-1)[flat[observed]] = 1
                return [out]
        out.reshape(-1)[flat.ravel()] = 1
        return [out]

    def encode_sparse(self, block):  # pragma: no cover - codes are dense
        raise TypeError("Category codes are dense.")

    def row_term(self, block):
        return None

    def clustering_features(self, codes):
        """What k-means clusters: the one-hot rows, missing items as item means.

        In float32, which holds 0 and 1 exactly: k-means copies its input,
        and 10,000 one-hot rows of 100 categories are 8 MB in float64, the
        size of a million rows of 8 uint8 codes.
        """
        out = np.empty((codes.shape[0], self.n_columns(codes.shape[1])), np.float32)
        (onehot,) = self.encode(codes, [out])
        missing = codes < 0
        if np.any(missing):
            sizes = np.diff(self.offsets)
            observed = np.repeat(~missing, sizes, axis=1)
            counts = observed.sum(axis=0)
            means = np.divide(
                onehot.sum(axis=0, dtype=np.float64),
                counts,
                out=np.zeros(out.shape[1]),
                where=counts > 0,
            )
            onehot = np.where(observed, onehot, means.astype(np.float32))
        return onehot

    def linear_params(self, weights, probs):
        return (np.log(probs),), safe_log(weights)

    def stats(self, resp_sum, sums):
        return {"resp_sum": resp_sum, "counts": sums[0]}


@dataclass(frozen=True, eq=False)
class ShiftedOneHotEncoding(OneHotEncoding):
    """Integers whose categories are consecutive, read as codes without a copy.

    Item ``j``'s categories are ``firsts[j], ..., firsts[j] + C_j - 1``: the
    stored integers minus ``firsts`` are the codes, so that the data are
    encoded block by block as they are stored, never copied.

    Attributes
    ----------
    categories : tuple of ndarray
    firsts : tuple of int
        Each item's first category.
    """

    firsts: tuple

    @functools.cached_property
    def first_columns(self):
        """Stored value ``v`` of item ``j`` is one-hot column ``first_columns[j] + v``.

        The shift by ``firsts`` is folded into the cached item starts, so
        that encoding a block makes no shifted copy of it.
        """
        return tuple(
            int(offset) - first
            for offset, first in zip(self.offsets[:-1], self.firsts, strict=True)
        )

    def may_miss(self, block):
        """Never: the stored integers are all known categories (checked before)."""
        return False

    def _codes(self, block):
        if not any(self.firsts):
            return block
        return block - np.asarray(self.firsts, dtype=np.intp)

    def clustering_features(self, X):
        """What k-means clusters: see :meth:`OneHotEncoding.clustering_features`."""
        return OneHotEncoding(self.categories).clustering_features(self._codes(X))


# ------------------------------------------------------------ input to codes
# Module-level functions of a block of rows: dask ships them by reference to
# the workers, which apply them chunk by chunk.
def _sorted_categories(values, name):
    try:
        return np.unique(values)
    except TypeError:
        kinds = sorted({type(value).__name__ for value in values})
        raise TypeError(
            f"The categories of column {name} mix types ({', '.join(kinds)}) "
            "that cannot be sorted; make each column one type (e.g. all "
            "strings)."
        ) from None


def _is_small_integer(dtype):
    """Integers of at most 16 bits (and bool): a lookup table covers every value."""
    return dtype.kind in "biu" and dtype.itemsize <= 2


def _lowest(dtype):
    return 0 if dtype.kind == "b" else int(np.iinfo(dtype).min)


def _distinct(values, name):
    """The sorted distinct entries of a 1-D array (``np.unique``, faster for small integers)."""
    if _is_small_integer(values.dtype):
        low = _lowest(values.dtype)
        seen = np.bincount(values.astype(np.intp) - low)
        return (np.flatnonzero(seen) + low).astype(values.dtype)
    return _sorted_categories(values, name)


def observed_values(block, labels):
    """Each column's distinct observed values in a block of rows.

    Parameters
    ----------
    block : ndarray of shape (rows, d)
        Any dtype; NaN, None and ``pd.NA`` are missing (left out).
    labels : list of str
        The columns' names, for the error on values that cannot be sorted.

    Returns
    -------
    values : list of d sorted ndarrays
    """
    missing = missing_mask(block) if block.dtype.kind in "fO" else None
    values = []
    for j, label in enumerate(labels):
        column = block[:, j] if missing is None else block[~missing[:, j], j]
        values.append(_distinct(column, label))
    return values


def merge_observed_values(parts, labels):
    """:func:`observed_values` of several blocks, as one: a list of d sorted ndarrays."""
    if len(parts) == 1:
        return parts[0]
    return [
        _sorted_categories(np.concatenate(column), label)
        for column, label in zip(zip(*parts, strict=True), labels, strict=True)
    ]


def _unknown_error(label, values):
    shown = ", ".join(
        repr(value.item() if isinstance(value, np.generic) else value)
        for value in values[:5]
    )
    return ValueError(
        f"Column {label} has values not among its categories: {shown}. The "
        "categories are fixed at fit (and by the first partial_fit): give "
        "every category up front with categories=[...], or pass "
        "handle_unknown='missing' to read unknown values as missing answers."
    )


def _unknown_values(values, known, label):
    """The entries of sorted ``values`` that are not in sorted ``known``."""
    try:
        positions = np.minimum(np.searchsorted(known, values), len(known) - 1)
        return values[known[positions] != values]
    except TypeError:
        raise TypeError(
            f"Column {label} holds values of another type than its "
            f"categories ({known.dtype}); pass the same kind of values."
        ) from None


def category_codes(block, categories, labels, unknown_as_missing, dtype):
    """The small integer code of every entry of a block of rows.

    Parameters
    ----------
    block : ndarray of shape (rows, d)
        Any dtype; NaN, None and ``pd.NA`` are missing.
    categories : tuple of d sorted ndarrays
    labels : list of str
        The columns' names, for the errors.
    unknown_as_missing : bool
        Whether a value not among its column's categories is missing (else
        an error naming the column and the value).
    dtype : numpy integer dtype
        Of the codes.

    Returns
    -------
    codes : ndarray of shape (rows, d)
        ``c`` where the entry is ``categories[j][c]``, ``-1`` where missing.
    """
    missing = missing_mask(block) if block.dtype.kind in "fO" else None
    codes = np.empty(block.shape, dtype=dtype)
    for j, (known, label) in enumerate(zip(categories, labels, strict=True)):
        column = block[:, j]
        if _is_small_integer(column.dtype) and known.dtype.kind in "biu":
            codes[:, j] = _codes_by_table(column, known, label, unknown_as_missing)
            continue
        gaps = missing[:, j] if missing is not None else np.zeros(len(column), bool)
        values = column[~gaps]
        try:
            positions = np.searchsorted(known, values)
        except TypeError:
            raise TypeError(
                f"Column {label} holds values of another type than its "
                f"categories ({known.dtype}); pass the same kind of values."
            ) from None
        positions = np.minimum(positions, len(known) - 1)
        unknown = known[positions] != values
        if np.any(unknown):
            if not unknown_as_missing:
                raise _unknown_error(label, np.unique(values[unknown]))
            positions = np.where(unknown, -1, positions)
        codes[:, j] = -1
        codes[~gaps, j] = positions
    return codes


def _codes_by_table(column, known, label, unknown_as_missing):
    """Codes of a column of small integers, by a lookup table of every value."""
    low = _lowest(column.dtype)
    table = np.full(1 << (8 * column.dtype.itemsize), -1, dtype=np.intp)
    inside = (known >= low) & (known < low + len(table))
    table[known[inside].astype(np.intp) - low] = np.flatnonzero(inside)
    codes = table[column.astype(np.intp) - low]
    if not unknown_as_missing and np.any(codes < 0):
        raise _unknown_error(label, np.unique(column[codes < 0]))
    return codes


def _code_dtype(n_categories):
    largest = max(n_categories, default=1)
    for dtype in (np.int8, np.int16, np.int32):
        if largest <= np.iinfo(dtype).max:
            return dtype
    return np.int64  # pragma: no cover - over 2**31 categories


def integer_ranges(dtype, categories):
    """Each item's first category, if integers of ``dtype`` are codes shifted by it.

    That is when every item's categories are consecutive integers
    ``first_j, ..., first_j + C_j - 1`` (``0..C_j-1`` for ``uint8`` codes,
    ``1..C_j`` as poLCA codes them): ``x - first_j`` is then the code.

    Returns
    -------
    firsts : tuple of int, or None
    """
    dtype = np.dtype(dtype)
    if dtype.kind not in "biu" or dtype == np.uint64:  # uint64 - intp is float
        return None
    firsts = []
    for known in categories:
        if known.dtype.kind not in "biuf" or not float(known[0]).is_integer():
            return None
        first = int(known[0])
        if not np.array_equal(known, np.arange(first, first + len(known))):
            return None
        firsts.append(first)
    return tuple(firsts)


# ---------------------------------------------------------------- estimator
class CategoricalMixtureEM(BaseMixtureEM):
    """Mixture of categorical distributions (latent class analysis), fitted by EM.

    Each item (column) takes one of a finite set of categories; within class
    ``k`` item ``j`` takes category ``c`` with probability ``t_kjc``, and the
    items are independent given the class (local independence):
    ``p(x) = sum_k w_k prod_j t_kj[x_j]``. This is the latent class model of
    poLCA and Mplus without covariates. Missing answers are left out of the
    product (full-information maximum likelihood).

    Parameters
    ----------
    n_components : int, default=1
        The number of latent classes.

    categories : "auto" or list of array-like, default="auto"
        The categories of each item: ``"auto"`` learns them from the data at
        ``fit`` (sorted unique values, as
        :class:`~sklearn.preprocessing.OneHotEncoder`), or from the first
        batch of ``partial_fit``; a list gives them per column (then a
        category never observed still gets a probability). Later batches of
        ``partial_fit`` cannot add categories: give them here when the first
        batch may lack some.

    handle_unknown : {"error", "missing"}, default="error"
        A value not among an item's categories at prediction (and in the
        batches of ``partial_fit`` after the first): an error naming the
        column and the value, or read as a missing answer.

    alpha : float, default=0.0
        Additive smoothing: ``t_kjc = (S_kjc + alpha) / (sum_c S_kjc +
        C_j alpha)``, the MAP estimate under a Dirichlet(alpha + 1) prior.

    probs_init : list of array-like of shape (n_components, C_j), default=None
        Starting item-response probabilities, one array per item, each row
        summing to 1; EM starts there (after flooring at 1e-10).

    tol, max_iter, n_init, n_init_final, initial_stage_iter, init_params, \
fit_weights, weights_init, random_state, warm_start, verbose, verbose_interval, \
n_jobs, learning_decay, learning_offset, accelerate, mixed_precision
        As in :class:`BernoulliMixtureEM`; k-means clusters the one-hot rows.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        The class shares.

    probs_ : list of ndarray of shape (n_components, C_j)
        The item-response probabilities, one array per item (laid out as
        :class:`~sklearn.naive_bayes.CategoricalNB`'s ``feature_log_prob_``,
        but probabilities); rows sum to 1, entries at least 1e-10.

    categories_ : list of ndarray
        The categories of each item, in the order of the columns of
        ``probs_``.

    n_parameters_ : int
        ``K sum_j (C_j - 1) + K - 1`` (``K - 1`` fewer with
        ``fit_weights=False``).

    converged_, n_iter_, lower_bound_, lower_bounds_, n_steps_, \
n_features_in_, feature_names_in_
        As in :class:`BernoulliMixtureEM`.

    See Also
    --------
    BernoulliMixtureEM : Binary items (0/1), with sparse input.
    sklearn.naive_bayes.CategoricalNB : The supervised counterpart.

    Notes
    -----
    ``X`` holds any codes (integers, not only ``0..C-1``), strings or
    objects, or a pandas DataFrame of such columns (``category`` columns
    too); NaN, None and ``pd.NA`` are missing answers. A fit reads the data
    once for each column's distinct values (its categories), then stores
    them as small integer codes, one-hot encoded one block of rows at a
    time. Integers whose categories are consecutive (``0..C_j-1``, or
    poLCA's ``1..C_j``; every value in between observed or given) are read
    as codes block by block, without a copy: ``uint8`` codes are the most
    compact input.

    ``X`` may be a dask array (numbers, strings or objects, chunked by
    rows): the categories are learned in one pass over the chunks on the
    workers, each chunk is recoded lazily to codes, every EM iteration runs
    on the workers, the fitted attributes are numpy arrays and the
    predictions lazy dask arrays chunked like ``X``; see :doc:`/dask`.
    ``partial_fit`` takes the categories from ``categories`` or from its
    first batch. Sparse input is refused (codes are dense).

    Examples
    --------
    >>> import numpy as np
    >>> from skcoinmix import CategoricalMixtureEM
    >>> X = np.array([["yes", "a"], ["yes", "a"], ["no", "b"], ["no", "c"],
    ...               ["yes", "a"], ["no", "c"]])
    >>> est = CategoricalMixtureEM(2, random_state=0).fit(X)
    >>> [c.tolist() for c in est.categories_]
    [['no', 'yes'], ['a', 'b', 'c']]
    >>> est.predict_proba(X).sum(axis=1)
    array([1., 1., 1., 1., 1., 1.])
    """

    _parameter_constraints: dict = {
        **BaseMixtureEM._parameter_constraints,
        "categories": [StrOptions({"auto"}), list],
        "handle_unknown": [StrOptions({"error", "missing"})],
        "alpha": [Interval(Real, 0.0, None, closed="left")],
        "fit_weights": ["boolean"],
        "weights_init": ["array-like", None],
        "probs_init": [list, None],
    }

    def __init__(
        self,
        n_components=1,
        *,
        categories="auto",
        handle_unknown="error",
        alpha=0.0,
        probs_init=None,
        tol=1e-3,
        max_iter=100,
        n_init=1,
        n_init_final=None,
        initial_stage_iter=200,
        init_params="kmeans",
        fit_weights=True,
        weights_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        n_jobs=None,
        learning_decay=0.6,
        learning_offset=1.0,
        accelerate="squarem",
        mixed_precision=False,
    ):
        super().__init__(
            n_components=n_components,
            tol=tol,
            max_iter=max_iter,
            n_init=n_init,
            n_init_final=n_init_final,
            initial_stage_iter=initial_stage_iter,
            init_params=init_params,
            random_state=random_state,
            warm_start=warm_start,
            verbose=verbose,
            verbose_interval=verbose_interval,
            n_jobs=n_jobs,
            learning_decay=learning_decay,
            learning_offset=learning_offset,
            accelerate=accelerate,
            mixed_precision=mixed_precision,
        )
        self.categories = categories
        self.handle_unknown = handle_unknown
        self.alpha = alpha
        self.probs_init = probs_init
        self.fit_weights = fit_weights
        self.weights_init = weights_init

    # ----------------------------------------------------------------- data
    def _prepare_data(self, X, *, reset, fitting=False):
        # Names and counts of features, shapes, complex numbers and sparse
        # input as scikit-learn checks them; any dtype (codes, strings,
        # objects), missing values kept. A dask array stays lazy: the passes
        # below run chunk by chunk on the workers.
        names = _get_feature_names(X)
        if hasattr(X, "dtypes") and any(
            not isinstance(dtype, np.dtype) for dtype in X.dtypes
        ):
            # pandas extension columns (category, Int64, string): their values
            # as objects, NA kept (older scikit-learn converts them to float).
            X = X.astype(object)
        X = _backends.validate_input(
            self, X, reset=reset, accept_sparse=False, dtype=None
        )
        labels = [
            repr(str(names[j])) if names is not None else str(j)
            for j in range(X.shape[1])
        ]
        # A fit learns or checks the categories in one pass over the data
        # (each column's distinct observed values); so does a prediction on
        # a dask array, so that an unknown value is an error now, not when
        # the lazy results are computed.
        unknown_as_missing = not reset and self.handle_unknown == "missing"
        observed = None
        if reset or fitting or (not unknown_as_missing and _backends.is_dask_array(X)):
            observed = _backends.reduce_blocks(
                X, observed_values, merge_observed_values, labels
            )
        if reset:
            categories = self._learn_categories(observed, labels)
        else:
            categories = self.categories_
            if observed is not None and not unknown_as_missing:
                self._check_known(observed, categories, labels)
        if fitting and not any(
            values.size > _unknown_values(values, known, label).size
            for values, known, label in zip(observed, categories, labels, strict=True)
        ):
            raise ValueError(
                "X has no observed entry: every entry is missing. Fit on "
                "data with at least one observed answer."
            )
        encoding = OneHotEncoding(tuple(categories))
        firsts = integer_ranges(X.dtype, categories)
        if firsts is not None and (
            reset or self._values_in_range(X, categories, firsts, observed)
        ):
            # Integers of consecutive categories (0..C_j-1, or 1..C_j) are
            # read as codes block by block: no copy of X, and no test for
            # missing codes.
            return Data(X, ShiftedOneHotEncoding(tuple(categories), firsts))
        # Else small integer codes, block by block (lazily, per chunk, for a
        # dask array).
        dtype = _code_dtype(map(len, categories))
        codes = _backends.map_blocks(
            X,
            category_codes,
            dtype,
            tuple(categories),
            labels,
            unknown_as_missing,
            dtype,
        )
        return Data(codes, encoding)

    @staticmethod
    def _values_in_range(X, categories, firsts, observed=None):
        """Whether every entry of integer ``X`` is among its column's consecutive categories.

        From the columns' distinct values when a pass found them, else from
        their smallest and largest entries (a cheaper pass).
        """
        firsts = np.asarray(firsts, dtype=np.float64)
        lasts = firsts + [len(known) - 1 for known in categories]
        if observed is None:
            low, high = _backends.column_range(X)
        else:
            pairs = zip(observed, firsts, strict=True)
            bounds = [(v.min(), v.max()) if v.size else (f, f) for v, f in pairs]
            low, high = np.array(bounds, dtype=np.float64).T
        return bool(np.all(low >= firsts) and np.all(high <= lasts))

    def _learn_categories(self, observed, labels):
        """The categories of each column: learned from ``observed``, or given and checked."""
        if isinstance(self.categories, str):  # "auto"
            for values, label in zip(observed, labels, strict=True):
                if values.size == 0:
                    raise ValueError(
                        f"Column {label} has no observed value: its categories "
                        "cannot be learned. Drop it, or give the categories "
                        "(categories=[...])."
                    )
            return list(observed)
        if len(self.categories) != len(labels):
            raise ValueError(
                f"categories gives {len(self.categories)} lists but X has "
                f"{len(labels)} columns: give one list of categories per column."
            )
        categories = []
        for given, label in zip(self.categories, labels, strict=True):
            values = np.asarray(given)
            if values.ndim != 1 or values.size == 0:
                raise ValueError(
                    f"categories of column {label} must be a non-empty 1-D list."
                )
            ordered = _sorted_categories(values, label)
            if ordered.size != values.size:
                raise ValueError(f"categories of column {label} repeat a value.")
            categories.append(ordered)
        self._check_known(observed, categories, labels)
        return categories

    @staticmethod
    def _check_known(observed, categories, labels):
        """Raise naming the first column with a value not among its categories."""
        for values, known, label in zip(observed, categories, labels, strict=True):
            unknown = _unknown_values(values, known, label)
            if unknown.size:
                raise _unknown_error(label, unknown)

    # ----------------------------------------------------------------- hooks
    # Parameters: {"weights": (K,), "probs": (K, C), "layout": OneHotEncoding},
    # the layout saying which columns of probs are which item's categories.
    def _check_initial_parameters(self, data):
        if self.weights_init is not None:
            check_weights_init(self.weights_init, self.n_components)
        if self.probs_init is not None:
            self._probs_init(data.encoding.offsets)

    def _probs_init(self, offsets):
        sizes = np.diff(offsets)
        if len(self.probs_init) != len(sizes):
            raise ValueError(
                f"probs_init gives {len(self.probs_init)} arrays but X has "
                f"{len(sizes)} items: give one (n_components, C_j) array per item."
            )
        blocks = []
        for j, (given, size) in enumerate(zip(self.probs_init, sizes, strict=True)):
            block = np.asarray(given, dtype=np.float64)
            if block.shape != (self.n_components, size):
                raise ValueError(
                    f"probs_init[{j}] should have the shape "
                    f"({self.n_components}, {size}) (n_components, categories of "
                    f"item {j}), but got {block.shape}."
                )
            if np.any(block < 0) or not np.allclose(block.sum(axis=1), 1.0):
                raise ValueError(
                    f"Each row of probs_init[{j}] must hold probabilities summing to 1."
                )
            blocks.append(block)
        return floor_probs(np.hstack(blocks), offsets)

    def _user_start(self, data):
        if self.probs_init is None:
            return None
        return {
            "weights": self._start_weights(),
            "probs": self._probs_init(data.encoding.offsets),
            "layout": data.encoding,
        }

    def _start_params(self, stats, encoding):
        probs = smoothed_probs(stats["counts"], encoding.offsets)
        weights = self._start_weights(stats["resp_sum"])
        return {"weights": weights, "probs": probs, "layout": encoding}

    def _natural_params(self, encoding, params):
        return encoding.linear_params(params["weights"], params["probs"])

    def _sufficient_stats(self, encoding, resp_sum, sums):
        return encoding.stats(resp_sum, sums)

    def _m_step(self, stats, params, weight_exponent=0):
        alpha = math.ldexp(self.alpha, -weight_exponent) if self.alpha else 0.0
        layout = params["layout"]
        probs = map_probs(stats["counts"], layout.offsets, alpha, params["probs"])
        weights = self._weights_step(stats["resp_sum"], params["weights"])
        return {"weights": weights, "probs": probs, "layout": layout}

    def _log_prior(self, params):
        return dirichlet_log_prior(
            params["probs"], params["layout"].offsets, self.alpha
        )

    def _to_vector(self, params):
        return probs_to_log_ratios(params["probs"], params["layout"].offsets).ravel()

    def _from_vector(self, vector, params):
        log_ratios = vector.reshape(params["probs"].shape)
        probs = probs_from_log_ratios(log_ratios, params["layout"].offsets)
        return {**params, "probs": probs}

    def _params_from_attributes(self):
        return {
            "weights": self.weights_,
            "probs": np.hstack(self.probs_),
            "layout": OneHotEncoding(tuple(self.categories_)),
        }

    def _set_fitted_params(self, params):
        self.categories_ = list(params["layout"].categories)
        offsets = params["layout"].offsets
        self.weights_ = params["weights"].copy()
        self.probs_ = [
            params["probs"][:, a:b].copy() for a, b in itertools.pairwise(offsets)
        ]

    def _count_parameters(self):
        free = sum(block.shape[1] - 1 for block in self.probs_)
        n_weights = self.n_components - 1 if self.fit_weights else 0
        return self.n_components * free + n_weights

    # ---------------------------------------------------------------- public
    def sample(self, n_samples=1):
        """Generate random rows of category values from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Category values (of the dtype of ``categories_``, object when the
            items' types differ), sorted by component.

        y : ndarray of shape (n_samples,)
            Component labels.
        """
        self._check_n_samples(n_samples)
        rng, counts = self._component_sizes(n_samples)
        dtypes = {c.dtype for c in self.categories_}
        dtype = dtypes.pop() if len(dtypes) == 1 else object
        X = np.empty((int(counts.sum()), len(self.probs_)), dtype=dtype)
        start = 0
        for k, count in enumerate(counts):
            for j, (probs, values) in enumerate(
                zip(self.probs_, self.categories_, strict=True)
            ):
                drawn = rng.choice(len(values), size=count, p=probs[k] / probs[k].sum())
                X[start : start + count, j] = values[drawn]
            start += count
        return X, np.repeat(np.arange(len(counts)), counts)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags
