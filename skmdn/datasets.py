"""Synthetic regression problems with a known conditional density."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_inverted_sinusoid"]


def make_inverted_sinusoid(n_samples=1000, *, inverse=True, noise=1.0, random_state=None):
    """The sinusoid of Bishop (1994), forward or inverted.

    ``x ~ Uniform(-10.5, 10.5)`` and ``y = 7 sin(0.75 x) + 0.5 x + noise * e``
    with ``e ~ N(0, 1)``. The forward problem (``inverse=False``) predicts
    ``y`` from ``x``: a mean-squared-error regressor does well. The inverse
    problem (``inverse=True``, the default) predicts ``x`` from ``y``: for
    most ``y`` there are up to five plausible ``x``, one per branch, and the
    conditional mean lies between them.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples.
    inverse : bool, default=True
        Return the inverse problem: ``X`` holds the sinusoid's output and the
        target is its input.
    noise : float, default=1.0
        Standard deviation of the Gaussian noise on the sinusoid's output.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
        Inputs.
    y : ndarray of shape (n_samples,)
        Targets.

    Notes
    -----
    With ``noise=1`` the best achievable test NLL is 1.419 nats for the
    forward problem (the entropy of N(0, 1)) and about 1.291 nats for the
    inverse problem.

    Examples
    --------
    >>> from skmdn.datasets import make_inverted_sinusoid
    >>> X, y = make_inverted_sinusoid(200, random_state=0)
    >>> X.shape, y.shape
    ((200, 1), (200,))
    """
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
    if not noise >= 0:
        raise ValueError(f"noise must be non-negative, got {noise!r}.")
    rng = check_random_state(random_state)
    x = rng.uniform(-10.5, 10.5, size=n_samples)
    y = 7.0 * np.sin(0.75 * x) + 0.5 * x + noise * rng.standard_normal(n_samples)
    if inverse:
        return y[:, None], x
    return x[:, None], y
