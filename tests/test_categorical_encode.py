"""OneHotEncoding.encode: the one-hot rows of category codes, block by block.

Oracle: each item's one-hot block written out with ``np.eye`` (a missing
code, -1, is an all-zero block). The encoding must produce exactly these
0/1 entries, whatever the buffer held before and whatever the block size,
so that the kernels' products, and so every fit, are bitwise the same as
with any other way of writing the same matrix.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import CategoricalMixtureEM, _categorical
from skcoinmix._categorical import OneHotEncoding, ShiftedOneHotEncoding, item_starts


def _reference_one_hot(codes, sizes):
    """(n, sum(sizes)) float64: np.eye rows per item, zeros where a code is -1."""
    blocks = []
    for j, size in enumerate(sizes):
        table = np.vstack([np.eye(size), np.zeros((1, size))])  # row -1: zeros
        blocks.append(table[codes[:, j]])
    return np.hstack(blocks)


def _codes(rng, n_rows, sizes, missing, dtype):
    codes = np.column_stack([rng.integers(size, size=n_rows) for size in sizes])
    codes[rng.uniform(size=codes.shape) < missing] = -1
    return codes.astype(dtype)


def _encoding(sizes):
    return OneHotEncoding(tuple(np.arange(size) for size in sizes))


@pytest.mark.parametrize("missing", [0.0, 0.2])
@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_encode_equals_the_eye_rows_of_each_item(rng, missing, dtype):
    sizes = tuple(rng.integers(1, 7, size=rng.integers(1, 9)))
    codes = _codes(rng, 300, sizes, missing, dtype)
    encoding = _encoding(sizes)
    want = _reference_one_hot(codes, sizes)
    # A dirty buffer, as the kernels reuse it from block to block; blocks of
    # several sizes, as the last block of a kernel is shorter.
    buffer = np.full((128, sum(sizes)), np.nan)
    for start, stop in [(0, 128), (128, 256), (256, 300), (0, 1), (5, 5)]:
        (got,) = encoding.encode(codes[start:stop], [buffer[: stop - start]])
        assert got.shape == (stop - start, sum(sizes))
        assert_array_equal(got, want[start:stop])


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint8, np.uint16])
def test_shifted_integers_encode_as_their_codes(rng, dtype):
    # Stored integers first_j..first_j + C_j - 1 are read without a copy:
    # the shift by first_j is folded into the cached item starts, negative
    # (first_j above the item's first column) or not.
    sizes = (3, 1, 5, 2)
    low = 0 if np.dtype(dtype).kind == "u" else -4
    firsts = tuple(int(first) for first in rng.integers(low, 9, size=len(sizes)))
    codes = _codes(rng, 300, sizes, 0.0, np.int64)
    stored = (codes + np.array(firsts)).astype(dtype)
    categories = tuple(
        np.arange(f, f + size) for f, size in zip(firsts, sizes, strict=True)
    )
    encoding = ShiftedOneHotEncoding(categories, firsts)
    assert not encoding.may_miss(stored)
    buffer = np.full((300, sum(sizes)), np.nan)
    for start, stop in [(0, 128), (128, 300), (3, 4)]:
        (got,) = encoding.encode(stored[start:stop], [buffer[: stop - start]])
        assert_array_equal(got, _reference_one_hot(codes[start:stop], sizes))


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8])
def test_unsigned_codes_are_never_missing(rng, dtype):
    # Only signed codes can hold -1: unsigned and bool blocks skip the test.
    sizes = (2, 2, 2)
    codes = _codes(rng, 50, sizes, 0.0, dtype)
    encoding = _encoding(sizes)
    assert not encoding.may_miss(codes)
    assert encoding.may_miss(codes.astype(np.int8))
    (got,) = encoding.encode(codes, [np.empty((50, 6))])
    assert_array_equal(got, _reference_one_hot(codes.astype(np.intp), sizes))


def test_item_starts_are_read_only_and_the_same_above_the_cache_limit(rng, monkeypatch):
    offsets = (0, 3, 5, 9)
    cached = item_starts(40, 12, offsets)
    # The cached array is shared between calls: nobody may write into it.
    assert not cached.flags.writeable
    assert_array_equal(cached, np.arange(40)[:, None] * 12 + np.array(offsets))
    monkeypatch.setattr(_categorical, "CACHED_STARTS_ENTRIES", 0)
    uncached = item_starts(40, 12, offsets)
    assert uncached.flags.writeable
    assert_array_equal(uncached, cached)
    # Blocks larger than the cache limit encode the same.
    sizes = (3, 2, 4, 3)
    codes = _codes(rng, 50, sizes, 0.1, np.int8)
    (got,) = _encoding(sizes).encode(codes, [np.empty((50, 12))])
    assert_array_equal(got, _reference_one_hot(codes, sizes))


def test_a_fit_is_bitwise_that_of_the_reference_encoding(rng, monkeypatch):
    sizes = (3, 2, 5, 4)
    codes = _codes(rng, 400, sizes, 0.1, np.int64)
    codes[: max(sizes)] = np.arange(max(sizes))[:, None] % np.array(sizes)  # all seen
    X = np.where(codes >= 0, codes, np.nan)  # NaN: a missing answer
    start = [rng.dirichlet(np.ones(size), size=3) for size in sizes]

    def fit():
        est = CategoricalMixtureEM(3, probs_init=start, max_iter=5, tol=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return est.fit(X)

    ours = fit()

    def reference_encode(self, block, buffers):
        (out,) = buffers
        out[...] = _reference_one_hot(block, [len(c) for c in self.categories])
        return [out]

    monkeypatch.setattr(OneHotEncoding, "encode", reference_encode)
    reference = fit()
    # The same 0/1 matrices go into the same products: no tolerance.
    assert_array_equal(ours.lower_bounds_, reference.lower_bounds_)
    assert_array_equal(ours.weights_, reference.weights_)
    for got, want in zip(ours.probs_, reference.probs_, strict=True):
        assert_array_equal(got, want)
