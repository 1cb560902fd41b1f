"""
==============================================================
Choosing the number of classes and checking local independence
==============================================================

The Stouffer-Toby role-conflict data (Goodman, 1974): 216 respondents
answered four items about whether they would favour a friend over the rules
(1) or not (0). A latent class model explains the associations between the
items by classes within which the items are independent (local
independence). This example fits one to four classes, plots their
information criteria, checks local independence with LatentGOLD's bivariate
residuals, and draws the profile plot of the chosen model, with
:mod:`skcoinmix.inference`. See :doc:`/lca` for the statistics.
"""

import matplotlib.pyplot as plt
import numpy as np

from skcoinmix import BernoulliMixtureEM, fit_report
from skcoinmix.datasets import load_lca_example
from skcoinmix.inference import (
    bivariate_residuals,
    pattern_residuals,
    plot_information_criteria,
    plot_profile,
)

# A data frame of the 16 response patterns (items A to D) and their counts,
# fitted with the counts as sample_weight.
patterns, counts = load_lca_example("stouffer_toby", as_patterns=True, as_frame=True)
items = list(patterns.columns)

# %%
# Information criteria by number of classes
# -----------------------------------------
#
# Each number of classes is fitted from ten random starts (the likelihood of
# a latent class model has local maxima), with a tight tolerance. Every
# criterion is ``-2 log L`` plus a penalty; smaller is better. With four
# binary items, three classes already have 14 free parameters for 15
# degrees of freedom of the table, and four classes more parameters than
# cells.

fits = [
    BernoulliMixtureEM(
        K, init_params="random", n_init=10, tol=1e-8, max_iter=5000, random_state=0
    ).fit(patterns, sample_weight=counts)
    for K in range(1, 5)
]
ax = plot_information_criteria(
    fits,
    patterns,
    sample_weight=counts,
    criteria=("aic", "bic", "sabic", "caic", "icl_bic"),
)
ax.set_title("Stouffer-Toby: information criteria by number of classes")
plt.tight_layout()

for est in fits:
    r = fit_report(est, patterns, sample_weight=counts)
    print(
        f"K={r.n_components}  LL={r.log_likelihood:9.4f}  BIC={r.bic:8.2f}  "
        f"CAIC={r.caic:8.2f}  ICL-BIC={r.icl_bic:8.2f}"
    )

# %%
# BIC and CAIC choose two classes; AIC and the sample-size adjusted BIC,
# which penalise less, hardly change beyond two. ICL-BIC adds twice the
# entropy of the classification, so it prefers classes that classify the
# respondents with certainty: it chooses one class here, since two classes
# assign respondents with some uncertainty (relative entropy 0.72).
#
# Local independence: bivariate residuals
# ---------------------------------------
#
# For each pair of items, the Pearson statistic of its observed 2 x 2 table
# against the table the model implies, per degree of freedom (as LatentGOLD
# prints it). One class (the independence model) leaves every pair
# associated; two classes explain the associations.


def show(matrix):
    print("     " + "".join(f"{item:>8}" for item in items))
    for item, row in zip(items, matrix, strict=True):
        cells = "".join("       -" if np.isnan(v) else f"{v:8.2f}" for v in row)
        print(f"  {item}  {cells}")


for est in fits[:2]:
    print(f"\n{est.n_components} class(es):")
    show(bivariate_residuals(est, patterns, sample_weight=counts))

# %%
# Values above 3.84 (the 95% point of a chi-square with one degree of
# freedom) are commonly flagged, but this is a rule of thumb: the statistic
# is not chi-square distributed under the fitted model (Oberski, van
# Kollenburg and Vermunt, 2013). With two classes the largest residual, for
# items A and B, is about 1.2: nothing suggests local dependence.
#
# The response patterns
# ---------------------
#
# The standardised residuals ``(observed - expected) / sqrt(expected)`` of
# the response patterns, largest first: under one class, the patterns of all
# 1s and all 0s are far more frequent than independence allows.

for est in fits[:2]:
    top = pattern_residuals(est, patterns, sample_weight=counts)
    print(f"\n{est.n_components} class(es): pattern  observed  expected  residual")
    for i in range(5):
        pattern = "".join(str(answer) for answer in top.patterns[i])
        print(
            f"  {pattern:>7}  {top.observed[i]:8.0f}  {top.expected[i]:8.2f}  "
            f"{top.residual[i]:8.2f}"
        )

# %%
# The profile plot of two classes
# -------------------------------
#
# The probability of a "particularistic" answer (1) to each item in each
# class, classes ordered by decreasing size (``class_order="size"``, the
# same plot whatever labels the fit gave the classes). Standard errors, when
# available, are drawn as error bars with ``se=``.

ax = plot_profile(fits[1], class_order="size")
ax.set_title("Stouffer-Toby, two classes")
plt.tight_layout()
plt.show()

# %%
# The report of :func:`~skcoinmix.fit_report` shows the same in text, with
# the largest bivariate residuals at the end.

print(fit_report(fits[1], patterns, sample_weight=counts, class_order="size"))

# %%
# References: L. A. Goodman, "Exploratory latent structure analysis using
# both identifiable and unidentifiable models", Biometrika 61, 215-231
# (1974); J. K. Vermunt and J. Magidson, *Technical Guide for Latent GOLD
# 5.0* (2013); D. L. Oberski, G. H. van Kollenburg and J. K. Vermunt, "A
# Monte Carlo evaluation of three methods to detect local dependence in
# binary data latent class models", Advances in Data Analysis and
# Classification 7, 267-279 (2013).
