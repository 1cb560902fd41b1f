"""Data generators and the published coin-toss example.

Shared by the tests, the documentation, the benchmarks and ``python -m
skcoinmix``:

- :func:`make_coin_tosses`: sets of tosses, each of a coin picked at random
  (a mixture of binomials, i.e. a Bernoulli mixture with tied features);
- :func:`make_bernoulli_mixture`: binary vectors drawn from a general
  mixture of multivariate Bernoulli distributions;
- :func:`load_coin_example`: the 5 x 10 tosses of Do and Batzoglou (2008),
  Figure 1, shipped with the package;
- :func:`load_lca_example`: published latent class analysis data sets, as
  tables of response patterns, shipped with the package;
- :func:`to_patterns` and :func:`from_patterns`: from rows to a table of
  distinct response patterns with counts, and back.

Every array of zeros and ones is returned as ``int64``.
"""

# SPDX-License-Identifier: BSD-3-Clause

from importlib import resources
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from ._validation import as_float_array

__all__ = [
    "from_patterns",
    "load_coin_example",
    "load_lca_example",
    "make_bernoulli_mixture",
    "make_coin_tosses",
    "to_patterns",
]

#: The file of :func:`load_coin_example`, in the package folder ``data/``.
COIN_EXAMPLE_FILE = "do_batzoglou_coins.csv"

#: The coins of the five sets of :func:`load_coin_example` as indices
#: (0 = coin A, 1 = coin B): B, A, A, B, A in Do and Batzoglou (2008), Figure 1.
COIN_EXAMPLE_COINS = (1, 0, 0, 1, 0)

#: Mixing weights must sum to 1 within this absolute tolerance (then they are
#: renormalised exactly).
WEIGHTS_SUM_ATOL = 1e-6


# ------------------------------------------------------------------ checks
def _check_count(value, name, minimum=1):
    """An integer >= ``minimum`` (bool is refused), returned as ``int``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(
            f"The parameter '{name}' should be an integer >= {minimum}, but got "
            f"{type(value).__name__}: {value!r}."
        )
    if value < minimum:
        raise ValueError(
            f"The parameter '{name}' should be an integer >= {minimum}, but got "
            f"{value!r}."
        )
    return int(value)


def _as_float_array(value, name, ndim):
    """A finite float64 array of ``ndim`` dimensions, not empty."""
    array = as_float_array(value, name)
    if array.ndim != ndim or array.size == 0:
        shape = "(n_components,)" if ndim == 1 else "(n_components, n_features)"
        raise ValueError(
            f"The parameter '{name}' should be a non-empty {ndim}-D array of shape "
            f"{shape}, but got shape {array.shape}."
        )
    return array


def _check_probabilities(value, name, ndim):
    """Probabilities in [0, 1], as a float64 array of ``ndim`` dimensions."""
    probs = _as_float_array(value, name, ndim)
    if np.any(probs < 0) or np.any(probs > 1):
        raise ValueError(
            f"The parameter '{name}' holds probabilities and should be in the range "
            f"[0, 1], but got min value {probs.min():.5g}, max value "
            f"{probs.max():.5g}."
        )
    return probs


def _check_non_negative(values, name):
    """Refuse a negative entry of ``values``, naming the parameter ``name``."""
    if np.any(values < 0):
        raise ValueError(
            f"The parameter '{name}' should be non-negative, but got min value "
            f"{values.min():.5g}."
        )


def _check_weights(value, n_components, other):
    """Mixing weights of shape (n_components,): non-negative, summing to 1.

    ``other`` names the parameter whose length fixes ``n_components``.
    """
    if value is None:
        return np.full(n_components, 1.0 / n_components)
    weights = _as_float_array(value, "weights", ndim=1)
    if weights.shape != (n_components,):
        raise ValueError(
            f"The parameter 'weights' should have one entry per component, like "
            f"'{other}' ({n_components}), but got {weights.shape[0]}."
        )
    _check_non_negative(weights, "weights")
    total = weights.sum()
    if not abs(total - 1.0) <= WEIGHTS_SUM_ATOL:
        raise ValueError(
            f"The parameter 'weights' should sum to 1, but got sum(weights) = "
            f"{total:.6g}."
        )
    return weights / total


def _sample_mixture(n_samples, weights, means, random_state):
    """Draw component labels, then each row's 0/1 entries given its component.

    Parameters
    ----------
    n_samples : int
    weights : ndarray of shape (K,), summing to 1
    means : ndarray of shape (K, d), in [0, 1]
    random_state : RandomState

    Returns
    -------
    X : ndarray of shape (n_samples, d), int64
    y : ndarray of shape (n_samples,), int64
    """
    y = random_state.choice(weights.shape[0], size=n_samples, p=weights)
    X = _draw_given_components(means, y, random_state).astype(np.int64)
    return X, y.astype(np.int64)


def _draw_given_components(means, y, random_state):
    """Each row's 0/1 entries given its component: entry ``j`` is 1 with ``means[y, j]``.

    The draw of :meth:`skcoinmix.BernoulliMixtureEM.sample` too, given its
    (sorted) components: one uniform number per entry, in row order, so the
    same ``random_state`` gives the same entries (a test holds the two
    together).

    Parameters
    ----------
    means : ndarray of shape (K, d), in [0, 1]
    y : ndarray of shape (n,), int
    random_state : RandomState

    Returns
    -------
    X : ndarray of shape (n, d), bool
    """
    # uniform draws lie in [0, 1): a probability of 0 never gives a 1, and a
    # probability of 1 always does.
    uniform = random_state.uniform(size=(y.shape[0], means.shape[1]))
    return uniform < means[y]


# --------------------------------------------------------------- generators
def make_coin_tosses(n_sets, n_tosses, probs, weights=None, random_state=None):
    """Generate sets of coin tosses, each set made with one coin picked at random.

    The experiment of Do and Batzoglou (2008), generalised to any number of
    coins: for each set a coin ``k`` is picked with probability
    ``weights[k]``, then tossed ``n_tosses`` times, each toss giving heads
    (1) with probability ``probs[k]``. The sets are a mixture of binomials,
    i.e. a Bernoulli mixture whose features are tied; fit them with
    ``BernoulliMixtureEM(tie_features=True)``.

    Parameters
    ----------
    n_sets : int
        Number of sets (rows), at least 1.

    n_tosses : int
        Number of tosses in each set (columns), at least 1.

    probs : array-like of shape (n_coins,)
        Probability of heads of each coin, in [0, 1].

    weights : array-like of shape (n_coins,), default=None
        Probability of picking each coin for a set: non-negative, summing to
        1. None picks every coin with probability ``1 / n_coins``.

    random_state : int, RandomState instance or None, default=None
        Seeds the draws; pass an int for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_sets, n_tosses), int64
        The tosses: 1 for heads, 0 for tails.

    coins : ndarray of shape (n_sets,), int64
        The coin of each set, as an index into ``probs``.

    See Also
    --------
    make_bernoulli_mixture : Each feature with its own probability.
    load_coin_example : The five sets of the published example.

    References
    ----------
    C. B. Do and S. Batzoglou, "What is the expectation maximization
    algorithm?", Nature Biotechnology 26, 897-899 (2008).

    Examples
    --------
    >>> from skcoinmix.datasets import make_coin_tosses
    >>> X, coins = make_coin_tosses(6, 20, probs=[0.2, 0.8], random_state=0)
    >>> X.shape, coins.shape
    ((6, 20), (6,))
    >>> coins
    array([1, 1, 1, 1, 0, 1])
    >>> X.sum(axis=1)  # heads in each set
    array([14, 18, 19, 16,  5, 14])
    """
    n_sets = _check_count(n_sets, "n_sets")
    n_tosses = _check_count(n_tosses, "n_tosses")
    probs = _check_probabilities(probs, "probs", ndim=1)
    weights = _check_weights(weights, probs.shape[0], "probs")
    random_state = check_random_state(random_state)
    means = np.repeat(probs[:, np.newaxis], n_tosses, axis=1)
    return _sample_mixture(n_sets, weights, means, random_state)


def make_bernoulli_mixture(n_samples, weights, means, random_state=None):
    """Generate binary vectors from a mixture of multivariate Bernoulli distributions.

    Each row is drawn from ``p(x) = sum_k w_k prod_j t_kj^x_j (1 - t_kj)^(1 -
    x_j)``: its component ``k`` is picked with probability ``w_k``, then each
    feature ``j`` is 1 with probability ``t_kj``, independently. The rows come
    in random order (not grouped by component).

    Parameters
    ----------
    n_samples : int
        Number of rows, at least 1.

    weights : array-like of shape (n_components,)
        The mixing weights ``w``: non-negative, summing to 1.

    means : array-like of shape (n_components, n_features)
        The probabilities ``t`` of a 1, in [0, 1].

    random_state : int, RandomState instance or None, default=None
        Seeds the draws; pass an int for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), int64
        The samples, zeros and ones.

    y : ndarray of shape (n_samples,), int64
        The component of each row, as an index into ``weights``.

    See Also
    --------
    make_coin_tosses : All features of a component share one probability.
    skcoinmix.BernoulliMixtureEM.sample : Samples from a fitted mixture.

    Examples
    --------
    >>> from skcoinmix.datasets import make_bernoulli_mixture
    >>> X, y = make_bernoulli_mixture(
    ...     4, weights=[0.5, 0.5], means=[[0.9, 0.9, 0.1], [0.1, 0.1, 0.9]],
    ...     random_state=3)
    >>> X.shape, y.shape
    ((4, 3), (4,))
    >>> X
    array([[0, 0, 1],
           [0, 1, 1],
           [1, 1, 0],
           [0, 0, 1]])
    >>> y
    array([1, 1, 0, 1])
    """
    n_samples = _check_count(n_samples, "n_samples")
    means = _check_probabilities(means, "means", ndim=2)
    weights = _as_float_array(weights, "weights", ndim=1)
    if weights.shape[0] != means.shape[0]:
        raise ValueError(
            "The parameters 'weights' and 'means' should have one entry and one "
            f"row per component, but got {weights.shape[0]} weights and "
            f"{means.shape[0]} rows of means."
        )
    weights = _check_weights(weights, means.shape[0], "means")
    random_state = check_random_state(random_state)
    return _sample_mixture(n_samples, weights, means, random_state)


# ------------------------------------------------------------------- loaders
def load_coin_example(*, return_coins=False):
    """Load the coin tosses of Do and Batzoglou (2008), Figure 1.

    Five sets of ten tosses, each set made with one of two coins, A or B;
    heads is 1. The paper estimates the coins' probabilities of heads as
    0.80 (A) and 0.45 (B) when the coin of each set is known, and runs EM
    from (0.60, 0.50) when it is not. The data are shipped with the package
    (``skcoinmix/data/do_batzoglou_coins.csv``).

    ======  ==========  ====
    set     tosses      coin
    ======  ==========  ====
    1       HTTTHHTHTH  B
    2       HHHHTHHHHH  A
    3       HTHHHHHTHH  A
    4       HTHTTTHHTT  B
    5       THHHTHHHTH  A
    ======  ==========  ====

    Parameters
    ----------
    return_coins : bool, default=False
        If True, also return the coin of each set.

    Returns
    -------
    X : ndarray of shape (5, 10), int64
        The tosses: 1 for heads, 0 for tails.

    coins : ndarray of shape (5,), int64
        Only when ``return_coins=True``: the coin of each set, 0 for A and 1
        for B, i.e. ``[1, 0, 0, 1, 0]``. ``np.array(["A", "B"])[coins]``
        gives the letters.

    See Also
    --------
    make_coin_tosses : Simulate more sets of the same experiment.

    References
    ----------
    C. B. Do and S. Batzoglou, "What is the expectation maximization
    algorithm?", Nature Biotechnology 26, 897-899 (2008).

    Examples
    --------
    >>> import numpy as np
    >>> from skcoinmix.datasets import load_coin_example
    >>> X, coins = load_coin_example(return_coins=True)
    >>> X.shape
    (5, 10)
    >>> X.sum(axis=1)
    array([5, 9, 8, 4, 7])
    >>> np.array(["A", "B"])[coins]
    array(['B', 'A', 'A', 'B', 'A'], dtype='<U1')
    >>> float(X[coins == 0].mean()), float(X[coins == 1].mean())
    (0.8, 0.45)
    """
    path = resources.files("skcoinmix") / "data" / COIN_EXAMPLE_FILE
    with path.open("r", encoding="utf-8") as file:
        X = np.loadtxt(file, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    if not return_coins:
        return X
    return X, np.array(COIN_EXAMPLE_COINS, dtype=np.int64)


# ------------------------------------------------------ response patterns
def to_patterns(X, sample_weight=None):
    """Group the rows of ``X`` into distinct response patterns with their counts.

    Published latent class data come as such tables; fitting the patterns
    with ``sample_weight=counts`` gives the same model as fitting the rows,
    in a fraction of the time. NaN (a missing answer) is a value of its own:
    rows with NaN at the same positions and equal observed values form one
    pattern.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numeric data, NaN allowed (infinity is not); sparse matrices are
        refused (call ``X.toarray()`` first).

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative frequency weights of the rows; None counts each row once.

    Returns
    -------
    patterns : ndarray of shape (n_patterns, n_features)
        The distinct rows, sorted lexicographically (column 0 first; in each
        column NaN comes after every number). Same dtype as ``X`` after
        validation (float64 for lists of floats, int64 for ints).

    counts : ndarray of shape (n_patterns,)
        How many rows (int64), or their total weight (float64) with
        ``sample_weight``, each pattern stands for. A pattern whose rows all
        have weight 0 is kept with count 0.

    See Also
    --------
    from_patterns : The inverse: the rows of a pattern table.

    Examples
    --------
    >>> import numpy as np
    >>> from skcoinmix.datasets import to_patterns
    >>> X = np.array([[1, 0], [0, 1], [1, 0], [np.nan, 1], [np.nan, 1]])
    >>> patterns, counts = to_patterns(X)
    >>> patterns
    array([[ 0.,  1.],
           [ 1.,  0.],
           [nan,  1.]])
    >>> counts
    array([1, 2, 2])
    """
    X = check_array(X, dtype="numeric", ensure_all_finite="allow-nan", input_name="X")
    weights = None
    if sample_weight is not None:
        weights = _check_row_weights(sample_weight, X.shape[0])
    if X.dtype.kind == "f":
        # Sort keys, column by column: (is missing, value with NaN read as 0),
        # so that NaN sorts last and NaN == NaN for the grouping.
        missing = np.isnan(X)
        keys = np.empty((X.shape[0], 2 * X.shape[1]), dtype=X.dtype)
        keys[:, 0::2] = missing
        keys[:, 1::2] = np.where(missing, 0, X)
    else:
        keys = X  # integers and booleans: compared exactly as they are
    order = np.lexsort(keys[:, ::-1].T)
    sorted_keys = keys[order]
    starts = np.ones(X.shape[0], dtype=bool)
    starts[1:] = np.any(sorted_keys[1:] != sorted_keys[:-1], axis=1)
    group = np.cumsum(starts) - 1
    if weights is None:
        counts = np.bincount(group).astype(np.int64)
    else:
        counts = np.bincount(group, weights=weights[order])
    return X[order[starts]], counts


def from_patterns(patterns, counts):
    """Expand a table of response patterns into one row per respondent.

    Parameters
    ----------
    patterns : array-like of shape (n_patterns, n_features)
        The distinct rows; NaN (a missing answer) is allowed.

    counts : array-like of shape (n_patterns,)
        How many times each pattern occurs: non-negative integers (floats
        with integer values, as read from a file, are accepted).

    Returns
    -------
    X : ndarray of shape (counts.sum(), n_features)
        Each pattern repeated ``counts`` times, in the table's order; same
        dtype as ``patterns`` after validation.

    See Also
    --------
    to_patterns : The inverse: the pattern table of some rows.

    Examples
    --------
    >>> from skcoinmix.datasets import from_patterns
    >>> from_patterns([[0, 1], [1, 1]], counts=[1, 2])
    array([[0, 1],
           [1, 1],
           [1, 1]])
    """
    patterns = check_array(
        patterns,
        dtype="numeric",
        ensure_all_finite="allow-nan",
        ensure_min_samples=0,
        input_name="patterns",
    )
    counts = _check_counts(counts, patterns.shape[0])
    return np.repeat(patterns, counts, axis=0)


def _check_row_weights(sample_weight, n_samples):
    """Finite non-negative weights of shape (n_samples,), as float64."""
    weights = as_float_array(sample_weight, "sample_weight")
    if weights.shape != (n_samples,):
        raise ValueError(
            f"The parameter 'sample_weight' should have the shape (n_samples,) = "
            f"({n_samples},), but got {weights.shape}."
        )
    _check_non_negative(weights, "sample_weight")
    return weights


def _check_counts(counts, n_patterns):
    """Pattern counts: non-negative integers of shape (n_patterns,), as int64."""
    values = as_float_array(counts, "counts")
    if values.shape != (n_patterns,):
        raise ValueError(
            "The parameter 'counts' should have one entry per pattern (row of "
            f"'patterns'), i.e. the shape ({n_patterns},), but got {values.shape}."
        )
    if np.any(values < 0) or np.any(values != np.round(values)):
        bad = values[(values < 0) | (values != np.round(values))]
        raise ValueError(
            "The parameter 'counts' should hold non-negative integers, but got "
            f"{bad[0]:g}. Fractional weights cannot be expanded into rows: pass "
            "them to fit as sample_weight with the patterns instead."
        )
    return values.astype(np.int64)


# ------------------------------------------------- latent class examples
#: The latent class analysis examples of :func:`load_lca_example`: name ->
#: file in the package folder ``data/`` (a pattern table).
LCA_EXAMPLES = {
    "stouffer_toby": "stouffer_toby.csv",
    "carcinoma": "carcinoma.csv",
}


def load_lca_example(name, *, as_patterns=False, as_frame=False):
    """Load a published latent class analysis data set.

    The data are shipped with the package as tables of response patterns
    (``skcoinmix/data/<name>.csv``: a header of item names and a ``count``
    column; sources in ``skcoinmix/data/README.md``). Answers are coded 1 and
    0; no answer is missing.

    ===================  =====  =====  ========  ====================================
    name                 rows   items  patterns  content
    ===================  =====  =====  ========  ====================================
    ``"stouffer_toby"``  216    4      16        role conflict: items ``A`` to ``D``,
                                                 1 = universalistic answer
    ``"carcinoma"``      118    7      20        7 pathologists (``A`` to ``G``) rate
                                                 118 slides, 1 = carcinoma
    ===================  =====  =====  ========  ====================================

    - ``"stouffer_toby"``: S. A. Stouffer and J. Toby, "Role conflict and
      personality", American Journal of Sociology 56, 395-406 (1951), as
      analysed by L. A. Goodman, "Exploratory latent structure analysis using
      both identifiable and unidentifiable models", Biometrika 61, 215-231
      (1974). Two classes give the maximum log-likelihood -504.4677.
    - ``"carcinoma"``: A. Agresti, Categorical Data Analysis, 2nd ed., Wiley
      (2002), Table 13.1 (the ``carcinoma`` data of the R package poLCA).
      Two, three and four classes give the maximum log-likelihoods
      -317.2568, -293.705 and -289.2858.

    Parameters
    ----------
    name : {"stouffer_toby", "carcinoma"}
        The data set.

    as_patterns : bool, default=False
        If True, return the table of distinct response patterns and their
        counts (fit it with ``sample_weight=counts``: the same model as the
        rows, faster); if False, one row per respondent, in the table's order.

    as_frame : bool, default=False
        If True, return the data as a :class:`pandas.DataFrame` whose columns
        are the item names (and ``counts`` as a :class:`pandas.Series` named
        ``"count"``), so that a fitted estimator knows the item names
        (``feature_names_in_``). Requires pandas.

    Returns
    -------
    X : ndarray of shape (n_samples, n_items), int64, or DataFrame
        Only when ``as_patterns=False``: one row per respondent.

    patterns : ndarray of shape (n_patterns, n_items), int64, or DataFrame
        Only when ``as_patterns=True``: the distinct response patterns,
        sorted lexicographically.

    counts : ndarray of shape (n_patterns,), int64, or Series
        Only when ``as_patterns=True``: the number of respondents with each
        pattern.

    See Also
    --------
    to_patterns, from_patterns : Convert between rows and pattern tables.
    skcoinmix.fit_report : The fit statistics of latent class analysis.

    Examples
    --------
    >>> from skcoinmix.datasets import load_lca_example
    >>> patterns, counts = load_lca_example("stouffer_toby", as_patterns=True)
    >>> patterns.shape, int(counts.sum())
    ((16, 4), 216)
    >>> patterns[-1], int(counts[-1])  # universalistic on all four items
    (array([1, 1, 1, 1]), 42)
    >>> load_lca_example("carcinoma").shape
    (118, 7)
    """
    if not isinstance(name, str) or name not in LCA_EXAMPLES:
        names = ", ".join(repr(key) for key in LCA_EXAMPLES)
        raise ValueError(
            f"The parameter 'name' should be one of {names}, but got {name!r}."
        )
    names, patterns, counts = _read_pattern_table(LCA_EXAMPLES[name])
    if as_patterns:
        if as_frame:
            pd = _import_pandas()
            return pd.DataFrame(patterns, columns=names), pd.Series(
                counts, name="count"
            )
        return patterns, counts
    X = np.repeat(patterns, counts, axis=0)
    if as_frame:
        return _import_pandas().DataFrame(X, columns=names)
    return X


def _read_pattern_table(filename):
    """A packaged pattern table: item names, patterns (m, J) and counts (m,), int64."""
    path = resources.files("skcoinmix") / "data" / filename
    with path.open("r", encoding="utf-8") as file:
        header = file.readline().strip().split(",")
        table = np.loadtxt(file, delimiter=",", dtype=np.int64, ndmin=2)
    return header[:-1], table[:, :-1], table[:, -1]


def _import_pandas():
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is a test extra
        raise ImportError("as_frame=True requires pandas: pip install pandas.") from exc
    return pd
