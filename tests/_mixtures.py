"""Random mixtures and checks shared by the distribution tests."""

import numpy as np

from skmdn import MixtureDistribution


def random_mixture(n=50, K=4, seed=0, spread=3.0, log_scale_sd=0.5):
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(K), n)
    mu = rng.normal(0.0, spread, (n, K))
    s = np.exp(rng.normal(0.0, log_scale_sd, (n, K)))
    return MixtureDistribution(w, mu, s)


def dense_grid(dist, n_points=20001, z=12.0):
    lo = (dist.means - z * dist.scales).min(axis=1)
    hi = (dist.means + z * dist.scales).max(axis=1)
    return lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, n_points)


def check_hdr(dist, region, coverage, atol=1e-9):
    # Vectorised version of the checks in test_hdr_mass_and_threshold.
    n = len(dist)
    lo, hi = region.intervals[:, :, 0], region.intervals[:, :, 1]
    pad = np.isnan(lo)
    assert np.array_equal(pad, np.isnan(hi))
    count = (~pad).sum(axis=1)
    np.testing.assert_array_equal(count, region.n_intervals)
    assert np.all(pad[:, 1:] >= pad[:, :-1])  # padding only at the end
    assert np.all(np.where(pad, True, lo < hi))
    gap = lo[:, 1:] - hi[:, :-1]
    assert np.all(np.where(pad[:, 1:], True, gap > 0))
    cdf = dist.cdf(np.nan_to_num(region.intervals.reshape(n, -1)))
    mass = np.sum(np.where(pad, 0.0, cdf[:, 1::2] - cdf[:, 0::2]), axis=1)
    np.testing.assert_allclose(mass, coverage, atol=atol)
    np.testing.assert_allclose(region.coverage, coverage, atol=atol)
    pdf = dist.pdf(np.nan_to_num(region.intervals.reshape(n, -1)))
    ok = ~np.repeat(pad, 2, axis=1)
    ratio = pdf / region.threshold[:, None]
    np.testing.assert_allclose(ratio[ok], 1.0, rtol=1e-7)
