"""
=====================================================
The two-coin example: EM's path on the likelihood
=====================================================

Do & Batzoglou (2008) toss two coins, A and B, in five sets of ten tosses;
each set uses one coin, and which one is hidden. EM estimates both coins'
probabilities of heads, θA and θB, from the tosses alone.

With ``tie_features=True`` every toss of a set shares one probability: a
mixture of binomials. ``fit_weights=False`` keeps each coin's chance of being
picked at 1/2, as in the paper, and ``means_init`` starts EM at the paper's
(0.60, 0.50). Fitting with ``warm_start=True`` and ``max_iter=1`` runs one EM
update per call, which records EM's path.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

from skcoinmix import BernoulliMixtureEM, datasets

X, coins = datasets.load_coin_example(return_coins=True)
print("heads in each set:", X.sum(axis=1))
print("coins (hidden to EM):", np.array(["A", "B"])[coins])

# %%
# One EM update per call
# ----------------------
#
# Each ``fit`` of a warm-started estimator continues from the fitted
# parameters; with ``max_iter=1`` it stops after one update, so every call
# raises a :class:`~sklearn.exceptions.ConvergenceWarning`, silenced here.

est = BernoulliMixtureEM(
    n_components=2,
    tie_features=True,
    fit_weights=False,
    means_init=[[0.60], [0.50]],
    max_iter=1,
    warm_start=True,
)
path = [(0.60, 0.50)]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for _ in range(10):
        est.fit(X)
        path.append(tuple(est.means_[:, 0]))
path = np.array(path)
for step in (0, 1, 10):
    print(
        f"after {step:2d} updates: θA = {path[step, 0]:.2f}, θB = {path[step, 1]:.2f}"
    )

# %%
# The paper's Figure 1: one update gives (0.71, 0.58) and ten give
# (0.80, 0.52). A single fit to convergence ends at the same point.

full = BernoulliMixtureEM(
    n_components=2,
    tie_features=True,
    fit_weights=False,
    means_init=[[0.60], [0.50]],
    tol=1e-10,
    max_iter=1000,
).fit(X)
print("converged:", full.means_[:, 0].round(4), "after", full.n_iter_, "updates")

# %%
# The log-likelihood surface
# --------------------------
#
# With the mixing weights fixed at 1/2, the log-likelihood is a function of
# (θA, θB) alone: the sum over the sets of
# ``log(½ θA^h (1 - θA)^t + ½ θB^h (1 - θB)^t)``, with ``h`` heads and ``t``
# tails. It is symmetric about the diagonal θA = θB (swapping the coins' names
# changes nothing), so it has two equal maxima; EM climbs to the one on the
# side where it starts.

heads = X.sum(axis=1)
tails = X.shape[1] - heads
grid = np.linspace(0.01, 0.99, 199)
theta_a, theta_b = np.meshgrid(grid, grid, indexing="xy")


def log_binomial_kernel(theta):
    """log(θ^h (1 - θ)^t) for every grid point (axis 0) and set (axis 1)."""
    theta = theta.reshape(-1, 1)
    return heads * np.log(theta) + tails * np.log1p(-theta)


log_lik = logsumexp(
    np.stack([log_binomial_kernel(theta_a), log_binomial_kernel(theta_b)])
    + np.log(0.5),
    axis=0,
).sum(axis=1)
log_lik = log_lik.reshape(theta_a.shape)

fig, ax = plt.subplots(figsize=(6, 5.2))
levels = np.linspace(log_lik.max() - 12, log_lik.max(), 25)
contour = ax.contourf(
    theta_a, theta_b, log_lik, levels=levels, cmap="viridis", extend="min"
)
fig.colorbar(contour, ax=ax, label="log-likelihood")
ax.plot(path[:, 0], path[:, 1], "o-", color="white", markersize=4, label="EM updates")
ax.plot(*path[0], "s", color="orange", markersize=8, label="start (0.60, 0.50)")
ax.plot(*full.means_[:, 0], "*", color="red", markersize=14, label="maximum")
ax.plot([0, 1], [0, 1], ":", color="grey", linewidth=1)
ax.set_xlabel("θA (probability of heads, coin A)")
ax.set_ylabel("θB (probability of heads, coin B)")
ax.set_title("EM on the two-coin example")
ax.legend(loc="upper left")
ax.set_xlim(0.3, 1.0)
ax.set_ylim(0.2, 0.9)
fig.tight_layout()

# %%
# The log-likelihood never decreases
# ----------------------------------
#
# ``lower_bounds_`` holds the objective at each iteration of the last fit;
# here every warm-started fit made one update, so the path is recomputed
# from the recorded parameters with ``score`` instead: the mean
# log-likelihood per set.

scores = []
for theta in path:
    probe = BernoulliMixtureEM(
        n_components=2,
        tie_features=True,
        fit_weights=False,
        means_init=theta.reshape(2, 1),
        max_iter=0,
    ).fit(X)
    scores.append(probe.score(X) * X.shape[0])

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(range(len(scores)), scores, "o-")
ax.set_xlabel("EM update")
ax.set_ylabel("log-likelihood")
ax.set_title("Each EM update increases the log-likelihood")
fig.tight_layout()
plt.show()

# %%
# Reference: C. B. Do and S. Batzoglou, "What is the expectation
# maximization algorithm?", *Nature Biotechnology* 26, 897-899 (2008).
