"""Tests of MultivariateMixtureDistribution."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from skmdn import MixtureDistribution, MultivariateMixtureDistribution


def random_params(n=4, K=3, d=2, seed=0):
    gen = np.random.default_rng(seed)
    w = gen.dirichlet(np.ones(K), size=n)
    mu = gen.normal(size=(n, K, d))
    L = np.tril(0.4 * gen.normal(size=(n, K, d, d)))
    i = np.arange(d)
    L[..., i, i] = np.abs(L[..., i, i]) + 0.3
    return w, mu, L


def reference_logpdf(w, mu, L, point_of_row):
    """Mixture log density with scipy, row by row."""
    n, K = w.shape
    out = np.empty(n)
    for r in range(n):
        p = sum(
            w[r, k]
            * multivariate_normal(mu[r, k], L[r, k] @ L[r, k].T).pdf(point_of_row[r])
            for k in range(K)
        )
        out[r] = np.log(p)
    return out


@pytest.fixture
def dist3():
    return MultivariateMixtureDistribution(*random_params(n=4, K=3, d=3))


@pytest.fixture
def dist2():
    return MultivariateMixtureDistribution(*random_params(n=3, K=2, d=2, seed=1))


def grid_2d(dist, row, n=401, width=10.0):
    """Grid covering row ``row`` of a 2-D mixture: axes and spacing."""
    mu, sd = dist.mean()[row], dist.std()[row]
    axes = [
        np.linspace(mu[j] - width * sd[j], mu[j] + width * sd[j], n) for j in (0, 1)
    ]
    return axes, [a[1] - a[0] for a in axes]


# --------------------------------------------------------------------------- #
# Construction and validation
# --------------------------------------------------------------------------- #
def test_attributes(dist3):
    assert dist3.weights.shape == (4, 3)
    assert dist3.means.shape == (4, 3, 3)
    assert dist3.scale_tril.shape == (4, 3, 3, 3)
    assert dist3.covariances.shape == (4, 3, 3, 3)
    assert dist3.n_components == 3
    assert dist3.n_outputs == 3
    assert len(dist3) == 4
    L = dist3.scale_tril
    np.testing.assert_allclose(dist3.covariances, L @ np.swapaxes(L, -1, -2))
    assert not dist3.weights.flags.writeable
    assert not dist3.scale_tril.flags.writeable


def test_weights_are_renormalised():
    w, mu, L = random_params()
    w = w * (1 + 5e-7)
    dist = MultivariateMixtureDistribution(w, mu, L)
    np.testing.assert_allclose(dist.weights.sum(axis=1), 1.0, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda w, mu, L: (w[:, :2], mu, L), "inconsistent shapes"),
        (lambda w, mu, L: (w, mu[..., :1], L), "inconsistent shapes"),
        (lambda w, mu, L: (w[0], mu, L), "expected weights of shape"),
        (lambda w, mu, L: (w, mu, L[..., 0]), "expected weights of shape"),
        (lambda w, mu, L: (w * 2, mu, L), "sum to 1"),
        (lambda w, mu, L: (w - 0.5, mu, L), "non-negative"),
        (lambda w, mu, L: (w, mu * np.nan, L), "means contains NaN"),
        (lambda w, mu, L: (w, mu, L + np.inf), "scale_tril contains NaN or inf"),
        (lambda w, mu, L: (w, mu, -L), "strictly positive diagonal"),
        (lambda w, mu, L: (w, mu, np.swapaxes(L, -1, -2)), "lower triangular"),
        (lambda w, mu, L: (w[:, :0], mu[:, :0], L[:, :0]), "at least one component"),
        (lambda w, mu, L: ([["a"]], mu, L), "weights must be a numeric array"),
    ],
)
def test_validation(change, match):
    with pytest.raises(ValueError, match=match):
        MultivariateMixtureDistribution(*change(*random_params()))


def test_from_diagonal_equals_full_form():
    gen = np.random.default_rng(3)
    w, mu, _ = random_params(n=5, K=2, d=3)
    scales = gen.uniform(0.2, 2.0, size=(5, 2, 3))
    diag = MultivariateMixtureDistribution.from_diagonal(w, mu, scales)
    full = MultivariateMixtureDistribution(w, mu, scales[..., None] * np.eye(3))
    np.testing.assert_array_equal(diag.scale_tril, full.scale_tril)
    y = gen.normal(size=(5, 7, 3))
    np.testing.assert_allclose(diag.logpdf(y), full.logpdf(y))
    # Independent outputs: the log density is a sum of 1-D log densities.
    one = MultivariateMixtureDistribution.from_diagonal(
        w[:, :1] * 0 + 1, mu[:, :1], scales[:, :1]
    )
    expected = sum(
        MixtureDistribution(np.ones((5, 1)), mu[:, :1, j], scales[:, :1, j]).logpdf(
            y[:, :, j]
        )
        for j in range(3)
    )
    np.testing.assert_allclose(one.logpdf(y), expected)


def test_from_diagonal_validation():
    w, mu, _ = random_params()
    with pytest.raises(ValueError, match="strictly positive"):
        MultivariateMixtureDistribution.from_diagonal(w, mu, np.zeros(mu.shape))
    with pytest.raises(ValueError, match="shape of means"):
        MultivariateMixtureDistribution.from_diagonal(w, mu, np.ones(mu.shape[:2]))


# --------------------------------------------------------------------------- #
# Densities
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("d", [1, 2, 4])
def test_logpdf_matches_scipy(d):
    w, mu, L = random_params(n=5, K=3, d=d, seed=d)
    dist = MultivariateMixtureDistribution(w, mu, L)
    y = np.random.default_rng(10 + d).normal(scale=1.5, size=(5, 6, d))
    lp = dist.logpdf(y)
    assert lp.shape == (5, 6)
    for j in range(6):
        np.testing.assert_allclose(
            lp[:, j], reference_logpdf(w, mu, L, y[:, j]), rtol=1e-10
        )
    np.testing.assert_allclose(dist.pdf(y), np.exp(lp))


def test_shape_rule(dist3):
    gen = np.random.default_rng(0)
    y_rows = gen.normal(size=(4, 3))
    y_one = gen.normal(size=3)
    y_many = gen.normal(size=(4, 5, 3))
    assert dist3.logpdf(y_rows).shape == (4,)
    assert dist3.logpdf(y_one).shape == (4,)
    assert dist3.logpdf(y_many).shape == (4, 5)
    assert dist3.pdf(y_many).shape == (4, 5)
    np.testing.assert_allclose(
        dist3.logpdf(y_rows), dist3.logpdf(y_rows[:, None])[:, 0]
    )
    np.testing.assert_allclose(
        dist3.logpdf(y_one), dist3.logpdf(np.tile(y_one, (4, 1)))
    )
    for bad in [
        np.zeros(2),
        np.zeros((4, 2)),
        np.zeros((3, 3)),
        np.zeros((4, 5, 2)),
        np.zeros(()),
        np.zeros((4, 1, 1, 3)),
    ]:
        with pytest.raises(
            ValueError, match=r"y must have shape .* got an array of shape"
        ):
            dist3.logpdf(bad)
    with pytest.raises(ValueError, match="NaN"):
        dist3.logpdf(np.full(3, np.nan))


def test_tails_and_infinities(dist3):
    far = np.full(3, 1e3)
    lp = dist3.logpdf(far)
    assert np.all(np.isfinite(lp)) and np.all(lp < -1e4)
    assert np.all(dist3.logpdf([np.inf, 0.0, -np.inf]) == -np.inf)


def test_zero_weight_component():
    w, mu, L = random_params(n=2, K=2, d=2)
    w = np.array([[1.0, 0.0], [0.0, 1.0]])
    dist = MultivariateMixtureDistribution(w, mu, L)
    y = np.zeros((2, 2))
    for r in range(2):
        k = r
        cov = L[r, k] @ L[r, k].T
        assert np.isclose(
            dist.logpdf(y)[r], multivariate_normal(mu[r, k], cov).logpdf(y[r])
        )


def test_density_integrates_to_one(dist2):
    for row in range(len(dist2)):
        (a0, a1), (h0, h1) = grid_2d(dist2, row)
        g = np.stack(np.meshgrid(a0, a1, indexing="ij"), axis=-1).reshape(1, -1, 2)
        p = dist2[row].pdf(g)[0]
        assert abs(p.sum() * h0 * h1 - 1.0) < 1e-8


# --------------------------------------------------------------------------- #
# Moments and sampling
# --------------------------------------------------------------------------- #
def test_moments_closed_form():
    # One component: mean and covariance are the component's.
    w, mu, L = random_params(n=3, K=1, d=3)
    dist = MultivariateMixtureDistribution(w, mu, L)
    np.testing.assert_allclose(dist.mean(), mu[:, 0])
    np.testing.assert_allclose(dist.covariance(), dist.covariances[:, 0])
    np.testing.assert_allclose(
        dist.std(), np.sqrt(np.diagonal(dist.covariances[:, 0], axis1=1, axis2=2))
    )


def test_sample_moments_match(dist3):
    n_samples = 40_000
    s = dist3.sample(n_samples, random_state=0)
    assert s.shape == (4, n_samples, 3)
    mean, cov, std = dist3.mean(), dist3.covariance(), dist3.std()
    se_mean = std / np.sqrt(n_samples)
    assert np.all(np.abs(s.mean(axis=1) - mean) < 5 * se_mean)
    centred = s - s.mean(axis=1, keepdims=True)
    emp_cov = np.einsum("nsi,nsj->nij", centred, centred) / (n_samples - 1)
    # Standard error of a covariance entry is at most about sqrt(E[x^2 y^2] / n).
    prod = np.einsum("nsi,nsj->nsij", centred, centred)
    se_cov = prod.std(axis=1) / np.sqrt(n_samples)
    assert np.all(np.abs(emp_cov - cov) < 5 * se_cov + 1e-12)


def test_sample_random_state(dist3):
    a = dist3.sample(5, random_state=1)
    np.testing.assert_array_equal(a, dist3.sample(5, random_state=1))
    np.testing.assert_array_equal(
        a, dist3.sample(5, random_state=np.random.RandomState(1))
    )
    g = dist3.sample(5, random_state=np.random.default_rng(1))
    assert g.shape == (4, 5, 3)
    assert not np.array_equal(a, dist3.sample(5, random_state=2))
    for bad in [0, -1, 1.5, True]:
        with pytest.raises(ValueError, match="n_samples"):
            dist3.sample(bad)


def test_sample_respects_weights():
    w = np.array([[1.0, 0.0], [0.0, 1.0]])
    mu = np.array([[[0.0, 0.0], [10.0, 10.0]], [[0.0, 0.0], [10.0, 10.0]]])
    dist = MultivariateMixtureDistribution.from_diagonal(w, mu, np.full(mu.shape, 0.1))
    s = dist.sample(200, random_state=0)
    assert np.all(np.abs(s[0]) < 1.0) and np.all(np.abs(s[1] - 10) < 1.0)


# --------------------------------------------------------------------------- #
# Marginals and conditionals
# --------------------------------------------------------------------------- #
def test_marginal_matches_samples(dist3):
    s = dist3.sample(20_000, random_state=3)
    for j in (0, 2, -1):
        m = dist3.marginal(j)
        assert isinstance(m, MixtureDistribution)
        assert len(m) == 4 and m.n_components == 3
        np.testing.assert_allclose(m.mean(), dist3.mean()[:, j])
        np.testing.assert_allclose(m.std(), dist3.std()[:, j])
        # Kolmogorov-Smirnov distance between samples and marginal cdf.
        sj = np.sort(s[:, :, j], axis=1)
        ecdf = np.arange(1, sj.shape[1] + 1) / sj.shape[1]
        assert np.max(np.abs(m.cdf(sj) - ecdf)) < 0.015


def test_marginal_integrates_joint(dist2):
    row = 1
    (a0, a1), (h0, h1) = grid_2d(dist2, row)
    m0, m1 = dist2[row].marginal(0), dist2[row].marginal(1)
    for x0 in a0[::80]:
        pts = np.stack([np.full_like(a1, x0), a1], axis=1)[None]
        integral = dist2[row].pdf(pts).sum() * h1
        assert abs(integral - m0.pdf(x0)[0]) < 1e-9
    for x1 in a1[::80]:
        pts = np.stack([a0, np.full_like(a0, x1)], axis=1)[None]
        integral = dist2[row].pdf(pts).sum() * h0
        assert abs(integral - m1.pdf(x1)[0]) < 1e-9


def test_marginal_validation(dist3):
    for bad in [3, -4, 1.0, True]:
        with pytest.raises(ValueError, match="j"):
            dist3.marginal(bad)


def test_conditional_bivariate_is_joint_over_marginal(dist2):
    gen = np.random.default_rng(5)
    for given, free in ((0, 1), (1, 0)):
        values = gen.normal(size=3)
        cond = dist2.conditional(given, values)
        assert isinstance(cond, MultivariateMixtureDistribution)
        assert cond.n_outputs == 1 and cond.n_components == 2 and len(cond) == 3
        np.testing.assert_allclose(cond.weights.sum(axis=1), 1.0)
        t = gen.normal(size=(3, 5))
        pts = np.empty((3, 5, 2))
        pts[..., given] = values[:, None]
        pts[..., free] = t
        expected = dist2.logpdf(pts) - dist2.marginal(given).logpdf(values)[:, None]
        np.testing.assert_allclose(cond.logpdf(t[..., None]), expected, rtol=1e-10)
        np.testing.assert_allclose(cond.marginal(0).logpdf(t), expected, rtol=1e-10)


def test_conditional_multivariate_matches_gaussian_formulas():
    w, mu, L = random_params(n=2, K=2, d=4, seed=7)
    dist = MultivariateMixtureDistribution(w, mu, L)
    index = [3, 1]
    values = np.array([[0.3, -0.5], [1.0, 0.2]])
    cond = dist.conditional(index, values)
    a = [0, 2]
    cov = dist.covariances
    for r in range(2):
        logw = []
        for k in range(2):
            S = cov[r, k]
            Sbb = S[np.ix_(index, index)]
            Sab = S[np.ix_(a, index)]
            gain = Sab @ np.linalg.inv(Sbb)
            np.testing.assert_allclose(
                cond.means[r, k], mu[r, k, a] + gain @ (values[r] - mu[r, k, index])
            )
            np.testing.assert_allclose(
                cond.covariances[r, k], S[np.ix_(a, a)] - gain @ Sab.T, atol=1e-12
            )
            logw.append(
                np.log(w[r, k])
                + multivariate_normal(mu[r, k, index], Sbb).logpdf(values[r])
            )
        logw = np.array(logw)
        np.testing.assert_allclose(cond.weights[r], np.exp(logw - np.logaddexp(*logw)))
    # Joint density over the density of the observed outputs.
    t = np.random.default_rng(2).normal(size=(2, 3, 2))
    pts = np.empty((2, 3, 4))
    pts[..., a] = t
    pts[..., index] = values[:, None, :]
    lp_b = np.array(
        [
            np.log(
                sum(
                    w[r, k]
                    * multivariate_normal(
                        mu[r, k, index], cov[r, k][np.ix_(index, index)]
                    ).pdf(values[r])
                    for k in range(2)
                )
            )
            for r in range(2)
        ]
    )
    np.testing.assert_allclose(cond.logpdf(t), dist.logpdf(pts) - lp_b[:, None])


def test_conditional_leading_block_and_broadcast(dist3):
    c1 = dist3.conditional([0], [0.5])
    c2 = dist3.conditional(0, np.full(4, 0.5))
    c3 = dist3.conditional(0, 0.5)
    c4 = dist3.conditional(np.array([0]), np.full((4, 1), 0.5))
    for c in (c2, c3, c4):
        np.testing.assert_allclose(c.means, c1.means)
        np.testing.assert_allclose(c.weights, c1.weights)
        np.testing.assert_allclose(c.scale_tril, c1.scale_tril)
    assert c1.n_outputs == 2


def test_conditional_validation(dist3):
    with pytest.raises(ValueError, match="at least one must remain"):
        dist3.conditional([0, 1, 2], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="repeat"):
        dist3.conditional([1, 1], [0.0, 0.0])
    with pytest.raises(ValueError, match="out of range"):
        dist3.conditional(5, 0.0)
    with pytest.raises(ValueError, match="at least one output"):
        dist3.conditional([], [])
    with pytest.raises(ValueError, match=r"values must have shape \(2,\) or \(4, 2\)"):
        dist3.conditional([0, 1], np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        dist3.conditional(0, np.nan)


# --------------------------------------------------------------------------- #
# Container protocol
# --------------------------------------------------------------------------- #
def test_indexing(dist3):
    y = np.random.default_rng(0).normal(size=(4, 2, 3))
    lp = dist3.logpdf(y)
    one = dist3[2]
    assert isinstance(one, MultivariateMixtureDistribution) and len(one) == 1
    np.testing.assert_allclose(one.logpdf(y[2:3]), lp[2:3])
    np.testing.assert_allclose(dist3[-1].means, dist3.means[3:])
    np.testing.assert_allclose(dist3[1:3].logpdf(y[1:3]), lp[1:3])
    np.testing.assert_allclose(dist3[[3, 0]].logpdf(y[[3, 0]]), lp[[3, 0]])
    mask = np.array([True, False, True, False])
    np.testing.assert_allclose(dist3[mask].logpdf(y[mask]), lp[mask])
    assert len(dist3[np.array([], dtype=int)]) == 0
    with pytest.raises(IndexError):
        dist3[4]
    with pytest.raises(IndexError):
        dist3[np.array([True, False])]
    with pytest.raises(IndexError):
        dist3[np.array([0.5])]
    with pytest.raises(TypeError):
        dist3[True]


def test_repr(dist3):
    assert repr(dist3) == (
        "MultivariateMixtureDistribution(n_rows=4, n_components=3, n_outputs=3)"
    )
