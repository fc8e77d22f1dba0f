"""Point-wise functions of MixtureDistribution: the shape rule, densities, cdf,
moments, quantiles and intervals."""

import numpy as np
import pytest
from scipy import stats

from skmdn import MixtureDistribution

from ._mixtures import dense_grid, random_mixture


@pytest.mark.parametrize("method", ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"])
def test_shape_rule(mix, method):
    n = len(mix)
    f = getattr(mix, method)
    assert f(0.5).shape == (n,)
    assert f(np.linspace(-1, 1, n)).shape == (n,)
    assert f(np.zeros((n, 7))).shape == (n, 7)
    # The scalar is broadcast to every row, a (n,) array is paired with rows.
    np.testing.assert_allclose(f(0.5), f(np.full(n, 0.5)))
    np.testing.assert_allclose(f(np.full((n, 3), 0.5))[:, 1], f(0.5))
    for bad in (np.zeros(n + 1), np.zeros((n + 1, 2)), np.zeros((n, 2, 2))):
        with pytest.raises(ValueError, match=rf"\({n},\).*got an array of shape"):
            f(bad)


def test_shape_rule_for_ppf(mix):
    n = len(mix)
    assert mix.ppf(0.3).shape == (n,)
    assert mix.ppf(np.full(n, 0.3)).shape == (n,)
    assert mix.ppf(np.full((n, 4), 0.3)).shape == (n, 4)
    with pytest.raises(ValueError, match="shape"):
        mix.ppf(np.full(3, 0.3))


def test_nan_and_inf_points(mix):
    with pytest.raises(ValueError, match="y contains NaN"):
        mix.cdf(np.nan)
    with pytest.raises(ValueError, match="y contains NaN"):
        mix.logpdf(np.array([[0.0, np.nan]] * len(mix)))
    np.testing.assert_array_equal(mix.cdf(np.inf), 1.0)
    np.testing.assert_array_equal(mix.cdf(-np.inf), 0.0)
    np.testing.assert_array_equal(mix.sf(np.inf), 0.0)
    assert np.all(mix.logpdf(np.inf) == -np.inf)


def test_far_tail_logpdf_is_finite():
    dist = MixtureDistribution([[0.5, 0.5]], [[0.0, 1.0]], [[1.0, 0.1]])
    lp = dist.logpdf([[50.0, -1e3, 1e5]])
    assert np.all(np.isfinite(lp))
    np.testing.assert_allclose(
        lp[0, 0], np.log(0.5) + stats.norm.logpdf(50.0), rtol=1e-12
    )
    # Tail probabilities far below the float64 range of cdf stay accurate.
    np.testing.assert_allclose(
        dist.logcdf(-40.0), np.log(0.5) + stats.norm.logcdf(-40.0), rtol=1e-10
    )
    np.testing.assert_allclose(
        dist.logsf(60.0), np.log(0.5) + stats.norm.logsf(60.0), rtol=1e-10
    )


def test_density_integrates_to_one_and_moments(mix):
    grid = dense_grid(mix)
    p = mix.pdf(grid)
    mass = np.trapezoid(p, grid, axis=1)
    np.testing.assert_allclose(mass, 1.0, atol=1e-8)
    mean = np.trapezoid(p * grid, grid, axis=1)
    var = np.trapezoid(p * (grid - mean[:, None]) ** 2, grid, axis=1)
    np.testing.assert_allclose(mix.mean(), mean, atol=1e-7)
    np.testing.assert_allclose(mix.var(), var, rtol=1e-7)
    np.testing.assert_allclose(mix.std(), np.sqrt(var), rtol=1e-7)
    # The cdf is the integral of the pdf.
    F = mix.cdf(grid[:, ::1000])
    cum = np.array(
        [np.trapezoid(p[:, : i + 1], grid[:, : i + 1]) for i in range(0, 20001, 1000)]
    )
    np.testing.assert_allclose(F, cum.T, atol=2e-5)


def test_single_component_matches_scipy():
    mu, s = np.array([0.0, 2.0, -3.0]), np.array([1.0, 0.5, 3.0])
    dist = MixtureDistribution(np.ones((3, 1)), mu[:, None], s[:, None])
    y = np.array([[-1.0, 0.3, 4.0]] * 3)
    ref = stats.norm(mu[:, None], s[:, None])
    np.testing.assert_allclose(dist.pdf(y), ref.pdf(y), rtol=1e-12)
    np.testing.assert_allclose(dist.cdf(y), ref.cdf(y), rtol=1e-12)
    np.testing.assert_allclose(dist.sf(y), ref.sf(y), rtol=1e-12)
    q = np.array([[1e-12, 0.025, 0.5, 0.975, 1 - 1e-12]] * 3)
    np.testing.assert_allclose(dist.ppf(q), ref.ppf(q), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dist.median(), mu, atol=1e-12)


def test_ppf_inverts_cdf(mix):
    rng = np.random.default_rng(1)
    q = rng.uniform(0, 1, (len(mix), 40))
    x = mix.ppf(q)
    assert np.max(np.abs(mix.cdf(x) - q)) < 1e-9
    y = rng.normal(mix.mean()[:, None], mix.std()[:, None], (len(mix), 40))
    # Where the density is tiny the quantile is ill-conditioned (the cdf is flat).
    well_posed = mix.pdf(y) > 1e-3
    assert well_posed.mean() > 0.9
    np.testing.assert_allclose(
        mix.ppf(mix.cdf(y))[well_posed], y[well_posed], atol=1e-8
    )


def test_ppf_extremes_and_validation(mix):
    np.testing.assert_array_equal(mix.ppf(0.0), -np.inf)
    np.testing.assert_array_equal(mix.ppf(1.0), np.inf)
    tiny = mix.ppf(1e-300)
    assert np.all(np.isfinite(tiny))
    np.testing.assert_allclose(mix.logcdf(tiny), np.log(1e-300), rtol=1e-9)
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*1.5"):
        mix.ppf(1.5)
    with pytest.raises(ValueError, match="probabilities"):
        mix.ppf(np.full(len(mix), np.nan))


def test_interval_mass(mix):
    lower, upper = mix.interval(0.8)
    assert lower.shape == upper.shape == (len(mix),)
    np.testing.assert_allclose(mix.cdf(upper) - mix.cdf(lower), 0.8, atol=1e-9)
    np.testing.assert_allclose(mix.cdf(lower), 0.1, atol=1e-9)
    for bad in (0.0, 1.0, 1.2, "0.5", None):
        with pytest.raises(ValueError, match="confidence"):
            mix.interval(bad)


def test_large_batch():
    # 20,000 rows at once (the time it takes is checked by
    # benchmarks/bench_distribution.py, not here).
    dist = random_mixture(n=20_000, K=5, seed=5)
    x = dist.ppf(0.3)
    assert x.shape == (20_000,) and np.all(np.isfinite(x))
    np.testing.assert_allclose(dist.cdf(x), 0.3, atol=1e-9)
