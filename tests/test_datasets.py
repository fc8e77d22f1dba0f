"""Tests of the synthetic data sets."""

import numpy as np
import pytest

from skmdn import MultivariateMixtureDistribution
from skmdn.datasets import (
    make_correlated_mixture,
    make_inverted_sinusoid,
    make_robot_arm,
    robot_arm_forward,
)


def other_solution(angles, link_lengths=(0.8, 0.2)):
    """The second arm configuration reaching the same position."""
    l1, l2 = link_lengths
    phi = angles[:, 1] + np.pi
    beta = np.arctan2(l2 * np.sin(phi), l1 + l2 * np.cos(phi))
    return np.stack([angles[:, 0] + 2 * beta, 2 * np.pi - angles[:, 1]], axis=1)


def test_inverted_sinusoid_unchanged():
    X, y = make_inverted_sinusoid(50, random_state=0)
    assert X.shape == (50, 1) and y.shape == (50,)


# --------------------------------------------------------------------------- #
# Robot arm
# --------------------------------------------------------------------------- #
def test_robot_arm_forward_formula():
    angles = np.array([[0.0, 0.0], [0.5, 2.0], [1.0, np.pi]])
    l1, l2 = 0.7, 0.4
    t1, t2 = angles.T
    expected = np.stack(
        [
            l1 * np.cos(t1) - l2 * np.cos(t1 + t2),
            l1 * np.sin(t1) - l2 * np.sin(t1 + t2),
        ],
        axis=1,
    )
    np.testing.assert_allclose(robot_arm_forward(angles, (l1, l2)), expected)
    # Folded arm straight along theta1: radius l1 + l2.
    np.testing.assert_allclose(
        np.linalg.norm(robot_arm_forward(angles[2:], (l1, l2)), axis=1), l1 + l2
    )


def test_robot_arm_forward_validation():
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        robot_arm_forward(np.zeros(2))
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        robot_arm_forward(np.zeros((3, 3)))
    for bad in [(1.0,), (1.0, -0.2), (1.0, np.nan), "ab"]:
        with pytest.raises(ValueError, match="link_lengths"):
            robot_arm_forward(np.zeros((1, 2)), bad)


def test_make_robot_arm_shapes_and_ranges():
    X, y = make_robot_arm(300, random_state=0)
    assert X.shape == (300, 2) and y.shape == (300, 2)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert np.all((y[:, 0] >= 0.3) & (y[:, 0] <= 1.2))
    assert np.all((y[:, 1] >= np.pi / 2) & (y[:, 1] <= 1.5 * np.pi))
    # Default noise is small but present.
    err = robot_arm_forward(y) - X
    assert 0.003 < err.std() < 0.007


def test_make_robot_arm_reproducible():
    a = make_robot_arm(50, random_state=1)
    b = make_robot_arm(50, random_state=np.random.RandomState(1))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    c = make_robot_arm(50, random_state=2)
    assert not np.array_equal(a[0], c[0])
    g = make_robot_arm(50, random_state=np.random.default_rng(1))
    assert g[0].shape == (50, 2)


def test_make_robot_arm_noiseless_is_exact():
    X, y = make_robot_arm(200, noise=0.0, link_lengths=(0.6, 0.3), random_state=0)
    np.testing.assert_allclose(robot_arm_forward(y, (0.6, 0.3)), X, atol=1e-12)


def test_make_robot_arm_two_solutions():
    X, y = make_robot_arm(2000, noise=0.0, random_state=0)
    other = other_solution(y)
    np.testing.assert_allclose(robot_arm_forward(other), X, atol=1e-12)
    # The other solution is in the sampled ranges for many positions.
    inside = (other[:, 0] > 0.3) & (other[:, 0] < 1.2)
    assert 0.5 < inside.mean() < 0.9
    # The average of the two solutions is not a solution.
    miss = np.linalg.norm(robot_arm_forward((y + other) / 2) - X, axis=1)
    assert miss[inside].mean() > 0.03
    assert np.mean(miss > 0.01) > 0.7


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_samples=0), "n_samples"),
        (dict(n_samples=2.5), "n_samples"),
        (dict(noise=-1.0), "noise"),
        (dict(noise=np.nan), "noise"),
        (dict(noise="a"), "noise"),
        (dict(link_lengths=(0.8, 0.0)), "link_lengths"),
    ],
)
def test_make_robot_arm_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_robot_arm(**kwargs)


# --------------------------------------------------------------------------- #
# Correlated mixture
# --------------------------------------------------------------------------- #
def test_make_correlated_mixture_shapes():
    X, y = make_correlated_mixture(200, random_state=0)
    assert X.shape == (200, 1) and y.shape == (200, 2)
    assert np.all(np.abs(X) <= 1)
    X2, y2, dist = make_correlated_mixture(
        200, random_state=0, return_distribution=True
    )
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert isinstance(dist, MultivariateMixtureDistribution)
    assert len(dist) == 200 and dist.n_components == 2 and dist.n_outputs == 2


def test_make_correlated_mixture_reproducible():
    a = make_correlated_mixture(100, random_state=3)
    b = make_correlated_mixture(100, random_state=3)
    c = make_correlated_mixture(100, random_state=4)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_make_correlated_mixture_distribution():
    X, y, dist = make_correlated_mixture(
        20_000, random_state=0, return_distribution=True
    )
    lp = dist.logpdf(y)
    assert lp.shape == (20_000,) and np.all(np.isfinite(lp))
    # Strongly correlated components, of both signs.
    cov = dist.covariances
    corr = cov[..., 0, 1] / np.sqrt(cov[..., 0, 0] * cov[..., 1, 1])
    assert np.all((corr[:, 0] > 0.8) & (corr[:, 0] < 0.9))
    assert np.all((corr[:, 1] < -0.8) & (corr[:, 1] > -0.9))
    # The data are draws from the distribution: compare sample statistics
    # with the averages of the conditional moments.
    mean = dist.mean()
    n = len(y)
    se = y.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(y.mean(axis=0) - mean.mean(axis=0)) < 5 * se)
    # Total covariance = E[Cov(y|x)] + Cov(E[y|x]).
    total = dist.covariance().mean(axis=0) + np.cov(mean.T)
    np.testing.assert_allclose(np.cov(y.T), total, atol=0.02)
    # The conditional mean is right: residuals are uncorrelated with x.
    resid = y - mean
    assert abs(np.mean(resid[:, 0] * X[:, 0])) < 0.02
    # -mean logpdf estimates the conditional entropy (about 0.53 nats).
    assert abs(-lp.mean() - 0.53) < 0.03


def test_make_correlated_mixture_validation():
    with pytest.raises(ValueError, match="n_samples"):
        make_correlated_mixture(-3)
    with pytest.raises(ValueError, match="return_distribution"):
        make_correlated_mixture(10, return_distribution="yes")
