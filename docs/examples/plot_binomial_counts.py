"""
========================================================
Counts out of n trials: test scores of two latent groups
========================================================

A test has three sections of 10, 15 and 20 questions. Each student either
masters the material or not, and within each group a section's score is the
number of correct answers out of its questions: a binomial count. The
groups are not observed. :class:`~skcoinmix.BinomialMixtureEM` recovers
them, and each group's probability of answering a question of each section
correctly, from the scores alone.

When the number of trials varies per entry (students who skipped questions;
read depths in sequencing), ``n_trials="paired"`` reads each entry's
successes and failures side by side.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import binom

from skcoinmix import BinomialMixtureEM

rng = np.random.default_rng(0)
questions = np.array([10, 15, 20])
true_means = np.array([[0.85, 0.80, 0.75], [0.45, 0.35, 0.30]])  # masters, others
groups = rng.choice(2, size=400, p=[0.4, 0.6])
scores = rng.binomial(questions, true_means[groups])

est = BinomialMixtureEM(2, n_trials=questions, n_init=5, random_state=0)
est.fit(scores)
order = np.argsort(-est.means_[:, 0])  # masters first
print("fitted weights:", est.weights_[order].round(3))
print("fitted means:\n", est.means_[order].round(3))
print("agreement with the true groups:", np.mean(est.predict(scores) == order[groups]))

# %%
# The fitted mixture against the scores
# -------------------------------------
#
# Each panel is one section: the histogram of scores, and the fitted
# mixture's probability of each score, ``sum_k w_k Binom(x; n, θ_k)``, with
# each group's share.

fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), sharey=True)
for j, ax in enumerate(axes):
    values = np.arange(questions[j] + 1)
    counts = np.bincount(scores[:, j], minlength=values.size)
    ax.bar(values, counts / counts.sum(), color="0.8", label="observed")
    total = np.zeros(values.size)
    for k, label in zip(order, ["masters", "others"], strict=True):
        part = est.weights_[k] * binom.pmf(values, questions[j], est.means_[k, j])
        total += part
        ax.plot(values, part, "o-", markersize=3, label=label)
    ax.plot(values, total, "k--", label="mixture")
    ax.set_title(f"section {j + 1}: {questions[j]} questions")
    ax.set_xlabel("correct answers")
axes[0].set_ylabel("share of students")
axes[0].legend(frameon=False)
fig.tight_layout()

# %%
# Trials that vary per entry
# --------------------------
#
# If students answer only some of the questions, each entry is a count out of
# its own number of trials. Stack the successes and the failures:
# ``X = np.hstack([successes, failures])``. The estimates are the same
# model's, and ``predict`` or ``score`` need no other argument.

answered = rng.integers(questions // 2, questions + 1, size=scores.shape)
correct = rng.binomial(answered, true_means[groups])
paired = BinomialMixtureEM(2, n_trials="paired", n_init=5, random_state=0)
paired.fit(np.hstack([correct, answered - correct]))
print("paired form, means:\n", paired.means_[np.argsort(-paired.means_[:, 0])].round(3))
