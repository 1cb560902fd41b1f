"""Inference for fitted latent class models: standard errors and tests for the number of classes.

- :func:`standard_errors`: standard errors and covariance of the mixing
  weights and item probabilities (outer product of the scores, as poLCA, or
  the observed information);
- :func:`vlmr_test`: the Vuong-Lo-Mendell-Rubin likelihood-ratio test of
  ``K - 1`` against ``K`` classes (Mplus's TECH11).
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._standard_errors import StandardErrors, standard_errors
from ._vlmr import VLMRResult, vlmr_test, weighted_chi2_sf

__all__ = [
    "StandardErrors",
    "VLMRResult",
    "standard_errors",
    "vlmr_test",
    "weighted_chi2_sf",
]
