"""Inference for fitted latent class models.

- :func:`standard_errors`: standard errors and covariance of the mixing
  weights and item probabilities (outer product of the scores, as poLCA, or
  the observed information);
- :func:`vlmr_test`: the Vuong-Lo-Mendell-Rubin likelihood-ratio test of
  ``K - 1`` against ``K`` classes (Mplus's TECH11);
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
from ._standard_errors import StandardErrors, standard_errors
from ._vlmr import VLMRResult, vlmr_test, weighted_chi2_sf

__all__ = [
    "PatternResiduals",
    "StandardErrors",
    "VLMRResult",
    "bivariate_residuals",
    "pattern_residuals",
    "plot_information_criteria",
    "plot_profile",
    "standard_errors",
    "vlmr_test",
    "weighted_chi2_sf",
]
