"""Inference for fitted latent class models: local dependence and plots.

- :func:`bivariate_residuals`: LatentGOLD's bivariate residuals of every
  pair of items, the local-dependence diagnostic;
- :func:`pattern_residuals`: the standardised residuals of the response
  patterns;
- :func:`plot_profile` and :func:`plot_information_criteria`: poLCA's
  profile plot and the information criteria by number of classes
  (matplotlib, an optional dependency, is imported when they are called).
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._plots import plot_information_criteria, plot_profile
from ._residuals import PatternResiduals, bivariate_residuals, pattern_residuals

__all__ = [
    "PatternResiduals",
    "bivariate_residuals",
    "pattern_residuals",
    "plot_information_criteria",
    "plot_profile",
]
