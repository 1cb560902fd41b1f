"""
=====================================================
Binarised digits: component means as images
=====================================================

The 1,797 handwritten digits of :func:`sklearn.datasets.load_digits` are
8 x 8 images with grey levels 0 to 16. ``binarize=8`` turns each pixel into
"ink" (above 8) or "no ink", and a mixture of 10 multivariate Bernoulli
distributions is fitted without the labels. Each component's ``means_`` row
is the probability of ink at each pixel: shown as an image, it is the
prototype of one cluster of digits.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import adjusted_rand_score

from skcoinmix import BernoulliMixtureEM

digits = load_digits()
X, y = digits.data, digits.target

est = BernoulliMixtureEM(n_components=10, binarize=8, n_init=3, random_state=0)
labels = est.fit_predict(X)
print(f"converged: {est.converged_} after {est.n_iter_} iterations")
print(f"mean log-likelihood per image: {est.score(X):.2f}")
print(
    f"adjusted Rand index against the true digits: {adjusted_rand_score(y, labels):.2f}"
)

# %%
# The learned components
# ----------------------
#
# Each panel is one component: the probability of ink at every pixel,
# titled with its mixing weight and the digit most common among the images
# it claims. Component numbers are arbitrary (see "Label switching" in the
# user guide).

order = np.argsort(-est.weights_)
fig, axes = plt.subplots(2, 5, figsize=(9, 4.2))
for ax, k in zip(axes.ravel(), order, strict=True):
    members = y[labels == k]
    majority = np.bincount(members, minlength=10).argmax() if members.size else -1
    ax.imshow(est.means_[k].reshape(8, 8), cmap="Greys", vmin=0, vmax=1)
    ax.set_title(f"w={est.weights_[k]:.2f}, mostly {majority}", fontsize=9)
    ax.set_axis_off()
fig.suptitle("Component means: Pr(ink) at each pixel")
fig.tight_layout()

# %%
# Images drawn from the fitted mixture
# ------------------------------------
#
# :meth:`~skcoinmix.BernoulliMixtureEM.sample` draws binary images: a
# component by its weight, then every pixel independently. The pixels of a
# component are independent given the component, which is why the samples
# are noisier than real digits.

samples, components = est.sample(10)
fig, axes = plt.subplots(1, 10, figsize=(9, 1.3))
for ax, image, k in zip(axes, samples, components, strict=True):
    ax.imshow(image.reshape(8, 8), cmap="Greys", vmin=0, vmax=1)
    ax.set_title(f"comp. {k}", fontsize=8)
    ax.set_axis_off()
fig.tight_layout()
plt.show()
