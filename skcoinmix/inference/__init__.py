"""Inference for fitted mixtures: tests for the number of classes, classification, class order.

- :func:`bootstrap_lrt`: the parametric bootstrap likelihood-ratio test of
  K - 1 against K classes (Mplus's TECH14);
- :func:`classification_table`: Mplus's table of average posterior
  probabilities and the expected classification error;
- :func:`reorder_components`: a fitted model with its classes in another
  order, e.g. by decreasing size.
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._bootstrap import BootstrapLRTResult, bootstrap_lrt
from ._classification import ClassificationTable, classification_table
from ._reorder import reorder_components

__all__ = [
    "BootstrapLRTResult",
    "ClassificationTable",
    "bootstrap_lrt",
    "classification_table",
    "reorder_components",
]
