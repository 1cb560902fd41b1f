"""
=====================================================
Restarts: the log-likelihood history of each start
=====================================================

EM climbs to a local maximum of the likelihood, which depends on where it
starts. ``n_init`` runs EM from several starts and keeps the one with the
best final lower bound; ``lower_bounds_`` holds the history of the kept run
only. To see every run, fit one estimator per seed, as here, on the
binarised digits with random starts.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skcoinmix import BernoulliMixtureEM

X = load_digits().data

histories = []
for seed in range(6):
    est = BernoulliMixtureEM(
        n_components=10,
        binarize=8,
        init_params="random",
        tol=1e-4,
        max_iter=300,
        random_state=seed,
    ).fit(X)
    histories.append(est.lower_bounds_)
    print(
        f"seed {seed}: {est.n_iter_:3d} iterations, final lower bound {est.lower_bound_:.4f}"
    )

# %%
# Each curve is one start; the best is drawn thick. The starts end at
# different local maxima, some after many slow iterations on a plateau.

best = int(np.argmax([history[-1] for history in histories]))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
for seed, history in enumerate(histories):
    width = 2.5 if seed == best else 1
    ax1.plot(
        np.arange(1, len(history) + 1), history, linewidth=width, label=f"seed {seed}"
    )
    ax2.plot(np.arange(1, len(history) + 1), history, linewidth=width)
ax1.set_xlabel("EM iteration")
ax1.set_ylabel("lower bound (mean log-likelihood)")
ax1.set_title("Every start")
ax1.legend(fontsize=7, ncol=2)
final = [history[-1] for history in histories]
ax2.set_ylim(min(final) - 0.3, max(final) + 0.1)
ax2.set_xlabel("EM iteration")
ax2.set_title("Close-up of the final values")
fig.tight_layout()

# %%
# ``n_init`` does this in one estimator
# -------------------------------------
#
# With ``n_init=6`` the seeds of the six starts are drawn from
# ``random_state`` (so they are not the seeds above), the best final lower
# bound wins, and ``lower_bounds_`` is that run's history. ``n_jobs`` runs
# the starts in parallel with the same result.

est = BernoulliMixtureEM(
    n_components=10,
    binarize=8,
    init_params="random",
    n_init=6,
    tol=1e-4,
    max_iter=300,
    random_state=0,
).fit(X)
print(
    f"n_init=6: kept run of {est.n_iter_} iterations, lower bound {est.lower_bound_:.4f}"
)

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(np.arange(1, len(est.lower_bounds_) + 1), est.lower_bounds_)
ax.set_xlabel("EM iteration")
ax.set_ylabel("lower bound")
ax.set_title("lower_bounds_ of the best of 6 starts")
fig.tight_layout()
plt.show()
