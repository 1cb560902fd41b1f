"""The one-pass input scan of ``fit`` agrees with the straightforward checks.

``BernoulliMixtureEM._prepare_data`` asks ``validate_data`` not to check
finiteness, then :func:`skcoinmix._validation.scan_data` answers "any NaN?",
"any infinity?" and "all 0/1 (NaN aside)?" block by block in one pass. These
tests compare it with plain numpy on the whole array, with blocks made tiny
so that the special values land on every block boundary, and check that the
pass copies nothing it need not.
"""

import re
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn import config_context

from skcoinmix import BernoulliMixtureEM, _validation
from skcoinmix._validation import binarize_data, has_missing, scan_data

FLOATS = [np.float32, np.float64]
#: Memory layouts: contiguous ones are scanned as flat memory, others by rows.
LAYOUTS = ["C", "F", "strided"]
#: 1 and 8 entries cut rows in the middle; 12 makes blocks of two 5-wide rows;
#: the default puts a small array in one block.
BLOCK_ENTRIES = [1, 8, 12, _validation._CHECK_BLOCK_ENTRIES]
SHAPE = (7, 5)


@pytest.fixture(params=BLOCK_ENTRIES, ids=lambda e: f"block={e}")
def block_entries(request, monkeypatch):
    monkeypatch.setattr(_validation, "_CHECK_BLOCK_ENTRIES", request.param)
    return request.param


def _layout(X, layout):
    """``X`` (C order) with the same values in the memory ``layout``."""
    if layout == "C":
        return np.ascontiguousarray(X)
    if layout == "F":
        return np.asfortranarray(X)
    # Every other column of a wider array: neither C- nor F-contiguous.
    wide = np.zeros((X.shape[0], 2 * X.shape[1]), dtype=X.dtype)
    wide[:, ::2] = X
    view = wide[:, ::2]
    assert not (view.flags.c_contiguous or view.flags.f_contiguous)
    return view


def _expected(X):
    """(has NaN, has infinity, all 0/1 but NaN) the straightforward way."""
    nan = np.isnan(X)
    values = set(np.unique(X[~nan]).tolist())
    return bool(nan.any()), bool(np.isinf(X).any()), values <= {0, 1}


def _check_scan(X):
    """``scan_data(X)`` gives the straightforward answers, or raises for infinity."""
    has_nan, has_inf, binary = _expected(X)
    if has_inf:
        message = (
            f"Input X contains infinity or a value too large for {np.dtype(X.dtype)!r}."
        )
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            scan_data(X)
        # What validate_data allows then: infinity is not checked at all.
        with config_context(assume_finite=True):
            assert scan_data(X) == (has_nan, binary)
    else:
        assert scan_data(X) == (has_nan, binary)


def _binary(rng, dtype, shape=SHAPE):
    return (rng.random(shape) < 0.5).astype(dtype)


# --------------------------------------------------------- one value placed
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 0.5, 2.0, -1.0])
def test_one_special_value_anywhere(block_entries, dtype, layout, value):
    """One NaN, infinity or other value at every position: first and last rows,
    and both sides of every block boundary."""
    X0 = _binary(np.random.default_rng(0), dtype)
    assert scan_data(_layout(X0, layout)) == (False, True)
    for i, j in np.ndindex(*SHAPE):
        X = X0.copy()
        X[i, j] = value
        _check_scan(_layout(X, layout))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    "first, second",
    [
        (np.nan, np.inf),  # infinity after the NaN was found
        (np.inf, np.nan),
        (0.5, np.nan),  # NaN after the data are known not to be 0/1
        (0.5, np.inf),
        (np.nan, 0.5),
        (2.0, -np.inf),
        (np.inf, -np.inf),
    ],
)
def test_two_special_values_in_any_two_places(
    block_entries, dtype, layout, first, second
):
    """Every ordered pair of positions, so the second value meets each state the
    first one leaves the scan in."""
    X0 = _binary(np.random.default_rng(1), dtype, shape=(4, 3))
    positions = list(np.ndindex(*X0.shape))
    for p in positions:
        for q in positions:
            if p == q:
                continue
            X = X0.copy()
            X[p], X[q] = first, second
            _check_scan(_layout(X, layout))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_sums_that_overflow_are_not_infinity(block_entries, dtype, layout):
    """Finite values whose sum overflows: no error, and NaN still found."""
    big = np.finfo(dtype).max
    X = np.full(SHAPE, big, dtype=dtype)
    X[::2] = -big
    _check_scan(_layout(X, layout))
    X[-1, -1] = np.nan
    _check_scan(_layout(X, layout))
    X[0, 0] = np.inf
    _check_scan(_layout(X, layout))


# ----------------------------------------------------------- random inputs
SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.5, 2.0, -0.0, 1e-300, 1 + 1e-7])


@pytest.mark.parametrize("seed", range(40))
def test_random_inputs(monkeypatch, seed):
    """Random shapes, dtypes, layouts, block sizes and sprinklings of special
    values (none, a few, many)."""
    rng = np.random.default_rng(seed)
    monkeypatch.setattr(
        _validation, "_CHECK_BLOCK_ENTRIES", int(rng.choice([1, 3, 16, 100, 1 << 18]))
    )
    dtype = FLOATS[seed % 2]
    layout = LAYOUTS[(seed // 2) % 3]
    shape = tuple(rng.integers(1, 30, size=2))
    for rate in [0.0, 0.002, 0.02, 0.3]:
        X = _binary(rng, dtype, shape)
        special = rng.random(shape) < rate
        X[special] = rng.choice(SPECIALS, size=special.sum())
        _check_scan(_layout(X, layout))
        # Only NaN and 0/1: missing entries in binary data.
        X = _binary(rng, dtype, shape)
        X[rng.random(shape) < rate] = np.nan
        _check_scan(_layout(X, layout))


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("threshold", [None, 0.0, 0.5, 1.0, -1.0])
def test_fused_scan_then_binarize_is_the_old_pipeline(monkeypatch, seed, threshold):
    """``scan_data`` + ``binarize_data(is_binary=...)`` returns what
    ``has_missing`` + ``binarize_data`` returned: the same object, or equal
    values of the same dtype, or the same error."""
    rng = np.random.default_rng(seed)
    monkeypatch.setattr(_validation, "_CHECK_BLOCK_ENTRIES", int(rng.integers(1, 50)))
    dtype = [np.float32, np.float64, np.uint8, np.int16, bool][seed % 5]
    shape = tuple(rng.integers(1, 20, size=2))
    X = _binary(rng, np.float64, shape)
    if dtype in FLOATS:
        X[rng.random(shape) < 0.1] = np.nan
    if seed % 3 == 0 and dtype is not bool:
        X[rng.random(shape) < 0.1] = 3
    X = _layout(X.astype(dtype), LAYOUTS[seed % 3])

    def old():
        missing = has_missing(X)
        return missing, binarize_data(X, threshold, missing)

    def new():
        missing, is_binary = scan_data(X)
        return missing, binarize_data(X, threshold, missing, is_binary=is_binary)

    try:
        old_missing, old_out = old()
    except ValueError as exc:
        with pytest.raises(ValueError, match=f"^{re.escape(str(exc))}$"):
            new()
        return
    new_missing, new_out = new()
    assert new_missing == old_missing
    assert (new_out is X) == (old_out is X)
    assert new_out.dtype == old_out.dtype
    assert_array_equal(new_out, old_out)


# ------------------------------------------------------------------ sparse
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_sparse_values_are_what_is_checked(fmt, dtype):
    X = sp.random(30, 8, density=0.3, format=fmt, dtype=dtype, random_state=0)
    X.data[:] = 1
    assert scan_data(X) == (False, True)
    X.data[3] = 0.5
    assert scan_data(X) == (False, False)
    X.data[-1] = np.nan
    with pytest.raises(ValueError, match="Sparse input with NaN"):
        scan_data(X)
    # Infinity is reported first, as validate_data did before the NaN check.
    X.data[0] = -np.inf
    with pytest.raises(ValueError, match=r"Input X contains infinity.*float"):
        scan_data(X)
    with (
        config_context(assume_finite=True),
        pytest.raises(ValueError, match="Sparse input with NaN"),
    ):
        scan_data(X)
    empty = sp.csr_matrix((4, 3), dtype=dtype)
    assert scan_data(empty) == (False, True)


def test_sparse_integer_data():
    X = sp.csr_matrix(np.array([[0, 1], [1, 0]], dtype=np.int64))
    assert scan_data(X) == (False, True)
    X.data[0] = -1
    assert scan_data(X) == (False, False)


# ---------------------------------------------------------------- integers
@pytest.mark.parametrize(
    "dtype", [np.uint8, np.int8, np.int16, np.uint32, np.int64, ">i4", "<u2", bool]
)
def test_integers_need_no_finiteness_check(dtype):
    """0/1 or not, with negative values read as such (not as large unsigned)."""
    X = np.array([[0, 1, 1], [1, 0, 0]], dtype=dtype)
    assert scan_data(X) == (False, True)
    assert scan_data(np.asfortranarray(X)) == (False, True)
    assert scan_data(X[:, ::2]) == (False, True)
    if np.dtype(dtype) == bool:
        return
    Y = X.copy()
    Y[1, 2] = 2
    assert scan_data(Y) == (False, False)
    if np.dtype(dtype).kind == "i":
        Y[1, 2] = -1
        assert scan_data(Y) == (False, False)
        Y[1, 2] = np.iinfo(dtype).min
        assert scan_data(Y) == (False, False)


def _peak_bytes(function, *args, **kwargs):
    """Peak bytes traced (numpy buffers included) while ``function`` runs."""
    tracemalloc.start()
    try:
        function(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, bool])
def test_integer_input_is_never_converted_to_float(dtype):
    rng = np.random.default_rng(0)
    X = (rng.random((20_000, 50)) < 0.3).astype(dtype)
    float_copy = X.size * 4  # even a float32 copy is that large
    model = BernoulliMixtureEM(n_components=2)
    assert _peak_bytes(model._prepare_data, X, reset=True) < float_copy / 4
    data = model._prepare_data(X, reset=True)
    assert data.X is X
    if dtype is not bool:
        # Counts, thresholded: only the uint8 result is allocated.
        X = X * 3
        model.set_params(binarize=1.5)
        assert _peak_bytes(model._prepare_data, X, reset=True) < float_copy / 2
        data = model._prepare_data(X, reset=True)
        assert data.X.dtype == np.uint8
        assert_array_equal(data.X, X > 1.5)


# ------------------------------------------------------------ no copies
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("missing", [False, True], ids=["complete", "missing"])
def test_binary_float_data_are_not_copied(dtype, layout, missing):
    rng = np.random.default_rng(0)
    X = _binary(rng, dtype, (3000, 40))
    if missing:
        X[rng.random(X.shape) < 0.05] = np.nan
    X = _layout(X, layout)
    data = BernoulliMixtureEM(n_components=2)._prepare_data(X, reset=True)
    assert data.X is X
    assert np.shares_memory(data.X, X)
    assert data.encoding.missing == missing


@pytest.mark.parametrize("layout", LAYOUTS)
def test_scan_allocates_no_array_the_size_of_x(layout):
    """Scratch buffers of one block, reused: no (n, d) temporaries."""
    rng = np.random.default_rng(0)
    X = _binary(rng, np.float64, (20_000, 100))  # 16 MB
    X[-1, -1] = np.nan  # found in the last block
    model = BernoulliMixtureEM(n_components=2)
    assert _peak_bytes(model._prepare_data, _layout(X, layout), reset=True) < 2**21
    # Not 0/1: every check on every block (binarising would copy).
    X[-1, 0] = 0.5
    assert _peak_bytes(scan_data, _layout(X, layout)) < 2**21


# ------------------------------------------------- through the estimator
@pytest.mark.parametrize("value", [np.inf, -np.inf])
@pytest.mark.parametrize("dtype", FLOATS)
def test_estimator_still_rejects_infinity(value, dtype):
    X = np.array([[0, 1], [1, 0], [1, 1]], dtype=dtype)
    X[2, 1] = value
    model = BernoulliMixtureEM(n_components=2)
    message = re.escape(
        f"Input X contains infinity or a value too large for {X.dtype!r}"
    )
    with pytest.raises(ValueError, match=message):
        model.fit(X)
    assert not hasattr(model, "n_features_in_")
    with pytest.raises(ValueError, match=message):
        model.fit(sp.csr_matrix(X))
    model.fit(np.nan_to_num(X, posinf=1, neginf=0))
    with pytest.raises(ValueError, match=message):
        model.predict(X)


def test_estimator_under_assume_finite_binarizes_infinity():
    """As before: scikit-learn skips the check, and the threshold maps +inf to 1."""
    X = np.array([[0, 1], [1, 0], [np.inf, -np.inf]])
    with config_context(assume_finite=True):
        data = BernoulliMixtureEM(n_components=2)._prepare_data(X, reset=True)
    assert_array_equal(data.X, [[0, 1], [1, 0], [1, 0]])
    assert not data.encoding.missing


def test_estimator_still_validates_with_scikit_learn():
    """Feature names, n_features_in_ and the checks of validate_data remain."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [0.0, 1.0, 1.0], "b": [1.0, np.nan, 0.0]})
    model = BernoulliMixtureEM(n_components=2, random_state=0).fit(frame)
    frame.loc[2, "a"] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        model.predict(frame)
    assert list(model.feature_names_in_) == ["a", "b"]
    assert model.n_features_in_ == 2
    with pytest.raises(ValueError, match="0 sample"):
        model.predict(frame.iloc[:0])
    with pytest.raises(ValueError, match="could not convert"):
        model.predict(frame.astype(str).replace("1.0", "yes"))
