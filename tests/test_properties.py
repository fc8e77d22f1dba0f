"""Property-based tests of the distributions and the standardization."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from skmdn import MDNRegressor, MixtureDistribution

# Deterministic: the same examples on every run, so CI cannot flake.
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def mixtures(draw, max_components=4):
    """One-row mixtures with weights, means and scales over wide ranges."""
    k = draw(st.integers(1, max_components))
    raw = draw(st.lists(st.floats(0.05, 1.0), min_size=k, max_size=k))
    weights = np.array(raw) / np.sum(raw)
    means = draw(st.lists(st.floats(-50, 50), min_size=k, max_size=k))
    log_scales = draw(st.lists(st.floats(-3, 2), min_size=k, max_size=k))
    return MixtureDistribution([weights], [means], [np.exp(log_scales)])


@SETTINGS
@given(mixtures())
def test_density_is_non_negative_and_integrates_to_one(dist):
    lo = float((dist.means - 12 * dist.scales).min())
    hi = float((dist.means + 12 * dist.scales).max())
    points = np.sort(np.concatenate([dist.means.ravel(), [lo, hi]]))
    total = sum(
        integrate.quad(lambda y: float(dist.pdf(y)[0]), a, b, limit=200)[0]
        for a, b in zip(points[:-1], points[1:])
    )
    assert total == pytest.approx(1.0, abs=1e-6)
    grid = np.linspace(lo, hi, 501)[None, :]
    assert np.all(dist.pdf(grid) >= 0)


@SETTINGS
@given(mixtures(), st.lists(st.floats(-200, 200), min_size=2, max_size=20))
def test_cdf_is_monotone_within_zero_and_one(dist, ys):
    y = np.sort(np.array(ys))[None, :]
    cdf = dist.cdf(y)
    assert np.all((cdf >= 0) & (cdf <= 1))
    assert np.all(np.diff(cdf, axis=1) >= -1e-15)


@SETTINGS
@given(mixtures(), st.floats(1e-6, 1 - 1e-6))
def test_ppf_inverts_cdf(dist, q):
    y = dist.ppf(q)
    assert dist.cdf(y)[0] == pytest.approx(q, abs=1e-10)
    assert dist.ppf(dist.cdf(y))[0] == pytest.approx(y[0], rel=1e-7, abs=1e-7)


@SETTINGS
@given(mixtures())
def test_samples_follow_the_cdf(dist):
    draws = dist.sample(2000, random_state=0)[0]
    statistic, p_value = stats.kstest(draws, lambda y: dist.cdf(y[None, :])[0])
    assert p_value > 1e-4, statistic


@SETTINGS
@given(mixtures(), st.floats(-1e150, 1e150))
def test_log_density_is_finite_far_in_the_tails(dist, y):
    assert np.isfinite(dist.logpdf(y)).all()


@pytest.fixture(scope="module")
def reference_fit():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(120, 1))
    y = np.sin(3 * X[:, 0]) + 0.1 * rng.normal(size=120)
    params = dict(n_components=2, hidden_layer_sizes=(4,), max_epochs=6, random_state=0)
    return X, y, params, MDNRegressor(**params).fit(X, y)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    st.floats(-12, 12), st.floats(-12, 12), st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)
)
def test_standardization_is_equivariant(reference_fit, log_sx, log_sy, dx, dy):
    X, y, params, base = reference_fit
    sx, sy = 10.0**log_sx, 10.0**log_sy
    moved = MDNRegressor(**params).fit(X * sx + dx * sx, y * sy + dy * sy)
    score = moved.score(X * sx + dx * sx, y * sy + dy * sy) + np.log(sy)
    assert score == pytest.approx(base.score(X, y), rel=1e-6, abs=1e-6)
