"""Inference for fitted latent class models.

- :func:`standard_errors`: standard errors and covariance of the mixing
  weights and item probabilities (outer product of the scores, as poLCA, or
  the observed information);
- :func:`vlmr_test`: the Vuong-Lo-Mendell-Rubin likelihood-ratio test of
  ``K - 1`` against ``K`` classes (Mplus's TECH11);
- :func:`bootstrap_lrt`: the parametric bootstrap likelihood-ratio test of
  K - 1 against K classes (Mplus's TECH14);
- :func:`classification_table`: Mplus's table of average posterior
  probabilities and the expected classification error;
- :func:`reorder_components`: a fitted model with its classes in another
  order, e.g. by decreasing size;
- :func:`bivariate_residuals`: LatentGOLD's bivariate residuals of every
  pair of items, the local-dependence diagnostic;
- :func:`pattern_residuals`: the standardised residuals of the response
  patterns;
- :func:`plot_profile` and :func:`plot_information_criteria`: poLCA's
  profile plot and the information criteria by number of classes
  (matplotlib, an optional dependency, is imported when they are called).
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._bootstrap import BootstrapLRTResult, bootstrap_lrt
from ._classification import ClassificationTable, classification_table
from ._plots import plot_information_criteria, plot_profile
from ._reorder import reorder_components
from ._residuals import PatternResiduals, bivariate_residuals, pattern_residuals
from ._standard_errors import StandardErrors, standard_errors
from ._vlmr import VLMRResult, vlmr_test, weighted_chi2_sf

__all__ = [
    "BootstrapLRTResult",
    "ClassificationTable",
    "PatternResiduals",
    "StandardErrors",
    "VLMRResult",
    "bivariate_residuals",
    "bootstrap_lrt",
    "classification_table",
    "pattern_residuals",
    "plot_information_criteria",
    "plot_profile",
    "reorder_components",
    "standard_errors",
    "vlmr_test",
    "weighted_chi2_sf",
]
