"""
=====================================================
Sparse data: clustering bags of words
=====================================================

Documents as sets of words are binary vectors with one entry per word of the
vocabulary, nearly all zero. :class:`~skcoinmix.BernoulliMixtureEM` takes
``scipy.sparse`` CSR and CSC matrices as they are: they are never densified,
and each EM iteration costs two sparse matrix products.

The documents here are simulated: three topics, each with its own
vocabulary of frequent words, over a background of rare words.
"""

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp
from sklearn.metrics import adjusted_rand_score

from skcoinmix import BernoulliMixtureEM
from skcoinmix.datasets import make_bernoulli_mixture

topics = {
    "sport": "match goal team league coach season player score win referee",
    "cooking": "oven flour butter recipe bake sugar salt pan dough simmer",
    "finance": "market stock bond rate bank inflation fund equity yield price",
}
topic_words = [words.split() for words in topics.values()]
filler = [f"word{i:03d}" for i in range(970)]
vocabulary = np.array([word for words in topic_words for word in words] + filler)

# Each topic uses its ten words with probability 0.35, every other word
# with probability 0.004.
means = np.full((3, vocabulary.size), 0.004)
for k in range(3):
    means[k, 10 * k : 10 * (k + 1)] = 0.35
X_dense, topic = make_bernoulli_mixture(
    3000, weights=[0.5, 0.3, 0.2], means=means, random_state=0
)
X = sp.csr_matrix(X_dense, dtype=np.float64)
del X_dense
print(
    f"{X.shape[0]} documents, {X.shape[1]} words, {X.nnz} ones ({X.nnz / np.prod(X.shape):.1%})"
)
print(
    f"CSR arrays: {(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 1e6:.2f} MB, "
    f"dense float64: {np.prod(X.shape) * 8 / 1e6:.0f} MB"
)

# %%
# Fitting the sparse matrix
# -------------------------
#
# ``alpha`` smooths the probabilities of words never seen in a component
# (a Beta prior, as in :class:`~sklearn.naive_bayes.BernoulliNB`), so that
# no probability is fitted as exactly 0.

est = BernoulliMixtureEM(n_components=3, alpha=0.5, n_init=3, random_state=0)
labels = est.fit_predict(X)
print(
    f"adjusted Rand index against the true topics: {adjusted_rand_score(topic, labels):.3f}"
)
for k in np.argsort(-est.weights_):
    top = vocabulary[np.argsort(-est.means_[k])[:6]]
    print(f"component {k} (weight {est.weights_[k]:.2f}):", " ".join(top))

# %%
# The component means
# -------------------
#
# The first 60 words of the vocabulary (the 30 topic words, then filler):
# each component puts its mass on one topic's words.

order = np.argsort(-est.weights_)
fig, ax = plt.subplots(figsize=(9, 2.8))
image = ax.imshow(est.means_[order, :60], aspect="auto", cmap="Blues", vmin=0, vmax=0.4)
ax.set_yticks(range(3))
ax.set_yticklabels([f"component {k}" for k in order])
ax.set_xticks(range(0, 60, 2))
ax.set_xticklabels(vocabulary[:60:2], rotation=90, fontsize=7)
ax.set_title("Pr(word in document | component)")
fig.colorbar(image, ax=ax)
fig.tight_layout()
plt.show()

# %%
# The same fit on a dense array gives the same EM updates; only the
# ``"kmeans"`` start may differ (k-means breaks the ties of binary data its
# own way for dense and sparse input). Sparse input cannot hold missing
# entries: NaN is refused, as an implicit zero could not be told from a
# missing answer.
