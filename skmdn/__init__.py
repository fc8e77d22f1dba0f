"""Mixture Density Networks for scikit-learn.

``MDNRegressor`` models ``p(y | x)`` as a Gaussian mixture whose weights,
means and scales are given by a neural network trained with skorch on
PyTorch. It is a scikit-learn estimator: it works in pipelines, grid
searches and cross-validation, and adds densities, samples and a predictive
distribution object.
"""

from . import datasets, metrics
from ._distributions import (
    HighestDensityRegion,
    MixtureDistribution,
    MultivariateMixtureDistribution,
)
from ._ensemble import MDNEnsembleRegressor
from ._module import (
    MixtureDensityNetwork,
    MixtureNLLLoss,
    MixtureOutput,
    mixture_log_prob,
)
from ._regressor import MDNRegressor
from ._skorch import MDNNet

__version__ = "0.1.0.dev0"

__all__ = [
    "MDNRegressor",
    "MDNEnsembleRegressor",
    "MDNNet",
    "MixtureDistribution",
    "MultivariateMixtureDistribution",
    "HighestDensityRegion",
    "MixtureDensityNetwork",
    "MixtureNLLLoss",
    "MixtureOutput",
    "mixture_log_prob",
    "datasets",
    "metrics",
]
