"""
=====================================================
Latent class analysis of pathologists' ratings
=====================================================

Seven pathologists (A to G) rated 118 slides of the uterine cervix as
carcinoma (1) or not (0) (Agresti, 2002, Table 13.1). Latent class analysis
explains the ratings by a few unobserved classes of slides, within which the
pathologists rate independently. The data ship with skcoinmix as a table of
the 20 distinct response patterns with their counts, fitted with the counts
as ``sample_weight``.

:func:`~skcoinmix.fit_report` prints what poLCA and Mplus print; see
:doc:`/lca` for how to read it.
"""

import matplotlib.pyplot as plt
import numpy as np

from skcoinmix import BernoulliMixtureEM, fit_report
from skcoinmix.datasets import load_lca_example

patterns, counts = load_lca_example("carcinoma", as_patterns=True)
items = list("ABCDEFG")
print(
    f"{patterns.shape[0]} patterns of {patterns.shape[1]} ratings, {counts.sum()} slides"
)

# %%
# One to four classes
# -------------------
#
# Each model is fitted from ten random starts (latent class likelihoods have
# local maxima) with a tight tolerance. The published maximum
# log-likelihoods are -317.2568 (2 classes), -293.705 (3) and -289.2858 (4).

reports = {}
for n_classes in range(1, 5):
    est = BernoulliMixtureEM(
        n_classes,
        init_params="random",
        n_init=10,
        tol=1e-8,
        max_iter=5000,
        random_state=0,
    ).fit(patterns, sample_weight=counts)
    reports[n_classes] = (est, fit_report(est, patterns, sample_weight=counts))
    r = reports[n_classes][1]
    print(
        f"K={n_classes}  LL={r.log_likelihood:9.4f}  BIC={r.bic:7.2f}  "
        f"G2={r.g_squared:6.2f} (df={r.df})"
    )

# %%
# The report of the three-class model
# -----------------------------------
#
# BIC is lowest for three classes, Agresti's choice. The items are numbered
# in the report because the patterns are a numpy array; pass a
# :class:`pandas.DataFrame` (``as_frame=True``) to see the pathologists'
# letters instead.

est, report = reports[3]
print(report)

# %%
# Item-response probabilities per class
# -------------------------------------
#
# ``means_[k, j]`` is the probability that pathologist ``j`` rates a slide of
# class ``k`` as carcinoma. Classes are ordered here by their mean
# probability; their numbers in the fit are arbitrary.

order = np.argsort(est.means_.mean(axis=1))
fig, ax = plt.subplots(figsize=(8.5, 3.8))
for rank, k in enumerate(order):
    ax.plot(
        items,
        est.means_[k],
        "o-",
        label=f"class {rank + 1} ({est.weights_[k]:.0%} of slides)",
    )
ax.set_ylim(-0.03, 1.03)
ax.set_xlabel("pathologist")
ax.set_ylabel("Pr(rating = carcinoma | class)")
ax.set_title("Three latent classes of slides")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
fig.tight_layout()

# %%
# The classes read as "clearly negative", "clearly positive" and a class of
# slides on which the pathologists disagree: B rates them all carcinoma, E
# and G most of them, A about half, and C, D and F almost none.
#
# Posterior class membership
# --------------------------
#
# ``predict_proba`` gives each pattern's class probabilities; the relative
# entropy of the report summarises how certain they are.

proba = est.predict_proba(patterns)[:, order]
fig, ax = plt.subplots(figsize=(7, 3.2))
bottom = np.zeros(len(patterns))
for rank in range(3):
    ax.bar(
        range(len(patterns)), proba[:, rank], bottom=bottom, label=f"class {rank + 1}"
    )
    bottom += proba[:, rank]
ax.set_xticks(range(len(patterns)))
ax.set_xticklabels(
    ["".join(map(str, row)) for row in patterns], rotation=90, fontsize=7
)
ax.set_xlabel("response pattern (A..G)")
ax.set_ylabel("posterior probability")
ax.set_title(f"Posteriors by pattern (relative entropy {report.relative_entropy:.2f})")
ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Reference: A. Agresti, *Categorical Data Analysis*, 2nd ed., Wiley (2002),
# section 13.2.
