"""Input checks shared by every estimator; each message names what to fix."""

# SPDX-License-Identifier: BSD-3-Clause

import math
import sys
import warnings
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "as_float_array",
    "binarize_data",
    "canonical_sparse",
    "check_observed_columns",
    "has_missing",
    "scan_data",
    "check_means_init",
    "check_sample_weight",
    "check_weights_init",
    "column_range",
    "log_unscaled",
    "missing_mask",
    "scale_sample_weight",
    "unobserved_columns",
    "unscale_total",
    "ScaledWeights",
]


def check_sample_weight(sample_weight, n_samples):
    """Validate frequency weights: finite, non-negative, not all zero.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or None
        ``None`` means a weight of 1 for every row.

    n_samples : int
        Number of rows the weights must match.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,), float64

    Raises
    ------
    TypeError
        If ``sample_weight`` holds something other than numbers (or is
        sparse).
    ValueError
        If it has the wrong shape, NaN, infinity, a negative value, or sums
        to zero.
    """
    if sample_weight is not None and not sp.issparse(sample_weight):
        try:
            np.asarray(sample_weight, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            # numpy's own message ("could not convert string to float: 'a'")
            # does not say which argument holds the value.
            raise TypeError(
                "sample_weight should be an array of non-negative numbers, but "
                f"got {type(sample_weight).__name__}: {exc}"
            ) from None
    sample_weight = _check_sample_weight(
        sample_weight,
        np.empty((n_samples, 0)),
        dtype=np.float64,
        ensure_non_negative=True,
    )
    # Non-negative weights sum to zero when none is positive (a sum may
    # overflow).
    if not np.any(sample_weight > 0):
        raise ValueError(
            "sample_weight sums to zero: at least one row needs a positive weight."
        )
    return sample_weight


class ScaledWeights(NamedTuple):
    """Validated frequency weights, rescaled by a power of two.

    The weights given are ``weights * 2**exponent``, and their sum
    ``total * 2**exponent`` (see :func:`scale_sample_weight`).
    """

    weights: object
    total: float
    n_positive: int
    exponent: int


def scale_sample_weight(sample_weight):
    """Weights rescaled by a power of two so that the largest lies in [1, 2).

    Multiplying by ``2**-exponent`` is exact in floating point (unless a
    result is subnormal), so every ratio of weights and of their sums, which
    is all the fitted parameters, predictions and ``score`` depend on with
    ``alpha=0``, is the same bit for bit as with the weights given, while no
    sum of the rescaled weights can overflow (it is at most ``2 n``) and the
    largest are never subnormal. Weights up to ``2**1022`` times smaller than
    the largest keep full precision; smaller ones, below float64's
    resolution of any total, lose it (and become 0 below about ``2**-1075``
    times the largest).

    Parameters
    ----------
    sample_weight : ndarray of shape (n_samples,)
        Validated weights (:func:`check_sample_weight`), not all zero.

    Returns
    -------
    scaled : ndarray of shape (n_samples,)
        ``sample_weight * 2**-exponent``; ``sample_weight`` itself when the
        exponent is 0 (unit weights, for one).

    exponent : int
    """
    exponent = weight_exponent(sample_weight.max())
    if exponent == 0:
        return sample_weight, 0
    return np.ldexp(sample_weight, -exponent), exponent


def weight_exponent(max_weight):
    """The ``e`` with ``max_weight * 2**-e`` in [1, 2); 0 for a non-positive weight."""
    if not max_weight > 0:
        return 0
    return int(np.frexp(max_weight)[1]) - 1


def unscale_total(value, exponent, what):
    """``value * 2**exponent`` as a float, or a ValueError naming sample_weight.

    Parameters
    ----------
    value : float
        A total computed with weights rescaled by :func:`scale_sample_weight`.

    exponent : int

    what : str
        What ``value`` is, for the message.

    Returns
    -------
    total : float
        Exact unless subnormal (then rounded, as any subnormal result).

    Raises
    ------
    ValueError
        If the total overflows float64.
    """
    try:
        total = math.ldexp(float(value), exponent)
        if not math.isfinite(total):  # already beyond float64 when rescaled
            raise OverflowError
        return total
    except OverflowError:
        raise ValueError(
            f"The {what} is {format_unscaled(value, exponent)} with these "
            "sample weights, beyond float64's range. Rescale sample_weight, "
            "e.g. divide it by its mean: with alpha=0 the fitted parameters, "
            "predictions and score do not depend on the weights' scale."
        ) from None


def log_unscaled(value, exponent):
    """``log(value * 2**exponent)`` for ``value > 0``, also where the product is not a float.

    The same as ``np.log`` of the product wherever it is a normal float (bit
    for bit), else ``log(value) + exponent log 2``.
    """
    try:
        total = math.ldexp(float(value), exponent)
    except OverflowError:
        total = math.inf
    if math.isfinite(total) and total >= np.finfo(np.float64).tiny:
        return float(np.log(total))
    return float(np.log(value) + exponent * np.log(2.0))


def format_unscaled(value, exponent):
    """``value * 2**exponent`` as text such as ``"2.5e+308"``, even beyond float64."""
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return f"{value}"
    log10 = math.log10(abs(value)) + exponent * math.log10(2.0)
    power = math.floor(log10)
    sign = "-" if value < 0 else ""
    return f"{sign}{10 ** (log10 - power):.3g}e{power:+d}"


def check_weights_init(weights_init, n_components):
    """Validate user-supplied mixing weights.

    Parameters
    ----------
    weights_init : array-like of shape (n_components,)
        Must lie in [0, 1] and sum to 1.

    n_components : int

    Returns
    -------
    weights : ndarray of shape (n_components,), float64
    """
    weights = as_float_array(weights_init, "weights_init")
    if weights.shape != (n_components,):
        raise ValueError(
            f"The parameter 'weights_init' should have the shape "
            f"(n_components,) = ({n_components},), but got {weights.shape}."
        )
    if np.any(weights < 0) or np.any(weights > 1):
        raise ValueError(
            "The parameter 'weights_init' should be in the range [0, 1], but got "
            f"min value {weights.min():.5f}, max value {weights.max():.5f}."
        )
    if not np.isclose(weights.sum(), 1.0, rtol=1e-6, atol=0.0):
        raise ValueError(
            "The parameter 'weights_init' should be normalized (sum to 1), but got "
            f"sum(weights_init) = {weights.sum():.5f}."
        )
    return weights


def check_means_init(means_init, n_components, n_features, tie_features):
    """Validate user-supplied component probabilities.

    Parameters
    ----------
    means_init : array-like of shape (n_components, n_features)
        Probabilities in [0, 1]. With ``tie_features=True`` the shape
        (n_components, 1) is accepted too, and the rows must be constant.

    n_components, n_features : int

    tie_features : bool

    Returns
    -------
    means : ndarray of shape (n_components, n_features), or (n_components, 1)
        when ``tie_features`` is True; float64.
    """
    means = as_float_array(means_init, "means_init")
    accepted = [(n_components, n_features)]
    if tie_features:
        accepted.append((n_components, 1))
    if means.shape not in accepted:
        expected = " or ".join(str(shape) for shape in accepted)
        raise ValueError(
            f"The parameter 'means_init' should have the shape {expected} "
            f"(n_components, n_features), but got {means.shape}."
        )
    if np.any(means < 0) or np.any(means > 1):
        raise ValueError(
            "The parameter 'means_init' holds probabilities and should be in the "
            f"range [0, 1], but got min value {means.min():.5f}, max value "
            f"{means.max():.5f}."
        )
    if tie_features:
        if np.any(means != means[:, :1]):
            raise ValueError(
                "With tie_features=True every feature of a component shares one "
                "probability, so each row of 'means_init' must be constant; pass "
                "an array of shape (n_components, 1)."
            )
        means = means[:, :1]
    return means


def as_float_array(value, name):
    """``value`` as a finite float64 array; errors name the parameter ``name``."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"The parameter '{name}' should be an array of numbers, but got "
            f"{type(value).__name__}: {exc}"
        ) from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"The parameter '{name}' contains NaN or infinity.")
    return array


#: Entries per block when dense data are scanned or binarised block by block:
#: 2 MiB of float64, so that a block stays in cache for every check made on it.
_CHECK_BLOCK_ENTRIES = 1 << 18


def _dense_row_blocks(X):
    step = max(1, _CHECK_BLOCK_ENTRIES // max(1, X.shape[1]))
    for start in range(0, X.shape[0], step):
        yield X[start : start + step]


def _memory_blocks(X):
    """Blocks of the entries of ``X`` in memory order, for order-free questions.

    A 1-D, C- or F-contiguous ``X`` is cut into 1-D views of its memory, so
    that every ufunc runs its contiguous loop whatever the order; a 2-D
    ``X`` of any other layout into row blocks.
    """
    if X.ndim == 1 or X.flags.c_contiguous or X.flags.f_contiguous:
        flat = X if X.ndim == 1 else X.ravel(order="K")  # a view: X is contiguous
        for start in range(0, flat.size, _CHECK_BLOCK_ENTRIES):
            yield flat[start : start + _CHECK_BLOCK_ENTRIES]
    else:
        yield from _dense_row_blocks(X)


def _is_binary(values, missing=False):
    """Whether every entry of ``values`` (an array) is 0 or 1 (or NaN if ``missing``)."""
    if values.dtype == bool or values.size == 0:
        return True
    if values.dtype.kind in "ui":
        # Read as unsigned, negative integers are huge: one pass, not two.
        unsigned = values.view(values.dtype.str.replace("i", "u"))
        return bool(unsigned.max() <= 1)
    binary = (values == 0) | (values == 1)
    if missing:
        binary |= np.isnan(values)
    return bool(np.all(binary))


def canonical_sparse(X):
    """``X`` with each entry stored once, in sorted order: what its dense form means.

    A ``scipy.sparse`` matrix may store an entry several times (its value is
    the sum: ``toarray`` and the products add the duplicates) and in any
    order. The checks of :func:`scan_data` and :func:`binarize_data` read the
    stored values one by one, so they need each entry stored once: a 1
    stored twice is a 2, not two ones.

    Parameters
    ----------
    X : {ndarray, sparse matrix or array} of shape (n_samples, n_features)

    Returns
    -------
    X : {ndarray, sparse matrix or array} of shape (n_samples, n_features)
        ``X`` itself when it is dense, or CSR or CSC in canonical form
        (``has_canonical_format``). Otherwise a copy with the duplicates
        summed and the indices sorted, CSR unless ``X`` is CSC; the caller's
        matrix is never changed. Explicit zeros are kept (they are zeros).
    """
    if not sp.issparse(X):
        return X
    if X.format not in ("csr", "csc"):
        # A new matrix, COO's duplicates summed. The checks cannot read the
        # others' ``data``: LIL's and DOK's are not an array of the values,
        # DIA's holds padding outside the matrix, BSR's blocks.
        X = X.tocsr()
    if not X.has_canonical_format:
        X = X.copy()  # sum_duplicates works in place
        X.sum_duplicates()
    return X


class DataScan(NamedTuple):
    """What one pass over validated data finds (see :func:`scan_data`)."""

    has_missing: bool
    is_binary: bool


def scan_data(X):
    """Whether ``X`` has NaN entries, and whether all the others are 0 or 1.

    What ``validate_data(..., ensure_all_finite="allow-nan")``,
    :func:`has_missing` and the 0/1 check of :func:`binarize_data` find, in
    one pass over the data (none for integer and bool data, which hold
    neither NaN nor infinity): call ``validate_data`` with
    ``ensure_all_finite=False``, then this.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Validated numeric data, any dtype and memory layout; a sparse matrix
        in canonical form (see :func:`canonical_sparse`), as only its stored
        values are read.

    Returns
    -------
    scan : DataScan
        ``(has_missing, is_binary)``; ``is_binary`` ignores NaN entries.

    Raises
    ------
    ValueError
        If an entry is infinite (scikit-learn's message; not checked under
        ``sklearn.config_context(assume_finite=True)``, as scikit-learn does
        not), or a sparse matrix holds NaN (the message of
        :func:`has_missing`).
    """
    values = X.data if sp.issparse(X) else X
    if values.dtype.kind != "f":
        return DataScan(False, _is_binary(values))
    with np.errstate(over="ignore", invalid="ignore"):  # sums of large values
        scan = _scan_float(values, check_finite=not get_config()["assume_finite"])
    if scan.has_missing and sp.issparse(X):
        _raise_sparse_missing()  # after infinity, as validate_data did
    return scan


def _scan_float(X, check_finite):
    """:func:`scan_data` for a float array: each block is read from cache after its first check.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features) or (nnz,), float dtype
        Dense data, or the stored values of a sparse matrix.

    check_finite : bool
        Whether an infinite entry raises.

    Returns
    -------
    scan : DataScan
    """
    has_nan, binary, scratch = False, True, None
    for block in _memory_blocks(X):
        if scratch is None:  # the first block is the largest
            scratch = np.empty((2, block.size), dtype=bool)
        mask, other = (buffer[: block.size].reshape(block.shape) for buffer in scratch)
        if binary:
            np.equal(block, 0, out=mask)
            mask |= np.equal(block, 1, out=other)
            if mask.all():
                continue  # only 0 and 1: no NaN, no infinity
            has_nan |= bool(np.isnan(block, out=other).any())
            mask |= other
            binary = bool(mask.all())
            if binary:
                continue  # only 0, 1 and NaN: no infinity
        elif np.isfinite(np.add.reduce(block, axis=None)):
            continue  # neither NaN nor infinity (a sum can only overflow)
        elif not has_nan:
            has_nan = bool(np.isnan(block, out=other).any())
        if check_finite and np.isinf(block, out=other).any():
            _raise_infinite(X.dtype)
    return DataScan(has_nan, binary)


def _raise_infinite(dtype):
    # The message of validate_data, which no longer checks for infinity.
    raise ValueError(
        f"Input X contains infinity or a value too large for {np.dtype(dtype)!r}."
    )


def has_missing(X):
    """Whether ``X`` (validated with NaN allowed) has NaN entries, which mean missing.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)

    Returns
    -------
    missing : bool
        Always False for sparse matrices: NaN in them is a ``ValueError``.
    """
    if X.dtype.kind != "f":
        return False
    if sp.issparse(X):
        if np.isnan(X.data).any():
            _raise_sparse_missing()
        return False
    return any(np.isnan(block).any() for block in _dense_row_blocks(X))


def _raise_sparse_missing():
    raise ValueError(
        "Sparse input with NaN (missing) entries is not supported: "
        "implicit zeros and missing answers cannot be told apart. Pass "
        "a dense array with NaN for the missing entries."
    )


def binarize_data(X, threshold, missing=False, *, is_binary=None):
    """Turn validated data into 0/1 values, as ``BernoulliNB`` does, copying only if needed.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Finite numeric data, any dtype; a sparse matrix in canonical form
        (see :func:`canonical_sparse`), as each stored value is binarised on
        its own.

    threshold : float or None
        Values strictly greater than ``threshold`` become 1, the others 0.
        ``None`` means the data must already hold only 0 and 1.

    missing : bool, default=False
        Whether NaN marks missing entries (dense float ``X`` only); they stay
        NaN.

    is_binary : bool or None, default=None
        Whether the entries of ``X`` other than NaN are all 0 or 1, when
        already known (from :func:`scan_data`); ``None`` checks, one more
        pass over the data.

    Returns
    -------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        ``X`` itself when its entries are already 0 and 1 and the threshold
        maps them to themselves (a threshold in [0, 1), or None). Otherwise a
        binarised copy: uint8 for dense data (the input's float dtype, with
        NaN kept, when entries are missing); for sparse data the same format
        with float64 (float32 for float32 input) values and no explicit zeros.
    """
    identity = threshold is None or 0 <= threshold < 1
    if sp.issparse(X):
        if threshold is not None and threshold < 0:
            raise ValueError(
                f"Cannot binarize sparse data with binarize={threshold} < 0: the "
                "implicit zeros would all become ones. Use a threshold >= 0 or "
                "dense data."
            )
        binary = _is_binary(X.data) if is_binary is None else is_binary
        if threshold is None and not binary:
            _raise_not_binary(X.data)
        float_dtype = np.float32 if X.dtype == np.float32 else np.float64
        if binary and identity and X.dtype == float_dtype and np.all(X.data):
            return X
        out = X.astype(float_dtype, copy=True)
        limit = 0 if threshold is None else threshold
        out.data = (X.data > limit).astype(float_dtype)
        out.eliminate_zeros()
        return out
    binary = is_binary
    if binary is None:
        binary = all(_is_binary(block, missing) for block in _dense_row_blocks(X))
    if binary and identity:
        return X
    if threshold is None:
        _raise_not_binary(X[~np.isnan(X)] if missing else X)
    out = np.empty(X.shape, dtype=X.dtype if missing else np.uint8)
    for block, out_block in zip(
        _dense_row_blocks(X), _dense_row_blocks(out), strict=True
    ):
        np.greater(block, threshold, out=out_block, casting="unsafe")
        if missing:
            out_block[np.isnan(block)] = np.nan
    return out


def _raise_not_binary(values):
    bad = (values != 0) & (values != 1)
    found = np.unique(np.asarray(values)[bad])
    shown = ", ".join(repr(v.item()) for v in found[:5])
    more = f" and {found.size - 5} more" if found.size > 5 else ""
    raise ValueError(
        "With binarize=None, X must contain only 0 and 1, but found the "
        f"values {shown}{more}. Set binarize to a threshold (values above it "
        "become 1) or binarize the data first, e.g. with "
        "sklearn.preprocessing.Binarizer."
    )


def unobserved_columns(X):
    """The columns of dense ``X`` in which every entry is NaN (missing).

    One blocked pass; call it only for data with missing entries.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float

    Returns
    -------
    columns : ndarray of shape (n_unobserved,), int
        Their positions, in increasing order.
    """
    observed = np.zeros(X.shape[1], dtype=bool)
    for block in _dense_row_blocks(X):
        observed |= ~np.isnan(block).all(axis=0)
    return np.flatnonzero(~observed)


def check_observed_columns(unobserved, n_features, feature_names=None):
    """Refuse data with no observed entry; warn about columns with none.

    Parameters
    ----------
    unobserved : ndarray of int
        The positions of the columns with no observed entry (from
        :func:`unobserved_columns`).

    n_features : int

    feature_names : ndarray of str or None
        The columns' names, used in the messages when given.

    Raises
    ------
    ValueError
        If no column has an observed entry: there is nothing to fit.
    """
    if len(unobserved) == 0:
        return
    if len(unobserved) == n_features:
        raise ValueError(
            "X has no observed entry: every entry is missing (NaN). Fit on "
            "data with at least one observed answer."
        )
    if feature_names is not None:
        names = [repr(str(feature_names[j])) for j in unobserved]
    else:
        names = [f"column {j}" for j in unobserved]
    shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    warnings.warn(
        f"{len(names)} of the {n_features} columns of X have no observed entry "
        f"(every entry is NaN): {shown}. The data say nothing about their "
        "probabilities, which keep their starting values; drop these columns "
        "or check how the data were read.",
        UserWarning,
        stacklevel=4,
    )


def column_range(X):
    """The smallest and largest entry of each column, NaN ignored.

    One blocked pass (sparse: implicit zeros count as entries).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Validated numeric data; a sparse matrix in canonical form.

    Returns
    -------
    low, high : ndarray of shape (n_features,), float64
        NaN for a column whose every entry is NaN (or with no row).
    """
    if sp.issparse(X):
        if X.shape[0] == 0:
            return np.full(X.shape[1], np.nan), np.full(X.shape[1], np.nan)
        low = np.asarray(X.min(axis=0).toarray(), dtype=np.float64).ravel()
        high = np.asarray(X.max(axis=0).toarray(), dtype=np.float64).ravel()
        return low, high
    low = np.full(X.shape[1], np.nan)
    high = np.full(X.shape[1], np.nan)
    for block in _dense_row_blocks(X):
        if block.shape[0]:
            # fmin/fmax skip NaN; the result is NaN only where all are NaN.
            np.fmin(low, np.fmin.reduce(block, axis=0), out=low)
            np.fmax(high, np.fmax.reduce(block, axis=0), out=high)
    return low, high


def missing_mask(values):
    """Which entries of an array are missing: NaN, None or pandas' NA.

    Parameters
    ----------
    values : ndarray of any shape and dtype

    Returns
    -------
    missing : ndarray of bool, the shape of ``values``
    """
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind != "O":
        return np.zeros(values.shape, dtype=bool)
    pandas = sys.modules.get("pandas")  # pd.NA exists only if pandas is loaded
    na = getattr(pandas, "NA", None)

    def is_missing(value):
        if value is None or (na is not None and value is na):
            return True
        return isinstance(value, float) and value != value  # NaN

    return np.fromiter(
        map(is_missing, values.ravel()), dtype=bool, count=values.size
    ).reshape(values.shape)
