"""Modes of MixtureDistribution."""

import numpy as np

from skmdn import MixtureDistribution

from ._mixtures import dense_grid, random_mixture


def test_modes_separated(separated):
    loc, dens = separated.modes()
    assert loc.shape == dens.shape == (2, 3)
    np.testing.assert_allclose(loc[0], [-10, 0, 10], atol=1e-6)
    np.testing.assert_allclose(loc[1], [0, -10, 10], atol=1e-6)
    np.testing.assert_allclose(dens, separated.pdf(loc), rtol=1e-12)
    assert np.all(np.diff(dens, axis=1) < 0)
    np.testing.assert_allclose(separated.mode(), [-10, 0], atol=1e-6)


def test_modes_unimodal():
    dist = MixtureDistribution(
        [[0.5, 0.5], [1.0, 0.0]], [[-0.5, 0.5], [3.0, 0.0]], [[1.0, 1.0]] * 2
    )
    loc, dens = dist.modes()
    np.testing.assert_allclose(loc[:, 0], [0.0, 3.0], atol=1e-9)
    assert np.all(np.isnan(loc[:, 1:])) and np.all(np.isnan(dens[:, 1:]))
    np.testing.assert_allclose(dens[:, 0], dist.pdf(loc[:, 0]))


def test_modes_match_dense_grid():
    dist = random_mixture(n=40, K=5, seed=3)
    loc, dens = dist.modes()
    grid = dense_grid(dist, 40001, z=0.0)  # all modes lie between the means
    p = dist.pdf(grid)
    g = np.gradient(p, axis=1)
    for i in range(len(dist)):
        found = np.sort(loc[i][~np.isnan(loc[i])])
        peaks = np.flatnonzero((g[i, :-1] > 0) & (g[i, 1:] <= 0))
        # Shallow bumps narrower than the bracketing grid may be missed, so
        # only grid maxima rising 0.1% above an adjacent dip are required.
        dips = [p[i, a:b].min() for a, b in zip(peaks[:-1], peaks[1:])]
        prominent = [
            j
            for k, j in enumerate(peaks)
            if p[i, j] > 1.001 * max([0.0] + dips[max(k - 1, 0) : k + 1])
        ]
        assert len(found) >= len(prominent)
        for j in prominent:
            assert np.min(np.abs(found - grid[i, j])) < 2 * (grid[i, 1] - grid[i, 0])
        # Every mode found is a local maximum: zero slope, negative curvature.
        h = 1e-4 * dist.scales[i].min()
        around = dist[i].logpdf(
            np.stack([found - h, found, found + h], axis=1).ravel()[None]
        )
        around = around.reshape(-1, 3)
        assert np.all(around[:, 1] >= around[:, [0, 2]].max(axis=1) - 1e-12)
