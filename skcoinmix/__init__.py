"""skcoinmix: mixtures of Bernoulli (and binomial) distributions fitted by EM.

The estimator follows the scikit-learn API; see :class:`BernoulliMixtureEM`.
"""

# SPDX-License-Identifier: BSD-3-Clause

from . import datasets
from ._bernoulli import BernoulliMixtureEM
from ._binomial import BinomialMixtureEM
from ._categorical import CategoricalMixtureEM
from ._report import FitReport, fit_report
from ._version import __version__

__all__ = [
    "BernoulliMixtureEM",
    "BinomialMixtureEM",
    "CategoricalMixtureEM",
    "FitReport",
    "__version__",
    "datasets",
    "fit_report",
]
