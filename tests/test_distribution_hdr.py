"""Highest-density regions of MixtureDistribution."""

import numpy as np
import pytest

from skmdn import MixtureDistribution
from skmdn._distributions import HighestDensityRegion

from ._mixtures import check_hdr, dense_grid, random_mixture


@pytest.mark.parametrize("coverage", [0.2, 0.9, 0.999])
def test_hdr_mass_and_threshold(mix, coverage):
    region = mix.hdr(coverage)
    assert isinstance(region, HighestDensityRegion)
    n = len(mix)
    assert region.intervals.shape[0] == n and region.intervals.shape[2] == 2
    assert (
        region.threshold.shape
        == region.coverage.shape
        == region.n_intervals.shape
        == (n,)
    )
    np.testing.assert_allclose(region.coverage, coverage, atol=1e-9)
    pieces = region.to_list()
    for i, row in enumerate(pieces):
        assert len(row) == region.n_intervals[i] >= 1
        lo = np.array([p[0] for p in row])
        hi = np.array([p[1] for p in row])
        assert np.all(lo < hi) and np.all(hi[:-1] < lo[1:])
        # Exact mass of the pieces, and the same density level at every end.
        mass = np.sum(mix[i].cdf(hi[None]) - mix[i].cdf(lo[None]))
        np.testing.assert_allclose(mass, coverage, atol=1e-9)
        ends = np.concatenate([lo, hi])[None]
        np.testing.assert_allclose(mix[i].pdf(ends)[0], region.threshold[i], rtol=1e-7)
    # Padding is NaN.
    padded = (
        np.arange(region.intervals.shape[1])[None, :] >= region.n_intervals[:, None]
    )
    assert np.all(np.isnan(region.intervals[padded]))
    assert not np.any(np.isnan(region.intervals[~padded]))


def test_hdr_matches_dense_grid(mix):
    region = mix.hdr(0.9)
    grid = dense_grid(mix, 40001)
    p = mix.pdf(grid)
    step = grid[:, 1] - grid[:, 0]
    inside = p >= region.threshold[:, None]
    np.testing.assert_allclose(
        np.sum(np.where(inside, p, 0.0), axis=1) * step, 0.9, atol=2e-3
    )
    # contains() agrees with pdf >= threshold away from the boundaries.
    contained = region.contains(grid)
    clear = np.abs(p - region.threshold[:, None]) > 1e-6 * region.threshold[:, None]
    np.testing.assert_array_equal(contained[clear], inside[clear])
    # Each end of a piece is resolved to one grid step.
    error = np.abs(region.length - np.sum(inside, axis=1) * step)
    assert np.all(error <= (2 * region.n_intervals + 1) * step)


def test_hdr_separated_modes(separated):
    region = separated.hdr(0.9)
    np.testing.assert_array_equal(region.n_intervals, [3, 3])
    for row, centres in zip(region.intervals, [[-10, 0, 10]] * 2):
        assert np.all(row[:, 0] < np.array(centres))
        assert np.all(row[:, 1] > np.array(centres))
    # A low coverage keeps only the highest bump.
    np.testing.assert_array_equal(separated.hdr(0.2).n_intervals, [1, 1])


def test_hdr_of_gaussian_is_central_interval():
    dist = MixtureDistribution(np.ones((2, 1)), [[1.0], [-2.0]], [[2.0], [0.3]])
    region = dist.hdr(0.95)
    lower, upper = dist.interval(0.95)
    np.testing.assert_allclose(region.intervals[:, 0, 0], lower, atol=1e-9)
    np.testing.assert_allclose(region.intervals[:, 0, 1], upper, atol=1e-9)
    # Two identical components are one Gaussian.
    twin = MixtureDistribution([[0.4, 0.6]], [[1.0, 1.0]], [[2.0, 2.0]])
    np.testing.assert_allclose(
        twin.hdr(0.95).intervals[0, 0], [lower[0], upper[0]], atol=1e-9
    )


def test_hdr_contains_shape_rule(separated):
    region = separated.hdr(0.9)
    np.testing.assert_array_equal(region.contains(0.0), [True, True])
    np.testing.assert_array_equal(region.contains([5.0, 10.0]), [False, True])
    assert region.contains(np.zeros((2, 5))).shape == (2, 5)
    with pytest.raises(ValueError, match="shape"):
        region.contains(np.zeros(3))


def test_hdr_validation(mix):
    for bad in (0, 1, -0.1, 2.0):
        with pytest.raises(ValueError, match="coverage"):
            mix.hdr(bad)


def test_hdr_narrow_bump_retry():
    # A shallow bump on a slope, narrower than the coarse bracketing grid, with
    # the threshold inside it: the row is recomputed on a finer grid.
    dist = MixtureDistribution(
        [[0.1341076, 0.06067393, 0.10254299, 0.30037151, 0.40230396]],
        [[-6.1905838, -1.4351449, -9.38447319, 1.71811695, 1.71331911]],
        [[0.92799737, 0.95044068, 0.78832408, 0.73328037, 0.98889396]],
    )
    region = dist.hdr(0.9)
    np.testing.assert_allclose(region.coverage, 0.9, atol=1e-9)
    lo, hi = region.intervals[0, : region.n_intervals[0]].T
    np.testing.assert_allclose(
        np.sum(dist.cdf(hi[None]) - dist.cdf(lo[None])), 0.9, atol=1e-9
    )


@pytest.mark.parametrize("coverage", [0.5, 0.9, 0.99])
def test_hdr_large_batch(coverage):
    # Enough rows that some take every path of the solver (the fast joint
    # iteration, its bracketed fallback, shoulders and levels near a dip).
    dist = random_mixture(n=4000, K=5, seed=11)
    check_hdr(dist, dist.hdr(coverage), coverage)


def test_hdr_level_near_dip():
    # Two equal bumps whose separation sweeps the 50% HDR from one piece to
    # two: the level passes the dip between them, where the mass has a
    # square-root kink in the level.
    sep = np.linspace(1.0, 3.0, 801)
    dist = MixtureDistribution(
        np.full((sep.size, 2), 0.5),
        np.stack([-sep / 2, sep / 2], axis=1),
        np.ones((sep.size, 2)),
    )
    region = dist.hdr(0.5)
    check_hdr(dist, region, 0.5)
    assert np.all(np.diff(region.n_intervals) >= 0)
    assert region.n_intervals[0] == 1 and region.n_intervals[-1] == 2


def test_hdr_does_not_depend_on_batching(monkeypatch):
    # Rows are solved independently; the split of a batch into chunks (and
    # across threads) must not change a single bit of the result.
    import skmdn._distributions._hdr as module

    dist = random_mixture(n=3000, K=5, seed=3)
    monkeypatch.setattr(module, "_HDR_THREADS", 1)
    whole = dist.hdr(0.9)
    parts = [dist[:1234].hdr(0.9), dist[1234:].hdr(0.9)]
    monkeypatch.setattr(module, "_HDR_THREADS", 3)
    monkeypatch.setattr(module, "_HDR_MIN_CHUNK", 500)
    threaded = dist.hdr(0.9)
    for other in (threaded,):
        np.testing.assert_array_equal(other.intervals, whole.intervals)
        np.testing.assert_array_equal(other.threshold, whole.threshold)
        np.testing.assert_array_equal(other.coverage, whole.coverage)
    width = whole.intervals.shape[1]
    for part, rows in zip(parts, [slice(0, 1234), slice(1234, None)]):
        got = np.full((len(part), width, 2), np.nan)
        got[:, : part.intervals.shape[1]] = part.intervals
        np.testing.assert_array_equal(got, whole.intervals[rows])
        np.testing.assert_array_equal(part.threshold, whole.threshold[rows])
        np.testing.assert_array_equal(part.coverage, whole.coverage[rows])


@pytest.mark.parametrize("coverage", [1e-12, 1e-9, 1e-6, 9e-5, 2e-4, 1e-3, 0.5, 0.99])
def test_hdr_of_a_gaussian_is_its_central_interval_at_every_coverage(coverage):
    from scipy.special import erfinv

    dist = MixtureDistribution([[1.0], [1.0]], [[0.0], [3.0]], [[1.0], [2.0]])
    region = dist.hdr(coverage)
    # The central interval, exactly: 2 Phi(z) - 1 = erf(z / sqrt 2) = coverage.
    half = np.sqrt(2.0) * erfinv(coverage) * np.array([1.0, 2.0])
    centre = np.array([0.0, 3.0])
    assert np.all(region.n_intervals == 1)
    assert np.all(np.isfinite(region.intervals))
    for side, sign in ((0, -1.0), (1, 1.0)):
        np.testing.assert_allclose(
            region.intervals[:, 0, side] - centre, sign * half, rtol=1e-5, atol=2e-15
        )


def test_tiny_hdr_of_two_equal_modes_has_two_pieces():
    dist = MixtureDistribution([[0.5, 0.5]], [[-3.0, 3.0]], [[1.0, 1.0]])
    region = dist.hdr(1e-9)
    assert region.n_intervals.tolist() == [2]
    assert np.all(np.diff(region.intervals[0].ravel()) > 0)
    np.testing.assert_allclose(region.coverage, 1e-9, rtol=1e-6)
    locations = np.sort(dist.modes()[0], axis=1)
    assert region.contains(locations).all()
