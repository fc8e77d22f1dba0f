import numpy as np
import pytest
from scipy import integrate, stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import BayesianRidge, LinearRegression
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmdn import MixtureDistribution, metrics


def random_mixture(n=30, K=3, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(K), n)
    mu = rng.normal(0.0, 2.0, (n, K))
    s = np.exp(rng.normal(0.0, 0.5, (n, K)))
    return MixtureDistribution(w, mu, s)


@pytest.fixture(scope="module")
def mix():
    return random_mixture()


@pytest.fixture(scope="module")
def linear_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (150, 2))
    y = 2.0 * X[:, 0] - X[:, 1] + rng.normal(0.0, 0.5, 150)
    return X, y


# --------------------------------------------------------------------------- #
# CRPS
# --------------------------------------------------------------------------- #
def test_crps_single_gaussian_closed_form():
    rng = np.random.default_rng(1)
    mu, s, y = rng.normal(size=20), np.exp(rng.normal(size=20)), rng.normal(size=20)
    z = (y - mu) / s
    expected = s * (
        z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi)
    )
    got = metrics.crps(y, (np.ones((20, 1)), mu[:, None], s[:, None]), reduce=False)
    assert got.shape == (20,)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(
        metrics.crps(y, (np.ones((20, 1)), mu[:, None], s[:, None])), expected.mean()
    )


def test_crps_matches_numerical_integration(mix):
    rng = np.random.default_rng(2)
    y = mix.sample(1, random_state=3)[:, 0] + rng.normal(0, 1, len(mix))
    got = metrics.crps(y, mix, reduce=False)
    for i in range(6):
        row = mix[i]
        lo = (row.means - 15 * row.scales).min()
        hi = (row.means + 15 * row.scales).max()

        def below(x, row=row):
            return float(row.cdf(x)[0]) ** 2

        def above(x, row=row):
            return float(row.sf(x)[0]) ** 2

        ref = (
            integrate.quad(below, lo, y[i], limit=200, epsabs=1e-12)[0]
            + integrate.quad(above, y[i], hi, limit=200, epsabs=1e-12)[0]
        )
        np.testing.assert_allclose(got[i], ref, rtol=1e-7, atol=1e-10)


def test_crps_weights_and_input_forms(mix):
    y = mix.mean()
    per_row = metrics.crps(y, mix, reduce=False)
    sw = np.linspace(0.0, 1.0, len(mix))
    np.testing.assert_allclose(
        metrics.crps(y, mix, sample_weight=sw), np.average(per_row, weights=sw)
    )
    as_tuple = (mix.weights, mix.means, mix.scales)
    np.testing.assert_allclose(metrics.crps(y, as_tuple, reduce=False), per_row)
    assert np.all(per_row > 0)


def test_crps_reduces_to_absolute_error_for_sharp_forecast():
    y = np.array([0.0, 1.0, -3.0])
    sharp = (np.ones((3, 1)), np.zeros((3, 1)), np.full((3, 1), 1e-9))
    np.testing.assert_allclose(
        metrics.crps(y, sharp, reduce=False), np.abs(y), atol=1e-8
    )


# --------------------------------------------------------------------------- #
# Energy score
# --------------------------------------------------------------------------- #
def test_energy_score_one_dimension_matches_crps(mix):
    y = mix.mean()
    es = metrics.energy_score(y, mix, n_samples=20_000, random_state=0, reduce=False)
    assert es.shape == (len(mix),)
    np.testing.assert_allclose(es, metrics.crps(y, mix, reduce=False), rtol=0.05)


def test_energy_score_multivariate():
    from skmdn import MultivariateMixtureDistribution

    n, d = 4, 2
    dist = MultivariateMixtureDistribution.from_diagonal(
        np.ones((n, 1)), np.zeros((n, 1, d)), np.ones((n, 1, d))
    )
    # Standard bivariate normal at y = 0: E||X|| = sqrt(pi / 2) and
    # E||X - X'|| = sqrt(2) E||X||.
    expected = np.sqrt(np.pi / 2) * (1 - np.sqrt(2) / 2)
    es = metrics.energy_score(np.zeros((n, d)), dist, n_samples=50_000, random_state=1)
    assert es == pytest.approx(expected, rel=0.02)
    assert metrics.energy_score(
        np.zeros((n, d)), dist, random_state=3
    ) == metrics.energy_score(np.zeros((n, d)), dist, random_state=3)
    far = metrics.energy_score(np.full((n, d), 5.0), dist, random_state=1)
    assert far > es + 4
    with pytest.raises(ValueError, match=r"shape \(4, 2\)"):
        metrics.energy_score(np.zeros((n, 3)), dist)
    with pytest.raises(ValueError, match="NaN"):
        metrics.energy_score(np.full((n, d), np.nan), dist)
    with pytest.raises(ValueError, match="n_samples"):
        metrics.energy_score(np.zeros((n, d)), dist, n_samples=1)


# --------------------------------------------------------------------------- #
# Likelihood, PIT and calibration
# --------------------------------------------------------------------------- #
def test_nll(mix):
    y = mix.sample(1, random_state=0)[:, 0]
    np.testing.assert_allclose(
        metrics.negative_log_likelihood(y, mix), -mix.logpdf(y).mean()
    )
    sw = np.arange(len(mix), dtype=float)
    np.testing.assert_allclose(
        metrics.negative_log_likelihood(y, mix, sample_weight=sw),
        -np.average(mix.logpdf(y), weights=sw),
    )


@pytest.fixture(scope="module")
def model_and_data():
    dist = random_mixture(n=4000, K=3, seed=4)
    y = dist.sample(1, random_state=5)[:, 0]
    return dist, y


def test_pit_uniform_for_data_from_the_model(model_and_data):
    dist, y = model_and_data
    u = metrics.pit(y, dist)
    assert u.shape == (len(dist),)
    assert stats.kstest(u, "uniform").pvalue > 0.01


def test_calibration_error_good_and_overconfident(model_and_data):
    dist, y = model_and_data
    assert metrics.calibration_error(y, dist) < 0.02
    sharp = MixtureDistribution(dist.weights, dist.means, dist.scales / 4)
    assert metrics.calibration_error(y, sharp) > 0.15
    nominal, observed = metrics.calibration_curve(y, sharp)
    assert nominal.shape == observed.shape == (19,)
    np.testing.assert_allclose(nominal, np.linspace(0.05, 0.95, 19))
    # Overconfident intervals cover less than they claim.
    assert np.all(observed < nominal)
    # The curve agrees with explicit central intervals.
    lower, upper = dist.interval(0.5)
    _, obs = metrics.calibration_curve(y, dist, [0.5])
    np.testing.assert_allclose(obs[0], metrics.interval_coverage(y, lower, upper))


def test_calibration_levels_validation(mix):
    y = mix.mean()
    with pytest.raises(ValueError, match=r"open interval \(0, 1\)"):
        metrics.calibration_error(y, mix, levels=[0.5, 1.0])
    with pytest.raises(ValueError, match="non-empty"):
        metrics.calibration_curve(y, mix, levels=[])


# --------------------------------------------------------------------------- #
# Intervals
# --------------------------------------------------------------------------- #
def test_interval_coverage_and_width():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    lower = np.array([-1.0, 1.5, 1.0, -np.inf])
    upper = np.array([1.0, 2.0, 2.0, np.inf])
    assert metrics.interval_coverage(y, lower, upper) == 0.75
    assert metrics.interval_coverage(y, lower, upper, sample_weight=[0, 1, 0, 0]) == 0.0
    assert metrics.interval_width(lower[:3], upper[:3]) == pytest.approx(3.5 / 3)
    assert metrics.interval_width(lower[:3], upper[:3], sample_weight=[1, 0, 1]) == 1.5
    with pytest.raises(ValueError, match="must not exceed"):
        metrics.interval_width([1.0], [0.0])
    with pytest.raises(ValueError, match="samples"):
        metrics.interval_coverage(y, lower[:3], upper[:3])


# --------------------------------------------------------------------------- #
# Validation
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "metric",
    [
        metrics.negative_log_likelihood,
        metrics.crps,
        metrics.pit,
        metrics.calibration_error,
    ],
)
def test_input_validation(mix, metric):
    y = mix.mean()
    with pytest.raises(
        ValueError, match="29 samples but the predictive distribution has 30"
    ):
        metric(y[:-1], mix)
    with pytest.raises(ValueError, match="y_true contains NaN"):
        metric(np.where(np.arange(30) == 3, np.nan, y), mix)
    with pytest.raises(ValueError, match="1-D"):
        metric(np.zeros((30, 2)), mix)
    with pytest.raises(TypeError, match="MixtureDistribution or a tuple"):
        metric(y, mix.means)


def test_sample_weight_validation(mix):
    y = mix.mean()
    with pytest.raises(ValueError, match="sample_weight has 3 entries"):
        metrics.negative_log_likelihood(y, mix, sample_weight=[1, 2, 3])
    with pytest.raises(ValueError, match="non-negative"):
        metrics.crps(y, mix, sample_weight=-np.ones(30))


# --------------------------------------------------------------------------- #
# Scorers
# --------------------------------------------------------------------------- #
class ConstantStdRegressor(RegressorMixin, BaseEstimator):
    """A regressor with a fixed predictive std, to build deliberately bad models."""

    def __init__(self, std=1.0):
        self.std = std

    def fit(self, X, y):
        self.model_ = BayesianRidge().fit(X, y)
        return self

    def predict(self, X, return_std=False):
        mean = self.model_.predict(X)
        if return_std:
            return mean, np.full(mean.shape, self.std)
        return mean


class ToyMixtureRegressor(RegressorMixin, BaseEstimator):
    """Minimal estimator exposing predict_dist: y ~ N(a x_0 + b, 0.5^2)."""

    def fit(self, X, y):
        self.coef_ = np.polyfit(np.asarray(X)[:, 0], y, 1)
        return self

    def predict_dist(self, X):
        mean = np.polyval(self.coef_, np.asarray(X)[:, 0])
        n = mean.shape[0]
        return MixtureDistribution(np.ones((n, 1)), mean[:, None], np.full((n, 1), 0.5))

    def predict(self, X):
        return self.predict_dist(X).mean()


@pytest.mark.parametrize(
    "estimator",
    [
        BayesianRidge(),
        GaussianProcessRegressor(kernel=RBF() + WhiteKernel(), random_state=0),
        make_pipeline(StandardScaler(), BayesianRidge()),
    ],
    ids=["BayesianRidge", "GPR", "Pipeline"],
)
@pytest.mark.parametrize(
    "scorer", [metrics.nll_scorer, metrics.crps_scorer, metrics.calibration_scorer]
)
def test_scorers_in_cross_val_score(linear_data, estimator, scorer):
    X, y = linear_data
    scores = cross_val_score(estimator, X, y, scoring=scorer, cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    assert np.all(scores <= 0)


def test_scorer_values_and_sign(linear_data):
    X, y = linear_data
    est = BayesianRidge().fit(X, y)
    mean, std = est.predict(X, return_std=True)
    dist = MixtureDistribution(np.ones((len(y), 1)), mean[:, None], std[:, None])
    np.testing.assert_allclose(
        metrics.nll_scorer(est, X, y), -metrics.negative_log_likelihood(y, dist)
    )
    np.testing.assert_allclose(metrics.crps_scorer(est, X, y), -metrics.crps(y, dist))
    sw = np.linspace(0, 1, len(y))
    np.testing.assert_allclose(
        metrics.crps_scorer(est, X, y, sample_weight=sw),
        -metrics.crps(y, dist, sample_weight=sw),
    )
    # greater_is_better=True keeps the metric's sign; kwargs reach the metric.
    raw = metrics.make_probabilistic_scorer(
        metrics.calibration_error, greater_is_better=True, levels=[0.5]
    )
    np.testing.assert_allclose(
        raw(est, X, y), metrics.calibration_error(y, dist, levels=[0.5])
    )


def test_good_model_ranks_above_bad_models(linear_data):
    X, y = linear_data
    good = GaussianProcessRegressor(kernel=RBF() + WhiteKernel(), random_state=0)
    # A fixed, far too smooth kernel with almost no noise: overconfident.
    bad_gp = GaussianProcessRegressor(
        kernel=RBF(length_scale=100.0) + WhiteKernel(1e-6), optimizer=None
    )
    for scorer in (metrics.nll_scorer, metrics.crps_scorer, metrics.calibration_scorer):
        good_score = cross_val_score(good, X, y, scoring=scorer, cv=3).mean()
        for bad in (
            bad_gp,
            ConstantStdRegressor(std=50.0),
            ConstantStdRegressor(std=0.01),
        ):
            bad_score = cross_val_score(bad, X, y, scoring=scorer, cv=3).mean()
            assert good_score > bad_score, (scorer, bad)


def test_grid_search_and_multimetric(linear_data):
    X, y = linear_data
    search = GridSearchCV(
        ConstantStdRegressor(),
        {"std": [0.05, 0.5, 5.0]},
        scoring=metrics.crps_scorer,
        cv=3,
    ).fit(X, y)
    assert search.best_params_ == {"std": 0.5}
    result = cross_validate(
        BayesianRidge(),
        X,
        y,
        cv=3,
        scoring={
            "nll": metrics.nll_scorer,
            "crps": metrics.crps_scorer,
            "calibration": metrics.calibration_scorer,
        },
    )
    for key in ("test_nll", "test_crps", "test_calibration"):
        assert np.all(np.isfinite(result[key]))


def test_predict_dist_estimator_and_pipeline(linear_data):
    X, y = linear_data
    est = ToyMixtureRegressor().fit(X, y)
    dist = metrics.predictive_distribution(est, X)
    assert isinstance(dist, MixtureDistribution) and len(dist) == len(y)
    expected = -metrics.negative_log_likelihood(y, est.predict_dist(X))
    np.testing.assert_allclose(metrics.nll_scorer(est, X, y), expected)
    # In a pipeline the preceding steps transform X first.
    pipe = make_pipeline(StandardScaler(), ToyMixtureRegressor()).fit(X, y)
    Xt = pipe[:-1].transform(X)
    np.testing.assert_allclose(
        metrics.nll_scorer(pipe, X, y),
        -metrics.negative_log_likelihood(y, pipe[-1].predict_dist(Xt)),
    )
    assert np.all(
        np.isfinite(cross_val_score(pipe, X, y, scoring=metrics.crps_scorer, cv=3))
    )


def test_estimator_without_return_std(linear_data):
    X, y = linear_data
    for est in (
        LinearRegression(),
        make_pipeline(StandardScaler(), LinearRegression()),
    ):
        est.fit(X, y)
        with pytest.raises(
            ValueError, match=r"LinearRegression cannot give a predictive distribution"
        ):
            metrics.nll_scorer(est, X, y)


def test_zero_std_is_floored(linear_data):
    X, y = linear_data
    # A noise-free GP interpolates: std is (numerically) 0 at training points.
    gp = GaussianProcessRegressor(kernel=RBF(1.0), optimizer=None, alpha=1e-12).fit(
        X, y
    )
    _, std = gp.predict(X, return_std=True)
    assert std.min() < 1e-5
    dist = metrics.predictive_distribution(gp, X)
    assert np.all(dist.scales > 0)
    assert np.isfinite(metrics.nll_scorer(gp, X, y + 0.1))
    assert np.isfinite(metrics.crps_scorer(gp, X, y + 0.1))


def test_scorer_repr():
    assert (
        repr(metrics.nll_scorer) == "make_probabilistic_scorer(negative_log_likelihood)"
    )
    assert repr(metrics.crps_scorer) == "make_probabilistic_scorer(crps)"
    assert (
        repr(metrics.calibration_scorer)
        == "make_probabilistic_scorer(calibration_error)"
    )
    custom = metrics.make_probabilistic_scorer(
        metrics.calibration_error, greater_is_better=True, levels=[0.9]
    )
    assert repr(custom) == (
        "make_probabilistic_scorer(calibration_error, greater_is_better=True, "
        "levels=[0.9])"
    )
    with pytest.raises(TypeError, match="callable"):
        metrics.make_probabilistic_scorer("crps")
