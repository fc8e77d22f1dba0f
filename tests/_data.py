"""Small data sets shared by several test modules.

Kept apart from conftest.py, which sets PyTorch's threads when imported:
Dask workers import the test modules that define callbacks they run.
"""

import numpy as np


def noisy_line(n_samples):
    """``y = x_0 + N(0, 0.2^2)`` for ``x`` uniform on ``[-1, 1]^2``, seeded."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    y = X[:, 0] + 0.2 * rng.normal(size=n_samples)
    return X, y
