"""Benchmark data: binary matrices and category codes drawn from a planted mixture, and fixed starts.

Rows are drawn in blocks of at most :data:`BLOCK_ENTRIES` entries straight
into a ``uint8`` (or sparse) result, so that generating even 10^9 entries
never makes a float64 copy of the whole matrix and hardly raises the peak
memory of the process above the size of the result.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: Entries drawn per block (16 MB of float32 uniforms).
BLOCK_ENTRIES = 4_000_000


@dataclass(frozen=True)
class Start:
    """A fixed starting point of EM, shared by every contender.

    Attributes
    ----------
    means : ndarray of shape (K, d), (K, 1) or (K, d, C)
        Starting probabilities: of a one, or (categorical) of each of the
        ``C`` categories of each item.
    weights : ndarray of shape (K,)
        Starting mixing weights.
    """

    means: np.ndarray
    weights: np.ndarray

    @property
    def n_components(self):
        return self.weights.shape[0]


def fixed_start(n_components, n_features, seed=1):
    """Probabilities drawn uniformly in (0.25, 0.75), uniform weights."""
    rng = np.random.default_rng(seed)
    means = rng.uniform(0.25, 0.75, size=(n_components, n_features))
    return Start(means, np.full(n_components, 1.0 / n_components))


def random_prototypes(n_components, n_features, low, high, seed=0):
    """Planted component probabilities, uniform in (low, high), float32."""
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, size=(n_components, n_features)).astype(np.float32)


def coin_prototypes(coins, n_tosses):
    """Prototypes of tied features: every toss of coin k has probability coins[k]."""
    coins = np.asarray(coins, dtype=np.float32)
    return np.repeat(coins[:, np.newaxis], n_tosses, axis=1)


def _row_blocks(n_rows, n_features):
    step = max(1, BLOCK_ENTRIES // n_features)
    for start in range(0, n_rows, step):
        yield slice(start, min(n_rows, start + step))


def _draw_rows(rng, prototypes, n_rows):
    labels = rng.integers(prototypes.shape[0], size=n_rows)
    uniforms = rng.random((n_rows, prototypes.shape[1]), dtype=np.float32)
    return uniforms < prototypes[labels]


def planted_dense(prototypes, n_rows, seed=0):
    """Rows of a planted mixture with uniform weights, as a uint8 0/1 matrix.

    Parameters
    ----------
    prototypes : ndarray of shape (K, d)
        Probability of a one for each component and feature.
    n_rows : int

    Returns
    -------
    X : ndarray of shape (n_rows, d), uint8
    """
    rng = np.random.default_rng(seed)
    X = np.empty((n_rows, prototypes.shape[1]), dtype=np.uint8)
    for rows in _row_blocks(n_rows, prototypes.shape[1]):
        X[rows] = _draw_rows(rng, prototypes, rows.stop - rows.start)
    return X


def planted_sparse(prototypes, n_rows, seed=0):
    """Rows of a planted mixture of sparse prototypes, as a CSR float64 matrix."""
    rng = np.random.default_rng(seed)
    blocks = [
        sp.csr_matrix(
            _draw_rows(rng, prototypes, rows.stop - rows.start), dtype=np.float64
        )
        for rows in _row_blocks(n_rows, prototypes.shape[1])
    ]
    return sp.vstack(blocks, format="csr")


def csr_bytes(X):
    """Bytes held by the three arrays of a CSR matrix."""
    return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes


# --------------------------------------------------------------- categorical
def categorical_prototypes(n_components, n_items, n_categories, seed=0):
    """Planted category probabilities: (K, d, C), each (k, j) row Dirichlet(1)."""
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(n_categories), size=(n_components, n_items))


def planted_categorical(prototypes, n_rows, seed=0):
    """Rows of a planted categorical mixture, uniform weights, as uint8 codes.

    Parameters
    ----------
    prototypes : ndarray of shape (K, d, C)
        Probability of each category for each component and item.
    n_rows : int

    Returns
    -------
    codes : ndarray of shape (n_rows, d), uint8
        Category codes ``0..C-1``.
    """
    rng = np.random.default_rng(seed)
    n_components, n_items, n_categories = prototypes.shape
    # Inner boundaries of each (k, j) row's categories on (0, 1): (K, d, C - 1).
    bounds = np.cumsum(prototypes, axis=2)[:, :, :-1].astype(np.float32)
    codes = np.empty((n_rows, n_items), dtype=np.uint8)
    for rows in _row_blocks(n_rows, n_items * n_categories):
        size = rows.stop - rows.start
        labels = rng.integers(n_components, size=size)
        uniforms = rng.random((size, n_items, 1), dtype=np.float32)
        codes[rows] = (uniforms >= bounds[labels]).sum(axis=2)
    return codes


def fixed_categorical_start(n_components, n_items, n_categories, seed=1):
    """Category probabilities near uniform (Dirichlet(20)), uniform weights."""
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(n_categories, 20.0), size=(n_components, n_items))
    return Start(probs, np.full(n_components, 1.0 / n_components))


def one_hot(codes, n_categories):
    """The (n, d C) float64 one-hot matrix of codes ``0..C-1``: the bare products' input."""
    n_rows, n_items = codes.shape
    out = np.zeros((n_rows, n_items * n_categories))
    columns = codes + np.arange(n_items) * n_categories
    np.put_along_axis(out, columns.astype(np.intp), 1.0, axis=1)
    return out
