"""
=====================================================
Choosing the number of components
=====================================================

Data drawn from a mixture of four components are fitted with
``n_components`` from 1 to 8, and ``K`` is chosen three ways:

- the Bayesian information criterion, :meth:`~skcoinmix.BernoulliMixtureEM.bic`,
  on the training data (lower is better), and the AIC;
- the log-likelihood of held-out data, :meth:`~skcoinmix.BernoulliMixtureEM.score`
  (higher is better);
- the cross-validated ``score``, by
  :class:`~sklearn.model_selection.GridSearchCV`, which needs no extra code
  because ``score`` is the estimator's default scorer.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, train_test_split

from skcoinmix import BernoulliMixtureEM
from skcoinmix.datasets import make_bernoulli_mixture

rng = np.random.RandomState(0)
true_means = rng.uniform(0.05, 0.95, size=(4, 30))
X, y = make_bernoulli_mixture(
    1200, weights=[0.4, 0.3, 0.2, 0.1], means=true_means, random_state=0
)
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)

# %%
# BIC, AIC and held-out log-likelihood
# ------------------------------------

ks = np.arange(1, 9)
bic, aic, held_out = [], [], []
for k in ks:
    est = BernoulliMixtureEM(n_components=k, n_init=3, random_state=0).fit(X_train)
    bic.append(est.bic(X_train))
    aic.append(est.aic(X_train))
    held_out.append(est.score(X_test))
print("lowest BIC at K =", ks[np.argmin(bic)])
print("lowest AIC at K =", ks[np.argmin(aic)])
print("highest held-out log-likelihood at K =", ks[np.argmax(held_out)])

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
ax1.plot(ks, bic, "o-", label="BIC")
ax1.plot(ks, aic, "s--", label="AIC")
ax1.axvline(4, color="grey", linestyle=":", label="true K")
ax1.set_xlabel("n_components")
ax1.set_ylabel("criterion on the training data")
ax1.set_title("Information criteria (lower is better)")
ax1.legend()
ax2.plot(ks, held_out, "o-", color="C2")
ax2.axvline(4, color="grey", linestyle=":")
ax2.set_xlabel("n_components")
ax2.set_ylabel("mean log-likelihood per row")
ax2.set_title("Held-out data (higher is better)")
fig.tight_layout()

# %%
# Cross-validated log-likelihood with GridSearchCV
# ------------------------------------------------
#
# ``GridSearchCV`` scores each candidate by ``score``, the mean held-out
# log-likelihood per row, on each of five folds.

search = GridSearchCV(
    BernoulliMixtureEM(random_state=0), {"n_components": ks}, cv=5
).fit(X)
print("best n_components:", int(search.best_params_["n_components"]))

mean = search.cv_results_["mean_test_score"]
std = search.cv_results_["std_test_score"]
fig, ax = plt.subplots(figsize=(5, 3.4))
ax.errorbar(ks, mean, yerr=std, fmt="o-", capsize=3)
ax.axvline(4, color="grey", linestyle=":", label="true K")
ax.set_xlabel("n_components")
ax.set_ylabel("mean log-likelihood per row")
ax.set_title("5-fold cross-validated score")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# Beyond the true ``K`` the held-out log-likelihood stops improving (extra
# components only fit noise), while the training log-likelihood would keep
# increasing: that is why ``K`` is never chosen on the training
# log-likelihood alone. BIC penalises each parameter by ``log N`` and tends
# to choose smaller models than AIC.
