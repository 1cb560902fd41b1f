"""The statistics of a latent class fit report, as pure functions of arrays.

Information criteria, the table of response patterns, G², Pearson's X², the
classification entropy, class proportions and the bivariate residuals: what
:func:`skcoinmix.fit_report` and :mod:`skcoinmix.inference` compute,
independent of any model.

Shapes: ``n`` rows, ``J`` items, ``K`` classes, ``m`` distinct patterns,
``C = sum_j C_j`` categories of all items (the one-hot layout: item ``j`` in
columns ``offsets[j]:offsets[j + 1]``).
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp
from scipy.special import entr

__all__ = [
    "binary_codes",
    "bivariate_residuals_of_tables",
    "block_sums",
    "classification_entropy",
    "implied_two_way",
    "one_hot_rows",
    "g_squared",
    "information_criteria",
    "modal_proportions",
    "pattern_codes",
    "pattern_counts",
    "pearson_chi_squared",
    "relative_entropy",
    "residual_df",
]

#: Entries per block when the data are read block by block.
BLOCK_ENTRIES = 1 << 20


def information_criteria(
    log_likelihood, n_parameters, sample_size, log_sample_size=None
):
    """AIC, BIC and the sample-size-adjusted BIC.

    Parameters
    ----------
    log_likelihood : float
        The total (weighted) log-likelihood ``LL``.
    n_parameters : int
        The number of free parameters ``p``.
    sample_size : float
        ``N``.
    log_sample_size : float, default=None
        ``log N`` when known more precisely than ``np.log(sample_size)`` (a
        subnormal ``N``); None computes it.

    Returns
    -------
    criteria : dict
        ``"aic"``: ``-2 LL + 2 p``; ``"bic"``: ``-2 LL + p log N``;
        ``"sabic"``: ``-2 LL + p log((N + 2) / 24)`` (Sclove, 1987);
        ``"caic"``: ``-2 LL + p (log N + 1)``, BIC plus ``p`` (Bozdogan,
        1987).
    """
    deviance = -2.0 * log_likelihood
    if log_sample_size is None:
        log_sample_size = np.log(sample_size)
    return {
        "aic": deviance + 2.0 * n_parameters,
        "bic": float(deviance + n_parameters * log_sample_size),
        "sabic": float(deviance + n_parameters * np.log((sample_size + 2.0) / 24.0)),
        "caic": float(deviance + n_parameters * (log_sample_size + 1.0)),
    }


def residual_df(sample_size, n_cells, n_parameters):
    """poLCA's residual degrees of freedom, ``min(N, C - 1) - p``.

    Parameters
    ----------
    sample_size : float
        ``N``, the weighted number of rows.
    n_cells : int
        ``C``, the number of cells of the table of response patterns: the
        product of the items' numbers of categories (``2^J`` for ``J``
        binary items).
    n_parameters : int
        ``p``.

    Returns
    -------
    df : int or float
        An int unless ``N`` is fractional and below ``C - 1``.
    """
    free_cells = n_cells - 1  # a Python int: exact for any number of cells
    if sample_size < free_cells:
        df = sample_size - n_parameters
        return int(df) if float(sample_size).is_integer() else float(df)
    return free_cells - n_parameters


def pattern_counts(codes, weights):
    """Distinct pattern codes, their summed weights and a row of each; weight 0 left out.

    Parameters
    ----------
    codes : ndarray of shape (n,), int64
        Each row's pattern as an integer (see :func:`pattern_codes`).
    weights : ndarray of shape (n,)

    Returns
    -------
    unique : ndarray of shape (m,), int64
        The distinct codes with a positive total weight, in increasing order
        (the patterns sorted lexicographically, item 0 first).
    counts : ndarray of shape (m,), float64
        Their total weights.
    first : ndarray of shape (m,), int
        The position in ``codes`` of the first row with each pattern.
    """
    unique, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=weights, minlength=len(unique))
    # A pattern seen only with weight 0 is not observed: it belongs to the
    # unobserved cells of the chi-square.
    seen = counts > 0
    return unique[seen], counts[seen], first[seen]


def pattern_codes(X, encode, n_categories):
    """Each row's response pattern as an integer, and which rows are complete.

    Rows are read in blocks, so no copy of ``X`` is made.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n, J)
        Validated data; NaN marks a missing answer.
    encode : callable
        ``encode(block)`` -> ``(codes, missing)``: the category index of each
        entry of a dense block of rows, an int array of shape (b, J), and
        which entries are missing, a bool array of the same shape or None
        when none is (see :func:`binary_codes`).
    n_categories : sequence of int, length J
        ``C_j``; their product must fit in an int64.

    Returns
    -------
    codes : ndarray of shape (n,), int64
        ``sum_j c_ij prod_{l > j} C_l`` for the category indices ``c_i`` of
        row ``i`` (item 0 the most significant digit; for binary items
        ``sum_j b_ij 2^(J - 1 - j)``); rows with a missing answer get a code
        that must be ignored.
    complete : ndarray of shape (n,), bool
        Whether the row has no missing answer.
    """
    n_samples, n_items = X.shape
    # The place value of each item's digit, from the last item (1) up.
    places = np.ones(n_items, dtype=np.int64)
    for j in range(n_items - 2, -1, -1):
        places[j] = places[j + 1] * n_categories[j + 1]
    codes = np.empty(n_samples, dtype=np.int64)
    complete = np.empty(n_samples, dtype=bool)
    step = max(1, BLOCK_ENTRIES // max(1, n_items))
    for start in range(0, n_samples, step):
        block = X[start : start + step]
        block = block.toarray() if sp.issparse(block) else np.asarray(block)
        digits, missing = encode(block)
        codes[start : start + step] = digits @ places
        complete[start : start + step] = (
            True if missing is None else ~missing.any(axis=1)
        )
    return codes, complete


def binary_codes(block, threshold):
    """The category indices of binary answers: 1 above ``threshold``, else 0.

    Parameters
    ----------
    block : ndarray of shape (b, J)
        Numeric data; NaN marks a missing answer.
    threshold : float or None
        The estimator's ``binarize``: an entry is 1 when it is greater
        (``None``: the data are already 0/1).

    Returns
    -------
    codes : ndarray of shape (b, J), int64
    missing : ndarray of shape (b, J), bool, or None
        None for data that cannot hold NaN.
    """
    limit = 0.5 if threshold is None else threshold
    codes = (block > limit).astype(np.int64)
    return codes, np.isnan(block) if block.dtype.kind == "f" else None


def g_squared(observed, expected):
    """The likelihood-ratio statistic ``G² = 2 sum_s n_s log(n_s / e_s)``.

    Parameters
    ----------
    observed : ndarray of shape (m,)
        Positive observed counts of the observed patterns.
    expected : ndarray of shape (m,)
        Their expected counts, positive.

    Returns
    -------
    g_squared : float
    """
    return float(2.0 * np.sum(observed * (np.log(observed) - np.log(expected))))


def pearson_chi_squared(observed, expected, total, n_cells):
    """Pearson's ``X² = sum (n - e)² / e`` over all cells of the table.

    An unobserved cell adds ``(0 - e)² / e = e``, so the unobserved cells
    together add ``total - sum(expected)`` (poLCA's formula): no cell is
    enumerated.

    Parameters
    ----------
    observed : ndarray of shape (m,)
        Positive observed counts of the observed patterns.
    expected : ndarray of shape (m,)
        Their expected counts, positive, summing to at most ``total``.
    total : float
        ``N``, the sum of the expected counts over all cells.
    n_cells : int
        The number of cells, ``2^J`` for ``J`` binary items.

    Returns
    -------
    chi_squared : float
    """
    observed_part = np.sum((observed - expected) ** 2 / expected)
    if observed.shape[0] == n_cells:
        return float(observed_part)  # every cell observed: nothing to add
    # The unobserved mass is never negative; rounding could make it -1e-13.
    return float(observed_part + max(0.0, total - float(np.sum(expected))))


def relative_entropy(resp, weights):
    """The relative entropy of the classification, ``1 - E / (N log K)``.

    ``E = sum_i w_i sum_k -r_ik log r_ik`` (with ``0 log 0 = 0``); 1 when
    ``K = 1``.

    Parameters
    ----------
    resp : ndarray of shape (n, K)
        Posterior class probabilities, rows summing to 1.
    weights : ndarray of shape (n,)

    Returns
    -------
    relative_entropy : float
        In [0, 1]; clipped there against rounding.
    """
    n_components = resp.shape[1]
    if n_components == 1:
        return 1.0
    entropy = float(np.dot(weights, entr(resp).sum(axis=1)))
    value = 1.0 - entropy / (weights.sum() * np.log(n_components))
    return float(min(1.0, max(0.0, value)))


def modal_proportions(resp, weights):
    """The weighted share of rows whose most probable class is each class.

    Parameters
    ----------
    resp : ndarray of shape (n, K)
    weights : ndarray of shape (n,)

    Returns
    -------
    proportions : ndarray of shape (K,)
    """
    labels = resp.argmax(axis=1)
    totals = np.bincount(labels, weights=weights, minlength=resp.shape[1])
    return totals / weights.sum()


def average_posteriors(resp, weights):
    """Mplus's classification table: mean posteriors by most probable class.

    Parameters
    ----------
    resp : ndarray of shape (n, K)
        The posterior probabilities ``r_ik``.
    weights : ndarray of shape (n,)
        Frequency weights (any positive scale: only ratios are returned).

    Returns
    -------
    table : ndarray of shape (K, K)
        ``table[k, l]``: the weighted mean of ``r_il`` over the rows whose
        most probable class is ``k``; a row of NaN for a class no row is
        assigned to.
    counts : ndarray of shape (K,)
        The weighted number of rows assigned to each class, in the units of
        ``weights``.
    """
    n_components = resp.shape[1]
    assigned = resp.argmax(axis=1)
    counts = np.bincount(assigned, weights=weights, minlength=n_components)
    # sums[k, l] = sum of w_i r_il over the rows i assigned to k.
    sums = np.column_stack(
        [
            np.bincount(assigned, weights=weights * column, minlength=n_components)
            for column in resp.T
        ]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        table = sums / counts[:, np.newaxis]  # NaN rows for empty classes
    return table, counts


def classification_error(resp, weights):
    """The expected share of misclassified rows, ``1 - sum_i w_i max_k r_ik / sum_i w_i``.

    Parameters
    ----------
    resp : ndarray of shape (n, K)
    weights : ndarray of shape (n,)

    Returns
    -------
    error : float
        In ``[0, 1 - 1/K]``.
    """
    error = 1.0 - float(weights @ resp.max(axis=1)) / weights.sum()
    return max(error, 0.0)  # rounding can take 1 - 1 below 0


def classification_entropy(resp, weights):
    """The entropy of the classification, ``E = sum_i w_i sum_k -r_ik log r_ik``.

    ``0 log 0 = 0``. ICL-BIC is ``BIC + 2 E`` (McLachlan and Peel, 2000,
    section 6.10.3).

    Parameters
    ----------
    resp : ndarray of shape (n, K)
        Posterior class probabilities.
    weights : ndarray of shape (n,)

    Returns
    -------
    entropy : float
        Non-negative; 0 when every row belongs to one class with certainty.
    """
    return float(np.dot(weights, entr(resp).sum(axis=1)))


def one_hot_rows(codes, missing, offsets):
    """The one-hot encoding of rows of category indices, missing answers all 0.

    Parameters
    ----------
    codes : ndarray of shape (b, J), int
        Each entry's category index, ``0 <= codes[:, j] < C_j`` where observed.
    missing : ndarray of shape (b, J), bool, or None
        Which entries are missing (None: none is).
    offsets : ndarray of shape (J + 1,)
        Where each item's categories start among the ``C`` columns.

    Returns
    -------
    one_hot : scipy.sparse.csr_matrix of shape (b, C)
        A 1 at column ``offsets[j] + codes[i, j]`` of row ``i`` for each
        observed entry.
    """
    n_rows = codes.shape[0]
    columns = codes + offsets[:-1]
    observed = np.ones(codes.shape, dtype=bool) if missing is None else ~missing
    indptr = np.concatenate([[0], np.cumsum(observed.sum(axis=1))])
    return sp.csr_matrix(
        (np.ones(int(indptr[-1])), columns[observed], indptr),
        shape=(n_rows, int(offsets[-1])),
    )


def implied_two_way(class_weights, probs):
    """The model's joint probabilities of every pair of categories, ``P^T diag(w) P``.

    Entry ``(a, b)`` is ``sum_k w_k P_k[a] P_k[b]``: for ``a`` a category of
    item ``j`` and ``b`` one of item ``l != j``, the probability of both under
    local independence. (The diagonal blocks, ``j = l``, mean nothing.)

    Parameters
    ----------
    class_weights : ndarray of shape (K,)
    probs : ndarray of shape (K, C)
        Each class's item-response probabilities, item after item.

    Returns
    -------
    joint : ndarray of shape (C, C)
    """
    return (probs.T * class_weights) @ probs


def block_sums(matrix, offsets):
    """The sum of each item-by-item block of a matrix in the one-hot layout.

    Parameters
    ----------
    matrix : ndarray of shape (C, C)
    offsets : ndarray of shape (J + 1,)

    Returns
    -------
    sums : ndarray of shape (J, J)
    """
    starts = offsets[:-1]
    return np.add.reduceat(np.add.reduceat(matrix, starts, axis=0), starts, axis=1)


def bivariate_residuals_of_tables(observed, class_weights, probs, offsets):
    """LatentGOLD's bivariate residuals: each pair's Pearson X² over its degrees of freedom.

    For items ``j != l``, ``N_jl`` is the total of their observed two-way
    table ``O`` (the rows observing both), the expected table is
    ``E[a, b] = N_jl sum_k w_k P_kj[a] P_kl[b]`` and the residual is
    ``sum_ab (O - E)² / E`` divided by ``(C_j - 1)(C_l - 1)``.

    Parameters
    ----------
    observed : ndarray of shape (C, C)
        The observed two-way tables of every pair of items in the one-hot
        layout, ``Z^T W Z`` for the one-hot rows ``Z`` (:func:`one_hot_rows`)
        and frequency weights ``W``; symmetric.
    class_weights : ndarray of shape (K,)
    probs : ndarray of shape (K, C)
    offsets : ndarray of shape (J + 1,)

    Returns
    -------
    residuals : ndarray of shape (J, J)
        Symmetric; NaN on the diagonal, for a pair no row observes together
        and for an item with a single category (no degree of freedom).
    """
    pair_totals = block_sums(observed, offsets)
    sizes = np.diff(offsets)
    totals = np.repeat(np.repeat(pair_totals, sizes, axis=0), sizes, axis=1)
    expected = totals * implied_two_way(class_weights, probs)
    # Probabilities are positive, so an expected count is 0 only for a pair
    # with no row: that pair is NaN below.
    with np.errstate(divide="ignore", invalid="ignore"):
        cells = np.where(expected > 0, (observed - expected) ** 2 / expected, 0.0)
        df = np.outer(sizes - 1, sizes - 1).astype(np.float64)
        residuals = block_sums(cells, offsets) / df
    residuals[(pair_totals <= 0) | (df == 0)] = np.nan
    # Exactly symmetric whatever the rounding of each block: the upper
    # triangle, mirrored.
    upper = np.triu(residuals, 1)
    residuals = upper + upper.T
    np.fill_diagonal(residuals, np.nan)
    return residuals
