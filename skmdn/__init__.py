"""Mixture Density Networks for scikit-learn.

``MDNRegressor`` models ``p(y | x)`` as a Gaussian mixture whose weights,
means and scales are given by a neural network trained with skorch on
PyTorch. It is a scikit-learn estimator: it works in pipelines, grid
searches and cross-validation, and adds densities, samples and a predictive
distribution object.
"""

from . import datasets, metrics, model_selection, plotting
from ._distributions import (
    HighestDensityRegion,
    MixtureDistribution,
    MultivariateMixtureDistribution,
    TransformedDistribution,
)
from ._ensemble import MDNEnsembleRegressor
from ._installation import warn_if_clashing
from ._module import (
    MixtureDensityNetwork,
    MixtureNLLLoss,
    MixtureOutput,
    mixture_log_prob,
)
from ._regressor import MDNRegressor
from ._skorch import MDNNet
from ._version import __version__


def load(path):
    """Load a model saved with ``MDNRegressor.save`` or ``MDNEnsembleRegressor.save``.

    The file is read as data: the estimator is built from its class (one of
    skmdn's, by name) and parameters, and the weights are read with
    ``torch.load(weights_only=True)``, which refuses anything that is not a
    tensor, so a file from elsewhere cannot run code. The model is loaded
    onto the CPU (a model trained on CUDA loads where there is no GPU) and
    predicts exactly as the saved one.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    estimator : MDNRegressor or MDNEnsembleRegressor

    Raises
    ------
    ValueError
        If the file is not an skmdn model, is damaged or truncated, was
        written in a newer format than this skmdn reads, or its weights are
        not plain tensors that fit the network.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skmdn import MDNRegressor, load
    >>> X = np.linspace(-1, 1, 50)[:, None]
    >>> mdn = MDNRegressor(n_components=2, max_epochs=5, random_state=0)
    >>> mdn = mdn.fit(X, X[:, 0] ** 2)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skmdn")
    >>> mdn.save(path)
    >>> bool(np.array_equal(load(path).predict(X), mdn.predict(X)))
    True
    """
    from ._persistence import load as _load

    return _load(path)


warn_if_clashing()

__all__ = [
    "MDNRegressor",
    "MDNEnsembleRegressor",
    "MDNNet",
    "MixtureDistribution",
    "MultivariateMixtureDistribution",
    "HighestDensityRegion",
    "TransformedDistribution",
    "MixtureDensityNetwork",
    "MixtureNLLLoss",
    "MixtureOutput",
    "mixture_log_prob",
    "datasets",
    "load",
    "metrics",
    "model_selection",
    "plotting",
    "__version__",
]
