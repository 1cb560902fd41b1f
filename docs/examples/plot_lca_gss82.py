"""
=====================================================
Latent class analysis of polytomous survey items
=====================================================

Four items of the 1982 General Social Survey (white respondents; McCutcheon,
1987, Table 3.1, poLCA's ``gss82`` data) describe how 1,202 people saw the
survey itself: its purpose (good / depends / waste of time), its accuracy
(mostly true / not true), whether they understood the questions (good /
fair or poor), and how the interviewer saw their cooperation (interested /
cooperative / impatient or hostile). Two items have three answers, so this
is latent class analysis of *polytomous* items:
:class:`~skcoinmix.CategoricalMixtureEM`.

The 1,202 answers form 33 distinct response patterns, written out below as
McCutcheon's table of counts and fitted with the counts as
``sample_weight``: the same model as the rows, and far faster.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skcoinmix import CategoricalMixtureEM, fit_report

# Each item's answers, in the survey's order; the table's codes 1..C index them.
answers = {
    "PURPOSE": ["good", "depends", "waste of time"],
    "ACCURACY": ["mostly true", "not true"],
    "UNDERSTA": ["good", "fair, poor"],
    "COOPERAT": ["interested", "cooperative", "impatient, hostile"],
}
# PURPOSE ACCURACY UNDERSTA COOPERAT count (McCutcheon 1987, Table 3.1)
table = """
1 1 1 1 419   1 1 1 2 35   1 1 1 3 2   1 1 2 1 71   1 1 2 2 25   1 1 2 3 5
1 2 1 1 270   1 2 1 2 25   1 2 1 3 4   1 2 2 1 42   1 2 2 2 16   1 2 2 3 5
2 1 1 1 23    2 1 1 2 4    2 1 1 3 1   2 1 2 1 6    2 1 2 2 2
2 2 1 1 43    2 2 1 2 9    2 2 1 3 2   2 2 2 1 9    2 2 2 2 3    2 2 2 3 2
3 1 1 1 26    3 1 1 2 3    3 1 2 1 1   3 1 2 2 2
3 2 1 1 85    3 2 1 2 23   3 2 1 3 6   3 2 2 1 13   3 2 2 2 12   3 2 2 3 8
"""
cells = np.array(table.split(), dtype=int).reshape(-1, 5)
patterns = pd.DataFrame(cells[:, :4], columns=list(answers))
counts = cells[:, 4].astype(float)
print(f"{len(patterns)} patterns, {counts.sum():.0f} respondents")
print(patterns.head())

# %%
# Three classes, many random starts
# ---------------------------------
#
# The items are fitted as poLCA codes them, 1..C (``categories_`` holds the
# codes; string answers would do as well, sorted alphabetically). The
# three-class likelihood has several local maxima (poLCA's manual lists five), so EM runs from 20 random
# starts with poLCA's tolerance, 1e-10 on the total log-likelihood
# (``tol=1e-10 / N`` on the mean), and the best is kept: poLCA's published
# maximum is -2754.545.

N = counts.sum()
est = CategoricalMixtureEM(
    3,
    init_params="random",
    n_init=20,
    tol=1e-10 / N,
    max_iter=20_000,
    random_state=0,
).fit(patterns, sample_weight=counts)
print(f"maximum log-likelihood: {est.score(patterns, sample_weight=counts) * N:.3f}")

# %%
# Each start separately shows the local maxima it can end in:

maxima = []
for seed in range(10):
    single = CategoricalMixtureEM(
        3,
        init_params="random",
        tol=1e-10 / N,
        max_iter=20_000,
        random_state=seed,
    ).fit(patterns, sample_weight=counts)
    maxima.append(round(float(single.score(patterns, sample_weight=counts) * N), 3))
print("log-likelihood reached by 10 single starts:", sorted(maxima, reverse=True))

# %%
# The report prints each item's probabilities answer by answer, and G² and
# X² against the 3 x 2 x 2 x 3 = 36 cells of the table.

report = fit_report(est, patterns, sample_weight=counts)
print(report)

# %%
# Item-response probabilities of the three classes
# -------------------------------------------------
#
# ``probs_[j][k, c]`` is the probability that a respondent of class ``k``
# gives answer ``categories_[j][c]`` to item ``j``. The classes are ordered
# here by their size; their numbers in the fit are arbitrary.

order = np.argsort(est.weights_)[::-1]
fig, axes = plt.subplots(1, 4, figsize=(11, 3.6), sharey=True)
width = 0.8 / len(order)
for ax, (item, labels), probs in zip(axes, answers.items(), est.probs_, strict=True):
    positions = np.arange(len(labels))
    for rank, k in enumerate(order):
        ax.bar(
            positions + (rank - 1) * width,
            probs[k],
            width,
            label=f"class {rank + 1} ({est.weights_[k]:.0%})",
        )
    ax.set_xticks(positions)
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax.set_title(item)
axes[0].set_ylabel("Pr(answer | class)")
axes[0].set_ylim(0, 1.25)
axes[0].set_yticks(np.linspace(0, 1, 6))
axes[2].legend(loc="upper right", fontsize=8)
fig.suptitle("gss82: item-response probabilities of three latent classes")
fig.tight_layout()
plt.show()

# %%
# The largest class (62%) sees surveys as good, understands the questions
# and is interested: "ideal" respondents. The second (21%) also finds
# surveys good and mostly true, but understands them only fairly or poorly
# and is less often interested. The third (17%) finds surveys a waste of
# time and not true, and is the least cooperative.
#
# References: A. L. McCutcheon, *Latent Class Analysis*, Sage (1987), Table
# 3.1; D. A. Linzer and J. B. Lewis, "poLCA: an R package for polytomous
# variable latent class analysis", *Journal of Statistical Software* 42(10)
# (2011), and poLCA's ``gss82`` help page.
