"""Synthetic regression problems with a known conditional density."""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils import check_random_state

from ._checks import check_n_samples as _check_n_samples
from ._checks import check_rng as _check_rng
from ._distributions import MultivariateMixtureDistribution

__all__ = [
    "make_correlated_mixture",
    "make_inverted_sinusoid",
    "make_robot_arm",
    "robot_arm_forward",
]


def make_inverted_sinusoid(
    n_samples=1000, *, inverse=True, noise=1.0, random_state=None
):
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
    n_samples = _check_n_samples(n_samples)
    if not noise >= 0:
        raise ValueError(f"noise must be non-negative, got {noise!r}.")
    rng = check_random_state(random_state)
    x = rng.uniform(-10.5, 10.5, size=n_samples)
    y = 7.0 * np.sin(0.75 * x) + 0.5 * x + noise * rng.standard_normal(n_samples)
    if inverse:
        return y[:, None], x
    return x[:, None], y


# --------------------------------------------------------------------------- #
# Helpers for the problems below
# --------------------------------------------------------------------------- #


def _check_link_lengths(link_lengths) -> tuple[float, float]:
    try:
        lengths = np.asarray(link_lengths, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"link_lengths must be two positive floats, got {link_lengths!r}."
        ) from exc
    if lengths.shape != (2,) or not np.all(np.isfinite(lengths) & (lengths > 0)):
        raise ValueError(
            f"link_lengths must be two positive finite floats, got {link_lengths!r}."
        )
    return float(lengths[0]), float(lengths[1])


# --------------------------------------------------------------------------- #
# Robot arm (Bishop 1994)
# --------------------------------------------------------------------------- #
def robot_arm_forward(
    angles: ArrayLike, link_lengths: tuple[float, float] = (0.8, 0.2)
) -> NDArray:
    """Forward kinematics of a two-link planar robot arm.

    With joint angles ``(theta1, theta2)`` and link lengths ``(l1, l2)``, the
    end effector lies at (the convention of Bishop, 1994)::

        x1 = l1 cos(theta1) - l2 cos(theta1 + theta2)
        x2 = l1 sin(theta1) - l2 sin(theta1 + theta2)

    Use it to check predicted angles: ``robot_arm_forward(y_pred)`` should be
    close to the positions ``X`` they were predicted from.

    Parameters
    ----------
    angles : array-like of shape (n_samples, 2)
        Joint angles ``(theta1, theta2)`` in radians.
    link_lengths : tuple of two floats, default=(0.8, 0.2)
        Lengths ``(l1, l2)`` of the two links, positive.

    Returns
    -------
    positions : ndarray of shape (n_samples, 2)
        End-effector positions ``(x1, x2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn.datasets import robot_arm_forward
    >>> robot_arm_forward([[0.0, np.pi / 2]])
    array([[ 0.8, -0.2]])
    """
    l1, l2 = _check_link_lengths(link_lengths)
    try:
        a = np.asarray(angles, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"angles must be a numeric array: {exc}") from exc
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(
            f"angles must have shape (n_samples, 2); got an array of shape {a.shape}."
        )
    t1, t12 = a[:, 0], a[:, 0] + a[:, 1]
    return np.stack(
        [l1 * np.cos(t1) - l2 * np.cos(t12), l1 * np.sin(t1) - l2 * np.sin(t12)],
        axis=1,
    )


def make_robot_arm(
    n_samples: int = 1000,
    *,
    link_lengths: tuple[float, float] = (0.8, 0.2),
    noise: float = 0.005,
    random_state=None,
) -> tuple[NDArray, NDArray]:
    """Inverse kinematics of a two-link planar robot arm (Bishop, 1994).

    The joint angles are drawn as ``theta1 ~ Uniform(0.3, 1.2)`` and
    ``theta2 ~ Uniform(pi/2, 3 pi/2)``, the ranges of Bishop (1994); the
    inputs ``X`` are the end-effector positions given by
    :func:`robot_arm_forward`, plus isotropic Gaussian noise of standard
    deviation ``noise``, and the targets ``y`` are the angles.

    Most positions are reached by two configurations, "elbow up" and "elbow
    down": ``(theta1, theta2)`` and ``(theta1 + 2 beta, 2 pi - theta2)`` with
    ``beta = atan2(l2 sin(phi), l1 + l2 cos(phi))`` and ``phi = theta2 + pi``,
    whenever the second one also lies in the sampled ranges.  The conditional
    density ``p(y | x)`` is therefore bimodal for many ``x``, and a
    mean-squared-error regressor predicts the average of the two solutions,
    which is not a solution: ``robot_arm_forward`` of the averaged angles
    puts the arm away from ``x``.  To check predicted angles ``y_pred``
    (e.g. the mode of a mixture density network) compare
    ``robot_arm_forward(y_pred, link_lengths)`` with ``X``.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples.
    link_lengths : tuple of two floats, default=(0.8, 0.2)
        Lengths ``(l1, l2)`` of the two links, positive.
    noise : float, default=0.005
        Standard deviation of the Gaussian noise added to each coordinate of
        the positions ``X``.  With ``noise=0`` the target is a deterministic
        two-valued function of ``X`` and ``p(y | x)`` has no density (a
        mixture density network's negative log-likelihood then decreases
        without bound); a small positive noise makes it a proper, sharply
        peaked density.
    random_state : int, RandomState instance, Generator or None, default=None
        Seed of the draws.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        End-effector positions ``(x1, x2)``, with noise.
    y : ndarray of shape (n_samples, 2)
        Joint angles ``(theta1, theta2)`` in radians.

    References
    ----------
    C. M. Bishop, "Mixture Density Networks", Technical Report NCRG/94/004,
    Aston University, 1994.

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn.datasets import make_robot_arm, robot_arm_forward
    >>> X, y = make_robot_arm(500, noise=0.0, random_state=0)
    >>> X.shape, y.shape
    ((500, 2), (500, 2))
    >>> bool(np.allclose(robot_arm_forward(y), X))
    True
    >>> # The other solution reaches the same positions; the average of the
    >>> # two (what a least-squares regressor predicts) does not.
    >>> l1, l2 = 0.8, 0.2
    >>> phi = y[:, 1] + np.pi
    >>> beta = np.arctan2(l2 * np.sin(phi), l1 + l2 * np.cos(phi))
    >>> other = np.stack([y[:, 0] + 2 * beta, 2 * np.pi - y[:, 1]], axis=1)
    >>> bool(np.allclose(robot_arm_forward(other), X))
    True
    >>> miss = np.linalg.norm(robot_arm_forward((y + other) / 2) - X, axis=1)
    >>> bool(miss.mean() > 0.04)
    True
    """
    n_samples = _check_n_samples(n_samples)
    lengths = _check_link_lengths(link_lengths)
    if isinstance(noise, (bool, np.bool_)) or not isinstance(noise, numbers.Real):
        raise ValueError(f"noise must be a non-negative float, got {noise!r}.")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a non-negative float, got {noise!r}.")
    rng = _check_rng(random_state)
    theta1 = rng.uniform(0.3, 1.2, size=n_samples)
    theta2 = rng.uniform(0.5 * np.pi, 1.5 * np.pi, size=n_samples)
    y = np.stack([theta1, theta2], axis=1)
    X = robot_arm_forward(y, lengths)
    if noise > 0:
        X = X + noise * rng.standard_normal(X.shape)
    return X, y


# --------------------------------------------------------------------------- #
# Two correlated bivariate Gaussians
# --------------------------------------------------------------------------- #
# Standard deviations along the principal axes of both components.
_CORR_MAJOR, _CORR_MINOR = 0.5, 0.12


def _correlated_mixture_distribution(x: NDArray) -> MultivariateMixtureDistribution:
    """True ``p(y | x)`` of :func:`make_correlated_mixture` for inputs ``x``."""
    w1 = 1.0 / (1.0 + np.exp(-1.5 * x))
    weights = np.stack([w1, 1.0 - w1], axis=1)
    wave = 0.5 * np.sin(0.5 * np.pi * x)
    means = np.stack(
        [
            np.stack([-0.3 + 0.4 * x, wave], axis=1),
            np.stack([0.3 + 0.4 * x, -wave], axis=1),
        ],
        axis=1,
    )
    angles = np.stack([0.25 * np.pi + 0.35 * x, -0.25 * np.pi + 0.35 * x], axis=1)
    c, s = np.cos(angles), np.sin(angles)
    rot = np.stack([np.stack([c, -s], axis=-1), np.stack([s, c], axis=-1)], axis=-2)
    # Covariance R diag(major^2, minor^2) R^T; its Cholesky factor.
    cov = np.einsum("nkij,j,nklj->nkil", rot, [_CORR_MAJOR**2, _CORR_MINOR**2], rot)
    return MultivariateMixtureDistribution(weights, means, np.linalg.cholesky(cov))


def make_correlated_mixture(
    n_samples: int = 1000, *, random_state=None, return_distribution: bool = False
):
    """Two-dimensional target whose conditional density is a known mixture.

    ``x ~ Uniform(-1, 1)`` and ``p(y | x)`` is a mixture of two bivariate
    Gaussians whose parameters are smooth functions of ``x``:

    * weights ``(sigmoid(1.5 x), 1 - sigmoid(1.5 x))``;
    * means ``(-0.3 + 0.4 x, 0.5 sin(pi x / 2))`` and
      ``(0.3 + 0.4 x, -0.5 sin(pi x / 2))``;
    * covariances ``R(a) diag(0.5^2, 0.12^2) R(a)^T``: thin ellipses whose
      long axes point at angles ``a = pi/4 + 0.35 x`` and ``a = -pi/4 +
      0.35 x``, i.e. correlations between about +0.83 and +0.89 for the
      first component and between about -0.83 and -0.89 for the second.

    The two ellipses cross, forming an "X" around the middle of the input
    range, so a mixture with diagonal covariances needs many components to
    match a full-covariance mixture with two.  The problem is learnable by a
    small network from about 20,000 rows.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples.
    random_state : int, RandomState instance, Generator or None, default=None
        Seed of the draws.
    return_distribution : bool, default=False
        Also return the true conditional distribution of every row.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
        Inputs.
    y : ndarray of shape (n_samples, 2)
        Targets.
    distribution : MultivariateMixtureDistribution
        Only with ``return_distribution=True``: the true ``p(y | x)`` of every
        row (``n_samples`` rows, 2 components, 2 outputs).
        ``-distribution.logpdf(y).mean()`` estimates the conditional entropy,
        the best achievable expected test negative log-likelihood.

    Notes
    -----
    The conditional entropy ``E[-log p(y | x)]`` is about 0.530 nats
    (Monte Carlo estimate on 100,000 draws, standard error 0.003): the best
    achievable expected test negative log-likelihood.  For comparison, a
    Gaussian mixture with diagonal covariances fitted by EM to 4,000 draws of
    ``p(y | x)`` at a fixed ``x`` scores about 1.0, 0.8 and 0.7 nats with 2, 3
    and 5 components, while a full-covariance mixture with two components
    reaches the entropy (about 0.51 nats at ``x = 0``).

    Examples
    --------
    >>> from skmdn.datasets import make_correlated_mixture
    >>> X, y, dist = make_correlated_mixture(
    ...     500, random_state=0, return_distribution=True
    ... )
    >>> X.shape, y.shape, dist.logpdf(y).shape
    ((500, 1), (500, 2), (500,))
    """
    n_samples = _check_n_samples(n_samples)
    if not isinstance(return_distribution, (bool, np.bool_)):
        raise ValueError(
            f"return_distribution must be a bool, got {return_distribution!r}."
        )
    rng = _check_rng(random_state)
    x = rng.uniform(-1.0, 1.0, size=n_samples)
    dist = _correlated_mixture_distribution(x)
    y = dist.sample(1, random_state=rng)[:, 0, :]
    if return_distribution:
        return x[:, None], y, dist
    return x[:, None], y
