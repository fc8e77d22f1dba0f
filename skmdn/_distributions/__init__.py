"""Predictive distributions of mixture density networks.

:class:`MixtureDistribution` (one output) and
:class:`MultivariateMixtureDistribution` (several outputs) share
:class:`BaseMixtureDistribution`; :class:`HighestDensityRegion` is the result
of :meth:`MixtureDistribution.hdr`.
"""

from ._base import BaseMixtureDistribution
from ._hdr import HighestDensityRegion
from .multivariate import MultivariateMixtureDistribution
from .univariate import MixtureDistribution

__all__ = [
    "BaseMixtureDistribution",
    "HighestDensityRegion",
    "MixtureDistribution",
    "MultivariateMixtureDistribution",
]
