"""Predictive distributions of mixture density networks.

:class:`MixtureDistribution` (one output) and
:class:`MultivariateMixtureDistribution` (several outputs) share
:class:`BaseMixtureDistribution`; :class:`HighestDensityRegion` is the result
of :meth:`MixtureDistribution.hdr`; :class:`TransformedDistribution` is a
mixture seen through a transform of the target.
"""

from ._base import BaseMixtureDistribution
from ._hdr import HighestDensityRegion
from .multivariate import MultivariateMixtureDistribution
from .transformed import TransformedDistribution
from .univariate import MixtureDistribution

__all__ = [
    "BaseMixtureDistribution",
    "HighestDensityRegion",
    "MixtureDistribution",
    "MultivariateMixtureDistribution",
    "TransformedDistribution",
]
