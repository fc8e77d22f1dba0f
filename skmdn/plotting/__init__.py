"""Plots of predictive distributions, as scikit-learn Display objects.

Each display follows scikit-learn's visualization API
(:class:`sklearn.metrics.PredictionErrorDisplay`): a class method
``from_estimator`` computes what to draw from a fitted model, another
(``from_distribution`` or ``from_predictions``) from predictions already
made, and ``plot(ax=None, ...)`` draws, stores the figure, the axes and the
artists as attributes ending in ``_`` and returns the display.

- :class:`ConditionalDensityDisplay`: a heatmap of ``p(y | x)`` along one
  input feature, with the data, samples, quantiles or highest-density
  regions over it.
- :class:`MixtureParametersDisplay`: the weights, scales and means (with
  mean +- scale bands) of every component along one input feature.
- :class:`CalibrationDisplay`: the PIT histogram and the coverage of
  central intervals against their nominal level.

matplotlib is an optional dependency (``pip install 'skmdn[plot]'``): it is
imported when a display draws, not when this module is imported.
"""

from ._calibration import CalibrationDisplay
from ._density import ConditionalDensityDisplay
from ._parameters import MixtureParametersDisplay

__all__ = [
    "CalibrationDisplay",
    "ConditionalDensityDisplay",
    "MixtureParametersDisplay",
]
